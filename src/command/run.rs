//! `parbench run`: every job of the command line, one after another, each
//! to its CSV, summary, environment record and table.

use std::path::Path;

use super::{EXIT_OK, EXIT_RUN_FAILED, analysis_of, load_all, plan_all, prepare_out_dir, print};
use crate::cli::RunArgs;
use crate::error::Error;
use crate::jobfile::Job;
use crate::machine::Checks;
use crate::matrix::{Overrides, Plan};
use crate::report::env::{ShardInfo, SliceEntry};
use crate::runner::{self, Host, Reporter};
use crate::vocab::{Pin, count, shell_word};
use crate::{analysis, interrupt, limits, lock, report, resume, shard, strategy};

pub fn run(args: &RunArgs) -> Result<i32, Error> {
    let jobs = load_all(&args.jobs)?;
    refuse_shared_names(&jobs)?;
    let host = Host::detect();
    // Read before the first run, while the load is the machine's own.
    let checks = Checks::read(Path::new("/"), host.cpus);
    let mut warned = args.quiet;
    let overrides = Overrides { repetitions: args.repetitions, warmup: args.warmup };
    let full_plans = plan_all(&jobs, host.cpus, overrides)?;
    prepare_out_dir(&args.out)?;
    interrupt::install();
    let plans: Vec<(Plan, Option<ShardInfo>)> = jobs
        .iter()
        .zip(full_plans)
        .map(|(job, full)| match args.shard {
            Some(shard) => {
                let planning = shard::planning_plan(job, overrides);
                let slice = shard::restrict(&full, &planning, shard);
                let info = ShardInfo {
                    index: shard.index,
                    count: shard.count,
                    groups: report::csv::group_names(&planning),
                    slice: slice.entries.iter().map(SliceEntry::of).collect(),
                };
                (slice, Some(info))
            }
            None => (full, None),
        })
        .collect();
    check_limits(plans.iter().map(|(plan, _)| plan))?;
    let mut status = EXIT_OK;
    for (job, (plan, shard_info)) in jobs.iter().zip(&plans) {
        let order_seed = job.order_seed.unwrap_or_else(fresh_seed);
        let invocation = Invocation { checks: &checks, order_seed, warned: &mut warned };
        match run_job(job, plan, shard_info.as_ref(), &host, invocation, args)? {
            JobEnd::AllOk => {}
            JobEnd::SomeFailed => status = EXIT_RUN_FAILED,
            JobEnd::Interrupted => return Ok(interrupt::EXIT_INTERRUPTED),
        }
    }
    Ok(status)
}

/// Two jobs of one name would write the same result files, the second
/// over the first: refused before anything runs.
fn refuse_shared_names(jobs: &[Job]) -> Result<(), Error> {
    let mut seen: std::collections::HashMap<&str, &Job> = std::collections::HashMap::new();
    for job in jobs {
        if let Some(first) = seen.insert(job.name.as_str(), job) {
            return Err(Error::Usage(format!(
                "{} and {} are both job \"{}\" and would write the same result files; \
                 give one of them another name = \"...\", or run them with different --out",
                first.path.display(),
                job.path.display(),
                job.name
            )));
        }
    }
    Ok(())
}

/// Open files the runner keeps besides its pools: the results, the log,
/// the lock, the terminal, the libraries.
const FILES_BESIDES_POOLS: u64 = 64;

/// Refuses, before anything runs, an entry whose pool the process's limits
/// cannot hold (`ulimit -n`, `ulimit -u`), naming the limit; raises a soft
/// limit that is merely lower than the hard one.
fn check_limits<'a>(plans: impl Iterator<Item = &'a Plan>) -> Result<(), Error> {
    let mut files: Option<(u64, String)> = None;
    let mut processes: Option<(u64, String)> = None;
    for plan in plans {
        // The job file's cap, again after --repetitions and --warmup.
        if plan.total_runs() > crate::jobfile::MAX_RUNS {
            return Err(Error::Usage(format!(
                "this run asks for {} runs of one job; at most {}: give --repetitions or --warmup a smaller number",
                plan.total_runs(),
                crate::jobfile::MAX_RUNS
            )));
        }
        for entry in &plan.entries {
            let work = &plan.groups[entry.group].work;
            let needs = strategy::needs(entry.strategy, work, entry.workers);
            let what = || format!("{} ×{} in \"{}\"", entry.strategy, entry.workers, entry.workload_name);
            if files.as_ref().is_none_or(|(most, _)| needs.open_files > *most) {
                files = Some((needs.open_files, what()));
            }
            if processes.as_ref().is_none_or(|(most, _)| needs.processes > *most) {
                processes = Some((needs.processes, what()));
            }
        }
    }
    let refuse = |needed: u64, what: &str, limit: limits::Limit, flag: &str, unit: &str| {
        let hard = limit.hard.map_or("unlimited".to_owned(), |hard| hard.to_string());
        Error::Usage(format!(
            "{what} needs about {needed} {unit}, more than this shell allows (`ulimit -{flag}` is {hard}); \
             raise it (`ulimit -{flag} {needed}`) or measure fewer workers"
        ))
    };
    if let (Some((needed, what)), Some(limit)) = (files, limits::open_files()) {
        let needed = needed + FILES_BESIDES_POOLS;
        if !limit.allows(needed) {
            return Err(refuse(needed, &what, limit, "n", "open files"));
        }
        limits::raise_open_files(needed);
    }
    if let (Some((needed, what)), Some(limit)) = (processes, limits::processes()) {
        if !limit.allows(needed) {
            return Err(refuse(needed, &what, limit, "u", "processes and threads"));
        }
        limits::raise_processes(needed);
    }
    Ok(())
}

/// What a job's runs share with the rest of this invocation: the machine
/// checks and the order seed (recorded in env.json), and whether the
/// machine warning was said.
struct Invocation<'a> {
    checks: &'a Checks,
    order_seed: u64,
    /// The machine warning is said once per invocation, before the first
    /// run (not before a refusal).
    warned: &'a mut bool,
}

/// A seed for the order of the rounds when the job file sets none: it
/// differs from run to run, so that no order is favoured across runs, and
/// env.json keeps it, so that a run can be repeated in the same order.
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    let mut state = nanos ^ u64::from(std::process::id()).rotate_left(32);
    // Small enough to write into a job file and read back exactly.
    crate::stats::splitmix64(&mut state) >> 12
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
    // A path starting with '-' would be read as an option.
    if args.jobs.iter().any(|job| job.as_os_str().as_encoded_bytes().starts_with(b"-")) {
        words.push("--".to_owned());
    }
    words.extend(args.jobs.iter().map(|job| shell_word(&job.display().to_string())));
    words.join(" ")
}

fn run_job(
    job: &Job,
    plan: &Plan,
    shard: Option<&ShardInfo>,
    host: &Host,
    invocation: Invocation<'_>,
    args: &RunArgs,
) -> Result<JobEnd, Error> {
    let files = ResultFiles::new(job, args);
    let _lock = lock::ResultsLock::acquire(&args.out, &files.base)?;
    files.refuse_links()?;
    let mode = resume_mode(args);
    let resume_hint = resume_command(args);
    let prior = resume::load(&args.out, &files.base, plan, mode, &resume_hint)?;
    let runs_left = runner::runs_to_do(plan, &prior);
    if !prior.is_empty() && !args.quiet {
        eprintln!(
            "{}: keeping {} already measured; {} to go",
            job.name,
            count(prior.len() as u64, "run", "runs"),
            count(runs_left, "run", "runs")
        );
    }
    if !*invocation.warned {
        *invocation.warned = true;
        if let Some(warning) = invocation.checks.warning_line() {
            eprintln!("{warning}");
        }
    }
    let mut rows = report::csv::RowWriter::create(&files.base, plan, &args.out, &prior)?;
    let continues = matches!(mode, resume::Mode::Resume | resume::Mode::RetryFailed);
    let mut log = report::log::StderrLog::new(&args.out, &files.base, continues);
    let mut progress = report::progress::Progress::new(&job.name, plan, runs_left, args.quiet);
    let outcome = {
        let mut reporters: [&mut dyn Reporter; 3] = [&mut rows, &mut log, &mut progress];
        runner::run(job, plan, host, &prior, invocation.order_seed, &mut reporters)
    };
    progress.finish();
    let saved = |rows: &report::csv::RowWriter| {
        format!(
            "{} saved in {}",
            count(rows.saved() as u64, "run is", "runs are"),
            rows.partial_path().display()
        )
    };
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            // The rows written so far are intact; say where and how to go on.
            eprintln!("error: {error}\n{}; continue with: {resume_hint}", saved(&rows));
            return Err(error.already_reported());
        }
    };
    if outcome.interrupted {
        eprintln!("\n{}: interrupted; {}. Continue with:\n  {resume_hint}", job.name, saved(&rows));
        return Ok(JobEnd::Interrupted);
    }
    let other_load = report::env::OtherLoad::of(&outcome.totals);
    let env = report::env::Env::of(job, host, shard, invocation.order_seed, invocation.checks, &other_load)
        .to_text();
    let (analysis, answers) = match files.put_in_place(job, plan, &mut rows, &env) {
        Ok(done) => done,
        Err(error) => {
            eprintln!(
                "error: {error}\n{} runs are saved in {}; the previous results are left as they were; \
                 continue with: {resume_hint}",
                rows.saved(),
                rows.partial_path().display()
            );
            return Err(error.already_reported());
        }
    };
    rows.close();
    let html = files.html(args);
    if let Some(html) = &html {
        std::fs::write(html, report::shown(&report::html::render(&analysis, &answers)))
            .map_err(Error::output(html))?;
    }
    let failed = outcome.totals.not_ok;
    if !args.quiet {
        print(&results_text(job, plan, &analysis, &answers))?;
        let mut written = files.written();
        for extra in log.path().into_iter().chain(html.as_deref()) {
            written.push_str(&format!(", {}", extra.display()));
        }
        let ending = Ending::of(job, plan, &outcome.totals, &analysis);
        eprintln!("\n{}: {}; wrote {written}", job.name, ending.words());
    } else if failed > 0 {
        eprintln!(
            "{}: {failed} of {} not ok; see {}",
            job.name,
            count(outcome.totals.runs as u64, "run", "runs"),
            files.path(".csv").display()
        );
    }
    Ok(if failed > 0 { JobEnd::SomeFailed } else { JobEnd::AllOk })
}

/// Which runs already on disk a run keeps, as the options say.
fn resume_mode(args: &RunArgs) -> resume::Mode {
    match (args.resume, args.retry_failed, args.fresh) {
        (true, _, _) => resume::Mode::Resume,
        (_, true, _) => resume::Mode::RetryFailed,
        (_, _, true) => resume::Mode::Fresh,
        _ => resume::Mode::New,
    }
}

/// The files a job's run writes in the results folder: `BASE.csv` (a
/// shard's base names its slice), its summary, scaling fits, environment
/// record and log.
struct ResultFiles {
    base: String,
    out: std::path::PathBuf,
}

impl ResultFiles {
    fn new(job: &Job, args: &RunArgs) -> ResultFiles {
        let base = match args.shard {
            Some(shard) => shard.base_name(&job.name),
            None => job.name.clone(),
        };
        ResultFiles { base, out: args.out.clone() }
    }

    fn path(&self, suffix: &str) -> std::path::PathBuf {
        self.out.join(format!("{}{suffix}", self.base))
    }

    fn refuse_links(&self) -> Result<(), Error> {
        let suffixes = [".csv", ".csv.partial", ".summary.csv", ".env.json", ".log", ".invocations.csv"];
        report::csv::refuse_links(&suffixes.map(|suffix| self.path(suffix)))
    }

    /// The CSV, its summary, its scaling fits and env.json replace the
    /// previous set together: all are written in full first, and only then
    /// renamed into place, the CSV last. Until the `.partial` is removed,
    /// after the renames, it marks the set as unfinished, and `--resume`
    /// writes it again.
    fn put_in_place(
        &self,
        job: &Job,
        plan: &Plan,
        rows: &mut report::csv::RowWriter,
        env: &str,
    ) -> Result<(analysis::Analysis, analysis::answers::Answers), Error> {
        let csv = rows.stage()?;
        // The summary and the table come from the file just written,
        // exactly as `parbench report` would compute them from it.
        let mut analysis = analysis_of(&[csv.staged_path().to_path_buf()])?;
        if plan.entries.iter().any(|entry| entry.repetitions == crate::vocab::Repetitions::Auto) {
            analysis.precision_goal = Some(job.precision.target);
        }
        // The intervals also hold the spread between earlier invocations
        // of the same entries on this host, and this one joins the record.
        let record = self.path(".invocations.csv");
        let mut invocations = None;
        if let Some(this) = analysis::invocations::This::of(&analysis, &job.source_hash)
            && let Some(earlier) = super::earlier_invocations(&record)
        {
            analysis::invocations::widen(&mut analysis, &this, &earlier);
            let entries = analysis::invocations::of(&analysis, &this);
            let bytes = analysis::invocations::write(&earlier, &this, &entries);
            invocations = Some(report::csv::Staged::new(&record, &bytes)?);
        }
        let answers = analysis::answers::answers(&analysis, None);
        let summary =
            report::csv::Staged::new(&self.path(".summary.csv"), &report::summary::to_csv(&analysis))?;
        let scaling = report::csv::Staged::new(
            &self.path(".scaling.csv"),
            &report::scaling::to_csv(&answers, &analysis.param_names),
        )?;
        let env = report::csv::Staged::new(&self.path(".env.json"), env.as_bytes())?;
        summary.commit()?;
        scaling.commit()?;
        env.commit()?;
        if let Some(invocations) = invocations {
            invocations.commit()?;
        }
        csv.commit()?;
        Ok((analysis, answers))
    }

    /// The HTML page: FILE of --html, or, where several jobs run, a page
    /// for each beside FILE.
    fn html(&self, args: &RunArgs) -> Option<std::path::PathBuf> {
        let html = args.html.as_ref()?;
        if args.jobs.len() == 1 {
            return Some(html.clone());
        }
        let stem = html.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
        let extension = html.extension().map(|ext| format!(".{}", ext.to_string_lossy())).unwrap_or_default();
        Some(html.with_file_name(format!("{stem}-{}{extension}", self.base)))
    }

    /// The files written, as the closing line lists them.
    fn written(&self) -> String {
        [".csv", ".summary.csv", ".scaling.csv", ".env.json", ".invocations.csv"]
            .map(|suffix| self.path(suffix))
            .iter()
            .filter(|path| path.exists())
            .map(|path| path.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The table, the scaling fits and the notes a run shows when it ends.
fn results_text(
    job: &Job,
    plan: &Plan,
    analysis: &analysis::Analysis,
    answers: &analysis::answers::Answers,
) -> String {
    let mut text = report::table::render(analysis);
    text.push_str(&report::scaling::text(answers, analysis.hosts.len()));
    // The python an `interpreter` name stood for, where it is not the one
    // that name finds on PATH: the active virtual environment's.
    let venv = crate::workload::python::active_virtualenv_python();
    for workload in &job.workloads {
        let crate::jobfile::WorkloadKind::Python { interpreters, .. } = &workload.kind else { continue };
        for interpreter in interpreters.iter().filter(|interpreter| Some(&interpreter.path) == venv.as_ref())
        {
            text.push_str(&format!(
                "\n{}: interpreter={} ran {} ({}), the active virtual environment's python; the CSV's \
                 param_interpreter keeps the job's name for it, env.json the path",
                workload.name,
                interpreter.name,
                interpreter.path.display(),
                interpreter.facts.name()
            ));
        }
    }
    for workload in job.workloads.iter().filter(|workload| !workload.verify) {
        text.push_str(&format!(
            "\nunverified: {} (verify = false): its results were recorded, not compared between runs",
            workload.name
        ));
    }
    for skipped in &plan.skipped {
        text.push_str(&format!("\nskipped: {} × {}: {}", skipped.workload, skipped.what, skipped.reason));
    }
    if !plan.skipped.is_empty() || job.workloads.iter().any(|workload| !workload.verify) {
        text.push('\n');
    }
    text
}

/// What the line a run ends with counts.
struct Ending {
    runs: usize,
    failed: usize,
    /// Entries not judged (busy): other load disturbed too many of their runs.
    not_judged: usize,
    /// Entries whose workers were pinned to CPUs, of `entries`.
    pinned: usize,
    entries: usize,
    /// `pool_start = "untimed"`: the pools' starts were not timed.
    untimed_start: bool,
}

impl Ending {
    fn of(job: &Job, plan: &Plan, totals: &runner::Totals, analysis: &analysis::Analysis) -> Ending {
        Ending {
            runs: totals.runs,
            failed: totals.not_ok,
            not_judged: analysis.entries.iter().filter(|entry| entry.busy.is_some()).count(),
            pinned: pinned_entries(plan, job.pin),
            entries: plan.entries.len(),
            untimed_start: job.pool_start == crate::vocab::PoolStart::Untimed,
        }
    }

    /// `1964 runs ok (workers pinned to cores), 2 entries not judged (busy)`.
    fn words(&self) -> String {
        let runs = count(self.runs as u64, "run", "runs");
        let mut text = match self.failed {
            0 => format!("{runs} ok"),
            failed => format!("{failed} of {runs} not ok"),
        };
        text.push_str(&match (self.pinned, self.entries) {
            (0, _) => " (nothing pinned)".to_owned(),
            (pinned, entries) if pinned == entries => " (workers pinned to cores)".to_owned(),
            (pinned, entries) => format!(" (workers pinned to cores in {pinned} of {entries} entries)"),
        });
        if self.untimed_start {
            text.push_str(", pools' start not timed");
        }
        if self.not_judged > 0 {
            text.push_str(&format!(
                ", {} not judged (busy)",
                count(self.not_judged as u64, "entry", "entries")
            ));
        }
        text
    }
}

/// How many entries of `plan` had their workers pinned under `pin`: one CPU
/// each where `strategy::placement` gives them one; never a Python
/// workload's, whose interpreter places its own threads and processes
/// (`strategy::python` takes no placement).
fn pinned_entries(plan: &Plan, pin: Pin) -> usize {
    plan.entries
        .iter()
        .filter(|entry| !matches!(plan.groups[entry.group].work, crate::workload::Work::Python(_)))
        .filter(|entry| strategy::placement(pin, entry.workers).is_some())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(source: &str) -> Plan {
        let job = crate::jobfile::parse(Path::new("jobs/test.toml"), source).unwrap();
        crate::matrix::expand(&job, 1, Overrides::default())
    }

    #[test]
    fn the_closing_line_counts_entries_not_judged_and_says_pinned_only_where_something_was() {
        let ending = |failed, not_judged, pinned| {
            Ending { runs: 40, failed, not_judged, pinned, entries: 4, untimed_start: false }.words()
        };
        assert_eq!(ending(0, 0, 4), "40 runs ok (workers pinned to cores)");
        assert_eq!(ending(0, 2, 4), "40 runs ok (workers pinned to cores), 2 entries not judged (busy)");
        assert_eq!(ending(3, 1, 0), "3 of 40 runs not ok (nothing pinned), 1 entry not judged (busy)");
        let untimed =
            Ending { runs: 4, failed: 0, not_judged: 0, pinned: 0, entries: 2, untimed_start: true };
        assert_eq!(untimed.words(), "4 runs ok (nothing pinned), pools' start not timed");
        assert_eq!(ending(0, 0, 1), "40 runs ok (workers pinned to cores in 1 of 4 entries)");
        let job = |pin: &str, workload: &str| {
            format!(
                "version = 1\n[list]\ngenerator = \"range\"\nsize = 4\n[run]\nstrategies = [\"serial\"]\n\
                 pin = \"{pin}\"\n[[workload]]\nname = \"w\"\n{workload}\n"
            )
        };
        // Serial of a builtin works in the runner's pinned thread; one of a
        // command in its pinned slot; Python never, and nothing with "none".
        let builtin = "builtin = \"spin\"";
        let command = "command = [\"true\"]";
        assert_eq!(pinned_entries(&plan(&job("cores", builtin)), Pin::Cores), 1);
        assert_eq!(pinned_entries(&plan(&job("cores", command)), Pin::Cores), 1);
        assert_eq!(pinned_entries(&plan(&job("none", builtin)), Pin::None), 0);
        assert_eq!(
            pinned_entries(
                &plan(&job("cores", "python = \"python/prices.py:increase_price_crazy\"")),
                Pin::Cores
            ),
            0
        );
    }
}
