//! The child side of the `processes` strategy for builtins, and its wire
//! format. The runner starts `parbench __worker BUILTIN NAME=VALUE...`
//! directly (no shell); the worker answers [`READY`] once its kernel is
//! built, then reads frames of items and writes frames of results until its
//! stdin closes.
//!
//! A frame is a little-endian u32 count followed by that many little-endian
//! f64 values: 8 bytes an item, no parsing, read straight into the result
//! slice.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

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
    serve_kernel(kernel.as_ref())
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
fn serve_kernel(kernel: &dyn Kernel) -> Result<(), String> {
    let mut reader = BufReader::with_capacity(1 << 16, io::stdin().lock());
    let mut writer = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let io_error = |error: io::Error| format!("worker i/o: {error}");
    writer.write_all(READY).map_err(io_error)?;
    writer.flush().map_err(io_error)?;

    let mut items: Vec<f64> = Vec::new();
    let mut results: Vec<f64> = Vec::new();
    let mut frame = Vec::new();
    while let Some(count) = read_count(&mut reader).map_err(io_error)? {
        items.resize(count, 0.0);
        results.resize(count, 0.0);
        reader.read_exact(bytemuck::cast_slice_mut(&mut items)).map_err(io_error)?;
        if cfg!(target_endian = "big") {
            items.iter_mut().for_each(|value| *value = f64::from_bits(u64::from_le(value.to_bits())));
        }
        kernel.apply(&items, &mut results);
        frame.clear();
        encode_frame(&results, &mut frame);
        writer.write_all(&frame).map_err(io_error)?;
        // Every result goes out as soon as it is computed, even when the
        // next chunk is already here: its arrival gives the runner the credit
        // to send the chunk after, which then overlaps with this worker's
        // next computation. Holding it back until the queued chunk was done
        // (as an earlier rule did) let the worker run dry after every pair.
        writer.flush().map_err(io_error)?;
    }
    writer.flush().map_err(io_error)?;
    Ok(())
}

// ------------------------------------------------------------ fork server

/// The flag that makes `parbench __worker` a fork server (see [`fork_workers`]).
pub const FORK_SERVER: &str = "--fork-server";

/// What the runner sends the fork server for each worker: the CPU to pin
/// it to (-1: none) as a little-endian i32, then 1 for the last worker (the
/// server becomes that one itself) or 0, as a little-endian u32, with three
/// descriptors attached (the worker's stdin, stdout and stderr).
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
        let mut space = nix::cmsg_space!([RawFd; WORKER_FDS]);
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
        let worker_fds: Option<[RawFd; WORKER_FDS]> =
            fds.as_slice().try_into().ok().filter(|_| bytes == request.len());
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
        for fd in fds {
            // SAFETY: the descriptors came with the request and are ours.
            unsafe { libc::close(fd) };
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
/// as stdin, stdout and stderr, goes into a process group of its own, dies
/// with the runner, pins itself, and serves.
fn become_worker(
    fds: [i32; WORKER_FDS],
    cpu: i32,
    runner: libc::pid_t,
    kernel: &dyn Kernel,
) -> Result<(), String> {
    // SAFETY: dup2, close, setpgid, prctl and getppid take integers and
    // have no memory effects. dup2 over 0 closes this copy of the socket.
    unsafe {
        for (fd, target) in fds.iter().zip(0..) {
            if libc::dup2(*fd, target) < 0 {
                return Err(format!(
                    "worker: cannot set up descriptor {target}: {}",
                    io::Error::last_os_error()
                ));
            }
        }
        for fd in fds.into_iter().filter(|fd| *fd > 2) {
            libc::close(fd);
        }
        libc::setpgid(0, 0);
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        if libc::getppid() != runner {
            return Err("worker: parbench ended before the worker started".to_owned());
        }
    }
    if let Ok(cpu) = usize::try_from(cpu) {
        crate::affinity::pin_current_thread(cpu);
    }
    serve_kernel(kernel)
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
}
