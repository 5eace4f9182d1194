//! The fork server: `parbench __worker --fork-server BUILTIN NAME=VALUE...`,
//! the start of a whole pool for the price of one exec.

use std::os::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::{Arena, build_kernel, serve_kernel};
use crate::workload::Kernel;

/// The flag that makes `parbench __worker` a fork server (see [`fork_workers`]).
pub const FORK_SERVER: &str = "--fork-server";

/// What the runner sends the fork server for each worker: the CPU to pin
/// it to (-1: none) as a little-endian i32, with three descriptors attached
/// (the worker's stdin, stdout and stderr), and a fourth where the pool has
/// an [`Arena`].
pub const WORKER_FDS: usize = 3;

/// What the fork server answers each request with: `P` and the new
/// worker's pid (little-endian i32), or `E` and why it could not start one.
pub const STARTED: u8 = b'P';
pub const NOT_STARTED: u8 = b'E';

/// Whether this build has the fork server's raw clone (see [`clone_parent`]): only
/// for the targets whose C library and clone argument order it was argued
/// for. Elsewhere the runner starts each worker by an exec, and their
/// chunks go through the pipes.
pub const FORK_SERVER_CLONES: bool =
    cfg!(all(target_os = "linux", target_env = "gnu", any(target_arch = "x86_64", target_arch = "aarch64")));

/// `parbench __worker --fork-server BUILTIN NAME=VALUE...`.
///
/// Starting a worker by exec costs this binary's start-up each time, and
/// exec'd workers started side by side compete for the cores. The fork
/// server is exec'd once for a group's runs, before any of them is timed,
/// builds the kernel, and then forks one worker per request from its stdin,
/// a Unix socket to the runner, until the socket closes. Each fork is made
/// with `CLONE_PARENT`, so that every worker is the runner's own child, as
/// an exec'd one would be: the runner waits for it, reaps it, reads its
/// memory peak and counts its CPU time, and the worker's parent-death
/// signal is tied to the runner. A pool of N workers costs N forks.
pub fn fork_workers(builtin: &str, params: &[String]) -> Result<(), String> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
    use std::io::IoSliceMut;

    crate::child::tie_itself();
    crate::workload::enter_worker();
    let kernel = build_kernel(builtin, params)?;
    // The raw clone in `clone_parent` is sound only in a process of one thread. The
    // server starts none, and after the kernel is built it does nothing
    // that could (it reads requests and forks): counted once here, not on
    // every fork of a pool's start.
    let single_threaded = single_threaded();
    let runner = nix::unistd::getppid();
    let socket: RawFd = 0;
    loop {
        let mut request = [0u8; 4];
        let mut space = nix::cmsg_space!([RawFd; WORKER_FDS + 1]);
        let mut iov = [IoSliceMut::new(&mut request)];
        let message = recvmsg::<()>(socket, &mut iov, Some(&mut space), MsgFlags::empty())
            .map_err(|error| format!("fork server: cannot read a request: {error}"))?;
        if message.bytes == 0 {
            return Ok(());
        }
        let bytes = message.bytes;
        let mut fds: Vec<OwnedFd> = Vec::new();
        for control in message.cmsgs().map_err(|error| format!("fork server: bad request: {error}"))? {
            if let ControlMessageOwned::ScmRights(rights) = control {
                // SAFETY: the kernel installed these descriptors in this
                // process for this message; nothing else knows of them, so
                // each is owned once, here.
                fds.extend(rights.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
            }
        }
        let cpu = i32::from_le_bytes(request);
        let well_formed = (WORKER_FDS..=WORKER_FDS + 1).contains(&fds.len()) && bytes == request.len();
        let started = match well_formed {
            false => Err(format!("a request came with {} descriptors and {bytes} bytes", fds.len())),
            true => match single_threaded.clone().and_then(|()| clone_parent()) {
                // The new worker: it serves, and ends as a worker does.
                Ok(Fork::Worker) => return become_worker(fds, cpu, runner, kernel.as_ref()),
                Ok(Fork::Server(pid)) => Ok(pid),
                Err(why) => Err(why),
            },
        };
        let reply = match &started {
            Ok(pid) => [&[STARTED][..], &pid.to_le_bytes()].concat(),
            Err(why) => [&[NOT_STARTED][..], why.as_bytes()].concat(),
        };
        // SAFETY: descriptor 0 is the socket the runner gave this process
        // as its stdin, open for the whole of its life.
        let socket_fd = unsafe { BorrowedFd::borrow_raw(socket) };
        if let Err(error) = nix::unistd::write(socket_fd, &reply) {
            return Err(format!("fork server: cannot answer: {error}"));
        }
        // The descriptors are the new worker's now; the server's copies
        // close as `fds` drops.
    }
}

/// Which side of [`clone_parent`] this is.
enum Fork {
    /// The fork server, with the new worker's pid.
    Server(libc::pid_t),
    /// The new worker.
    Worker,
}

/// Whether this process has one thread (/proc/self/status's `Threads:`),
/// or why a raw clone cannot be made here.
fn single_threaded() -> Result<(), String> {
    let threads = std::fs::read_to_string("/proc/self/status").ok().and_then(|status| {
        let line = status.lines().find(|line| line.starts_with("Threads:"))?;
        line.split_whitespace().nth(1)?.parse::<usize>().ok()
    });
    match threads {
        Some(1) => Ok(()),
        Some(threads) => Err(format!("cannot fork a worker: the fork server has {threads} threads, not 1")),
        None => Err("cannot fork a worker: cannot count the fork server's threads".to_owned()),
    }
}

/// The fork itself: `clone(CLONE_PARENT | SIGCHLD)`, which glibc's `fork`
/// cannot ask for.
#[cfg(all(target_os = "linux", target_env = "gnu", any(target_arch = "x86_64", target_arch = "aarch64")))]
fn clone_parent() -> Result<Fork, String> {
    // SAFETY: the raw clone syscall with no new stack forks this process
    // as `fork` would, into a copy of its one thread (its only caller forks
    // after `single_threaded` said so), so no lock can be held by a thread
    // that does not exist in the child.
    // glibc 2.34 and later (this target's C library; older ones are not
    // supported by Rust's std on these targets either) ask the kernel for
    // the thread id where they need it (raise, abort) instead of a cached
    // one, which a raw clone would leave stale. On x86-64 and aarch64 the
    // arguments after the flags are the new stack, then the parent's and
    // the child's thread-id pointers and the TLS value, in an order that
    // differs between the two only among these zeros: zero for all of them
    // means the same stack, no thread-id writes and no new TLS.
    let pid = unsafe { libc::syscall(libc::SYS_clone, libc::CLONE_PARENT | libc::SIGCHLD, 0, 0, 0, 0) };
    match pid {
        -1 => Err(format!("cannot fork a worker: {}", std::io::Error::last_os_error())),
        0 => Ok(Fork::Worker),
        // The worker is not the server's child, so the runner, its parent,
        // puts it into its own group as well (as shells do, parent and
        // child both, whichever comes first).
        pid => Ok(Fork::Server(pid as libc::pid_t)),
    }
}

/// Where the raw clone was not argued for, there is no fork server: the
/// runner starts each worker by an exec (see [`FORK_SERVER_CLONES`]).
#[cfg(not(all(
    target_os = "linux",
    target_env = "gnu",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
fn clone_parent() -> Result<Fork, String> {
    Err("cannot fork a worker: this build has no fork server".to_owned())
}

/// In a worker just forked by the fork server: takes its three descriptors
/// as stdin, stdout and stderr (and maps the arena, where a fourth came),
/// goes into a process group of its own, dies with the runner, pins itself,
/// and serves. The runner, its parent, puts it in that group too
/// (`child::ProcessGroup::adopt_forked`), so that it exists from there on
/// whichever of the two runs first.
fn become_worker(mut fds: Vec<OwnedFd>, cpu: i32, runner: Pid, kernel: &dyn Kernel) -> Result<(), String> {
    use nix::unistd::{dup2_stderr, dup2_stdin, dup2_stdout};
    let arena = (fds.len() > WORKER_FDS).then(|| fds.remove(WORKER_FDS));
    // dup2 over 0 closes this copy of the socket.
    let dups: [fn(BorrowedFd<'_>) -> nix::Result<()>; WORKER_FDS] =
        [|fd| dup2_stdin(fd), |fd| dup2_stdout(fd), |fd| dup2_stderr(fd)];
    for (target, (fd, dup)) in fds.iter().zip(dups).enumerate() {
        dup(fd.as_fd()).map_err(|error| format!("worker: cannot set up descriptor {target}: {error}"))?;
    }
    // The received copies close here (0, 1 and 2 are taken, so none of them
    // is one of those).
    drop(fds);
    crate::child::lead_own_group();
    if !crate::child::tie_to_parent(runner, Signal::SIGKILL) {
        return Err("worker: parbench ended before the worker started".to_owned());
    }
    let mut arena = match arena {
        Some(fd) => {
            Some(Arena::map(fd).map_err(|error| format!("worker: cannot map the shared memory: {error}"))?)
        }
        None => None,
    };
    if let Ok(cpu) = usize::try_from(cpu) {
        crate::affinity::pin_current_thread(cpu);
    }
    serve_kernel(kernel, arena.as_mut())
}
