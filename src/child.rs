//! The one way parbench runs a child process: started in a process group of
//! its own and tied to parbench's life, owned by a [`ProcessGroup`] that
//! tracks it for Ctrl-C, waits for it with a pidfd, kills its group while
//! its leader is still unreaped, and describes its end in one set of words.
//! The fork server, `lines` workers, `argv` items and the Python harness all
//! start, wait for, kill and describe their children here.
//!
//! # Why a group is never signalled after its leader was reaped
//!
//! A process group is named by its leader's pid. While the leader is a
//! zombie (ended, not yet reaped), the kernel keeps its pid, so a signal to
//! the group can reach only that group. Once it is reaped, the pid may be
//! given to a new process of someone else's, which may lead a group of its
//! own, and a signal meant for the old group would kill it. So a
//! [`ProcessGroup`] kills its group first, then takes it out of the
//! interrupt handler's table (see [`crate::interrupt::Tracked`]), and only
//! then reaps the leader; it sends no signal after that.
//!
//! The one signal to a bare pid is [`kill_descendant`], for a process found
//! in /proc that parbench did not start itself, and even that goes through
//! a pidfd checked against the process's start time wherever the kernel
//! has pidfds.

use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{ChildStdin, ChildStdout, Command, ExitStatus};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::interrupt::Tracked;

/// How a child is tied to parbench's life, so that it does not outlive a
/// parbench killed with -9.
#[derive(Debug, Clone, Copy)]
pub enum Tether {
    /// The kernel kills the child when parbench dies (SIGKILL, set between
    /// fork and exec). That hook makes std fork instead of using
    /// posix_spawn, so a user's program, which cannot be asked to do it
    /// itself, pays for a fork.
    Kill,
    /// As [`Kill`](Self::Kill), but with SIGHUP, on which the child ends
    /// its own process group gently (the Python harness: multiprocessing's
    /// resource tracker must outlive its clients to remove their
    /// semaphores). The interrupt handler leaves such a group to it rather
    /// than kill it outright.
    Hangup,
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

/// The pipes of a child just started, as far as its command piped them.
pub struct Pipes {
    pub stdin: Option<ChildStdin>,
    pub stdout: Option<ChildStdout>,
}

/// Starts `command` as the leader of a new process group, tied to parbench
/// as `tether` says: the one place a spawned child's group is set. The
/// group is owned (and tracked for Ctrl-C) from the moment it exists.
pub fn spawn(command: &mut Command, tether: Tether) -> io::Result<(ProcessGroup, Pipes)> {
    command.process_group(0);
    match tether {
        Tether::Kill | Tether::Hangup => {
            let signal = if matches!(tether, Tether::Hangup) { Signal::SIGHUP } else { Signal::SIGKILL };
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
    // std's handle is dropped here: it neither waits nor kills on drop, and
    // the group is the one owner of the child from now on.
    let mut child = command.spawn()?;
    let pipes = Pipes { stdin: child.stdin.take(), stdout: child.stdout.take() };
    let group = ProcessGroup::own(child.id(), !matches!(tether, Tether::Hangup));
    Ok((group, pipes))
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

/// A child of parbench's that leads a process group of its own, owned:
/// from its start until it is killed and reaped, it is in the interrupt
/// handler's table, so that a second Ctrl-C kills its group (but where it
/// ends its group itself, see [`Tether::Hangup`]).
///
/// The invariant every method keeps: the group is signalled (by its owner,
/// or by the handler) only while the leader is unreaped, so its pid, and the
/// group's name, are still its own. [`end`](Self::end) therefore kills the
/// group, then leaves the handler's table (waiting out a handler that may
/// be signalling it), and reaps the leader last. Dropping a group that was
/// not ended ends it the same way, so no path leaves it running or
/// unreaped.
#[derive(Debug)]
pub struct ProcessGroup {
    pid: u32,
    /// Its place in the interrupt handler's table, given up only after the
    /// group is killed and before the leader is reaped.
    tracked: Option<Tracked>,
    /// How it ended, once reaped: from then on its pid may name another
    /// process, and the group is never signalled again.
    ended: Option<Ended>,
}

/// How a [`ProcessGroup`]'s leader ended, read as it was reaped.
#[derive(Debug, Clone, Copy)]
pub struct Ended {
    /// Its status; `None` if it could not be reaped (not parbench's child).
    pub status: Option<ExitStatus>,
    /// Whether it had ended by itself within the patience it was given;
    /// otherwise `status` is the kill's.
    pub by_itself: bool,
    /// The leader's peak resident memory (or the largest of its own
    /// waited-for children's), in bytes; 0 where the kernel cannot say.
    pub peak_rss: u64,
}

impl Ended {
    /// The status it ended with by itself, `None` if it was killed.
    pub fn own_status(&self) -> Option<ExitStatus> {
        self.status.filter(|_| self.by_itself)
    }
}

impl ProcessGroup {
    /// Owns the group of child `pid`, which leads it and is not reaped;
    /// tracks it for the interrupt handler where `tracked`.
    fn own(pid: u32, tracked: bool) -> ProcessGroup {
        let raw = libc::pid_t::try_from(pid).unwrap_or(0);
        ProcessGroup { pid, tracked: tracked.then(|| Tracked::new(raw)), ended: None }
    }

    /// Owns a child that parbench did not exec but that is its own all the
    /// same (a fork server's worker, cloned with `CLONE_PARENT`), putting it
    /// in a group of its own first: as its parent, parbench may, as long as
    /// the child has not exec'd (a worker never does). The child does the
    /// same itself ([`lead_own_group`]): whichever runs first, the group
    /// exists before it is tracked here, and before the child goes on.
    pub fn adopt_forked(pid: u32) -> ProcessGroup {
        if let Ok(raw) = i32::try_from(pid) {
            // It may have died already (ESRCH): its end is read at the reap.
            let _ = nix::unistd::setpgid(Pid::from_raw(raw), Pid::from_raw(raw));
        }
        ProcessGroup::own(pid, true)
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

    /// How it ended, once [`end`](Self::end)ed.
    pub fn ended(&self) -> Option<Ended> {
        self.ended
    }

    /// Sends `signal` to every process of the group, unless the leader was
    /// reaped (see the type's invariant).
    pub fn signal(&self, signal: Signal) {
        if self.ended.is_none() {
            self.note("signal");
            kill_unreaped_group(self.pid, signal);
        }
    }

    /// Waits up to `patience` (`Duration::MAX`: as long as it takes) for the
    /// leader to end, without reaping it: its pid stays its own, so its
    /// group can still be killed. True if it has ended (or was reaped).
    pub fn exited_within(&self, patience: Duration) -> bool {
        if self.ended.is_some() {
            return true;
        }
        let Ok(pid) = libc::pid_t::try_from(self.pid) else { return false };
        let until = Instant::now().checked_add(patience);
        // A pidfd is opened for the wait, not kept: a pool's budget of open
        // files (see `strategy::Needs`) has none for it.
        match pidfd(pid) {
            Ok(pidfd) => await_pidfd(&pidfd, until),
            // Linux before 5.3, or a sandbox that refuses the call.
            Err(_) => poll_exit(pid, until),
        }
    }

    /// The one way a group ends: gives the leader `patience` to end by
    /// itself, kills the group (whatever the leader left in it goes while
    /// the group's name is still the leader's), leaves the interrupt
    /// handler's table, and reaps the leader with its peak memory. Asked
    /// again, it answers the same without touching any process.
    pub fn end(&mut self, patience: Duration) -> Ended {
        if let Some(ended) = self.ended {
            return ended;
        }
        let by_itself = self.exited_within(patience);
        self.signal(Signal::SIGKILL);
        // Out of the handler's reach before the reap (see `Tracked`).
        drop(self.tracked.take());
        self.note("reap");
        let reaped = reap_with_peak(self.pid);
        let ended = Ended {
            status: reaped.as_ref().ok().map(|(status, _)| *status),
            by_itself,
            peak_rss: reaped.map_or(0, |(_, peak)| peak),
        };
        self.ended = Some(ended);
        ended
    }
}

impl Drop for ProcessGroup {
    /// An owner that did not end its group (an early return, a panic) still
    /// leaves nothing running and nothing unreaped.
    fn drop(&mut self) {
        self.end(Duration::ZERO);
    }
}

/// In a child forked without an exec (a fork server's worker): makes it the
/// leader of a group of its own, as its parent does too (see
/// [`ProcessGroup::adopt_forked`]).
pub fn lead_own_group() {
    let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
}

/// Sends `signal` to process group `leader`. The caller guarantees the
/// leader is not reaped yet: its [`ProcessGroup`], or a thread that does not
/// own it but can see it only until the owner reaps it (as `Live` in the
/// processes strategy, whose owner takes the pid out of its reach under a
/// lock before the reap). The interrupt handler, which may not take locks,
/// has its own raw call under the same rule.
pub fn kill_unreaped_group(leader: u32, signal: Signal) {
    if let Ok(leader) = i32::try_from(leader) {
        // A group with no process left fails with ESRCH: nothing to do.
        let _ = killpg(Pid::from_raw(leader), signal);
    }
}

/// Kills process `pid`, a descendant of parbench that it did not start
/// itself (found in /proc: a grandchild, an orphan that came back to it)
/// and so owns no group or pidfd of, if it is still the process that
/// started at `started` (its start time in clock ticks, field 22 of
/// /proc/PID/stat): a pid that ended since may name another process by now.
///
/// A pidfd, taken and then checked against the start time, pins that very
/// process, so the signal cannot reach another. Where the kernel has no
/// pidfds, the last resort is `kill` of the bare pid, checked the same way
/// just before: the one bare-pid kill in parbench, whose window is the
/// time between the check and the call.
pub fn kill_descendant(pid: i32, started: u64) {
    match pidfd(pid) {
        Ok(pidfd) => {
            if start_time(pid) == Some(started) {
                let _ = pidfd_send_signal(&pidfd, Signal::SIGKILL);
            }
        }
        Err(nix::errno::Errno::ENOSYS | nix::errno::Errno::EPERM) => {
            if start_time(pid) == Some(started) {
                let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        // ESRCH: it has ended and been reaped.
        Err(_) => {}
    }
}

/// What parbench reads of a process in /proc/PID/stat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    pub zombie: bool,
    pub parent: i32,
    pub group: i32,
    /// When it started, in clock ticks since boot: with the pid, a name no
    /// other process has had since boot.
    pub started: u64,
}

/// Process `pid`'s stat line, read; `None` if it is gone.
pub fn proc_stat(pid: i32) -> Option<ProcStat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// `pid (comm) state ppid pgrp ... starttime ...`: comm may hold spaces and
/// parentheses, so the fields are counted from its closing one.
fn parse_stat(stat: &str) -> Option<ProcStat> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Field 3 (state) is the first after the name: field N is at N - 3.
    Some(ProcStat {
        zombie: *fields.first()? == "Z",
        parent: fields.get(1)?.parse().ok()?,
        group: fields.get(2)?.parse().ok()?,
        started: fields.get(19)?.parse().ok()?,
    })
}

fn start_time(pid: i32) -> Option<u64> {
    proc_stat(pid).map(|stat| stat.started)
}

/// Sends `signal` to the process `pidfd` refers to (nix has no wrapper).
fn pidfd_send_signal(pidfd: &OwnedFd, signal: Signal) -> Result<(), nix::errno::Errno> {
    // SAFETY: the call takes a descriptor we own, a signal number, a null
    // siginfo (the kernel fills in its own) and no flags; it touches no
    // memory of ours.
    let sent = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal as libc::c_int,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if sent == 0 { Ok(()) } else { Err(nix::errno::Errno::last()) }
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

/// Whether the process of `pidfd` ends before `until` (`None`: ever).
fn await_pidfd(pidfd: &OwnedFd, until: Option<Instant>) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    loop {
        let wait = match until {
            Some(until) => {
                let left = until.saturating_duration_since(Instant::now());
                PollTimeout::try_from(left.as_millis()).unwrap_or(PollTimeout::MAX)
            }
            None => PollTimeout::NONE,
        };
        let mut ready = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut ready, wait) {
            Err(nix::errno::Errno::EINTR) => continue,
            // A bounded wait longer than poll's longest goes round again.
            Ok(0) if until.is_some_and(|until| Instant::now() < until) => continue,
            got => return got == Ok(1),
        }
    }
}

/// [`ProcessGroup::exited_within`] where there is no pidfd: waits in the
/// kernel where the wait has no end, or asks it every millisecond.
fn poll_exit(pid: libc::pid_t, until: Option<Instant>) -> bool {
    use nix::sys::wait::{Id, waitid};
    let block = until.is_none();
    let flags = WaitPidFlag::WEXITED
        | WaitPidFlag::WNOWAIT
        | if block { WaitPidFlag::empty() } else { WaitPidFlag::WNOHANG };
    loop {
        match waitid(Id::Pid(Pid::from_raw(pid)), flags) {
            Ok(WaitStatus::StillAlive) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => return true,
            Err(_) => return false,
        }
        if until.is_some_and(|until| Instant::now() >= until) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
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

    fn sh(script: &str) -> ProcessGroup {
        let (group, _) = spawn(
            Command::new("sh").args(["-c", script]).stdin(Stdio::null()).stdout(Stdio::null()),
            Tether::Kill,
        )
        .expect("sh starts");
        group
    }

    /// Whether process `pid` exists, zombie or not.
    fn exists(pid: i32) -> bool {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    }

    fn zombie(pid: i32) -> bool {
        proc_stat(pid).is_some_and(|stat| stat.zombie)
    }

    /// Waits (a deadlock guard, not a clock) for `pid` to be gone or a
    /// zombie; whether it is.
    fn dies(pid: i32) -> bool {
        let gone = Instant::now() + Duration::from_secs(10);
        while exists(pid) && !zombie(pid) && Instant::now() < gone {
            std::thread::sleep(Duration::from_millis(5));
        }
        !exists(pid) || zombie(pid)
    }

    /// A group whose leader starts a sleeper in its group and says its pid
    /// in `said`; the sleeper's pid.
    fn with_sleeper(said: &std::path::Path, then: &str) -> (ProcessGroup, i32) {
        let group = sh(&format!("sleep 300 & echo $! > {}.tmp && mv {0}.tmp {0}; {then}", said.display()));
        let until = Instant::now() + Duration::from_secs(10);
        while !said.exists() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        let sleeper = std::fs::read_to_string(said).unwrap().trim().parse().unwrap();
        (group, sleeper)
    }

    #[test]
    fn what_a_leader_left_in_its_group_is_killed_before_the_leader_is_reaped() {
        let dir = tempfile::tempdir().unwrap();
        let (mut group, sleeper) = with_sleeper(&dir.path().join("pid"), "exit 0");
        assert!(group.exited_within(Duration::from_secs(10)), "the leader ends by itself");
        // Ended but not reaped: the leader's pid is still its own.
        assert!(exists(group.pid() as i32));
        let ended = group.end(Duration::ZERO);
        assert_eq!(ended.own_status().map(describe_exit).as_deref(), Some("exited with status 0"));
        assert!(ended.peak_rss > 0, "the peak is read as the leader is reaped");
        assert!(dies(sleeper), "the leader's leftover was killed");
    }

    #[test]
    fn a_group_dropped_without_an_end_is_killed_reaped_and_untracked() {
        let dir = tempfile::tempdir().unwrap();
        let (group, sleeper) = with_sleeper(&dir.path().join("pid"), "sleep 300");
        let leader = group.pid() as i32;
        assert!(crate::interrupt::tracks(leader), "a live group is in the interrupt handler's table");
        drop(group);
        assert!(!exists(leader), "the leader is reaped, not left a zombie");
        assert!(dies(sleeper), "the rest of its group is killed");
        assert!(!crate::interrupt::tracks(leader), "an ended group is out of the handler's table");
    }

    #[test]
    fn a_group_that_ends_itself_on_a_hangup_is_left_to_it_by_the_interrupt_handler() {
        let (group, _) = spawn(Command::new("sleep").arg("300"), Tether::Hangup).unwrap();
        let leader = group.pid() as i32;
        assert!(!crate::interrupt::tracks(leader));
        drop(group);
        assert!(!exists(leader), "it is still ended and reaped with its owner");
    }

    thread_local! {
        pub(super) static DONE: std::cell::RefCell<Vec<(u32, &'static str)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }

    /// What was done to `group` on this thread, in order.
    fn done(group: &ProcessGroup) -> Vec<&'static str> {
        DONE.with(|done| {
            done.borrow().iter().filter(|(pid, _)| *pid == group.pid).map(|(_, what)| *what).collect()
        })
    }

    #[test]
    fn the_group_is_killed_before_its_leader_is_reaped_and_never_after() {
        let mut group = sh("exit 4");
        assert!(group.exited_within(Duration::MAX));
        let ended = group.end(Duration::ZERO);
        assert_eq!(ended.own_status().map(describe_exit).as_deref(), Some("exited with status 4"));
        assert_eq!(done(&group), ["signal", "reap"]);
        // From here on the pid may be another process's: nothing more is
        // sent or reaped, whatever is asked.
        group.signal(Signal::SIGKILL);
        assert_eq!(
            group.end(Duration::ZERO).own_status().map(describe_exit).as_deref(),
            Some("exited with status 4")
        );
        let _ = group.end(Duration::from_secs(1));
        assert_eq!(done(&group), ["signal", "reap"]);
    }

    #[test]
    fn a_leader_that_does_not_end_in_time_is_killed_and_reported_as_not_ended_by_itself() {
        let mut group = sh("sleep 300");
        let ended = group.end(Duration::from_millis(50));
        assert!(!ended.by_itself);
        assert_eq!(ended.own_status(), None);
        assert!(ended.status.is_some_and(|status| status.signal() == Some(9)));
    }

    #[test]
    fn a_descendant_is_killed_only_while_its_pid_names_the_process_that_was_found() {
        // Not a group of ours: a plain child, as a descendant found in /proc is.
        let mut sleeper = Command::new("sleep").arg("300").spawn().unwrap();
        let pid = sleeper.id() as i32;
        let started = proc_stat(pid).unwrap().started;
        kill_descendant(pid, started + 1);
        assert!(sleeper.try_wait().unwrap().is_none(), "another start time: another process, spared");
        kill_descendant(pid, started);
        assert_eq!(sleeper.wait().unwrap().signal(), Some(9));
    }

    #[test]
    fn a_stat_line_is_read_past_a_name_with_spaces_and_parentheses() {
        let line = "42 (a (b) c) Z 7 42 42 0 -1 4194560 1 0 0 0 3 4 0 0 20 0 1 0 98765 0 0";
        assert_eq!(parse_stat(line), Some(ProcStat { zombie: true, parent: 7, group: 42, started: 98765 }));
        assert_eq!(parse_stat("42 (x) S 7"), None);
    }
}
