//! From history rows to what the report says: the commits in order, each
//! entry's series of per-commit medians, its change points, the commits
//! whose answers changed, and the runs that failed.
//!
//! Entries are matched across commits by what they are (`EntryId`: job,
//! host, workload, list, parameters, strategy, workers, chunk size), not by
//! their `entry_key`, which covers the job file's folder and the digests of
//! its scripts and so differs from one checkout to the next. The host is
//! part of the identity, so results of different hosts are never compared.

use std::collections::{BTreeMap, HashMap};

use super::detect::{self, Change, Settings};
use super::file::HistoryRow;
use super::git::Commit;
use crate::analysis::EntryId;
use crate::vocab::{Status, Strategy};

/// One entry at one commit.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Index into [`Timeline::commits`].
    pub commit: usize,
    pub median: f64,
    /// The median's order-statistic interval where there are runs enough
    /// (six or more), otherwise the lowest and highest run.
    pub low: f64,
    pub high: f64,
    pub runs: usize,
}

/// An entry's ok runs, commit by commit.
#[derive(Debug, Clone)]
pub struct Series {
    pub id: EntryId,
    /// The entry's key at its newest commit, for the changes CSV.
    pub entry_key: String,
    pub points: Vec<Point>,
}

/// A change point of one series.
#[derive(Debug, Clone)]
pub struct Found {
    /// Index into [`Timeline::series`].
    pub series: usize,
    /// Index into [`Timeline::commits`]: the first commit after the change.
    pub commit: usize,
    pub change: Change,
}

/// Serial's answer (its checksum) differs from the one at the entry's
/// previous commit.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerChange {
    pub id: EntryId,
    pub commit: usize,
    pub before: String,
    pub after: String,
}

/// Runs at a commit that did not end ok, per entry: what went wrong, once.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub id: EntryId,
    pub commit: usize,
    pub status: Status,
    pub runs: usize,
    pub error: String,
}

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Oldest first, by committer time (a commit measured twice is one).
    pub commits: Vec<Commit>,
    pub series: Vec<Series>,
    pub answers: Vec<AnswerChange>,
    pub failures: Vec<Failure>,
}

impl Timeline {
    pub fn of(rows: &[HistoryRow]) -> Timeline {
        let mut commits: Vec<Commit> = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for row in rows {
            seen.entry(&row.commit.id).or_insert_with(|| {
                commits.push(row.commit.clone());
                commits.len() - 1
            });
        }
        // Stable: commits of the same second keep the order they were measured in.
        commits.sort_by_key(|commit| seconds(&commit.time).unwrap_or(i64::MIN));
        let place: HashMap<&str, usize> =
            commits.iter().enumerate().map(|(at, commit)| (commit.id.as_str(), at)).collect();

        // Entries in the order of their first row, each with its runs by
        // commit. Rows of one entry_key on one host are of one entry, so its
        // identity is made once per key and host rather than once per row.
        let mut entries: Vec<(EntryId, BTreeMap<usize, Vec<&HistoryRow>>)> = Vec::new();
        let mut slot_of_id: HashMap<EntryId, usize> = HashMap::new();
        let mut slot_of_key: HashMap<(&str, &str), usize> = HashMap::new();
        for row in rows {
            let known = (row.run.entry_key.as_str(), row.run.host.as_str());
            let slot = match slot_of_key.get(&known) {
                Some(slot) if !known.0.is_empty() => *slot,
                _ => {
                    let id = EntryId::of(&row.run);
                    let slot = *slot_of_id.entry(id.clone()).or_insert_with(|| {
                        entries.push((id, BTreeMap::new()));
                        entries.len() - 1
                    });
                    slot_of_key.insert(known, slot);
                    slot
                }
            };
            entries[slot].1.entry(place[row.commit.id.as_str()]).or_default().push(row);
        }
        let mut timeline = Timeline { commits, ..Timeline::default() };
        for (id, at_commits) in entries {
            let mut points = Vec::new();
            let mut answer: Option<String> = None;
            let mut entry_key = String::new();
            for (&commit, runs) in &at_commits {
                entry_key = runs[0].run.entry_key.clone();
                let ok: Vec<f64> = runs
                    .iter()
                    .filter(|row| row.run.status == Status::Ok)
                    .map(|row| row.run.wall_s)
                    .collect();
                if let Some(point) = point(commit, &ok) {
                    points.push(point);
                }
                for status in [Status::Failed, Status::Timeout, Status::Mismatch, Status::Unverified] {
                    let bad: Vec<&&HistoryRow> = runs.iter().filter(|row| row.run.status == status).collect();
                    if let Some(first) = bad.first() {
                        timeline.failures.push(Failure {
                            id: id.clone(),
                            commit,
                            status,
                            runs: bad.len(),
                            error: first.run.error.clone(),
                        });
                    }
                }
                let checksum = runs
                    .iter()
                    .find(|row| row.run.status == Status::Ok && !row.run.checksum.is_empty())
                    .map(|row| row.run.checksum.clone());
                if id.strategy == Strategy::Serial
                    && let Some(checksum) = checksum
                {
                    if let Some(before) = answer.as_ref().filter(|before| **before != checksum) {
                        timeline.answers.push(AnswerChange {
                            id: id.clone(),
                            commit,
                            before: before.clone(),
                            after: checksum.clone(),
                        });
                    }
                    answer = Some(checksum);
                }
            }
            timeline.series.push(Series { id, entry_key, points });
        }
        timeline.answers.sort_by_key(|change| change.commit);
        timeline.failures.sort_by_key(|failure| failure.commit);
        timeline
    }

    /// Every series' change points, oldest first.
    pub fn changes(&self, settings: Settings) -> Vec<Found> {
        let mut found: Vec<Found> = self
            .series
            .iter()
            .enumerate()
            .flat_map(|(at, series)| {
                let medians: Vec<f64> = series.points.iter().map(|point| point.median).collect();
                detect::changes(&medians, settings).into_iter().map(move |change| Found {
                    series: at,
                    commit: series.points[change.index].commit,
                    change,
                })
            })
            .collect();
        found.sort_by_key(|found| found.commit);
        found
    }

    /// The index of the commit `id` (a full id or a prefix of one).
    pub fn find(&self, id: &str) -> Option<usize> {
        self.commits.iter().position(|commit| commit.id == id).or_else(|| {
            let mut matching =
                self.commits.iter().enumerate().filter(|(_, commit)| commit.id.starts_with(id));
            match (matching.next(), matching.next()) {
                (Some((at, _)), None) if id.len() >= 4 => Some(at),
                _ => None,
            }
        })
    }
}

fn point(commit: usize, ok: &[f64]) -> Option<Point> {
    let estimate = crate::precision::estimate(ok)?;
    let (low, high) = estimate.interval.unwrap_or_else(|| {
        let low = ok.iter().copied().fold(f64::INFINITY, f64::min);
        (low, ok.iter().copied().fold(f64::NEG_INFINITY, f64::max))
    });
    Some(Point { commit, median: estimate.median, low, high, runs: ok.len() })
}

/// Seconds since 1970 of an ISO 8601 time with its offset, as
/// `git show --format=%cI` writes it (`2026-03-01T12:00:00+01:00`).
pub fn seconds(time: &str) -> Option<i64> {
    let (date, rest) = time.split_once('T')?;
    let mut ymd = date.split('-').map(|part| part.parse::<i64>().ok());
    let (year, month, day) = (ymd.next()??, ymd.next()??, ymd.next()??);
    let clock_end = rest.find(['+', '-', 'Z']).unwrap_or(rest.len());
    let mut hms = rest[..clock_end].split(':').map(|part| part.parse::<i64>().ok());
    let (hour, minute, second) = (hms.next()??, hms.next()??, hms.next()??);
    let offset = match &rest[clock_end..] {
        "" | "Z" => 0,
        zone => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (h, m) = zone[1..].split_once(':').unwrap_or((&zone[1..], "0"));
            sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::RunRow;

    fn row(commit: &str, time: &str, strategy: Strategy, wall: f64, checksum: &str) -> HistoryRow {
        HistoryRow {
            run: RunRow {
                job: "job".into(),
                workload: "w".into(),
                host: "h".into(),
                strategy,
                wall_s: wall,
                checksum: checksum.into(),
                ..RunRow::blank()
            },
            commit: Commit { id: commit.into(), time: time.into(), subject: String::new() },
            job_version: String::new(),
        }
    }

    #[test]
    fn iso_times_with_offsets_count_the_same_instant_alike() {
        assert_eq!(seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(seconds("2026-03-01T12:00:00+01:00"), seconds("2026-03-01T11:00:00+00:00"));
        assert_eq!(seconds("2000-03-01T00:00:00-00:30"), Some(951_868_800 + 1800));
    }

    #[test]
    fn commits_go_in_time_order_and_a_changed_answer_is_named() {
        let rows = [
            row("b", "2026-01-02T00:00:00+00:00", Strategy::Serial, 2.0, "x"),
            row("a", "2026-01-01T00:00:00+00:00", Strategy::Serial, 1.0, "x"),
            row("c", "2026-01-03T00:00:00+00:00", Strategy::Serial, 3.0, "y"),
            row("c", "2026-01-03T00:00:00+00:00", Strategy::Threads, 3.0, "y"),
        ];
        let timeline = Timeline::of(&rows);
        let ids: Vec<&str> = timeline.commits.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let medians: Vec<f64> = timeline.series[0].points.iter().map(|p| p.median).collect();
        assert_eq!(medians, [1.0, 2.0, 3.0]);
        assert_eq!(timeline.answers.len(), 1);
        assert_eq!((timeline.answers[0].commit, timeline.answers[0].after.as_str()), (2, "y"));
    }
}
