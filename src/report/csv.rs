//! The per-run CSV (`results/NAME.csv`), as `RESULTS.md` defines it, and the
//! one place the csv writer is configured.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{seconds, text_cell, timestamp};
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
];

/// The csv writer every file of parbench uses: comma, `\n`, quoting only
/// where needed.
pub fn writer<W: Write>(sink: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(sink)
}

/// Every parameter name used by any entry, sorted.
pub fn param_names(plan: &Plan) -> Vec<String> {
    let mut names: Vec<String> = plan
        .entries
        .iter()
        .flat_map(|entry| entry.params.iter().map(|(name, _)| name.clone()))
        .collect();
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

pub fn row(
    job: &Job,
    entry: &Entry,
    record: &RunRecord,
    host: &Host,
    param_names: &[String],
) -> Vec<String> {
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
        entry
            .chunk_size
            .map(|chunk| chunk.to_string())
            .unwrap_or_default(),
        record.repetition.to_string(),
        record.status.name().to_owned(),
        seconds(record.wall_s),
        seconds(record.setup_s),
        seconds(record.cpu_s),
        items_per_s,
        record.checksum.clone(),
        text_cell(&one_line(&record.error)),
        timestamp(record.started_at),
        text_cell(&host.name),
        host.cpus.to_string(),
        env!("CARGO_PKG_VERSION").to_owned(),
    ];
    cells.extend(param_cells(entry, param_names));
    cells
}

fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Appends each measured run to `NAME.csv.partial` and flushes it before the
/// next run starts; [`RowWriter::finish`] renames it to `NAME.csv` in one
/// step, so an earlier complete file is only replaced by a complete one.
pub struct RowWriter<'a> {
    job: &'a Job,
    host: &'a Host,
    param_names: Vec<String>,
    partial: PathBuf,
    final_path: PathBuf,
    writer: csv::Writer<File>,
}

impl<'a> RowWriter<'a> {
    pub fn create(
        job: &'a Job,
        plan: &Plan,
        host: &'a Host,
        out_dir: &Path,
    ) -> Result<Self, Error> {
        let final_path = out_dir.join(format!("{}.csv", job.name));
        let partial = out_dir.join(format!("{}.csv.partial", job.name));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&partial)
            .map_err(Error::output(&partial))?;
        let param_names = param_names(plan);
        let mut writer = writer(file);
        writer
            .write_record(header(&param_names))
            .map_err(|error| csv_error(&partial, error))?;
        writer.flush().map_err(Error::output(&partial))?;
        Ok(RowWriter {
            job,
            host,
            param_names,
            partial,
            final_path,
            writer,
        })
    }

    pub fn finish(mut self) -> Result<PathBuf, Error> {
        self.writer.flush().map_err(Error::output(&self.partial))?;
        std::fs::rename(&self.partial, &self.final_path)
            .map_err(Error::output(&self.final_path))?;
        Ok(self.final_path)
    }
}

impl Reporter for RowWriter<'_> {
    fn report(&mut self, event: &Event<'_>) -> Result<(), Error> {
        if let Event::RunFinished { entry, record, .. } = event {
            let cells = row(self.job, entry, record, self.host, &self.param_names);
            self.writer
                .write_record(&cells)
                .map_err(|error| csv_error(&self.partial, error))?;
            self.writer.flush().map_err(Error::output(&self.partial))?;
        }
        Ok(())
    }
}

fn csv_error(path: &Path, error: csv::Error) -> Error {
    let source = match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => std::io::Error::other(format!("{other:?}")),
    };
    Error::Output {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let temporary = path.with_extension(format!(
        "{}.tmp",
        path.extension()
            .map(|ext| ext.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    std::fs::write(&temporary, bytes).map_err(Error::output(&temporary))?;
    std::fs::rename(&temporary, path).map_err(Error::output(path))
}
