//! The `processes` strategy: N child processes fed chunks of items by
//! whichever worker is free, results put back in input order.
//!
//! Each worker has a writer thread and a reader thread in the runner. The
//! writer claims the next chunk from a shared counter only when it holds a
//! credit (at most [`IN_FLIGHT`] chunks per worker are unanswered), so a free
//! worker always gets the next chunk and a busy one never hoards. The writer
//! and reader never wait on each other's pipe, so no list size and no result
//! size can deadlock: the child can always write because the reader is
//! always reading.
//!
//! Three codecs ride on the same pool. Parbench's own workers (`parbench
//! __worker`, see `worker.rs`, started by one fork server per pool:
//! [`fork_pool`]) take their chunks through shared memory, a frame on the
//! pipe saying where (`SharedCodec`), or, where there is none, as binary
//! frames through the pipe (`BinaryCodec`). `protocol = "lines"` commands,
//! each started by its own exec, read and write lines (`LineCodec`).
//! `protocol = "argv"` commands have no pool: each slot thread spawns one
//! process per item.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::ops::Range;
use std::os::fd::OwnedFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use super::chunks::{Chunks, MAX_CHUNK};
use super::memory;
use super::reaper::{self, StderrBudget};
use super::{Cutoff, Execution, Failed, Finish, Outputs, RunFailure, Spread, numbers};
use crate::generator::Items;
use crate::vocab::{format_number, io_reason};
use crate::worker;
use crate::workload::{BuiltinSpec, CommandSpec, Params, Protocol};

/// Chunks a worker may have unanswered: one it works on and one waiting in
/// its pipe, so it never waits for the runner between chunks. A third cut
/// the cost of chunk size 1 on fast items by a quarter but left up to two
/// chunks queued behind a busy worker at the end of the list while the
/// other sat idle (speedup 1.75 instead of 1.85 on 200 slow items).
const IN_FLIGHT: usize = 2;

/// Set (to anything), a builtin pool's chunks go through its pipes rather
/// than through shared memory (docs/RESULTS.md).
const NO_SHARED_MEMORY: &str = "PARBENCH_NO_SHARED_MEMORY";

pub fn run_builtin(
    spec: &BuiltinSpec,
    params: &Params,
    items: &Items,
    out: Vec<f64>,
    spread: Spread<'_>,
    cutoff: &Cutoff,
    notice: &mut dyn FnMut(String),
) -> Result<Execution, Failed> {
    let numbers = numbers(items)?;
    // /proc/self/exe is this very binary even after `cargo install` has
    // replaced the file it was started from; the path may name a new
    // version by then, or nothing.
    let exe = match Path::new("/proc/self/exe") {
        proc if proc.exists() => proc.to_path_buf(),
        _ => std::env::current_exe()
            .map_err(|error| RunFailure::Failed(format!("cannot find parbench's own executable: {error}")))?,
    };
    let args = worker::args(spec, params);
    // Ready: every worker has started, built its kernel and said so.
    let ready = |_: usize, worker: &mut Worker| {
        worker::read_ready(worker.stdout.as_mut().expect("stdout is piped"))
            .map_err(|error| RunFailure::Failed(error.to_string()))
    };
    // The largest chunk a worker can be sent, for its slots in the arena.
    let slot = spread.chunk_size.unwrap_or(MAX_CHUNK).min(numbers.len()).max(1);
    let started = Instant::now();
    // Where shared memory cannot be had (or is declined), the chunks go
    // through the pipes.
    let arena = (spread.workers * IN_FLIGHT)
        .checked_mul(slot * 16)
        .filter(|_| std::env::var_os(NO_SHARED_MEMORY).is_none())
        .and_then(|bytes| worker::Arena::create(bytes).ok());
    let start = |pool: &mut Vec<Worker>| {
        fork_pool(&exe, &args, spread.workers, spread.cpus, arena.as_ref().map(worker::Arena::fd), pool)
    };
    let mut pool = start_pool(start, ready)?;
    let setup = started.elapsed();
    match &arena {
        Some(arena) => {
            let codec = SharedCodec { items: numbers, arena, slot };
            serve_pool(&codec, &mut pool, out, &spread, setup, cutoff, notice)
        }
        None => serve_pool(&BinaryCodec { items: numbers }, &mut pool, out, &spread, setup, cutoff, notice),
    }
}

/// The part every pool shares once its workers are ready: hands `out`'s
/// chunks to the workers as they free up and gathers the run's execution.
fn serve_pool<C: Codec>(
    codec: &C,
    pool: &mut [Worker],
    mut out: Vec<C::Out>,
    spread: &Spread<'_>,
    setup: Duration,
    cutoff: &Cutoff,
    notice: &mut dyn FnMut(String),
) -> Result<Execution, Failed>
where
    Outputs: From<Vec<C::Out>>,
{
    let chunks = match spread.chunk_size {
        Some(size) => Chunks::new(&mut out, size),
        None => Chunks::guided(&mut out, spread.workers),
    };
    let ended = drive(codec, pool, chunks, cutoff, notice)?;
    Ok(Execution {
        outputs: Outputs::from(out),
        setup: Some(setup),
        finish: ended.stop,
        stderr: ended.stderr,
        children_peak_rss: Some(ended.peak_rss),
        timed: None,
        python: None,
    })
}

pub fn run_command(
    command: &CommandSpec,
    items: &Items,
    spread: Spread<'_>,
    cutoff: &Cutoff,
    notice: &mut dyn FnMut(String),
) -> Result<Execution, Failed> {
    let Spread { workers, cwd, cpus, .. } = spread;
    match command.protocol {
        Protocol::Argv => run_argv(command, items, spread, cutoff),
        Protocol::Lines => {
            let program = || {
                let mut program = Command::new(&command.program);
                program.args(command.args_for("")).current_dir(cwd);
                program
            };
            let started = Instant::now();
            // A started worker is ready (the spawn returns once the program
            // runs; a failed exec is reported by the spawn itself) once it
            // has printed its ready line, where the command declares one.
            let ready = |index: usize, worker: &mut Worker| match &command.ready {
                None => Ok(()),
                Some(line) => await_ready_line(worker, index, line, cutoff),
            };
            let start = |pool: &mut Vec<Worker>| {
                for index in 0..workers {
                    let worker = spawn(program(), &command.program)?;
                    // Pinned as it starts; threads it starts later inherit it.
                    if let Some(cpus) = cpus {
                        crate::affinity::pin_process(worker.pid, cpus[index]);
                    }
                    pool.push(worker);
                }
                Ok(())
            };
            let mut pool = start_pool(start, ready)?;
            let setup = started.elapsed();
            let out = vec![String::new(); items.len()];
            serve_pool(&LineCodec { items }, &mut pool, out, &spread, setup, cutoff, notice)
        }
    }
}

// ---------------------------------------------------------------- the pool

/// One child process of a pool.
struct Worker {
    pid: u32,
    stdin: Option<File>,
    stdout: Option<File>,
    /// Standard error goes to an unnamed temporary file, read after the run:
    /// no thread, and no pipe that could fill up.
    stderr: File,
    /// How it ended, once it has been waited for (its pid may then name
    /// another process, which must not be killed or waited for).
    ended: Option<ExitStatus>,
}

impl Worker {
    /// Waits for the worker to end, at most `patience` (`None`: as long as
    /// it takes), and reaps it; its status, or `None` if it is still running.
    fn wait(&mut self, patience: Option<Duration>) -> Option<ExitStatus> {
        if self.ended.is_none() {
            self.ended = reap(self.pid, patience);
        }
        self.ended
    }

    /// Kills the worker's process group, unless the worker was reaped.
    fn kill(&self) {
        if self.ended.is_none() {
            kill_group(self.pid);
        }
    }

    /// Kills and reaps it, and forgets its group.
    fn end(&mut self) {
        self.kill();
        self.wait(None);
        crate::interrupt::untrack_group(self.pid as i32);
    }

    /// ", exited with status 3: first stderr line" once the process ends.
    fn describe_exit(&mut self, patience: Duration) -> String {
        let mut text = match self.wait(Some(patience)) {
            Some(status) => format!(", {}", describe_status(status)),
            None => String::new(),
        };
        if let Some(line) = telling_line(&read_all(&mut self.stderr)) {
            text.push_str(&format!(": {line}"));
        }
        text
    }
}

/// Waits up to `patience` (or for ever) for child `pid` to end, then reaps
/// it; `None` if it is still running (or is not a child to wait for).
fn reap(pid: u32, patience: Option<Duration>) -> Option<ExitStatus> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    if let Some(patience) = patience
        && !memory::await_exit(pid, patience)
    {
        return None;
    }
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes the status we own.
        match unsafe { libc::waitpid(pid, &mut status, 0) } {
            -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => continue,
            -1 => return None,
            _ => return Some(ExitStatus::from_raw(status)),
        }
    }
}

/// Starts a pool's workers with `start` (which adds them to the pool as
/// they start) and waits until every one is `ready`. If one cannot start,
/// the others are killed and the run fails.
///
/// The workers start side by side and are awaited afterwards, so that the
/// pool is ready in about the time of its slowest start plus a spawn or a
/// fork each, not the sum of their starts.
fn start_pool(
    start: impl FnOnce(&mut Vec<Worker>) -> Result<(), RunFailure>,
    ready: impl Fn(usize, &mut Worker) -> Result<(), RunFailure>,
) -> Result<Vec<Worker>, RunFailure> {
    let mut pool = Vec::new();
    let mut failure = start(&mut pool).err();
    if failure.is_none() {
        for (index, worker) in pool.iter_mut().enumerate() {
            match ready(index, worker) {
                Ok(()) => {}
                Err(RunFailure::Failed(error)) => {
                    worker.kill();
                    let why = worker.describe_exit(Duration::from_secs(1));
                    failure =
                        Some(RunFailure::Failed(format!("worker {} did not start: {error}{why}", index + 1)));
                    break;
                }
                Err(other) => {
                    failure = Some(other);
                    break;
                }
            }
        }
    }
    match failure {
        None => Ok(pool),
        Some(failure) => {
            pool.iter_mut().for_each(Worker::end);
            Err(failure)
        }
    }
}

/// Requests the fork server may have unanswered: enough to keep it forking
/// while the runner makes the next worker's pipes, few enough that the
/// descriptors in flight stay far below any open-file limit.
const FORK_WINDOW: usize = 8;

/// Starts `workers` of parbench's own workers through one fork server
/// (`parbench __worker --fork-server`, see [`worker::fork_workers`]): one
/// exec for the whole pool, then a fork per worker, each the runner's own
/// child; the server becomes the last worker itself. On 2 cores, 8 workers
/// started by exec took 7 times as long as 1; a fork of the small server
/// costs a fifth of an exec. The runner makes each worker's pipes and
/// stderr file and sends them over a Unix socket; the server answers with
/// the worker's pid.
fn fork_pool(
    exe: &Path,
    args: &[String],
    workers: usize,
    cpus: Option<&[usize]>,
    arena: Option<std::os::fd::BorrowedFd<'_>>,
    pool: &mut Vec<Worker>,
) -> Result<(), RunFailure> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
    let (ours, theirs) = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)
        .map_err(|error| {
        RunFailure::Failed(format!("cannot create a socket for the worker pool: {error}"))
    })?;
    let (mut stderr, stderr_for_child) = own_stderr_file()?;
    reaper::adopt_orphans();
    let (first, rest) = args.split_first().expect("the worker's arguments start with its command");
    let mut server = Command::new(exe)
        .arg(first)
        .arg(worker::FORK_SERVER)
        .args(rest)
        // The server asks for its parent-death signal itself (worker.rs):
        // no pre_exec here, so that std spawns it with posix_spawn.
        .env(worker::PARENT_ENV, std::process::id().to_string())
        .stdin(Stdio::from(theirs))
        .stdout(Stdio::null())
        .stderr(Stdio::from(stderr_for_child))
        .process_group(0)
        .spawn()
        .map_err(|error| spawn_failure("parbench worker", &error))?;
    crate::interrupt::track_group(server.id() as i32);
    match request_workers(&ours, workers, cpus, arena, pool) {
        Ok(()) => {
            // The server is the last worker now, tracked and waited for as
            // that worker.
            crate::interrupt::untrack_group(server.id() as i32);
            Ok(())
        }
        Err(why) => {
            kill_group(server.id());
            let status = server.wait().ok();
            crate::interrupt::untrack_group(server.id() as i32);
            let said = telling_line(&read_all(&mut stderr))
                .or_else(|| status.filter(|status| !status.success()).map(describe_status));
            let why = match said {
                Some(said) => format!("{why} (the fork server: {said})"),
                None => why,
            };
            Err(RunFailure::Failed(format!("cannot start worker {}: {why}", pool.len() + 1)))
        }
    }
}

/// Sends the fork server a request per worker, a window at a time, and
/// adds each worker it starts to `pool`; why not, if one did not start.
fn request_workers(
    socket: &OwnedFd,
    workers: usize,
    cpus: Option<&[usize]>,
    arena: Option<std::os::fd::BorrowedFd<'_>>,
    pool: &mut Vec<Worker>,
) -> Result<(), String> {
    use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
    use std::collections::VecDeque;
    use std::os::fd::AsRawFd;
    let mut waiting: VecDeque<(File, File, File)> = VecDeque::new();
    let mut sent = 0;
    while pool.len() < workers {
        while sent < workers && waiting.len() < FORK_WINDOW {
            let pipe = |what: &str| {
                io::pipe().map_err(|error| format!("cannot create its {what} pipe: {}", io_reason(&error)))
            };
            let (child_stdin, stdin) = pipe("input")?;
            let (stdout, child_stdout) = pipe("output")?;
            let (stderr, child_stderr) = own_stderr_file().map_err(|failure| failure.to_string())?;
            let cpu = cpus.map_or(-1, |cpus| cpus[sent] as i32).to_le_bytes();
            let last = u32::from(sent + 1 == workers).to_le_bytes();
            let request = [cpu, last].concat();
            let mut fds = vec![child_stdin.as_raw_fd(), child_stdout.as_raw_fd(), child_stderr.as_raw_fd()];
            fds.extend(arena.map(|arena| arena.as_raw_fd()));
            sendmsg::<()>(
                socket.as_raw_fd(),
                &[io::IoSlice::new(&request)],
                &[ControlMessage::ScmRights(&fds)],
                MsgFlags::MSG_NOSIGNAL,
                None,
            )
            .map_err(|error| format!("cannot ask for it: {error}"))?;
            waiting.push_back((File::from(OwnedFd::from(stdin)), File::from(OwnedFd::from(stdout)), stderr));
            sent += 1;
        }
        let mut answer = [0u8; 1024];
        let got = loop {
            // SAFETY: reads into the buffer we own.
            match unsafe { libc::read(socket.as_raw_fd(), answer.as_mut_ptr().cast(), answer.len()) } {
                -1 if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => continue,
                -1 => return Err(format!("no answer: {}", io_reason(&io::Error::last_os_error()))),
                got => break got as usize,
            }
        };
        let (stdin, stdout, stderr) = waiting.pop_front().expect("an answer follows a request");
        match &answer[..got] {
            [] => return Err("the fork server ended".to_owned()),
            [worker::STARTED, pid @ ..] if pid.len() == 4 => {
                let pid = i32::from_le_bytes(pid.try_into().expect("four bytes"));
                // Its own process group, set by its parent as well as by
                // itself, so that it exists from here on whichever runs first.
                // SAFETY: setpgid on our own child has no memory effects.
                unsafe { libc::setpgid(pid, pid) };
                crate::interrupt::track_group(pid);
                let pid = pid as u32;
                pool.push(Worker { pid, stdin: Some(stdin), stdout: Some(stdout), stderr, ended: None });
            }
            [worker::NOT_STARTED, why @ ..] => return Err(String::from_utf8_lossy(why).into_owned()),
            _ => return Err("the fork server answered something else".to_owned()),
        }
    }
    Ok(())
}

/// A file in memory for the stderr of one of parbench's own workers, which
/// write there only why they failed, and a second handle to give the
/// worker. A `memfd` is made in a third of the time of a file in the
/// temporary folder (5 µs against 13 µs on a 2-vCPU VM with /tmp on ext4),
/// and a pool makes one a worker while its start is timed. Where the
/// kernel refuses, a temporary file.
fn own_stderr_file() -> Result<(File, File), RunFailure> {
    use nix::sys::memfd::{MFdFlags, memfd_create};
    match memfd_create(c"parbench-worker-stderr", MFdFlags::MFD_CLOEXEC) {
        Ok(memory) => with_second_handle(File::from(memory)),
        Err(_) => stderr_file(),
    }
}

/// An unnamed temporary file for a process's stderr, and a second handle
/// to give the process: on disk, as a user's program may write a lot there.
fn stderr_file() -> Result<(File, File), RunFailure> {
    let file = tempfile::tempfile()
        .map_err(|error| RunFailure::Failed(format!("cannot create a temporary file for stderr: {error}")))?;
    with_second_handle(file)
}

fn with_second_handle(file: File) -> Result<(File, File), RunFailure> {
    let for_child = file
        .try_clone()
        .map_err(|error| RunFailure::Failed(format!("cannot share the stderr file: {error}")))?;
    Ok((file, for_child))
}

/// Reads worker `index`'s first line, byte by byte so that nothing after it
/// is taken from the pipe, and fails unless it is `line`; gives up at the
/// run's cut-off.
fn await_ready_line(
    worker: &mut Worker,
    index: usize,
    line: &str,
    cutoff: &Cutoff,
) -> Result<(), RunFailure> {
    use std::os::fd::AsRawFd;
    // A ready line is short; a worker that prints this much without a line
    // break is not printing it.
    const LONGEST: usize = 64 * 1024;
    let stdout = worker.stdout.as_mut().expect("stdout is piped");
    let mut got = Vec::new();
    loop {
        let mut poll = libc::pollfd { fd: stdout.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        let wait = cutoff.slice().as_millis().max(1) as libc::c_int;
        // SAFETY: one valid pollfd for the duration of the call.
        let ready = unsafe { libc::poll(&mut poll, 1, wait) };
        if ready == 0 || (ready < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted) {
            if cutoff.passed() {
                return Err(match cutoff.failure() {
                    RunFailure::Timeout(limit, _) => RunFailure::Timeout(
                        limit,
                        Some(format!("worker {} had not printed its ready line \"{line}\"", index + 1)),
                    ),
                    other => other,
                });
            }
            continue;
        }
        let mut byte = [0u8; 1];
        match stdout.read(&mut byte) {
            Ok(0) => {
                return Err(RunFailure::Failed(format!(
                    "it exited before printing its ready line \"{line}\""
                )));
            }
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) if got.len() >= LONGEST => break,
            Ok(_) => got.push(byte[0]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                return Err(RunFailure::Failed(format!(
                    "cannot read its ready line \"{line}\": {}",
                    io_reason(&error)
                )));
            }
        }
    }
    let got = String::from_utf8_lossy(&got);
    let got = got.strip_suffix('\r').unwrap_or(&got);
    if got == line {
        return Ok(());
    }
    let got: String = got.chars().take(80).collect();
    Err(RunFailure::Failed(format!("it printed \"{got}\" instead of its ready line \"{line}\"")))
}

/// Starts one worker of a `lines` pool: the user's `program`, in a process
/// group of its own.
fn spawn(mut command: Command, program: &str) -> Result<Worker, RunFailure> {
    let (stderr, stderr_for_child) = stderr_file()?;
    reaper::adopt_orphans();
    // SAFETY: getpid before the fork; the closure, run in the child,
    // calls only prctl, getppid and _exit, which are async-signal-safe.
    let parent = unsafe { libc::getpid() };
    unsafe {
        command.pre_exec(move || {
            // A worker dies with parbench, even a parbench killed with
            // -9. A user's program cannot be asked to do this itself, so
            // commands pay for a fork (parbench's workers do not).
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr_for_child))
        .process_group(0)
        .spawn()
        .map_err(|error| spawn_failure(program, &error))?;
    crate::interrupt::track_group(child.id() as i32);
    let stdin = child.stdin.take().map(|pipe| File::from(OwnedFd::from(pipe)));
    let stdout = child.stdout.take().map(|pipe| File::from(OwnedFd::from(pipe)));
    // Waited for by pid from here on (std's handle does not wait on drop).
    Ok(Worker { pid: child.id(), stdin, stdout, stderr, ended: None })
}

fn spawn_failure(program: &str, error: &io::Error) -> RunFailure {
    RunFailure::Failed(format!("cannot start \"{program}\": {}", io_reason(error)))
}

fn kill_group(pid: u32) {
    // SAFETY: killpg has no memory effects; a stale group id fails with ESRCH.
    unsafe {
        libc::killpg(pid as libc::pid_t, libc::SIGKILL);
    }
}

/// The process group each slot (a pool worker, or an argv slot's current
/// child) runs now, so that the watcher can kill what is running.
struct Live(Vec<Mutex<Option<u32>>>);

impl Live {
    fn new(slots: usize) -> Self {
        Live((0..slots).map(|_| Mutex::new(None)).collect())
    }

    fn set(&self, slot: usize, pid: Option<u32>) {
        *self.0[slot].lock().unwrap_or_else(|poison| poison.into_inner()) = pid;
    }

    /// Kills the group of every slot but `spared`.
    fn kill(&self, spared: Option<usize>) {
        for (slot, pid) in self.0.iter().enumerate() {
            if Some(slot) != spared
                && let Some(pid) = *pid.lock().unwrap_or_else(|poison| poison.into_inner())
            {
                kill_group(pid);
            }
        }
    }
}

/// What a slot's thread tells the watcher.
enum Note {
    /// A pool worker's reader holds every result of that worker, the last
    /// taken at this instant (`None`: the worker got no chunk).
    AllIn(Option<Instant>),
    /// A thread of a slot ended, and why it failed.
    Ended(Result<(), String>),
}

/// The one watch-and-kill loop, on the runner's own thread, for pools and
/// argv slots alike: it waits for `threads` threads of the slots to end, and
/// stops the run at the first failure or when the cut-off comes. When
/// `holders` readers have said [`Note::AllIn`] and nothing failed, it calls
/// `all_in` with the instant of the last result, before the workers end.
///
/// With `answers` (a `lines` pool's lines sent and answered, per worker),
/// it tells `notice` when no worker has answered for [`QUIET`], and the
/// timeout's error names the workers still owing answers: the usual cause
/// is a program that does not flush its output after each line.
fn watch(
    notes: &mpsc::Receiver<Note>,
    threads: usize,
    holders: usize,
    (live, abort, cutoff): (&Live, &AtomicBool, &Cutoff),
    mut all_in: impl FnMut(Option<Instant>),
    (answers, notice): (Option<&[Answers]>, &mut dyn FnMut(String)),
) -> Option<RunFailure> {
    let mut failure = None;
    let mut running = threads;
    let (mut holding, mut last) = (0, None);
    let answered = || answers.map(|answers| answers.iter().map(Answers::answered).collect::<Vec<_>>());
    let mut last_answered = answered();
    let mut quiet_since = Instant::now();
    let mut told = false;
    while running > 0 {
        match notes.recv_timeout(cutoff.slice()) {
            Ok(Note::AllIn(at)) => {
                holding += 1;
                last = last.max(at);
                if holding == holders && failure.is_none() {
                    all_in(last);
                }
            }
            Ok(Note::Ended(Ok(()))) => running -= 1,
            Ok(Note::Ended(Err(message))) => {
                running -= 1;
                failure.get_or_insert(RunFailure::Failed(message));
                abort.store(true, Ordering::Relaxed);
                // The failed slot's processes go too: a worker that failed
                // but lives on, not reading, would hold its writer thread,
                // and the run, until it chose to exit.
                stop(notes, &mut running, live);
            }
            Err(RecvTimeoutError::Timeout) if !cutoff.passed() => {
                let now = answered();
                if now != last_answered {
                    (last_answered, quiet_since, told) = (now, Instant::now(), false);
                } else if !told
                    && quiet_since.elapsed() >= QUIET
                    && let Some(owing) = answers.and_then(owing)
                {
                    told = true;
                    notice(format!("{owing} for {} s", QUIET.as_secs()));
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                failure.get_or_insert_with(|| match cutoff.failure() {
                    RunFailure::Timeout(limit, _) => RunFailure::Timeout(limit, answers.and_then(owing)),
                    other => other,
                });
                abort.store(true, Ordering::Relaxed);
                stop(notes, &mut running, live);
            }
            Err(RecvTimeoutError::Disconnected) => running = 0,
        }
    }
    failure
}

/// How long a `lines` pool may go without an answer before the user is told.
const QUIET: Duration = Duration::from_secs(3);

/// Lines sent to one worker of a `lines` pool, and lines it answered.
#[derive(Default)]
struct Answers {
    sent: std::sync::atomic::AtomicUsize,
    answered: std::sync::atomic::AtomicUsize,
}

impl Answers {
    fn answered(&self) -> usize {
        self.answered.load(Ordering::Relaxed)
    }
}

/// `worker 1 has answered 0 of 2 lines; does it flush …?`, for the workers
/// that owe answers, if any.
fn owing(answers: &[Answers]) -> Option<String> {
    let owing: Vec<String> = answers
        .iter()
        .enumerate()
        .filter_map(|(index, answers)| {
            let (sent, answered) = (answers.sent.load(Ordering::Relaxed), answers.answered());
            (answered < sent).then(|| format!("worker {} has answered {answered} of {sent} lines", index + 1))
        })
        .collect();
    (!owing.is_empty()).then(|| {
        format!(
            "{}; does it flush its output after each line (Python: print(..., flush=True))?",
            owing.join(", ")
        )
    })
}

/// Ends an abandoned run: kills every slot's process group and every
/// descendant of parbench, again and again until every thread has ended.
/// An argv slot may be between spawn and registering its pid; a child that
/// left its group (`setsid`) may hold a pipe open, and is found only as a
/// descendant (an orphaned one comes back to parbench, its subreaper).
fn stop(notes: &mpsc::Receiver<Note>, running: &mut usize, live: &Live) {
    while *running > 0 {
        live.kill(None);
        reaper::kill_descendants();
        match notes.recv_timeout(Duration::from_millis(20)) {
            Ok(Note::Ended(_)) => *running -= 1,
            Ok(Note::AllIn(_)) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => *running = 0,
        }
    }
}

/// How a pool's run ended.
struct PoolEnd {
    /// The end of the timed region: the last result in hand.
    stop: Finish,
    /// Whatever the workers wrote to stderr.
    stderr: Vec<String>,
    /// The sum of the workers' peak resident memory, in bytes.
    peak_rss: u64,
}

/// Moves items to workers and results back.
///
/// The clock stops when every reader holds its worker's last result, while
/// every worker still waits for input: only then are the workers' stdins
/// closed, so that their end of output, exit and reaping all come after
/// the timed region, as a thread pool's teardown does, and their CPU time is
/// read at that moment.
fn drive<C: Codec>(
    codec: &C,
    pool: &mut [Worker],
    chunks: Chunks<'_, C::Out>,
    cutoff: &Cutoff,
    notice: &mut dyn FnMut(String),
) -> Result<PoolEnd, Failed> {
    let answers: Vec<Answers> = (0..pool.len()).map(|_| Answers::default()).collect();
    let abort = AtomicBool::new(false);
    let live = Live::new(pool.len());
    let pids: Vec<u32> = pool.iter().map(|worker| worker.pid).collect();
    let (notes_tx, notes_rx) = mpsc::channel::<Note>();
    // Each writer hands its worker's stdin back here once it has sent every
    // chunk it will send; the pipes close after the clock stops.
    let (stdin_tx, stdin_rx) = mpsc::channel::<BufWriter<File>>();
    let mut stop = None;

    let failure = std::thread::scope(|scope| {
        for (index, worker) in pool.iter_mut().enumerate() {
            live.set(index, Some(worker.pid));
            let pid = worker.pid;
            let stdin = worker.stdin.take().expect("stdin is piped");
            let stdout = worker.stdout.take().expect("stdout is piped");
            let (credit_tx, credit_rx) = mpsc::sync_channel::<()>(IN_FLIGHT);
            for _ in 0..IN_FLIGHT {
                credit_tx.send(()).expect("the channel has room");
            }
            // Each chunk sent, its output, and when: the reader fills the
            // output from the answer and times it.
            let (order_tx, order_rx) = mpsc::channel::<(Lane, &mut [C::Out], Instant)>();
            let (chunks, abort, stdin_tx, answers) = (&chunks, &abort, stdin_tx.clone(), &answers[index]);
            let writer_notes = notes_tx.clone();
            let notes_tx = notes_tx.clone();
            scope.spawn(move || {
                let mut writer = BufWriter::with_capacity(1 << 16, stdin);
                let mut frame = Vec::new();
                let mut lane = Lane { worker: index, chunk: 0 };
                while !abort.load(Ordering::Relaxed) {
                    let credit = match credit_rx.try_recv() {
                        Ok(()) => Ok(()),
                        Err(TryRecvError::Empty) => {
                            // About to wait: whatever is buffered must reach
                            // the worker first, or it waits for us.
                            if writer.flush().is_err() {
                                break;
                            }
                            credit_rx.recv().map_err(|_| ())
                        }
                        Err(TryRecvError::Disconnected) => Err(()),
                    };
                    if credit.is_err() {
                        break;
                    }
                    let Some((range, out)) = chunks.claim() else {
                        break;
                    };
                    frame.clear();
                    let lines = range.len();
                    codec.encode(lane, range, &mut frame);
                    if order_tx.send((lane, out, Instant::now())).is_err()
                        || writer.write_all(&frame).is_err()
                    {
                        break;
                    }
                    lane.chunk += 1;
                    answers.sent.fetch_add(lines, Ordering::Relaxed);
                }
                // Closing stdin tells the worker there is no more work: not
                // yet, while the clock runs (see above).
                if writer.flush().is_ok() {
                    let _ = stdin_tx.send(writer);
                }
                drop(order_tx);
                let _ = writer_notes.send(Note::Ended(Ok(())));
            });
            scope.spawn(move || {
                let mut reader = BufReader::with_capacity(1 << 16, stdout);
                let mut done = 0usize;
                let mut answered = None;
                let result = loop {
                    let Ok((lane, slot, sent)) = order_rx.recv() else {
                        let _ = notes_tx.send(Note::AllIn(answered));
                        break codec.finish(&mut reader, done);
                    };
                    if let Err(error) = codec.decode(lane, &mut reader, slot, done) {
                        break Err(error);
                    }
                    done += slot.len();
                    let now = Instant::now();
                    chunks.observe(slot.len(), now - sent);
                    answered = Some(now);
                    answers.answered.store(done, Ordering::Relaxed);
                    let _ = credit_tx.send(());
                };
                let result = result.map_err(|error| format!("worker {} (pid {pid}) {error}", index + 1));
                let _ = notes_tx.send(Note::Ended(result));
            });
        }
        drop((notes_tx, stdin_tx));
        // Two threads a worker, its writer and its reader; one reader holds
        // each worker's results.
        let all_in = |last: Option<Instant>| {
            let now = Finish::now(&pids);
            stop = Some(Finish { at: last.unwrap_or(now.at), cpu: now.cpu });
            stdin_rx.try_iter().for_each(drop);
        };
        let answers = C::LINES.then_some(&answers[..]);
        watch(&notes_rx, 2 * pool.len(), pool.len(), (&live, &abort, cutoff), all_in, (answers, notice))
    });
    drop(stdin_rx);
    let mut failure = failure;

    // The clock has stopped: each worker's peak memory is read from the
    // kernel as it exits, before it is reaped.
    let mut stderr = Vec::new();
    let mut budget = StderrBudget::new();
    let mut peak_rss = 0;
    for (index, worker) in pool.iter_mut().enumerate() {
        let patience = Duration::from_secs(5);
        let waiting = Instant::now();
        peak_rss += memory::exited_child_peak(worker.pid, patience).unwrap_or(0);
        let status = worker.wait(Some(patience.saturating_sub(waiting.elapsed())));
        // Grandchildren a command left behind go with their group (reaping
        // the leader does not end the group while they are in it).
        kill_group(worker.pid);
        if status.is_none() {
            worker.end();
        }
        crate::interrupt::untrack_group(worker.pid as i32);
        let text = budget.read(&mut worker.stderr);
        let first = telling_line(&text).map(|line| format!(": {line}")).unwrap_or_default();
        match &mut failure {
            Some(RunFailure::Failed(message)) if message.starts_with(&format!("worker {} ", index + 1)) => {
                if let Some(status) = status {
                    message.push_str(&format!(" ({})", describe_status(status)));
                }
                message.push_str(&first);
            }
            // Every answer in, and then a crash or an exit status other
            // than 0: the worker says its work went wrong.
            None if status.is_some_and(|status| !status.success()) => {
                failure = Some(RunFailure::Failed(format!(
                    "worker {} (pid {}) {} after its last answer{first}",
                    index + 1,
                    worker.pid,
                    describe_status(status.expect("checked above"))
                )));
            }
            _ => {}
        }
        stderr.extend(text.lines().map(|line| format!("worker {}: {line}", index + 1)));
    }
    stderr.extend(budget.note());
    reaper::end_leftovers();
    match (failure, stop) {
        (Some(failure), _) => Err(Failed { failure, stderr }),
        (None, Some(stop)) => Ok(PoolEnd { stop, stderr, peak_rss }),
        (None, None) => Err(Failed {
            failure: RunFailure::Failed("the pool ended without all of its results".to_owned()),
            stderr,
        }),
    }
}

/// How items are written to a worker and results read back.
trait Codec: Sync {
    /// Items are lines of text to a program of the user's, which may forget
    /// to flush its answers.
    const LINES: bool = false;
    type Out: Send;
    fn encode(&self, lane: Lane, range: Range<usize>, frame: &mut Vec<u8>);
    /// Fills `out` with the results of one chunk; `done` counts the items
    /// this worker answered before, for the error message.
    fn decode(
        &self,
        lane: Lane,
        reader: &mut BufReader<File>,
        out: &mut [Self::Out],
        done: usize,
    ) -> Result<(), String>;
    /// After the last chunk: the worker must have nothing more to say.
    fn finish(&self, reader: &mut BufReader<File>, done: usize) -> Result<(), String> {
        let mut extra = [0u8; 1];
        match reader.read(&mut extra) {
            Ok(0) => Ok(()),
            Ok(_) => Err(format!("sent more results than the {done} items it was given")),
            Err(error) => Err(format!("failed after {done} items: {error}")),
        }
    }
}

/// Numbers as raw little-endian f64 behind a u32 count, both ways.
struct BinaryCodec<'a> {
    items: &'a [f64],
}

impl Codec for BinaryCodec<'_> {
    type Out = f64;

    fn encode(&self, _: Lane, range: Range<usize>, frame: &mut Vec<u8>) {
        worker::encode_frame(&self.items[range], frame);
    }

    fn decode(
        &self,
        _: Lane,
        reader: &mut BufReader<File>,
        out: &mut [f64],
        done: usize,
    ) -> Result<(), String> {
        worker::read_frame(reader, out).map_err(|error| answer_error(&error, done))
    }
}

fn answer_error(error: &io::Error, done: usize) -> String {
    match error.kind() {
        io::ErrorKind::UnexpectedEof => format!("stopped answering after {done} items"),
        _ => format!("failed after {done} items: {error}"),
    }
}

/// Which worker a chunk goes to, and how many chunks it was sent before.
#[derive(Debug, Clone, Copy)]
struct Lane {
    worker: usize,
    chunk: usize,
}

/// Numbers through a [`worker::Arena`]: each worker has [`IN_FLIGHT`] slots
/// of `slot` items and as many results, used in turn. A frame carries only
/// the count and the slot's offset, an answer only the count. A slot is
/// written again only after its chunk was answered and read: the worker's
/// credits (see `drive`) come back one per answer read, in order.
struct SharedCodec<'a> {
    items: &'a [f64],
    arena: &'a worker::Arena,
    slot: usize,
}

impl SharedCodec<'_> {
    /// The byte offset of `lane`'s slot.
    fn offset(&self, lane: Lane) -> usize {
        (lane.worker * IN_FLIGHT + lane.chunk % IN_FLIGHT) * self.slot * 16
    }
}

impl Codec for SharedCodec<'_> {
    type Out = f64;

    fn encode(&self, lane: Lane, range: Range<usize>, frame: &mut Vec<u8>) {
        let offset = self.offset(lane);
        let count = range.len();
        // SAFETY: the slot is the runner's: its last chunk was answered and
        // read before this chunk's credit came back (see the type).
        unsafe { self.arena.put(offset, &self.items[range]) };
        frame.extend_from_slice(&(count as u32 | worker::IN_ARENA).to_le_bytes());
        frame.extend_from_slice(&(offset as u64).to_le_bytes());
    }

    fn decode(
        &self,
        lane: Lane,
        reader: &mut BufReader<File>,
        out: &mut [f64],
        done: usize,
    ) -> Result<(), String> {
        let mut answer = [0u8; 4];
        reader.read_exact(&mut answer).map_err(|error| answer_error(&error, done))?;
        let count = u32::from_le_bytes(answer);
        if count != out.len() as u32 | worker::IN_ARENA {
            return Err(format!(
                "failed after {done} items: answered {count:#x} for a chunk of {} in shared memory",
                out.len()
            ));
        }
        // SAFETY: the worker has answered for this chunk and touches its
        // slot no more; the writer reuses it only after this credit returns.
        unsafe { self.arena.get(self.offset(lane) + 8 * out.len(), out) };
        Ok(())
    }
}

/// One item per line to stdin, one result per line from stdout.
struct LineCodec<'a> {
    items: &'a Items,
}

impl Codec for LineCodec<'_> {
    const LINES: bool = true;
    type Out = String;

    fn encode(&self, _: Lane, range: Range<usize>, frame: &mut Vec<u8>) {
        match self.items {
            Items::Numbers(numbers) => {
                for number in &numbers[range] {
                    frame.extend_from_slice(format_number(*number).as_bytes());
                    frame.push(b'\n');
                }
            }
            Items::Text(lines) | Items::Parsed { lines, .. } => {
                for line in &lines[range] {
                    frame.extend_from_slice(line.as_bytes());
                    frame.push(b'\n');
                }
            }
        }
    }

    fn decode(
        &self,
        _: Lane,
        reader: &mut BufReader<File>,
        out: &mut [String],
        done: usize,
    ) -> Result<(), String> {
        let mut line = Vec::new();
        for (offset, slot) in out.iter_mut().enumerate() {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(|error| format!("failed after {} items: {error}", done + offset))?;
            if read == 0 {
                return Err(format!(
                    "printed a line too few: its output ended after {} result lines, before the result for item {}",
                    done + offset,
                    done + offset + 1
                ));
            }
            let text = std::str::from_utf8(&line)
                .map_err(|_| format!("printed a line that is not UTF-8 as result {}", done + offset + 1))?;
            *slot = text.trim_end().to_owned();
        }
        Ok(())
    }

    fn finish(&self, reader: &mut BufReader<File>, done: usize) -> Result<(), String> {
        let mut extra = Vec::new();
        match reader.read_until(b'\n', &mut extra) {
            Ok(0) => Ok(()),
            Ok(_) => Err(format!(
                "printed a line too many: {:?} after the {done} results for its {done} items",
                String::from_utf8_lossy(&extra).trim_end()
            )),
            Err(error) => Err(format!("failed after {done} items: {error}")),
        }
    }
}

// ---------------------------------------------------------------- argv

/// One process per item, up to `workers` at once, each slot a thread that
/// claims the next item (a chunk of one), spawns, collects and waits.
fn run_argv(
    command: &CommandSpec,
    items: &Items,
    spread: Spread<'_>,
    cutoff: &Cutoff,
) -> Result<Execution, Failed> {
    let Spread { workers, cwd, cpus, .. } = spread;
    let mut out = vec![String::new(); items.len()];
    let chunks = Chunks::new(&mut out, 1);
    let abort = AtomicBool::new(false);
    let live = Live::new(workers);
    let stderr_lines: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let budget = Mutex::new(StderrBudget::new());
    // Each slot's largest process: slots run theirs one after another.
    let slot_peaks: Vec<AtomicU64> = (0..workers).map(|_| AtomicU64::new(0)).collect();
    let (notes_tx, notes_rx) = mpsc::channel::<Note>();
    reaper::adopt_orphans();

    let failure = std::thread::scope(|scope| {
        for (slot, slot_peak) in slot_peaks.iter().enumerate() {
            let (chunks, abort, live, stderr_lines, budget, notes_tx) =
                (&chunks, &abort, &live, &stderr_lines, &budget, notes_tx.clone());
            scope.spawn(move || {
                // A slot's processes inherit its thread's CPU.
                if let Some(cpus) = cpus {
                    crate::affinity::pin_current_thread(cpus[slot]);
                }
                let mut largest = 0;
                let result = (|| {
                    // Each item's stderr goes to this slot's file, not a
                    // pipe read into memory: a command may write gigabytes.
                    let mut stderr_file = tempfile::tempfile()
                        .map_err(|error| format!("cannot create a temporary file for stderr: {error}"))?;
                    while !abort.load(Ordering::Relaxed) {
                        let Some((range, out)) = chunks.claim() else {
                            return Ok(());
                        };
                        let index = range.start;
                        let item = items.text(index);
                        // std's Command, not subprocess: it spawns with
                        // posix_spawn (vfork) instead of fork, and this is
                        // the one place a spawn per item is the hot path:
                        // 2000 runs of /bin/true on 2 slots took 0.78 s
                        // against 0.97 s with fork, and xargs -P 2 took 0.99 s.
                        let child = std::process::Command::new(&command.program)
                            .args(command.args_for(&item))
                            .current_dir(cwd)
                            .stdin(std::process::Stdio::null())
                            .stdout(std::process::Stdio::piped())
                            .stderr(std::process::Stdio::from(
                                stderr_file
                                    .set_len(0)
                                    .and_then(|()| stderr_file.rewind())
                                    .and_then(|()| stderr_file.try_clone())
                                    .map_err(|error| format!("cannot reuse the stderr file: {error}"))?,
                            ))
                            .process_group(0)
                            .spawn()
                            .map_err(|error| {
                                format!("cannot start \"{}\": {}", command.program, io_reason(&error))
                            })?;
                        let pid = child.id();
                        crate::interrupt::track_group(pid as i32);
                        live.set(slot, Some(pid));
                        // Reads stdout to its end, then waits.
                        let output = memory::wait_with_output(child);
                        // Whatever the command left running goes with its group.
                        kill_group(pid);
                        crate::interrupt::untrack_group(pid as i32);
                        live.set(slot, None);
                        let (std::process::Output { status, stdout, .. }, peak) =
                            output.map_err(|error| format!("item {}: {error}", index + 1))?;
                        largest = largest.max(peak);
                        let stderr = budget.lock().unwrap_or_else(|p| p.into_inner()).read(&mut stderr_file);
                        if !stderr.trim().is_empty() {
                            let mut lines = stderr_lines.lock().unwrap_or_else(|p| p.into_inner());
                            lines.extend(stderr.lines().map(|line| format!("item {}: {line}", index + 1)));
                        }
                        if !status.success() {
                            use std::os::unix::process::ExitStatusExt;
                            let mut message = format!(
                                "\"{}\" {} on item {} ({item:?})",
                                command.program,
                                describe_exit(status.code(), status.signal()),
                                index + 1
                            );
                            if let Some(line) = telling_line(&stderr) {
                                message.push_str(&format!(": {line}"));
                            }
                            return Err(message);
                        }
                        let text = String::from_utf8(stdout)
                            .map_err(|_| format!("item {}: the output is not UTF-8", index + 1))?;
                        out[0] = text.trim_end().to_owned();
                    }
                    Ok(())
                })();
                slot_peak.store(largest, Ordering::Relaxed);
                let _ = notes_tx.send(Note::Ended(result));
            });
        }
        drop(notes_tx);
        watch(&notes_rx, workers, 0, (&live, &abort, cutoff), |_| {}, (None, &mut |_| {}))
    });
    // Every child is reaped: their CPU is among the runner's reaped children.
    let stop = Finish::now(&[]);
    reaper::end_leftovers();
    let mut stderr = stderr_lines.into_inner().unwrap_or_default();
    stderr.extend(budget.into_inner().unwrap_or_else(|p| p.into_inner()).note());
    if let Some(failure) = failure {
        return Err(Failed { failure, stderr });
    }
    Ok(Execution {
        outputs: Outputs::Text(out),
        // A process per item: no moment when "every worker can take work".
        setup: None,
        finish: stop,
        stderr,
        children_peak_rss: Some(slot_peaks.iter().map(|peak| peak.load(Ordering::Relaxed)).sum()),
        timed: None,
        python: None,
    })
}

// ---------------------------------------------------------------- helpers

fn describe_status(status: ExitStatus) -> String {
    describe_exit(status.code(), status.signal())
}

fn describe_exit(code: Option<i32>, signal: Option<i32>) -> String {
    if let Some(signal) = signal {
        let name = signal_name(signal);
        format!("was killed by signal {signal} ({name})")
    } else if let Some(code) = code {
        format!("exited with status {code}")
    } else {
        "ended in an unknown way".to_owned()
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGBUS => "SIGBUS",
        _ => "signal",
    }
}

fn read_all(file: &mut File) -> String {
    let mut text = Vec::new();
    if file.rewind().is_ok() {
        let _ = file.read_to_end(&mut text);
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// The line of a program's stderr that names what went wrong: the last
/// non-empty one (Python's exception after its traceback, a shell's last
/// complaint), cut at 300 bytes.
fn telling_line(text: &str) -> Option<String> {
    text.lines().map(str::trim).rfind(|line| !line.is_empty()).map(|line| {
        let mut line = line.to_owned();
        if line.len() > 300 {
            let cut = (0..=300).rev().find(|i| line.is_char_boundary(*i)).unwrap_or(0);
            line.truncate(cut);
            line.push('…');
        }
        line
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_telling_line_is_the_last_non_empty_one_truncated() {
        assert_eq!(
            telling_line("Traceback (most recent call last):\n  File \"x\"\nValueError: boom\n  \n"),
            Some("ValueError: boom".to_owned())
        );
        assert_eq!(telling_line(""), None);
        assert_eq!(telling_line(&"é".repeat(400)).unwrap().chars().count(), 151);
    }
}
