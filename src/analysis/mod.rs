//! From per-run rows to numbers and verdicts: statistics per entry, speedups
//! against serial with confidence intervals, warnings, and the crossover
//! where parallelism starts to pay. Everything here is data; `report/`
//! alone puts it into words (see `report::words`).
//!
//! Everything here works from the rows of per-run CSVs, so that `run` (on
//! the rows it just wrote) and `report` (on any CSVs, from any hosts) give
//! the same answers, and the same rows always give the same numbers.
//!
//! Intervals are the exact ones of order statistics, with their actual
//! level (see [`crate::precision`]); a speedup is the median of serial's
//! time over the entry's time round by round, and its verdict comes from
//! its interval: *beats serial* only when the whole interval lies above 1.

use std::collections::{BTreeMap, BTreeSet};

pub mod answers;
pub mod compare;
pub mod scaling;

pub use crate::precision::Verdict;
use crate::precision::{self, Estimate};
use crate::stats::{self, Summary};

/// What identifies an entry in a results file: its group and how it ran.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId {
    /// The entries compared with each other share it.
    pub group: GroupId,
    pub strategy: String,
    pub workers: usize,
    pub chunk_size: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId {
    pub job: String,
    pub host: String,
    pub workload: String,
    pub generator: String,
    pub list_size: usize,
    /// `param_NAME` cells that are not empty, by name.
    pub params: Vec<(String, String)>,
}

/// One measured run, as a row says it.
#[derive(Debug, Clone)]
pub struct Run {
    pub repetition: u32,
    pub ok: bool,
    pub wall_s: f64,
    pub cpu_s: f64,
    pub cpus: usize,
    pub error: String,
    /// None in rows of versions before the column.
    pub peak_rss_bytes: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct EntryStats {
    pub id: EntryId,
    pub runs: usize,
    pub failures: usize,
    /// Over the ok runs.
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
    /// Over the ok runs that recorded it, in bytes.
    pub median_peak_rss: Option<f64>,
    /// The median over rounds of serial's time / this entry's time; exactly
    /// 1 for serial itself.
    pub speedup: Option<f64>,
    pub speedup_ci: Option<(f64, f64)>,
    pub speedup_ci_level: Option<f64>,
    /// Against serial, from `speedup_ci`; `None` for serial and where the
    /// group has no serial entry.
    pub verdict: Option<Verdict>,
    /// Ok runs as (round, wall seconds), rounds ascending: the pairs behind
    /// speedups.
    pub rounds: Vec<(u32, f64)>,
    /// Wall seconds of every run, failed ones included: the time spent measuring.
    pub spent_s: f64,
    pub first_error: Option<String>,
    /// Logical CPUs of the host that ran it.
    pub cpus: usize,
    /// Ok walls in repetition order, for the first-run check.
    pub walls_in_order: Vec<f64>,
}

impl EntryStats {
    pub fn efficiency(&self) -> Option<f64> {
        self.speedup.map(|speedup| speedup / self.id.workers.max(1) as f64)
    }

    /// The Karp–Flatt metric of a pool's speedup; `None` for serial and
    /// for one worker.
    pub fn karp_flatt(&self) -> Option<f64> {
        if self.id.strategy == "serial" {
            return None;
        }
        scaling::karp_flatt(self.id.workers as f64, self.speedup?)
    }
}

#[derive(Debug, Clone)]
pub struct Analysis {
    /// Every entry, in the order its first row appeared; the entries of a
    /// group are contiguous, serial first where it was measured first.
    pub entries: Vec<EntryStats>,
    /// Parameter names, sorted, for `param_NAME` columns.
    pub param_names: Vec<String>,
    pub hosts: BTreeSet<String>,
    /// The precision `repetitions = "auto"` aimed for, where the run knows
    /// it: an entry short of it is warned about.
    pub precision_goal: Option<f64>,
}

impl Analysis {
    /// Groups in order, each with its entries (contiguous in `entries`).
    pub fn groups(&self) -> Vec<(GroupId, Vec<&EntryStats>)> {
        self.entries
            .chunk_by(|a, b| a.id.group == b.id.group)
            .map(|entries| (entries[0].id.group.clone(), entries.iter().collect()))
            .collect()
    }
}

/// Parses rows (column name → cell) of one or more per-run CSVs.
pub fn analyze(rows: &[BTreeMap<String, String>]) -> Result<Analysis, String> {
    analyze_files(&[(String::new(), rows.to_vec())])
}

/// Parses the rows of several per-run CSVs, each under its name, which
/// prefixes an error about one of its rows (`results/a.csv: row 2: …`).
pub fn analyze_files(files: &[(String, Vec<BTreeMap<String, String>>)]) -> Result<Analysis, String> {
    let mut order: Vec<EntryId> = Vec::new();
    let mut runs: BTreeMap<EntryId, Vec<Run>> = BTreeMap::new();
    let mut param_names = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    let rows = files
        .iter()
        .flat_map(|(name, rows)| rows.iter().enumerate().map(move |(index, row)| (name, index, row)));
    for (file, index, row) in rows {
        let at =
            if file.is_empty() { format!("row {}", index + 2) } else { format!("{file}: row {}", index + 2) };
        let cell = |name: &str| -> Result<&str, String> {
            row.get(name)
                .map(String::as_str)
                .ok_or_else(|| format!("{at}: no column \"{name}\"; is this a parbench results CSV?"))
        };
        let number = |name: &str| -> Result<f64, String> {
            let text = cell(name)?;
            text.parse().map_err(|_| format!("{at}: \"{name}\" is not a number: {text:?}"))
        };
        // Counts and times are checked, not saturated: "inf" workers or a
        // negative time is a damaged file, not a number to compute with.
        let count = |name: &str| -> Result<u64, String> {
            let text = cell(name)?;
            text.parse().map_err(|_| format!("{at}: \"{name}\" is not a whole number: {text:?}"))
        };
        let seconds = |name: &str| -> Result<f64, String> {
            let value = number(name)?;
            match value.is_finite() && value >= 0.0 {
                true => Ok(value),
                false => Err(format!("{at}: \"{name}\" is not a time in seconds: {:?}", cell(name)?)),
            }
        };
        let too_large = |name: &str| format!("{at}: \"{name}\" is too large");
        let params: Vec<(String, String)> = row
            .iter()
            .filter_map(|(name, value)| {
                let param = name.strip_prefix("param_")?;
                (!value.is_empty()).then(|| (param.to_owned(), value.clone()))
            })
            .collect();
        for name in row.keys().filter_map(|name| name.strip_prefix("param_")) {
            param_names.insert(name.to_owned());
        }
        let id = EntryId {
            group: GroupId {
                job: cell("job")?.to_owned(),
                host: cell("host")?.to_owned(),
                workload: cell("workload")?.to_owned(),
                generator: cell("generator")?.to_owned(),
                list_size: usize::try_from(count("list_size")?).map_err(|_| too_large("list_size"))?,
                params,
            },
            strategy: cell("strategy")?.to_owned(),
            workers: usize::try_from(count("workers")?).map_err(|_| too_large("workers"))?,
            chunk_size: cell("chunk_size")?.to_owned(),
        };
        hosts.insert(id.group.host.clone());
        let ok = cell("status")? == "ok";
        let run = Run {
            repetition: u32::try_from(count("repetition")?).map_err(|_| too_large("repetition"))?,
            ok,
            wall_s: if ok { seconds("wall_s")? } else { seconds("wall_s").unwrap_or(0.0) },
            cpu_s: seconds("cpu_s").unwrap_or(0.0),
            cpus: count("cpus").ok().and_then(|cpus| usize::try_from(cpus).ok()).unwrap_or(0),
            error: cell("error").unwrap_or_default().to_owned(),
            peak_rss_bytes: number("peak_rss_bytes").ok().filter(|bytes| bytes.is_finite() && *bytes >= 0.0),
        };
        if !runs.contains_key(&id) {
            order.push(id.clone());
        }
        runs.entry(id).or_default().push(run);
    }

    // Entries grouped, groups in order of first appearance.
    let mut groups: Vec<(GroupId, Vec<EntryId>)> = Vec::new();
    for id in order {
        let group = id.group.clone();
        match groups.iter_mut().find(|(existing, _)| *existing == group) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((group, vec![id])),
        }
    }

    let mut entries = Vec::new();
    for (_, ids) in &groups {
        let serial_rounds: Option<Vec<(u32, f64)>> = ids
            .iter()
            .find(|id| id.strategy == "serial")
            .map(|id| ok_rounds(&runs[id]))
            .filter(|rounds| !rounds.is_empty());
        for id in ids {
            let mut entry_runs = runs[id].clone();
            entry_runs.sort_by_key(|run| run.repetition);
            let rounds = ok_rounds(&entry_runs);
            let walls: Vec<f64> = rounds.iter().map(|(_, wall)| *wall).collect();
            let wall = stats::summarize(&walls);
            let median = precision::estimate(&walls);
            let speedup: Option<Estimate> = match &serial_rounds {
                // Serial against itself: exactly 1, at both ends.
                Some(_) if id.strategy == "serial" => Some(Estimate::exact(1.0)),
                Some(serial) => precision::speedup(serial, &rounds),
                None => None,
            };
            let verdict = (id.strategy != "serial" && serial_rounds.is_some())
                .then(|| Verdict::of(speedup.and_then(|speedup| speedup.interval)));
            entries.push(EntryStats {
                id: id.clone(),
                runs: entry_runs.len(),
                failures: entry_runs.iter().filter(|run| !run.ok).count(),
                median_ci: median.and_then(|median| median.interval),
                median_ci_level: median.map(|median| median.level),
                precision: median.and_then(|median| median.half_width()),
                outliers: outliers(&walls),
                median_cpu: stats::median(
                    &entry_runs.iter().filter(|run| run.ok).map(|run| run.cpu_s).collect::<Vec<_>>(),
                ),
                median_peak_rss: stats::median(
                    &entry_runs
                        .iter()
                        .filter(|run| run.ok)
                        .filter_map(|run| run.peak_rss_bytes)
                        .collect::<Vec<_>>(),
                ),
                speedup: speedup.map(|speedup| speedup.median),
                speedup_ci: speedup.and_then(|speedup| speedup.interval),
                speedup_ci_level: speedup.map(|speedup| speedup.level),
                verdict,
                first_error: entry_runs.iter().find(|run| !run.error.is_empty()).map(|run| run.error.clone()),
                cpus: entry_runs.iter().map(|run| run.cpus).max().unwrap_or(0),
                spent_s: entry_runs.iter().map(|run| run.wall_s).filter(|wall| wall.is_finite()).sum(),
                walls_in_order: walls.clone(),
                rounds,
                walls,
                wall,
            });
        }
    }
    Ok(Analysis { entries, param_names: param_names.into_iter().collect(), hosts, precision_goal: None })
}

/// Ok runs as (round, wall seconds).
fn ok_rounds(runs: &[Run]) -> Vec<(u32, f64)> {
    runs.iter().filter(|run| run.ok).map(|run| (run.repetition, run.wall_s)).collect()
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

// ---------------------------------------------------------------- warnings

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
    /// `repetitions = "auto"` stopped at `max_time` short of its goal: the
    /// `precision` it reached (`None`: no 95% interval at all) after `runs`
    /// taking `spent_s`. One per entry.
    PrecisionNotReached { entry: EntryId, precision: Option<f64>, runs: usize, spent_s: f64 },
    /// Too few ok runs for any 95% interval of the median (at most 5): the
    /// fewest `runs` of them, and the `level` min … max has there.
    TooFewRuns { worst: EntryId, runs: usize, level: f64, entries: usize },
}

pub fn warnings(analysis: &Analysis) -> Vec<Warning> {
    // (how bad, entry) per kind.
    let mut variation: Vec<(f64, &EntryId)> = Vec::new();
    let mut oversubscribed: Vec<(f64, &EntryId)> = Vec::new();
    let mut slow_first: Vec<(f64, &EntryId)> = Vec::new();
    for entry in &analysis.entries {
        if let Some(wall) = &entry.wall
            && wall.count >= 3
            && wall.mean > 0.0
            && wall.stddev / wall.mean > 0.10
        {
            variation.push((wall.stddev / wall.mean, &entry.id));
        }
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
            .find(|other| other.id.group == entry.id.group && other.id.strategy == "serial")
            .and_then(cpu_share);
        let share = serial
            .or_else(|| cpu_share(entry).map(|share| share / entry.id.workers.min(entry.cpus).max(1) as f64));
        let busy = share.is_none_or(|share| share >= 0.05);
        if busy && entry.cpus > 0 && entry.id.workers > entry.cpus && entry.id.strategy != "serial" {
            oversubscribed.push((entry.id.workers as f64 / entry.cpus as f64, &entry.id));
        }
        if let [first, rest @ ..] = entry.walls_in_order.as_slice()
            && rest.len() >= 2
            && let Some(typical) = stats::median(rest)
            && typical > 0.0
            && *first > 1.5 * typical
        {
            slow_first.push((first / typical, &entry.id));
        }
    }
    let worst = |cases: &mut Vec<(f64, &EntryId)>| -> Option<(f64, EntryId, usize)> {
        cases.sort_by(|a, b| b.0.total_cmp(&a.0));
        cases.first().map(|(value, id)| (*value, (*id).clone(), cases.len()))
    };
    let mut warnings = Vec::new();
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
    for (group, entries) in analysis.groups() {
        if let Some(serial) = entries.iter().find(|entry| entry.id.strategy == "serial")
            && serial.wall.is_none()
        {
            warnings.push(Warning::SerialFailed { group });
        }
    }
    if let Some(goal) = analysis.precision_goal {
        for entry in &analysis.entries {
            let reached = entry.precision.is_some_and(|precision| precision <= goal);
            if !reached && entry.wall.is_some() {
                warnings.push(Warning::PrecisionNotReached {
                    entry: entry.id.clone(),
                    precision: entry.precision,
                    runs: entry.runs,
                    spent_s: entry.spent_s,
                });
            }
        }
    }
    let mut few: Vec<&EntryStats> =
        analysis.entries.iter().filter(|entry| entry.wall.is_some() && entry.median_ci.is_none()).collect();
    few.sort_by_key(|entry| entry.walls.len());
    if let Some(worst) = few.first() {
        warnings.push(Warning::TooFewRuns {
            worst: worst.id.clone(),
            runs: worst.walls.len(),
            level: worst.median_ci_level.unwrap_or(0.0),
            entries: few.len(),
        });
    }
    warnings
}

// ---------------------------------------------------------------- crossover

/// One way of running a workload at one point, against serial: where
/// several chunk sizes were measured, the one whose speedup interval starts
/// highest, and how many there were to choose from (the choice is made
/// after measuring, and the words say so).
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub speedup: f64,
    pub interval: Option<(f64, f64)>,
    pub verdict: Verdict,
    /// The chunk size chosen and the number measured, where more than one.
    pub chunk_of: Option<(String, usize)>,
}

/// Where a way of running a workload starts to beat serial.
#[derive(Debug, Clone, PartialEq)]
pub enum Crossover {
    /// Nothing varies in the job: the one point measured.
    Point { group: GroupId, strategy: String, workers: usize, point: Point },
    /// Along one axis (`size`, the list size, or a parameter's name), the
    /// others held at `fixed`.
    Series(Series),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub workload: String,
    /// The host, where the rows come from more than one.
    pub host: Option<String>,
    pub axis: String,
    pub strategy: String,
    pub workers: usize,
    /// The other axes that vary in the job, with their value along this series.
    pub fixed: Vec<(String, String)>,
    /// The first and last value of the axis measured.
    pub first: String,
    pub last: String,
    pub verdict: SeriesVerdict,
    /// The best speedup along the axis and where it was measured.
    pub best: (String, Point),
    /// Some point was the best of several chunk sizes.
    pub chunk_chosen: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SeriesVerdict {
    /// Beats serial at every value measured.
    Everywhere,
    /// Beats serial from this value on, with this point there.
    From(String, Point),
    /// Beats serial nowhere from some value to the end; `slower`: its
    /// interval lies below 1 at every value.
    Never { slower: bool },
}

impl Crossover {
    pub fn beats(&self) -> bool {
        match self {
            Crossover::Point { point, .. } => point.verdict == Verdict::Beats,
            Crossover::Series(series) => !matches!(series.verdict, SeriesVerdict::Never { .. }),
        }
    }
}

/// Which chunk size represents an entry's (group, strategy, workers): the
/// one whose interval's low end is highest (a sure gain over a lucky one).
fn better(a: &Point, b: &Point) -> bool {
    let low = |point: &Point| point.interval.map_or(f64::NEG_INFINITY, |(low, _)| low);
    low(a).total_cmp(&low(b)).then(a.speedup.total_cmp(&b.speedup)).is_gt()
}

/// For each workload and way of running it, where it starts to beat serial
/// along each axis of the job (list size, or a parameter that varies).
/// Without an axis, the verdict at the one point measured.
pub fn crossover(analysis: &Analysis) -> Vec<Crossover> {
    // One point per (group, strategy, workers): chunk sizes vary with the
    // list size under "auto", so they are folded together, and where a
    // group measured several, the best is chosen and said to be.
    let mut best: BTreeMap<(GroupId, String, usize), Point> = BTreeMap::new();
    let mut chunks: BTreeMap<(GroupId, String, usize), usize> = BTreeMap::new();
    for entry in &analysis.entries {
        if entry.id.strategy == "serial" {
            continue;
        }
        if let (Some(speedup), Some(verdict)) = (entry.speedup, entry.verdict) {
            let key = (entry.id.group.clone(), entry.id.strategy.clone(), entry.id.workers);
            *chunks.entry(key.clone()).or_default() += 1;
            let point = Point {
                speedup,
                interval: entry.speedup_ci,
                verdict,
                chunk_of: Some((entry.id.chunk_size.clone(), 0)),
            };
            match best.get(&key) {
                Some(held) if !better(&point, held) => {}
                _ => {
                    best.insert(key, point);
                }
            }
        }
    }
    for (key, point) in &mut best {
        let count = chunks[key];
        point.chunk_of = point.chunk_of.take().filter(|_| count > 1).map(|(chunk, _)| (chunk, count));
    }
    // Axes: the list size and every parameter with more than one value.
    let mut axes: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    for (group, _, _) in best.keys() {
        axes.entry((group.job.clone(), group.workload.clone(), "size".to_owned()))
            .or_default()
            .insert(group.list_size.to_string());
        for (name, value) in &group.params {
            axes.entry((group.job.clone(), group.workload.clone(), name.clone()))
                .or_default()
                .insert(value.clone());
        }
    }
    let varying = |job: &str, workload: &str, axis: &str| {
        axes.get(&(job.to_owned(), workload.to_owned(), axis.to_owned()))
            .is_some_and(|values| values.len() > 1)
    };
    let several_hosts = analysis.hosts.len() > 1;

    let mut found = Vec::new();
    // Series: everything fixed but one axis.
    let mut series: BTreeMap<SeriesKey, Vec<(f64, String, Point)>> = BTreeMap::new();
    for ((group, strategy, workers), point) in &best {
        let mut any_axis = false;
        let axis_values: Vec<(String, String)> =
            std::iter::once(("size".to_owned(), group.list_size.to_string()))
                .chain(group.params.iter().cloned())
                .collect();
        for (axis, value) in &axis_values {
            if !varying(&group.job, &group.workload, axis) {
                continue;
            }
            any_axis = true;
            let fixed: Vec<(String, String)> = axis_values
                .iter()
                .filter(|(other, _)| other != axis && varying(&group.job, &group.workload, other))
                .cloned()
                .collect();
            let numeric: f64 = value.parse().unwrap_or(f64::NAN);
            let host = several_hosts.then(|| group.host.clone());
            series
                .entry((
                    group.workload.clone(),
                    host,
                    axis.clone(),
                    strategy.clone(),
                    *workers,
                    fixed,
                    group.job.clone(),
                ))
                .or_default()
                .push((numeric, value.clone(), point.clone()));
        }
        if !any_axis {
            found.push(Crossover::Point {
                group: group.clone(),
                strategy: strategy.clone(),
                workers: *workers,
                point: point.clone(),
            });
        }
    }
    for ((workload, host, axis, strategy, workers, fixed, _), mut points) in series {
        points.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        // The first point from which it stays ahead, surely.
        let from = (0..points.len())
            .find(|start| points[*start..].iter().all(|point| point.2.verdict == Verdict::Beats));
        let (_, best_value, best_point) = points
            .iter()
            .max_by(|a, b| a.2.speedup.total_cmp(&b.2.speedup))
            .cloned()
            .expect("a series has points");
        let verdict = match from {
            Some(0) => SeriesVerdict::Everywhere,
            Some(start) => SeriesVerdict::From(points[start].1.clone(), points[start].2.clone()),
            None => {
                SeriesVerdict::Never { slower: points.iter().all(|point| point.2.verdict == Verdict::Slower) }
            }
        };
        found.push(Crossover::Series(Series {
            workload,
            host,
            axis,
            strategy,
            workers,
            fixed,
            first: points[0].1.clone(),
            last: points[points.len() - 1].1.clone(),
            verdict,
            chunk_chosen: points.iter().any(|point| point.2.chunk_of.is_some()),
            best: (best_value, best_point),
        }));
    }
    found
}

/// (workload, host where several, axis, strategy, workers, the other axes' values, job).
type SeriesKey = (String, Option<String>, String, String, usize, Vec<(String, String)>, String);

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        strategy: &str,
        workers: usize,
        size: usize,
        repetition: u32,
        wall: f64,
    ) -> BTreeMap<String, String> {
        [
            ("job", "j".to_owned()),
            ("host", "h".to_owned()),
            ("workload", "w".to_owned()),
            ("generator", "range".to_owned()),
            ("list_size", size.to_string()),
            ("strategy", strategy.to_owned()),
            ("workers", workers.to_string()),
            ("chunk_size", String::new()),
            ("repetition", repetition.to_string()),
            ("status", "ok".to_owned()),
            ("wall_s", wall.to_string()),
            ("cpu_s", wall.to_string()),
            ("cpus", "2".to_owned()),
            ("error", String::new()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
    }

    #[test]
    fn intervals_come_from_order_statistics_and_speedups_from_rounds() {
        // Serial drifts from round to round; threads always takes half.
        let mut rows = Vec::new();
        for repetition in 1..=10 {
            let serial = 1.0 + f64::from(repetition) / 10.0;
            rows.push(row("serial", 1, 10, repetition, serial));
            rows.push(row("threads", 2, 10, repetition, serial / 2.0));
        }
        let analysis = analyze(&rows).unwrap();
        let (serial, threads) = (&analysis.entries[0], &analysis.entries[1]);
        // The 2nd and 9th of ten values, at 1 - 22/1024.
        assert_eq!(serial.median_ci, Some((1.2, 1.9)));
        assert_eq!(serial.median_ci_level, Some(1.0 - 22.0 / 1024.0));
        assert_eq!((serial.speedup, serial.speedup_ci, serial.verdict), (Some(1.0), Some((1.0, 1.0)), None));
        // Paired, the drift cancels: exactly 2 at both ends.
        assert_eq!(threads.speedup, Some(2.0));
        assert_eq!(threads.speedup_ci, Some((2.0, 2.0)));
        assert_eq!(threads.verdict, Some(Verdict::Beats));
        // Five runs: no interval, and the level says what min … max covers.
        let five = analyze(&rows[..10]).unwrap();
        assert_eq!((five.entries[0].median_ci, five.entries[0].median_ci_level), (None, Some(0.9375)));
        assert_eq!(five.entries[0].speedup_ci, Some((1.0, 1.0)), "serial is exactly 1 whatever the runs");
        assert_eq!(five.entries[1].verdict, Some(Verdict::NoClearDifference));
    }

    #[test]
    fn hostile_counts_and_times_are_named_not_saturated() {
        let damaged = |column: &str, text: &str| {
            let mut bad = row("threads", 2, 10, 1, 1.0);
            bad.insert(column.to_owned(), text.to_owned());
            analyze(&[bad]).map(|_| ()).unwrap_err()
        };
        assert_eq!(damaged("workers", "inf"), "row 2: \"workers\" is not a whole number: \"inf\"");
        assert_eq!(damaged("workers", "2.5"), "row 2: \"workers\" is not a whole number: \"2.5\"");
        assert_eq!(damaged("list_size", "-3"), "row 2: \"list_size\" is not a whole number: \"-3\"");
        assert_eq!(damaged("repetition", "4294967296"), "row 2: \"repetition\" is too large");
        assert_eq!(damaged("wall_s", "-1"), "row 2: \"wall_s\" is not a time in seconds: \"-1\"");
        assert_eq!(damaged("wall_s", "NaN"), "row 2: \"wall_s\" is not a time in seconds: \"NaN\"");
        assert!(analyze(&[row("threads", 2, 10, 1, 1.0)]).is_ok());
    }

    #[test]
    fn tukey_fences_find_the_straggler() {
        assert_eq!(outliers(&[1.0, 1.01, 0.99, 1.02, 0.98, 5.0]), 1);
        assert_eq!(outliers(&[1.0, 1.01, 0.99, 1.02]), 0);
    }

    #[test]
    fn speedups_come_from_the_groups_serial_entry() {
        let mut rows = Vec::new();
        for repetition in 1..=3 {
            rows.push(row("serial", 1, 10, repetition, 2.0));
            rows.push(row("threads", 2, 10, repetition, 1.0));
            rows.push(row("threads", 4, 10, repetition, 1.0));
        }
        let analysis = analyze(&rows).unwrap();
        assert_eq!(analysis.entries.len(), 3);
        assert_eq!(analysis.entries[1].speedup, Some(2.0));
        assert_eq!(analysis.entries[1].efficiency(), Some(1.0));
        let warnings = crate::report::words::warnings(&analysis);
        assert_eq!(
            warnings,
            vec![
                "more workers than CPUs (2) in w · range 10 items · threads ×4: CPU-bound work cannot gain past 2",
                "too few runs for a 95% interval of the median in w · range 10 items · serial and 2 other entries: \
                 min … max of 3 covers it 75% of the time, and it takes 6: use repetitions = \"auto\""
            ]
        );
    }

    #[test]
    fn the_crossover_is_where_a_strategy_starts_to_stay_ahead() {
        let mut rows = Vec::new();
        for (size, serial, threads) in [(10, 1.0, 3.0), (100, 2.0, 2.5), (1000, 4.0, 2.0), (10000, 8.0, 3.2)]
        {
            for repetition in 1..=10 {
                rows.push(row("serial", 1, size, repetition, serial));
                rows.push(row("threads", 2, size, repetition, threads));
            }
        }
        let sentences = crate::report::words::crossover(&analyze(&rows).unwrap());
        assert_eq!(
            sentences,
            vec![
                "w: threads ×2 beats serial from 1000 items on (2.00×, 95% CI 2.00× … 2.00× there; best 2.50× at 10000 items)"
            ]
        );
        // With three runs there is no interval, so no verdict of "beats".
        let few: Vec<_> =
            rows.iter().filter(|row| row["repetition"].parse::<u32>().unwrap() <= 3).cloned().collect();
        let sentences = crate::report::words::crossover(&analyze(&few).unwrap());
        assert_eq!(
            sentences,
            vec!["w: threads ×2 never clearly beats serial for size 10..10000 (best 2.50× at 10000 items)"]
        );
    }

    #[test]
    fn the_best_chunk_size_is_named_as_chosen_after_measuring() {
        let mut rows = Vec::new();
        for repetition in 1..=10 {
            rows.push(row("serial", 1, 10, repetition, 2.0));
            for (chunk, wall) in [("1", 1.0), ("4", 1.9)] {
                let mut cells = row("processes", 2, 10, repetition, wall);
                cells.insert("chunk_size".to_owned(), chunk.to_owned());
                rows.push(cells);
            }
        }
        let sentences = crate::report::words::crossover(&analyze(&rows).unwrap());
        assert_eq!(
            sentences,
            vec![
                "w · range 10 items: processes ×2 with chunk 1, the best of 2 chunk sizes, chosen after measuring beats serial (2.00×, 95% CI 2.00× … 2.00×)"
            ]
        );
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn cell() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("0".to_owned()),
            Just("nan".to_owned()),
            Just("inf".to_owned()),
            Just("-1".to_owned()),
            Just("".to_owned()),
            Just("abc".to_owned()),
            (0.0f64..10.0).prop_map(|value| value.to_string()),
            (1usize..5).prop_map(|value| value.to_string()),
        ]
    }

    fn row() -> impl Strategy<Value = BTreeMap<String, String>> {
        (
            prop::sample::select(vec!["serial", "threads", "processes"]),
            cell(),
            cell(),
            cell(),
            cell(),
            prop::sample::select(vec!["ok", "failed", "mismatch"]),
            prop::option::of(cell()),
        )
            .prop_map(|(strategy, workers, size, repetition, wall, status, param)| {
                let mut row = run(strategy, &workers, &size, &repetition, &wall);
                row.insert("status".to_owned(), status.to_owned());
                if let Some(param) = param {
                    row.insert("param_x".to_owned(), param);
                }
                row
            })
    }

    fn run(
        strategy: &str,
        workers: &str,
        size: &str,
        repetition: &str,
        wall: &str,
    ) -> BTreeMap<String, String> {
        [
            ("job", "j"),
            ("host", "h"),
            ("workload", "w"),
            ("generator", "range"),
            ("strategy", strategy),
            ("chunk_size", ""),
            ("status", "ok"),
            ("cpu_s", "0"),
            ("cpus", "2"),
            ("error", ""),
            ("workers", workers),
            ("list_size", size),
            ("repetition", repetition),
            ("wall_s", wall),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
    }

    /// Found hanging (or panicking) the HTML report: 10^15 workers asked
    /// plotters for a label at every worker count (and overflowed `usize`),
    /// and 10^300 s against 10^18 items made a log axis whose ends' ratio
    /// overflows, which plotters steps through ~`usize::MAX` times. Each
    /// case must end, with a report and no panic. ("inf" or "1e15" workers
    /// are refused before that: a count is a whole number.)
    #[test]
    fn huge_worker_counts_sizes_and_times_give_a_report() {
        let serial_and_threads =
            |workers| vec![run("serial", "1", "4", "1", "1"), run("threads", workers, "4", "1", "0.5")];
        for workers in ["1000000000000000", "100000"] {
            let analysis = analyze(&serial_and_threads(workers)).unwrap();
            let answers = crate::analysis::answers::answers(&analysis, Some(64));
            assert!(
                crate::report::html::render(&analysis, &answers).contains("</html>"),
                "workers {workers}"
            );
        }
        let huge = "18446744073709551615";
        for (size, wall) in
            [("1000000000000000000", "1e300"), (huge, "1e-300"), ("1", "1e300"), (huge, "5e-324")]
        {
            let mut rows = Vec::new();
            for list_size in ["1", "4", size] {
                for repetition in ["1", "2", "3"] {
                    rows.push(run(
                        "serial",
                        "1",
                        list_size,
                        repetition,
                        if list_size == size { wall } else { "1" },
                    ));
                    rows.push(run("threads", "2", list_size, repetition, "0.5"));
                    rows.push(run("processes", huge, list_size, repetition, wall));
                }
            }
            let analysis = analyze(&rows).unwrap();
            let answers = crate::analysis::answers::answers(&analysis, Some(64));
            assert!(
                crate::report::html::render(&analysis, &answers).contains("</html>"),
                "{size} items, {wall} s"
            );
            let _ = crate::report::html::charts(&analysis, &answers);
        }
        for workers in ["inf", "1e15"] {
            let error = analyze(&serial_and_threads(workers)).unwrap_err();
            assert!(error.contains("\"workers\" is not a whole number"));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

        /// `report` reads any CSV a person hands it: whatever the cells
        /// hold, an error or a report, never a panic.
        #[test]
        fn any_rows_give_an_error_or_a_report(rows in prop::collection::vec(row(), 0..12)) {
            if let Ok(analysis) = analyze(&rows) {
                let _ = crate::report::table::render(&analysis);
                let _ = crate::report::summary::to_csv(&analysis);
                let _ = crate::report::markdown::render(&analysis);
                let answers = crate::analysis::answers::answers(&analysis, Some(64));
                let _ = crate::report::json::render(&analysis, &answers);
                let _ = crate::report::scaling::to_csv(&answers, &analysis.param_names);
                let _ = crate::report::scaling::text(&answers, 1);
                let _ = crate::report::html::render(&analysis, &answers);
                let _ = compare::compare(&analysis, &analysis, 0.05);
            }
        }
    }
}
