//! The command line, as clap derive structs and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const AFTER_HELP: &str = "\
Exit status:
  0    every run was ok
  1    a run failed, timed out or gave results that differ from serial's
       (all results are still written), or the results could not be written
  2    nothing was run: a mistake in a job file or in the arguments, results
       another parbench is writing, or an unfinished run to resume or discard
  130  stopped by Ctrl-C or SIGTERM; the runs measured so far are kept in
       results/NAME.csv.partial, and `parbench run --resume` continues

Examples:
  parbench run jobs/seed.toml             run the seed experiment
  parbench check jobs/scaling.toml        validate and show the plan
  parbench run --repetitions 1 jobs/*.toml
  parbench list                           builtins, generators, strategies";

/// Measure how a piece of work scales: serial, threads and processes.
///
/// A job file (TOML) names the work, the input list, the strategies, worker
/// counts and repetitions; parbench runs the whole matrix, prints a table and
/// writes CSV for spreadsheets.
#[derive(Debug, Parser)]
#[command(name = "parbench", version, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every entry of the job files and write results/NAME.csv and
    /// results/NAME.summary.csv
    #[command(after_help = AFTER_HELP)]
    Run(RunArgs),
    /// Validate job files and print the plan: entries, groups, skipped
    /// combinations and the number of runs
    #[command(after_help = AFTER_HELP)]
    Check {
        /// Job files to check
        #[arg(required = true, value_name = "JOB")]
        jobs: Vec<PathBuf>,
    },
    /// Recompute the summary of per-run CSVs (one or many: shards, several
    /// hosts), print the table, export it, or compare against a baseline
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
    /// List the builtin workloads with their parameters, the list
    /// generators and the strategies
    List,
    /// Serve a builtin as a worker of the processes strategy (internal)
    #[command(name = "__worker", hide = true)]
    Worker { builtin: String, params: Vec<String> },
}

const REPORT_HELP: &str = "\
Exit status:
  0    the report was written; with --baseline, nothing is confidently slower
  1    with --baseline: an entry is slower by more than the threshold, with
       its whole 95% interval above it
  2    a file that cannot be read, or is not a parbench results CSV

Examples:
  parbench report results/scaling.csv --html scaling.html
  parbench report results/a.csv results/b.csv           several hosts together
  parbench report --baseline main.csv results/job.csv   for a repository's CI";

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Per-run CSVs written by `parbench run` (results/NAME.csv)
    #[arg(required = true, value_name = "CSV")]
    pub csvs: Vec<PathBuf>,

    /// Compare against this earlier per-run CSV: faster, slower or no clear change per entry
    #[arg(long, value_name = "OLD.csv")]
    pub baseline: Option<PathBuf>,

    /// With --baseline: how much slower, in percent, counts as slower
    #[arg(long, value_name = "PERCENT", default_value_t = 5.0)]
    pub threshold: f64,

    /// Write the tables as Markdown
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Write every entry's statistics as JSON
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write the summary CSV (as `run` writes results/NAME.summary.csv)
    #[arg(long, value_name = "FILE")]
    pub summary_csv: Option<PathBuf>,

    /// Write a self-contained HTML report with charts
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Write every chart as a standalone SVG file into DIR
    #[arg(long, value_name = "DIR")]
    pub charts: Option<PathBuf>,

    /// Print nothing but errors and the comparison's verdict
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Job files to run, one after another
    #[arg(required = true, value_name = "JOB")]
    pub jobs: Vec<PathBuf>,

    /// Folder for the result files (created if missing)
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,

    /// Measured runs of each entry, instead of the job file's
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub repetitions: Option<u32>,

    /// Unmeasured runs before them, instead of the job file's
    #[arg(long, value_name = "N")]
    pub warmup: Option<u32>,

    /// Print nothing but errors: no progress, no table
    #[arg(long, short)]
    pub quiet: bool,

    /// Continue an interrupted run: keep the runs recorded ok in
    /// results/NAME.csv.partial (or results/NAME.csv) and run only the rest
    #[arg(long, conflicts_with_all = ["retry_failed", "fresh"])]
    pub resume: bool,

    /// Run again only the runs recorded as failed or timeout (and any never
    /// run), replacing their rows
    #[arg(long, conflicts_with = "fresh")]
    pub retry_failed: bool,

    /// Discard the rows of an interrupted run and start over
    #[arg(long)]
    pub fresh: bool,

    /// Also write a self-contained HTML report with charts to FILE
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}
