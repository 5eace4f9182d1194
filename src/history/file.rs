//! The history CSV, `results/history/NAME.csv`: the per-run CSV's columns
//! (the same `RunRow`, written and read by `results`), then `commit`,
//! `commit_time`, `commit_subject` and `job_version`. Rows are appended a
//! commit at a time, whole and flushed, so a walk that is stopped loses
//! nothing it measured; a torn last line is dropped when read.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::git::Commit;
use crate::error::Error;
use crate::results::{self, RunRow};

/// The columns after the run's, in order.
pub const COMMIT_COLUMNS: [&str; 4] = ["commit", "commit_time", "commit_subject", "job_version"];

/// One run at one commit.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub run: RunRow,
    pub commit: Commit,
    /// A digest of the job file's text the commit was measured with
    /// (`Job::source_hash`): the matrix is today's job file, so results
    /// of another version of it are kept apart when skipping commits.
    pub job_version: String,
}

/// A history CSV's rows and parameter names.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub param_names: Vec<String>,
    pub rows: Vec<HistoryRow>,
}

/// `results/history/NAME.csv` for the job `name` under `out`.
pub fn path_of(out: &Path, name: &str) -> PathBuf {
    out.join("history").join(format!("{name}.csv"))
}

/// `STEM.changes.csv` beside `STEM.csv`.
pub fn changes_path(history: &Path) -> PathBuf {
    let stem = history.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    history.with_file_name(format!("{stem}.changes.csv"))
}

/// Reads a history CSV; a file that is not there is an empty history.
pub fn read(path: &Path) -> Result<History, Error> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(History::default()),
        Err(error) => {
            return Err(Error::Usage(format!(
                "cannot read {}: {}",
                path.display(),
                crate::vocab::io_reason(&error)
            )));
        }
    };
    parse(&bytes).map_err(|error| Error::Usage(format!("{}: {error}", path.display())))
}

/// The rows of a history CSV's bytes, read as `results::read` reads a
/// per-run CSV (its columns, in any order, through `results::COLUMNS`):
/// complete lines, of the header's length, up to the first that does not
/// parse.
pub fn parse(bytes: &[u8]) -> Result<History, String> {
    let mut reader = crate::results::complete_rows(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(header) => header.iter().map(str::to_owned).collect(),
        Err(_) => return Ok(History::default()),
    };
    let place = |name: &str| header.iter().position(|column| column == name);
    let [commit, time, subject, version] = COMMIT_COLUMNS.map(|name| {
        place(name).ok_or_else(|| {
            format!("no column \"{name}\"; is this a history CSV, written by `parbench history run`?")
        })
    });
    let (commit, time, subject, version) = (commit?, time?, subject?, version?);
    let fixed: Vec<(&results::Column, Option<usize>)> =
        results::COLUMNS.iter().map(|column| (column, place(column.name))).collect();
    if let Some((missing, _)) = fixed.iter().find(|(column, at)| column.required && at.is_none()) {
        return Err(format!(
            "no column \"{}\"; is this a history CSV, written by `parbench history run`?",
            missing.name
        ));
    }
    let params: Vec<(String, usize)> = header
        .iter()
        .enumerate()
        .filter_map(|(at, column)| Some((column.strip_prefix("param_")?.to_owned(), at)))
        .collect();
    let mut rows: Vec<HistoryRow> = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    while let Ok(true) = reader.read_record(&mut record) {
        line += 1;
        if record.len() != header.len() {
            continue;
        }
        let mut run = RunRow::blank();
        for (column, at) in &fixed {
            if let Some(cell) = at.map(|at| &record[at]) {
                (column.read)(&mut run, cell).map_err(|problem| {
                    format!("row {line}: {}", results::problem_text(column.name, cell, problem))
                })?;
            }
        }
        run.params = params.iter().map(|(name, at)| (name.clone(), record[*at].to_owned())).collect();
        let cell = |at: usize| results::unguard_cell(&record[at]);
        // Runs of one commit follow each other: they share its cells.
        let (commit, job_version) = match rows.last() {
            Some(last) if last.commit.id == cell(commit) && last.job_version == cell(version) => {
                (last.commit.clone(), last.job_version.clone())
            }
            _ => (
                Commit {
                    id: cell(commit).to_owned(),
                    time: cell(time).to_owned(),
                    subject: cell(subject).to_owned(),
                },
                cell(version).to_owned(),
            ),
        };
        rows.push(HistoryRow { run, commit, job_version });
    }
    Ok(History { param_names: params.into_iter().map(|(name, _)| name).collect(), rows })
}

fn header(param_names: &[String]) -> Vec<String> {
    results::header(param_names).into_iter().chain(COMMIT_COLUMNS.map(str::to_owned)).collect()
}

fn record(row: &HistoryRow, param_names: &[String]) -> Vec<String> {
    let commit = [&row.commit.id, &row.commit.time, &row.commit.subject, &row.job_version];
    row.run.to_record(param_names).into_iter().chain(commit.map(|cell| results::text_cell(cell))).collect()
}

fn csv_bytes(param_names: &[String], with_header: bool, rows: &[HistoryRow]) -> Vec<u8> {
    let mut csv = results::writer(Vec::new());
    if with_header {
        csv.write_record(header(param_names)).expect("writing to memory");
    }
    for row in rows {
        csv.write_record(record(row, param_names)).expect("writing to memory");
    }
    csv.into_inner().expect("writing to memory")
}

/// Adds one commit's rows to the history at `path`: appended whole and
/// flushed to disk when the file's columns fit them; otherwise (new
/// parameters, a torn last line) the whole file is written again, to a
/// temporary file put in its place.
pub fn append(path: &Path, rows: &[HistoryRow]) -> Result<(), Error> {
    let mut param_names: Vec<String> = rows.iter().flat_map(|row| row.run.params.keys().cloned()).collect();
    param_names.sort();
    param_names.dedup();
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(Error::output(folder))?;
    }
    // Only the header and the last byte decide whether rows can be appended,
    // so that a long history is not read again for every commit.
    let existing = std::fs::read(path).ok().filter(|bytes| !bytes.is_empty());
    let Some(existing) = existing else {
        return crate::report::csv::write_atomically(path, &csv_bytes(&param_names, true, rows));
    };
    let header_line =
        &existing[..existing.iter().position(|byte| *byte == b'\n').map_or(existing.len(), |end| end + 1)];
    let names: Vec<String> = csv::ReaderBuilder::new()
        .from_reader(header_line)
        .headers()
        .map(|header| {
            header.iter().filter_map(|cell| cell.strip_prefix("param_")).map(str::to_owned).collect()
        })
        .unwrap_or_default();
    let fits = param_names.iter().all(|name| names.contains(name))
        && existing.ends_with(b"\n")
        && header_line == &csv_bytes(&names, true, &[])[..];
    if fits {
        let mut file = std::fs::OpenOptions::new().append(true).open(path).map_err(Error::output(path))?;
        file.write_all(&csv_bytes(&names, false, rows))
            .and_then(|()| file.sync_data())
            .map_err(Error::output(path))?;
        return Ok(());
    }
    let history = parse(&existing).map_err(|error| Error::Usage(format!("{}: {error}", path.display())))?;
    let mut names = history.param_names.clone();
    names.extend(param_names);
    names.sort();
    names.dedup();
    let all: Vec<HistoryRow> = history.rows.into_iter().chain(rows.iter().cloned()).collect();
    crate::report::csv::write_atomically(path, &csv_bytes(&names, true, &all))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(commit: &str, wall: f64, param: Option<(&str, &str)>) -> HistoryRow {
        let mut run = RunRow { job: "job".into(), workload: "w".into(), wall_s: wall, ..RunRow::blank() };
        if let Some((name, value)) = param {
            run.params.insert(name.to_owned(), value.to_owned());
        }
        HistoryRow {
            run,
            commit: Commit {
                id: commit.into(),
                time: "2026-01-01T00:00:00+00:00".into(),
                subject: "a, \"b\"".into(),
            },
            job_version: "abc".into(),
        }
    }

    #[test]
    fn appended_commits_read_back_with_their_commit_and_a_torn_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history/job.csv");
        append(&path, &[row("c1", 0.5, Some(("n", "1")))]).unwrap();
        append(&path, &[row("c2", 0.25, Some(("n", "1"))), row("c2", 0.75, Some(("n", "1")))]).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let history = parse(&bytes).unwrap();
        let measured: Vec<(String, f64)> =
            history.rows.iter().map(|r| (r.commit.id.clone(), r.run.wall_s)).collect();
        assert_eq!(measured, [("c1".into(), 0.5), ("c2".into(), 0.25), ("c2".into(), 0.75)]);
        assert_eq!(history.rows[0].commit.subject, "a, \"b\"");
        assert_eq!(history.rows[0].job_version, "abc");
        bytes.extend_from_slice(b"job,w,");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(parse(&bytes).unwrap().rows.len(), 3);
        append(&path, &[row("c3", 1.0, Some(("m", "2")))]).unwrap();
        let history = read(&path).unwrap();
        assert_eq!(history.param_names, ["m", "n"]);
        assert_eq!(history.rows.len(), 4);
        assert_eq!(history.rows[3].run.params.get("m").map(String::as_str), Some("2"));
        assert_eq!(history.rows[0].run.params.get("n").map(String::as_str), Some("1"));
    }

    #[test]
    fn a_per_run_csv_is_not_taken_for_a_history() {
        let bytes = results::to_csv(&[], [&RunRow::blank()]);
        let error = parse(&bytes).unwrap_err();
        assert!(error.contains("no column \"commit\""), "{error}");
    }
}
