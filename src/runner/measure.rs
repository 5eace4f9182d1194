//! One run on the ruler every strategy shares (docs/RESULTS.md): the row
//! the plan defines, the clocks and counters read just outside the timed
//! region, and what the run and other load came to.

use std::time::{Instant, SystemTime};

use super::{Event, Host, Ran, Reporter, Status, emit};
use crate::interference::{self, Counters, Demand, Evidence, Sched};
use crate::jobfile::Job;
use crate::matrix::{Entry, param_cell};
use crate::results::{RunRow, text_cell};
use crate::strategy::{
    Cutoff, Failed, Finish, RunFailure, Session, Spread, cpu_now, execute, own_cpu, placement,
};
use crate::vocab::{Pin, Strategy};

/// What every run of a group is measured under: where its workers go,
/// whether a pool's start is timed, and the CPUs the runner may use (a
/// run's own workers beyond them wait for a CPU, which is no harm of other
/// load).
pub(super) struct RunConditions {
    pub(super) pin: Pin,
    pub(super) pool_start: crate::vocab::PoolStart,
    pub(super) usable_cpus: usize,
}

/// The timed window of a run that ended at `finish`, in seconds of wall
/// and CPU time: from the strategy's start (`started`, with the CPU then),
/// or, where the pool's start is not timed, from the moment it was `ready`.
pub(super) fn timed_window(
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
pub(super) fn measure(
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
    let demand = seen.demand(work, runner_works, runner_cpu_s, ran.row.wall_s, entry, usable_cpus);
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

impl Seen {
    /// What the run asked of the machine and what its own tasks explain
    /// of their wait (see `crate::interference`).
    fn demand(
        &self,
        work: &crate::workload::Work,
        runner_works: bool,
        runner_cpu_s: f64,
        wall_s: f64,
        entry: &Entry,
        usable_cpus: usize,
    ) -> Demand {
        // Other load: the wait of the run's workers and of the tasks a
        // strategy reads beside them, less what the run's own other tasks
        // can explain: the CPU time parbench's own tasks other than the
        // workers used (the runner's threads beside serial's or the pool's;
        // a harness's other threads). A command's own threads and children
        // are its work, not parbench's.
        // (The runner only waits while a Python function runs: the harness
        // reads its own threads.)
        let helpers_cpu = self.helpers.map_or(0.0, |helpers| helpers.cpu.as_secs_f64());
        let python = matches!(work, crate::workload::Work::Python(_));
        let helpers_cpu_s = match self.workers {
            Some(workers) if runner_works => (runner_cpu_s - workers.cpu.as_secs_f64()).max(0.0),
            _ if python => helpers_cpu,
            _ => runner_cpu_s + helpers_cpu,
        };
        Demand {
            wall_s,
            workers: if entry.strategy == Strategy::Serial { 1 } else { entry.workers },
            cpus: usable_cpus,
            helpers_cpu_s,
            workers_cpu_s: self.workers.map_or(0.0, |workers| workers.cpu.as_secs_f64()),
            // Only a Python pool's threads are woken by its workers; a
            // processes pool's fork server works before them, in the start.
            helpers_delay_s: if python {
                self.helpers.map_or(0.0, |helpers| helpers.delay.as_secs_f64())
            } else {
                0.0
            },
        }
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
