//! `parbench report --baseline OLD.csv NEW.csv`: did anything get slower?
//! The verdicts, as data; `report::compare` puts them into words.
//!
//! Entries are matched by what they measure (job, workload, parameters,
//! list, strategy, workers, chunk size), and by host as well when both
//! files have rows of several hosts. The change is the ratio of medians,
//! new over old, with a distribution-free interval made of the two
//! medians' order-statistic intervals (see
//! [`crate::precision::ratio_of_medians`]); an entry is *slower* only when
//! the whole interval lies above 1 + threshold, *faster* when it lies below
//! 1 - threshold, and otherwise shows *no clear change* (so does an entry
//! with too few runs for an interval at that level).
//!
//! With many entries, some 95% interval would miss by chance alone; the
//! intervals are widened so that all of them hold together with 95%
//! confidence (Bonferroni: each at 1 - 5%/entries), so that an unchanged
//! job raises no alarm 19 times out of 20, however many entries it has.

use std::collections::BTreeMap;

use super::{Analysis, EntryId, EntryStats};
use crate::precision::{LEVEL, ratio_of_medians};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Faster,
    Slower,
    NoClearChange,
}

#[derive(Debug, Clone)]
pub struct Change {
    pub entry: EntryId,
    pub old_median: f64,
    pub new_median: f64,
    /// new / old, and its interval; `None` where too few runs hold one.
    pub ratio: f64,
    pub interval: Option<(f64, f64)>,
    pub verdict: Verdict,
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
        self.changes.iter().any(|change| change.verdict == Verdict::Slower)
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
        let verdict = match interval {
            Some((low, _)) if low > 1.0 + threshold => Verdict::Slower,
            Some((_, high)) if high < 1.0 - threshold => Verdict::Faster,
            _ => Verdict::NoClearChange,
        };
        comparison.changes.push(Change {
            entry: entry.id.clone(),
            old_median,
            new_median,
            ratio,
            interval,
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
    use crate::analysis::analyze;
    use crate::report::words::entry_label;

    fn rows(scale: f64) -> Vec<BTreeMap<String, String>> {
        let mut rows = Vec::new();
        for (strategy, base) in [("serial", 1.0), ("threads", 0.5)] {
            for (repetition, jitter) in
                [0.99, 1.0, 1.01, 1.0, 0.995, 1.005, 0.998, 1.002, 1.0, 0.997].iter().enumerate()
            {
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
            .filter(|c| c.verdict == Verdict::Slower)
            .map(|c| entry_label(&c.entry, slower.hosts))
            .collect();
        assert_eq!(named, ["w · range 10 items · threads ×2"]);
        let same = compare(&old, &analyze(&rows(1.02)).unwrap(), 0.05);
        assert!(!same.any_slower());
        let faster = compare(&old, &analyze(&rows(0.7)).unwrap(), 0.05);
        assert_eq!(faster.changes[1].verdict, Verdict::Faster);
    }
}
