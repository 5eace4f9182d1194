//! How the items of one run are executed: serially, on a pool of threads, or
//! on a pool of child processes. Each strategy lives in its own file; the
//! match in [`execute`] is the one place that picks one.

mod processes;
mod serial;
mod threads;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::generator::Items;
use crate::matrix::Entry;
use crate::workload::{BuiltinSpec, CommandSpec, Params};

pub use processes::chunk_auto;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Strategy {
    Serial,
    Threads,
    Processes,
}

impl Strategy {
    pub const NAMES: &'static [&'static str] = &["serial", "threads", "processes"];

    pub fn parse(name: &str) -> Option<Strategy> {
        match name {
            "serial" => Some(Strategy::Serial),
            "threads" => Some(Strategy::Threads),
            "processes" => Some(Strategy::Processes),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Serial => "serial",
            Strategy::Threads => "threads",
            Strategy::Processes => "processes",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Strategy::Serial => "one item after another in the runner's own thread (always 1 worker)",
            Strategy::Threads => "a pool of N OS threads inside the runner, sharing the items in chunks",
            Strategy::Processes => {
                "N child processes fed chunks over pipes by whoever is free; results back in input order"
            }
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a workload is, ready to run.
#[derive(Debug, Clone)]
pub enum Work {
    Builtin { spec: &'static BuiltinSpec, params: Params },
    Command(CommandSpec),
}

/// The results of one run, in input order.
#[derive(Debug, Clone, PartialEq)]
pub enum Outputs {
    Numbers(Vec<f64>),
    Text(Vec<String>),
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
        format!("{:016x}", hasher.digest())
    }
}

/// Why a run produced no result.
#[derive(Debug, Clone, PartialEq)]
pub enum RunFailure {
    Timeout(Duration),
    Failed(String),
    /// Ctrl-C or SIGTERM arrived during the run.
    Interrupted,
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunFailure::Timeout(limit) => {
                write!(f, "timed out after {}", humantime::format_duration(*limit))
            }
            RunFailure::Failed(message) => f.write_str(message),
            RunFailure::Interrupted => f.write_str("interrupted"),
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
    /// Time spent starting the pool until every worker could take work.
    pub setup: Duration,
    /// When the last result was in hand; the pool's teardown comes after and
    /// is not part of the wall time.
    pub finished: Instant,
    /// Standard error of command workloads, kept for the log.
    pub stderr: Vec<String>,
}

/// A deadline shared by everything that runs on behalf of one run: loops
/// check it between chunks, and the processes pool kills its children.
#[derive(Debug, Clone)]
pub struct Deadline {
    at: Option<Instant>,
    limit: Option<Duration>,
    expired: Arc<AtomicBool>,
}

impl Deadline {
    pub fn new(limit: Option<Duration>) -> Self {
        Deadline {
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
            RunFailure::Timeout(self.limit.unwrap_or_default())
        }
    }
}

/// Runs one entry's work over `items` once.
pub fn execute(entry: &Entry, work: &Work, items: &Items, deadline: &Deadline) -> Result<Execution, Failed> {
    match (entry.strategy, work) {
        (Strategy::Serial, Work::Builtin { spec, params }) => {
            serial::run(&*spec.kernel(params), items, deadline).map_err(Failed::from)
        }
        (Strategy::Threads, Work::Builtin { spec, params }) => {
            threads::run(&*spec.kernel(params), items, entry.workers, entry.chunk_size, deadline)
                .map_err(Failed::from)
        }
        (Strategy::Processes, Work::Builtin { spec, params }) => {
            processes::run_builtin(spec, params, items, entry.workers, entry.chunk_size, deadline)
        }
        // A command under `serial` is a pool of one: one process (or one
        // long-lived worker) at a time.
        (Strategy::Serial | Strategy::Processes, Work::Command(command)) => {
            processes::run_command(command, items, entry.workers, entry.chunk_size, entry.cwd(), deadline)
        }
        (Strategy::Threads, Work::Command(_)) => {
            Err(RunFailure::Failed("threads do not apply to command workloads".to_owned()).into())
        }
    }
}

/// Items of a builtin must be numbers; validation guarantees it.
fn numbers(items: &Items) -> Result<&[f64], RunFailure> {
    match items {
        Items::Numbers(numbers) => Ok(numbers),
        Items::Text(_) => {
            Err(RunFailure::Failed("a builtin needs numbers, and the list holds text".to_owned()))
        }
    }
}
