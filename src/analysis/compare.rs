//! `parbench report --baseline OLD.csv NEW.csv`: did anything get slower?
//! The verdicts, as data; `report::compare` puts them into words.
//!
//! Entries are matched by what they measure (job, workload, parameters,
//! list, strategy, workers, chunk size), and by host as well when both
//! files have rows of several hosts. The change is the ratio of medians,
//! new over old, with a distribution-free interval made of the two
//! medians' order-statistic intervals (see
//! [`crate::precision::ratio_of_medians`]). An entry is *slower* only when
//! both hold:
//!
//! - the whole interval lies above 1 + threshold, and
//! - the shift is larger than the entry's own spread: the new run's 10th
//!   percentile lies above the old run's 90th, so that at least 9 in 10 new
//!   times are slower than 9 in 10 old ones (the chance that a new run is
//!   slower than an old one is then at least 0.81).
//!
//! *Faster* is the mirror image. Where the interval lies past the threshold
//! but the two runs' middle 80% overlap, the verdict is
//! [`ChangeVerdict::WithinNoise`]: a shift this entry's own spread makes between
//! two runs of an unchanged job, said as such. Otherwise *no clear change*.
//!
//! An entry with too few runs for an interval at that level (an expensive
//! job measured 3 times) is judged by a moderated t-test on log times
//! instead ([`moderated`]): its spread is shrunk towards the spread the
//! job's entries share, as limma does for genes measured 2 or 3 times.
//! *Slower* when the test's p-value that the change exceeds the threshold
//! is at most 5% shared over the entries. With fewer than [`RANK_RUNS`]
//! runs on a side the entry is [`ChangeVerdict::NotJudged`], said and
//! counted apart, never silently passed.
//!
//! Only undisturbed runs are compared; the disturbed ones left out are
//! counted. An entry whose new (or old) side has fewer than [`RANK_RUNS`]
//! undisturbed runs, or more disturbed runs than undisturbed ones, is not
//! judged (busy). An entry whose new runs all failed (timed out, mismatched
//! or went unverified) where the baseline had ok runs is
//! [`ChangeVerdict::Failed`]: a regression.
//!
//! Why the second condition: the interval is right about the runs taken,
//! but it takes them as independent, while a neighbour's burst on a shared
//! machine moves many runs in a row, or a whole run, which no interval from
//! inside one run can see. An entry whose runs spread widely within one run
//! (a few-microsecond entry, say) shows that it is exposed to such bursts,
//! and its median moves between runs by a part of that spread: between
//! unchanged runs, the interval alone raises false alarms far more often
//! than both conditions together (docs/RESULTS.md has the measurements).
//!
//! With many entries, some 95% interval would miss by chance alone; each
//! entry's interval or test is held at 5% / entries judged (Bonferroni), so
//! that an unchanged job raises no alarm 19 times out of 20, however many
//! entries it has; docs/RESULTS.md has the measured rates.

use std::collections::BTreeMap;

use super::{Analysis, EntryId, EntryStats};
use crate::precision::{LEVEL, ratio_of_medians};
use crate::stats::{median, quantiles};

/// The share of an entry's runs left out at each end of its spread: its
/// 10th to 90th percentiles.
pub const TAIL: f64 = 0.10;

/// Runs needed on each side for an entry to be judged: 3 (a t-test on 2
/// against 2 has 2 degrees of freedom of its own).
pub const RANK_RUNS: usize = 3;

pub mod moderated;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeVerdict {
    Faster,
    Slower,
    NoClearChange,
    /// The interval lies past the threshold, but the middle 80% of the two
    /// runs' times overlap: not sure, and said so.
    WithinNoise,
    /// Fewer than [`RANK_RUNS`] runs on a side, or a side mostly
    /// disturbed: nothing can be said either way (see [`NotJudged`]).
    NotJudged,
    /// Every new run failed where the baseline had ok runs.
    Failed,
}

/// Why an entry was not judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotJudged {
    /// Fewer than [`RANK_RUNS`] ok runs on a side: (old, new).
    TooFewRuns(usize, usize),
    /// Too few undisturbed runs on a side, or more disturbed ones than
    /// undisturbed: whether the baseline's side, and its disturbed and ok
    /// runs.
    Busy { baseline: bool, disturbed: usize, runs: usize },
}

#[derive(Debug, Clone)]
pub struct Change {
    pub entry: EntryId,
    pub old_median: f64,
    pub new_median: f64,
    /// new / old, and its interval; `None` where too few runs hold one.
    pub ratio: f64,
    pub interval: Option<(f64, f64)>,
    /// The entry's spread: of the two runs, the wider range from the 10th
    /// to the 90th percentile, each end as a fraction of that run's median
    /// ((0.8, 1.5): from 20% below the median to 50% above it).
    pub spread: (f64, f64),
    pub verdict: ChangeVerdict,
    /// The runs compared: (old, new).
    pub runs: (usize, usize),
    /// Where there is no interval: the moderated t-test's one-sided
    /// p-value that the new runs lie past the old ones × (1 ± threshold),
    /// in the direction of the change.
    pub p: Option<f64>,
    /// Disturbed runs left out: (old, new).
    pub left_out: (usize, usize),
    /// Why the entry was not judged, where it was not.
    pub not_judged: Option<NotJudged>,
    /// For [`ChangeVerdict::Failed`]: the new runs by status, and how many.
    pub failed: Vec<(crate::vocab::Status, usize)>,
}

#[derive(Debug, Clone, Default)]
pub struct Comparison {
    pub changes: Vec<Change>,
    /// Entries that have no change to show, and why.
    pub unmatched: Vec<(Unmatched, EntryId)>,
    /// Hosts to tell entries apart by: 1 where hosts were not matched.
    pub hosts: usize,
    /// Jobs of the two files together: labels name the job where there
    /// are several.
    pub jobs: usize,
    /// The level of each interval (all of them together hold at 95%).
    pub level: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatched {
    OnlyInNew,
    OnlyInBaseline,
    /// In both, but without an ok run in the baseline (or in either).
    NoOkRuns,
}

impl Comparison {
    /// Whether the gate fails: an entry slower or failed (and, `strict`,
    /// one not judged).
    pub fn fails(&self, strict: bool) -> bool {
        self.changes.iter().any(|change| match change.verdict {
            ChangeVerdict::Slower | ChangeVerdict::Failed => true,
            ChangeVerdict::NotJudged => strict,
            _ => false,
        })
    }

    pub fn count(&self, verdict: ChangeVerdict) -> usize {
        self.changes.iter().filter(|change| change.verdict == verdict).count()
    }
}

/// The entry's undisturbed ok wall times, the only ones compared, and the
/// disturbed ones left out.
fn comparable_walls(entry: &EntryStats) -> (Vec<f64>, usize) {
    let quiet: Vec<f64> = entry.ok_runs.iter().filter(|run| !run.disturbed).map(|run| run.wall_s).collect();
    let left_out = entry.ok_runs.len() - quiet.len();
    (quiet, left_out)
}

/// Whether a side is too busy to judge: too few undisturbed runs, or more
/// disturbed ones than undisturbed.
fn busy(quiet: usize, left_out: usize) -> bool {
    left_out > 0 && (quiet < RANK_RUNS || left_out > quiet)
}

/// One entry found in both files, with the times that count.
struct Pair {
    id: EntryId,
    old_walls: Vec<f64>,
    new_walls: Vec<f64>,
    left_out: (usize, usize),
}

fn key(id: &EntryId, with_host: bool) -> EntryId {
    let mut key = id.clone();
    if !with_host {
        key.group.host.clear();
    }
    key
}

/// Compares entries of the same host: a baseline of hosts A and B against
/// new results of A compares A with A only.
pub fn compare(old: &Analysis, new: &Analysis, threshold: f64) -> Comparison {
    compare_hosts(old, new, threshold, false)
}

/// With `any_host`, entries are paired whatever host measured them (one
/// machine's numbers judged against another's: the user asked for it).
pub fn compare_hosts(old: &Analysis, new: &Analysis, threshold: f64, any_host: bool) -> Comparison {
    let with_host = !any_host;
    let hosts = if with_host { old.hosts.len().max(new.hosts.len()) } else { 1 };
    let old_entries: BTreeMap<EntryId, &EntryStats> =
        old.entries.iter().map(|entry| (key(&entry.id, with_host), entry)).collect();
    let jobs: std::collections::BTreeSet<&str> =
        old.entries.iter().chain(&new.entries).map(|entry| entry.id.group.job.as_str()).collect();
    let mut comparison = Comparison { hosts, jobs: jobs.len(), ..Comparison::default() };
    let mut matched = std::collections::BTreeSet::new();
    let mut pairs = Vec::new();
    for entry in &new.entries {
        let id = key(&entry.id, with_host);
        let Some(before) = old_entries.get(&id) else {
            comparison.unmatched.push((Unmatched::OnlyInNew, entry.id.clone()));
            continue;
        };
        matched.insert(id);
        if before.ok_runs.is_empty() {
            comparison.unmatched.push((Unmatched::NoOkRuns, entry.id.clone()));
            continue;
        }
        match pair_or_unjudged(before, entry) {
            Ok(pair) => pairs.push(pair),
            Err(change) => comparison.changes.push(*change),
        }
    }
    // Every judged entry is held at 5% / entries judged, by its interval or
    // its test: all of them together at 95%.
    let alpha = (1.0 - LEVEL) / pairs.len().max(1) as f64;
    comparison.level = 1.0 - alpha;
    // The spread the entries share, from every judged entry's runs.
    let samples: Vec<Option<moderated::Sample>> =
        pairs.iter().map(|pair| moderated::Sample::of(&pair.old_walls, &pair.new_walls)).collect();
    let prior = moderated::prior(&samples.iter().flatten().copied().collect::<Vec<_>>());
    for (pair, sample) in pairs.into_iter().zip(samples) {
        comparison.changes.push(judge(pair, sample, prior, alpha, threshold));
    }
    for entry in &old.entries {
        if !matched.contains(&key(&entry.id, with_host)) {
            comparison.unmatched.push((Unmatched::OnlyInBaseline, entry.id.clone()));
        }
    }
    comparison
}

/// A change with nothing judged yet: the entry and its medians.
fn blank(entry: &EntryStats, old_median: f64, new_median: f64) -> Change {
    Change {
        entry: entry.id.clone(),
        old_median,
        new_median,
        ratio: if old_median > 0.0 { new_median / old_median } else { f64::NAN },
        interval: None,
        spread: (1.0, 1.0),
        verdict: ChangeVerdict::NotJudged,
        runs: (0, 0),
        p: None,
        left_out: (0, 0),
        not_judged: None,
        failed: Vec::new(),
    }
}

/// An entry of both files, whose baseline has ok runs: the pair to judge,
/// or the change it already is (every new run failed; not judged).
fn pair_or_unjudged(before: &EntryStats, entry: &EntryStats) -> Result<Pair, Box<Change>> {
    let (old_walls, old_left_out) = comparable_walls(before);
    let (new_walls, new_left_out) = comparable_walls(entry);
    let old_median = median(&old_walls)
        .or_else(|| median(&before.ok_runs.iter().map(|run| run.wall_s).collect::<Vec<f64>>()))
        .unwrap_or(f64::NAN);
    if entry.ok_runs.is_empty() {
        // Every new run failed, timed out, mismatched or went unverified,
        // where the baseline had ok runs: a regression.
        return Err(Box::new(Change {
            verdict: ChangeVerdict::Failed,
            runs: (old_walls.len(), 0),
            failed: entry.not_ok.clone(),
            ..blank(entry, old_median, f64::NAN)
        }));
    }
    let not_judged = if busy(new_walls.len(), new_left_out) {
        Some(NotJudged::Busy { baseline: false, disturbed: new_left_out, runs: entry.ok_runs.len() })
    } else if busy(old_walls.len(), old_left_out) {
        Some(NotJudged::Busy { baseline: true, disturbed: old_left_out, runs: before.ok_runs.len() })
    } else if old_walls.len() < RANK_RUNS || new_walls.len() < RANK_RUNS {
        Some(NotJudged::TooFewRuns(old_walls.len(), new_walls.len()))
    } else {
        None
    };
    let left_out = (old_left_out, new_left_out);
    match not_judged {
        Some(why) => Err(Box::new(Change {
            runs: (old_walls.len(), new_walls.len()),
            left_out,
            not_judged: Some(why),
            ..blank(entry, old_median, median(&new_walls).unwrap_or(f64::NAN))
        })),
        None => Ok(Pair { id: entry.id.clone(), old_walls, new_walls, left_out }),
    }
}

/// The verdict of a pair: by the interval of its change at `1 - alpha`
/// where it has one, else by the moderated t-test at `alpha`.
fn judge(
    pair: Pair,
    sample: Option<moderated::Sample>,
    prior: Option<moderated::Prior>,
    alpha: f64,
    threshold: f64,
) -> Change {
    let Pair { id, old_walls, new_walls, left_out } = pair;
    let (old_median, new_median) =
        (median(&old_walls).unwrap_or(f64::NAN), median(&new_walls).unwrap_or(f64::NAN));
    let (ratio, interval) =
        ratio_of_medians(&new_walls, &old_walls, 1.0 - alpha).unwrap_or((new_median / old_median, None));
    let spread_of = |walls: &[f64]| quantiles(walls, TAIL, 1.0 - TAIL);
    let (old_box, new_box) = (spread_of(&old_walls), spread_of(&new_walls));
    let apart = |below: Option<(f64, f64)>, above: Option<(f64, f64)>| match (below, above) {
        (Some((_, below_high)), Some((above_low, _))) => above_low > below_high,
        _ => false,
    };
    let (verdict, p) = match (interval, sample) {
        (Some((low, high)), _) => {
            let verdict = match (low > 1.0 + threshold, high < 1.0 - threshold) {
                (true, _) if apart(old_box, new_box) => ChangeVerdict::Slower,
                (_, true) if apart(new_box, old_box) => ChangeVerdict::Faster,
                (true, _) | (_, true) => ChangeVerdict::WithinNoise,
                _ => ChangeVerdict::NoClearChange,
            };
            (verdict, None)
        }
        (None, Some(sample)) => {
            let slower = moderated::p_above(&sample, prior, threshold.ln_1p());
            let mirrored = moderated::Sample { change: -sample.change, ..sample };
            let faster = moderated::p_above(&mirrored, prior, -(1.0 - threshold).ln());
            if slower <= alpha {
                (ChangeVerdict::Slower, Some(slower))
            } else if faster <= alpha {
                (ChangeVerdict::Faster, Some(faster))
            } else {
                (ChangeVerdict::NoClearChange, Some(if new_median >= old_median { slower } else { faster }))
            }
        }
        (None, None) => (ChangeVerdict::NoClearChange, None),
    };
    let relative = |range: Option<(f64, f64)>, median: f64| match range {
        Some((low, high)) if median > 0.0 => (low / median, high / median),
        _ => (1.0, 1.0),
    };
    let spread = [relative(old_box, old_median), relative(new_box, new_median)]
        .into_iter()
        .max_by(|a, b| (a.1 - a.0).total_cmp(&(b.1 - b.0)))
        .unwrap_or((1.0, 1.0));
    Change {
        entry: id,
        old_median,
        new_median,
        ratio,
        interval,
        spread,
        verdict,
        runs: (old_walls.len(), new_walls.len()),
        p,
        left_out,
        not_judged: None,
        failed: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze_cells as analyze;
    use crate::report::words::entry_label;

    const STEADY: [f64; 10] = [0.99, 1.0, 1.01, 1.0, 0.995, 1.005, 0.998, 1.002, 1.0, 0.997];

    fn rows(scale: f64) -> Vec<BTreeMap<String, String>> {
        rows_with(&STEADY, scale)
    }

    /// Serial at 1 s, threads at 0.5 s × `scale`, each run × `jitter[run]`.
    fn rows_with(jitter: &[f64], scale: f64) -> Vec<BTreeMap<String, String>> {
        let mut rows = Vec::new();
        for (strategy, base) in [("serial", 1.0), ("threads", 0.5)] {
            for (repetition, jitter) in jitter.iter().enumerate() {
                let wall = if strategy == "threads" { base * jitter * scale } else { base * jitter };
                let row: BTreeMap<String, String> = [
                    ("job", "j"),
                    ("host", "h"),
                    ("workload", "w"),
                    ("generator", "range"),
                    ("list_size", "10"),
                    ("strategy", strategy),
                    ("workers", if strategy == "serial" { "1" } else { "2" }),
                    ("chunk_size", ""),
                    ("status", "ok"),
                    ("cpu_s", "0"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .chain([
                    ("repetition".to_owned(), (repetition + 1).to_string()),
                    ("wall_s".to_owned(), wall.to_string()),
                ])
                .collect();
                rows.push(row);
            }
        }
        rows
    }

    #[test]
    fn a_thirty_percent_slowdown_is_named_and_noise_is_not() {
        let old = analyze(&rows(1.0)).unwrap();
        let slower = compare(&old, &analyze(&rows(1.3)).unwrap(), 0.05);
        assert!(slower.fails(false));
        let named: Vec<String> = slower
            .changes
            .iter()
            .filter(|c| c.verdict == ChangeVerdict::Slower)
            .map(|c| entry_label(&c.entry, slower.hosts))
            .collect();
        assert_eq!(named, ["w · range 10 items · threads ×2"]);
        let same = compare(&old, &analyze(&rows(1.02)).unwrap(), 0.05);
        assert!(!same.fails(false));
        let faster = compare(&old, &analyze(&rows(0.7)).unwrap(), 0.05);
        assert_eq!(faster.changes[1].verdict, ChangeVerdict::Faster);
    }

    /// 1000 runs spread as a few-microsecond entry's do: evenly from 0.5
    /// to 1.5, so the middle 80% spans ±40% of the median, in a shuffled
    /// order.
    fn noisy() -> Vec<f64> {
        (0..1000).map(|run| 0.5 + f64::from((run * 389) % 1000) / 1000.0).collect()
    }

    #[test]
    fn a_shift_inside_the_entrys_own_spread_is_not_called_slower_and_says_so() {
        let old = analyze(&rows_with(&noisy(), 1.0)).unwrap();
        let new = analyze(&rows_with(&noisy(), 1.3)).unwrap();
        let comparison = compare(&old, &new, 0.10);
        let threads = &comparison.changes[1];
        // The interval alone would call it slower: its low end is past 1.10…
        assert!(threads.interval.unwrap().0 > 1.10, "{:?}", threads.interval);
        // …but the middle 80% of the two runs overlap (1.3 × 0.6 < 1.4).
        assert_eq!(threads.verdict, ChangeVerdict::WithinNoise);
        assert!(!comparison.fails(false));
        let (low, high) = threads.spread;
        assert!((low - 0.6).abs() < 0.01 && (high - 1.4).abs() < 0.01, "{:?}", threads.spread);
        let words = crate::report::compare::render(&comparison, 0.10);
        assert!(words.contains("within this entry's noise"), "{words}");
        assert!(words.contains("from -40% to +40% of the median"), "{words}");
        assert!(words.contains("(1 of them moved past the threshold, but within its own noise)"), "{words}");
        // Twice as slow: the middle halves are apart (2 × 0.75 > 1.25), the
        // middle 80% not yet (2 × 0.6 < 1.4).
        let twice = compare(&old, &analyze(&rows_with(&noisy(), 2.0)).unwrap(), 0.10);
        assert_eq!(twice.changes[1].verdict, ChangeVerdict::WithinNoise);
        // 2.5 times as slow: apart (2.5 × 0.6 > 1.4), and named.
        let far = compare(&old, &analyze(&rows_with(&noisy(), 2.5)).unwrap(), 0.10);
        assert_eq!(far.changes[1].verdict, ChangeVerdict::Slower);
        // Faster is the mirror image.
        let faster = compare(&new, &old, 0.10);
        assert_eq!(faster.changes[1].verdict, ChangeVerdict::WithinNoise);
        let halved = compare(&analyze(&rows_with(&noisy(), 2.5)).unwrap(), &old, 0.10);
        assert_eq!(halved.changes[1].verdict, ChangeVerdict::Faster);
    }

    #[test]
    fn a_steady_entry_is_judged_by_the_threshold() {
        let old = analyze(&rows(1.0)).unwrap();
        // 8% slower, beyond doubt and apart from the old runs, but under 10%.
        let small = compare(&old, &analyze(&rows(1.08)).unwrap(), 0.10);
        assert_eq!(small.changes[1].verdict, ChangeVerdict::NoClearChange);
        let same = compare(&old, &analyze(&rows(1.08)).unwrap(), 0.05);
        assert_eq!(same.changes[1].verdict, ChangeVerdict::Slower);
        assert_eq!(
            compare(&old, &analyze(&rows(1.3)).unwrap(), 0.10).changes[1].verdict,
            ChangeVerdict::Slower
        );
    }

    /// SplitMix64: a seeded stream of draws, the same on every machine.
    fn draws(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as f64 / u64::MAX as f64
        }
    }

    #[test]
    fn three_unchanged_runs_a_side_are_called_slower_at_most_one_time_in_twenty() {
        let mut draw = draws(25);
        // Spread as a short entry's runs are: from 0.5 to 1.5 of the median.
        let mut runs = || [0.5 + draw(), 0.5 + draw(), 0.5 + draw()];
        let (mut judged, mut slower, mut faster) = (0, 0, 0);
        for _ in 0..200 {
            let old = analyze(&rows_with(&runs(), 1.0)).unwrap();
            let new = analyze(&rows_with(&runs(), 1.0)).unwrap();
            for threshold in [0.0, 0.10] {
                let comparison = compare(&old, &new, threshold);
                assert!(comparison.changes.iter().all(|change| change.interval.is_none()));
                judged += comparison.changes.len();
                slower += comparison.count(ChangeVerdict::Slower);
                faster += comparison.count(ChangeVerdict::Faster);
            }
        }
        assert_eq!(judged, 800);
        assert!(slower * 20 <= judged, "{slower} of {judged} called slower");
        assert!(faster * 20 <= judged, "{faster} of {judged} called faster");
    }

    #[test]
    fn three_runs_a_side_apart_past_the_threshold_are_judged_and_two_are_not() {
        let old = analyze(&rows_with(&[1.0, 1.01, 1.02], 1.0)).unwrap();
        let slower = analyze(&rows_with(&[1.0, 1.01, 1.02], 1.2)).unwrap();
        let comparison = compare(&old, &slower, 0.10);
        assert_eq!(comparison.changes[1].verdict, ChangeVerdict::Slower, "{:?}", comparison.changes[1]);
        assert!(comparison.changes[1].p.is_some_and(|p| p <= 0.025));
        assert_eq!(compare(&slower, &old, 0.10).changes[1].verdict, ChangeVerdict::Faster);
        // 20% slower is not past 30%.
        assert_eq!(compare(&old, &slower, 0.30).changes[1].verdict, ChangeVerdict::NoClearChange);
        let two = analyze(&rows_with(&[1.0, 1.01], 1.2)).unwrap();
        let comparison = compare(&old, &two, 0.10);
        assert_eq!(comparison.changes[1].verdict, ChangeVerdict::NotJudged);
        assert_eq!(comparison.changes[1].not_judged, Some(NotJudged::TooFewRuns(3, 2)));
        assert!(comparison.fails(true) && !comparison.fails(false));
    }
}

#[cfg(test)]
mod simulation;
