//! Errors that end a parbench command, and the exit status each one means.

use std::io;
use std::path::PathBuf;

use crate::jobfile::JobError;

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
}

impl Error {
    /// 2 for a mistake in the input (job file or arguments), 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Job(_) | Error::Usage(_) => 2,
            Error::Output { .. } | Error::Terminal(_) => 1,
        }
    }

    pub fn output(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Output { path, source }
    }

    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Terminal(error) if error.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// An io::Error in words, without Rust's "(os error 2)" suffix.
pub fn io_reason(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::NotFound => "no such file or folder".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => {
            let text = error.to_string();
            match text.find(" (os error") {
                Some(cut) => text[..cut].to_owned(),
                None => text,
            }
        }
    }
}
