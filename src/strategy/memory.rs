//! Peak resident memory: the runner's own, reset before each run where Linux
//! allows it, and that of the worker processes a run started, read from the
//! kernel's accounting when they exit. Everything here happens before the
//! clock starts or after it stops, except [`wait_with_output`], which
//! replaces std's equivalent for one-process-per-item commands.

use std::io::{self, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus, Output};
use std::time::Duration;

/// Resets this process's resident-memory high-water mark to what it holds
/// now (Linux: "5" into /proc/self/clear_refs). False where that is not
/// allowed; the mark then counts from the process's start.
pub fn reset_own_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// This process's resident-memory high-water mark, in bytes: VmHWM, which
/// [`reset_own_peak`] resets (getrusage's maxrss is never reset, so it is
/// only the fallback).
pub fn own_peak() -> u64 {
    let from_status = std::fs::read_to_string("/proc/self/status").ok().and_then(|status| {
        let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    });
    from_status.unwrap_or_else(|| {
        // SAFETY: getrusage fills the struct we own.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
            return 0;
        }
        maxrss_bytes(&usage)
    })
}

/// Linux counts ru_maxrss in KiB.
fn maxrss_bytes(usage: &libc::rusage) -> u64 {
    u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024
}

/// Waits up to `patience` for child `pid` to exit and returns its peak
/// resident memory (or that of the largest of its own waited-for children),
/// leaving it unreaped so that the caller's wait still gets its status.
/// None if it did not exit in time or the kernel cannot say (before Linux 5.3).
pub fn exited_child_peak(pid: u32, patience: Duration) -> Option<u64> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    if !await_exit(pid, patience) {
        return None;
    }
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the raw waitid syscall (glibc's wrapper has no rusage
    // argument) writes into the two structs we own; WNOWAIT leaves the
    // child a zombie for its owner to reap.
    let waited = unsafe {
        libc::syscall(
            libc::SYS_waitid,
            libc::P_PID,
            pid,
            &mut info as *mut libc::siginfo_t,
            libc::WEXITED | libc::WNOWAIT,
            &mut usage as *mut libc::rusage,
        )
    };
    (waited == 0).then(|| maxrss_bytes(&usage))
}

/// Waits up to `patience` for child `pid` to end, without reaping it. False
/// if it is still running then, or if the kernel cannot say (before Linux
/// 5.3, which has no pidfd).
pub fn await_exit(pid: libc::pid_t, patience: Duration) -> bool {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor
    // or -1; we own and close it.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let until = std::time::Instant::now() + patience;
    let Some(pidfd) = libc::c_int::try_from(pidfd).ok().filter(|fd| *fd >= 0) else {
        return poll_exit(pid, until);
    };
    let exited = loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        let millis = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        let mut ready = libc::pollfd { fd: pidfd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one pollfd we own.
        match unsafe { libc::poll(&mut ready, 1, millis) } {
            -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => continue,
            got => break got == 1,
        }
    };
    // SAFETY: the descriptor is ours and closed once.
    unsafe { libc::close(pidfd) };
    exited
}

/// [`await_exit`] where there is no pidfd: asks the kernel every
/// millisecond.
fn poll_exit(pid: libc::pid_t, until: std::time::Instant) -> bool {
    loop {
        // SAFETY: waitid writes the siginfo we own; WNOWAIT leaves the child
        // for its owner to reap.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
        if unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, flags) } != 0 {
            return false;
        }
        // SAFETY: si_pid is set by a successful waitid (0: not ended yet).
        if unsafe { info.si_pid() } != 0 {
            return true;
        }
        if std::time::Instant::now() >= until {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// std's `Child::wait_with_output` for a child whose stdout alone is a
/// pipe, plus the child's peak resident memory: the same read of stdout to
/// its end, and one `wait4` in place of `waitpid`.
pub fn wait_with_output(mut child: Child) -> io::Result<(Output, u64)> {
    debug_assert!(child.stderr.is_none(), "stderr would have to be read together with stdout");
    drop(child.stdin.take());
    let mut stdout = Vec::new();
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_end(&mut stdout)?;
    }
    let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: wait4 writes into the status and the struct we own. The child
    // is reaped here; `child` is dropped without waiting again.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    while unsafe { libc::wait4(pid, &mut status, 0, &mut usage) } != pid {
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    let output = Output { status: ExitStatus::from_raw(status), stdout, stderr: Vec::new() };
    Ok((output, maxrss_bytes(&usage)))
}
