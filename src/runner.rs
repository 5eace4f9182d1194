//! Runs a plan: every entry, warm-up then measured repetitions, group by
//! group. The runner measures and checks; it never prints. Everything a user
//! sees or a file receives goes through [`Reporter`]s, fed [`Event`]s.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime};

use crate::error::Error;
use crate::jobfile::Job;
use crate::matrix::{Entry, Plan};
use crate::strategy::{Cutoff, Failed, RunFailure, Spread, execute};
use crate::vocab::Order;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Failed,
    Timeout,
    Mismatch,
    /// Abandoned for a signal; never recorded.
    Interrupted,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Timeout => "timeout",
            Status::Mismatch => "mismatch",
            Status::Interrupted => "interrupted",
        }
    }
}

/// One measured run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub entry: usize,
    /// 1-based.
    pub repetition: u32,
    pub status: Status,
    pub wall_s: f64,
    pub setup_s: f64,
    pub cpu_s: f64,
    /// Empty when the run produced no results.
    pub checksum: String,
    pub error: String,
    pub started_at: SystemTime,
    /// The runner's peak resident memory during the run plus that of the
    /// run's worker processes, in bytes; None in rows of older versions.
    pub peak_rss_bytes: Option<u64>,
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

/// Runs each entry of `plan` that `prior` does not already hold. A
/// reporter's error (a full disk, say) stops the run at once and is returned;
/// what reporters already wrote stays written. A signal stops it between
/// runs, or abandons the run in progress.
pub fn run(
    job: &Job,
    plan: &Plan,
    prior: &[RunRecord],
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
        let steps = schedule(entries, &done, job.order);
        if steps.iter().all(|step| matches!(step, Step::Finished(_))) {
            for entry in entries {
                emit(reporters, &Event::EntryFinished { entry, records: &own(&done, entry) })?;
            }
            continue;
        }
        let items = job.generator.generate(group.list_size);
        // The first correct result in the group (serial's, as serial runs
        // first) is what every other run must reproduce; a kept run of an
        // earlier invocation counts.
        let mut reference: Option<(String, String)> = entries.iter().find_map(|entry| {
            own(&done, entry)
                .into_iter()
                .find(|record| record.status == Status::Ok)
                .map(|record| (record.checksum, entry.label()))
        });
        for step in steps {
            match step {
                Step::Warmup(entry) => {
                    if crate::interrupt::requested() {
                        return stop(done, measured);
                    }
                    emit(reporters, &Event::RunStarted { entry, repetition: None })?;
                    let _ = measure(entry, &group.work, &items);
                    emit(reporters, &Event::WarmupFinished { entry })?;
                }
                Step::Measure(entry, repetition) => {
                    if crate::interrupt::requested() {
                        return stop(done, measured);
                    }
                    emit(reporters, &Event::RunStarted { entry, repetition: Some(repetition) })?;
                    let (mut record, stderr) = measure(entry, &group.work, &items);
                    if record.status == Status::Interrupted {
                        return stop(done, measured);
                    }
                    record.repetition = repetition;
                    if record.status == Status::Ok {
                        match &reference {
                            None => reference = Some((record.checksum.clone(), entry.label())),
                            Some((expected, from)) if *expected != record.checksum => {
                                record.status = Status::Mismatch;
                                record.error = format!(
                                    "results differ from those of {from} (checksum {} instead of {expected})",
                                    record.checksum
                                );
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

/// One thing the runner does, in order.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step<'a> {
    Warmup(&'a Entry),
    Measure(&'a Entry, u32),
    Finished(&'a Entry),
}

/// The steps of one group. `Grouped`: each entry's warm-ups and
/// repetitions back to back. `Interleaved`: every entry's warm-ups, then
/// repetition 1 of every entry, then repetition 2, and so on, so that a
/// machine that slows down or speeds up during the group (thermal limits, a
/// noisy neighbour) biases no strategy over another. Runs already in `done`
/// are left out, and an entry with nothing left to run gets no warm-up.
fn schedule<'a>(
    entries: &'a [Entry],
    done: &BTreeMap<(usize, u32), RunRecord>,
    order: Order,
) -> Vec<Step<'a>> {
    let todo = |entry: &Entry| -> Vec<u32> {
        (1..=entry.repetitions).filter(|repetition| !done.contains_key(&(entry.index, *repetition))).collect()
    };
    let warmups = |entry: &'a Entry| {
        let count = if todo(entry).is_empty() { 0 } else { entry.warmup };
        (0..count).map(move |_| Step::Warmup(entry))
    };
    let mut steps = Vec::new();
    match order {
        Order::Grouped => {
            for entry in entries {
                steps.extend(warmups(entry));
                steps.extend(todo(entry).into_iter().map(|repetition| Step::Measure(entry, repetition)));
                steps.push(Step::Finished(entry));
            }
        }
        Order::Interleaved => {
            for entry in entries {
                steps.extend(warmups(entry));
            }
            let rounds = entries.iter().map(|entry| entry.repetitions).max().unwrap_or(0);
            for repetition in 1..=rounds {
                for entry in entries {
                    if repetition <= entry.repetitions && !done.contains_key(&(entry.index, repetition)) {
                        steps.push(Step::Measure(entry, repetition));
                    }
                }
            }
            steps.extend(entries.iter().map(Step::Finished));
        }
    }
    steps
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
            let left = u64::from(entry.repetitions).saturating_sub(done);
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

/// One run: wall time from the start (pool start included) to the last
/// result, CPU time of the runner and every child it waited for.
fn measure(
    entry: &Entry,
    work: &crate::workload::Work,
    items: &crate::generator::Items,
) -> (RunRecord, Vec<String>) {
    let started_at = SystemTime::now();
    // Outside the timed region, as is reading the peaks below.
    crate::strategy::reset_own_peak();
    let cpu_before = cpu_seconds();
    let cutoff = Cutoff::new(entry.timeout);
    let started = Instant::now();
    let spread = Spread {
        strategy: entry.strategy,
        workers: entry.workers,
        chunk_size: entry.chunk_size,
        cwd: entry.cwd(),
    };
    let result = execute(spread, work, items, &cutoff);
    let ended = Instant::now();
    let cpu_s = (cpu_seconds() - cpu_before).max(0.0);
    let own_peak = crate::strategy::own_peak();
    let mut record = RunRecord {
        entry: entry.index,
        repetition: 0,
        status: Status::Ok,
        wall_s: 0.0,
        setup_s: 0.0,
        cpu_s,
        checksum: String::new(),
        error: String::new(),
        started_at,
        peak_rss_bytes: Some(own_peak),
    };
    match result {
        Ok(execution) => {
            record.wall_s = execution.finished.duration_since(started).as_secs_f64();
            record.setup_s = execution.setup.as_secs_f64();
            record.checksum = execution.outputs.checksum();
            record.peak_rss_bytes = Some(own_peak + execution.children_peak_rss);
            (record, execution.stderr)
        }
        Err(Failed { failure, stderr }) => {
            record.wall_s = ended.duration_since(started).as_secs_f64();
            record.status = match failure {
                RunFailure::Timeout(_) => Status::Timeout,
                RunFailure::Failed(_) => Status::Failed,
                RunFailure::Interrupted => Status::Interrupted,
            };
            record.error = failure.to_string();
            (record, stderr)
        }
    }
}

/// User + system CPU seconds of this process and of its waited-for children.
fn cpu_seconds() -> f64 {
    fn of(who: libc::c_int) -> f64 {
        // SAFETY: getrusage fills the struct we own; on failure we count 0.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(who, &mut usage) } != 0 {
            return 0.0;
        }
        let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
        seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
    of(libc::RUSAGE_SELF) + of(libc::RUSAGE_CHILDREN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::{Overrides, expand};

    fn plan(order: &str) -> Plan {
        let source = format!(
            "version = 1\n[list]\ngenerator = \"range\"\nsize = 3\n[run]\nstrategies = [\"serial\", \"threads\"]\nworkers = 2\nrepetitions = 2\nwarmup = 1\n{order}[[workload]]\nname = \"a\"\nbuiltin = \"spin\"\n"
        );
        let job = crate::jobfile::parse(std::path::Path::new("o.toml"), &source).unwrap();
        expand(&job, 2, Overrides::default())
    }

    fn names(steps: &[Step<'_>]) -> Vec<String> {
        steps
            .iter()
            .map(|step| match step {
                Step::Warmup(entry) => format!("w{}", entry.index),
                Step::Measure(entry, repetition) => format!("m{}.{repetition}", entry.index),
                Step::Finished(entry) => format!("f{}", entry.index),
            })
            .collect()
    }

    #[test]
    fn interleaved_runs_each_repetition_across_the_group() {
        let plan = plan("");
        let steps = schedule(&plan.entries, &BTreeMap::new(), Order::Interleaved);
        assert_eq!(names(&steps), ["w0", "w1", "m0.1", "m1.1", "m0.2", "m1.2", "f0", "f1"]);
    }

    #[test]
    fn grouped_runs_each_entry_back_to_back() {
        let plan = plan("order = \"grouped\"\n");
        let steps = schedule(&plan.entries, &BTreeMap::new(), Order::Grouped);
        assert_eq!(names(&steps), ["w0", "m0.1", "m0.2", "f0", "w1", "m1.1", "m1.2", "f1"]);
    }

    #[test]
    fn done_runs_and_their_warmups_are_skipped() {
        let plan = plan("");
        let record = |entry, repetition| RunRecord {
            entry,
            repetition,
            status: Status::Ok,
            wall_s: 1.0,
            setup_s: 0.0,
            cpu_s: 0.0,
            checksum: String::new(),
            error: String::new(),
            started_at: SystemTime::UNIX_EPOCH,
            peak_rss_bytes: None,
        };
        let done: BTreeMap<(usize, u32), RunRecord> =
            [((0, 1), record(0, 1)), ((0, 2), record(0, 2)), ((1, 1), record(1, 1))].into_iter().collect();
        let steps = schedule(&plan.entries, &done, Order::Interleaved);
        assert_eq!(names(&steps), ["w1", "m1.2", "f0", "f1"]);
    }
}
