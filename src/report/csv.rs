//! The per-run CSV (`results/NAME.csv`), as `RESULTS.md` defines it, and the
//! one place the csv writer is configured.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::text_cell;
use crate::analysis::{EntryId, GroupId};
use crate::error::Error;
use crate::interference::Evidence;
use crate::jobfile::Job;
use crate::matrix::{Entry, Plan, param_cell};
pub use crate::results::{RunRow, RunTable, header, writer};
use crate::runner::{Event, Host, Reporter, RunRecord};

/// Every parameter name used by any entry, sorted.
pub fn param_names(plan: &Plan) -> Vec<String> {
    let mut names: Vec<String> =
        plan.entries.iter().flat_map(|entry| entry.params.iter().map(|(name, _)| name.clone())).collect();
    names.sort();
    names.dedup();
    names
}

/// The parameter cells of an entry, by name.
fn param_cells(entry: &Entry) -> BTreeMap<String, String> {
    entry
        .params
        .iter()
        .map(|(name, value)| {
            let cell = match value {
                crate::jobfile::ParamValue::Text(text) => text_cell(text),
                number => param_cell(number),
            };
            (name.clone(), cell)
        })
        .collect()
}

/// The row of a run just measured.
pub fn measured(job: &Job, entry: &Entry, record: &RunRecord, host: &Host) -> RunRow {
    let items_per_s = (record.wall_s > 0.0 && record.status == crate::runner::Status::Ok)
        .then(|| entry.list_size as f64 / record.wall_s);
    RunRow {
        job: job.name.clone(),
        workload: entry.workload_name.clone(),
        generator: entry.generator.to_owned(),
        list_size: entry.list_size,
        strategy: entry.strategy,
        workers: entry.workers,
        chunk_size: entry.chunk_cell(),
        repetition: record.repetition,
        status: record.status,
        wall_s: record.wall_s,
        setup_s: record.setup_s,
        cpu_s: record.cpu_s,
        items_per_s,
        checksum: record.checksum.clone(),
        error: one_line(&record.error),
        started_at: Some(record.started_at),
        host: host.name.clone(),
        cpus: host.cpus,
        parbench_version: env!("CARGO_PKG_VERSION").to_owned(),
        entry_key: entry.key.clone(),
        peak_rss_bytes: record.peak_rss_bytes,
        python: record.python.clone(),
        python_gil: record.python_gil,
        foreign_cpu_s: record.load.and_then(|load| load.foreign_cpu_s),
        steal_s: record.load.and_then(|load| load.steal_s),
        disturbed: record.load.map(|load| load.disturbed),
        run_delay_s: record.load.and_then(|load| load.run_delay_s),
        params: param_cells(entry),
    }
}

/// The record of a row read back, for the runner's statistics and checks.
pub fn record_of(row: &RunRow, entry: usize) -> RunRecord {
    RunRecord {
        entry,
        repetition: row.repetition,
        status: row.status,
        wall_s: row.wall_s,
        setup_s: row.setup_s,
        cpu_s: row.cpu_s,
        checksum: row.checksum.clone(),
        error: row.error.clone(),
        started_at: row.started_at.unwrap_or(SystemTime::UNIX_EPOCH),
        peak_rss_bytes: row.peak_rss_bytes,
        python: row.python.clone(),
        python_gil: row.python_gil,
        load: row.disturbed.map(|disturbed| Evidence {
            foreign_cpu_s: row.foreign_cpu_s,
            steal_s: row.steal_s,
            run_delay_s: row.run_delay_s,
            disturbed,
        }),
    }
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
    partial: PathBuf,
    final_path: PathBuf,
    /// `results/NAME.log`, where a failed run's whole story is.
    log_path: PathBuf,
    file: File,
    /// Where each row of this run so far (kept runs of an earlier one
    /// included) starts in the `.partial`, in the order written: (entry
    /// index, repetition) and offset; a row ends where the next begins. The
    /// rows themselves stay on disk, so the runner's memory grows by 16
    /// bytes a run, not by a row's strings.
    index: Vec<(u32, u32, u64)>,
    /// The `.partial`'s length so far.
    written: u64,
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
        let mut content = crate::results::to_csv(&param_names, std::iter::empty());
        let mut index = Vec::with_capacity(prior.len());
        for run in prior {
            let bytes = row_bytes(&run.row.to_record(&param_names));
            index.push((entry_number(run.record.entry), run.record.repetition, content.len() as u64));
            content.extend_from_slice(&bytes);
        }
        Staged::new(&partial, &content)?.commit()?;
        // The rename put a file of ours at this name; never follow a link
        // someone planted since.
        let file = OpenOptions::new()
            .append(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&partial)
            .map_err(Error::output(&partial))?;
        let written = content.len() as u64;
        Ok(RowWriter { job, host, param_names, partial, final_path, log_path, file, index, written })
    }

    pub fn partial_path(&self) -> &Path {
        &self.partial
    }

    /// Rows on disk in the `.partial` so far.
    pub fn saved(&self) -> usize {
        self.index.len()
    }

    /// Writes the complete `NAME.csv`, rows in plan order (each entry's by
    /// repetition), beside its final name, from the rows in the `.partial`;
    /// [`RowWriter::close`] removes the `.partial` once the whole set of
    /// result files is in place.
    pub fn stage(&mut self) -> Result<Staged, Error> {
        self.file.flush().map_err(Error::output(&self.partial))?;
        // Our own file, read back without following a link planted since.
        let mut partial = Vec::with_capacity(usize::try_from(self.written).unwrap_or(0));
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&self.partial)
            .and_then(|mut file| std::io::Read::read_to_end(&mut file, &mut partial))
            .map_err(Error::output(&self.partial))?;
        let end = |at: usize| self.index.get(at + 1).map_or(self.written, |next| next.2);
        let mut order: Vec<usize> = (0..self.index.len()).collect();
        // By key, and for a key written twice the later row.
        order.sort_by_key(|at| (self.index[*at].0, self.index[*at].1, std::cmp::Reverse(*at)));
        order.dedup_by_key(|at| (self.index[*at].0, self.index[*at].1));
        let mut content = crate::results::to_csv(&self.param_names, std::iter::empty());
        for at in order {
            let row = usize::try_from(self.index[at].2)
                .ok()
                .zip(usize::try_from(end(at)).ok())
                .and_then(|(start, end)| partial.get(start..end));
            let Some(row) = row else {
                let source = std::io::Error::other("the file is shorter than the rows written into it");
                return Err(Error::Output { path: self.partial.clone(), source });
            };
            content.extend_from_slice(row);
        }
        Staged::new(&self.final_path, &content)
    }

    /// The run's files are all in place: the `.partial` has served.
    pub fn close(self) {
        let _ = std::fs::remove_file(&self.partial);
    }
}

/// An entry's index as the row index keeps it (a plan holds far fewer
/// entries than 2³²).
fn entry_number(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

/// One row as the CSV writer writes it, quoting and line end included.
fn row_bytes(cells: &[String]) -> Vec<u8> {
    let mut csv = writer(Vec::new());
    csv.write_record(cells).expect("writing to memory");
    csv.into_inner().expect("writing to memory")
}

impl Reporter for RowWriter<'_> {
    fn report(&mut self, event: &Event<'_>) -> Result<(), Error> {
        if let Event::RunFinished { entry, record, stderr } = event {
            let mut row = measured(self.job, entry, record, self.host);
            // Where the run wrote to stderr, the log has more than this cell.
            if !record.error.is_empty() && !stderr.is_empty() {
                row.error.push_str(&format!(" (see {})", self.log_path.display()));
            }
            let bytes = row_bytes(&row.to_record(&self.param_names));
            self.file.write_all(&bytes).map_err(Error::output(&self.partial))?;
            self.index.push((entry_number(entry.index), record.repetition, self.written));
            self.written += bytes.len() as u64;
        }
        Ok(())
    }
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
        // Created as any tool's output is, 0666 less the umask (0644 under
        // the usual 022), not tempfile's owner-only 0600: result files are
        // for spreadsheets and colleagues on a shared file system.
        let mut file = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
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
/// An entry's name as the report words it from the entry's rows (see
/// [`super::words::entry_label`]): `spin · range 100 items · threads ×2`.
pub fn entry_label(entry: &Entry) -> String {
    let params = param_cells(entry)
        .into_iter()
        .map(|(name, cell)| (name, super::unguard_cell(&cell).to_owned()))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let id = EntryId {
        group: GroupId {
            job: String::new(),
            host: String::new(),
            workload: entry.workload_name.clone(),
            generator: entry.generator.to_owned(),
            list_size: entry.list_size,
            params,
        },
        strategy: entry.strategy,
        workers: entry.workers,
        chunk_size: entry.chunk_cell(),
    };
    super::words::entry_label(&id, 1)
}

/// The names of a plan's groups that have entries, in plan order.
pub fn group_names(plan: &Plan) -> Vec<String> {
    plan.groups
        .iter()
        .filter_map(|group| plan.entries.get(group.entries.clone()).and_then(|entries| entries.first()))
        .map(|entry| {
            let cells = param_cells(entry);
            let params = cells.iter().map(|(name, cell)| (name.as_str(), super::unguard_cell(cell)));
            crate::results::group_name(&entry.workload_name, entry.generator, entry.list_size, params)
        })
        .collect()
}

/// A kept row: its record (for statistics and checks) and the row as first
/// written (the host and time it was measured at stay what they were).
#[derive(Debug, Clone)]
pub struct PriorRun {
    pub record: RunRecord,
    pub row: RunRow,
}

pub fn partial_path(out_dir: &Path, job: &str) -> PathBuf {
    out_dir.join(format!("{job}.csv.partial"))
}

/// Reads a results CSV (see [`crate::results::read`]).
pub fn read_rows(path: &Path) -> Result<RunTable, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Output { path: path.to_path_buf(), source })?;
    Ok(crate::results::read(&bytes))
}
