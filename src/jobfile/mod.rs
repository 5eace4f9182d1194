//! Job files: TOML in, a validated [`Job`] out. Parsing (serde, `raw.rs`) and
//! validation (`validate.rs`) are separate steps; every mistake in either is
//! a [`JobError`] that names the file, line and column.
//!
//! Its files refer to each other one way only, each to those before it (and
//! all to the types of this file, which calls them):
//! `bounds` and `suggest` (leaves) ← `schema` ← `raw` ← `python` ←
//! `validate/`. `tests/layering.rs` fails on a reference back.

mod bounds;
#[cfg(test)]
mod fuzz;
mod python;
mod raw;
mod schema;
mod suggest;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::generator::Generator;
use crate::vocab::{
    ChunkSize, Order, Pin, PoolStart, Precision, Repetitions, Strategy, WorkKind, WorkerCount, format_number,
    io_reason,
};
use crate::workload::python::PythonFacts;
use crate::workload::{BuiltinSpec, Protocol};

pub use crate::error::JobError;
pub use bounds::MAX_RUNS;
pub use raw::schema_json;
pub use suggest::{choices, did_you_mean};

/// The first executable file named `program` in a PATH folder.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| {
        std::fs::metadata(candidate)
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    })
}

/// A job file that has passed every check.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub description: Option<String>,
    pub path: PathBuf,
    /// The folder relative paths in the job file are read from, and where
    /// command workloads run.
    pub dir: PathBuf,
    pub generator: Generator,
    pub sizes: Vec<usize>,
    pub warmup: u32,
    pub timeout: Option<Duration>,
    pub order: Order,
    /// Where the workers of every run go.
    pub pin: Pin,
    /// Whether a pool's start is timed.
    pub pool_start: PoolStart,
    /// When `repetitions = "auto"` stops.
    pub precision: Precision,
    /// Seeds the order of the entries in each round; `None`: a fresh seed
    /// per run, recorded in env.json.
    pub order_seed: Option<u64>,
    pub workloads: Vec<Workload>,
    /// A digest of the file's bytes, to tell results of different versions apart.
    pub source_hash: String,
    /// Likely mistakes of the job as a whole that are not errors, located.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub kind: WorkloadKind,
    /// Parameter axes sorted by name; a parameter given once is an axis of one.
    pub param_axes: Vec<(String, Vec<ParamValue>)>,
    pub strategies: Vec<Strategy>,
    pub workers: Vec<WorkerCount>,
    pub repetitions: Repetitions,
    pub chunk_sizes: Vec<ChunkSize>,
    /// Whether every run's results must equal the group's first (`verify =
    /// false` for a command whose output differs run to run, a pid, a time).
    pub verify: bool,
    /// Likely mistakes that are not errors, located (`FILE:LINE:COLUMN: …`):
    /// a parameter the command never uses, an argv command without `{item}`.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum WorkloadKind {
    Builtin(&'static BuiltinSpec),
    /// `inputs`: the files the command names (its program, found as it
    /// will run, and any argument that is a file in the job's folder), each
    /// with a digest of its content: a run measured with another version of
    /// a script is not this entry's.
    Command {
        argv: Vec<String>,
        protocol: Protocol,
        inputs: Vec<(String, String)>,
        /// `ready`: the line a `lines` worker prints once it can take work.
        ready: Option<String>,
    },
    /// `python = "FILE:FUNCTION"`; its interpreters and start methods are
    /// the parameter axes `interpreter` and `start_method`.
    Python {
        file: String,
        function: String,
        interpreters: Vec<Interpreter>,
    },
}

impl WorkloadKind {
    /// What a strategy is asked to run: the key to [`Strategy::descriptor`].
    pub fn work_kind(&self) -> WorkKind {
        match self {
            WorkloadKind::Builtin(_) => WorkKind::Builtin,
            WorkloadKind::Command { protocol: Protocol::Argv, .. } => WorkKind::Argv,
            WorkloadKind::Command { protocol: Protocol::Lines, .. } => WorkKind::Lines,
            WorkloadKind::Python { .. } => WorkKind::Python,
        }
    }
}

/// A Python interpreter of a job, found and asked what it is when the job
/// was validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Interpreter {
    /// As the job file writes it: the `param_interpreter` value.
    pub name: String,
    pub path: PathBuf,
    pub facts: PythonFacts,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Number(f64),
    Text(String),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Number(number) => f.write_str(&format_number(*number)),
            ParamValue::Text(text) => f.write_str(text),
        }
    }
}

/// Job files larger than this are refused unread.
const MAX_JOB_FILE_BYTES: u64 = 16 << 20;

/// Reads and validates a job file.
pub fn load(path: &Path) -> Result<Job, JobError> {
    let refuse = |message: String| JobError { file: path.display().to_string(), line: 1, column: 1, message };
    // A FIFO would block forever and a device (/dev/zero) never end; a job
    // file is a regular file of reasonable size, as list files are.
    let meta = std::fs::metadata(path)
        .map_err(|error| refuse(format!("cannot read the job file: {}", io_reason(&error))))?;
    if !meta.is_file() {
        return Err(refuse("cannot read the job file: it is not a regular file".to_owned()));
    }
    if meta.len() > MAX_JOB_FILE_BYTES {
        return Err(refuse(format!(
            "the job file is {} bytes; at most {MAX_JOB_FILE_BYTES} are read (a job file is a description, not data)",
            meta.len()
        )));
    }
    let source = std::fs::read_to_string(path)
        .map_err(|error| refuse(format!("cannot read the job file: {}", io_reason(&error))))?;
    parse(path, &source)
}

/// Validates job-file text as if it were read from `path`.
pub fn parse(path: &Path, source: &str) -> Result<Job, JobError> {
    let locate = Locator { path, source };
    // The version decides how the rest is read, so it is checked first: a
    // file from a future parbench gets "unsupported version", not a
    // complaint about keys this version does not know.
    if let Ok(probe) = toml::from_str::<raw::VersionProbe>(source)
        && let Some(version) = probe.version
        && version.get_ref().as_integer() != Some(1)
    {
        return Err(locate.error(
            version.span().start,
            format!("unsupported version {}; this parbench reads job files of version 1", version.get_ref()),
        ));
    }
    let raw: raw::RawJob = toml::from_str(source).map_err(|error| locate.toml_error(&error))?;
    validate::validate(raw, &locate)
}

/// Turns byte offsets into `FILE:LINE:COLUMN` errors.
struct Locator<'a> {
    path: &'a Path,
    source: &'a str,
}

impl Locator<'_> {
    fn error(&self, offset: usize, message: impl Into<String>) -> JobError {
        let offset = offset.min(self.source.len());
        let before = &self.source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        let column = before[line_start..].chars().count() + 1;
        JobError { file: self.path.display().to_string(), line, column, message: message.into() }
    }

    fn toml_error(&self, error: &toml::de::Error) -> JobError {
        let offset = error.span().map_or(0, |span| span.start).min(self.source.len());
        let mut message = suggest::rewrite_toml_message(error.message(), self.key_before(offset));
        let top_level = ["\"version\"", "\"list\"", "\"run\""].iter().any(|key| message.contains(key));
        if message.starts_with("missing required key")
            && !top_level
            && let Some(header) = self.table_header_at(offset)
        {
            message.push_str(&format!(" in {header}"));
        }
        if message == "not valid TOML: duplicate key"
            && let Some(key) = self.bare_key_at(offset)
        {
            message = format!("duplicate key \"{key}\"; each key may appear once in a table");
        }
        self.error(offset, message)
    }

    /// The bare key that starts at `offset`, if one does.
    fn bare_key_at(&self, offset: usize) -> Option<&str> {
        let rest = &self.source[offset..];
        let end =
            rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(rest.len());
        (end > 0).then(|| &rest[..end])
    }

    /// `key` when the text before `offset` on its line is `key = `.
    fn key_before(&self, offset: usize) -> Option<&str> {
        let line_start = self.source[..offset].rfind('\n').map_or(0, |newline| newline + 1);
        let before = self.source[line_start..offset].trim_end().strip_suffix('=')?;
        Some(before.trim().trim_matches('"'))
    }

    /// `[run]` or `[[workload]]` when a table header starts at `offset`.
    fn table_header_at(&self, offset: usize) -> Option<&str> {
        let rest = &self.source[offset..];
        if !rest.starts_with('[') {
            return None;
        }
        let end = rest.find(']')?;
        let end = if rest[end + 1..].starts_with(']') { end + 2 } else { end + 1 };
        Some(&rest[..end])
    }
}
