//! Advice a user can act on, as data: high variation, oversubscription, a
//! slow first run, a failed serial entry, precision not reached, too few
//! runs.

use super::{Analysis, Busy, EntryId, EntryStats, GroupId, RunsOf};
use crate::stats;
use crate::vocab::Strategy;

/// Advice a user can act on: one per kind of problem, naming the worst case
/// and how many entries share it (`entries`, the worst one included).
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// The standard deviation is over 10% of the mean; `spread` is their ratio.
    HighVariation { worst: EntryId, spread: f64, entries: usize },
    /// More workers than the `cpus` of the host, on CPU-bound work.
    Oversubscribed { worst: EntryId, cpus: usize, entries: usize },
    /// The first run took `ratio` times the median of the others.
    SlowFirstRun { worst: EntryId, ratio: f64, entries: usize },
    /// The group's serial entry has no ok run, so no speedup exists there.
    SerialFailed { group: GroupId },
    /// `repetitions = "auto"` stopped short of its goal: the `precision` it
    /// reached (`None`: no 95% interval at all) after `runs` in `blocks`
    /// blocks of processes, taking `spent_s`. One per entry.
    PrecisionNotReached { entry: EntryId, precision: Option<f64>, runs: usize, blocks: usize, spent_s: f64 },
    /// Too few blocks of processes (see `runner::Blocks`) for any 95%
    /// interval of the median (at most 5): the fewest `runs` of them (each
    /// run a block of its own in rows of earlier versions), and the `level`
    /// min … max has there.
    TooFewRuns { worst: EntryId, runs: usize, level: f64, entries: usize },
    /// Other load took CPU time some runs needed (`disturbed`).
    Disturbed {
        /// Per entry with such runs: its disturbed ok runs, which its
        /// statistics leave out, and its ok runs.
        left_out: Vec<(EntryId, usize, usize)>,
        /// The entries not judged (busy), and why.
        not_judged: Vec<(EntryId, Busy)>,
    },
    /// A speedup of CPU-bound work above the CPUs the entry could use (its
    /// workers or the host's CPUs, the lesser), by more than 5%: a serial
    /// that other load slowed, or caches (superlinear speedups exist). One
    /// per entry; recommendations never rest on such a point alone.
    BeyondCpus { entry: EntryId, speedup: f64, cpus_usable: usize },
}

/// How far past the CPUs it could use a speedup may go before it is named:
/// the spread of a paired speedup on a quiet machine stays within it.
pub const BEYOND_CPUS_MARGIN: f64 = 1.05;

/// The share of a CPU serial must keep busy for its work to count as
/// CPU-bound in the physics check.
pub const CPU_BOUND_SHARE: f64 = 0.5;

/// Whether an entry's speedup passes the CPUs it could use, on CPU-bound
/// work (serial kept at least [`CPU_BOUND_SHARE`] of a CPU busy); the
/// number of those CPUs.
pub fn beyond_cpus(analysis: &Analysis, entry: &EntryStats) -> Option<usize> {
    let speedup = entry.speedup?;
    if entry.id.strategy == Strategy::Serial || entry.cpus == 0 {
        return None;
    }
    let serial = analysis
        .entries
        .iter()
        .find(|other| other.id.group == entry.id.group && other.id.strategy == Strategy::Serial)?;
    let share = serial.median_cpu? / serial.wall.as_ref()?.median;
    let usable = entry.id.workers.min(entry.cpus).max(1);
    (share >= CPU_BOUND_SHARE && speedup > usable as f64 * BEYOND_CPUS_MARGIN).then_some(usable)
}

pub fn warnings(analysis: &Analysis) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let Cases { mut variation, mut oversubscribed, mut slow_first } = Cases::of(analysis);
    if let Some((spread, worst, entries)) = worst(&mut variation) {
        warnings.push(Warning::HighVariation { worst, spread, entries });
    }
    if let Some((_, worst, entries)) = worst(&mut oversubscribed) {
        let cpus = analysis.entries.iter().map(|entry| entry.cpus).max().unwrap_or(0);
        warnings.push(Warning::Oversubscribed { worst, cpus, entries });
    }
    if let Some((ratio, worst, entries)) = worst(&mut slow_first) {
        warnings.push(Warning::SlowFirstRun { worst, ratio, entries });
    }
    warnings.extend(serial_failed(analysis));
    warnings.extend(precision_not_reached(analysis));
    warnings.extend(disturbed(analysis));
    for entry in &analysis.entries {
        if let (Some(cpus_usable), Some(speedup)) = (beyond_cpus(analysis, entry), entry.speedup) {
            warnings.push(Warning::BeyondCpus { entry: entry.id.clone(), speedup, cpus_usable });
        }
    }
    warnings.extend(too_few_runs(analysis));
    warnings
}

/// The entries each per-entry warning names, as (how bad, entry).
struct Cases<'a> {
    variation: Vec<(f64, &'a EntryId)>,
    oversubscribed: Vec<(f64, &'a EntryId)>,
    slow_first: Vec<(f64, &'a EntryId)>,
}

impl<'a> Cases<'a> {
    fn of(analysis: &'a Analysis) -> Cases<'a> {
        let mut cases = Cases { variation: Vec::new(), oversubscribed: Vec::new(), slow_first: Vec::new() };
        for entry in &analysis.entries {
            if let Some(wall) = &entry.wall
                && wall.count >= 3
                && wall.mean > 0.0
                && wall.stddev / wall.mean > 0.10
            {
                cases.variation.push((wall.stddev / wall.mean, &entry.id));
            }
            if let Some(ratio) = oversubscription(analysis, entry) {
                cases.oversubscribed.push((ratio, &entry.id));
            }
            if let [first, rest @ ..] = entry.walls_in_order.as_slice()
                && rest.len() >= 2
                && let Some(typical) = stats::median(rest)
                && typical > 0.0
                && *first > 1.5 * typical
            {
                cases.slow_first.push((first / typical, &entry.id));
            }
        }
        cases
    }
}

/// Workers per CPU, where a pool of CPU-bound work has more workers than
/// CPUs.
fn oversubscription(analysis: &Analysis, entry: &EntryStats) -> Option<f64> {
    // Waiting work (`sleep`, I/O) gains from more workers than CPUs;
    // work is CPU-bound when its serial run (or, without one, this run
    // per busy worker) kept a CPU at least 5% busy: waiting work keeps
    // it under 1%, CPU-bound work on a machine shared tenfold over 5%.
    let cpu_share = |entry: &EntryStats| match (&entry.wall, entry.median_cpu) {
        (Some(wall), Some(cpu)) if wall.median > 0.0 => Some(cpu / wall.median),
        _ => None,
    };
    let serial = analysis
        .entries
        .iter()
        .find(|other| other.id.group == entry.id.group && other.id.strategy == Strategy::Serial)
        .and_then(cpu_share);
    let share = serial
        .or_else(|| cpu_share(entry).map(|share| share / entry.id.workers.min(entry.cpus).max(1) as f64));
    let busy = share.is_none_or(|share| share >= 0.05);
    (busy && entry.cpus > 0 && entry.id.workers > entry.cpus && entry.id.strategy != Strategy::Serial)
        .then(|| entry.id.workers as f64 / entry.cpus as f64)
}

/// The worst case of a kind, with its entry and the number of cases.
fn worst(cases: &mut [(f64, &EntryId)]) -> Option<(f64, EntryId, usize)> {
    cases.sort_by(|a, b| b.0.total_cmp(&a.0));
    cases.first().map(|(value, id)| (*value, (*id).clone(), cases.len()))
}

/// Groups whose serial entry has no ok run: ok runs all disturbed leave no
/// median, but serial did not fail.
fn serial_failed(analysis: &Analysis) -> Vec<Warning> {
    analysis
        .groups()
        .into_iter()
        .filter(|(_, entries)| {
            entries
                .iter()
                .find(|entry| entry.id.strategy == Strategy::Serial)
                .is_some_and(|serial| serial.ok_runs.is_empty())
        })
        .map(|(group, _)| Warning::SerialFailed { group })
        .collect()
}

/// Entries with a median whose precision missed the job's goal, if it set one.
fn precision_not_reached(analysis: &Analysis) -> Vec<Warning> {
    let Some(goal) = analysis.precision_goal else { return Vec::new() };
    analysis
        .entries
        .iter()
        .filter(|entry| !entry.precision.is_some_and(|precision| precision <= goal) && entry.wall.is_some())
        .map(|entry| Warning::PrecisionNotReached {
            entry: entry.id.clone(),
            precision: entry.precision,
            runs: entry.runs,
            blocks: entry.rounds.len(),
            spent_s: entry.spent_s,
        })
        .collect()
}

/// Runs other load disturbed, left out of the statistics, and the entries
/// left with too few to judge.
fn disturbed(analysis: &Analysis) -> Option<Warning> {
    let left_out: Vec<(EntryId, usize, usize)> = analysis
        .entries
        .iter()
        .filter(|entry| entry.disturbed_runs() > 0)
        .map(|entry| (entry.id.clone(), entry.disturbed_runs(), entry.ok_runs.len()))
        .collect();
    let not_judged: Vec<(EntryId, Busy)> =
        analysis.entries.iter().filter_map(|entry| Some((entry.id.clone(), entry.busy?))).collect();
    (!left_out.is_empty() || !not_judged.is_empty()).then_some(Warning::Disturbed { left_out, not_judged })
}

/// Entries with a median but too few runs for its interval, the fewest named.
fn too_few_runs(analysis: &Analysis) -> Option<Warning> {
    let mut few: Vec<&EntryStats> =
        // An entry not judged for its own disturbed runs is named by
        // `Disturbed` instead: a quieter machine would help it.
        analysis
            .entries
            .iter()
            .filter(|entry| entry.wall.is_some() && entry.median_ci.is_none())
            .filter(|entry| !entry.busy.is_some_and(|busy| busy.runs_of == RunsOf::Entry))
            .collect();
    few.sort_by_key(|entry| entry.rounds.len());
    let worst = few.first()?;
    Some(Warning::TooFewRuns {
        worst: worst.id.clone(),
        runs: worst.rounds.len(),
        level: worst.median_ci_level.unwrap_or(0.0),
        entries: few.len(),
    })
}
