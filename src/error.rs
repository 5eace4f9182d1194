//! Errors that end a parbench command, and the exit status each one means.
//! Below the layers that raise them: `jobfile` makes its located
//! [`JobError`]s from the type here, and nothing here knows of a job.

use std::io;
use std::path::PathBuf;

use crate::vocab::io_reason;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Job(#[from] JobError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write {}: {}", path.display(), io_reason(source))]
    Output { path: PathBuf, source: io::Error },
    #[error("cannot write to the terminal: {0}")]
    Terminal(io::Error),
    #[error(
        "{} is being written by {owner}; wait for it to finish, or write elsewhere with --out",
        results.display()
    )]
    Locked { results: PathBuf, owner: String },
    #[error("{0}")]
    Resume(String),
    /// An error whose message was already printed, with its context; only
    /// its exit status is left to give.
    #[error("")]
    Reported(i32),
}

/// A mistake in a job file, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct JobError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Error {
    /// 2 when nothing ran (a mistake in a job file or the arguments, results
    /// another parbench holds, an interrupted run to resume or discard first);
    /// 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Job(_) | Error::Usage(_) | Error::Locked { .. } | Error::Resume(_) => 2,
            Error::Output { .. } | Error::Terminal(_) => 1,
            Error::Reported(code) => *code,
        }
    }

    pub fn output(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Output { path, source }
    }

    pub fn already_reported(self) -> Error {
        Error::Reported(self.exit_code())
    }

    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Terminal(error) if error.kind() == io::ErrorKind::BrokenPipe)
    }
}
