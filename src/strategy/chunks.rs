//! The one way items are handed out: every worker (a thread, a pool
//! process's writer, an argv slot) takes the next chunk the moment it is
//! free, and its results go in place into that chunk's slice of the output.
//! One lock per chunk, never per item.
//!
//! Chunks are of a fixed size, or, for `chunk_size = "auto"` on a processes
//! pool, *guided*: each chunk is the remaining items over twice the workers
//! (large chunks first, smaller towards the end, so the last ones to finish
//! leave the other workers idle only briefly), never smaller than what the
//! chunks answered so far say takes [`TARGET`] (so that trivial items are
//! not sent a few at a time), and never more than [`MAX_CHUNK`] items.

use std::ops::Range;
use std::sync::Mutex;
use std::time::Duration;

/// A guided chunk holds at most this many items: 64 KiB of numbers, one
/// pipe buffer.
pub const MAX_CHUNK: usize = 8192;

/// A guided chunk is made at least this long in work, as measured, so that
/// its dispatch (a few microseconds) stays a few percent of it.
const TARGET: Duration = Duration::from_micros(200);

pub struct Chunks<'a, T> {
    sizing: Sizing,
    state: Mutex<State<'a, T>>,
}

/// How chunks are sized: fixed, or guided (shrinking as the run goes).
#[derive(Debug, Clone, Copy)]
enum Sizing {
    Fixed(usize),
    Guided { workers: usize },
}

struct State<'a, T> {
    next: usize,
    /// The output of the items nobody has claimed yet.
    rest: &'a mut [T],
    /// The fewest items a guided chunk holds, from the measured cost.
    floor: usize,
}

impl<'a, T: Send> Chunks<'a, T> {
    /// Cuts `out` into chunks of `size` items (the last may be shorter).
    pub fn new(out: &'a mut [T], size: usize) -> Self {
        Self::with(out, Sizing::Fixed(size.max(1)))
    }

    /// Guided chunks for `workers` workers (see the module's comment).
    pub fn guided(out: &'a mut [T], workers: usize) -> Self {
        Self::with(out, Sizing::Guided { workers: workers.max(1) })
    }

    fn with(out: &'a mut [T], sizing: Sizing) -> Self {
        Chunks { sizing, state: Mutex::new(State { next: 0, rest: out, floor: 1 }) }
    }

    /// The next chunk nobody has claimed: the items it covers, and their
    /// output, to fill (by this worker, or by whoever it hands it to).
    pub fn claim(&self) -> Option<(Range<usize>, &'a mut [T])> {
        self.claim_if(|_| true)
    }

    /// The next chunk, for a worker that already has one to work on and
    /// would queue this one behind it: only while more chunks remain than
    /// `idle` workers (those with nothing to do) need, so that no chunk
    /// waits behind a busy worker while another sits idle. Two chunks on two
    /// workers go one to each, whichever writer comes first.
    pub fn claim_ahead(&self, idle: usize) -> Option<(Range<usize>, &'a mut [T])> {
        self.claim_if(|chunks_left| chunks_left > idle)
    }

    fn claim_if(&self, allowed: impl FnOnce(usize) -> bool) -> Option<(Range<usize>, &'a mut [T])> {
        let mut state = self.state.lock().unwrap_or_else(|poison| poison.into_inner());
        let remaining = state.rest.len();
        if remaining == 0 {
            return None;
        }
        let size = match self.sizing {
            Sizing::Fixed(size) => size,
            Sizing::Guided { workers } => remaining.div_ceil(2 * workers).max(state.floor).min(MAX_CHUNK),
        }
        .min(remaining);
        // Chunks of this size left, the next one included: a guided sizing's
        // later chunks are smaller, so there are at least this many.
        if !allowed(remaining.div_ceil(size)) {
            return None;
        }
        let (chunk, rest) = std::mem::take(&mut state.rest).split_at_mut(size);
        state.rest = rest;
        let start = state.next;
        state.next += size;
        Some((start..start + size, chunk))
    }

    /// A chunk of `items` items was answered `took` after it was sent:
    /// guided chunks grow to at least [`TARGET`] of work at that rate.
    pub fn observe(&self, items: usize, took: Duration) {
        if let Sizing::Guided { .. } = self.sizing
            && items > 0
        {
            let per_item = took.as_secs_f64() / items as f64;
            let floor =
                if per_item > 0.0 { (TARGET.as_secs_f64() / per_item).ceil() as usize } else { MAX_CHUNK };
            self.state.lock().unwrap_or_else(|poison| poison.into_inner()).floor = floor.clamp(1, MAX_CHUNK);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Chunks, MAX_CHUNK};

    fn claim_all(chunks: &Chunks<'_, usize>) -> Vec<std::ops::Range<usize>> {
        let mut ranges = Vec::new();
        while let Some((range, slot)) = chunks.claim() {
            assert_eq!(slot.len(), range.len());
            slot.iter_mut().for_each(|cell| *cell += 1);
            ranges.push(range);
        }
        ranges
    }

    #[test]
    fn every_item_is_in_exactly_one_chunk() {
        let mut out = vec![0usize; 10];
        let chunks = Chunks::new(&mut out, 4);
        assert_eq!(claim_all(&chunks), [0..4, 4..8, 8..10]);
        assert!(out.iter().all(|cell| *cell == 1));
    }

    #[test]
    fn a_chunk_is_claimed_ahead_only_while_the_idle_workers_have_one_each() {
        let mut out = vec![0usize; 20];
        let chunks = Chunks::new(&mut out, 10);
        assert_eq!(chunks.claim().unwrap().0, 0..10);
        // One chunk left and one worker idle: it is that worker's.
        assert!(chunks.claim_ahead(1).is_none());
        assert_eq!(chunks.claim_ahead(0).unwrap().0, 10..20);
        let mut out = vec![0usize; 40];
        let chunks = Chunks::new(&mut out, 10);
        assert!(chunks.claim_ahead(3).is_some());
        assert!(chunks.claim_ahead(3).is_none());
        assert!(chunks.claim_ahead(2).is_some());
        assert_eq!(chunks.claim().unwrap().0, 20..30);
    }

    #[test]
    fn guided_chunks_shrink_towards_the_end_and_cover_everything() {
        let mut out = vec![0usize; 200];
        let chunks = Chunks::guided(&mut out, 2);
        let sizes: Vec<usize> = claim_all(&chunks).iter().map(|range| range.len()).collect();
        assert_eq!(&sizes[..4], [50, 38, 28, 21]);
        assert!(sizes.windows(2).all(|pair| pair[0] >= pair[1]), "{sizes:?}");
        assert_eq!(*sizes.last().unwrap(), 1);
        assert!(out.iter().all(|cell| *cell == 1));
    }

    #[test]
    fn guided_chunks_of_cheap_items_grow_to_the_target() {
        let mut out = vec![0usize; 100_000];
        let chunks = Chunks::guided(&mut out, 2);
        let (first, _) = chunks.claim().unwrap();
        assert_eq!(first.len(), MAX_CHUNK);
        // 8192 items answered in 40 µs: 5 ns an item, so 200 µs is 40,000.
        chunks.observe(first.len(), Duration::from_micros(40));
        let sizes: Vec<usize> = claim_all(&chunks).iter().map(|range| range.len()).collect();
        assert!(sizes[..sizes.len() - 1].iter().all(|size| *size == MAX_CHUNK), "{sizes:?}");
        // Slow items (1 ms each) bring the floor back to one item.
        chunks.observe(2, Duration::from_millis(2));
        assert_eq!(chunks.state.lock().unwrap().floor, 1);
    }
}
