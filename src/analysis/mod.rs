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
//!
//! Runs that other load disturbed are left out of every statistic; an
//! entry left with too few undisturbed ones is not judged (see
//! [`Busy`]), and nothing here answers from it.

use std::collections::BTreeSet;

pub mod answers;
mod busy;
pub mod compare;
mod crossover;
mod entries;
pub mod invocations;
pub mod scaling;
mod verdicts;
mod warnings;

pub use crate::precision::Verdict;
use crate::vocab::Strategy;
pub use busy::{Busy, RunsOf, UNDISTURBED_ENOUGH};
pub use crossover::{Crossover, Point, Series, SeriesVerdict, crossover};
pub use entries::{EntryStats, OkRun, analyze, analyze_files, outliers};
pub use warnings::{Warning, warnings};

/// What identifies an entry in a results file: its group and how it ran.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId {
    /// The entries compared with each other share it.
    pub group: GroupId,
    pub strategy: Strategy,
    pub workers: usize,
    pub chunking: crate::vocab::Chunking,
}

impl EntryId {
    /// The entry a per-run row belongs to.
    pub fn of(row: &crate::results::RunRow) -> EntryId {
        EntryId {
            group: GroupId {
                job: row.job.clone(),
                host: row.host.clone(),
                workload: row.workload.clone(),
                generator: row.generator.clone(),
                list_size: row.list_size,
                params: row.param_values().map(|(name, value)| (name.to_owned(), value.to_owned())).collect(),
            },
            strategy: row.strategy,
            workers: row.workers,
            chunking: row.chunking,
        }
    }
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

#[cfg(test)]
/// Analyses rows given as cells by column name, read through the results
/// row as a file of them would be.
pub(crate) fn analyze_cells(rows: &[std::collections::BTreeMap<String, String>]) -> Result<Analysis, String> {
    let columns: std::collections::BTreeSet<&String> = rows.iter().flat_map(|row| row.keys()).collect();
    let mut csv = crate::results::writer(Vec::new());
    csv.write_record(&columns).unwrap();
    for row in rows {
        csv.write_record(columns.iter().map(|column| row.get(*column).cloned().unwrap_or_default())).unwrap();
    }
    let rows = crate::results::read(&csv.into_inner().unwrap()).rows()?;
    analyze(&rows)
}

#[cfg(test)]
mod tests;
