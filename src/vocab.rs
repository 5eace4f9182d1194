//! The vocabulary every layer shares: the strategies (each with its
//! [`Descriptor`]: what it runs, who works, whether it takes chunk sizes),
//! worker counts, chunk sizes and orders as job files write them, and how
//! numbers and errors are put into words. It imports nothing of the crate, so that
//! any module may use it without pulling in another layer.

use std::fmt;
use std::io;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Strategy {
    Serial,
    Threads,
    Processes,
}

/// What a strategy is asked to run, as far as choosing one goes: a builtin,
/// a command that gets each item as an argument (`argv`) or one per line on
/// its standard input (`lines`), or a Python function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkKind {
    Builtin,
    Argv,
    Lines,
    Python,
}

/// Who does the work of a strategy's runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workers {
    /// One worker, always: the runner's own thread, or one process (one
    /// `lines` worker, one Python interpreter) at a time. The `workers`
    /// axis does not apply.
    One,
    /// N threads inside the runner (inside the interpreter, for Python).
    Threads,
    /// N processes.
    Processes,
}

/// Everything the layers need to know of one strategy, in one place: its
/// name, which work it runs (and why not the rest), who does the work and
/// whether its entries take the `chunk_size` axis. The job file, the plan,
/// the strategies and the Python harness all ask here.
#[derive(Debug)]
pub struct Descriptor {
    pub name: &'static str,
    /// One line for `parbench list`.
    pub summary: &'static str,
    pub workers: Workers,
    /// The work it runs; any other is left out of the plan.
    pub runs: &'static [WorkKind],
    /// Why it does not run the rest, as the plan's skipped entries say it.
    pub refusal: &'static str,
    /// The work whose entries take the `chunk_size` axis: an `argv` command
    /// takes one item per process, and a pool of threads has its own size.
    pub chunked: &'static [WorkKind],
}

const SERIAL: Descriptor = Descriptor {
    name: "serial",
    summary: "one item after another in the runner's own thread (always 1 worker)",
    workers: Workers::One,
    runs: &[WorkKind::Builtin, WorkKind::Argv, WorkKind::Lines, WorkKind::Python],
    refusal: "",
    chunked: &[],
};

const THREADS: Descriptor = Descriptor {
    name: "threads",
    summary: "a pool of N OS threads inside the runner, sharing the items in chunks",
    workers: Workers::Threads,
    runs: &[WorkKind::Builtin, WorkKind::Python],
    refusal: "a command runs in its own processes, so a pool of threads inside parbench does not apply",
    chunked: &[],
};

const PROCESSES: Descriptor = Descriptor {
    name: "processes",
    summary: "N child processes fed chunks over pipes by whoever is free; results back in input order",
    workers: Workers::Processes,
    runs: &[WorkKind::Builtin, WorkKind::Argv, WorkKind::Lines, WorkKind::Python],
    refusal: "",
    chunked: &[WorkKind::Builtin, WorkKind::Lines, WorkKind::Python],
};

impl Strategy {
    /// Every strategy, in the order job-file errors and `parbench list` name them.
    pub const ALL: [Strategy; 3] = [Strategy::Serial, Strategy::Threads, Strategy::Processes];

    pub const NAMES: &'static [&'static str] = &[SERIAL.name, THREADS.name, PROCESSES.name];

    pub const fn descriptor(self) -> &'static Descriptor {
        match self {
            Strategy::Serial => &SERIAL,
            Strategy::Threads => &THREADS,
            Strategy::Processes => &PROCESSES,
        }
    }

    pub fn parse(name: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|strategy| strategy.name() == name)
    }

    pub fn name(self) -> &'static str {
        self.descriptor().name
    }

    pub fn describe(self) -> &'static str {
        self.descriptor().summary
    }

    /// Why this strategy does not run `kind`; `None` where it does.
    pub fn refusal(self, kind: WorkKind) -> Option<&'static str> {
        let descriptor = self.descriptor();
        (!descriptor.runs.contains(&kind)).then_some(descriptor.refusal)
    }

    /// Whether its entries of `kind` have a chunk size of their own.
    pub fn takes_chunks(self, kind: WorkKind) -> bool {
        self.descriptor().chunked.contains(&kind)
    }

    /// Whether its entries take the `workers` axis (without it, one worker).
    pub fn takes_workers(self) -> bool {
        self.descriptor().workers != Workers::One
    }
}

/// How a measured run ended, as the `status` column of a results file says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Failed,
    Timeout,
    Mismatch,
    /// Measured, but nothing to check its results against: the group's
    /// reference run (serial's) failed.
    Unverified,
    /// Abandoned for a signal; never recorded.
    Interrupted,
}

impl Status {
    /// The statuses a results file holds (an interrupted run is never
    /// recorded).
    pub const RECORDED: &'static [Status] =
        &[Status::Ok, Status::Failed, Status::Timeout, Status::Mismatch, Status::Unverified];
    /// Their names, in that order.
    pub const NAMES: &'static [&'static str] = &["ok", "failed", "timeout", "mismatch", "unverified"];

    /// A status as a results file writes it; `None` for any other word.
    pub fn parse(name: &str) -> Option<Status> {
        Status::RECORDED.iter().copied().find(|status| status.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Timeout => "timeout",
            Status::Mismatch => "mismatch",
            Status::Unverified => "unverified",
            Status::Interrupted => "interrupted",
        }
    }
}

/// A strategy in JSON is its name, as in the CSVs.
impl serde::Serialize for Strategy {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerCount {
    Fixed(usize),
    /// The logical CPUs of the machine that runs the job.
    Cpus,
}

/// As a job file writes it: `4`, or `"cpus"`.
impl fmt::Display for WorkerCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkerCount::Fixed(count) => write!(f, "{count}"),
            WorkerCount::Cpus => f.write_str("\"cpus\""),
        }
    }
}

impl WorkerCount {
    pub fn resolve(self, cpus: usize) -> usize {
        match self {
            WorkerCount::Fixed(count) => count,
            WorkerCount::Cpus => cpus,
        }
    }
}

/// In which order the runs of a group are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Repetition 1 of every entry, then repetition 2, and so on.
    Interleaved,
    /// Each entry's repetitions back to back.
    Grouped,
}

/// Whether a pool's start is inside the timed region (`[run] pool_start`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolStart {
    /// The clock starts before the pool is created, as the seed's timed
    /// block did: what a program that starts a pool for this list pays.
    Timed,
    /// The clock starts once every worker is ready: what a pool that is
    /// already running pays for this list.
    Untimed,
}

impl PoolStart {
    pub const NAMES: &'static [&'static str] = &["timed", "untimed"];

    pub fn parse(name: &str) -> Option<PoolStart> {
        match name {
            "timed" => Some(PoolStart::Timed),
            "untimed" => Some(PoolStart::Untimed),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PoolStart::Timed => "timed",
            PoolStart::Untimed => "untimed",
        }
    }
}

/// Where the workers of a run may run (`[run] pin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pin {
    /// Each worker (serial's thread, a pool's thread or process) on a CPU of
    /// its own, physical cores before their SMT siblings, while there are
    /// no more workers than CPUs.
    Cores,
    /// Wherever the scheduler puts them.
    None,
}

impl Pin {
    pub const NAMES: &'static [&'static str] = &["cores", "none"];

    pub fn parse(name: &str) -> Option<Pin> {
        match name {
            "cores" => Some(Pin::Cores),
            "none" => Some(Pin::None),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Pin::Cores => "cores",
            Pin::None => "none",
        }
    }
}

/// How many measured runs each entry gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repetitions {
    /// Exactly this many (the behaviour of parbench before `"auto"`).
    Fixed(u32),
    /// Until the median is known to the job's [`Precision`].
    Auto,
}

impl std::fmt::Display for Repetitions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Repetitions::Fixed(count) => write!(f, "{count}"),
            Repetitions::Auto => f.write_str("auto"),
        }
    }
}

/// When `repetitions = "auto"` stops repeating an entry: once the 95%
/// interval of its median lies within `target` of the median (and it has
/// at least `min_repetitions` runs spread over at least `min_span` of the
/// clock), or once its measured runs add up to `max_time` (and it has at
/// least [`Precision::LEAST_RUNS`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Precision {
    /// A fraction: 0.02 is ±2%.
    pub target: f64,
    pub min_repetitions: u32,
    /// From the start of the first measured run to the end of the last.
    pub min_span: std::time::Duration,
    pub max_time: std::time::Duration,
}

impl Precision {
    /// Runs an entry gets however long they take.
    pub const LEAST_RUNS: u32 = 3;
    /// The default `min_span`.
    pub const MIN_SPAN: std::time::Duration = std::time::Duration::from_secs(1);
}

impl Default for Precision {
    fn default() -> Precision {
        Precision {
            target: 0.02,
            min_repetitions: 10,
            min_span: Precision::MIN_SPAN,
            max_time: std::time::Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkSize {
    Auto,
    Fixed(usize),
}

/// How an entry hands its items out, as its rows say it: a fixed number
/// of items per dispatch, guided chunks that shrink as the run goes
/// (`chunk_size = "auto"`), or neither where chunks do not apply (serial,
/// threads, a command run once per item). Ordered as tables list entries:
/// no chunks, then sizes from small to large, then guided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Chunking {
    #[default]
    None,
    Fixed(usize),
    Guided,
}

impl Chunking {
    /// The `chunk_policy` cells, as [`Chunking::policy`] writes them.
    pub const POLICIES: &'static [&'static str] = &["fixed", "guided"];

    /// The fixed size, where there is one: the `chunk_size` cell.
    pub fn size(self) -> Option<usize> {
        match self {
            Chunking::Fixed(size) => Some(size),
            Chunking::None | Chunking::Guided => None,
        }
    }

    /// The `chunk_policy` cell: `fixed`, `guided`, or empty.
    pub fn policy(self) -> &'static str {
        match self {
            Chunking::None => "",
            Chunking::Fixed(_) => "fixed",
            Chunking::Guided => "guided",
        }
    }

    /// As labels and sentences say it (and as the `chunk_size` cell of
    /// files before `chunk_policy` did): `auto:guided`, a number, or
    /// nothing.
    pub fn label(self) -> String {
        match self {
            Chunking::None => String::new(),
            Chunking::Fixed(size) => size.to_string(),
            Chunking::Guided => "auto:guided".to_owned(),
        }
    }
}

/// Numbers as a person writes them: integers without a decimal point.
pub fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 9.007_199_254_740_992e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// A 64-bit digest (a checksum, an entry key) as parbench writes it: `x` and
/// 16 hex digits. The letter keeps a spreadsheet from reading it as a number:
/// bare, one digest in about 1,800 is all decimal digits and loses its last
/// ones or its leading zeros, and one like `00000000000001e5` becomes 100000.
pub fn digest(value: u64) -> String {
    format!("x{value:016x}")
}

/// A digest cell as parbench 0.1.0 wrote it (16 bare hex digits) in today's
/// form; any other cell as it is.
pub fn upgrade_digest(cell: &str) -> String {
    if cell.len() == 16 && cell.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        format!("x{cell}")
    } else {
        cell.to_owned()
    }
}

/// `1 entry`, `2 entries`: a count with its noun in the right number.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A moment as RFC 3339 in UTC with microseconds: env.json's `written_at`,
/// a lock's "since".
pub fn timestamp(time: std::time::SystemTime) -> String {
    humantime::format_rfc3339_micros(time).to_string()
}

/// An io::Error in words, without Rust's "(os error 2)" suffix.
pub fn io_reason(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file or folder".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => {
            let text = error.to_string();
            match text.find(" (os error") {
                Some(cut) => text[..cut].to_owned(),
                None => text,
            }
        }
    }
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_is_utc_to_the_microsecond() {
        let time =
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(1_795_681_597_114_213);
        assert_eq!(timestamp(time), "2026-11-26T08:26:37.114213Z");
    }

    #[test]
    fn recorded_statuses_are_named_in_order() {
        let names: Vec<&str> = Status::RECORDED.iter().map(|status| status.name()).collect();
        assert_eq!(names, Status::NAMES);
        assert_eq!(Status::parse("interrupted"), None, "an interrupted run is never recorded");
    }

    #[test]
    fn every_strategy_is_named_and_parsed_by_its_descriptor() {
        assert_eq!(Strategy::NAMES.len(), Strategy::ALL.len());
        for (strategy, name) in Strategy::ALL.into_iter().zip(Strategy::NAMES) {
            assert_eq!(strategy.name(), *name);
            assert_eq!(Strategy::parse(name), Some(strategy));
        }
        assert_eq!(Strategy::parse("thread"), None);
    }

    #[test]
    fn a_strategy_that_refuses_work_says_why_and_chunks_only_what_it_runs() {
        let kinds = [WorkKind::Builtin, WorkKind::Argv, WorkKind::Lines, WorkKind::Python];
        for strategy in Strategy::ALL {
            for kind in kinds {
                if let Some(reason) = strategy.refusal(kind) {
                    assert!(!reason.is_empty(), "{strategy} refuses {kind:?} without a reason");
                    assert!(
                        !strategy.takes_chunks(kind),
                        "{strategy} chunks {kind:?}, which it does not run"
                    );
                }
            }
        }
        assert!(
            Strategy::Threads
                .refusal(WorkKind::Lines)
                .unwrap()
                .starts_with("a command runs in its own processes")
        );
        assert_eq!(Strategy::Threads.refusal(WorkKind::Python), None);
        assert!(
            Strategy::Processes.takes_chunks(WorkKind::Lines)
                && !Strategy::Processes.takes_chunks(WorkKind::Argv)
        );
        assert!(!Strategy::Serial.takes_workers() && Strategy::Threads.takes_workers());
    }

    #[test]
    fn worker_counts_read_as_a_job_file_writes_them() {
        assert_eq!(WorkerCount::Fixed(4).to_string(), "4");
        assert_eq!(WorkerCount::Cpus.to_string(), "\"cpus\"");
    }

    #[test]
    fn digests_start_with_a_letter_and_old_ones_get_it() {
        assert_eq!(digest(0x0123_4567_8901_2345), "x0123456789012345");
        assert_eq!(digest(1), "x0000000000000001");
        assert_eq!(upgrade_digest("00000000000001e5"), "x00000000000001e5");
        assert_eq!(upgrade_digest("x00000000000001e5"), "x00000000000001e5");
        assert_eq!(upgrade_digest(""), "");
    }
}
