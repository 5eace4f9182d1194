//! The commands of the command line, one file each: they load, run and
//! report by calling the layers below, and they alone decide what is printed
//! and which exit status parbench ends with.

mod check;
mod history;
mod init;
mod list;
mod merge;
mod report;
mod run;
mod slurm;
mod tooling;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::{Cli, Command};
use crate::error::Error;
use crate::jobfile::{self, Job};
use crate::matrix::{self, Overrides, Plan};
use crate::vocab::io_reason;
use crate::{analysis, report as reports, worker};

pub use check::plan_text;
pub use list::list_text;

/// Exit statuses, as `--help` documents them.
pub const EXIT_OK: i32 = 0;
pub const EXIT_RUN_FAILED: i32 = 1;

/// Runs a parsed command line and returns the exit status.
pub fn run(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Check { jobs } => check::check(&jobs),
        Command::Report(args) => report::report(&args),
        Command::Merge { shards, out } => merge::merge(&shards, out.as_deref()),
        Command::Slurm(args) => slurm::slurm(&args),
        Command::List => {
            print(&list::list_text())?;
            Ok(EXIT_OK)
        }
        Command::Init(args) => init::init(&args),
        Command::History(command) => history::history(&command),
        Command::Schema => tooling::schema(),
        Command::Completions { shell } => tooling::completions(shell),
        Command::Man { out_dir } => tooling::man(out_dir.as_deref()),
        Command::Worker { fork_server, builtin, params } => {
            let served = match fork_server {
                true => worker::fork_workers(&builtin, &params),
                false => worker::serve(&builtin, &params),
            };
            served.map(|()| EXIT_OK).map_err(Error::Usage)
        }
    }
}

pub(crate) fn print(text: &str) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(reports::shown(text).as_bytes()).and_then(|()| stdout.flush()).map_err(Error::Terminal)
}

/// Every job is validated before the first one runs; its warnings (likely
/// mistakes that are not errors) go to stderr.
pub(crate) fn load_all(paths: &[PathBuf]) -> Result<Vec<Job>, Error> {
    let jobs: Vec<Job> =
        paths.iter().map(|path| jobfile::load(path).map_err(Error::from)).collect::<Result<_, _>>()?;
    for job in &jobs {
        for warning in job.warnings.iter().chain(job.workloads.iter().flat_map(|workload| &workload.warnings))
        {
            eprintln!("warning: {warning}");
        }
    }
    Ok(jobs)
}

/// Every job's plan, before anything runs; a job whose every combination is
/// skipped is refused, saying why, instead of writing empty results.
pub(crate) fn plan_all(jobs: &[Job], cpus: usize, overrides: Overrides) -> Result<Vec<Plan>, Error> {
    jobs.iter()
        .map(|job| {
            let plan = matrix::expand(job, cpus, overrides);
            if !plan.entries.is_empty() {
                return Ok(plan);
            }
            let why: Vec<String> = plan
                .skipped
                .iter()
                .map(|skipped| format!("{} × {}: {}", skipped.workload, skipped.what, skipped.reason))
                .collect();
            Err(Error::Usage(format!(
                "{}: nothing to run: every combination is skipped ({})",
                job.path.display(),
                why.join("; ")
            )))
        })
        .collect()
}

/// Creates the output folder and proves it writable before anything runs.
pub(crate) fn prepare_out_dir(dir: &Path) -> Result<(), Error> {
    let refuse = |error: std::io::Error| {
        Error::Usage(format!("cannot write results to {}: {}", dir.display(), io_reason(&error)))
    };
    std::fs::create_dir_all(dir).map_err(refuse)?;
    let probe = dir.join(format!(".parbench-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|error| match error.kind() {
        // The folder is there, yet a file in it is "not found": a file
        // system that makes no files, such as /proc.
        std::io::ErrorKind::NotFound if dir.is_dir() => Error::Usage(format!(
            "cannot write results to {}: the folder takes no new files (a virtual file system, such as /proc?)",
            dir.display()
        )),
        _ => refuse(error),
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// The per-run CSVs among `paths`. A shell glob such as
/// `results/NAME.shard-*.csv` also matches the `.summary.csv`,
/// `.scaling.csv` and `.invocations.csv` beside each shard: those are left
/// out, saying so.
pub(crate) fn per_run_csvs(paths: &[PathBuf]) -> Vec<PathBuf> {
    let (summaries, per_run): (Vec<&PathBuf>, Vec<&PathBuf>) =
        paths.iter().partition(|path| is_summary(path));
    for summary in summaries {
        eprintln!("note: left out {}: a summary, not per-run results", summary.display());
    }
    per_run.into_iter().cloned().collect()
}

/// A summary parbench writes beside the per-run CSV: the summary, the
/// scaling fits or the record of invocations.
pub(crate) fn is_summary(path: &std::path::Path) -> bool {
    let name = path.to_string_lossy();
    [".summary.csv", ".scaling.csv", ".invocations.csv"].iter().any(|suffix| name.ends_with(suffix))
}

/// Reads per-run CSVs and analyses their rows together.
pub(crate) fn analysis_of(paths: &[PathBuf]) -> Result<analysis::Analysis, Error> {
    let mut files = Vec::new();
    // Each run once: a file given twice, or a merged CSV beside its shards,
    // would count every run twice and narrow every interval.
    let mut seen: std::collections::HashMap<(String, String, u32, String), PathBuf> =
        std::collections::HashMap::new();
    for path in &per_run_csvs(paths) {
        if path.is_dir() {
            return Err(Error::Usage(format!(
                "{} is a folder; give the per-run CSV in it (such as {}/NAME.csv)",
                path.display(),
                path.display()
            )));
        }
        if !path.is_file() {
            return Err(Error::Usage(format!("{}: no such file", path.display())));
        }
        let name = path.display().to_string();
        let rows = reports::csv::read_rows(path)?
            .rows()
            .map_err(|error| Error::Usage(format!("{name}: {error}")))?;
        for row in &rows {
            let run = (row.job.clone(), row.entry_key.clone(), row.repetition, row.host.clone());
            if !run.1.is_empty()
                && let Some(first) = seen.insert(run.clone(), path.clone())
            {
                return Err(Error::Usage(format!(
                    "{} and {} both hold repetition {} of entry {} of job {} on host {}; give each run's \
                     rows once (a merged CSV already holds its shards' rows)",
                    first.display(),
                    path.display(),
                    run.2,
                    run.1,
                    run.0,
                    run.3
                )));
            }
        }
        files.push((name, rows));
    }
    analysis::analyze_files(&files).map_err(Error::Usage)
}

/// `NAME.invocations.csv`, beside the per-run `NAME.csv`: the entries'
/// medians and speedups of each invocation of the job on each host (see
/// `analysis::invocations`).
pub(crate) fn invocations_path(csv: &Path) -> PathBuf {
    let name = csv.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".csv").unwrap_or(&name);
    csv.with_file_name(format!("{stem}.invocations.csv"))
}

/// The earlier invocations recorded in `path`, none where there is no such
/// file. An unreadable or damaged record is named in a warning and left as
/// it is (`None`): it costs a run or a report nothing but the record, and
/// their intervals hold this invocation's runs alone.
pub(crate) fn earlier_invocations(path: &Path) -> Option<Vec<analysis::invocations::Invocation>> {
    let read = match std::fs::read(path) {
        Ok(bytes) => analysis::invocations::read(&bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Some(Vec::new()),
        Err(error) => Err(io_reason(&error)),
    };
    read.map_err(|error| {
        eprintln!(
            "warning: {}: {error} (remove the file to start its record afresh); the intervals hold this \
             invocation's runs alone",
            path.display()
        )
    })
    .ok()
}
