//! The per-run CSV (`results/NAME.csv`), as `RESULTS.md` defines it, and the
//! one place the csv writer is configured.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::analysis::{EntryId, GroupId};
use crate::error::Error;
use crate::matrix::{Entry, Plan};
pub use crate::results::{RunRow, RunTable, header, writer};
use crate::runner::{Event, KeptRun, Reporter, param_cells};

/// Every parameter name used by any entry, sorted.
pub fn param_names(plan: &Plan) -> Vec<String> {
    let mut names: Vec<String> =
        plan.entries.iter().flat_map(|entry| entry.params.iter().map(|(name, _)| name.clone())).collect();
    names.sort();
    names.dedup();
    names
}

fn one_line(text: &str) -> String {
    text.split(['\n', '\r']).filter(|part| !part.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Appends each measured run to `NAME.csv.partial` and flushes it before the
/// next run starts; [`RowWriter::finish`] writes the complete `NAME.csv`, rows
/// in plan order, and renames it into place in one step, so an earlier
/// complete file is only ever replaced by a complete one.
pub struct RowWriter {
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

impl RowWriter {
    /// Starts `NAME.csv.partial` with the header and the kept rows of an
    /// earlier run (written aside and renamed, so a crash here loses none).
    pub fn create(base: &str, plan: &Plan, out_dir: &Path, prior: &[KeptRun]) -> Result<Self, Error> {
        let final_path = out_dir.join(format!("{base}.csv"));
        let log_path = out_dir.join(format!("{base}.log"));
        let partial = partial_path(out_dir, base);
        let param_names = param_names(plan);
        let mut content = crate::results::to_csv(&param_names, std::iter::empty());
        let mut index = Vec::with_capacity(prior.len());
        for run in prior {
            let bytes = row_bytes(&run.row.to_record(&param_names));
            index.push((entry_number(run.entry), run.row.repetition, content.len() as u64));
            content.extend_from_slice(&bytes);
        }
        Staged::new(&partial, &content)?.commit()?;
        // The rename put a file of ours at this name; never follow a link
        // someone planted since.
        let file = OpenOptions::new()
            .append(true)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(&partial)
            .map_err(Error::output(&partial))?;
        let written = content.len() as u64;
        Ok(RowWriter { param_names, partial, final_path, log_path, file, index, written })
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
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
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

impl Reporter for RowWriter {
    fn report(&mut self, event: &Event<'_>) -> Result<(), Error> {
        if let Event::RunFinished { entry, row, stderr } = event {
            // The error in one line; where the run wrote to stderr, the
            // log has more than this cell.
            let mut row = RunRow { error: one_line(&row.error), ..(*row).clone() };
            if !row.error.is_empty() && !stderr.is_empty() {
                row.error.push_str(&format!(" (see {})", self.log_path.display()));
            }
            let bytes = row_bytes(&row.to_record(&self.param_names));
            self.file.write_all(&bytes).map_err(Error::output(&self.partial))?;
            self.index.push((entry_number(entry.index), row.repetition, self.written));
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
        chunking: entry.chunking(),
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

pub fn partial_path(out_dir: &Path, job: &str) -> PathBuf {
    out_dir.join(format!("{job}.csv.partial"))
}

/// Reads a results CSV (see [`crate::results::read`]).
pub fn read_rows(path: &Path) -> Result<RunTable, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Output { path: path.to_path_buf(), source })?;
    Ok(crate::results::read(&bytes))
}
