//! The shared memory through which a builtin pool's chunks travel.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;

use super::invalid;

/// The bit of a frame's count that says the chunk is in the [`Arena`].
pub const IN_ARENA: u32 = 1 << 31;

/// Memory the runner and a pool's workers share (a `memfd`, mapped by each),
/// through which a builtin's chunks travel: the runner copies a chunk's
/// items in, the worker computes its results in place beside them, and the
/// runner copies those out. Only the frame's count and offset, and the
/// answer's count, go through the pipes.
///
/// Sent through pipes, every 4 KiB of items and results was a page the
/// kernel allocated and freed again, thousands a big run, after which the
/// next pool took longer to start. The arena's pages are allocated once
/// per run and reused chunk after chunk.
pub struct Arena {
    base: NonNull<u8>,
    len: usize,
    fd: OwnedFd,
}

// SAFETY: the arena owns its mapping and descriptor, which any thread may
// use and unmap. Shared between threads, no safe method touches the
// mapped bytes: `put`, `get` and `chunk`, which do, are unsafe, and their
// callers promise that each chunk's bytes belong to one side at a time (the
// runner's until it sends the frame, the worker's until it answers).
unsafe impl Send for Arena {}
// SAFETY: as for Send: all access to the shared bytes goes through the
// unsafe methods and their rules.
unsafe impl Sync for Arena {}

impl Arena {
    /// A new arena of `len` bytes (zeros), mapped into this process.
    pub fn create(len: usize) -> io::Result<Arena> {
        use nix::sys::memfd::{MFdFlags, memfd_create};
        let fd = memfd_create(c"parbench-chunks", MFdFlags::MFD_CLOEXEC).map_err(io::Error::from)?;
        nix::unistd::ftruncate(&fd, len as libc::off_t).map_err(io::Error::from)?;
        Arena::map(fd)
    }

    /// Maps the arena a runner made (its whole length) into this process.
    pub fn map(fd: OwnedFd) -> io::Result<Arena> {
        use nix::sys::mman::{MapFlags, ProtFlags, mmap};
        let len = nix::sys::stat::fstat(&fd).map_err(io::Error::from)?.st_size as usize;
        let length = std::num::NonZeroUsize::new(len).ok_or_else(|| invalid("the shared memory is empty"))?;
        // SAFETY: a new shared mapping of the whole file; nothing else is
        // mapped at the address the kernel picks.
        let base = unsafe {
            mmap(None, length, ProtFlags::PROT_READ | ProtFlags::PROT_WRITE, MapFlags::MAP_SHARED, &fd, 0)
        }
        .map_err(io::Error::from)?;
        Ok(Arena { base: base.cast(), len, fd })
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// `offset` as an index, if `values` f64 from there lie in the arena
    /// and are aligned.
    fn span(&self, offset: u64, values: usize) -> Option<usize> {
        let end = values.checked_mul(8).and_then(|bytes| bytes.checked_add(usize::try_from(offset).ok()?));
        (offset.is_multiple_of(8) && end.is_some_and(|end| end <= self.len)).then_some(offset as usize)
    }

    /// Copies `values` into the arena at byte `offset`.
    ///
    /// # Safety
    /// No one else (no worker, no other thread) may touch those bytes
    /// until this returns: the runner writes a chunk's slot only while the
    /// chunk is its own, before it sends the frame.
    ///
    /// # Panics
    /// If they do not fit: the runner lays the arena out.
    pub unsafe fn put(&self, offset: usize, values: &[f64]) {
        let offset = self.span(offset as u64, values.len()).expect("the chunk fits in the arena");
        // SAFETY: in bounds and aligned (checked above), and `values`, the
        // runner's own memory, cannot overlap the mapping; no one else
        // touches those bytes meanwhile (the caller's promise).
        unsafe {
            std::ptr::copy_nonoverlapping(
                values.as_ptr(),
                self.base.as_ptr().add(offset).cast(),
                values.len(),
            )
        }
    }

    /// Copies `out.len()` values from the arena at byte `offset` into
    /// `out`.
    ///
    /// # Safety
    /// No one may write those bytes until this returns: the runner reads a
    /// chunk's results once the worker has answered for it.
    ///
    /// # Panics
    /// If they do not fit.
    pub unsafe fn get(&self, offset: usize, out: &mut [f64]) {
        let offset = self.span(offset as u64, out.len()).expect("the chunk fits in the arena");
        // SAFETY: in bounds and aligned (checked above); no writer while
        // this lives (the caller's promise).
        let results = unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(offset).cast(), out.len()) };
        out.copy_from_slice(results);
    }

    /// A chunk's items at byte `offset` and the room for its results right
    /// after them, in a worker, between the frame and its answer.
    ///
    /// # Safety
    /// While the references live, no other process may read or write the
    /// chunk's bytes (`&mut self` keeps this one's other users out): the
    /// runner hands a chunk to one worker by its frame and touches it again
    /// only after the answer.
    pub(super) unsafe fn chunk(&mut self, offset: u64, count: usize) -> Result<(&[f64], &mut [f64]), String> {
        let start = self.span(offset, count.saturating_mul(2)).ok_or_else(|| {
            format!(
                "a chunk of {count} items at byte {offset} is not an aligned part of the {} bytes of shared memory",
                self.len
            )
        })?;
        // SAFETY: in bounds and aligned (checked); the two halves do not
        // overlap; nothing else in this process can reach the mapping while
        // `self` is borrowed mutably, and no other process touches these
        // bytes meanwhile (the caller's promise), so the mutable one is
        // unique.
        unsafe {
            let items = self.base.as_ptr().add(start).cast::<f64>();
            Ok((
                std::slice::from_raw_parts(items, count),
                std::slice::from_raw_parts_mut(items.add(count), count),
            ))
        }
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, unmapped once.
        unsafe {
            let _ = nix::sys::mman::munmap(self.base.cast(), self.len);
        }
    }
}
