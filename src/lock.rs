//! One parbench at a time per results file: `results/NAME.lock`, held with
//! flock(2) so that a parbench that dies releases it with its last breath,
//! and holding the owner's pid for the message the next one prints.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg, OFlag};

use crate::error::Error;

#[derive(Debug)]
pub struct ResultsLock {
    path: PathBuf,
    /// Unlocked when dropped, after `drop` below removed the file.
    _file: Flock<File>,
}

impl ResultsLock {
    pub fn acquire(out_dir: &Path, job: &str) -> Result<ResultsLock, Error> {
        let path = out_dir.join(format!("{job}.lock"));
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                // A planted link would have us truncate what it points to.
                .custom_flags(OFlag::O_NOFOLLOW.bits())
                .open(&path)
                .map_err(|error| {
                    if error.raw_os_error() == Some(Errno::ELOOP as i32) {
                        Error::Usage(format!(
                            "{} is a symbolic link; parbench writes only files of its own in the results \
                             folder: remove the link, or write elsewhere with --out",
                            path.display()
                        ))
                    } else {
                        Error::Output { path: path.clone(), source: error }
                    }
                })?;
            let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(locked) => locked,
                Err((mut file, errno)) => {
                    if errno != Errno::EWOULDBLOCK {
                        // Not another parbench: a file system without locks
                        // (ENOLCK on some network file systems), say.
                        return Err(Error::Usage(format!(
                            "cannot lock {}: {}; parbench locks its results so that two runs cannot mix them \
                             (write elsewhere with --out, on a local file system)",
                            path.display(),
                            crate::vocab::io_reason(&std::io::Error::from(errno))
                        )));
                    }
                    let mut owner = String::new();
                    let _ = file.read_to_string(&mut owner);
                    let owner = owner.trim();
                    let owner =
                        if owner.is_empty() { "another parbench".to_owned() } else { owner.to_owned() };
                    return Err(Error::Locked { results: out_dir.join(format!("{job}.csv")), owner });
                }
            };
            // The holder before us may have removed the file between our
            // open and our lock; then we hold a lock on nothing. Try again.
            let same = match (file.metadata(), std::fs::metadata(&path)) {
                (Ok(ours), Ok(current)) => ours.ino() == current.ino() && ours.dev() == current.dev(),
                _ => false,
            };
            if !same {
                continue;
            }
            let started = crate::vocab::timestamp(std::time::SystemTime::now());
            let _ = file.set_len(0);
            let _ = file.rewind();
            let _ = write!(file, "parbench pid {} since {started}", std::process::id());
            let _ = file.flush();
            return Ok(ResultsLock { path, _file: file });
        }
    }
}

impl Drop for ResultsLock {
    fn drop(&mut self) {
        // Removed while still locked, so no one can lock the old file after.
        let _ = std::fs::remove_file(&self.path);
    }
}
