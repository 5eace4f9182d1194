//! Statistics per entry: its runs gathered from the rows, the median and
//! its interval, outliers, memory, and its speedup against the group's
//! serial entry.

use std::collections::{BTreeMap, BTreeSet};

use super::busy::Busy;
use super::verdicts::against_serial;
use super::{Analysis, EntryId, GroupId, Verdict, scaling};
use crate::precision;
use crate::results::RunRow;
use crate::stats::{self, Summary};
use crate::vocab::{Status, Strategy};

#[derive(Debug, Clone)]
pub struct EntryStats {
    pub id: EntryId,
    pub runs: usize,
    pub failures: usize,
    /// The runs that were not ok, by status, in the order first seen.
    pub not_ok: Vec<(Status, usize)>,
    /// Over the undisturbed ok runs, as every statistic below is.
    pub wall: Option<Summary>,
    pub walls: Vec<f64>,
    /// The order-statistic interval of the median at `median_ci_level`;
    /// `None` where too few runs reach 95%.
    pub median_ci: Option<(f64, f64)>,
    /// The interval's actual level, or where there is none, what min … max
    /// would have covered; `None` without ok runs.
    pub median_ci_level: Option<f64>,
    /// The interval's larger half-width as a fraction of the median.
    pub precision: Option<f64>,
    pub outliers: usize,
    pub median_cpu: Option<f64>,
    /// Over the undisturbed ok runs that recorded it, in bytes.
    pub median_peak_rss: Option<f64>,
    /// The medians of [`crate::results::MEDIANS`], in their order, over the
    /// undisturbed ok runs that recorded each.
    pub medians: Vec<Option<f64>>,
    /// The median over the rounds where both were undisturbed of serial's
    /// time / this entry's time; exactly 1 for serial itself; `None` where
    /// the entry is not judged (`busy`).
    pub speedup: Option<f64>,
    pub speedup_ci: Option<(f64, f64)>,
    pub speedup_ci_level: Option<f64>,
    /// Against serial, from `speedup_ci`; `None` for serial, where the
    /// group has no serial entry, and where the entry is not judged.
    pub verdict: Option<Verdict>,
    /// Not judged (busy): too few undisturbed runs of its own, or of its
    /// group's serial entry, are left. Such an entry has no speedup and no
    /// verdict, and nothing downstream uses it.
    pub busy: Option<Busy>,
    /// Undisturbed ok runs by block of processes, as (block, median wall
    /// seconds), blocks ascending: the units of its interval and the pairs
    /// behind speedups (in rows of older versions, a block is a round).
    pub rounds: Vec<(u32, f64)>,
    /// Wall seconds of every run, failed ones included: the time spent measuring.
    pub spent_s: f64,
    pub first_error: Option<String>,
    /// Logical CPUs of the host that ran it.
    pub cpus: usize,
    /// Undisturbed ok walls in repetition order, for the first-run check.
    pub walls_in_order: Vec<f64>,
    /// Every ok run, rounds ascending, the disturbed ones (which the
    /// statistics above leave out) included.
    pub ok_runs: Vec<OkRun>,
    /// Its `entry_key` and `python`, as its first row says them: with its
    /// host, what makes another invocation's entry the same (see
    /// [`super::invocations`]).
    pub entry_key: String,
    pub python: String,
    /// The invocations of the entry on its host whose spread its intervals
    /// hold, this one included (see [`super::invocations`]); 1 where they
    /// hold this invocation's runs alone.
    pub invocations: usize,
}

impl EntryStats {
    /// Ok runs that other load disturbed (the `disturbed` column).
    pub fn disturbed_runs(&self) -> usize {
        self.ok_runs.iter().filter(|run| run.disturbed).count()
    }

    pub fn efficiency(&self) -> Option<f64> {
        self.speedup.map(|speedup| speedup / self.id.workers.max(1) as f64)
    }

    /// The Karp–Flatt metric of a pool's speedup; `None` for serial and
    /// for one worker.
    pub fn karp_flatt(&self) -> Option<f64> {
        if self.id.strategy == Strategy::Serial {
            return None;
        }
        scaling::karp_flatt(self.id.workers as f64, self.speedup?)
    }
}

/// One ok run of an entry, as the charts of every run draw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OkRun {
    pub repetition: u32,
    pub wall_s: f64,
    /// Other load took CPU time it needed (the `disturbed` column).
    pub disturbed: bool,
    /// `None` in rows without a readable `started_at`.
    pub started_at: Option<std::time::SystemTime>,
    /// Its block of processes (`process`); `None` in rows of earlier
    /// versions.
    pub process: Option<u32>,
}

/// The longest time a results file may claim for a run: a century. A
/// larger one (`1e308`) is a damaged or forged cell, refused with its row
/// and column as `NaN` is.
pub const LONGEST_RUN_S: f64 = 100.0 * 365.25 * 24.0 * 3600.0;

/// One measured run, as a row says it.
#[derive(Debug, Clone)]
struct Run {
    repetition: u32,
    status: Status,
    ok: bool,
    wall_s: f64,
    cpu_s: f64,
    cpus: usize,
    error: String,
    /// None in rows of versions before the column.
    peak_rss_bytes: Option<f64>,
    disturbed: bool,
    started_at: Option<std::time::SystemTime>,
    /// The run's values of [`crate::results::MEDIANS`], in their order.
    medians: Vec<Option<f64>>,
    /// The block of processes it ran in (`RunRow::block`).
    block: u32,
    /// Its `process` cell.
    process: Option<u32>,
}

/// Analyses the rows of one or more per-run CSVs.
pub fn analyze(rows: &[RunRow]) -> Result<Analysis, String> {
    analyze_files(&[(String::new(), rows.to_vec())])
}

/// Analyses the rows of several per-run CSVs, each under its name, which
/// prefixes an error about one of its rows (`results/a.csv: row 2: …`).
pub fn analyze_files(files: &[(String, Vec<RunRow>)]) -> Result<Analysis, String> {
    let Gathered { order, keys, mut runs, param_names, hosts } = Gathered::of(files)?;
    let groups = groups_in_order(order);
    // Each entry's runs, in round order.
    for entry_runs in runs.values_mut() {
        entry_runs.sort_by_key(|run| run.repetition);
    }
    let mut entries = Vec::new();
    for (_, ids) in &groups {
        let serial = SerialBaseline::of(ids, &runs);
        for id in ids {
            entries.push(entry_stats(id, &keys[id], &runs[id], &serial));
        }
    }
    Ok(Analysis { entries, param_names: param_names.into_iter().collect(), hosts, precision_goal: None })
}

/// Every row read into its entry's runs, with the entries in order of
/// first appearance and the parameter names and hosts seen.
struct Gathered {
    order: Vec<EntryId>,
    /// Each entry's `entry_key` and `python`, from its first row.
    keys: BTreeMap<EntryId, (String, String)>,
    runs: BTreeMap<EntryId, Vec<Run>>,
    param_names: BTreeSet<String>,
    hosts: BTreeSet<String>,
}

impl Gathered {
    fn of(files: &[(String, Vec<RunRow>)]) -> Result<Gathered, String> {
        let mut gathered = Gathered {
            order: Vec::new(),
            keys: BTreeMap::new(),
            runs: BTreeMap::new(),
            param_names: BTreeSet::new(),
            hosts: BTreeSet::new(),
        };
        let rows = files
            .iter()
            .flat_map(|(name, rows)| rows.iter().enumerate().map(move |(index, row)| (name, index, row)));
        for (file, index, row) in rows {
            let at = if file.is_empty() {
                format!("row {}", index + 2)
            } else {
                format!("{file}: row {}", index + 2)
            };
            gathered.param_names.extend(row.params.keys().cloned());
            let id = EntryId::of(row);
            gathered.hosts.insert(id.group.host.clone());
            let run = Run::of(row, &at)?;
            if !gathered.runs.contains_key(&id) {
                gathered.order.push(id.clone());
                gathered.keys.insert(id.clone(), (row.entry_key.clone(), row.python.clone()));
            }
            gathered.runs.entry(id).or_default().push(run);
        }
        Ok(gathered)
    }
}

impl Run {
    /// The run a row says, or the error (prefixed with `at`) where an ok
    /// run's wall time is not a time a run can take.
    fn of(row: &RunRow, at: &str) -> Result<Run, String> {
        // A negative, not-a-number or past-a-century time is a damaged
        // file, not a number to compute with.
        let time =
            |value: f64| (value.is_finite() && (0.0..=LONGEST_RUN_S).contains(&value)).then_some(value);
        let ok = row.status == Status::Ok;
        let wall_s = match time(row.wall_s) {
            Some(wall) => wall,
            None if ok => {
                return Err(format!(
                    "{at}: \"wall_s\" is not a time a run can take (0 to a century, in seconds): \"{}\"",
                    if row.wall_s.abs() >= 1e15 {
                        format!("{:e}", row.wall_s)
                    } else {
                        row.wall_s.to_string()
                    }
                ));
            }
            None => 0.0,
        };
        Ok(Run {
            repetition: row.repetition,
            status: row.status,
            ok,
            wall_s,
            cpu_s: time(row.cpu_s).unwrap_or(0.0),
            cpus: row.cpus,
            error: row.error.clone(),
            peak_rss_bytes: row.peak_rss_bytes.map(|bytes| bytes as f64),
            disturbed: row.disturbed == Some(true),
            started_at: row.started_at,
            medians: crate::results::MEDIANS.iter().map(|median| (median.value)(row)).collect(),
            block: row.block(),
            process: row.process,
        })
    }
}

/// Entries grouped, groups in order of first appearance.
fn groups_in_order(order: Vec<EntryId>) -> Vec<(GroupId, Vec<EntryId>)> {
    let mut groups: Vec<(GroupId, Vec<EntryId>)> = Vec::new();
    for id in order {
        let group = id.group.clone();
        match groups.iter_mut().find(|(existing, _)| *existing == group) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((group, vec![id])),
        }
    }
    groups
}

/// What a group's serial entry gives the others: the rounds their
/// speedups pair with, and whether it is itself too busy to judge against.
struct SerialBaseline {
    /// `None` without a serial entry or without undisturbed ok runs of it.
    rounds: Option<Vec<(u32, f64)>>,
    busy: Option<Busy>,
}

impl SerialBaseline {
    fn of(ids: &[EntryId], runs: &BTreeMap<EntryId, Vec<Run>>) -> SerialBaseline {
        let serial = ids.iter().find(|id| id.strategy == Strategy::Serial);
        SerialBaseline {
            rounds: serial
                .map(|id| precision::block_medians(&quiet_blocks(&runs[id])))
                .filter(|rounds| !rounds.is_empty()),
            busy: serial.and_then(|id| Busy::of(&ok_runs(&runs[id]))),
        }
    }
}

/// One entry's statistics from its runs (in round order); they use the
/// undisturbed ok runs alone.
fn entry_stats(
    id: &EntryId,
    (entry_key, python): &(String, String),
    entry_runs: &[Run],
    serial: &SerialBaseline,
) -> EntryStats {
    let ok_runs = ok_runs(entry_runs);
    // Its own runs first; then serial's, which it would be judged against.
    let busy =
        Busy::of(&ok_runs).or(serial.busy.filter(|_| id.strategy != Strategy::Serial).map(Busy::of_serial));
    let quiet_blocks = quiet_blocks(entry_runs);
    let rounds = precision::block_medians(&quiet_blocks);
    let quiet = || entry_runs.iter().filter(|run| run.ok && !run.disturbed);
    let walls: Vec<f64> = quiet().map(|run| run.wall_s).collect();
    let wall = stats::summarize(&walls);
    // The interval is over the blocks of processes, each of which has a
    // level of its own; the median over every run.
    let median = precision::over_blocks(&quiet_blocks);
    let (speedup, verdict) = match busy {
        Some(_) => (None, None),
        None => against_serial(id.strategy, serial.rounds.as_deref(), &rounds),
    };
    EntryStats {
        id: id.clone(),
        runs: entry_runs.len(),
        failures: entry_runs.iter().filter(|run| !run.ok).count(),
        not_ok: not_ok_by_status(entry_runs),
        median_ci: median.and_then(|median| median.interval),
        median_ci_level: median.map(|median| median.level),
        precision: median.and_then(|median| median.half_width()),
        outliers: outliers(&walls),
        median_cpu: stats::median(&quiet().map(|run| run.cpu_s).collect::<Vec<_>>()),
        median_peak_rss: stats::median(&quiet().filter_map(|run| run.peak_rss_bytes).collect::<Vec<_>>()),
        medians: (0..crate::results::MEDIANS.len())
            .map(|at| stats::median(&quiet().filter_map(|run| run.medians[at]).collect::<Vec<_>>()))
            .collect(),
        speedup: speedup.map(|speedup| speedup.median),
        speedup_ci: speedup.and_then(|speedup| speedup.interval),
        speedup_ci_level: speedup.map(|speedup| speedup.level),
        verdict,
        first_error: entry_runs.iter().find(|run| !run.error.is_empty()).map(|run| run.error.clone()),
        cpus: entry_runs.iter().map(|run| run.cpus).max().unwrap_or(0),
        spent_s: entry_runs.iter().map(|run| run.wall_s).filter(|wall| wall.is_finite()).sum(),
        walls_in_order: walls.clone(),
        busy,
        ok_runs,
        rounds,
        walls,
        wall,
        entry_key: entry_key.clone(),
        python: python.clone(),
        invocations: 1,
    }
}

/// Every ok run, disturbed ones included.
fn ok_runs(entry_runs: &[Run]) -> Vec<OkRun> {
    entry_runs
        .iter()
        .filter(|run| run.ok)
        .map(|run| OkRun {
            repetition: run.repetition,
            wall_s: run.wall_s,
            disturbed: run.disturbed,
            started_at: run.started_at,
            process: run.process,
        })
        .collect()
}

/// The runs that were not ok, counted by status in the order first seen.
fn not_ok_by_status(entry_runs: &[Run]) -> Vec<(Status, usize)> {
    let mut not_ok: Vec<(Status, usize)> = Vec::new();
    for run in entry_runs.iter().filter(|run| !run.ok) {
        match not_ok.iter_mut().find(|(status, _)| *status == run.status) {
            Some((_, count)) => *count += 1,
            None => not_ok.push((run.status, 1)),
        }
    }
    not_ok
}

/// The undisturbed ok runs as (block of processes, wall seconds), in round
/// order. In rows of older versions each run is a block of its own.
fn quiet_blocks(runs: &[Run]) -> Vec<(u32, f64)> {
    runs.iter().filter(|run| run.ok && !run.disturbed).map(|run| (run.block, run.wall_s)).collect()
}

/// Values outside Tukey's fences (1.5 interquartile ranges beyond the quartiles).
pub fn outliers(values: &[f64]) -> usize {
    if values.len() < 4 {
        return 0;
    }
    let Some((q1, q3)) = crate::stats::quantiles(values, 0.25, 0.75) else { return 0 };
    let reach = 1.5 * (q3 - q1);
    values.iter().filter(|value| **value < q1 - reach || **value > q3 + reach).count()
}
