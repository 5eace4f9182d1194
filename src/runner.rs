//! Runs a plan: every entry, warm-up then measured repetitions, group by
//! group. The runner measures and checks; it never prints. Everything a user
//! sees or a file receives goes through [`Reporter`]s, fed [`Event`]s.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};

use crate::error::Error;
use crate::interference::{Counters, Evidence, Judge};
use crate::jobfile::Job;
use crate::matrix::{Entry, Plan};
use crate::vocab::{Pin, Strategy};

mod rounds;

use crate::strategy::{Cutoff, Failed, Finish, RunFailure, Session, Spread, cpu_now, execute, placement};
use rounds::{Rounds, Step};
pub use rounds::{Stop, auto_stop};

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
    /// Every run of `entry` ended.
    EntryFinished { entry: &'a Entry, records: &'a [RunRecord] },
}

/// Consumes events: the progress display, the CSV file, the log.
pub trait Reporter {
    fn report(&mut self, event: &Event<'_>) -> Result<(), Error>;
}

/// What a run of the plan came to.
#[derive(Debug)]
pub struct Outcome {
    /// Every measured run, kept ones of an earlier run included, in plan order.
    pub records: Vec<RunRecord>,
    /// Runs measured now.
    pub measured: usize,
    /// A signal asked parbench to stop before the plan was done.
    pub interrupted: bool,
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
    let mut done: BTreeMap<(usize, u32), RunRecord> =
        prior.iter().map(|record| ((record.entry, record.repetition), record.clone())).collect();
    let mut measured = 0;
    let stop = |done: BTreeMap<(usize, u32), RunRecord>, measured| {
        Ok(Outcome { records: done.into_values().collect(), measured, interrupted: true })
    };
    for group in &plan.groups {
        let entries = &plan.entries[group.entries.clone()];
        let mut rounds = Rounds::new(entries, job.order, order_seed, group.index);
        // Made on the first run: a group with nothing left to run needs no list.
        let mut items = None;
        // Lives as long as the group: a Python workload's harness.
        let mut session = Session::default();
        // Which runs other load disturbed: judged run by run, each with the
        // runs measured just before it (warm-ups too).
        let mut judge = Judge::new(Host::detect().cpus);
        // What every run must reproduce: serial's result where the group
        // has serial (a kept run of an earlier invocation counts), else the
        // first correct result in the group.
        let serial = entries.iter().find(|entry| entry.strategy == Strategy::Serial);
        let kept_reference = |entry: &Entry| {
            own(&done, entry)
                .into_iter()
                .find(|record| record.status == Status::Ok)
                .map(|record| (record.checksum, entry.label()))
        };
        let mut reference: Option<(String, String)> = match serial {
            Some(serial) => kept_reference(serial),
            None => entries.iter().find_map(kept_reference),
        };
        // A command's answers of the reference run, to show the first that
        // differs in the log (a builtin's are not kept: they cannot differ).
        let mut reference_answers: Option<Vec<String>> = None;
        // Why there is nothing to check against: serial's reference run failed.
        let mut unverifiable: Option<String> = None;
        let verify = job.workloads[group.workload].verify;
        let mut reference_due = serial.filter(|_| verify && reference.is_none());
        while let Some(step) = rounds.next(&done) {
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
                    return stop(done, measured);
                }
                let items = items.get_or_insert_with(|| job.generator.generate(group.list_size));
                emit(reporters, &Event::RunStarted { entry: serial, repetition: None })?;
                let (record, _, answers) =
                    measure(serial, &group.work, items, &mut session, reporters, job.pin, &mut judge);
                emit(reporters, &Event::WarmupFinished { entry: serial })?;
                match record.status {
                    Status::Ok => {
                        reference = Some((record.checksum, serial.label()));
                        reference_answers = answers;
                    }
                    Status::Interrupted => return stop(done, measured),
                    _ => unverifiable = Some(format!("{} failed: {}", serial.label(), record.error)),
                }
            }
            match step {
                Step::Warmup(entry) => {
                    if crate::interrupt::requested() {
                        return stop(done, measured);
                    }
                    let items = items.get_or_insert_with(|| job.generator.generate(group.list_size));
                    emit(reporters, &Event::RunStarted { entry, repetition: None })?;
                    let (record, _, answers) =
                        measure(entry, &group.work, items, &mut session, reporters, job.pin, &mut judge);
                    emit(reporters, &Event::WarmupFinished { entry })?;
                    if verify
                        && reference.is_none()
                        && unverifiable.is_none()
                        && Some(entry.index) == serial.map(|s| s.index)
                    {
                        match record.status {
                            Status::Ok => {
                                reference = Some((record.checksum, entry.label()));
                                reference_answers = answers;
                            }
                            Status::Interrupted => return stop(done, measured),
                            _ => unverifiable = Some(format!("{} failed: {}", entry.label(), record.error)),
                        }
                    }
                }
                Step::Measure(entry, repetition) => {
                    if crate::interrupt::requested() {
                        return stop(done, measured);
                    }
                    let items = items.get_or_insert_with(|| job.generator.generate(group.list_size));
                    emit(reporters, &Event::RunStarted { entry, repetition: Some(repetition) })?;
                    let (mut record, mut stderr, answers) =
                        measure(entry, &group.work, items, &mut session, reporters, job.pin, &mut judge);
                    if record.status == Status::Interrupted {
                        return stop(done, measured);
                    }
                    record.repetition = repetition;
                    let is_serial = serial.is_some_and(|serial| serial.index == entry.index);
                    if verify
                        && is_serial
                        && reference.is_none()
                        && unverifiable.is_none()
                        && record.status != Status::Ok
                    {
                        // Serial's first run was to be the reference.
                        unverifiable = Some(format!("{} failed: {}", entry.label(), record.error));
                    }
                    if record.status == Status::Ok && verify {
                        match &reference {
                            None if let Some(why) = &unverifiable => {
                                record.status = Status::Unverified;
                                record.error = format!("results not checked: the reference run of {why}");
                            }
                            None => {
                                reference = Some((record.checksum.clone(), entry.label()));
                                reference_answers = answers;
                            }
                            Some((expected, from)) if *expected != record.checksum => {
                                record.status = Status::Mismatch;
                                record.error = format!(
                                    "results differ from those of {from} (checksum {} instead of {expected})",
                                    record.checksum
                                );
                                if let (Some(theirs), Some(ours)) = (&reference_answers, &answers) {
                                    stderr.push(first_difference(from, theirs, ours));
                                }
                            }
                            Some(_) => {}
                        }
                    }
                    emit(reporters, &Event::RunFinished { entry, record: &record, stderr: &stderr })?;
                    done.insert((entry.index, repetition), record);
                    measured += 1;
                }
                Step::Finished(entry) => {
                    emit(reporters, &Event::EntryFinished { entry, records: &own(&done, entry) })?;
                }
            }
        }
    }
    Ok(Outcome { records: done.into_values().collect(), measured, interrupted: false })
}

fn step_entry<'a>(step: &Step<'a>) -> Option<&'a Entry> {
    match step {
        Step::Warmup(entry) | Step::Measure(entry, _) => Some(entry),
        Step::Finished(_) => None,
    }
}

fn own(done: &BTreeMap<(usize, u32), RunRecord>, entry: &Entry) -> Vec<RunRecord> {
    done.range((entry.index, 0)..=(entry.index, u32::MAX)).map(|(_, record)| record.clone()).collect()
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

/// One run, on the one ruler every strategy shares (docs/RESULTS.md): wall
/// time from the strategy's start (pool start included) to the moment the
/// last result is in the runner's hands; CPU time of the runner and that
/// run's children over exactly that window.
fn measure(
    entry: &Entry,
    work: &crate::workload::Work,
    items: &crate::generator::Items,
    session: &mut Session,
    reporters: &mut [&mut dyn Reporter],
    pin: Pin,
    judge: &mut Judge,
) -> (RunRecord, Vec<String>, Option<Vec<String>>) {
    let started_at = SystemTime::now();
    // Outside the timed region, as is reading the peaks below.
    crate::strategy::reset_own_peak();
    session.prepare_output(work, items.len());
    let cutoff = Cutoff::new(entry.timeout);
    let cpus = placement(pin, entry.workers);
    let spread = Spread {
        strategy: entry.strategy,
        workers: entry.workers,
        chunk_size: entry.chunk_size,
        cwd: entry.cwd(),
        cpus: cpus.as_deref(),
    };
    // Serial works in this thread: pinned before the clock starts, its
    // earlier mask back once the run is recorded.
    let _serial_pin = crate::strategy::pin_serial(&spread, work);
    // The machine's counters, read just outside the clock on either side.
    let counters_before = Counters::now();
    let window_start = Instant::now();
    let cpu_before = cpu_now();
    let started = Instant::now();
    // A notice is best effort: a reporter that cannot show it stops nothing.
    let mut notice = |text: String| {
        let _ = emit(reporters, &Event::Notice { entry, text: &text });
    };
    let result = execute(spread, work, items, &cutoff, session, &mut notice);
    // parbench's own CPU over the whole window: the timed run's, and a
    // pool's start and end around it (its workers are reaped by now).
    let own_window_cpu_s = cpu_now().saturating_sub(cpu_before).as_secs_f64();
    let window_s = window_start.elapsed().as_secs_f64();
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
    let (mut record, stderr, answers) = match result {
        Ok(execution) => {
            (record.wall_s, record.cpu_s) = seconds_since(execution.finish);
            record.setup_s = execution.setup.map(|setup| setup.as_secs_f64());
            if let Some(timed) = execution.timed {
                record.wall_s = timed.wall_s;
                record.setup_s = timed.setup_s;
                record.cpu_s = timed.cpu_s;
            }
            record.checksum = execution.outputs.checksum();
            let own_peak = crate::strategy::own_peak();
            record.peak_rss_bytes = execution.children_peak_rss.map(|children| own_peak + children);
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
            record.peak_rss_bytes = Some(crate::strategy::own_peak());
            record.status = match failure {
                RunFailure::Timeout(..) => Status::Timeout,
                RunFailure::Failed(_) => Status::Failed,
                RunFailure::Interrupted => Status::Interrupted,
            };
            record.error = failure.to_string();
            (record, stderr, None)
        }
    };
    // A pool of processes (its fork server, its workers starting) or a
    // Python harness can make tasks of parbench's own wait for a CPU: only
    // the runner's own threads let a wait be read as other load.
    let threads_only =
        matches!(work, crate::workload::Work::Builtin { .. }) && entry.strategy != Strategy::Processes;
    let demand = judge.demand(window_s, record.cpu_s.max(own_window_cpu_s), entry.workers, threads_only);
    record.load = Some(judge.evidence(demand, &window));
    (record, stderr, answers)
}
