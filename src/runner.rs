//! Runs a plan: every entry, warm-up then measured repetitions, group by
//! group. The runner measures and checks; it never prints. Everything a user
//! sees or a file receives goes through [`Reporter`]s, fed [`Event`]s.

use std::time::{Instant, SystemTime};

use crate::error::Error;
use crate::interference::{self, Counters, Demand, Evidence, Sched};
use crate::jobfile::Job;
use crate::matrix::{Entry, Plan, param_cell};
use crate::results::{RunRow, text_cell};
use crate::vocab::{Pin, Strategy};

mod rounds;
mod tally;

use crate::strategy::{
    Cutoff, Failed, Finish, RunFailure, Session, Spread, cpu_now, execute, own_cpu, placement,
};
use rounds::{Rounds, Step};
pub use tally::{MAX_AUTO_RUNS, Stop, Tally, busy_streak};

pub use crate::vocab::Status;

/// A run an earlier invocation measured, kept: the entry it belongs to and
/// its row as first written (the host and time it was measured at stay
/// what they were).
#[derive(Debug, Clone)]
pub struct KeptRun {
    pub entry: usize,
    pub row: RunRow,
}

/// Where the runs happen, for every row.
#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    pub cpus: usize,
}

impl Host {
    pub fn detect() -> Host {
        Host { name: host_name(), cpus: std::thread::available_parallelism().map_or(1, usize::from) }
    }
}

fn host_name() -> String {
    nix::unistd::gethostname()
        .map_or_else(|_| "unknown".to_owned(), |name| name.to_string_lossy().into_owned())
}

pub enum Event<'a> {
    /// A run of `entry` begins; `repetition` is `None` for warm-up runs.
    RunStarted { entry: &'a Entry, repetition: Option<u32> },
    /// A warm-up run ended (it is not recorded).
    WarmupFinished { entry: &'a Entry },
    /// A measured run ended, with what its commands wrote to stderr.
    RunFinished { entry: &'a Entry, row: &'a RunRow, stderr: &'a [String] },
    /// What a user waiting for a run of `entry` should know now.
    Notice { entry: &'a Entry, text: &'a str },
    /// Every run of `entry` ended; what they came to.
    EntryFinished { entry: &'a Entry, tally: &'a Tally },
}

/// Consumes events: the progress display, the CSV file, the log.
pub trait Reporter {
    fn report(&mut self, event: &Event<'_>) -> Result<(), Error>;
}

/// What a run of the plan came to.
#[derive(Debug)]
pub struct Outcome {
    /// Every measured run, kept ones of an earlier run included, counted.
    pub totals: Totals,
    /// Runs measured now.
    pub measured: usize,
    /// A signal asked parbench to stop before the plan was done.
    pub interrupted: bool,
}

/// What every run of a plan came to, counted as the runs end: the runner
/// keeps no row (the CSV does), so its memory stays flat in the number of
/// runs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    pub runs: usize,
    pub not_ok: usize,
    /// Runs with evidence of other load (a run delay read), and of them
    /// the disturbed ones, the foreign CPU and the steal time over them.
    pub judged: usize,
    pub disturbed: usize,
    pub foreign_cpu_s: f64,
    pub steal_s: f64,
}

impl Totals {
    fn count(&mut self, row: &RunRow) {
        self.runs += 1;
        self.not_ok += usize::from(row.status != Status::Ok);
        if row.run_delay_s.is_some() {
            self.judged += 1;
            self.disturbed += usize::from(row.disturbed == Some(true));
            self.foreign_cpu_s += row.foreign_cpu_s.unwrap_or(0.0);
            self.steal_s += row.steal_s.unwrap_or(0.0);
        }
    }
}

/// Runs each entry of `plan` that `prior` does not already hold, in the
/// order [`rounds`] decides from `order_seed`, on `host`. A reporter's error
/// (a full disk, say) stops the run at once and is returned; what reporters
/// already wrote stays written. A signal stops it between runs, or abandons
/// the run in progress.
pub fn run(
    job: &Job,
    plan: &Plan,
    host: &Host,
    prior: &[KeptRun],
    order_seed: u64,
    reporters: &mut [&mut dyn Reporter],
) -> Result<Outcome, Error> {
    let mut progress = Progress::default();
    for kept in prior {
        progress.totals.count(&kept.row);
    }
    for group in &plan.groups {
        let entries = &plan.entries[group.entries.clone()];
        let mut measurer = Measurer::new(job, group, host);
        let mut runs = GroupRuns::new(job, group, entries, prior, order_seed, &mut measurer);
        if runs.run_all(reporters, &mut progress)? == Flow::Stopped {
            return Ok(progress.outcome(true));
        }
    }
    Ok(progress.outcome(false))
}

/// What the runs measured so far came to.
#[derive(Default)]
struct Progress {
    totals: Totals,
    measured: usize,
}

impl Progress {
    fn outcome(self, interrupted: bool) -> Outcome {
        Outcome { totals: self.totals, measured: self.measured, interrupted }
    }
}

/// Whether a group's runs went on to their end or a signal stopped them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Went,
    Stopped,
}

/// A run as it ended: its row, what its commands wrote to stderr, and a
/// command's answers (to show the first that differs from the reference's).
pub(crate) struct Ran {
    pub row: RunRow,
    pub stderr: Vec<String>,
    pub answers: Option<Vec<String>>,
}

/// Runs an entry once and says what the run came to. [`Measurer`] measures
/// (`measure`); a test's fake answers without processes or a clock, so that
/// the steps around a run can be tested alone.
pub(crate) trait Executor {
    fn run_once(&mut self, entry: &Entry, reporters: &mut [&mut dyn Reporter]) -> Ran;
}

/// The real [`Executor`] of a group: its list (made on the first run: a
/// group with nothing left to run needs none), the session its runs share
/// (a Python workload's harness, a kept pool), and what every run of it is
/// measured under.
struct Measurer<'a> {
    job: &'a Job,
    group: &'a crate::matrix::Group,
    host: &'a Host,
    items: Option<crate::generator::Items>,
    session: Session,
    conditions: RunConditions,
}

impl<'a> Measurer<'a> {
    fn new(job: &'a Job, group: &'a crate::matrix::Group, host: &'a Host) -> Self {
        let conditions =
            RunConditions { pin: job.pin, pool_start: job.pool_start, usable_cpus: Host::detect().cpus };
        Measurer { job, group, host, items: None, session: Session::default(), conditions }
    }
}

impl Executor for Measurer<'_> {
    fn run_once(&mut self, entry: &Entry, reporters: &mut [&mut dyn Reporter]) -> Ran {
        let items = self.items.get_or_insert_with(|| self.job.generator.generate(self.group.list_size));
        let row = planned_row(self.job, entry, self.host);
        measure(row, entry, &self.group.work, items, &mut self.session, reporters, &self.conditions)
    }
}

/// A group's runs, step by step as [`Rounds`] orders them, each checked
/// against the reference every run of the group must reproduce.
struct GroupRuns<'a, 'e> {
    rounds: Rounds<'a>,
    executor: &'e mut dyn Executor,
    /// The group's serial entry, whose result is the reference.
    serial: Option<&'a Entry>,
    reference: Reference,
    verify: bool,
    /// Serial's reference run still to take before anything else runs.
    reference_due: Option<&'a Entry>,
}

impl<'a, 'e> GroupRuns<'a, 'e> {
    fn new(
        job: &Job,
        group: &crate::matrix::Group,
        entries: &'a [Entry],
        prior: &[KeptRun],
        order_seed: u64,
        executor: &'e mut dyn Executor,
    ) -> Self {
        let rounds = Rounds::new(entries, job.order, order_seed, group.index, prior);
        // What every run must reproduce: serial's result where the group
        // has serial (a kept run of an earlier invocation counts), else the
        // first correct result in the group.
        let serial = entries.iter().find(|entry| entry.strategy == Strategy::Serial);
        let kept_reference = |entry: &Entry| {
            prior
                .iter()
                .filter(|kept| kept.entry == entry.index && kept.row.status == Status::Ok)
                .min_by_key(|kept| kept.row.repetition)
                .map(|kept| (kept.row.checksum.clone(), entry.label()))
        };
        let reference = Reference {
            expected: match serial {
                Some(serial) => kept_reference(serial),
                None => entries.iter().find_map(kept_reference),
            },
            ..Reference::default()
        };
        let verify = job.workloads[group.workload].verify;
        let reference_due = serial.filter(|_| verify && reference.expected.is_none());
        GroupRuns { rounds, executor, serial, reference, verify, reference_due }
    }

    fn run_all(
        &mut self,
        reporters: &mut [&mut dyn Reporter],
        progress: &mut Progress,
    ) -> Result<Flow, Error> {
        while let Some(step) = self.rounds.next() {
            if self.take_reference(&step, reporters)? == Flow::Stopped {
                return Ok(Flow::Stopped);
            }
            // The time each step takes, parbench's own work around the run
            // included, counts against its entry's `max_time`.
            let step_started = Instant::now();
            let flow = match step {
                Step::Warmup(entry) => self.warm_up(entry, reporters)?,
                Step::Measure(entry, repetition) => self.measure(entry, repetition, reporters, progress)?,
                Step::Finished(entry) => {
                    emit(reporters, &Event::EntryFinished { entry, tally: self.rounds.tally(entry) })?;
                    continue;
                }
            };
            if flow == Flow::Stopped {
                return Ok(Flow::Stopped);
            }
            self.rounds.spend(step_entry(&step).expect("a run's step"), step_started.elapsed());
        }
        Ok(Flow::Went)
    }

    /// Serial's own first run (a warm-up or a measured one) is the reference
    /// where it comes first, as the first round has it. Where serial's runs
    /// all kept from an earlier invocation failed or were not kept (grouped
    /// order, serial not first), its result is taken before anything else
    /// of the group runs, in a run of its own that is not recorded (shown as
    /// a warm-up).
    fn take_reference(
        &mut self,
        step: &Step<'a>,
        reporters: &mut [&mut dyn Reporter],
    ) -> Result<Flow, Error> {
        let Some(serial) = self.reference_due else { return Ok(Flow::Went) };
        if step_entry(step).is_some_and(|entry| entry.index == serial.index) {
            self.reference_due = None;
        }
        if self.reference_due.is_none() || matches!(step, Step::Finished(_)) {
            return Ok(Flow::Went);
        }
        self.reference_due = None;
        let step_started = Instant::now();
        let Some(ran) = self.run_unrecorded(serial, reporters)? else { return Ok(Flow::Stopped) };
        self.rounds.spend(serial, step_started.elapsed());
        self.reference.adopt(serial, ran);
        Ok(Flow::Went)
    }

    /// A run that is not recorded (a warm-up, or serial's reference run);
    /// `None` where a signal stopped parbench before or during it.
    fn run_unrecorded(
        &mut self,
        entry: &Entry,
        reporters: &mut [&mut dyn Reporter],
    ) -> Result<Option<Ran>, Error> {
        if crate::interrupt::requested() {
            return Ok(None);
        }
        emit(reporters, &Event::RunStarted { entry, repetition: None })?;
        let ran = self.executor.run_once(entry, reporters);
        emit(reporters, &Event::WarmupFinished { entry })?;
        Ok((ran.row.status != Status::Interrupted).then_some(ran))
    }

    fn warm_up(&mut self, entry: &'a Entry, reporters: &mut [&mut dyn Reporter]) -> Result<Flow, Error> {
        let is_serial = Some(entry.index) == self.serial.map(|serial| serial.index);
        let Some(ran) = self.run_unrecorded(entry, reporters)? else {
            // An interrupted warm-up of another entry ends only itself:
            // the next step sees the request.
            return Ok(if is_serial && self.verify && self.reference.undecided() {
                Flow::Stopped
            } else {
                Flow::Went
            });
        };
        if self.verify && self.reference.undecided() && is_serial {
            self.reference.adopt(entry, ran);
        }
        Ok(Flow::Went)
    }

    fn measure(
        &mut self,
        entry: &'a Entry,
        repetition: u32,
        reporters: &mut [&mut dyn Reporter],
        progress: &mut Progress,
    ) -> Result<Flow, Error> {
        if crate::interrupt::requested() {
            return Ok(Flow::Stopped);
        }
        emit(reporters, &Event::RunStarted { entry, repetition: Some(repetition) })?;
        let Ran { mut row, mut stderr, answers } = self.executor.run_once(entry, reporters);
        if row.status == Status::Interrupted {
            return Ok(Flow::Stopped);
        }
        row.repetition = repetition;
        if self.verify {
            let is_serial = self.serial.is_some_and(|serial| serial.index == entry.index);
            self.reference.check(entry, is_serial, &mut row, &mut stderr, answers);
        }
        emit(reporters, &Event::RunFinished { entry, row: &row, stderr: &stderr })?;
        self.rounds.record(entry, &row);
        progress.totals.count(&row);
        progress.measured += 1;
        Ok(Flow::Went)
    }
}

/// What every run of a group must reproduce, and why nothing can be
/// checked where the reference run failed.
#[derive(Default)]
struct Reference {
    /// The reference's checksum and the label of the entry it came from.
    expected: Option<(String, String)>,
    /// A command's answers of the reference run, to show the first that
    /// differs in the log (a builtin's are not kept: they cannot differ).
    answers: Option<Vec<String>>,
    /// Why there is nothing to check against: serial's reference run failed.
    unverifiable: Option<String>,
}

impl Reference {
    /// Neither a reference nor a reason why there is none yet.
    fn undecided(&self) -> bool {
        self.expected.is_none() && self.unverifiable.is_none()
    }

    /// `entry`'s run as the reference: its result where it ran ok, else
    /// the reason nothing can be checked.
    fn adopt(&mut self, entry: &Entry, ran: Ran) {
        match ran.row.status {
            Status::Ok => {
                self.expected = Some((ran.row.checksum, entry.label()));
                self.answers = ran.answers;
            }
            _ => self.unverifiable = Some(format!("{} failed: {}", entry.label(), ran.row.error)),
        }
    }

    /// Checks a measured run of `entry` (`is_serial`: the group's serial):
    /// the first correct one is the reference where there is none yet; a
    /// later one with other results is a mismatch, with the first answer
    /// that differs in `stderr`; without a reference, it is unverified.
    fn check(
        &mut self,
        entry: &Entry,
        is_serial: bool,
        row: &mut RunRow,
        stderr: &mut Vec<String>,
        answers: Option<Vec<String>>,
    ) {
        if is_serial && self.undecided() && row.status != Status::Ok {
            // Serial's first run was to be the reference.
            self.unverifiable = Some(format!("{} failed: {}", entry.label(), row.error));
        }
        if row.status != Status::Ok {
            return;
        }
        match &self.expected {
            None if let Some(why) = &self.unverifiable => {
                row.status = Status::Unverified;
                row.error = format!("results not checked: the reference run of {why}");
            }
            None => {
                self.expected = Some((row.checksum.clone(), entry.label()));
                self.answers = answers;
            }
            Some((expected, from)) if *expected != row.checksum => {
                row.status = Status::Mismatch;
                row.error = format!(
                    "results differ from those of {from} (checksum {} instead of {expected})",
                    row.checksum
                );
                if let (Some(theirs), Some(ours)) = (&self.answers, &answers) {
                    stderr.push(first_difference(from, theirs, ours));
                }
            }
            Some(_) => {}
        }
    }
}

fn step_entry<'a>(step: &Step<'a>) -> Option<&'a Entry> {
    match step {
        Step::Warmup(entry) | Step::Measure(entry, _) => Some(entry),
        Step::Finished(_) => None,
    }
}

/// Runs still to do, warm-ups included, when `prior` is already measured.
pub fn runs_to_do(plan: &Plan, prior: &[KeptRun]) -> u64 {
    plan.entries
        .iter()
        .map(|entry| {
            let done = prior.iter().filter(|kept| kept.entry == entry.index).count() as u64;
            let left = u64::from(entry.expected_repetitions()).saturating_sub(done);
            if left == 0 { 0 } else { left + u64::from(entry.warmup) }
        })
        .sum()
}

fn emit(reporters: &mut [&mut dyn Reporter], event: &Event<'_>) -> Result<(), Error> {
    for reporter in reporters.iter_mut() {
        reporter.report(event)?;
    }
    Ok(())
}

/// `first differing answer: item 3: serial answered "41", this run "57"`.
fn first_difference(from: &str, theirs: &[String], ours: &[String]) -> String {
    let index = theirs.iter().zip(ours).position(|(a, b)| a != b).unwrap_or(theirs.len().min(ours.len()));
    let answer =
        |answers: &[String]| answers.get(index).map_or("nothing".to_owned(), |answer| format!("{answer:?}"));
    format!(
        "first differing answer: item {}: {from} answered {}, this run {}",
        index + 1,
        answer(theirs),
        answer(ours)
    )
}

/// What every run of a group is measured under: where its workers go,
/// whether a pool's start is timed, and the CPUs the runner may use (a
/// run's own workers beyond them wait for a CPU, which is no harm of other
/// load).
struct RunConditions {
    pin: Pin,
    pool_start: crate::vocab::PoolStart,
    usable_cpus: usize,
}

/// The timed window of a run that ended at `finish`, in seconds of wall
/// and CPU time: from the strategy's start (`started`, with the CPU then),
/// or, where the pool's start is not timed, from the moment it was `ready`.
fn timed_window(
    (started, cpu_before): (Instant, std::time::Duration),
    ready: Option<&Finish>,
    finish: &Finish,
) -> (f64, f64) {
    let (from, cpu_from) = ready.map_or((started, cpu_before), |ready| (ready.at, ready.cpu));
    (
        finish.at.saturating_duration_since(from).as_secs_f64(),
        finish.cpu.saturating_sub(cpu_from).as_secs_f64(),
    )
}

/// The row of a run of `entry` as the plan and `host` define it; the run
/// fills in the rest.
pub fn planned_row(job: &Job, entry: &Entry, host: &Host) -> RunRow {
    RunRow {
        job: job.name.clone(),
        workload: entry.workload_name.clone(),
        generator: entry.generator.to_owned(),
        list_size: entry.list_size,
        strategy: entry.strategy,
        workers: entry.workers,
        chunking: entry.chunking(),
        started_at: Some(SystemTime::now()),
        host: host.name.clone(),
        cpus: host.cpus,
        parbench_version: env!("CARGO_PKG_VERSION").to_owned(),
        entry_key: entry.key.clone(),
        params: param_cells(entry),
        ..RunRow::blank()
    }
}

/// The parameter cells of an entry, by name, as its rows hold them.
pub fn param_cells(entry: &Entry) -> std::collections::BTreeMap<String, String> {
    entry
        .params
        .iter()
        .map(|(name, value)| {
            let cell = match value {
                crate::jobfile::ParamValue::Text(text) => text_cell(text),
                number => param_cell(number),
            };
            (name.clone(), cell)
        })
        .collect()
}

/// The clocks and counters read just outside the timed region, on its
/// start side.
struct Before {
    counters: Counters,
    /// This thread's: serial's worker.
    thread: Option<Sched>,
    own_cpu: std::time::Duration,
    cpu: std::time::Duration,
    at: Instant,
}

/// One run, on the one ruler every strategy shares (docs/RESULTS.md): wall
/// time from the strategy's start (pool start included; under
/// `pool_start = "untimed"`, from the moment the pool is ready) to the
/// moment the last result is in the runner's hands; CPU time of the runner
/// and that run's children over exactly that window.
fn measure(
    mut row: RunRow,
    entry: &Entry,
    work: &crate::workload::Work,
    items: &crate::generator::Items,
    session: &mut Session,
    reporters: &mut [&mut dyn Reporter],
    &RunConditions { pin, pool_start, usable_cpus }: &RunConditions,
) -> Ran {
    row.started_at = Some(SystemTime::now());
    // Outside the timed region, as is reading the peaks below.
    crate::strategy::reset_own_peak();
    session.prepare_output(work, items.len());
    session.prepare_pool(entry.strategy, entry.workers, work);
    let cutoff = Cutoff::new(entry.timeout);
    let cpus = placement(pin, entry.workers);
    let spread = Spread {
        strategy: entry.strategy,
        workers: entry.workers,
        chunk_size: entry.chunk_size,
        cwd: entry.cwd(),
        cpus: cpus.as_deref(),
        pool_start,
    };
    // Serial works in this thread: pinned before the clock starts, its
    // earlier mask back once the run is recorded.
    let _serial_pin = crate::strategy::pin_serial(&spread, work);
    // The machine's counters, and this thread's (serial's worker), read
    // just outside the clock on either side.
    let before = Before {
        counters: Counters::now(),
        thread: Sched::this_thread(),
        own_cpu: own_cpu(),
        cpu: cpu_now(),
        at: Instant::now(),
    };
    // A notice is best effort: a reporter that cannot show it stops nothing.
    let mut notice = |text: String| {
        let _ = emit(reporters, &Event::Notice { entry, text: &text });
    };
    let result = execute(spread, work, items, &cutoff, session, &mut notice);
    let thread_after = Sched::this_thread();
    let runner_cpu_s = own_cpu().saturating_sub(before.own_cpu).as_secs_f64();
    // parbench's own CPU over the whole window: the timed run's, and a
    // pool's start and end around it (its workers are reaped by now).
    let own_window_cpu_s = cpu_now().saturating_sub(before.cpu).as_secs_f64();
    let window = before.counters.until(&Counters::now());
    // The processes doing a run's work: the runner itself for serial and
    // threads on a builtin, else its children (a pool, a command's
    // processes, a Python harness and its pool), whose peak memory is the
    // run's `peak_rss_bytes`.
    let runner_works =
        matches!(work, crate::workload::Work::Builtin { .. }) && entry.strategy != Strategy::Processes;
    let (mut ran, seen) = match result {
        Ok(execution) => {
            // Serial on a builtin works in this thread.
            let this_thread = (runner_works && entry.strategy == Strategy::Serial)
                .then(|| thread_after.zip(before.thread).map(|(after, before)| after.since(before)))
                .flatten();
            executed(row, execution, &before, this_thread, runner_works, session)
        }
        Err(Failed { failure, stderr }) => {
            (failed(row, failure, stderr, &before, runner_works), Seen::default())
        }
    };
    // Other load: the wait of the run's workers and of the tasks a strategy
    // reads beside them, less what the run's own other tasks can explain:
    // the CPU time parbench's own tasks other than the workers used (the
    // runner's threads beside serial's or the pool's; a harness's other
    // threads). A command's own threads and children are its work, not
    // parbench's.
    // (The runner only waits while a Python function runs: the harness
    // reads its own threads.)
    let helpers_cpu = seen.helpers.map_or(0.0, |helpers| helpers.cpu.as_secs_f64());
    let helpers_cpu_s = match (seen.workers, work) {
        (Some(workers), _) if runner_works => (runner_cpu_s - workers.cpu.as_secs_f64()).max(0.0),
        (_, crate::workload::Work::Python(_)) => helpers_cpu,
        _ => runner_cpu_s + helpers_cpu,
    };
    let demand = Demand {
        wall_s: ran.row.wall_s,
        workers: if entry.strategy == Strategy::Serial { 1 } else { entry.workers },
        cpus: usable_cpus,
        helpers_cpu_s,
    };
    let tasks = Sched::both(seen.workers, seen.helpers);
    let delay = tasks.map(|tasks| tasks.delay);
    ran.row.ctx_switches = tasks.and_then(|tasks| tasks.switches);
    let own_cpu_s = own_window_cpu_s + seen.harness_cpu_s.unwrap_or(0.0);
    let load = interference::evidence(demand, &window, own_cpu_s.max(ran.row.cpu_s), delay);
    set_load(&mut ran.row, load);
    if ran.row.status == Status::Ok && ran.row.wall_s > 0.0 {
        ran.row.items_per_s = Some(entry.list_size as f64 / ran.row.wall_s);
    }
    ran
}

/// What a run's workers and parbench's tasks beside them did (see
/// `crate::interference`), and a Python harness's CPU over its request.
struct Seen {
    workers: Option<Sched>,
    helpers: Option<Sched>,
    harness_cpu_s: Option<f64>,
}

impl Default for Seen {
    fn default() -> Self {
        Seen { workers: None, helpers: Some(Sched::default()), harness_cpu_s: None }
    }
}

/// The row of a run that ended with its results: its timed window, its
/// checksum, memory and interpreter. `this_thread`: serial's worker's
/// counters, where it worked in the runner's thread.
fn executed(
    mut row: RunRow,
    execution: crate::strategy::Execution,
    before: &Before,
    this_thread: Option<Sched>,
    runner_works: bool,
    session: &mut Session,
) -> (Ran, Seen) {
    (row.wall_s, row.cpu_s) =
        timed_window((before.at, before.cpu), execution.ready.as_ref(), &execution.finish);
    row.setup_s = execution.setup.map(|setup| setup.as_secs_f64());
    let mut harness_cpu_s = None;
    if let Some(timed) = execution.timed {
        row.wall_s = timed.wall_s;
        row.setup_s = timed.setup_s;
        row.cpu_s = timed.cpu_s;
        harness_cpu_s = timed.harness_cpu_s;
    }
    // Under an untimed start, the workers' counters from the moment the
    // pool was ready.
    let finished_workers = match execution.ready.as_ref().map(|ready| ready.workers) {
        Some(ready) => execution.finish.workers.zip(ready).map(|(after, before)| after.since(before)),
        None => execution.finish.workers,
    };
    let seen =
        Seen { workers: finished_workers.or(this_thread), helpers: execution.finish.helpers, harness_cpu_s };
    row.checksum = execution.outputs.checksum();
    row.peak_rss_bytes =
        if runner_works { Some(crate::strategy::own_peak()) } else { execution.children_peak_rss };
    if let Some((python, gil)) = execution.python {
        row.python = python;
        row.python_gil = Some(gil);
    }
    let answers = match execution.outputs {
        crate::strategy::Outputs::Text(lines) => Some(lines),
        numbers => {
            session.recycle(numbers);
            None
        }
    };
    (Ran { row, stderr: execution.stderr, answers }, seen)
}

/// The row of a run that failed, timed out or was interrupted: its time
/// until then, and why.
fn failed(
    mut row: RunRow,
    failure: RunFailure,
    stderr: Vec<String>,
    before: &Before,
    runner_works: bool,
) -> Ran {
    let finish = Finish::now(&[]);
    row.wall_s = finish.at.duration_since(before.at).as_secs_f64();
    row.cpu_s = finish.cpu.saturating_sub(before.cpu).as_secs_f64();
    row.peak_rss_bytes = runner_works.then(crate::strategy::own_peak);
    row.status = match &failure {
        RunFailure::Timeout(..) => Status::Timeout,
        RunFailure::Ended(ended) => {
            (row.exit_code, row.exit_signal) = (ended.code(), ended.signal());
            Status::Failed
        }
        RunFailure::Failed(_) => Status::Failed,
        RunFailure::Interrupted => Status::Interrupted,
    };
    row.error = failure.to_string();
    Ran { row, stderr, answers: None }
}

/// The row's cells for what other load did during the run.
fn set_load(row: &mut RunRow, load: Evidence) {
    row.foreign_cpu_s = load.foreign_cpu_s;
    row.steal_s = load.steal_s;
    row.run_delay_s = load.run_delay_s;
    row.disturbed = Some(load.disturbed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn finish(at: Instant, cpu_ms: u64) -> Finish {
        Finish { at, cpu: Duration::from_millis(cpu_ms), workers: None, helpers: None }
    }

    /// Answers each run from a script instead of running it: no process,
    /// no clock.
    struct Fake<F: FnMut(&Entry, u32) -> (Status, &'static str)> {
        answer: F,
        runs: Vec<u32>,
    }

    impl<F: FnMut(&Entry, u32) -> (Status, &'static str)> Executor for Fake<F> {
        fn run_once(&mut self, entry: &Entry, _: &mut [&mut dyn Reporter]) -> Ran {
            if self.runs.len() <= entry.index {
                self.runs.resize(entry.index + 1, 0);
            }
            self.runs[entry.index] += 1;
            let (status, checksum) = (self.answer)(entry, self.runs[entry.index]);
            let error = if status == Status::Ok { String::new() } else { "it broke".to_owned() };
            let row =
                RunRow { status, checksum: checksum.to_owned(), error, wall_s: 0.01, ..RunRow::blank() };
            Ran { row, stderr: Vec::new(), answers: None }
        }
    }

    /// The events a run emitted, in order: `s` a run started, `w` a warm-up
    /// ended, `m` a measured run ended (with its row), `f` an entry finished.
    #[derive(Default)]
    struct Seen {
        steps: Vec<String>,
        rows: Vec<(usize, RunRow)>,
    }

    impl Reporter for Seen {
        fn report(&mut self, event: &Event<'_>) -> Result<(), Error> {
            match event {
                Event::RunStarted { entry, .. } => self.steps.push(format!("s{}", entry.index)),
                Event::WarmupFinished { entry } => self.steps.push(format!("w{}", entry.index)),
                Event::RunFinished { entry, row, .. } => {
                    self.steps.push(format!("m{}", entry.index));
                    self.rows.push((entry.index, (*row).clone()));
                }
                Event::EntryFinished { entry, .. } => self.steps.push(format!("f{}", entry.index)),
                Event::Notice { .. } => {}
            }
            Ok(())
        }
    }

    fn job(run: &str) -> (Job, Plan) {
        let source = format!(
            "version = 1\n[list]\ngenerator = \"range\"\nsize = 4\n[run]\nstrategies = [\"serial\", \"threads\", \"processes\"]\nworkers = 2\n{run}\n[[workload]]\nname = \"a\"\nbuiltin = \"spin\"\n"
        );
        let job = crate::jobfile::parse(std::path::Path::new("f.toml"), &source).unwrap();
        let plan = crate::matrix::expand(&job, 2, crate::matrix::Overrides::default());
        (job, plan)
    }

    /// Runs the plan's one group on `fake`, kept runs `prior` first.
    fn steps<F: FnMut(&Entry, u32) -> (Status, &'static str)>(
        (job, plan): &(Job, Plan),
        prior: &[KeptRun],
        fake: &mut Fake<F>,
    ) -> (Flow, Seen, Progress) {
        let mut seen = Seen::default();
        let mut progress = Progress::default();
        let group = &plan.groups[0];
        let entries = &plan.entries[group.entries.clone()];
        let flow = GroupRuns::new(job, group, entries, prior, 1, fake)
            .run_all(&mut [&mut seen], &mut progress)
            .unwrap();
        (flow, seen, progress)
    }

    fn statuses(seen: &Seen) -> Vec<(usize, Status)> {
        seen.rows.iter().map(|(entry, row)| (*entry, row.status)).collect()
    }

    #[test]
    fn a_run_whose_results_differ_from_serials_is_a_mismatch_named_after_serial() {
        let plan = job("repetitions = 2\norder = \"grouped\"");
        let mut fake = Fake {
            answer: |entry: &Entry, _| (Status::Ok, if entry.index == 2 { "b" } else { "a" }),
            runs: vec![],
        };
        let (flow, seen, progress) = steps(&plan, &[], &mut fake);
        assert_eq!(flow, Flow::Went);
        assert_eq!(
            statuses(&seen),
            [
                (0, Status::Ok),
                (0, Status::Ok),
                (1, Status::Ok),
                (1, Status::Ok),
                (2, Status::Mismatch),
                (2, Status::Mismatch)
            ]
        );
        let mismatch = &seen.rows[4].1;
        assert!(mismatch.error.starts_with("results differ from those of a · "), "{}", mismatch.error);
        assert!(mismatch.error.contains("serial"), "{}", mismatch.error);
        assert_eq!((progress.measured, progress.totals.runs, progress.totals.not_ok), (6, 6, 2));
        assert_eq!(seen.rows.iter().map(|(_, row)| row.repetition).collect::<Vec<_>>(), [1, 2, 1, 2, 1, 2]);
    }

    #[test]
    fn where_serials_reference_run_fails_nothing_else_is_judged_correct() {
        let plan = job("repetitions = 1\norder = \"grouped\"");
        let mut fake = Fake {
            answer: |entry: &Entry, _| {
                if entry.index == 0 { (Status::Failed, "") } else { (Status::Ok, "a") }
            },
            runs: vec![],
        };
        let (_, seen, _) = steps(&plan, &[], &mut fake);
        assert_eq!(statuses(&seen), [(0, Status::Failed), (1, Status::Unverified), (2, Status::Unverified)]);
        assert!(
            seen.rows[1].1.error.starts_with("results not checked: the reference run of a · "),
            "{}",
            seen.rows[1].1.error
        );
    }

    #[test]
    fn a_kept_serial_run_is_the_reference_and_is_not_run_again() {
        let plan = job("repetitions = 1\norder = \"grouped\"");
        let kept =
            KeptRun { entry: 0, row: RunRow { repetition: 1, checksum: "a".to_owned(), ..RunRow::blank() } };
        let mut fake = Fake { answer: |_: &Entry, _| (Status::Ok, "b"), runs: vec![] };
        let (_, seen, progress) = steps(&plan, &[kept], &mut fake);
        assert_eq!(fake.runs.first().copied().unwrap_or(0), 0, "serial's kept run stands: {:?}", seen.steps);
        assert_eq!(statuses(&seen), [(1, Status::Mismatch), (2, Status::Mismatch)]);
        assert_eq!(progress.measured, 2);
    }

    #[test]
    fn serials_reference_is_taken_first_where_its_kept_runs_failed() {
        // Grouped order with serial's kept run failed: its reference run
        // comes before anything else, shown as a warm-up, not recorded.
        let plan = job("repetitions = 1\norder = \"grouped\"");
        let failed = RunRow { repetition: 1, status: Status::Failed, ..RunRow::blank() };
        let kept = [KeptRun { entry: 0, row: failed }];
        let mut fake = Fake {
            answer: |entry: &Entry, _| (Status::Ok, if entry.index == 1 { "b" } else { "a" }),
            runs: vec![],
        };
        let (_, seen, _) = steps(&plan, &kept, &mut fake);
        assert_eq!(seen.steps[..3], ["f0", "s0", "w0"], "{:?}", seen.steps);
        assert_eq!(statuses(&seen), [(1, Status::Mismatch), (2, Status::Ok)]);
    }

    #[test]
    fn an_interrupted_run_stops_the_group_and_is_not_recorded() {
        let plan = job("repetitions = 3\norder = \"grouped\"");
        let mut fake = Fake {
            answer: |entry: &Entry, run| {
                if entry.index == 1 && run == 2 { (Status::Interrupted, "") } else { (Status::Ok, "a") }
            },
            runs: vec![],
        };
        let (flow, seen, progress) = steps(&plan, &[], &mut fake);
        assert_eq!(flow, Flow::Stopped);
        // Entry 1's first run is its warm-up; its second, interrupted, is
        // the first measured.
        assert_eq!(statuses(&seen), [(0, Status::Ok), (0, Status::Ok), (0, Status::Ok)]);
        assert_eq!(progress.measured, 3);
        assert!(!seen.steps.contains(&"f1".to_owned()), "{:?}", seen.steps);
    }

    #[test]
    fn the_timed_window_starts_at_the_start_or_where_the_pool_was_ready() {
        let started = Instant::now();
        let (ready, end) = (started + Duration::from_millis(5), started + Duration::from_millis(25));
        let cpu_before = Duration::from_millis(100);
        // Timed: from the strategy's start, the pool's start included.
        let (wall, cpu) = timed_window((started, cpu_before), None, &finish(end, 140));
        assert!((wall - 0.025).abs() < 1e-9 && (cpu - 0.040).abs() < 1e-9, "{wall} {cpu}");
        // Untimed: from the moment every worker was ready.
        let (wall, cpu) = timed_window((started, cpu_before), Some(&finish(ready, 110)), &finish(end, 140));
        assert!((wall - 0.020).abs() < 1e-9 && (cpu - 0.030).abs() < 1e-9, "{wall} {cpu}");
    }
}
