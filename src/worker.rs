//! The child side of the `processes` strategy for builtins, and its wire
//! format. The runner starts `parbench __worker BUILTIN NAME=VALUE...`
//! directly (no shell); the worker answers [`READY`] once its kernel is
//! built, then reads frames of items and writes frames of results until its
//! stdin closes.
//!
//! A frame is a little-endian u32 count followed by that many little-endian
//! f64 values: 8 bytes an item, no parsing, read straight into the result
//! slice.
//!
//! A worker given an [`Arena`] (shared memory, see there) also takes frames
//! whose count has [`IN_ARENA`] set: the count is followed by a
//! little-endian u64 byte offset into the arena, where the chunk's items
//! lie; the worker writes the results right after them and answers with
//! the count alone.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;

use crate::vocab::format_number;
use crate::workload::{BuiltinSpec, Kernel, Params, find_builtin};

pub const READY: &[u8; 4] = b"PBW1";

/// The worker's arguments for one builtin and its parameters.
pub fn args(spec: &BuiltinSpec, params: &Params) -> Vec<String> {
    let mut args = vec!["__worker".to_owned(), spec.name.to_owned()];
    args.extend(params.iter().map(|(name, value)| format!("{name}={}", format_number(*value))));
    args
}

pub fn read_ready(reader: &mut impl Read) -> io::Result<()> {
    let mut magic = [0u8; 4];
    reader.read_exact(&mut magic)?;
    if &magic != READY {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "it answered with something other than ready",
        ));
    }
    Ok(())
}

pub fn encode_frame(values: &[f64], frame: &mut Vec<u8>) {
    frame.extend_from_slice(&(values.len() as u32).to_le_bytes());
    if cfg!(target_endian = "little") {
        frame.extend_from_slice(bytemuck::cast_slice(values));
    } else {
        values.iter().for_each(|value| frame.extend_from_slice(&value.to_le_bytes()));
    }
}

/// Reads one frame into `out`, which must be exactly as long as the frame.
pub fn read_frame(reader: &mut impl Read, out: &mut [f64]) -> io::Result<()> {
    let mut count = [0u8; 4];
    reader.read_exact(&mut count)?;
    let count = u32::from_le_bytes(count) as usize;
    if count != out.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("sent {count} results for a chunk of {}", out.len()),
        ));
    }
    reader.read_exact(bytemuck::cast_slice_mut(out))?;
    if cfg!(target_endian = "big") {
        out.iter_mut().for_each(|value| *value = f64::from_bits(u64::from_le(value.to_bits())));
    }
    Ok(())
}

/// Reads the count of the next frame; `None` at a clean end of input.
fn read_count(reader: &mut impl BufRead) -> io::Result<Option<usize>> {
    if reader.fill_buf()?.is_empty() {
        return Ok(None);
    }
    let mut count = [0u8; 4];
    reader.read_exact(&mut count)?;
    Ok(Some(u32::from_le_bytes(count) as usize))
}

/// The environment variable that gives a worker its runner's process id.
pub const PARENT_ENV: &str = "PARBENCH_RUNNER_PID";

/// A worker dies with its runner, even a runner killed with -9: it asks for
/// SIGKILL when its parent dies, then checks the parent is still the runner
/// that started it (it may have died before the request). The runner
/// starts workers with posix_spawn, which has no hook to do this in the
/// child before exec, so the worker does it first thing.
fn die_with_parent() {
    let Some(runner) = std::env::var(PARENT_ENV).ok().and_then(|pid| pid.parse::<libc::pid_t>().ok()) else {
        return;
    };
    // SAFETY: prctl with integer arguments and getppid have no memory effects.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        if libc::getppid() != runner {
            std::process::exit(1);
        }
    }
}

/// `parbench __worker BUILTIN NAME=VALUE...`: serve until stdin closes.
pub fn serve(builtin: &str, params: &[String]) -> Result<(), String> {
    die_with_parent();
    crate::workload::enter_worker();
    let kernel = build_kernel(builtin, params)?;
    serve_kernel(kernel.as_ref(), None)
}

fn build_kernel(builtin: &str, params: &[String]) -> Result<Box<dyn Kernel>, String> {
    let spec = find_builtin(builtin).ok_or_else(|| format!("unknown builtin \"{builtin}\""))?;
    let mut given = std::collections::BTreeMap::new();
    for param in params {
        let (name, value) = param.split_once('=').ok_or_else(|| format!("bad parameter \"{param}\""))?;
        let value: f64 = value.parse().map_err(|_| format!("bad parameter value \"{param}\""))?;
        given.insert(name.to_owned(), value);
    }
    Ok(spec.kernel(&spec.resolve(&given)))
}

/// Says [`READY`], then computes every frame that comes in on stdin until
/// it closes.
fn serve_kernel(kernel: &dyn Kernel, arena: Option<&Arena>) -> Result<(), String> {
    let reader = BufReader::with_capacity(1 << 16, io::stdin().lock());
    let writer = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    serve_frames(kernel, arena, reader, writer).map_err(|error| format!("worker i/o: {error}"))
}

/// The worker's loop over any pair of streams: [`READY`], then a frame of
/// results (or, for a chunk in the arena, its count) for each frame of items.
fn serve_frames(
    kernel: &dyn Kernel,
    arena: Option<&Arena>,
    mut reader: impl BufRead,
    mut writer: impl Write,
) -> io::Result<()> {
    writer.write_all(READY)?;
    writer.flush()?;

    let mut items: Vec<f64> = Vec::new();
    let mut results: Vec<f64> = Vec::new();
    let mut frame = Vec::new();
    while let Some(count) = read_count(&mut reader)? {
        if count & IN_ARENA as usize != 0 {
            let mut offset = [0u8; 8];
            reader.read_exact(&mut offset)?;
            let offset = u64::from_le_bytes(offset);
            let count = count & !(IN_ARENA as usize);
            let arena = arena.ok_or_else(|| invalid("a chunk in shared memory came, but there is none"))?;
            let (items, results) = arena.chunk(offset, count).map_err(invalid)?;
            kernel.apply(items, results);
            writer.write_all(&(count as u32 | IN_ARENA).to_le_bytes())?;
        } else {
            items.resize(count, 0.0);
            results.resize(count, 0.0);
            reader.read_exact(bytemuck::cast_slice_mut(&mut items))?;
            if cfg!(target_endian = "big") {
                items.iter_mut().for_each(|value| *value = f64::from_bits(u64::from_le(value.to_bits())));
            }
            kernel.apply(&items, &mut results);
            frame.clear();
            encode_frame(&results, &mut frame);
            writer.write_all(&frame)?;
        }
        // Every result goes out as soon as it is computed, even when the
        // next chunk is already here: its arrival gives the runner the credit
        // to send the chunk after, which then overlaps with this worker's
        // next computation. Holding it back until the queued chunk was done
        // (as an earlier rule did) let the worker run dry after every pair.
        writer.flush()?;
    }
    writer.flush()
}

fn invalid(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
}

// ------------------------------------------------------------ shared memory

/// The bit of a frame's count that says the chunk is in the [`Arena`].
pub const IN_ARENA: u32 = 1 << 31;

/// Memory the runner and a pool's workers share (a `memfd`, mapped by each),
/// through which a builtin's chunks travel: the runner copies a chunk's
/// items in, the worker computes its results in place beside them, and the
/// runner copies those out. Only the frame's count and offset, and the
/// answer's count, go through the pipes.
///
/// Sent through pipes, every 4 KiB of items and results was a page the
/// kernel allocated and freed again: 20,000 pages a run for 5,000,000
/// items, after which the next pool took a third longer to start on a
/// 2-vCPU VM. The arena's pages are allocated once per run and reused
/// chunk after chunk.
pub struct Arena {
    base: NonNull<u8>,
    len: usize,
    fd: OwnedFd,
}

// SAFETY: the arena is plain memory; who writes which part when is the
// protocol's business (each chunk's bytes belong to one side at a time: the
// runner's until it sends the frame, the worker's until it answers).
unsafe impl Send for Arena {}
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

    /// Copies `values` into the arena at byte `offset`, reading them
    /// without keeping them in the cache (see [`crate::cache`]).
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
        // SAFETY: in bounds and aligned (checked above); unshared (the
        // caller's promise).
        unsafe {
            crate::cache::copy_read_once(values.as_ptr(), self.base.as_ptr().add(offset).cast(), values.len())
        }
    }

    /// Copies `out.len()` values from the arena at byte `offset` into
    /// `out`, writing them past the cache (see [`crate::cache`]); they are
    /// read once more, after the clock stops, to check them.
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
        // SAFETY: `out` is valid for its length.
        unsafe { crate::cache::stream(out.as_mut_ptr(), out.len(), |index| results[index]) }
    }

    /// A chunk's items at byte `offset` and the room for its results right
    /// after them, in a worker, between the frame and its answer.
    #[allow(clippy::mut_from_ref)]
    fn chunk(&self, offset: u64, count: usize) -> Result<(&[f64], &mut [f64]), String> {
        let start = self.span(offset, count.saturating_mul(2)).ok_or_else(|| {
            format!(
                "a chunk of {count} items at byte {offset} is not an aligned part of the {} bytes of shared memory",
                self.len
            )
        })?;
        // SAFETY: in bounds and aligned (checked); the two halves do not
        // overlap; until the worker answers, no one else touches these bytes
        // (the runner waits for the answer, and a worker serves one frame at
        // a time), so the references are unique while they live.
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

// ------------------------------------------------------------ fork server

/// The flag that makes `parbench __worker` a fork server (see [`fork_workers`]).
pub const FORK_SERVER: &str = "--fork-server";

/// What the runner sends the fork server for each worker: the CPU to pin
/// it to (-1: none) as a little-endian i32, then 1 for the last worker (the
/// server becomes that one itself) or 0, as a little-endian u32, with three
/// descriptors attached (the worker's stdin, stdout and stderr), and a
/// fourth where the pool has an [`Arena`].
pub const WORKER_FDS: usize = 3;

/// What the fork server answers each request with: `P` and the new
/// worker's pid (little-endian i32), or `E` and why it could not start one.
pub const STARTED: u8 = b'P';
pub const NOT_STARTED: u8 = b'E';

/// `parbench __worker --fork-server BUILTIN NAME=VALUE...`: the start of a
/// whole pool for the price of one exec.
///
/// Starting a worker by exec costs this binary's start-up (about 0.7 ms of
/// CPU on a small VM) each time, and eight of them on two cores took seven
/// times as long as one. The fork server is exec'd once, builds the kernel,
/// and then forks one worker per request from its stdin, a Unix socket to
/// the runner. Each fork is made with `CLONE_PARENT`, so that every worker
/// is the runner's own child, as an exec'd one would be: the runner waits
/// for it, reaps it, reads its memory peak and counts its CPU time, and the
/// worker's parent-death signal is tied to the runner. The last request
/// makes the server itself a worker: a pool of N workers costs one exec and
/// N - 1 forks, and a pool of one no more than an exec'd worker did.
pub fn fork_workers(builtin: &str, params: &[String]) -> Result<(), String> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
    use std::io::IoSliceMut;
    use std::os::fd::RawFd;

    die_with_parent();
    crate::workload::enter_worker();
    let kernel = build_kernel(builtin, params)?;
    // SAFETY: getppid has no memory effects.
    let runner = unsafe { libc::getppid() };
    let socket: RawFd = 0;
    loop {
        let mut request = [0u8; 8];
        let mut space = nix::cmsg_space!([RawFd; WORKER_FDS + 1]);
        let mut iov = [IoSliceMut::new(&mut request)];
        let message = recvmsg::<()>(socket, &mut iov, Some(&mut space), MsgFlags::empty())
            .map_err(|error| format!("fork server: cannot read a request: {error}"))?;
        if message.bytes == 0 {
            return Ok(());
        }
        let bytes = message.bytes;
        let mut fds = Vec::new();
        for control in message.cmsgs().map_err(|error| format!("fork server: bad request: {error}"))? {
            if let ControlMessageOwned::ScmRights(rights) = control {
                fds.extend(rights);
            }
        }
        let cpu = i32::from_le_bytes(request[..4].try_into().expect("four bytes"));
        let last = request[4..] != [0; 4];
        let worker_fds: Option<&[RawFd]> = Some(fds.as_slice())
            .filter(|fds| (WORKER_FDS..=WORKER_FDS + 1).contains(&fds.len()) && bytes == request.len());
        let started = match (worker_fds, last) {
            (None, _) => Err(format!("a request came with {} descriptors and {bytes} bytes", fds.len())),
            // The server itself becomes the last worker (below): one fork
            // fewer, and none at all for a pool of one. It goes into a group
            // of its own before the runner hears of it, as a forked worker is.
            // SAFETY: setpgid and getpid have no memory effects.
            (Some(_), true) => Ok(unsafe {
                libc::setpgid(0, 0);
                libc::getpid()
            }),
            (Some(worker_fds), false) => match fork() {
                // The new worker: it serves, and ends as a worker does.
                Ok(Fork::Worker) => return become_worker(worker_fds, cpu, runner, kernel.as_ref()),
                Ok(Fork::Server(pid)) => Ok(pid),
                Err(why) => Err(why),
            },
        };
        let reply = match &started {
            Ok(pid) => [&[STARTED][..], &pid.to_le_bytes()].concat(),
            Err(why) => [&[NOT_STARTED][..], why.as_bytes()].concat(),
        };
        // SAFETY: writes our own buffer to the socket.
        if unsafe { libc::write(socket, reply.as_ptr().cast(), reply.len()) } < 0 {
            return Err(format!("fork server: cannot answer: {}", io::Error::last_os_error()));
        }
        if let (Some(worker_fds), true, Ok(_)) = (worker_fds, last, &started) {
            return become_worker(worker_fds, cpu, runner, kernel.as_ref());
        }
        for fd in &fds {
            // SAFETY: the descriptors came with the request and are ours.
            unsafe { libc::close(*fd) };
        }
    }
}

/// Which side of [`fork`] this is.
enum Fork {
    /// The fork server, with the new worker's pid.
    Server(libc::pid_t),
    /// The new worker.
    Worker,
}

/// Forks one worker as a sibling of the fork server (a child of the
/// runner).
fn fork() -> Result<Fork, String> {
    // SAFETY: the raw clone syscall with no new stack forks this process,
    // which has one thread (the fork server starts none), so no lock can be
    // held by a thread that does not exist in the child. glibc's own fork
    // cannot take CLONE_PARENT; glibc 2.34 and later ask the kernel for the
    // thread id where it matters (raise, abort), so its cached one is not
    // used after a raw clone. On x86-64 and aarch64 the zero arguments are
    // the stack and the thread-id pointers, in either order.
    let pid = unsafe { libc::syscall(libc::SYS_clone, libc::CLONE_PARENT | libc::SIGCHLD, 0, 0, 0, 0) };
    match pid {
        -1 => Err(format!("cannot fork a worker: {}", io::Error::last_os_error())),
        0 => Ok(Fork::Worker),
        // The worker is not the server's child, so the runner, its parent,
        // puts it into its own group as well (as shells do, parent and
        // child both, whichever comes first).
        pid => Ok(Fork::Server(pid as libc::pid_t)),
    }
}

/// In a worker just forked by the fork server: takes its three descriptors
/// as stdin, stdout and stderr (and maps the arena, where a fourth came),
/// goes into a process group of its own, dies with the runner, pins itself,
/// and serves.
fn become_worker(fds: &[i32], cpu: i32, runner: libc::pid_t, kernel: &dyn Kernel) -> Result<(), String> {
    // SAFETY: dup2, close, setpgid, prctl and getppid take integers and
    // have no memory effects. dup2 over 0 closes this copy of the socket.
    unsafe {
        for (fd, target) in fds[..WORKER_FDS].iter().zip(0..) {
            if libc::dup2(*fd, target) < 0 {
                return Err(format!(
                    "worker: cannot set up descriptor {target}: {}",
                    io::Error::last_os_error()
                ));
            }
        }
        for fd in fds[..WORKER_FDS].iter().filter(|fd| **fd > 2) {
            libc::close(*fd);
        }
        libc::setpgid(0, 0);
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        if libc::getppid() != runner {
            return Err("worker: parbench ended before the worker started".to_owned());
        }
    }
    let arena = match fds.get(WORKER_FDS) {
        // SAFETY: the descriptor came with the request and nothing else owns it.
        Some(fd) => Some(
            Arena::map(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(*fd) })
                .map_err(|error| format!("worker: cannot map the shared memory: {error}"))?,
        ),
        None => None,
    };
    if let Ok(cpu) = usize::try_from(cpu) {
        crate::affinity::pin_current_thread(cpu);
    }
    serve_kernel(kernel, arena.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let values = [1.5, -0.0, f64::MAX, 42.0];
        let mut frame = Vec::new();
        encode_frame(&values, &mut frame);
        assert_eq!(frame.len(), 4 + 8 * values.len());
        let mut out = [0.0; 4];
        read_frame(&mut frame.as_slice(), &mut out).unwrap();
        assert_eq!(out.map(f64::to_bits), values.map(f64::to_bits));
    }

    #[test]
    fn a_frame_of_the_wrong_length_is_an_error() {
        let mut frame = Vec::new();
        encode_frame(&[1.0, 2.0], &mut frame);
        let mut out = [0.0; 3];
        let error = read_frame(&mut frame.as_slice(), &mut out).unwrap_err();
        assert!(error.to_string().contains("sent 2 results for a chunk of 3"));
    }

    #[test]
    fn a_truncated_frame_is_an_error() {
        let mut frame = Vec::new();
        encode_frame(&[1.0, 2.0], &mut frame);
        frame.truncate(10);
        let mut out = [0.0; 2];
        assert!(read_frame(&mut frame.as_slice(), &mut out).is_err());
    }

    /// A serve loop's whole output for `input`, and its end.
    fn serve_bytes(arena: Option<&Arena>, input: &[u8]) -> (Vec<u8>, io::Result<()>) {
        let kernel = build_kernel("price-increase", &["percent=10".to_owned()]).unwrap();
        let mut output = Vec::new();
        let result = serve_frames(kernel.as_ref(), arena, input, &mut output);
        (output, result)
    }

    #[test]
    fn pipe_and_arena_frames_mix_and_each_gets_its_answer() {
        let arena = Arena::create(64).unwrap();
        // SAFETY: nothing else uses the arena.
        unsafe { arena.put(16, &[10.0, 20.0]) };
        let mut input = Vec::new();
        encode_frame(&[1.0], &mut input);
        input.extend_from_slice(&(2 | IN_ARENA).to_le_bytes());
        input.extend_from_slice(&16u64.to_le_bytes());
        let (output, result) = serve_bytes(Some(&arena), &input);
        result.unwrap();
        let mut expected = READY.to_vec();
        encode_frame(&[1.0 * 1.1], &mut expected);
        expected.extend_from_slice(&(2 | IN_ARENA).to_le_bytes());
        assert_eq!(output, expected);
        let mut results = [0.0; 2];
        // SAFETY: the serve loop has ended.
        unsafe { arena.get(32, &mut results) };
        assert_eq!(results, [10.0 * 1.1, 20.0 * 1.1]);
    }

    #[test]
    fn an_arena_frame_without_an_arena_or_out_of_line_is_an_error() {
        let mut input = (1 | IN_ARENA).to_le_bytes().to_vec();
        input.extend_from_slice(&0u64.to_le_bytes());
        let error = serve_bytes(None, &input).1.unwrap_err();
        assert!(error.to_string().contains("there is none"), "{error}");
        let arena = Arena::create(64).unwrap();
        // Misaligned: the items would not be f64s.
        let mut input = (1 | IN_ARENA).to_le_bytes().to_vec();
        input.extend_from_slice(&4u64.to_le_bytes());
        let error = serve_bytes(Some(&arena), &input).1.unwrap_err();
        assert!(
            error.to_string().contains("is not an aligned part of the 64 bytes of shared memory"),
            "{error}"
        );
        // An offset past the end, where the end would overflow.
        let mut input = (1 | IN_ARENA).to_le_bytes().to_vec();
        input.extend_from_slice(&(u64::MAX - 7).to_le_bytes());
        let error = serve_bytes(Some(&arena), &input).1.unwrap_err();
        assert!(error.to_string().contains("is not an aligned part of the 64 bytes"), "{error}");
    }
}
