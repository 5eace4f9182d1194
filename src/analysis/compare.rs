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
//! two runs of an unchanged job, said as such. Otherwise *no clear change*
//! (so also for an entry with too few runs for an interval at that level).
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
//! With many entries, some 95% interval would miss by chance alone; the
//! intervals are widened so that all of them hold together with 95%
//! confidence (Bonferroni: each at 1 - 5%/entries), so that an unchanged
//! job raises no alarm 19 times out of 20, however many entries it has.

use std::collections::BTreeMap;

use super::{Analysis, EntryId, EntryStats};
use crate::precision::{LEVEL, ratio_of_medians};
use crate::stats::quantiles;

/// The share of an entry's runs left out at each end of its spread: its
/// 10th to 90th percentiles.
pub const TAIL: f64 = 0.10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeVerdict {
    Faster,
    Slower,
    NoClearChange,
    /// The interval lies past the threshold, but the middle 80% of the two
    /// runs' times overlap: not sure, and said so.
    WithinNoise,
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
}

#[derive(Debug, Clone, Default)]
pub struct Comparison {
    pub changes: Vec<Change>,
    /// Entries that have no change to show, and why.
    pub unmatched: Vec<(Unmatched, EntryId)>,
    /// Hosts to tell entries apart by: 1 where hosts were not matched.
    pub hosts: usize,
    /// The level of each interval (all of them together hold at 95%).
    pub level: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatched {
    OnlyInNew,
    OnlyInBaseline,
    /// In both, but without an ok run in one of them.
    NoOkRuns,
}

impl Comparison {
    pub fn any_slower(&self) -> bool {
        self.changes.iter().any(|change| change.verdict == ChangeVerdict::Slower)
    }
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
    let mut comparison = Comparison { hosts, ..Comparison::default() };
    let mut matched = std::collections::BTreeSet::new();
    let mut pairs = Vec::new();
    for entry in &new.entries {
        let id = key(&entry.id, with_host);
        let Some(before) = old_entries.get(&id) else {
            comparison.unmatched.push((Unmatched::OnlyInNew, entry.id.clone()));
            continue;
        };
        matched.insert(id);
        match (&before.wall, &entry.wall) {
            (Some(old_wall), Some(new_wall)) => {
                pairs.push((*before, old_wall.median, entry, new_wall.median))
            }
            _ => comparison.unmatched.push((Unmatched::NoOkRuns, entry.id.clone())),
        }
    }
    comparison.level = 1.0 - (1.0 - LEVEL) / pairs.len().max(1) as f64;
    for (before, old_median, entry, new_median) in pairs {
        let (ratio, interval) = ratio_of_medians(&entry.walls, &before.walls, comparison.level)
            .unwrap_or((new_median / old_median, None));
        let spread_of = |walls: &[f64]| quantiles(walls, TAIL, 1.0 - TAIL);
        let (old_box, new_box) = (spread_of(&before.walls), spread_of(&entry.walls));
        let apart = |below: Option<(f64, f64)>, above: Option<(f64, f64)>| match (below, above) {
            (Some((_, below_high)), Some((above_low, _))) => above_low > below_high,
            _ => false,
        };
        let (above, below) = match interval {
            Some((low, high)) => (low > 1.0 + threshold, high < 1.0 - threshold),
            None => (false, false),
        };
        let verdict = match (above, below) {
            (true, _) if apart(old_box, new_box) => ChangeVerdict::Slower,
            (_, true) if apart(new_box, old_box) => ChangeVerdict::Faster,
            (true, _) | (_, true) => ChangeVerdict::WithinNoise,
            _ => ChangeVerdict::NoClearChange,
        };
        let relative = |range: Option<(f64, f64)>, median: f64| match range {
            Some((low, high)) if median > 0.0 => (low / median, high / median),
            _ => (1.0, 1.0),
        };
        let spread = [relative(old_box, old_median), relative(new_box, new_median)]
            .into_iter()
            .max_by(|a, b| (a.1 - a.0).total_cmp(&(b.1 - b.0)))
            .unwrap_or((1.0, 1.0));
        comparison.changes.push(Change {
            entry: entry.id.clone(),
            old_median,
            new_median,
            ratio,
            interval,
            spread,
            verdict,
        });
    }
    for entry in &old.entries {
        if !matched.contains(&key(&entry.id, with_host)) {
            comparison.unmatched.push((Unmatched::OnlyInBaseline, entry.id.clone()));
        }
    }
    comparison
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
        assert!(slower.any_slower());
        let named: Vec<String> = slower
            .changes
            .iter()
            .filter(|c| c.verdict == ChangeVerdict::Slower)
            .map(|c| entry_label(&c.entry, slower.hosts))
            .collect();
        assert_eq!(named, ["w · range 10 items · threads ×2"]);
        let same = compare(&old, &analyze(&rows(1.02)).unwrap(), 0.05);
        assert!(!same.any_slower());
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
        assert!(!comparison.any_slower());
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
}
