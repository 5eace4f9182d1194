//! The one way parbench runs a child process: started in a process group of
//! its own and tied to parbench's life, waited for with a pidfd, its group
//! killed while its leader is still unreaped, and its end described in one
//! set of words. The fork server, `lines` workers, `argv` items and the
//! Python harness all start, wait for, kill and describe their children
//! here.
//!
//! # Why a group is never signalled after its leader was reaped
//!
//! A process group is named by its leader's pid. While the leader is a
//! zombie (ended, not yet reaped), the kernel keeps its pid, so a signal to
//! the group can reach only that group. Once it is reaped, the pid may be
//! given to a new process of someone else's, which may lead a group of its
//! own, and a signal meant for the old group would kill it. So [`Group`]
//! holds the leader's status once reaped and sends no signal after that,
//! and [`Group::end`] kills the group first and reaps the leader after.

use std::io;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// How a child is tied to parbench's life, so that it does not outlive a
/// parbench killed with -9.
#[derive(Debug, Clone, Copy)]
pub enum Tether {
    /// The kernel sends the child this signal when parbench dies, set
    /// between fork and exec. That hook makes std fork instead of using
    /// posix_spawn, so a user's program, which cannot be asked to do it
    /// itself, pays for a fork.
    Signal(Signal),
    /// The child is parbench itself, which ties itself with
    /// [`tie_to_parent`] first thing, told its runner's pid in
    /// [`PARENT_ENV`]: std spawns it with posix_spawn.
    Itself,
    /// None: a short-lived process per item, where a spawn is the hot path
    /// and posix_spawn is kept; the runner's group kills and its reaper of
    /// orphans end whatever a run leaves.
    Loose,
}

/// The environment variable that gives a child of [`Tether::Itself`] its
/// runner's process id.
pub const PARENT_ENV: &str = "PARBENCH_RUNNER_PID";

/// Starts `command` as the leader of a new process group, tied to parbench
/// as `tether` says.
pub fn spawn(command: &mut Command, tether: Tether) -> io::Result<Child> {
    command.process_group(0);
    match tether {
        Tether::Signal(signal) => {
            let parent = nix::unistd::getpid();
            // SAFETY: the hook runs in the child between fork and exec and
            // calls only prctl and getppid (through nix, which adds no
            // allocation or lock), both async-signal-safe.
            unsafe {
                command.pre_exec(move || {
                    if tie_to_parent(parent, signal) {
                        Ok(())
                    } else {
                        Err(io::Error::other("parbench ended before its child started"))
                    }
                });
            }
        }
        Tether::Itself => {
            command.env(PARENT_ENV, std::process::id().to_string());
        }
        Tether::Loose => {}
    }
    command.spawn()
}

/// In a child: asks the kernel for `signal` when the parent dies, then
/// checks that the parent is still `parent` (it may have died before the
/// request, and then no signal will ever come). False if it is not: the
/// child should end. Async-signal-safe.
pub fn tie_to_parent(parent: Pid, signal: Signal) -> bool {
    let _ = nix::sys::prctl::set_pdeathsig(signal);
    nix::unistd::getppid() == parent
}

/// In a child of [`Tether::Itself`]: ties itself to the runner named in
/// [`PARENT_ENV`] with SIGKILL, and exits if the runner is already gone.
/// Does nothing where the variable is not set (started by hand).
pub fn tie_itself() {
    let Some(runner) = std::env::var(PARENT_ENV).ok().and_then(|pid| pid.parse::<i32>().ok()) else {
        return;
    };
    if !tie_to_parent(Pid::from_raw(runner), Signal::SIGKILL) {
        std::process::exit(1);
    }
}

/// A child that leads a process group of its own (as [`spawn`] starts
/// one): it can be signalled, with its group, only until it is reaped.
#[derive(Debug)]
pub struct Group {
    pid: u32,
    /// How the leader ended, once reaped: from then on its pid may name
    /// another process, and the group is never signalled again.
    ended: Option<ExitStatus>,
}

impl Group {
    /// The group led by child `pid`, not reaped yet.
    pub fn new(pid: u32) -> Group {
        Group { pid, ended: None }
    }

    /// Records what is done to the group, in order, for the tests of that
    /// order (on the test's own thread).
    #[cfg(test)]
    fn note(&self, what: &'static str) {
        tests::DONE.with(|done| done.borrow_mut().push((self.pid, what)));
    }

    #[cfg(not(test))]
    fn note(&self, _: &'static str) {}

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The leader's status, if it has been reaped.
    pub fn ended(&self) -> Option<ExitStatus> {
        self.ended
    }

    /// Sends `signal` to every process of the group, unless the leader was
    /// reaped (see the module's comment).
    pub fn signal(&self, signal: Signal) {
        if self.ended.is_none() {
            self.note("signal");
            signal_group(self.pid, signal);
        }
    }

    /// Waits up to `patience` for the leader to end, without reaping it:
    /// its pid stays its own, so its group can still be killed. True if it
    /// has ended (or was reaped already).
    pub fn await_exit(&self, patience: Duration) -> bool {
        self.ended.is_some() || await_exit(self.pid, patience)
    }

    /// Kills the group, then reaps the leader (waiting for it as long as it
    /// takes, which after SIGKILL is not long): anything the leader left in
    /// its group goes first, while the group's name is still the leader's.
    /// The leader's status (`None` if it was not parbench's child).
    pub fn end(&mut self) -> Option<ExitStatus> {
        self.signal(Signal::SIGKILL);
        if self.ended.is_none() {
            self.note("reap");
            self.ended = reap(self.pid);
        }
        self.ended
    }

    /// Waits for the leader to end, as long as it takes, without reaping
    /// it.
    pub fn await_end(&self) {
        use nix::sys::wait::{Id, waitid};
        let Ok(pid) = i32::try_from(self.pid) else { return };
        while self.ended.is_none() {
            match waitid(Id::Pid(Pid::from_raw(pid)), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
                Err(nix::errno::Errno::EINTR) => {}
                _ => return,
            }
        }
    }

    /// [`end`](Self::end) with the leader's peak resident memory, read
    /// as it is reaped.
    pub fn end_with_peak(&mut self) -> io::Result<(ExitStatus, u64)> {
        self.signal(Signal::SIGKILL);
        if let Some(status) = self.ended {
            return Ok((status, 0));
        }
        self.note("reap");
        let (status, peak) = reap_with_peak(self.pid)?;
        self.ended = Some(status);
        Ok((status, peak))
    }

    /// [`end`](Self::end) for a leader that has ended by itself within
    /// `patience`, with its peak resident memory read before it is reaped;
    /// the status is `None` if it had not ended by itself (it is killed and
    /// reaped all the same).
    pub fn end_after(&mut self, patience: Duration) -> (Option<ExitStatus>, Option<u64>) {
        let exited = self.await_exit(patience);
        let peak = if exited && self.ended.is_none() { exited_peak(self.pid) } else { None };
        let status = self.end();
        (status.filter(|_| exited), peak)
    }
}

/// Kills process group `leader` from a thread that does not own its
/// [`Group`]. The caller guarantees the leader is not reaped yet, as
/// `Live` in the processes strategy does: the owner takes the pid out of
/// the caller's reach before it reaps.
pub fn kill_unreaped_group(leader: u32) {
    signal_group(leader, Signal::SIGKILL);
}

/// Sends `signal` to process group `leader`, which must be unreaped. The
/// interrupt handler, which may not take locks, has its own raw call.
fn signal_group(leader: u32, signal: Signal) {
    if let Ok(leader) = i32::try_from(leader) {
        // A group with no process left fails with ESRCH: nothing to do.
        let _ = killpg(Pid::from_raw(leader), signal);
    }
}

/// Reaps child `pid`, waiting for it to end; `None` if it is not a child
/// of parbench's (or was reaped already).
fn reap(pid: u32) -> Option<ExitStatus> {
    let pid = Pid::from_raw(i32::try_from(pid).ok()?);
    loop {
        match waitpid(pid, None) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return None,
            Ok(status) => return exit_status(status),
        }
    }
}

/// std's status from nix's: the raw wait status std decodes.
fn exit_status(status: WaitStatus) -> Option<ExitStatus> {
    match status {
        WaitStatus::Exited(_, code) => Some(ExitStatus::from_raw((code & 0xff) << 8)),
        WaitStatus::Signaled(_, signal, core) => {
            Some(ExitStatus::from_raw(signal as i32 | if core { 0x80 } else { 0 }))
        }
        _ => None,
    }
}

/// Waits up to `patience` for child `pid` to end, without reaping it. False
/// if it is still running then, or if the kernel cannot say.
pub fn await_exit(pid: u32, patience: Duration) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    let until = Instant::now() + patience;
    match pidfd(pid) {
        Ok(pidfd) => await_pidfd(&pidfd, until),
        // Linux before 5.3, or a sandbox that refuses the call.
        Err(nix::errno::Errno::ENOSYS | nix::errno::Errno::EPERM) => poll_exit(pid, until),
        Err(_) => false,
    }
}

/// A pidfd for `pid`: readable once the process has ended.
fn pidfd(pid: libc::pid_t) -> Result<OwnedFd, nix::errno::Errno> {
    // SAFETY: pidfd_open takes a pid and flags and touches no memory of
    // ours; nix has no wrapper for it.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    match libc::c_int::try_from(fd) {
        Ok(fd) if fd >= 0 => {
            // SAFETY: the kernel just gave us this new descriptor, which
            // nothing else owns.
            Ok(unsafe { OwnedFd::from_raw_fd(fd) })
        }
        _ => Err(nix::errno::Errno::last()),
    }
}

fn await_pidfd(pidfd: &OwnedFd, until: Instant) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let millis = PollTimeout::try_from(left.as_millis()).unwrap_or(PollTimeout::MAX);
        let mut ready = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut ready, millis) {
            Err(nix::errno::Errno::EINTR) => continue,
            got => return got == Ok(1),
        }
    }
}

/// [`await_exit`] where there is no pidfd: asks the kernel every
/// millisecond.
fn poll_exit(pid: libc::pid_t, until: Instant) -> bool {
    use nix::sys::wait::{Id, waitid};
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    loop {
        match waitid(Id::Pid(Pid::from_raw(pid)), flags) {
            Ok(WaitStatus::StillAlive) => {}
            Ok(_) => return true,
            Err(_) => return false,
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The peak resident memory of child `pid`, which has ended and is not
/// reaped (or of the largest of its own waited-for children), leaving it
/// unreaped; `None` where the kernel cannot say.
fn exited_peak(pid: u32) -> Option<u64> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    // SAFETY: both are plain C structs for which all zeros is a valid value.
    let (mut info, mut usage): (libc::siginfo_t, libc::rusage) = unsafe { std::mem::zeroed() };
    // SAFETY: the raw waitid syscall (glibc's wrapper and nix's have no
    // rusage argument) writes only into the two structs we own; WNOWAIT
    // leaves the child a zombie for `end` to reap.
    let waited = unsafe {
        libc::syscall(
            libc::SYS_waitid,
            libc::P_PID,
            pid,
            &mut info as *mut libc::siginfo_t,
            libc::WEXITED | libc::WNOWAIT | libc::WNOHANG,
            &mut usage as *mut libc::rusage,
        )
    };
    (waited == 0).then(|| maxrss_bytes(&usage))
}

/// Linux counts ru_maxrss in KiB.
fn maxrss_bytes(usage: &libc::rusage) -> u64 {
    u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024
}

/// Reaps child `pid` (blocking) with its peak resident memory: one `wait4`
/// in place of `waitpid`, which has no rusage (nor has nix's).
fn reap_with_peak(pid: u32) -> io::Result<(ExitStatus, u64)> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: a plain C struct for which all zeros is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 writes only into the status and the struct we own.
    while unsafe { libc::wait4(pid, &mut status, 0, &mut usage) } != pid {
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    Ok((ExitStatus::from_raw(status), maxrss_bytes(&usage)))
}

/// How a process ended, in the words of error messages: "exited with
/// status 3", "was killed by signal 9 (SIGKILL)".
pub fn describe_exit(status: ExitStatus) -> String {
    if let Some(signal) = status.signal() {
        match Signal::try_from(signal) {
            Ok(name) => format!("was killed by signal {signal} ({})", name.as_str()),
            Err(_) => format!("was killed by signal {signal}"),
        }
    } else if let Some(code) = status.code() {
        format!("exited with status {code}")
    } else {
        "ended in an unknown way".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;

    #[test]
    fn an_exit_is_described_with_its_status_or_its_signal_by_name() {
        assert_eq!(describe_exit(ExitStatus::from_raw(3 << 8)), "exited with status 3");
        assert_eq!(describe_exit(ExitStatus::from_raw(9)), "was killed by signal 9 (SIGKILL)");
        assert_eq!(describe_exit(ExitStatus::from_raw(11 | 0x80)), "was killed by signal 11 (SIGSEGV)");
    }

    // The `Group` reaps the child, by pid.
    #[allow(clippy::zombie_processes)]
    fn sh(script: &str) -> Group {
        let child = spawn(
            Command::new("sh").args(["-c", script]).stdin(Stdio::null()).stdout(Stdio::null()),
            Tether::Signal(Signal::SIGKILL),
        )
        .expect("sh starts");
        Group::new(child.id())
    }

    /// Whether process `pid` exists, zombie or not.
    fn exists(pid: i32) -> bool {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    }

    #[test]
    fn what_a_leader_left_in_its_group_is_killed_before_the_leader_is_reaped() {
        // The leader starts a sleeper in its group, says its pid, and ends.
        let dir = tempfile::tempdir().unwrap();
        let said = dir.path().join("pid");
        let mut group = sh(&format!("sleep 300 & echo $! > {}", said.display()));
        assert!(group.await_exit(Duration::from_secs(10)), "the leader ends by itself");
        let sleeper: i32 = std::fs::read_to_string(&said).unwrap().trim().parse().unwrap();
        // Ended but not reaped: the leader's pid is still its own.
        assert!(exists(group.pid() as i32));
        let status = group.end();
        assert_eq!(status.map(describe_exit).as_deref(), Some("exited with status 0"));
        // The sleeper got the group's SIGKILL, sent before the reap.
        let gone = Instant::now() + Duration::from_secs(10);
        while exists(sleeper) && !zombie(sleeper) && Instant::now() < gone {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!exists(sleeper) || zombie(sleeper), "the leader's leftover was killed");
    }

    fn zombie(pid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| stat.rfind(')').map(|end| stat[end + 1..].trim_start().starts_with('Z')))
            .unwrap_or(false)
    }

    thread_local! {
        pub(super) static DONE: std::cell::RefCell<Vec<(u32, &'static str)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }

    /// What was done to `group` on this thread, in order.
    fn done(group: &Group) -> Vec<&'static str> {
        DONE.with(|done| {
            done.borrow().iter().filter(|(pid, _)| *pid == group.pid).map(|(_, what)| *what).collect()
        })
    }

    #[test]
    fn the_group_is_killed_before_its_leader_is_reaped_and_never_after() {
        let mut group = sh("exit 4");
        assert!(group.await_exit(Duration::from_secs(10)));
        assert_eq!(group.end().map(describe_exit).as_deref(), Some("exited with status 4"));
        assert_eq!(done(&group), ["signal", "reap"]);
        // From here on the pid may be another process's: nothing more is
        // sent or reaped, whatever is asked.
        group.signal(Signal::SIGKILL);
        assert_eq!(group.end().map(describe_exit).as_deref(), Some("exited with status 4"));
        assert!(group.end_with_peak().is_ok());
        assert_eq!(done(&group), ["signal", "reap"]);
    }

    #[test]
    fn an_item_s_group_is_killed_before_it_is_reaped_with_its_peak() {
        let mut group = sh("exit 0");
        group.await_end();
        let (status, _) = group.end_with_peak().unwrap();
        assert!(status.success());
        assert_eq!(done(&group), ["signal", "reap"]);
    }

    #[test]
    fn a_leader_that_does_not_end_in_time_is_killed_and_reported_as_not_ended() {
        let mut group = sh("sleep 300");
        let (status, peak) = group.end_after(Duration::from_millis(50));
        assert_eq!(status, None);
        assert_eq!(peak, None);
        assert!(group.ended().is_some_and(|status| status.signal() == Some(9)));
    }
}
