//! Runs a plan: every entry, warm-up then measured repetitions, group by
//! group. The runner measures and checks; it never prints. Everything a user
//! sees or a file receives goes through [`Reporter`]s, fed [`Event`]s.

use std::time::Instant;

use crate::error::Error;
use crate::jobfile::Job;
use crate::matrix::{Entry, Plan};
use crate::results::RunRow;
use crate::vocab::Strategy;

mod blocks;
mod measure;
mod rounds;
mod tally;

use crate::strategy::Session;
use blocks::Blocks;
use measure::{RunConditions, measure};
pub use measure::{param_cells, planned_row};
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

    /// The runs from now on go to fresh processes (see [`Blocks`]).
    fn new_processes(&mut self) {}
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

    fn new_processes(&mut self) {
        self.session.new_processes();
        // A list made anew lands elsewhere in memory.
        self.items = None;
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
    blocks: Blocks,
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
        let group_entries = |kept: &&KeptRun| entries.iter().any(|entry| entry.index == kept.entry);
        let kept_blocks = prior.iter().filter(group_entries).map(|kept| kept.row.block()).max().unwrap_or(0);
        let blocks = Blocks::new(entries, job.order, kept_blocks);
        GroupRuns { rounds, executor, serial, reference, verify, reference_due, blocks }
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
        let started = Instant::now();
        let ran = self.executor.run_once(entry, reporters);
        self.blocks.ran(entry, started.elapsed(), ran.row.wall_s);
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
        let placement = self.blocks.place(entry, repetition);
        if placement.new_processes {
            let renewing = Instant::now();
            self.executor.new_processes();
            self.blocks.renewed(renewing.elapsed());
        }
        if self.blocks.warm_again(entry) {
            for _ in 0..Blocks::warmups_again(entry) {
                if self.run_unrecorded(entry, reporters)?.is_none() {
                    return Ok(Flow::Stopped);
                }
            }
        }
        emit(reporters, &Event::RunStarted { entry, repetition: Some(repetition) })?;
        let started = Instant::now();
        let Ran { mut row, mut stderr, answers } = self.executor.run_once(entry, reporters);
        self.blocks.ran(entry, started.elapsed(), row.wall_s);
        if row.status == Status::Interrupted {
            return Ok(Flow::Stopped);
        }
        row.repetition = repetition;
        row.process = Some(placement.block);
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

#[cfg(test)]
mod tests;
