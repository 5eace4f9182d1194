//! How the items of one run are executed: serially, on a pool of threads, or
//! on a pool of child processes. Each strategy lives in its own file; the
//! match in [`execute`] is the one place that picks one.

mod chunks;
mod peak;
mod processes;
mod python;
mod reaper;
mod serial;
mod threads;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::generator::Items;
use crate::interference::Sched;
use crate::vocab::{Pin, Strategy, WorkKind};
use crate::workload::{Protocol, Work};

pub use peak::{own_peak, reset_own_peak};
pub use processes::arena_bytes;

/// The results of one run, in input order.
#[derive(Debug, Clone, PartialEq)]
pub enum Outputs {
    Numbers(Vec<f64>),
    Text(Vec<String>),
}

impl From<Vec<f64>> for Outputs {
    fn from(numbers: Vec<f64>) -> Outputs {
        Outputs::Numbers(numbers)
    }
}

impl From<Vec<String>> for Outputs {
    fn from(lines: Vec<String>) -> Outputs {
        Outputs::Text(lines)
    }
}

impl Outputs {
    /// A digest of the ordered results: equal for equal results, and
    /// different, with overwhelming probability, for any other.
    pub fn checksum(&self) -> String {
        use xxhash_rust::xxh3::Xxh3;
        let mut hasher = Xxh3::new();
        match self {
            Outputs::Numbers(numbers) => {
                hasher.update(b"n");
                // -0.0 and 0.0 are the same result; NaN is hashed by its bits.
                for number in numbers {
                    let canonical = if *number == 0.0 { 0.0f64 } else { *number };
                    hasher.update(&canonical.to_bits().to_le_bytes());
                }
            }
            Outputs::Text(lines) => {
                hasher.update(b"t");
                for line in lines {
                    hasher.update(&(line.len() as u64).to_le_bytes());
                    hasher.update(line.as_bytes());
                }
            }
        }
        crate::vocab::digest(hasher.digest())
    }
}

/// Why a run produced no result.
#[derive(Debug, Clone, PartialEq)]
pub enum RunFailure {
    /// The limit, and what the run was waiting for when it came.
    Timeout(Duration, Option<String>),
    /// A process of the run ended badly: its exit status stays data (the
    /// row's `exit_code` and `exit_signal`) until a reporter words it.
    Ended(Ended),
    Failed(String),
    /// Ctrl-C or SIGTERM arrived during the run.
    Interrupted,
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunFailure::Timeout(limit, waiting) => {
                write!(f, "timed out after {}", humantime::format_duration(*limit))?;
                match waiting {
                    Some(waiting) => write!(f, ": {waiting}"),
                    None => Ok(()),
                }
            }
            RunFailure::Ended(ended) => ended.fmt(f),
            RunFailure::Failed(message) => f.write_str(message),
            RunFailure::Interrupted => f.write_str("interrupted"),
        }
    }
}

/// A process of a run that ended badly.
#[derive(Debug, Clone, PartialEq)]
pub struct Ended {
    /// What ended, as a sentence names it: `"sh"`, `worker 2 (pid 4711)`.
    pub what: String,
    pub status: std::process::ExitStatus,
    /// Where in the run it ended: ` on item 3 ("7")`, ` after its last answer`.
    pub when: String,
    /// The line of its stderr that tells why, if it wrote one.
    pub said: Option<String>,
}

impl Ended {
    /// The exit status, where the process exited (rather than was killed).
    pub fn code(&self) -> Option<i32> {
        std::os::unix::process::ExitStatusExt::signal(&self.status)
            .is_none()
            .then(|| self.status.code())
            .flatten()
    }

    /// The signal that killed it, where one did.
    pub fn signal(&self) -> Option<i32> {
        std::os::unix::process::ExitStatusExt::signal(&self.status)
    }
}

impl fmt::Display for Ended {
    /// `"sh" exited with status 3 on item 1 ("0"): no such file`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}{}", self.what, crate::child::describe_exit(self.status), self.when)?;
        match &self.said {
            Some(line) => write!(f, ": {line}"),
            None => Ok(()),
        }
    }
}

/// A run that produced no result, with whatever its commands wrote to
/// stderr before it ended (for the log).
#[derive(Debug)]
pub struct Failed {
    pub failure: RunFailure,
    pub stderr: Vec<String>,
}

impl From<RunFailure> for Failed {
    fn from(failure: RunFailure) -> Self {
        Failed { failure, stderr: Vec::new() }
    }
}

/// What a strategy hands back from one run.
#[derive(Debug)]
pub struct Execution {
    pub outputs: Outputs,
    /// Time from the strategy's start until every worker could take work;
    /// `None` where there is no such moment (`argv`: a process per item).
    pub setup: Option<Duration>,
    /// Under `pool_start = "untimed"`, the moment every worker could take
    /// work, with the CPU and the workers' counters then: the timed region
    /// starts here. `None` where the start is timed, and for strategies
    /// that start no pool.
    pub ready: Option<Finish>,
    /// The moment the last result was in the runner's hands, and the CPU
    /// used until then; the pool's teardown comes after and is not timed.
    pub finish: Finish,
    /// Standard error of command workloads, kept for the log.
    pub stderr: Vec<String>,
    /// The peak resident memory of the run's worker processes, in bytes,
    /// summed over the pool (for `argv` commands: each slot's largest
    /// process; for Python, the interpreter and its pool's processes); 0 for
    /// serial and threads, which start none; None where it could not be
    /// measured (a Python harness that cannot read /proc).
    pub children_peak_rss: Option<u64>,
    /// Figures the run measured itself, in place of the runner's clocks:
    /// a Python run is timed inside Python.
    pub timed: Option<Timed>,
    /// The interpreter a Python run ran on (`CPython 3.11.7`) and whether
    /// its GIL was enabled when the run ended.
    pub python: Option<(String, bool)>,
}

/// A run's figures as measured where it ran, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timed {
    pub wall_s: f64,
    /// `None` where no moment separates "every worker ready" from the work.
    pub setup_s: Option<f64>,
    pub cpu_s: f64,
    /// CPU time a Python harness spent on the run's request, its pool's
    /// start and end and reaped processes included, outside the timed
    /// region too: the runner counts it as its own, not as other load.
    pub harness_cpu_s: Option<f64>,
}

/// What outlives one run within a group: the Python harness, started by
/// the group's first run and ended when the session is dropped, so that an
/// interpreter's start is never part of a run.
#[derive(Default)]
pub struct Session {
    python: Option<(crate::workload::python::PythonWork, crate::workload::python::Harness)>,
    /// The buffer a builtin's results go into, kept from run to run.
    output: Vec<f64>,
    /// What a processes pool keeps from run to run.
    pools: processes::Kept,
}

impl Session {
    /// What runs next runs in fresh processes: the Python harness and a
    /// kept pool's fork server are ended (the next run starts new ones,
    /// before its clock), and the output buffer is given back.
    pub fn new_processes(&mut self) {
        self.python = None;
        self.output = Vec::new();
        self.pools = processes::Kept::default();
    }

    /// Makes the next run's output buffer ready before the clock starts:
    /// `len` zeros, written, so that no page of it is first touched while
    /// the run is timed. The same memory serves run after run: a fresh
    /// buffer's page faults (about 10,000 for 5,000,000 results) would
    /// otherwise land in the run that first fills it.
    pub fn prepare_output(&mut self, work: &Work, len: usize) {
        if !matches!(work, Work::Builtin { .. }) {
            return;
        }
        // A buffer left by much longer runs is given back rather than kept:
        // its pages would count in this run's memory.
        if self.output.capacity() > 2 * len.max(1 << 17) {
            self.output = Vec::new();
        }
        self.output.clear();
        self.output.reserve(len);
        self.output.resize(len, 0.0);
    }

    /// Starts, before the clock, what a run of `work` under `strategy`
    /// keeps from run to run and must not time: a pool's I/O threads and a
    /// builtin processes pool's fork server.
    pub fn prepare_pool(&mut self, strategy: Strategy, workers: usize, work: &Work) {
        match (strategy, work) {
            (Strategy::Processes, Work::Builtin { spec, params }) => {
                self.pools.prepare(workers, Some((spec, params)));
            }
            // Every strategy runs a `lines` command as a pool.
            (_, Work::Command(command)) if command.protocol == crate::workload::Protocol::Lines => {
                self.pools.prepare(workers, None);
            }
            _ => {}
        }
    }

    /// The prepared buffer (a new one if none was prepared).
    fn take_output(&mut self, len: usize) -> Vec<f64> {
        let mut output = std::mem::take(&mut self.output);
        if output.len() != len {
            output.clear();
            output.resize(len, 0.0);
        }
        output
    }

    /// Keeps a run's numeric results' memory for the next run.
    pub fn recycle(&mut self, outputs: Outputs) {
        if let Outputs::Numbers(numbers) = outputs {
            self.output = numbers;
        }
    }
}

/// The end of a run's timed region: the instant the last result was in the
/// runner's hands, and the CPU time used by then.
#[derive(Debug, Clone, Copy)]
pub struct Finish {
    pub at: Instant,
    /// [`cpu_now`] at that moment, plus what the live children of the run
    /// (pool workers not yet reaped) had used.
    pub cpu: Duration,
    /// The scheduler's counters of the tasks that did the run's work (a
    /// pool's threads or processes, an argv item's processes, a Python
    /// function's thread or pool), over their part of the run, read as
    /// each ends, outside the timed region: the evidence of other load
    /// (`crate::interference`). `None` where the kernel keeps none, and for
    /// serial, whose worker is the runner's own thread (the runner reads it).
    pub workers: Option<Sched>,
    /// The same of parbench's own other tasks that wait beside the workers
    /// and can hold the run up, where a strategy reads them (a Python
    /// pool's calling, manager and feeder threads); zero where it reads
    /// none, `None` where a read failed.
    pub helpers: Option<Sched>,
}

impl Finish {
    /// Now, with the CPU of `children`: processes of this run that are still
    /// alive (idle, waiting for input that will not come) and so not yet
    /// counted among the reaped children.
    pub fn now(children: &[u32]) -> Finish {
        let at = Instant::now();
        let mut cpu = cpu_now();
        let mut workers = (!children.is_empty()).then_some(Sched::default());
        for pid in children {
            let sched = child_sched(*pid);
            cpu += sched.map_or_else(|| child_ticks(*pid), |sched| sched.cpu);
            workers = Sched::both(workers, sched);
        }
        Finish { at, cpu, workers, helpers: Some(Sched::default()) }
    }
}

/// CPU time (user + system) of the runner (every thread) and of every child
/// it has reaped so far. A run's `cpu_s` is its [`Finish::cpu`] minus this at
/// its start.
pub fn cpu_now() -> Duration {
    own_cpu() + reaped_children_cpu()
}

/// CPU time (user + system) of the runner itself, every thread of it.
pub fn own_cpu() -> Duration {
    use nix::time::{ClockId, clock_gettime};
    // A failure counts as zero.
    clock_gettime(ClockId::CLOCK_PROCESS_CPUTIME_ID)
        .map_or(Duration::ZERO, |own| Duration::new(own.tv_sec() as u64, own.tv_nsec() as u32))
}

/// CPU time (user + system) of every child the runner has reaped so far
/// (and of the children they waited for).
pub fn reaped_children_cpu() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    getrusage(UsageWho::RUSAGE_CHILDREN).map_or(Duration::ZERO, |usage| {
        let of =
            |time: nix::sys::time::TimeVal| Duration::new(time.tv_sec() as u64, time.tv_usec() as u32 * 1000);
        of(usage.user_time()) + of(usage.system_time())
    })
}

/// A child's `schedstat` alone (see [`Sched::of_schedstat`]): what an
/// `argv` slot reads between one item's process and the next, while the
/// run's clock runs; its switches stay unread, so the run has none.
pub fn child_sched_in_run(pid: u32) -> Option<Sched> {
    Sched::of_schedstat(&format!("/proc/{pid}/schedstat"))
}

/// CPU time a live (or not yet reaped) child has used, its wait for a CPU
/// (the scheduler's nanosecond counts from `/proc/PID/schedstat`) and its
/// involuntary switches (`/proc/PID/status`); `None` where the kernel
/// keeps no schedstat (see [`child_ticks`]).
pub fn child_sched(pid: u32) -> Option<Sched> {
    Sched::of_file(&format!("/proc/{pid}/schedstat"))
}

/// CPU time a live child has used, in user + system clock ticks from
/// `/proc/PID/stat`: where the kernel keeps no schedstat.
fn child_ticks(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may hold spaces), from field 3.
    let fields: Vec<&str> =
        stat.rsplit_once(')').map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    use nix::unistd::{SysconfVar, sysconf};
    let ticks = sysconf(SysconfVar::CLK_TCK).ok().flatten().unwrap_or(100).max(1) as f64;
    let field = |index: usize| fields.get(index).and_then(|value| value.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime: fields 14 and 15 of the line, counted from 1.
    Duration::from_secs_f64((field(11) + field(12)) / ticks)
}

/// A cutoff shared by everything that runs on behalf of one run: loops
/// check it between chunks, and the processes pool kills its children.
#[derive(Debug, Clone)]
pub struct Cutoff {
    at: Option<Instant>,
    limit: Option<Duration>,
    expired: Arc<AtomicBool>,
}

impl Cutoff {
    pub fn new(limit: Option<Duration>) -> Self {
        Cutoff {
            at: limit.map(|limit| Instant::now() + limit),
            limit,
            expired: Arc::new(AtomicBool::new(false)),
        }
    }

    /// True once the limit has passed or a signal asked parbench to stop;
    /// cheap enough to call once per chunk.
    pub fn passed(&self) -> bool {
        if self.expired.load(Ordering::Relaxed) || crate::interrupt::requested() {
            return true;
        }
        match self.at {
            Some(at) if Instant::now() >= at => {
                self.expired.store(true, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }

    /// How long a watcher may wait before it looks again: until the limit,
    /// but never so long that a Ctrl-C goes unnoticed.
    pub fn slice(&self) -> Duration {
        const PATIENCE: Duration = Duration::from_millis(50);
        match self.at {
            Some(at) => at.saturating_duration_since(Instant::now()).min(PATIENCE),
            None => PATIENCE,
        }
    }

    pub fn failure(&self) -> RunFailure {
        if crate::interrupt::requested() {
            RunFailure::Interrupted
        } else {
            RunFailure::Timeout(self.limit.unwrap_or_default(), None)
        }
    }
}

/// How one run spreads its items, as plain numbers: the strategy, how many
/// workers, how many items per dispatch (`None`: the strategy's own auto
/// size), where commands run and the CPU each worker is pinned to.
#[derive(Debug, Clone, Copy)]
pub struct Spread<'a> {
    pub strategy: Strategy,
    pub workers: usize,
    pub chunk_size: Option<usize>,
    pub cwd: &'a Path,
    /// Worker i runs on `cpus[i]`; `None`: nothing is pinned (see [`placement`]).
    pub cpus: Option<&'a [usize]>,
    /// Whether the pool's start is timed.
    pub pool_start: crate::vocab::PoolStart,
}

impl Spread<'_> {
    /// Whether the timed region starts when the pool is ready.
    pub fn untimed_start(&self) -> bool {
        self.pool_start == crate::vocab::PoolStart::Untimed
    }
}

/// Where the `workers` workers of a run go under `pin`: one CPU each,
/// physical cores first (see `affinity.rs`), or `None` with `pin = "none"`
/// or with more workers than CPUs, for every strategy alike. Call it before
/// the clock starts: it may read the CPU topology.
pub fn placement(pin: Pin, workers: usize) -> Option<Vec<usize>> {
    match pin {
        Pin::Cores => crate::affinity::assignment(workers),
        Pin::None => None,
    }
}

/// Pins the runner's own thread where a serial run of a builtin works, until
/// the guard goes; `None` for every other run (pools pin their own workers
/// inside their timed setup). Called before the clock starts.
pub fn pin_serial(spread: &Spread<'_>, work: &Work) -> Option<crate::affinity::PinnedThread> {
    (spread.strategy == Strategy::Serial && matches!(work, Work::Builtin { .. }))
        .then(|| serial::pin_worker(spread))
}

/// Runs `work` over `items` once, spread as `spread` says. `notice` hears,
/// on the caller's thread, what a user waiting for the run should know now
/// (a `lines` worker that has answered nothing for seconds).
pub fn execute(
    spread: Spread<'_>,
    work: &Work,
    items: &Items,
    cutoff: &Cutoff,
    session: &mut Session,
    notice: &mut dyn FnMut(String),
) -> Result<Execution, Failed> {
    // The strategy's descriptor says what it runs; the plan leaves out the
    // rest, and nothing else may reach the match below.
    if let Some(reason) = spread.strategy.refusal(work_kind(work)) {
        return Err(RunFailure::Failed(reason.to_owned()).into());
    }
    match (spread.strategy, work) {
        (_, Work::Python(python)) => python::run(python, items, spread, cutoff, session),
        (Strategy::Serial, Work::Builtin { spec, params }) => {
            let out = session.take_output(items.len());
            serial::run(&*spec.kernel(params), items, out, cutoff).map_err(Failed::from)
        }
        (Strategy::Threads, Work::Builtin { spec, params }) => {
            let out = session.take_output(items.len());
            threads::run(&*spec.kernel(params), numbers(items)?, out, spread, cutoff).map_err(Failed::from)
        }
        (Strategy::Processes, Work::Builtin { spec, params }) => {
            let out = session.take_output(items.len());
            processes::run_builtin((spec, params), items, out, spread, cutoff, &mut session.pools, notice)
        }
        // A command under `serial` is a pool of one: one process (or one
        // long-lived worker) at a time; `threads` was refused above.
        (_, Work::Command(command)) => {
            processes::run_command(command, items, spread, cutoff, &mut session.pools, notice)
        }
    }
}

/// What one run of `workers` takes from the process's limits: open files
/// in the runner and processes (threads count, as Linux's `ulimit -u` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Needs {
    pub open_files: u64,
    pub processes: u64,
}

pub fn needs(strategy: Strategy, work: &Work, workers: usize) -> Needs {
    if strategy.refusal(work_kind(work)).is_some() {
        // Never run (see `execute`), so it takes nothing.
        return Needs::default();
    }
    let workers = workers as u64;
    match (strategy, work) {
        (Strategy::Serial, Work::Builtin { .. }) => Needs::default(),
        (Strategy::Threads, _) => Needs { open_files: 0, processes: workers },
        // A pool worker: its stdin and stdout pipes and its stderr file in
        // the runner, a few more while it starts (the fork server's socket
        // and stderr, the shared memory); the child, and a writer and a
        // reader thread.
        (Strategy::Processes, Work::Builtin { .. }) => {
            Needs { open_files: 3 * workers + 5, processes: 3 * workers }
        }
        // The Python harness: its two pipes and stderr file, itself and a
        // reader thread; under processes also its pool, the forkserver and
        // multiprocessing's resource tracker.
        (Strategy::Serial, Work::Python(_)) => Needs { open_files: 4, processes: 2 },
        (Strategy::Processes, Work::Python(_)) => Needs { open_files: 4, processes: workers + 4 },
        (_, Work::Command(command)) => match command.protocol {
            Protocol::Lines => Needs { open_files: 3 * workers + 4, processes: 3 * workers },
            // An argv slot: its thread and its child; its stdout and stderr
            // files, their copies for the child while it starts, and stdin's
            // /dev/null.
            Protocol::Argv => Needs { open_files: 5 * workers, processes: 2 * workers },
        },
    }
}

/// What a strategy is asked to run, the key to its descriptor.
fn work_kind(work: &Work) -> WorkKind {
    match work {
        Work::Builtin { .. } => WorkKind::Builtin,
        Work::Command(command) => match command.protocol {
            Protocol::Argv => WorkKind::Argv,
            Protocol::Lines => WorkKind::Lines,
        },
        Work::Python(_) => WorkKind::Python,
    }
}

/// Items of a builtin must be numbers; validation guarantees it.
fn numbers(items: &Items) -> Result<&[f64], RunFailure> {
    match items {
        Items::Numbers(numbers) | Items::Parsed { numbers, .. } => Ok(numbers),
        Items::Text(_) => {
            Err(RunFailure::Failed("a builtin needs numbers, and the list holds text".to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Work {
        let spec = crate::workload::find_builtin("price-increase").unwrap();
        Work::Builtin { spec, params: spec.resolve(&Default::default()) }
    }

    #[test]
    fn the_output_buffer_is_zeroed_before_each_run_and_its_memory_kept() {
        let mut session = Session::default();
        session.prepare_output(&builtin(), 1000);
        let out = session.take_output(1000);
        assert_eq!(out, vec![0.0; 1000]);
        let memory = out.as_ptr();
        // A run wrote its results; the next run gets zeros in the same memory.
        session.recycle(Outputs::Numbers({
            let mut out = out;
            out.fill(7.0);
            out
        }));
        session.prepare_output(&builtin(), 1000);
        let again = session.take_output(1000);
        assert_eq!(again, vec![0.0; 1000], "no result of an earlier run is left");
        assert_eq!(again.as_ptr(), memory);
    }

    #[test]
    fn a_pool_says_when_it_was_ready_only_where_its_start_is_not_timed() {
        let items = Items::Numbers((0..64).map(f64::from).collect());
        for pool_start in [crate::vocab::PoolStart::Timed, crate::vocab::PoolStart::Untimed] {
            let spread = Spread {
                strategy: Strategy::Threads,
                workers: 2,
                chunk_size: None,
                cwd: Path::new("."),
                cpus: None,
                pool_start,
            };
            let mut session = Session::default();
            let execution =
                execute(spread, &builtin(), &items, &Cutoff::new(None), &mut session, &mut |_| {})
                    .unwrap_or_else(|failed| panic!("{}", failed.failure));
            match (pool_start, execution.ready) {
                (crate::vocab::PoolStart::Timed, ready) => assert!(ready.is_none()),
                (_, Some(ready)) => {
                    assert!(ready.at <= execution.finish.at && ready.cpu <= execution.finish.cpu);
                    assert!(ready.workers.is_some() == execution.finish.workers.is_some());
                }
                (_, None) => panic!("an untimed start must say when the pool was ready"),
            }
        }
    }

    #[test]
    fn a_buffer_much_larger_than_the_run_is_given_back() {
        let mut session = Session::default();
        session.recycle(Outputs::Numbers(vec![1.0; 1 << 20]));
        session.prepare_output(&builtin(), 10);
        assert!(session.output.capacity() < 1 << 18, "{}", session.output.capacity());
        assert_eq!(session.take_output(10), vec![0.0; 10]);
        // Text results are not kept, and a run with nothing prepared still
        // gets a buffer of the right length.
        session.recycle(Outputs::Text(vec!["a".to_owned()]));
        assert_eq!(session.take_output(3), vec![0.0; 3]);
    }
}
