//! Where a way of running a workload starts to beat serial, along each
//! axis the job varies (list size, parameters), as data.

use std::collections::{BTreeMap, BTreeSet};

use super::{Analysis, GroupId, Verdict};
use crate::vocab::Strategy;

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
    pub chunk_of: Option<(crate::vocab::Chunking, usize)>,
}

/// Where a way of running a workload starts to beat serial.
#[derive(Debug, Clone, PartialEq)]
pub enum Crossover {
    /// Nothing varies in the job: the one point measured.
    Point { group: GroupId, strategy: Strategy, workers: usize, point: Point },
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
    pub strategy: Strategy,
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
    /// Values of the axis where it was measured but not judged (busy), left
    /// out of the verdict above, in axis order.
    pub not_judged: Vec<String>,
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
    let Measured { best, busy } = Measured::of(analysis);
    let axes = Axes::of(best.keys().chain(&busy), analysis.hosts.len() > 1);

    let mut found = Vec::new();
    // Series: everything fixed but one axis.
    let mut series: BTreeMap<SeriesKey, Vec<(f64, String, Point)>> = BTreeMap::new();
    for ((group, strategy, workers), point) in &best {
        let along = axes.series_of(group, *strategy, *workers);
        if along.is_empty() {
            found.push(Crossover::Point {
                group: group.clone(),
                strategy: strategy.0,
                workers: *workers,
                point: point.clone(),
            });
        }
        for (key, value) in along {
            let numeric: f64 = value.parse().unwrap_or(f64::NAN);
            series.entry(key).or_default().push((numeric, value, point.clone()));
        }
    }
    let mut not_judged: BTreeMap<SeriesKey, Vec<(f64, String)>> = BTreeMap::new();
    for (group, strategy, workers) in &busy {
        for (key, value) in axes.series_of(group, *strategy, *workers) {
            not_judged.entry(key).or_default().push((value.parse().unwrap_or(f64::NAN), value));
        }
    }
    for (key, points) in series {
        let left_out = not_judged.remove(&key).unwrap_or_default();
        found.push(Crossover::Series(judge_series(key, points, left_out)));
    }
    found
}

/// (group, strategy, workers): one point of a crossover.
type PointKey = (GroupId, ByName, usize);

/// What the entries measured against serial, one point per (group,
/// strategy, workers).
struct Measured {
    /// The best chunk size of each point judged.
    best: BTreeMap<PointKey, Point>,
    /// Measured, but no chunk size of it judged: said to be left out.
    busy: BTreeSet<PointKey>,
}

impl Measured {
    /// Chunk sizes vary with the list size under "auto", so they are folded
    /// together, and where a group measured several, the best is chosen and
    /// said to be.
    fn of(analysis: &Analysis) -> Measured {
        let mut best: BTreeMap<PointKey, Point> = BTreeMap::new();
        let mut chunks: BTreeMap<PointKey, usize> = BTreeMap::new();
        let mut busy: BTreeSet<PointKey> = BTreeSet::new();
        for entry in &analysis.entries {
            if entry.id.strategy == Strategy::Serial {
                continue;
            }
            if entry.busy.is_some() {
                busy.insert((entry.id.group.clone(), ByName(entry.id.strategy), entry.id.workers));
            }
            if let (Some(speedup), Some(verdict)) = (entry.speedup, entry.verdict) {
                let key = (entry.id.group.clone(), ByName(entry.id.strategy), entry.id.workers);
                *chunks.entry(key.clone()).or_default() += 1;
                let point = Point {
                    speedup,
                    interval: entry.speedup_ci,
                    verdict,
                    chunk_of: Some((entry.id.chunking, 0)),
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
        busy.retain(|key| !best.contains_key(key));
        Measured { best, busy }
    }
}

/// The axes of each (job, workload): the list size and every parameter,
/// with the values measured along each.
struct Axes {
    values: BTreeMap<(String, String, String), BTreeSet<String>>,
    several_hosts: bool,
}

impl Axes {
    fn of<'a>(points: impl Iterator<Item = &'a PointKey>, several_hosts: bool) -> Axes {
        let mut values: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
        for (group, _, _) in points {
            values
                .entry((group.job.clone(), group.workload.clone(), "size".to_owned()))
                .or_default()
                .insert(group.list_size.to_string());
            for (name, value) in &group.params {
                values
                    .entry((group.job.clone(), group.workload.clone(), name.clone()))
                    .or_default()
                    .insert(value.clone());
            }
        }
        Axes { values, several_hosts }
    }

    /// More than one value of `axis` was measured.
    fn varying(&self, job: &str, workload: &str, axis: &str) -> bool {
        self.values
            .get(&(job.to_owned(), workload.to_owned(), axis.to_owned()))
            .is_some_and(|values| values.len() > 1)
    }

    /// The series a point belongs to (one per axis that varies), with its
    /// value on that axis; none where nothing varies.
    fn series_of(&self, group: &GroupId, strategy: ByName, workers: usize) -> Vec<(SeriesKey, String)> {
        let axis_values: Vec<(String, String)> =
            std::iter::once(("size".to_owned(), group.list_size.to_string()))
                .chain(group.params.iter().cloned())
                .collect();
        axis_values
            .iter()
            .filter(|(axis, _)| self.varying(&group.job, &group.workload, axis))
            .map(|(axis, value)| {
                let fixed: Vec<(String, String)> = axis_values
                    .iter()
                    .filter(|(other, _)| other != axis && self.varying(&group.job, &group.workload, other))
                    .cloned()
                    .collect();
                let host = self.several_hosts.then(|| group.host.clone());
                let key =
                    (group.workload.clone(), host, axis.clone(), strategy, workers, fixed, group.job.clone());
                (key, value.clone())
            })
            .collect()
    }
}

/// One series' verdict: where along its axis it starts to beat serial and
/// stays ahead, its best point, and the values left out as not judged.
fn judge_series(
    key: SeriesKey,
    mut points: Vec<(f64, String, Point)>,
    mut left_out: Vec<(f64, String)>,
) -> Series {
    left_out.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let (workload, host, axis, strategy, workers, fixed, _) = key;
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
    Series {
        workload,
        host,
        axis,
        strategy: strategy.0,
        workers,
        fixed,
        first: points[0].1.clone(),
        last: points[points.len() - 1].1.clone(),
        verdict,
        chunk_chosen: points.iter().any(|point| point.2.chunk_of.is_some()),
        best: (best_value, best_point),
        not_judged: left_out.into_iter().map(|(_, value)| value).collect(),
    }
}

/// (workload, host where several, axis, strategy, workers, the other axes' values, job).
type SeriesKey = (String, Option<String>, String, ByName, usize, Vec<(String, String)>, String);

/// A strategy ordered by its name, so that crossovers are listed in the
/// same order whatever order the vocabulary declares strategies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByName(Strategy);

impl Ord for ByName {
    fn cmp(&self, other: &ByName) -> std::cmp::Ordering {
        self.0.name().cmp(other.0.name())
    }
}

impl PartialOrd for ByName {
    fn partial_cmp(&self, other: &ByName) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
