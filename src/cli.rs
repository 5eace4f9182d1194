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
  130  stopped by Ctrl-C, SIGTERM, SIGHUP or SIGQUIT; the runs measured so far are kept in
       results/NAME.csv.partial, and `parbench run --resume` continues
  (`report --baseline` and `slurm --wait` say theirs in their --help)

Examples:
  parbench run jobs/seed.toml             run the seed experiment
  parbench check jobs/scaling.toml        validate and show the plan
  parbench run --repetitions 1 jobs/*.toml
  parbench run --resume jobs/scaling.toml continue after Ctrl-C or a crash
  parbench report --html r.html results/scaling.csv
  parbench slurm --submit --wait jobs/scaling.toml
  parbench history run jobs/history.toml --commits HEAD~20..HEAD
  parbench list                           builtins, generators, strategies
  parbench init my-job                    a commented starter job file

More: `man parbench` (install the pages with `parbench man --out-dir DIR`),
the job-file contract docs/JOBFILE.md, and its JSON Schema for editors from
`parbench schema` (docs/jobfile.schema.json; see the README for completions)";

const CHECK_HELP: &str = "\
Exit status:
  0    every job file is valid and has something to run
  2    a mistake in a job file (located, with the valid choices), or a job
       whose every combination is skipped

Warnings (a parameter the command does not use, an argv command without
{item}) are printed to stderr and do not change the exit status.

Examples:
  parbench check jobs/scaling.toml        validate and show the plan
  parbench check jobs/*.toml              every job file at once";

const RUN_HELP: &str = "\
Exit status: 0 every run ok; 1 a run failed, timed out or differed from
serial's (all results are still written); 2 nothing was run (a mistake in a
job file or the arguments, or an unfinished run to resume or discard);
130 stopped by Ctrl-C or a signal: `parbench run --resume` continues

Examples:
  parbench run jobs/seed.toml
  parbench run --resume jobs/scaling.toml   after Ctrl-C or a crash";

const MERGE_HELP: &str = "\
Exit status:
  0    the shards were merged into NAME.csv and NAME.summary.csv
  2    shards of different jobs, a missing or repeated shard, a run recorded
       in two shards, or a file that cannot be read or written

A shell glob that also matches the shards' .summary.csv files is fine: they
are left out, with a note.

Example:
  parbench merge results/scaling.shard-*-of-6.csv";

/// Measure how a piece of work scales: serial, threads and processes.
///
/// A job file (TOML) names the work, the input list, the strategies, worker
/// counts and repetitions; parbench runs the whole matrix, prints a table and
/// writes CSV for spreadsheets.
#[derive(Debug, Parser)]
#[command(name = "parbench", version = env!("PARBENCH_VERSION"), after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every entry of the job files; write results/NAME.csv and its summary
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// Validate job files and print the plan: entries, groups, skipped
    /// combinations and the number of runs
    #[command(after_help = CHECK_HELP)]
    Check {
        /// Job files to check
        #[arg(required = true, value_name = "JOB")]
        jobs: Vec<PathBuf>,
    },
    /// Summarize per-run CSVs: the table, exports, or the gate against a baseline
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
    /// Join the shards of a run made with --shard (on a cluster) into
    /// results/NAME.csv and its summary
    #[command(after_help = MERGE_HELP)]
    Merge {
        /// Every shard's per-run CSV: results/NAME.shard-I-of-N.csv
        #[arg(required = true, value_name = "SHARD_CSV")]
        shards: Vec<PathBuf>,
        /// Folder for the merged files (default: the shards' folder)
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Write results/NAME.sbatch, a Slurm array job with one task per shard;
    /// optionally submit it and wait for it
    #[command(after_help = SLURM_HELP)]
    Slurm(SlurmArgs),
    /// List the builtin workloads with their parameters, the list
    /// generators and the strategies
    List,
    /// Results across commits: measure a job at each commit of a range,
    /// find the commits where an entry changed, bisect a slowdown
    #[command(subcommand)]
    History(HistoryCommand),
    /// Write a commented starter job file, NAME.toml (default job.toml), that
    /// runs in seconds; never overwrites a file
    Init(InitArgs),
    /// Print the JSON Schema (draft 07) of job files, for editors that
    /// validate TOML (taplo, Even Better TOML: a `#:schema FILE` first line)
    Schema,
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man pages of parbench and each of its commands (roff), or
    /// write them as parbench.1, parbench-run.1, ... into a folder
    Man {
        /// Write one file per page into DIR (such as ~/.local/share/man/man1)
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// Serve a builtin as a worker of the processes strategy (internal)
    #[command(name = "__worker", hide = true)]
    Worker {
        /// Fork the pool's workers on request instead of serving
        #[arg(long)]
        fork_server: bool,
        builtin: String,
        params: Vec<String>,
    },
}

impl Cli {
    /// The command line of a pool's worker (`__worker [--fork-server]
    /// BUILTIN NAME=VALUE...`), read without building the whole parser:
    /// every pool of a builtin starts `parbench` once, and building clap's
    /// parser of every command is a measurable share of that start.
    /// Anything else, or anything unusual (a flag where a name belongs), is
    /// left to clap.
    pub fn worker(args: &[std::ffi::OsString]) -> Option<Cli> {
        let mut args = args.iter().skip(1).map(|arg| arg.to_str());
        if args.next()? != Some("__worker") {
            return None;
        }
        let mut rest: Vec<String> = args.map(|arg| arg.map(str::to_owned)).collect::<Option<_>>()?;
        let fork_server = rest.first().is_some_and(|first| first == "--fork-server");
        if fork_server {
            rest.remove(0);
        }
        if rest.is_empty() || rest.iter().any(|arg| arg.starts_with('-')) {
            return None;
        }
        let builtin = rest.remove(0);
        Some(Cli { command: Command::Worker { fork_server, builtin, params: rest } })
    }
}

const COMPLETIONS_HELP: &str = "\
Install (then start a new shell):
  bash        parbench completions bash > ~/.local/share/bash-completion/completions/parbench
  zsh         parbench completions zsh > ~/.zfunc/_parbench   (with fpath+=~/.zfunc before compinit)
  fish        parbench completions fish > ~/.config/fish/completions/parbench.fish
  elvish      parbench completions elvish >> ~/.config/elvish/rc.elv
  powershell  parbench completions powershell >> $PROFILE";

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The job's name; the file is NAME.toml (NAME may be a path)
    #[arg(value_name = "NAME", default_value = "job")]
    pub name: String,

    /// Measure this program, one process per item: a command line in which
    /// {item} stands for the item, such as 'python3 work.py {item}'
    #[arg(long, value_name = "COMMAND_LINE", conflicts_with_all = ["builtin", "python"])]
    pub command: Option<String>,

    /// Measure a Python function under Python's own map and pools: FILE
    /// (relative to the job file) and the name of a function in it that
    /// takes one item
    #[arg(long, value_name = "FILE:FUNCTION", conflicts_with = "builtin")]
    pub python: Option<String>,

    /// Measure this builtin (`parbench list` shows them)
    #[arg(long, value_name = "NAME", default_value = "price-crazy")]
    pub builtin: String,
}

const REPORT_HELP: &str = "\
Exit status: 0 written (with --baseline: nothing slower, nothing failed);
1 with --baseline, an entry slower past the threshold, or failing where it
ran ok before; 2 a file that cannot be read, or nothing to compare
(docs/RESULTS.md: the gate's method and its false-alarm rates)

Examples:
  parbench report --html r.html results/scaling.csv
  parbench report --baseline main.csv results/job.csv";

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Per-run CSVs written by `parbench run`
    #[arg(required = true, value_name = "CSV")]
    pub csvs: Vec<PathBuf>,

    /// Compare with this earlier per-run CSV (the gate)
    #[arg(long, value_name = "OLD.csv")]
    pub baseline: Option<PathBuf>,

    /// With --baseline: pair entries of other hosts too
    #[arg(long)]
    pub any_host: bool,

    /// With --baseline: entries not judged fail too
    #[arg(long)]
    pub strict: bool,

    /// Percent slower that fails the gate
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0)]
    pub threshold: f64,

    /// Write the tables as Markdown
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Write every entry's statistics as JSON
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write the summary CSV, as `run` does
    #[arg(long, value_name = "FILE")]
    pub summary_csv: Option<PathBuf>,

    /// Write an HTML report with charts
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Write the fitted scaling models as CSV
    #[arg(long, value_name = "FILE")]
    pub scaling_csv: Option<PathBuf>,

    /// Predict the speedup on a machine of N CPUs
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub predict: Option<u32>,

    /// Write every chart as an SVG file into DIR
    #[arg(long, value_name = "DIR")]
    pub charts: Option<PathBuf>,

    /// Print nothing but errors and the gate's verdict
    #[arg(long, short)]
    pub quiet: bool,
}

const SLURM_HELP: &str = "\
Each task runs `parbench run --shard $SLURM_ARRAY_TASK_ID/N` with this same
binary, job file and output folder, which must be on a file system the nodes
share. Tasks ask for the job's largest worker count in CPUs and, unless
--shared, a node of their own (--exclusive), because a neighbour's load
falsifies timings.

Exit status (with --wait):
  0    every task succeeded and the shards were merged
  1    a task failed (named, with its log), or a shard is missing
  2    a mistake in the job file or the arguments, or sbatch is not there

Example:
  parbench slurm --partition short --time 1:00:00 --submit --wait jobs/scaling.toml";

#[derive(Debug, Args)]
pub struct SlurmArgs {
    /// The job file
    #[arg(value_name = "JOB")]
    pub job: PathBuf,

    /// Array tasks (one shard each); default: the number of groups, at most 64
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub shards: Option<u32>,

    /// Slurm partition
    #[arg(long)]
    pub partition: Option<String>,

    /// Time limit per task, as Slurm writes it (30:00, 1-00:00:00)
    #[arg(long)]
    pub time: Option<String>,

    /// Slurm account to charge
    #[arg(long)]
    pub account: Option<String>,

    /// Any other sbatch option, written as an #SBATCH line (repeatable)
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,

    /// Share nodes with other jobs (drops --exclusive)
    #[arg(long)]
    pub shared: bool,

    /// Submit the script with sbatch and print the job id
    #[arg(long)]
    pub submit: bool,

    /// Submit, wait for every task, then merge the shards
    #[arg(long)]
    pub wait: bool,

    /// Folder for the script, the shards and the logs
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
}

const HISTORY_RUN_HELP: &str = "\
Exit status: 0 done; 1 a commit failed to build or run (recorded, and the
walk went on); 2 a mistake in the arguments or the job file; 130 stopped by
Ctrl-C (what was measured is kept; the same command resumes)

Example (docs/HISTORY.md):
  parbench history run jobs/history.toml --commits v0.3..HEAD";

const HISTORY_REPORT_HELP: &str = "\
Exit status: 0 written; 1 with --since, a slowdown after REV; 2 no history

Example (docs/HISTORY.md: the method and its false-alarm rates):
  parbench history report history --since main --html history.html";

const HISTORY_BISECT_HELP: &str = "\
Exit status: 0 found; 2 a mistake in the arguments, or BAD not slower
than GOOD; 130 stopped by Ctrl-C

Example (docs/HISTORY.md):
  parbench history bisect job.toml --good v0.3 --bad HEAD --entry serial";

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Run today's job file at each commit of a range, oldest first; add
    /// the rows to results/history/NAME.csv
    #[command(after_help = HISTORY_RUN_HELP)]
    Run(HistoryRunArgs),
    /// The change points of each entry's per-commit medians; also written
    /// to NAME.changes.csv beside the history CSV
    #[command(after_help = HISTORY_REPORT_HELP)]
    Report(HistoryReportArgs),
    /// Find the first commit where an entry became slower
    #[command(after_help = HISTORY_BISECT_HELP)]
    Bisect(HistoryBisectArgs),
}

#[derive(Debug, Args)]
pub struct HistoryRunArgs {
    /// The job file, inside the repository whose commits it measures
    #[arg(value_name = "JOB")]
    pub job: PathBuf,

    /// A range as git rev-list takes it (v0.3..HEAD), or a,b,c
    #[arg(long, value_name = "RANGE")]
    pub commits: String,

    /// Only every Nth commit, counted back from the newest
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub every: u32,

    /// At most the newest N commits (after --every)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max: Option<u32>,

    /// Measure again commits measured on this host with this job file
    #[arg(long)]
    pub again: bool,

    #[command(flatten)]
    pub common: HistoryCommon,
}

/// The options `history run` and `history bisect` share.
#[derive(Debug, Args)]
pub struct HistoryCommon {
    /// The history is DIR/history/NAME.csv
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,

    /// Measured runs of each entry (overrides the job)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub repetitions: Option<u32>,

    /// Print nothing but errors and the answer
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct HistoryReportArgs {
    /// A history CSV, or a job name or file: DIR/history/NAME.csv
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Exit 1 when a slowdown is found at a commit after REV
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,

    /// The smallest change reported, in percent of the median
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0)]
    pub threshold: f64,

    /// Write a page with one chart per group
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Where NAME is looked for
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct HistoryBisectArgs {
    /// The job file, inside the repository whose commits it measures
    #[arg(value_name = "JOB")]
    pub job: PathBuf,

    /// A commit where the entry was fast
    #[arg(long, value_name = "REV")]
    pub good: String,

    /// A later commit where it is slow
    #[arg(long, value_name = "REV")]
    pub bad: String,

    /// Words of the entry's label ("serial", "threads ×4"), unless
    /// the job has one entry
    #[arg(long, value_name = "TEXT")]
    pub entry: Option<String>,

    /// How much slower BAD must be than GOOD, in percent
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0)]
    pub threshold: f64,

    #[command(flatten)]
    pub common: HistoryCommon,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Job files to run, one after another
    #[arg(required = true, value_name = "JOB")]
    pub jobs: Vec<PathBuf>,

    /// Folder for the result files
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,

    /// Measured runs of each entry (overrides the job)
    #[arg(long, value_name = "N|auto", value_parser = parse_repetitions)]
    pub repetitions: Option<crate::vocab::Repetitions>,

    /// Unmeasured runs before them (overrides the job)
    #[arg(long, value_name = "N")]
    pub warmup: Option<u32>,

    /// Print nothing but errors: no progress, no table
    #[arg(long, short)]
    pub quiet: bool,

    /// Continue an interrupted run, keeping its ok runs
    #[arg(long, conflicts_with_all = ["retry_failed", "fresh"])]
    pub resume: bool,

    /// Run again only the failed and timed-out runs
    #[arg(long, conflicts_with = "fresh")]
    pub retry_failed: bool,

    /// Discard an interrupted run's rows and start over
    #[arg(long)]
    pub fresh: bool,

    /// Also write an HTML report with charts to FILE
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Run only slice I (from 0) of N of the matrix
    #[arg(long, value_name = "I/N")]
    pub shard: Option<crate::shard::Shard>,
}

fn parse_repetitions(text: &str) -> Result<crate::vocab::Repetitions, String> {
    match text {
        "auto" => Ok(crate::vocab::Repetitions::Auto),
        _ => match text.parse::<u32>() {
            Ok(count) if count >= 1 => Ok(crate::vocab::Repetitions::Fixed(count)),
            _ => Err(format!("\"{text}\" is neither a whole number of at least 1 nor \"auto\"")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn args(line: &[&str]) -> Vec<OsString> {
        line.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_worker_command_line_reads_as_clap_reads_it() {
        let lines: [&[&str]; 3] = [
            &["parbench", "__worker", "spin", "iterations=5", "x=1"],
            &["parbench", "__worker", "--fork-server", "price-increase", "percent=10"],
            &["parbench", "__worker", "sleep"],
        ];
        for line in lines {
            let fast = Cli::worker(&args(line)).expect("a worker's command line");
            let clap = Cli::try_parse_from(args(line)).unwrap();
            assert_eq!(format!("{fast:?}"), format!("{clap:?}"), "{line:?}");
        }
    }

    #[test]
    fn anything_but_a_plain_worker_command_line_is_left_to_clap() {
        let lines: [&[&str]; 5] = [
            &["parbench", "run", "jobs/seed.toml"],
            &["parbench"],
            &["parbench", "__worker"],
            &["parbench", "__worker", "--help"],
            &["parbench", "__worker", "spin", "--fork-server"],
        ];
        for line in lines {
            assert!(Cli::worker(&args(line)).is_none(), "{line:?}");
        }
    }
}
