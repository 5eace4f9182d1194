//! Runs a plan: every entry, warm-up then measured repetitions, group by
//! group. The runner measures and checks; it never prints. Everything a user
//! sees or a file receives goes through [`Reporter`]s, fed [`Event`]s.

use std::time::{Instant, SystemTime};

use crate::error::Error;
use crate::interference::{self, Counters, Demand, Evidence, Sched};
use crate::jobfile::Job;
use crate::matrix::{Entry, Plan};
use crate::vocab::{Pin, Strategy};

mod rounds;
mod tally;

use crate::strategy::{
    Cutoff, Failed, Finish, RunFailure, Session, Spread, cpu_now, execute, own_cpu, placement,
};
use rounds::{Rounds, Step};
pub use tally::{MAX_AUTO_RUNS, Stop, Tally, busy_streak};

pub use crate::vocab::Status;

/// One measured run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub entry: usize,
    /// 1-based.
    pub repetition: u32,
    pub status: Status,
    pub wall_s: f64,
    /// `None` where the strategy has no moment when every worker can take
    /// work (`argv`: a process per item; Python's pools start their workers
    /// inside `map`); written as an empty cell.
    pub setup_s: Option<f64>,
    pub cpu_s: f64,
    /// Empty when the run produced no results.
    pub checksum: String,
    pub error: String,
    pub started_at: SystemTime,
    /// The runner's peak resident memory during the run plus that of the
    /// run's worker processes, in bytes; None in rows of older versions.
    pub peak_rss_bytes: Option<u64>,
    /// The interpreter of a Python run (`CPython 3.11.7`); empty otherwise.
    pub python: String,
    /// Whether that interpreter's GIL was enabled; `None` for other runs.
    pub python_gil: Option<bool>,
    /// What the machine's counters said of other load during the run;
    /// `None` in rows of older versions.
    pub load: Option<Evidence>,
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
    let mut buffer = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates
    // within it or we take the whole buffer.
    let status = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) };
    if status != 0 {
        return "unknown".to_owned();
    }
    let end = buffer.iter().position(|byte| *byte == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}

pub enum Event<'a> {
    /// A run of `entry` begins; `repetition` is `None` for warm-up runs.
    RunStarted { entry: &'a Entry, repetition: Option<u32> },
    /// A warm-up run ended (it is not recorded).
    WarmupFinished { entry: &'a Entry },
    /// A measured run ended, with what its commands wrote to stderr.
    RunFinished { entry: &'a Entry, record: &'a RunRecord, stderr: &'a [String] },
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
    fn count(&mut self, record: &RunRecord) {
        self.runs += 1;
        self.not_ok += usize::from(record.status != Status::Ok);
        if let Some(load) = record.load.filter(|load| load.run_delay_s.is_some()) {
            self.judged += 1;
            self.disturbed += usize::from(load.disturbed);
            self.foreign_cpu_s += load.foreign_cpu_s.unwrap_or(0.0);
            self.steal_s += load.steal_s.unwrap_or(0.0);
        }
    }
}

/// Runs each entry of `plan` that `prior` does not already hold, in the
/// order [`rounds`] decides from `order_seed`. A reporter's error (a full
/// disk, say) stops the run at once and is returned; what reporters already
/// wrote stays written. A signal stops it between runs, or abandons the run
/// in progress.
pub fn run(
    job: &Job,
    plan: &Plan,
    prior: &[RunRecord],
    order_seed: u64,
    reporters: &mut [&mut dyn Reporter],
) -> Result<Outcome, Error> {
    let mut totals = Totals::default();
    for record in prior {
        totals.count(record);
    }
    let mut measured = 0;
    let stop = |totals: Totals, measured| Ok(Outcome { totals, measured, interrupted: true });
    for group in &plan.groups {
        let entries = &plan.entries[group.entries.clone()];
        let mut rounds = Rounds::new(entries, job.order, order_seed, group.index, prior);
        // Made on the first run: a group with nothing left to run needs no list.
        let mut items = None;
        // Lives as long as the group: a Python workload's harness.
        let mut session = Session::default();
        let conditions =
            RunConditions { pin: job.pin, pool_start: job.pool_start, usable_cpus: Host::detect().cpus };
        // What every run must reproduce: serial's result where the group
        // has serial (a kept run of an earlier invocation counts), else the
        // first correct result in the group.
        let serial = entries.iter().find(|entry| entry.strategy == Strategy::Serial);
        let kept_reference = |entry: &Entry| {
            prior
                .iter()
                .filter(|record| record.entry == entry.index && record.status == Status::Ok)
                .min_by_key(|record| record.repetition)
                .map(|record| (record.checksum.clone(), entry.label()))
        };
        let mut reference = Reference {
            expected: match serial {
                Some(serial) => kept_reference(serial),
                None => entries.iter().find_map(kept_reference),
            },
            ..Reference::default()
        };
        let verify = job.workloads[group.workload].verify;
        let mut reference_due = serial.filter(|_| verify && reference.expected.is_none());
        while let Some(step) = rounds.next() {
            // The time each step takes, parbench's own work around the run
            // included, counts against its entry's `max_time`.
            let step_started = Instant::now();
            // Serial's own first run (a warm-up or a measured one) is the
            // reference where it comes first, as the first round has it.
            if reference_due
                .is_some_and(|serial| step_entry(&step).is_some_and(|entry| entry.index == serial.index))
            {
                reference_due = None;
            }
            if let Some(serial) = reference_due
                && !matches!(step, Step::Finished(_))
            {
                // Serial's runs all kept from an earlier invocation failed
                // or were not kept (grouped order, serial not first): its
                // result is taken before anything else of the group runs, in
                // a run of its own that is not recorded (shown as a warm-up).
                reference_due = None;
                if crate::interrupt::requested() {
                    return stop(totals, measured);
                }
                let items = items.get_or_insert_with(|| job.generator.generate(group.list_size));
                emit(reporters, &Event::RunStarted { entry: serial, repetition: None })?;
                let (record, _, answers) =
                    measure(serial, &group.work, items, &mut session, reporters, &conditions);
                emit(reporters, &Event::WarmupFinished { entry: serial })?;
                rounds.spend(serial, step_started.elapsed());
                if record.status == Status::Interrupted {
                    return stop(totals, measured);
                }
                reference.adopt(serial, record, answers);
            }
            let step_started = Instant::now();
            match step {
                Step::Warmup(entry) => {
                    if crate::interrupt::requested() {
                        return stop(totals, measured);
                    }
                    let items = items.get_or_insert_with(|| job.generator.generate(group.list_size));
                    emit(reporters, &Event::RunStarted { entry, repetition: None })?;
                    let (record, _, answers) =
                        measure(entry, &group.work, items, &mut session, reporters, &conditions);
                    emit(reporters, &Event::WarmupFinished { entry })?;
                    rounds.spend(entry, step_started.elapsed());
                    if verify && reference.undecided() && Some(entry.index) == serial.map(|s| s.index) {
                        if record.status == Status::Interrupted {
                            return stop(totals, measured);
                        }
                        reference.adopt(entry, record, answers);
                    }
                }
                Step::Measure(entry, repetition) => {
                    if crate::interrupt::requested() {
                        return stop(totals, measured);
                    }
                    let items = items.get_or_insert_with(|| job.generator.generate(group.list_size));
                    emit(reporters, &Event::RunStarted { entry, repetition: Some(repetition) })?;
                    let (mut record, mut stderr, answers) =
                        measure(entry, &group.work, items, &mut session, reporters, &conditions);
                    if record.status == Status::Interrupted {
                        return stop(totals, measured);
                    }
                    record.repetition = repetition;
                    if verify {
                        let is_serial = serial.is_some_and(|serial| serial.index == entry.index);
                        reference.check(entry, is_serial, &mut record, &mut stderr, answers);
                    }
                    emit(reporters, &Event::RunFinished { entry, record: &record, stderr: &stderr })?;
                    rounds.record(entry, &record);
                    rounds.spend(entry, step_started.elapsed());
                    totals.count(&record);
                    measured += 1;
                }
                Step::Finished(entry) => {
                    emit(reporters, &Event::EntryFinished { entry, tally: rounds.tally(entry) })?;
                }
            }
        }
    }
    Ok(Outcome { totals, measured, interrupted: false })
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
    fn adopt(&mut self, entry: &Entry, record: RunRecord, answers: Option<Vec<String>>) {
        match record.status {
            Status::Ok => {
                self.expected = Some((record.checksum, entry.label()));
                self.answers = answers;
            }
            _ => self.unverifiable = Some(format!("{} failed: {}", entry.label(), record.error)),
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
        record: &mut RunRecord,
        stderr: &mut Vec<String>,
        answers: Option<Vec<String>>,
    ) {
        if is_serial && self.undecided() && record.status != Status::Ok {
            // Serial's first run was to be the reference.
            self.unverifiable = Some(format!("{} failed: {}", entry.label(), record.error));
        }
        if record.status != Status::Ok {
            return;
        }
        match &self.expected {
            None if let Some(why) = &self.unverifiable => {
                record.status = Status::Unverified;
                record.error = format!("results not checked: the reference run of {why}");
            }
            None => {
                self.expected = Some((record.checksum.clone(), entry.label()));
                self.answers = answers;
            }
            Some((expected, from)) if *expected != record.checksum => {
                record.status = Status::Mismatch;
                record.error = format!(
                    "results differ from those of {from} (checksum {} instead of {expected})",
                    record.checksum
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
pub fn runs_to_do(plan: &Plan, prior: &[RunRecord]) -> u64 {
    plan.entries
        .iter()
        .map(|entry| {
            let done = prior.iter().filter(|record| record.entry == entry.index).count() as u64;
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

/// One run, on the one ruler every strategy shares (docs/RESULTS.md): wall
/// time from the strategy's start (pool start included; under
/// `pool_start = "untimed"`, from the moment the pool is ready) to the
/// moment the last result is in the runner's hands; CPU time of the runner
/// and that run's children over exactly that window.
fn measure(
    entry: &Entry,
    work: &crate::workload::Work,
    items: &crate::generator::Items,
    session: &mut Session,
    reporters: &mut [&mut dyn Reporter],
    &RunConditions { pin, pool_start, usable_cpus }: &RunConditions,
) -> (RunRecord, Vec<String>, Option<Vec<String>>) {
    let started_at = SystemTime::now();
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
    let counters_before = Counters::now();
    let thread_before = Sched::this_thread();
    let own_before = own_cpu();
    let cpu_before = cpu_now();
    let started = Instant::now();
    // A notice is best effort: a reporter that cannot show it stops nothing.
    let mut notice = |text: String| {
        let _ = emit(reporters, &Event::Notice { entry, text: &text });
    };
    let result = execute(spread, work, items, &cutoff, session, &mut notice);
    let thread_after = Sched::this_thread();
    let runner_cpu_s = own_cpu().saturating_sub(own_before).as_secs_f64();
    // parbench's own CPU over the whole window: the timed run's, and a
    // pool's start and end around it (its workers are reaped by now).
    let own_window_cpu_s = cpu_now().saturating_sub(cpu_before).as_secs_f64();
    let window = counters_before.until(&Counters::now());
    let mut record = RunRecord {
        entry: entry.index,
        repetition: 0,
        status: Status::Ok,
        wall_s: 0.0,
        setup_s: None,
        cpu_s: 0.0,
        checksum: String::new(),
        error: String::new(),
        started_at,
        peak_rss_bytes: None,
        python: String::new(),
        python_gil: None,
        load: None,
    };
    let seconds_since = |finish: Finish| {
        (finish.at.duration_since(started).as_secs_f64(), finish.cpu.saturating_sub(cpu_before).as_secs_f64())
    };
    // The processes doing a run's work: the runner itself for serial and
    // threads on a builtin, else its children (a pool, a command's
    // processes, a Python harness and its pool), whose peak memory is the
    // run's `peak_rss_bytes`.
    let runner_works =
        matches!(work, crate::workload::Work::Builtin { .. }) && entry.strategy != Strategy::Processes;
    // What the run's workers and parbench's tasks beside them did (see
    // `crate::interference`), and a Python harness's CPU over its request.
    let (mut workers, mut helpers, mut harness_cpu_s) = (None, Some(Sched::default()), None);
    let (mut record, stderr, answers) = match result {
        Ok(execution) => {
            (record.wall_s, record.cpu_s) =
                timed_window((started, cpu_before), execution.ready.as_ref(), &execution.finish);
            record.setup_s = execution.setup.map(|setup| setup.as_secs_f64());
            if let Some(timed) = execution.timed {
                record.wall_s = timed.wall_s;
                record.setup_s = timed.setup_s;
                record.cpu_s = timed.cpu_s;
                harness_cpu_s = timed.harness_cpu_s;
            }
            helpers = execution.finish.helpers;
            // Under an untimed start, the workers' counters from the moment
            // the pool was ready.
            let finished_workers = match execution.ready.as_ref().map(|ready| ready.workers) {
                Some(ready) => execution.finish.workers.zip(ready).map(|(after, before)| after.since(before)),
                None => execution.finish.workers,
            };
            workers = match finished_workers {
                // Serial on a builtin works in this thread.
                None if runner_works && entry.strategy == Strategy::Serial => {
                    thread_after.zip(thread_before).map(|(after, before)| after.since(before))
                }
                counters => counters,
            };
            record.checksum = execution.outputs.checksum();
            record.peak_rss_bytes =
                if runner_works { Some(crate::strategy::own_peak()) } else { execution.children_peak_rss };
            if let Some((python, gil)) = execution.python {
                record.python = python;
                record.python_gil = Some(gil);
            }
            let answers = match execution.outputs {
                crate::strategy::Outputs::Text(lines) => Some(lines),
                numbers => {
                    session.recycle(numbers);
                    None
                }
            };
            (record, execution.stderr, answers)
        }
        Err(Failed { failure, stderr }) => {
            (record.wall_s, record.cpu_s) = seconds_since(Finish::now(&[]));
            record.peak_rss_bytes = runner_works.then(crate::strategy::own_peak);
            record.status = match failure {
                RunFailure::Timeout(..) => Status::Timeout,
                RunFailure::Failed(_) => Status::Failed,
                RunFailure::Interrupted => Status::Interrupted,
            };
            record.error = failure.to_string();
            (record, stderr, None)
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
    let helpers_cpu = helpers.map_or(0.0, |helpers| helpers.cpu.as_secs_f64());
    let helpers_cpu_s = match (workers, work) {
        (Some(workers), _) if runner_works => (runner_cpu_s - workers.cpu.as_secs_f64()).max(0.0),
        (_, crate::workload::Work::Python(_)) => helpers_cpu,
        _ => runner_cpu_s + helpers_cpu,
    };
    let demand = Demand {
        wall_s: record.wall_s,
        workers: if entry.strategy == Strategy::Serial { 1 } else { entry.workers },
        cpus: usable_cpus,
        helpers_cpu_s,
    };
    let delay = Sched::both(workers, helpers).map(|tasks| tasks.delay);
    let own_cpu_s = own_window_cpu_s + harness_cpu_s.unwrap_or(0.0);
    record.load = Some(interference::evidence(demand, &window, own_cpu_s.max(record.cpu_s), delay));
    (record, stderr, answers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn finish(at: Instant, cpu_ms: u64) -> Finish {
        Finish { at, cpu: Duration::from_millis(cpu_ms), workers: None, helpers: None }
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
