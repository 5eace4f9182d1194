//! The vocabulary every layer shares: the names of strategies, worker
//! counts, chunk sizes and orders as job files write them, and how numbers
//! and errors are put into words. It imports nothing of the crate, so that
//! any module may use it without pulling in another layer.

use std::fmt;
use std::io;

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
    fn recorded_statuses_are_named_in_order() {
        let names: Vec<&str> = Status::RECORDED.iter().map(|status| status.name()).collect();
        assert_eq!(names, Status::NAMES);
        assert_eq!(Status::parse("interrupted"), None, "an interrupted run is never recorded");
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
