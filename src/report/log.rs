//! `results/NAME.log`: what command workloads wrote to stderr, each line
//! prefixed with the entry and repetition it came from.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::runner::{Event, Reporter};

pub struct StderrLog {
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl StderrLog {
    /// Nothing is created until there is something to write. A run that
    /// continues an earlier one (`keep_old`) appends, since the runs it keeps
    /// are explained there; otherwise an old log of the same job is removed
    /// so it cannot be mistaken for this run's.
    pub fn new(out_dir: &Path, job: &str, keep_old: bool) -> StderrLog {
        let path = out_dir.join(format!("{job}.log"));
        if !keep_old {
            let _ = std::fs::remove_file(&path);
        }
        StderrLog { path, file: None }
    }

    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|_| self.path.as_path())
    }
}

impl Reporter for StderrLog {
    fn report(&mut self, event: &Event<'_>) -> Result<(), Error> {
        let Event::RunFinished { entry, row, stderr } = event else {
            return Ok(());
        };
        if stderr.is_empty() && row.error.is_empty() {
            return Ok(());
        }
        if self.file.is_none() {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
                .open(&self.path)
                .map_err(Error::output(&self.path))?;
            self.file = Some(BufWriter::new(file));
        }
        let file = self.file.as_mut().expect("opened above");
        let prefix = format!("[{} · repetition {}]", entry.label(), row.repetition);
        let write = |file: &mut BufWriter<File>| -> std::io::Result<()> {
            for line in stderr.iter() {
                writeln!(file, "{prefix} {line}")?;
            }
            if !row.error.is_empty() {
                writeln!(file, "{prefix} {}: {}", row.status.name(), row.error)?;
            }
            file.flush()
        };
        write(file).map_err(Error::output(&self.path))
    }
}
