//! parbench: measure how a piece of work scales across serial, threaded and
//! multi-process execution.
//!
//! The data flows one way: job file ([`jobfile`]) → matrix of entries
//! ([`matrix`]) → runner ([`runner`], with [`strategy`] × [`workload`]) →
//! events → reporters ([`report`]: progress, CSV, table).

pub mod affinity;
pub mod analysis;
pub mod cli;
pub mod cluster;
pub mod compare;
pub mod error;
pub mod generator;
pub mod interrupt;
pub mod jobfile;
pub mod lock;
pub mod matrix;
pub mod report;
pub mod resume;
pub mod runner;
pub mod shard;
pub mod stats;
pub mod strategy;
pub mod worker;
pub mod workload;

use std::io::Write;
use std::path::Path;

use cli::{Cli, Command, ReportArgs, RunArgs, SlurmArgs};
use error::Error;
use jobfile::{Job, WorkloadKind};
use matrix::{Overrides, Plan};
use runner::{Host, Reporter, Status};

/// Exit statuses, as `--help` documents them.
pub const EXIT_OK: i32 = 0;
pub const EXIT_RUN_FAILED: i32 = 1;

/// Runs a parsed command line and returns the exit status.
pub fn run(cli: Cli) -> Result<i32, Error> {
    match cli.command {
        Command::Run(args) => run_jobs(&args),
        Command::Check { jobs } => check(&jobs),
        Command::Report(args) => report_command(&args),
        Command::Merge { shards, out } => {
            let merged = cluster::merge(&shards, out.as_deref())?;
            eprintln!("merged {} shards into {}", shards.len(), merged.display());
            Ok(EXIT_OK)
        }
        Command::Slurm(args) => slurm_command(&args),
        Command::List => {
            print(&list_text())?;
            Ok(EXIT_OK)
        }
        Command::Worker { builtin, params } => match worker::serve(&builtin, &params) {
            Ok(()) => Ok(EXIT_OK),
            Err(message) => Err(Error::Usage(message)),
        },
    }
}

fn print(text: &str) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).map_err(Error::Terminal)
}

/// Every job is validated before the first one runs.
fn load_all(paths: &[std::path::PathBuf]) -> Result<Vec<Job>, Error> {
    paths.iter().map(|path| jobfile::load(path).map_err(Error::from)).collect()
}

fn run_jobs(args: &RunArgs) -> Result<i32, Error> {
    let jobs = load_all(&args.jobs)?;
    prepare_out_dir(&args.out)?;
    interrupt::install();
    let host = Host::detect();
    let overrides = Overrides { repetitions: args.repetitions, warmup: args.warmup };
    let mut status = EXIT_OK;
    for job in &jobs {
        let mut plan = matrix::expand(job, host.cpus, overrides);
        if let Some(shard) = args.shard {
            plan = shard::restrict(&plan, shard);
        }
        match run_job(job, &plan, &host, args)? {
            JobEnd::AllOk => {}
            JobEnd::SomeFailed => status = EXIT_RUN_FAILED,
            JobEnd::Interrupted => return Ok(interrupt::EXIT_INTERRUPTED),
        }
    }
    Ok(status)
}

/// Creates the output folder and proves it writable before anything runs.
fn prepare_out_dir(dir: &Path) -> Result<(), Error> {
    let refuse = |error: std::io::Error| {
        Error::Usage(format!("cannot write results to {}: {}", dir.display(), error::io_reason(&error)))
    };
    std::fs::create_dir_all(dir).map_err(refuse)?;
    let probe = dir.join(format!(".parbench-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(refuse)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

enum JobEnd {
    AllOk,
    SomeFailed,
    Interrupted,
}

/// The command that continues this run, as the user would type it.
fn resume_command(args: &RunArgs) -> String {
    let mut words = vec!["parbench".to_owned(), "run".to_owned(), "--resume".to_owned()];
    if args.out != Path::new("results") {
        words.push("--out".to_owned());
        words.push(shell_word(&args.out.display().to_string()));
    }
    if let Some(repetitions) = args.repetitions {
        words.push(format!("--repetitions {repetitions}"));
    }
    if let Some(warmup) = args.warmup {
        words.push(format!("--warmup {warmup}"));
    }
    if let Some(shard) = args.shard {
        words.push(format!("--shard {shard}"));
    }
    words.extend(args.jobs.iter().map(|job| shell_word(&job.display().to_string())));
    words.join(" ")
}

/// Quotes a word for a POSIX shell when it needs it.
pub(crate) fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:@%+,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

fn run_job(job: &Job, plan: &Plan, host: &Host, args: &RunArgs) -> Result<JobEnd, Error> {
    let base = match args.shard {
        Some(shard) => shard.base_name(&job.name),
        None => job.name.clone(),
    };
    let base = base.as_str();
    let _lock = lock::ResultsLock::acquire(&args.out, base)?;
    let mode = match (args.resume, args.retry_failed, args.fresh) {
        (true, _, _) => resume::Mode::Resume,
        (_, true, _) => resume::Mode::RetryFailed,
        (_, _, true) => resume::Mode::Fresh,
        _ => resume::Mode::New,
    };
    let resume_hint = resume_command(args);
    let prior = resume::load(&args.out, base, plan, mode, &resume_hint)?;
    let prior_records: Vec<runner::RunRecord> = prior.iter().map(|run| run.record.clone()).collect();
    let runs_left = runner::runs_to_do(plan, &prior_records);
    if !prior.is_empty() && !args.quiet {
        eprintln!("{}: keeping {} runs already measured; {runs_left} runs to go", job.name, prior.len());
    }

    let mut rows = report::csv::RowWriter::create(job, base, plan, host, &args.out, &prior)?;
    let mut log = report::log::StderrLog::new(&args.out, base);
    let mut progress = report::progress::Progress::new(&job.name, plan, runs_left, args.quiet);
    let outcome = {
        let mut reporters: [&mut dyn Reporter; 3] = [&mut rows, &mut log, &mut progress];
        runner::run(job, plan, &prior_records, &mut reporters)
    };
    progress.finish();
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            // The rows written so far are intact; say where and how to go on.
            eprintln!(
                "error: {error}\n{} runs are saved in {}; continue with: {resume_hint}",
                rows.saved(),
                rows.partial_path().display()
            );
            return Err(error.already_reported());
        }
    };
    if outcome.interrupted {
        eprintln!(
            "\n{}: interrupted; {} runs are saved in {}. Continue with:\n  {resume_hint}",
            job.name,
            rows.saved(),
            rows.partial_path().display()
        );
        return Ok(JobEnd::Interrupted);
    }
    let csv_path = rows.finish()?;
    // The summary and the table come from the file just written, exactly as
    // `parbench report` would compute them from it.
    let analysis = analysis_of(std::slice::from_ref(&csv_path))?;
    let summary_path = args.out.join(format!("{base}.summary.csv"));
    report::csv::write_atomically(&summary_path, &report::summary::to_csv(&analysis))?;
    let env_path = args.out.join(format!("{base}.env.json"));
    report::csv::write_atomically(&env_path, report::env::describe(job, host).as_bytes())?;
    let html = args.html.as_ref().map(|html| {
        // Several jobs in one run each get their own page beside FILE.
        if args.jobs.len() > 1 {
            let stem = html.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
            let extension =
                html.extension().map(|ext| format!(".{}", ext.to_string_lossy())).unwrap_or_default();
            html.with_file_name(format!("{stem}-{base}{extension}"))
        } else {
            html.clone()
        }
    });
    if let Some(html) = &html {
        std::fs::write(html, report::html::render(&analysis)).map_err(Error::output(html))?;
    }

    let records = outcome.records;
    let failed = records.iter().filter(|record| record.status != Status::Ok).count();
    if !args.quiet {
        let mut text = report::table::render(&analysis);
        for skipped in &plan.skipped {
            text.push_str(&format!("\nskipped: {} × {}: {}", skipped.workload, skipped.what, skipped.reason));
        }
        if !plan.skipped.is_empty() {
            text.push('\n');
        }
        print(&text)?;
        let mut files = format!("{}, {}, {}", csv_path.display(), summary_path.display(), env_path.display());
        if let Some(log) = log.path() {
            files.push_str(&format!(", {}", log.display()));
        }
        if let Some(html) = &html {
            files.push_str(&format!(", {}", html.display()));
        }
        let verdict = if failed == 0 {
            format!("{} runs ok", records.len())
        } else {
            format!("{failed} of {} runs not ok", records.len())
        };
        eprintln!("\n{}: {verdict}; wrote {files}", job.name);
    } else if failed > 0 {
        eprintln!("{}: {failed} of {} runs not ok; see {}", job.name, records.len(), csv_path.display());
    }
    Ok(if failed > 0 { JobEnd::SomeFailed } else { JobEnd::AllOk })
}

fn slurm_command(args: &SlurmArgs) -> Result<i32, Error> {
    let job = jobfile::load(&args.job)?;
    prepare_out_dir(&args.out)?;
    let absolute = |path: &Path| {
        std::fs::canonicalize(path).map_err(|error| {
            Error::Usage(format!("cannot resolve {}: {}", path.display(), error::io_reason(&error)))
        })
    };
    let out = absolute(&args.out)?;
    let job_path = absolute(&args.job)?;
    let exe = std::env::current_exe()
        .map_err(|error| Error::Usage(format!("cannot find parbench's own executable: {error}")))?;
    let plan = matrix::expand(&job, Host::detect().cpus, Overrides::default());
    let options = cluster::SlurmOptions {
        shards: args.shards.map_or_else(|| cluster::default_shards(&plan), |shards| shards as usize),
        partition: args.partition.clone(),
        time: args.time.clone(),
        account: args.account.clone(),
        extra: args.sbatch_args.clone(),
        shared: args.shared,
        out: out.clone(),
    };
    let script_path = out.join(format!("{}.sbatch", job.name));
    std::fs::write(&script_path, cluster::script(&job, &exe, &job_path, &options))
        .map_err(Error::output(&script_path))?;
    eprintln!("wrote {} ({} tasks)", script_path.display(), options.shards);
    if !args.submit && !args.wait {
        return Ok(EXIT_OK);
    }
    let (id, failed) = cluster::submit(&script_path, &job.name, &options, args.wait)?;
    println!("{id}");
    if !args.wait {
        return Ok(EXIT_OK);
    }
    for (task, why) in &failed {
        eprintln!("error: task {task} of array job {id} failed: {why}");
    }
    let shards: Vec<std::path::PathBuf> = (0..options.shards)
        .map(|index| {
            out.join(format!("{}.csv", shard::Shard { index, count: options.shards }.base_name(&job.name)))
        })
        .collect();
    match cluster::merge(&shards, Some(&out)) {
        Ok(merged) => eprintln!("merged {} shards into {}", shards.len(), merged.display()),
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(EXIT_RUN_FAILED);
        }
    }
    Ok(if failed.is_empty() { EXIT_OK } else { EXIT_RUN_FAILED })
}

fn report_command(args: &ReportArgs) -> Result<i32, Error> {
    if !(0.0..100.0).contains(&args.threshold) {
        return Err(Error::Usage(format!(
            "--threshold {} is not a percentage between 0 and 100",
            args.threshold
        )));
    }
    let analysis = analysis_of(&args.csvs)?;
    if analysis.entries.is_empty() {
        return Err(Error::Usage("the CSVs hold no rows".to_owned()));
    }
    let write = |path: &Option<std::path::PathBuf>, text: &[u8]| -> Result<(), Error> {
        match path {
            Some(path) => std::fs::write(path, text).map_err(Error::output(path)),
            None => Ok(()),
        }
    };
    write(&args.markdown, report::markdown::render(&analysis).as_bytes())?;
    write(&args.json, report::json::render(&analysis).as_bytes())?;
    write(&args.summary_csv, &report::summary::to_csv(&analysis))?;
    write(&args.html, report::html::render(&analysis).as_bytes())?;
    if let Some(dir) = &args.charts {
        std::fs::create_dir_all(dir).map_err(Error::output(dir))?;
        for (name, svg) in report::html::charts(&analysis) {
            let path = dir.join(name);
            std::fs::write(&path, svg).map_err(Error::output(&path))?;
        }
    }
    let mut text = String::new();
    if !args.quiet {
        text.push_str(&report::table::render(&analysis));
    }
    let mut status = EXIT_OK;
    if let Some(baseline) = &args.baseline {
        let old = analysis_of(std::slice::from_ref(baseline))?;
        let threshold = args.threshold / 100.0;
        let comparison = compare::compare(&old, &analysis, threshold);
        text.push('\n');
        text.push_str(&compare::render(&comparison, threshold));
        if comparison.any_slower() {
            status = EXIT_RUN_FAILED;
        }
    }
    print(&text)?;
    Ok(status)
}

/// Reads per-run CSVs and analyses their rows together.
fn analysis_of(paths: &[std::path::PathBuf]) -> Result<analysis::Analysis, Error> {
    let mut rows = Vec::new();
    for path in paths {
        if !path.is_file() {
            return Err(Error::Usage(format!("{}: no such file", path.display())));
        }
        rows.extend(resume::read_rows(path)?);
    }
    analysis::analyze(&rows).map_err(Error::Usage)
}

fn check(paths: &[std::path::PathBuf]) -> Result<i32, Error> {
    let jobs = load_all(paths)?;
    let cpus = Host::detect().cpus;
    let mut text = String::new();
    for job in &jobs {
        let plan = matrix::expand(job, cpus, Overrides::default());
        text.push_str(&plan_text(job, &plan));
    }
    print(&text)?;
    Ok(EXIT_OK)
}

/// What `parbench check` prints for one job.
pub fn plan_text(job: &Job, plan: &Plan) -> String {
    let warmup_runs = plan.total_runs() - plan.measured_runs();
    let mut text = format!(
        "{}: job \"{}\" is valid: {} entries in {} groups, {} runs ({} measured, {} warm-up) on {} CPUs\n",
        job.path.display(),
        job.name,
        plan.entries.len(),
        plan.groups.len(),
        plan.total_runs(),
        plan.measured_runs(),
        warmup_runs,
        plan.cpus,
    );
    for group in &plan.groups {
        let workload = &job.workloads[group.workload];
        let what = match &workload.kind {
            WorkloadKind::Builtin(spec) => format!("builtin {}", spec.name),
            WorkloadKind::Command { argv, protocol } => {
                format!("command {argv:?} ({protocol:?} protocol)").to_lowercase()
            }
        };
        text.push_str(&format!(
            "  group {}: {} ({what}), {} {} items\n",
            group.index + 1,
            workload.name,
            job.generator.name(),
            group.list_size
        ));
        for entry in &plan.entries[group.entries.clone()] {
            text.push_str(&format!(
                "    {:>3}. {}  ({} warm-up + {} measured)\n",
                entry.index + 1,
                entry.label(),
                entry.warmup,
                entry.repetitions
            ));
        }
    }
    for skipped in &plan.skipped {
        text.push_str(&format!("  skipped: {} × {}: {}\n", skipped.workload, skipped.what, skipped.reason));
    }
    text
}

/// What `parbench list` prints.
pub fn list_text() -> String {
    let mut text = String::from("Builtin workloads (builtin = \"NAME\", params = { ... }):\n");
    for spec in workload::BUILTINS.iter().filter(|spec| !spec.hidden) {
        text.push_str(&format!("\n  {}\n    {}\n    cost: {}\n", spec.name, spec.summary, spec.cost));
        for param in spec.params {
            text.push_str(&format!(
                "    param {} (default {}{}): {}\n",
                param.name,
                workload::format_number(param.default),
                if param.integer { ", whole number" } else { "" },
                param.help
            ));
        }
    }
    text.push_str("\nList generators ([list] generator = \"NAME\"):\n");
    for name in generator::Generator::NAMES {
        let keys: Vec<String> = generator::Generator::keys(name)
            .iter()
            .map(|(key, default, meaning)| format!("{key} ({default}): {meaning}"))
            .collect();
        text.push_str(&format!("\n  {name}\n    {}\n", keys.join("\n    ")));
    }
    text.push_str("\nStrategies ([run] strategies = [...]):\n\n");
    for name in strategy::Strategy::NAMES {
        let strategy = strategy::Strategy::parse(name).expect("listed names parse");
        text.push_str(&format!("  {:<10} {}\n", name, strategy.describe()));
    }
    text.push_str(
        "\nCommand workloads: command = [\"prog\", \"arg\", \"{item}\"], protocol = \"argv\" (one process per item)\n\
         or \"lines\" (one long-lived process per worker, one item per line on stdin, one result per line on stdout).\n",
    );
    text
}
