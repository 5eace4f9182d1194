//! The three answers a scaling job is run for, as data: how far it scales
//! (Karp–Flatt, Amdahl, the USL per group and strategy), from what list
//! size a pool pays (the cost model per strategy), and what to use (a
//! recommendation per workload, with a prediction for a bigger machine).
//! `report::scaling` says them in words, CSV and charts.

use crate::vocab::{Status, Strategy};
use std::collections::BTreeMap;

use super::scaling::{
    self, AMDAHL_MIN_COUNTS, Amdahl, BreakEven, COST_MIN_SIZES, CostLine, Interval, Trend, USL_MIN_COUNTS,
    Usl,
};
use super::{Analysis, Busy, EntryId, EntryStats, GroupId};

mod recommend;
use recommend::recommendations;

/// How much better than the fewest workers more workers must be to be
/// worth recommending: within this, the cheaper choice wins.
pub const WORTH: f64 = 1.05;
/// Predictions beyond this multiple of the largest measured worker count
/// are extrapolations and say so.
pub const EXTRAPOLATION: f64 = 2.0;

/// A worker count or a list size measured but not judged (busy), and why:
/// left out of a fit.
pub type LeftOut = (usize, Busy);

/// A workload with its parameters, on one host, in one job: what a
/// recommendation is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorkloadKey {
    pub job: String,
    pub host: String,
    pub workload: String,
    pub generator: String,
    pub params: Vec<(String, String)>,
}

impl WorkloadKey {
    pub fn of(group: &GroupId) -> WorkloadKey {
        WorkloadKey {
            job: group.job.clone(),
            host: group.host.clone(),
            workload: group.workload.clone(),
            generator: group.generator.clone(),
            params: group.params.clone(),
        }
    }
}

/// One worker count of a strategy in a group: the best chunk size there.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerPoint {
    pub workers: usize,
    pub chunking: crate::vocab::Chunking,
    pub speedup: f64,
    pub karp_flatt: Option<f64>,
}

/// A fitted model's parameter with its interval at [`scaling::LEVEL`]: a
/// bootstrap over rounds, or the USL's σ and κ a profile likelihood; the
/// interval is absent when too few resamples could be fitted (or, for a
/// profile, no degree of freedom is left).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FittedParameter {
    pub value: f64,
    pub interval: Option<Interval>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AmdahlFit {
    pub model: Amdahl,
    pub serial_fraction: FittedParameter,
    pub rms: f64,
    /// Where the measured points stop gaining at the host's CPUs, the fit
    /// counts a worker count past them as that many CPUs: Amdahl's law is
    /// about processors, and threads past the CPUs only take turns.
    pub capped_at: Option<usize>,
}

impl AmdahlFit {
    /// The fitted speedup at `workers` on the measured host.
    pub fn speedup(&self, workers: f64) -> f64 {
        self.model.speedup(self.capped_at.map_or(workers, |cpus| workers.min(cpus as f64)))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct UslFit {
    pub model: Usl,
    pub sigma: FittedParameter,
    pub kappa: FittedParameter,
    /// N* and the speedup there; absent when κ = 0 (no peak).
    pub peak_workers: Option<FittedParameter>,
    pub peak_speedup: Option<FittedParameter>,
    pub rms: f64,
}

/// The worker-count models of one strategy in one group.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerScaling {
    pub group: GroupId,
    pub strategy: Strategy,
    /// Logical CPUs of the host that measured it.
    pub cpus: usize,
    pub points: Vec<WorkerPoint>,
    pub karp_flatt_trend: Option<Trend>,
    pub amdahl: Result<AmdahlFit, usize>,
    /// `Err(k)`: fewer than k worker counts.
    pub usl: Result<UslFit, usize>,
    /// Workers were measured past the host's CPUs and gained nothing there.
    pub stops_at_cpus: bool,
    /// Worker counts measured but not judged (busy), ascending: left out of
    /// `points` and of every fit. Where they leave fewer than
    /// [`AMDAHL_MIN_COUNTS`] points, nothing is fitted.
    pub left_out: Vec<LeftOut>,
    /// Per-round speedups of each point, for predictions' intervals.
    rounds: Vec<Vec<f64>>,
}

impl WorkerScaling {
    pub fn largest_workers(&self) -> usize {
        self.points.iter().map(|point| point.workers).max().unwrap_or(1)
    }

    /// The speedup predicted on a machine with `workers` CPUs, from the USL
    /// unless it is not there or describes CPUs taking turns (then Amdahl).
    pub fn predict(&self, workers: usize) -> Option<Prediction> {
        let xs: Vec<f64> = self.points.iter().map(|point| point.workers as f64).collect();
        let target = workers as f64;
        let (model, value, statistic): (Model, f64, Statistic) = match (&self.usl, &self.amdahl) {
            (Ok(usl), _) if !self.stops_at_cpus => (
                Model::Usl,
                usl.model.speedup(target),
                Box::new(move |medians: &[f64]| {
                    scaling::fit_usl(&pairs(&xs, medians)).map(|fit| vec![fit.speedup(target)])
                }),
            ),
            (_, Ok(amdahl)) => {
                let cap = amdahl.capped_at;
                let effective: Vec<f64> =
                    xs.iter().map(|n| cap.map_or(*n, |cpus| n.min(cpus as f64))).collect();
                (
                    Model::Amdahl,
                    amdahl.model.speedup(target),
                    Box::new(move |medians: &[f64]| {
                        scaling::fit_amdahl(&pairs(&effective, medians)).map(|fit| vec![fit.speedup(target)])
                    }),
                )
            }
            _ => return None,
        };
        let measured = match (model, &self.amdahl) {
            (Model::Amdahl, Ok(AmdahlFit { capped_at: Some(cpus), .. })) => *cpus,
            _ => self.largest_workers(),
        };
        let interval = scaling::bootstrap_rounds(&self.rounds, statistic).map(|intervals| intervals[0]);
        Some(Prediction {
            workers,
            model,
            speedup: FittedParameter { value, interval },
            largest_measured: measured,
            extrapolated: target > EXTRAPOLATION * measured as f64,
        })
    }
}

/// A fit's numbers from the medians of one resample.
type Statistic = Box<dyn Fn(&[f64]) -> Option<Vec<f64>>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    Amdahl,
    Usl,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub workers: usize,
    pub model: Model,
    pub speedup: FittedParameter,
    /// The largest worker count the model stands on.
    pub largest_measured: usize,
    /// Beyond twice that.
    pub extrapolated: bool,
}

/// t(n) = a + b·n of one way of running a workload over its list sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct CostFit {
    pub key: WorkloadKey,
    pub strategy: Strategy,
    pub workers: usize,
    /// (list size, median seconds).
    pub points: Vec<(usize, f64)>,
    pub line: CostLine,
    pub fixed_s: FittedParameter,
    pub per_item_s: FittedParameter,
    pub rms: f64,
    /// Against serial's line; absent for serial itself.
    pub break_even: Option<BreakEvenFit>,
    /// List sizes measured but not judged (busy), ascending: left out of
    /// `points` and of the line.
    pub left_out: Vec<LeftOut>,
}

/// A way of running a workload that would have had a cost line, but for
/// list sizes not judged (busy): fewer than [`COST_MIN_SIZES`] are left.
#[derive(Debug, Clone, PartialEq)]
pub struct CostNotFitted {
    pub key: WorkloadKey,
    pub strategy: Strategy,
    pub workers: usize,
    /// The list sizes judged.
    pub sizes: Vec<usize>,
    /// The list sizes not judged, ascending.
    pub left_out: Vec<LeftOut>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakEvenFit {
    pub estimate: BreakEven,
    /// In items; infinity where some resamples never pay.
    pub interval: Option<Interval>,
    /// The smallest and largest list sizes measured.
    pub measured: (usize, usize),
    /// As measured, without the model: the largest size where the pool
    /// does not surely beat serial (its speedup interval does not lie wholly
    /// above 1), and the smallest where it does.
    pub slower_up_to: Option<usize>,
    pub beats_from: Option<usize>,
}

impl BreakEvenFit {
    /// Where the estimate says it pays from inside the measured sizes.
    pub fn pays_from(&self) -> Option<f64> {
        match self.estimate {
            BreakEven::From(items) if items <= self.measured.1 as f64 => Some(items),
            BreakEven::Always => Some(0.0),
            _ => None,
        }
    }
}

/// What to use at one measured list size.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub list_size: usize,
    /// `serial` when nothing beats it by [`WORTH`].
    pub strategy: Strategy,
    pub workers: usize,
    pub speedup: f64,
    pub speedup_ci: Option<Interval>,
    /// What the speedup is against: `None` for serial; where the group has
    /// no serial entry, the measured entry with the fewest workers
    /// (strategy, workers), and the choice is that entry where nothing
    /// clearly beats it.
    pub reference: Option<(Strategy, usize)>,
    /// Other entries were measured, but none clearly beats the reference:
    /// they are within its noise (or slower).
    pub rest_within_noise: bool,
}

impl Choice {
    /// Whether the choice is what the speedups are against (serial, or the
    /// reference of a group without serial): nothing clearly beat it.
    pub fn is_reference(&self) -> bool {
        self.strategy == Strategy::Serial
            || self
                .reference
                .as_ref()
                .is_some_and(|(strategy, workers)| *strategy == self.strategy && *workers == self.workers)
    }
}

/// An entry that ran, but not once ok.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    pub id: EntryId,
    pub runs: usize,
    /// Its runs by status, in the order first seen.
    pub not_ok: Vec<(Status, usize)>,
}

impl Failed {
    /// `None` where the entry has an ok run.
    pub fn of(entry: &EntryStats) -> Option<Failed> {
        entry.ok_runs.is_empty().then(|| Failed {
            id: entry.id.clone(),
            runs: entry.runs,
            not_ok: entry.not_ok.clone(),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    pub key: WorkloadKey,
    /// One per list size where something could be chosen.
    pub choices: Vec<Choice>,
    /// The entries not judged (busy), in list-size order: never chosen, and
    /// never what a choice is compared with.
    pub not_judged: Vec<(EntryId, Busy)>,
    /// List sizes where nothing could be chosen: what the others are
    /// compared with (serial) was not judged, or nothing else was.
    pub undecided: Vec<usize>,
    /// Entries without an ok run that left their list size with nothing
    /// to choose, in list-size order: serial (nothing can be compared with
    /// it), or in a group without serial, every entry where none ran ok.
    /// Never chosen, and never what a choice is compared with.
    pub failed: Vec<Failed>,
    /// The host's CPUs, where more workers than that gained nothing.
    pub capped_at: Option<usize>,
    /// With `--predict N`: the best choice's strategy at the largest size,
    /// on a machine with N CPUs.
    pub prediction: Option<(Strategy, Prediction)>,
    /// With `--predict N` and no prediction: why not.
    pub no_prediction: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answers {
    pub workers: Vec<WorkerScaling>,
    pub costs: Vec<CostFit>,
    pub costs_not_fitted: Vec<CostNotFitted>,
    pub recommendations: Vec<Recommendation>,
}

/// Every fit the rows allow; `predict` asks for a prediction at that many
/// CPUs in each recommendation.
pub fn answers(analysis: &Analysis, predict: Option<usize>) -> Answers {
    let workers: Vec<WorkerScaling> =
        analysis.groups().iter().flat_map(|(group, entries)| worker_scaling(group, entries)).collect();
    let (costs, costs_not_fitted) = cost_fits(analysis);
    let recommendations = recommendations(analysis, &workers, predict);
    Answers { workers, costs, costs_not_fitted, recommendations }
}

/// Each round's speedup of `entry` over `serial`, by round.
fn round_speedups(serial: &EntryStats, entry: &EntryStats) -> BTreeMap<u32, f64> {
    let serial: BTreeMap<u32, f64> = serial.rounds.iter().copied().collect();
    entry
        .rounds
        .iter()
        .filter_map(|(round, wall)| {
            let speedup = serial.get(round)? / wall;
            (speedup.is_finite() && speedup > 0.0).then_some((*round, speedup))
        })
        .collect()
}

fn round_walls(entry: &EntryStats) -> BTreeMap<u32, f64> {
    entry.rounds.iter().copied().filter(|(_, wall)| wall.is_finite() && *wall > 0.0).collect()
}

/// Series by round → series indexed by the rounds any of them has (NaN
/// where one lacks it), as [`scaling::bootstrap_rounds`] takes them.
fn by_round_index(series: &[BTreeMap<u32, f64>]) -> Vec<Vec<f64>> {
    let rounds: std::collections::BTreeSet<u32> =
        series.iter().flat_map(|values| values.keys().copied()).collect();
    series
        .iter()
        .map(|values| rounds.iter().map(|round| values.get(round).copied().unwrap_or(f64::NAN)).collect())
        .collect()
}

fn pairs(xs: &[f64], ys: &[f64]) -> Vec<(f64, f64)> {
    xs.iter().copied().zip(ys.iter().copied()).collect()
}

fn estimate(value: f64, intervals: &Option<Vec<Interval>>, index: usize) -> FittedParameter {
    FittedParameter {
        value,
        interval: intervals.as_ref().and_then(|intervals| intervals.get(index).copied()),
    }
}

fn worker_scaling(group: &GroupId, entries: &[&EntryStats]) -> Vec<WorkerScaling> {
    // A serial not judged (busy) has ok runs: its pools are left out below.
    let Some(serial) =
        entries.iter().find(|entry| entry.id.strategy == Strategy::Serial && !entry.ok_runs.is_empty())
    else {
        return Vec::new();
    };
    // Per strategy and worker count, the chunk size with the best speedup;
    // and those where no chunk size was judged (busy).
    let mut best: BTreeMap<(Strategy, usize), &EntryStats> = BTreeMap::new();
    let mut busy: BTreeMap<(Strategy, usize), Busy> = BTreeMap::new();
    for entry in entries.iter().filter(|entry| entry.id.strategy != Strategy::Serial) {
        if let Some(not_judged) = entry.busy {
            busy.entry((entry.id.strategy, entry.id.workers)).or_insert(not_judged);
            continue;
        }
        let Some(speedup) = entry.speedup.filter(|speedup| speedup.is_finite() && *speedup > 0.0) else {
            continue;
        };
        let slot = best.entry((entry.id.strategy, entry.id.workers)).or_insert(entry);
        if slot.speedup.is_some_and(|current| speedup > current) {
            *slot = entry;
        }
    }
    busy.retain(|key, _| !best.contains_key(key));
    let mut by_strategy: BTreeMap<Strategy, (Vec<&EntryStats>, Vec<LeftOut>)> = BTreeMap::new();
    for ((strategy, _), entry) in best {
        by_strategy.entry(strategy).or_default().0.push(entry);
    }
    for ((strategy, workers), not_judged) in busy {
        by_strategy.entry(strategy).or_default().1.push((workers, not_judged));
    }
    let cpus = entries.iter().map(|entry| entry.cpus).max().unwrap_or(0);
    // Too few worker counts for a fit are said only where some were left
    // out: the fit that would have been is missing.
    by_strategy
        .into_iter()
        .filter(|(_, (points, left_out))| points.len() + left_out.len() >= AMDAHL_MIN_COUNTS)
        .map(|(strategy, (points, left_out))| fit_workers(group, strategy, cpus, serial, &points, left_out))
        .collect()
}

fn fit_workers(
    group: &GroupId,
    strategy: Strategy,
    cpus: usize,
    serial: &EntryStats,
    entries: &[&EntryStats],
    left_out: Vec<LeftOut>,
) -> WorkerScaling {
    // Fewer judged points than a shape needs: nothing is fitted.
    let enough = entries.len() >= AMDAHL_MIN_COUNTS;
    let points: Vec<WorkerPoint> = entries
        .iter()
        .map(|entry| {
            let speedup = entry.speedup.unwrap_or(f64::NAN);
            WorkerPoint {
                workers: entry.id.workers,
                chunking: entry.id.chunking,
                speedup,
                karp_flatt: scaling::karp_flatt(entry.id.workers as f64, speedup),
            }
        })
        .collect();
    let rounds =
        by_round_index(&entries.iter().map(|entry| round_speedups(serial, entry)).collect::<Vec<_>>());
    let xs: Vec<f64> = points.iter().map(|point| point.workers as f64).collect();
    let speedups: Vec<f64> = points.iter().map(|point| point.speedup).collect();
    let measured = pairs(&xs, &speedups);
    let karp_flatt: Vec<(f64, f64)> =
        points.iter().filter_map(|point| point.karp_flatt.map(|e| (point.workers as f64, e))).collect();

    // Past the CPUs, CPU-bound work only takes turns: did it gain there?
    let best_within = |keep: &dyn Fn(usize) -> bool| {
        points.iter().filter(|point| keep(point.workers)).map(|point| point.speedup).fold(f64::NAN, f64::max)
    };
    let beyond = best_within(&|workers| workers > cpus);
    let within = best_within(&|workers| workers <= cpus);
    let stops_at_cpus =
        enough && cpus > 0 && beyond.is_finite() && within.is_finite() && beyond <= within * WORTH;
    let capped_at = stops_at_cpus.then_some(cpus);

    let effective: Vec<f64> = xs.iter().map(|n| capped_at.map_or(*n, |cpus| n.min(cpus as f64))).collect();
    let amdahl = match scaling::fit_amdahl(&pairs(&effective, &speedups)).filter(|_| enough) {
        Some(model) => {
            let intervals = scaling::bootstrap_rounds(&rounds, |medians| {
                scaling::fit_amdahl(&pairs(&effective, medians)).map(|fit| vec![fit.serial_fraction])
            });
            let fit = AmdahlFit {
                model,
                serial_fraction: estimate(model.serial_fraction, &intervals, 0),
                rms: 0.0,
                capped_at,
            };
            Ok(AmdahlFit { rms: scaling::relative_rms(&measured, |n| fit.speedup(n)), ..fit })
        }
        None => Err(AMDAHL_MIN_COUNTS),
    };
    let usl = fit_usl(&xs, &measured, &rounds);
    WorkerScaling {
        group: group.clone(),
        strategy,
        cpus,
        karp_flatt_trend: scaling::karp_flatt_change(&karp_flatt).filter(|_| enough).map(|change| {
            let interval = scaling::bootstrap_rounds(&rounds, |medians| {
                let values: Vec<(f64, f64)> = xs
                    .iter()
                    .zip(medians)
                    .filter_map(|(n, s)| scaling::karp_flatt(*n, *s).map(|e| (*n, e)))
                    .collect();
                scaling::karp_flatt_change(&values).map(|change| vec![change])
            });
            scaling::trend(change, interval.map(|intervals| intervals[0]))
        }),
        points,
        amdahl,
        usl,
        stops_at_cpus,
        left_out,
        rounds,
    }
}

/// The USL over the worker counts `xs` and their speedups: σ and κ by
/// their profiles, which hold at the bound κ = 0; the peak, a function of
/// both, by the bootstrap over `rounds`.
fn fit_usl(xs: &[f64], measured: &[(f64, f64)], rounds: &[Vec<f64>]) -> Result<UslFit, usize> {
    let model = scaling::fit_usl(measured).ok_or(USL_MIN_COUNTS)?;
    let shape = scaling::usl_intervals(measured, &model);
    let intervals = scaling::bootstrap_rounds(rounds, |medians| {
        let fit = scaling::fit_usl(&pairs(xs, medians))?;
        // A resample without a peak has N* = ∞.
        let peak = fit.peak_workers().unwrap_or(f64::INFINITY);
        Some(vec![peak, fit.peak_speedup().unwrap_or(f64::INFINITY)])
    });
    Ok(UslFit {
        model,
        sigma: FittedParameter { value: model.sigma, interval: shape.map(|(sigma, _)| sigma) },
        kappa: FittedParameter { value: model.kappa, interval: shape.map(|(_, kappa)| kappa) },
        peak_workers: model.peak_workers().map(|value| estimate(value, &intervals, 0)),
        peak_speedup: model.peak_speedup().map(|value| estimate(value, &intervals, 1)),
        rms: scaling::relative_rms(measured, |n| model.speedup(n)),
    })
}

/// Per workload and way of running it (strategy and workers; chunk sizes
/// folded, as `auto` changes them with the size), over three or more list
/// sizes judged: its cost line, and where it crosses serial's; and the
/// ways that sizes not judged (busy) left with too few.
fn cost_fits(analysis: &Analysis) -> (Vec<CostFit>, Vec<CostNotFitted>) {
    let ways = CostWays::of(analysis);
    let mut fits = Vec::new();
    let mut not_fitted = Vec::new();
    for way in ways.series.keys().chain(ways.busy.keys().filter(|way| !ways.series.contains_key(*way))) {
        let (key, strategy, workers) = way;
        let sizes: Vec<usize> =
            ways.series.get(way).map(|by_size| by_size.keys().copied().collect()).unwrap_or_default();
        let left_out = ways.left_out(way);
        if sizes.len() < COST_MIN_SIZES
            && !left_out.is_empty()
            && sizes.len() + left_out.len() >= COST_MIN_SIZES
        {
            not_fitted.push(CostNotFitted {
                key: key.clone(),
                strategy: *strategy,
                workers: *workers,
                sizes,
                left_out,
            });
            continue;
        }
        let Some(by_size) = ways.series.get(way).filter(|by_size| by_size.len() >= COST_MIN_SIZES) else {
            continue;
        };
        let serial = ways
            .series
            .get(&(key.clone(), Strategy::Serial, 1))
            .filter(|serial| *strategy != Strategy::Serial && serial.len() >= COST_MIN_SIZES);
        fits.extend(fit_way(way, by_size, serial, left_out));
    }
    (fits, not_fitted)
}

/// A way of running a workload: (workload, strategy, workers).
type Way = (WorkloadKey, Strategy, usize);

/// The fastest entry at each list size, by size.
type BySize<'a> = BTreeMap<usize, &'a EntryStats>;

/// The entries a cost line is fitted to, per way of running a workload.
struct CostWays<'a> {
    /// Size → the fastest entry judged at that size.
    series: BTreeMap<Way, BySize<'a>>,
    /// The sizes where an entry of it was not judged (busy).
    busy: BTreeMap<Way, BTreeMap<usize, Busy>>,
}

impl<'a> CostWays<'a> {
    fn of(analysis: &'a Analysis) -> CostWays<'a> {
        let mut ways = CostWays { series: BTreeMap::new(), busy: BTreeMap::new() };
        for entry in &analysis.entries {
            let key = (WorkloadKey::of(&entry.id.group), entry.id.strategy, entry.id.workers);
            if let Some(not_judged) = entry.busy {
                ways.busy.entry(key).or_default().entry(entry.id.group.list_size).or_insert(not_judged);
                continue;
            }
            let Some(wall) = entry.wall.filter(|wall| wall.median > 0.0) else { continue };
            let slot = ways.series.entry(key).or_default().entry(entry.id.group.list_size).or_insert(entry);
            if slot.wall.is_some_and(|current| wall.median < current.median) {
                *slot = entry;
            }
        }
        ways
    }

    /// The sizes of a way where nothing was judged.
    fn left_out(&self, way: &Way) -> Vec<LeftOut> {
        let judged = self.series.get(way);
        self.busy
            .get(way)
            .into_iter()
            .flatten()
            .filter(|(size, _)| !judged.is_some_and(|judged| judged.contains_key(size)))
            .map(|(size, not_judged)| (*size, *not_judged))
            .collect()
    }
}

/// One way's cost line over its sizes, with bootstrap intervals, and where
/// it crosses serial's line (`serial`: serial's entries by size, where it
/// has enough of them and the way is not serial itself).
fn fit_way(way: &Way, by_size: &BySize, serial: Option<&BySize>, left_out: Vec<LeftOut>) -> Option<CostFit> {
    let (key, strategy, workers) = way;
    let sizes: Vec<f64> = by_size.keys().map(|size| *size as f64).collect();
    let medians: Vec<f64> =
        by_size.values().map(|entry| entry.wall.map_or(f64::NAN, |wall| wall.median)).collect();
    let line = scaling::fit_cost(&pairs(&sizes, &medians))?;
    let mut rounds: Vec<BTreeMap<u32, f64>> = by_size.values().map(|entry| round_walls(entry)).collect();
    let serial_line = serial.and_then(|serial| {
        let sizes: Vec<f64> = serial.keys().map(|size| *size as f64).collect();
        let medians: Vec<f64> =
            serial.values().map(|entry| entry.wall.map_or(f64::NAN, |wall| wall.median)).collect();
        rounds.extend(serial.values().map(|entry| round_walls(entry)));
        scaling::fit_cost(&pairs(&sizes, &medians)).map(|line| (line, sizes))
    });
    let own = sizes.len();
    let rounds = by_round_index(&rounds);
    let intervals = scaling::bootstrap_rounds(&rounds, |medians| {
        let line = scaling::fit_cost(&pairs(&sizes, &medians[..own]))?;
        let mut values = vec![line.fixed_s, line.per_item_s];
        if let Some((_, serial_sizes)) = &serial_line {
            let serial = scaling::fit_cost(&pairs(serial_sizes, &medians[own..]))?;
            values.push(scaling::break_even(&serial, &line).items());
        }
        Some(values)
    });
    let measured = (by_size.keys().copied().min().unwrap_or(0), by_size.keys().copied().max().unwrap_or(0));
    let measured_beats = measured_beats(by_size);
    Some(CostFit {
        key: key.clone(),
        strategy: *strategy,
        workers: *workers,
        points: by_size.keys().copied().zip(medians.iter().copied()).collect(),
        line,
        fixed_s: estimate(line.fixed_s, &intervals, 0),
        per_item_s: estimate(line.per_item_s, &intervals, 1),
        rms: scaling::relative_rms(&pairs(&sizes, &medians), |n| line.seconds(n)),
        break_even: serial_line.map(|(serial, _)| BreakEvenFit {
            estimate: scaling::break_even(&serial, &line),
            interval: intervals.as_ref().and_then(|intervals| intervals.get(2).copied()),
            measured,
            slower_up_to: measured_beats.iter().filter(|(_, beats)| !beats).map(|(size, _)| *size).max(),
            beats_from: measured_beats.iter().filter(|(_, beats)| *beats).map(|(size, _)| *size).min(),
        }),
        left_out,
    })
}

/// As measured: each size's verdict, from its speedup interval; with too
/// few rounds for an interval (n ≤ 5), the median speedup above 1.
fn measured_beats(by_size: &BySize) -> Vec<(usize, bool)> {
    by_size
        .iter()
        .filter_map(|(size, entry)| {
            let beats = match (entry.verdict?, entry.speedup_ci) {
                (super::Verdict::Beats, _) => true,
                (_, Some(_)) => false,
                (_, None) => entry.speedup? > 1.0,
            };
            Some((*size, beats))
        })
        .collect()
}

#[cfg(test)]
mod tests;
