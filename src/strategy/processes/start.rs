//! Starting a pool: parbench's own workers through one fork server (or by
//! an exec each where the fork server's clone is not compiled), `lines`
//! workers by an exec each, and the wait for every worker to say it is
//! ready.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{Worker, read_all, telling_line};
use crate::child::{Pipes, ProcessGroup, Tether, describe_exit};
use crate::strategy::reaper;
use crate::strategy::{Cutoff, RunFailure};
use crate::vocab::io_reason;
use crate::worker;

/// Starts a pool's workers with `start` (which adds them to the pool as
/// they start) and waits until every one is `ready`. If one cannot start,
/// the others are killed and the run fails.
///
/// The workers start side by side and are awaited afterwards, so that the
/// pool is ready in about the time of its slowest start plus a spawn or a
/// fork each, not the sum of their starts.
pub(super) fn start_pool(
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
                    let why = worker.describe_end(Duration::from_secs(1));
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
            for worker in &mut pool {
                worker.end(Duration::ZERO);
            }
            Err(failure)
        }
    }
}

/// Requests the fork server may have unanswered: enough to keep it forking
/// while the runner makes the next worker's pipes, few enough that the
/// descriptors in flight stay far below any open-file limit.
const FORK_WINDOW: usize = 8;

/// A fork server (`parbench __worker --fork-server`, see
/// [`worker::fork_workers`]) kept for the runs of a group: exec'd once,
/// before any clock starts, it builds the kernel and then forks one worker
/// per request, each the runner's own child. A pool's start, timed, is then
/// a fork per worker, as a pool of Python's `fork` start method is, instead
/// of an exec of this binary (a program start, many times a fork) in every run. The runner
/// makes each worker's pipes and stderr file and sends them over a Unix
/// socket; the server answers with the worker's pid. It ends when the
/// socket closes, and is killed and reaped when this goes (its group's
/// drop, first of the fields, while the socket is still open).
pub struct ForkServer {
    group: ProcessGroup,
    socket: OwnedFd,
    stderr: File,
    /// The builtin and parameters it serves.
    args: Vec<String>,
}

impl ForkServer {
    pub(super) fn start(exe: &Path, args: &[String]) -> Result<ForkServer, RunFailure> {
        use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
        let (ours, theirs) =
            socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC).map_err(
                |error| RunFailure::Failed(format!("cannot create a socket for the worker pool: {error}")),
            )?;
        let (stderr, stderr_for_child) = own_stderr_file()?;
        reaper::adopt_orphans();
        let (first, rest) = args.split_first().expect("the worker's arguments start with its command");
        // The server ties itself to the runner (worker/): no pre_exec here,
        // so that std spawns it with posix_spawn.
        let (group, _) = crate::child::spawn(
            Command::new(exe)
                .arg(first)
                .arg(worker::FORK_SERVER)
                .args(rest)
                .stdin(Stdio::from(theirs))
                .stdout(Stdio::null())
                .stderr(Stdio::from(stderr_for_child)),
            Tether::Itself,
        )
        .map_err(|error| spawn_failure("parbench worker", &error))?;
        Ok(ForkServer { group, socket: ours, stderr, args: args.to_vec() })
    }

    /// Whether it serves `args`.
    pub(super) fn serves(&self, args: &[String]) -> bool {
        self.args == args
    }

    /// Whether it has not ended (a system call: asked before the clock).
    pub(super) fn alive(&self) -> bool {
        !self.group.exited_within(Duration::ZERO)
    }

    pub(super) fn pid(&self) -> u32 {
        self.group.pid()
    }

    /// Forks `workers` workers into `pool`, pinned to `cpus` where given,
    /// each handed the `arena`.
    pub(super) fn fork_pool(
        &mut self,
        workers: usize,
        cpus: Option<&[usize]>,
        arena: Option<std::os::fd::BorrowedFd<'_>>,
        pool: &mut Vec<Worker>,
    ) -> Result<(), RunFailure> {
        request_workers(&self.socket, workers, cpus, arena, pool).map_err(|why| {
            // Whatever the server said on its way out, or how it ended.
            let said = match self.group.exited_within(Duration::ZERO) {
                true => telling_line(&read_all(&mut self.stderr)).or_else(|| {
                    let status = self.group.end(Duration::ZERO).status;
                    status.filter(|status| !status.success()).map(describe_exit)
                }),
                false => None,
            };
            let why = match said {
                Some(said) => format!("{why} (the fork server: {said})"),
                None => why,
            };
            RunFailure::Failed(format!("cannot start worker {}: {why}", pool.len() + 1))
        })
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
    use std::os::fd::{AsFd, AsRawFd};
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
            let request = cpus.map_or(-1, |cpus| cpus[sent] as i32).to_le_bytes();
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
            match nix::unistd::read(socket.as_fd(), &mut answer) {
                Err(nix::errno::Errno::EINTR) => continue,
                Err(error) => return Err(format!("no answer: {}", io_reason(&io::Error::from(error)))),
                Ok(got) => break got,
            }
        };
        let (stdin, stdout, stderr) = waiting.pop_front().expect("an answer follows a request");
        match &answer[..got] {
            [] => return Err("the fork server ended".to_owned()),
            [worker::STARTED, pid @ ..] if pid.len() == 4 => {
                let pid = u32::from_le_bytes(pid.try_into().expect("four bytes"));
                // The runner's own child (see `worker::fork_workers`), put
                // in a group of its own here.
                pool.push(Worker::new(ProcessGroup::adopt_forked(pid), stdin, stdout, stderr));
            }
            [worker::NOT_STARTED, why @ ..] => return Err(String::from_utf8_lossy(why).into_owned()),
            _ => return Err("the fork server answered something else".to_owned()),
        }
    }
    Ok(())
}

/// A file in memory for the stderr of one of parbench's own workers, which
/// write there only why they failed, and a second handle to give the
/// worker. A `memfd` is made in a fraction of the time of a file in the
/// temporary folder, and a pool makes one a worker while its start is
/// timed. Where the
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
pub(super) fn await_ready_line(
    worker: &mut Worker,
    index: usize,
    line: &str,
    cutoff: &Cutoff,
) -> Result<(), RunFailure> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    // A ready line is short; a worker that prints this much without a line
    // break is not printing it.
    const LONGEST: usize = 64 * 1024;
    let stdout = worker.stdout.as_mut().expect("stdout is piped");
    let mut got = Vec::new();
    loop {
        let wait = PollTimeout::try_from(cutoff.slice().as_millis().max(1)).unwrap_or(PollTimeout::MAX);
        let ready = poll(&mut [PollFd::new(stdout.as_fd(), PollFlags::POLLIN)], wait);
        if matches!(ready, Ok(0) | Err(nix::errno::Errno::EINTR)) {
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
/// group of its own, killed when parbench dies (a user's program cannot be
/// asked to do this itself, so it pays for a fork; parbench's workers do
/// not).
pub(super) fn spawn(mut command: Command, program: &str) -> Result<Worker, RunFailure> {
    let (stderr, stderr_for_child) = stderr_file()?;
    reaper::adopt_orphans();
    let (group, pipes) = crate::child::spawn(
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::from(stderr_for_child)),
        Tether::Kill,
    )
    .map_err(|error| spawn_failure(program, &error))?;
    Ok(piped_worker(group, pipes, stderr))
}

/// Starts `workers` of parbench's own workers by one exec each, where the
/// fork server's raw clone was not argued for (see `worker::fork_server`):
/// their chunks go through the pipes.
pub(super) fn exec_pool(
    exe: &Path,
    args: &[String],
    workers: usize,
    cpus: Option<&[usize]>,
    pool: &mut Vec<Worker>,
) -> Result<(), RunFailure> {
    reaper::adopt_orphans();
    for index in 0..workers {
        let (stderr, stderr_for_child) = own_stderr_file()?;
        let (group, pipes) = crate::child::spawn(
            Command::new(exe)
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(stderr_for_child)),
            Tether::Itself,
        )
        .map_err(|error| spawn_failure("parbench worker", &error))?;
        if let Some(cpus) = cpus {
            crate::affinity::pin_process(group.pid(), cpus[index]);
        }
        pool.push(piped_worker(group, pipes, stderr));
    }
    Ok(())
}

/// A worker from a child just spawned with piped stdin and stdout.
fn piped_worker(group: ProcessGroup, pipes: Pipes, stderr: File) -> Worker {
    let stdin = pipes.stdin.map(|pipe| File::from(OwnedFd::from(pipe)));
    let stdout = pipes.stdout.map(|pipe| File::from(OwnedFd::from(pipe)));
    let (Some(stdin), Some(stdout)) = (stdin, stdout) else {
        unreachable!("both were piped");
    };
    Worker::new(group, stdin, stdout, stderr)
}

pub(super) fn spawn_failure(program: &str, error: &io::Error) -> RunFailure {
    RunFailure::Failed(format!("cannot start \"{program}\": {}", io_reason(error)))
}
