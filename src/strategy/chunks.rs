//! The one way items are handed out: every worker (a thread, a pool
//! process's writer, an argv slot) takes the next chunk from one shared
//! counter the moment it is free, and its results go in place into that
//! chunk's slice of the output. One lock per chunk, never per item.

use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Chunks<'a, T> {
    size: usize,
    total: usize,
    count: usize,
    next: AtomicUsize,
    slots: Mutex<Vec<Option<&'a mut [T]>>>,
}

impl<'a, T: Send> Chunks<'a, T> {
    /// Cuts `out` into chunks of `size` items (the last may be shorter).
    pub fn new(out: &'a mut [T], size: usize) -> Self {
        let total = out.len();
        Chunks {
            size,
            total,
            count: total.div_ceil(size),
            next: AtomicUsize::new(0),
            slots: Mutex::new(out.chunks_mut(size).map(Some).collect()),
        }
    }

    /// The next chunk nobody has claimed: its index and the items it covers.
    pub fn claim(&self) -> Option<(usize, Range<usize>)> {
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        (index < self.count).then(|| (index, index * self.size..((index + 1) * self.size).min(self.total)))
    }

    /// The output of a claimed chunk, to fill; each chunk's is taken once.
    pub fn take(&self, index: usize) -> &'a mut [T] {
        self.slots.lock().unwrap_or_else(|poison| poison.into_inner())[index]
            .take()
            .expect("each chunk is taken once")
    }
}

#[cfg(test)]
mod tests {
    use super::Chunks;

    #[test]
    fn every_item_is_in_exactly_one_chunk() {
        let mut out = vec![0usize; 10];
        let chunks = Chunks::new(&mut out, 4);
        let mut ranges = Vec::new();
        while let Some((index, range)) = chunks.claim() {
            let slot = chunks.take(index);
            assert_eq!(slot.len(), range.len());
            slot.iter_mut().for_each(|cell| *cell += 1);
            ranges.push(range);
        }
        assert_eq!(ranges, [0..4, 4..8, 8..10]);
        drop(chunks);
        assert!(out.iter().all(|cell| *cell == 1));
    }
}
