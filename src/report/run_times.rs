//! When each run started and whether other load disturbed it, read from the
//! per-run rows, for the charts of every run. The analysis keeps each
//! entry's walls by repetition; this adds what only the rows know.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::analysis::{EntryId, GroupId};

/// (start, seconds since the Unix epoch; disturbed) of each run, by entry and repetition.
#[derive(Debug, Clone, Default)]
pub struct RunTimes {
    runs: BTreeMap<(EntryId, u32), (Option<f64>, bool)>,
}

impl RunTimes {
    /// The runs of per-run rows, as `report::csv::read_rows` gives them; a
    /// row whose entry cells do not parse is left out (the analysis has
    /// already said what is wrong with it).
    pub fn from_rows(rows: &[BTreeMap<String, String>]) -> RunTimes {
        let mut runs = BTreeMap::new();
        for row in rows {
            let cell = |name: &str| row.get(name).map(String::as_str).unwrap_or_default();
            let (Ok(list_size), Ok(workers), Ok(repetition)) =
                (cell("list_size").parse(), cell("workers").parse(), cell("repetition").parse())
            else {
                continue;
            };
            let params = row
                .iter()
                .filter_map(|(name, value)| {
                    let param = name.strip_prefix("param_")?;
                    (!value.is_empty()).then(|| (param.to_owned(), value.clone()))
                })
                .collect();
            let id = EntryId {
                group: GroupId {
                    job: cell("job").to_owned(),
                    host: cell("host").to_owned(),
                    workload: cell("workload").to_owned(),
                    generator: cell("generator").to_owned(),
                    list_size,
                    params,
                },
                strategy: cell("strategy").to_owned(),
                workers,
                chunk_size: cell("chunk_size").to_owned(),
            };
            let started = super::parse_cell_time(cell("started_at"))
                .and_then(|time| time.duration_since(std::time::SystemTime::UNIX_EPOCH).ok())
                .map(|since| since.as_secs_f64());
            runs.insert((id, repetition), (started, cell("disturbed") == "true"));
        }
        RunTimes { runs }
    }

    /// The runs of per-run CSV files; a file that cannot be read adds none.
    pub fn read(paths: &[PathBuf]) -> RunTimes {
        let rows: Vec<BTreeMap<String, String>> =
            paths.iter().filter_map(|path| super::csv::read_rows(path).ok()).flatten().collect();
        RunTimes::from_rows(&rows)
    }

    /// When repetition `repetition` of `id` started, and whether it was disturbed.
    pub fn of(&self, id: &EntryId, repetition: u32) -> (Option<f64>, bool) {
        self.runs.get(&(id.clone(), repetition)).copied().unwrap_or((None, false))
    }
}
