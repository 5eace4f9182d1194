//! Measuring one commit: check it out into a temporary worktree, run the
//! job file's `[history] build` there, put today's job file in it at the
//! same place, run it with this very parbench (`parbench run --quiet`, a
//! child process, so that a commit's crash or leak ends with its process),
//! and append its rows, with the commit's columns, to the history CSV.
//!
//! The worktree is removed whatever happens (see `git::Checkout`). Ctrl-C
//! sets `interrupt::requested`; the child, in a process group of its own,
//! is then asked to stop too (SIGINT, which `parbench run` answers by
//! keeping nothing and ending), and the walk ends without recording that
//! commit.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;

use super::file::{self, HistoryRow};
use super::git::{Checkout, Commit};
use crate::child::Tether;
use crate::error::Error;
use crate::jobfile::Job;
use crate::matrix::{self, Overrides};
use crate::results::RunRow;
use crate::runner::{Host, planned_row};
use crate::vocab::Status;

/// What a walk measures with, the same for every commit.
pub struct Walker<'a> {
    pub repo: PathBuf,
    /// The job file's path inside the repository.
    pub job_in_repo: PathBuf,
    pub job_text: String,
    pub job: &'a Job,
    pub build: Option<Vec<String>>,
    pub history: PathBuf,
    /// Passed on to `parbench run --repetitions`.
    pub repetitions: Option<String>,
    pub host: Host,
}

/// How measuring a commit ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Rows were recorded: `ok` runs ended ok, `not_ok` did not.
    Measured { ok: usize, not_ok: usize },
    /// The build failed; a failed row per entry was recorded, saying why.
    BuildFailed(String),
    /// The job could not run at that commit (a file it names is missing);
    /// recorded as for a failed build.
    JobFailed(String),
    /// Stopped by a signal; nothing recorded.
    Interrupted,
}

/// The `[history]` table of a job file's text.
pub fn build_command(job_text: &str) -> Option<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Table {
        history: Option<History>,
    }
    #[derive(serde::Deserialize)]
    struct History {
        build: Option<Vec<String>>,
    }
    toml::from_str::<Table>(job_text).ok()?.history?.build.filter(|argv| !argv.is_empty())
}

impl Walker<'_> {
    /// Whether `commit` was measured on this host with this job file already.
    pub fn measured(&self, rows: &[HistoryRow], commit: &Commit) -> bool {
        rows.iter().any(|row| {
            row.commit.id == commit.id
                && row.run.host == self.host.name
                && row.job_version == self.job.source_hash
        })
    }

    pub fn measure(&self, commit: &Commit) -> Result<Outcome, Error> {
        let checkout = Checkout::add(&self.repo, commit).map_err(Error::Usage)?;
        let scratch = tempfile::Builder::new()
            .prefix("parbench-history-out-")
            .tempdir()
            .map_err(|error| Error::Usage(format!("cannot make a temporary folder: {error}")))?;
        let tree = checkout.tree();
        if let Some(argv) = &self.build {
            let log = scratch.path().join("build.log");
            let mut command = Command::new(&argv[0]);
            command.args(&argv[1..]).current_dir(&tree);
            match run_child(command, &log)? {
                None => return Ok(Outcome::Interrupted),
                Some(status) if status.success() => {}
                Some(status) => {
                    let why = format!("build failed ({}): {}", ended(status), tail(&log, &tree));
                    self.record_failure(commit, &why)?;
                    return Ok(Outcome::BuildFailed(why));
                }
            }
        }
        let job_path = tree.join(&self.job_in_repo);
        if let Some(folder) = job_path.parent() {
            std::fs::create_dir_all(folder).map_err(Error::output(folder))?;
        }
        std::fs::write(&job_path, &self.job_text).map_err(Error::output(&job_path))?;
        let out = scratch.path().join("results");
        let mut command = Command::new(std::env::current_exe().map_err(Error::output("parbench itself"))?);
        command.args(["run", "--quiet", "--out"]).arg(&out);
        if let Some(repetitions) = &self.repetitions {
            command.args(["--repetitions", repetitions]);
        }
        command.arg(&job_path).current_dir(&tree);
        let log = scratch.path().join("run.log");
        let status = match run_child(command, &log)? {
            None => return Ok(Outcome::Interrupted),
            Some(status) if status.code() == Some(crate::interrupt::EXIT_INTERRUPTED) => {
                return Ok(Outcome::Interrupted);
            }
            Some(status) => status,
        };
        let csv = out.join(format!("{}.csv", self.job.name));
        let runs = match std::fs::read(&csv) {
            Ok(bytes) => crate::results::read(&bytes)
                .rows()
                .map_err(|error| Error::Usage(format!("{}: {error}", csv.display())))?,
            Err(_) => {
                let why = format!("the job did not run ({}): {}", ended(status), tail(&log, &tree));
                self.record_failure(commit, &why)?;
                return Ok(Outcome::JobFailed(why));
            }
        };
        let ok = runs.iter().filter(|run| run.status == Status::Ok).count();
        let not_ok = runs.len() - ok;
        self.record(commit, runs)?;
        Ok(Outcome::Measured { ok, not_ok })
    }

    fn record(&self, commit: &Commit, runs: Vec<RunRow>) -> Result<(), Error> {
        let rows: Vec<HistoryRow> = runs
            .into_iter()
            .map(|run| HistoryRow { run, commit: commit.clone(), job_version: self.job.source_hash.clone() })
            .collect();
        file::append(&self.history, &rows)
    }

    /// One failed row per entry of the plan, so that the commit counts as
    /// measured (and is skipped next time) and the report says why.
    fn record_failure(&self, commit: &Commit, why: &str) -> Result<(), Error> {
        let plan = matrix::expand(self.job, self.host.cpus, Overrides::default());
        let runs = plan
            .entries
            .iter()
            .map(|entry| RunRow {
                status: Status::Failed,
                repetition: 1,
                error: why.to_owned(),
                ..planned_row(self.job, entry, &self.host)
            })
            .collect();
        self.record(commit, runs)
    }
}

/// Runs `command` in a process group of its own (a `ProcessGroup`, which
/// the second Ctrl-C kills), its output into `log`, until it ends; `None`
/// when a signal asked parbench to stop (the child is then asked to stop
/// too, with SIGINT, as a terminal would).
fn run_child(mut command: Command, log: &Path) -> Result<Option<ExitStatus>, Error> {
    let output = std::fs::File::create(log).map_err(Error::output(log))?;
    let errors = output.try_clone().map_err(Error::output(log))?;
    command.stdin(Stdio::null()).stdout(output).stderr(errors);
    let program = command.get_program().to_string_lossy().into_owned();
    let (mut group, _) = crate::child::spawn(&mut command, Tether::Kill).map_err(|error| {
        Error::Usage(format!("cannot start {program}: {}", crate::vocab::io_reason(&error)))
    })?;
    let mut asked = false;
    while !group.exited_within(Duration::from_millis(20)) {
        if crate::interrupt::requested() && !asked {
            group.signal(Signal::SIGINT);
            asked = true;
        }
    }
    // Whatever the child left in its group goes with it.
    let ended = group.end(Duration::ZERO);
    let status = ended
        .status
        .ok_or_else(|| Error::Usage(format!("cannot wait for {program}: it was not ours to reap")))?;
    Ok(if asked { None } else { Some(status) })
}

fn ended(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => "ended".to_owned(),
    }
}

/// The last lines of a log, on one line, with paths in the temporary
/// checkout `tree` written relative to it (as in the repository).
fn tail(log: &Path, tree: &Path) -> String {
    let tree = tree.to_string_lossy();
    let text = std::fs::read_to_string(log)
        .unwrap_or_default()
        .replace(&format!("{tree}/"), "")
        .replace(&*tree, ".");
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    let last = lines[lines.len().saturating_sub(3)..].join(" / ");
    if last.is_empty() { "no output".to_owned() } else { last }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_command_is_read_from_the_history_table() {
        let text = "version = 1\n[history]\nbuild = [\"make\", \"-j2\"]\n";
        assert_eq!(build_command(text), Some(vec!["make".to_owned(), "-j2".to_owned()]));
        assert_eq!(build_command("version = 1\n"), None);
        assert_eq!(build_command("version = 1\n[history]\nbuild = []\n"), None);
    }
}
