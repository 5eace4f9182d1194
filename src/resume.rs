//! Rows measured by an earlier, unfinished or partly failed run of the same
//! job, and which of them a new run keeps.
//!
//! Rows are matched to entries by `entry_key` (see `Entry::key`), never by
//! position, so a job file that was reordered or grew still resumes, and an
//! entry whose definition changed is measured again.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::error::Error;
use crate::matrix::Plan;
use crate::report::csv::{partial_path, read_rows};
use crate::results::RunRow;
use crate::runner::KeptRun;
use crate::runner::Status;

/// What to do with rows already on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Start a new run; refuse if an interrupted run's `.partial` is there.
    New,
    /// Discard any earlier rows.
    Fresh,
    /// Keep the runs recorded ok; run the rest.
    Resume,
    /// Keep every run except those recorded failed or timeout; run the rest.
    RetryFailed,
}

/// Loads the rows a run in `mode` keeps. With `New`, an existing `.partial`
/// is an error: it holds measurements that a plain run would overwrite.
pub fn load(
    out_dir: &Path,
    job: &str,
    plan: &Plan,
    mode: Mode,
    resume_hint: &str,
) -> Result<Vec<KeptRun>, Error> {
    let partial = partial_path(out_dir, job);
    let complete = out_dir.join(format!("{job}.csv"));
    // Where parbench keeps its rows, something else: nothing of it is
    // parbench's to read, continue or replace.
    for path in [&partial, &complete] {
        if path.exists() && !path.is_file() {
            return Err(Error::Resume(format!(
                "{} is not a file (a folder?), so it is not parbench's rows: move it away, then run again",
                path.display()
            )));
        }
    }
    match mode {
        Mode::Fresh => Ok(Vec::new()),
        Mode::New => {
            if partial.exists() {
                let rows = read_rows(&partial).map(|table| table.rows.len()).unwrap_or(0);
                return Err(Error::Resume(format!(
                    "{} holds {rows} runs of an unfinished run of \"{job}\"; continue it with `{resume_hint}`, \
                     or discard it with `--fresh`",
                    partial.display()
                )));
            }
            Ok(Vec::new())
        }
        Mode::Resume | Mode::RetryFailed => {
            let source = if partial.exists() { partial } else { complete };
            if !source.exists() {
                return Ok(Vec::new());
            }
            // A row that does not read (a damaged cell) is measured again.
            let table = read_rows(&source)?;
            let all = table.rows.len();
            let rows: Vec<RunRow> = table.rows.into_iter().filter_map(Result::ok).collect();
            refuse_foreign(&rows, all, &source, out_dir, job, plan)?;
            Ok(select(rows, plan, mode))
        }
    }
}

/// Rows of which not one belongs to an entry of this plan were measured
/// for another job under the same name (another folder, another script,
/// another parbench): resuming would mix them in or silently drop them.
/// The reason is told as far as the files on disk tell it.
fn refuse_foreign(
    rows: &[RunRow],
    all: usize,
    source: &Path,
    out_dir: &Path,
    job: &str,
    plan: &Plan,
) -> Result<(), Error> {
    let keys: std::collections::HashSet<&str> =
        plan.entries.iter().flat_map(|entry| entry.former_keys().chain([entry.key.as_str()])).collect();
    if all == 0 || rows.iter().any(|row| keys.contains(row.entry_key.as_str())) {
        return Ok(());
    }
    let origin = &plan.origin;
    let mut reasons = Vec::new();
    let versions: std::collections::BTreeSet<&str> =
        rows.iter().map(|row| row.parbench_version.as_str()).collect();
    if let Some(other) = versions.iter().find(|version| **version != origin.version) {
        reasons.push(format!("they were measured by parbench {other}, and this is {}", origin.version));
    }
    let env = out_dir.join(format!("{job}.env.json"));
    let measured_at = crate::report::env::Env::read(&env).map(|env| env.job_file);
    if let Some(file) = measured_at {
        let resolved =
            std::fs::canonicalize(&file).map(|path| path.display().to_string()).unwrap_or(file.clone());
        if resolved != origin.job_file {
            reasons.push(format!(
                "they were measured from the job file {file}, and this is {}",
                origin.job_file
            ));
        }
    }
    if reasons.is_empty() {
        let inputs = if origin.inputs.is_empty() {
            String::new()
        } else {
            format!(", or a file its commands name ({}),", origin.inputs.join(", "))
        };
        reasons.push(format!(
            "the job file {}{inputs} has changed since they were measured, or it was moved",
            origin.job_file
        ));
    }
    Err(Error::Resume(format!(
        "none of the {} runs in {} belong to job \"{job}\" as it is now: {}; measure it anew with --fresh \
         (or --out elsewhere to keep those results)",
        all,
        source.display(),
        reasons.join("; ")
    )))
}

fn select(rows: Vec<RunRow>, plan: &Plan, mode: Mode) -> Vec<KeptRun> {
    // Rows written by parbench 0.1.0 carry the key of the definition alone
    // (before it covered the job's location, its scripts and parbench's
    // version): they still match by it, as rows of 0.1.x whose key quoted a
    // string by `Debug` do by theirs (see `Entry::former_keys`). Rows written
    // since carry the full key, which no legacy key equals, so they match
    // only their own job.
    let entries: HashMap<&str, &crate::matrix::Entry> = plan
        .entries
        .iter()
        .flat_map(|entry| entry.former_keys().map(move |key| (key, entry)))
        .chain(plan.entries.iter().map(|entry| (entry.key.as_str(), entry)))
        .collect();
    let mut kept: BTreeMap<(usize, u32), KeptRun> = BTreeMap::new();
    for row in rows {
        let Some(entry) = entries.get(row.entry_key.as_str()) else {
            continue;
        };
        // A repetition above a smaller --repetitions stays: it was measured,
        // and a run continues what is on disk, it never deletes from it.
        if row.repetition == 0 {
            continue;
        }
        let keep = match mode {
            Mode::Resume => row.status == Status::Ok,
            Mode::RetryFailed => !matches!(row.status, Status::Failed | Status::Timeout | Status::Unverified),
            Mode::New | Mode::Fresh => false,
        };
        if keep {
            // A later row for the same run replaces an earlier one.
            kept.insert((entry.index, row.repetition), KeptRun { entry: entry.index, row });
        }
    }
    kept.into_values().collect()
}
