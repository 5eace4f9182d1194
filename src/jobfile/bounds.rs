//! The largest values a job file may ask for: validation (`validate/`)
//! refuses more, and the schema (`schema.rs`) states the same bounds. A leaf
//! of `jobfile/`: it refers to none of its siblings.

/// A billion numbers is 8 GB in and 8 GB out; past that a typo is likelier
/// than an experiment.
pub const MAX_LIST_SIZE: usize = 1_000_000_000;
/// Each worker is a thread or a process; thousands would exhaust the machine
/// before they measured anything.
pub const MAX_WORKERS: usize = 1024;
/// A deadline is `now + timeout`: bounded, so that it cannot overflow.
pub const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(366 * 24 * 3600);
/// Entries of one workload at most: each runs at least once, so more is a
/// typo, not a plan.
pub const MAX_ENTRIES: usize = 100_000;
/// Runs of one job at most: ten million runs of the cheapest builtin take
/// hours; more is a typo (`repetitions = 4294967295`), and the runner's
/// bookkeeping for them would not fit in memory.
pub const MAX_RUNS: u64 = 10_000_000;
