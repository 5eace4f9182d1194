//! When each run started and whether other load disturbed it, read from the
//! per-run rows, for the charts of every run. The analysis keeps each
//! entry's walls by repetition; this adds what only the rows know.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::analysis::EntryId;
use crate::results::RunRow;

/// (start, seconds since the Unix epoch; disturbed) of each run, by entry and repetition.
#[derive(Debug, Clone, Default)]
pub struct RunTimes {
    runs: BTreeMap<(EntryId, u32), (Option<f64>, bool)>,
}

impl RunTimes {
    /// The runs of per-run rows.
    pub fn from_rows(rows: &[RunRow]) -> RunTimes {
        let runs = rows
            .iter()
            .map(|row| {
                let started = row
                    .started_at
                    .and_then(|time| time.duration_since(std::time::SystemTime::UNIX_EPOCH).ok())
                    .map(|since| since.as_secs_f64());
                ((EntryId::of(row), row.repetition), (started, row.disturbed == Some(true)))
            })
            .collect();
        RunTimes { runs }
    }

    /// The runs of per-run CSV files; a file or a row that cannot be read
    /// adds none (the analysis has already said what is wrong with it).
    pub fn read(paths: &[PathBuf]) -> RunTimes {
        let rows: Vec<RunRow> = paths
            .iter()
            .filter_map(|path| super::csv::read_rows(path).ok())
            .flat_map(|table| table.rows.into_iter().flatten())
            .collect();
        RunTimes::from_rows(&rows)
    }

    /// When repetition `repetition` of `id` started, and whether it was disturbed.
    pub fn of(&self, id: &EntryId, repetition: u32) -> (Option<f64>, bool) {
        self.runs.get(&(id.clone(), repetition)).copied().unwrap_or((None, false))
    }
}
