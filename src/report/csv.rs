//! The per-run CSV (`results/NAME.csv`), as `RESULTS.md` defines it, and the
//! one place the csv writer is configured.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{cell_time, parse_cell_time, seconds, text_cell};
use crate::error::Error;
use crate::jobfile::Job;
use crate::matrix::{Entry, Plan, param_cell};
use crate::runner::{Event, Host, Reporter, RunRecord};

pub const FIXED_COLUMNS: &[&str] = &[
    "job",
    "workload",
    "generator",
    "list_size",
    "strategy",
    "workers",
    "chunk_size",
    "repetition",
    "status",
    "wall_s",
    "setup_s",
    "cpu_s",
    "items_per_s",
    "checksum",
    "error",
    "started_at",
    "host",
    "cpus",
    "parbench_version",
    "entry_key",
    "peak_rss_bytes",
    "python",
    "python_gil",
];

/// The csv writer every file of parbench uses: comma, `\n`, quoting only
/// where needed.
pub fn writer<W: Write>(sink: W) -> csv::Writer<W> {
    csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(sink)
}

/// Every parameter name used by any entry, sorted.
pub fn param_names(plan: &Plan) -> Vec<String> {
    let mut names: Vec<String> =
        plan.entries.iter().flat_map(|entry| entry.params.iter().map(|(name, _)| name.clone())).collect();
    names.sort();
    names.dedup();
    names
}

pub fn header(param_names: &[String]) -> Vec<String> {
    FIXED_COLUMNS
        .iter()
        .map(|column| (*column).to_owned())
        .chain(param_names.iter().map(|name| format!("param_{name}")))
        .collect()
}

/// The parameter cells of an entry, in `param_names` order.
pub fn param_cells(entry: &Entry, param_names: &[String]) -> Vec<String> {
    param_names
        .iter()
        .map(|name| {
            entry
                .params
                .iter()
                .find(|(param, _)| param == name)
                .map(|(_, value)| match value {
                    crate::jobfile::ParamValue::Text(text) => text_cell(text),
                    number => param_cell(number),
                })
                .unwrap_or_default()
        })
        .collect()
}

pub fn row(job: &Job, entry: &Entry, record: &RunRecord, host: &Host, param_names: &[String]) -> Vec<String> {
    let items_per_s = if record.wall_s > 0.0 && record.status == crate::runner::Status::Ok {
        format!("{:.3}", entry.list_size as f64 / record.wall_s)
    } else {
        String::new()
    };
    let mut cells = vec![
        text_cell(&job.name),
        text_cell(&entry.workload_name),
        entry.generator.to_owned(),
        entry.list_size.to_string(),
        entry.strategy.name().to_owned(),
        entry.workers.to_string(),
        entry.chunk_cell(),
        record.repetition.to_string(),
        record.status.name().to_owned(),
        seconds(record.wall_s),
        record.setup_s.map(seconds).unwrap_or_default(),
        seconds(record.cpu_s),
        items_per_s,
        record.checksum.clone(),
        text_cell(&one_line(&record.error)),
        cell_time(record.started_at),
        text_cell(&host.name),
        host.cpus.to_string(),
        env!("CARGO_PKG_VERSION").to_owned(),
        entry.key.clone(),
        record.peak_rss_bytes.map(|bytes| bytes.to_string()).unwrap_or_default(),
        text_cell(&record.python),
        record.python_gil.map(|gil| if gil { "enabled" } else { "disabled" }).unwrap_or_default().to_owned(),
    ];
    cells.extend(param_cells(entry, param_names));
    cells
}

fn one_line(text: &str) -> String {
    text.split(['\n', '\r']).filter(|part| !part.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Appends each measured run to `NAME.csv.partial` and flushes it before the
/// next run starts; [`RowWriter::finish`] writes the complete `NAME.csv`, rows
/// in plan order, and renames it into place in one step, so an earlier
/// complete file is only ever replaced by a complete one.
pub struct RowWriter<'a> {
    job: &'a Job,
    host: &'a Host,
    param_names: Vec<String>,
    header: Vec<String>,
    partial: PathBuf,
    final_path: PathBuf,
    /// `results/NAME.log`, where a failed run's whole story is.
    log_path: PathBuf,
    writer: csv::Writer<File>,
    /// Every row of this run so far, kept runs of an earlier one included,
    /// by (entry index, repetition).
    rows: BTreeMap<(usize, u32), Vec<String>>,
}

impl<'a> RowWriter<'a> {
    /// Starts `NAME.csv.partial` with the header and the kept rows of an
    /// earlier run (written aside and renamed, so a crash here loses none).
    pub fn create(
        job: &'a Job,
        base: &str,
        plan: &Plan,
        host: &'a Host,
        out_dir: &Path,
        prior: &[PriorRun],
    ) -> Result<Self, Error> {
        let final_path = out_dir.join(format!("{base}.csv"));
        let log_path = out_dir.join(format!("{base}.log"));
        let partial = partial_path(out_dir, base);
        let param_names = param_names(plan);
        let header = header(&param_names);
        let mut rows = BTreeMap::new();
        for run in prior {
            let cells = cells_of(&header, &run.cells);
            rows.insert((run.record.entry, run.record.repetition), cells);
        }
        Staged::new(&partial, &csv_bytes(&header, rows.values()))?.commit()?;
        // The rename put a file of ours at this name; never follow a link
        // someone planted since.
        let file = OpenOptions::new()
            .append(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&partial)
            .map_err(Error::output(&partial))?;
        Ok(RowWriter {
            job,
            host,
            param_names,
            header,
            partial,
            final_path,
            log_path,
            writer: writer(file),
            rows,
        })
    }

    pub fn partial_path(&self) -> &Path {
        &self.partial
    }

    /// Rows on disk in the `.partial` so far.
    pub fn saved(&self) -> usize {
        self.rows.len()
    }

    /// Writes the complete `NAME.csv`, rows in plan order, beside its final
    /// name; [`RowWriter::close`] removes the `.partial` once the whole set of
    /// result files is in place.
    pub fn stage(&mut self) -> Result<Staged, Error> {
        self.writer.flush().map_err(Error::output(&self.partial))?;
        Staged::new(&self.final_path, &csv_bytes(&self.header, self.rows.values()))
    }

    /// The run's files are all in place: the `.partial` has served.
    pub fn close(self) {
        let _ = std::fs::remove_file(&self.partial);
    }
}

impl Reporter for RowWriter<'_> {
    fn report(&mut self, event: &Event<'_>) -> Result<(), Error> {
        if let Event::RunFinished { entry, record, stderr } = event {
            let mut cells = row(self.job, entry, record, self.host, &self.param_names);
            // Where the run wrote to stderr, the log has more than this cell.
            if !record.error.is_empty() && !stderr.is_empty() {
                let error =
                    FIXED_COLUMNS.iter().position(|column| *column == "error").expect("a fixed column");
                cells[error].push_str(&format!(" (see {})", self.log_path.display()));
            }
            self.writer.write_record(&cells).map_err(|error| csv_error(&self.partial, error))?;
            self.writer.flush().map_err(Error::output(&self.partial))?;
            self.rows.insert((entry.index, record.repetition), cells);
        }
        Ok(())
    }
}

fn csv_bytes<'r>(header: &[String], rows: impl Iterator<Item = &'r Vec<String>>) -> Vec<u8> {
    let mut csv = writer(Vec::new());
    csv.write_record(header).expect("writing to memory");
    for row in rows {
        csv.write_record(row).expect("writing to memory");
    }
    csv.into_inner().expect("writing to memory")
}

fn csv_error(path: &Path, error: csv::Error) -> Error {
    let source = match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => std::io::Error::other(format!("{other:?}")),
    };
    Error::Output { path: path.to_path_buf(), source }
}

/// A file written in full, and synced, under an unpredictable name beside
/// its final one (so no planted link is followed and no other writer's
/// temporary is clobbered); [`Staged::commit`] renames it into place in one
/// step. Dropped uncommitted, it is removed.
pub struct Staged {
    file: tempfile::NamedTempFile,
    path: PathBuf,
}

impl Staged {
    pub fn new(path: &Path, bytes: &[u8]) -> Result<Staged, Error> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let mut file = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(Error::output(path))?;
        file.write_all(bytes).and_then(|()| file.as_file().sync_all()).map_err(Error::output(path))?;
        Ok(Staged { file, path: path.to_path_buf() })
    }

    /// The staged bytes, readable before they are in place.
    pub fn staged_path(&self) -> &Path {
        self.file.path()
    }

    pub fn commit(self) -> Result<PathBuf, Error> {
        let Staged { file, path } = self;
        file.persist(&path).map_err(|error| Error::Output { path: path.clone(), source: error.error })?;
        Ok(path)
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    Staged::new(path, bytes)?.commit().map(drop)
}

/// Result files a symbolic link stands in for are refused, named: writing
/// through one would overwrite whatever it points to (a results folder can
/// come from a cloned repository or be shared with other users).
pub fn refuse_links(paths: &[PathBuf]) -> Result<(), Error> {
    for path in paths {
        if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink()) {
            return Err(Error::Usage(format!(
                "{} is a symbolic link; parbench writes only files of its own in the results folder: \
                 remove the link, or write elsewhere with --out",
                path.display()
            )));
        }
    }
    Ok(())
}
/// A group's name as its rows say it, the same from a plan and from a
/// results file: `spin · range 10 items · iterations=5`.
fn group_name<'a>(
    workload: &str,
    generator: &str,
    list_size: &str,
    params: impl Iterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut name = format!("{workload} · {generator} {list_size} items");
    for (param, value) in params.filter(|(_, value)| !value.is_empty()) {
        name.push_str(&format!(" · {param}={value}"));
    }
    name
}

/// The names of a plan's groups that have entries, in plan order.
pub fn group_names(plan: &Plan) -> Vec<String> {
    plan.groups
        .iter()
        .filter_map(|group| plan.entries.get(group.entries.clone()).and_then(|entries| entries.first()))
        .map(|entry| {
            let names: Vec<String> = entry.params.iter().map(|(name, _)| name.clone()).collect();
            let cells = param_cells(entry, &names);
            let params = names.iter().map(String::as_str).zip(cells.iter().map(String::as_str));
            group_name(&entry.workload_name, entry.generator, &entry.list_size.to_string(), params)
        })
        .collect()
}

/// The name of the group a row of a results file belongs to.
pub fn row_group_name(row: &BTreeMap<String, String>) -> String {
    let cell = |name: &str| row.get(name).map(String::as_str).unwrap_or("");
    let params =
        row.iter().filter_map(|(column, value)| Some((column.strip_prefix("param_")?, value.as_str())));
    group_name(cell("workload"), cell("generator"), cell("list_size"), params)
}

/// A kept row: its entry, its record (for statistics and checks) and its
/// cells as first written, by column name (the host and time it was
/// measured at stay what they were).
#[derive(Debug, Clone)]
pub struct PriorRun {
    pub record: RunRecord,
    pub cells: BTreeMap<String, String>,
}

pub fn partial_path(out_dir: &Path, job: &str) -> PathBuf {
    out_dir.join(format!("{job}.csv.partial"))
}

/// Reads a results CSV written by parbench, dropping a last line that a
/// killed writer left incomplete. Cells that parbench 0.1.0 wrote in another
/// form (bare hex digests, RFC 3339 times) come back in today's, so resumed,
/// merged and reported rows are all alike.
/// Columns that hold text from a user or a program, written as
/// [`text_cell`]s: the guard is taken off on reading and put back on writing.
fn is_text_column(column: &str) -> bool {
    matches!(column, "job" | "workload" | "error" | "host") || column.starts_with("param_")
}

/// A row read back by [`read_rows`], as cells in `header`'s order, guarded
/// again where they hold text (a number-like parameter stays as it is).
pub fn cells_of(header: &[String], row: &BTreeMap<String, String>) -> Vec<String> {
    header
        .iter()
        .map(|column| {
            let cell = row.get(column).cloned().unwrap_or_default();
            let number = column.starts_with("param_") && cell.parse::<f64>().is_ok();
            if is_text_column(column) && !number { text_cell(&cell) } else { cell }
        })
        .collect()
}

pub fn read_rows(path: &Path) -> Result<Vec<BTreeMap<String, String>>, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Output { path: path.to_path_buf(), source })?;
    // A complete row ends with a newline; anything after the last one is torn.
    let complete = match bytes.iter().rposition(|byte| *byte == b'\n') {
        Some(end) => &bytes[..=end],
        None => &bytes[..0],
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(complete);
    let header: Vec<String> = match reader.headers() {
        Ok(header) => header.iter().map(str::to_owned).collect(),
        Err(_) => return Ok(Vec::new()),
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let Ok(record) = record else { break };
        if record.len() != header.len() {
            continue;
        }
        let mut row: BTreeMap<String, String> =
            header.iter().cloned().zip(record.iter().map(str::to_owned)).collect();
        for column in ["checksum", "entry_key"] {
            if let Some(cell) = row.get_mut(column) {
                *cell = crate::vocab::upgrade_digest(cell);
            }
        }
        for (column, cell) in row.iter_mut() {
            if is_text_column(column) {
                *cell = super::unguard_cell(cell).to_owned();
            }
        }
        if let Some(cell) = row.get_mut("started_at")
            && cell.contains('T')
            && let Some(time) = parse_cell_time(cell)
        {
            *cell = cell_time(time);
        }
        rows.push(row);
    }
    Ok(rows)
}
