//! Other load on the machine during a run, and whether it harmed the run.
//!
//! The judgement rests on what the run's own workers suffered: the kernel
//! keeps, for every task, the time it was runnable but waited for a CPU
//! (`run_delay`, the second field of `/proc/PID/task/TID/schedstat`,
//! readable without privileges where the kernel has `CONFIG_SCHED_INFO`).
//! A run's *delay* is that time summed over the tasks that did its work:
//! serial's thread over the timed region; a pool's threads, or its
//! processes' main threads, over their lives; an argv item's process's
//! main thread; a Python function's interpreter thread, pool threads or
//! pool processes, and the interpreter's other threads beside a pool. Each
//! strategy reads them as they end (see `strategy::Finish::workers`):
//! after the clock stops, but for an argv item's process, read between two
//! items of a slot as its reap is.
//!
//! Some of that wait is the run's own doing, never harm from others: more
//! workers than usable CPUs wait for each other, and parbench's own tasks
//! beside the workers (a pool's dispatch threads, a Python pool's manager
//! thread, the runner's slot threads) can take a worker's CPU for as long
//! as they run, as the workers can take theirs. [`judge`] takes these off
//! ([`Demand::own_delay_s`]) and marks the run disturbed when
//! what is left passes [`TOLERANCE`] of the CPU time the run needed and
//! [`DELAY_FLOOR_S`]. The rule and its measured rates are in
//! `docs/RESULTS.md` ("Other load").
//!
//! The VM's steal time (`/proc/stat`), which no task's wait shows, marks a
//! run too ([`stolen`]). The foreign CPU time (the machine's busy time over
//! the window less parbench's own) stays in the row as context.

use std::path::Path;
use std::time::Duration;

/// The machine's counters at one moment; a counter that could not be read
/// is `None` and its evidence is missing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counters {
    busy_ticks: Option<u64>,
    steal_ticks: Option<u64>,
}

impl Counters {
    /// Reads this machine's counters.
    pub fn now() -> Counters {
        Counters::read(Path::new("/"))
    }

    /// Reads the counters of the machine whose root is `root` (`/` but in
    /// tests).
    pub fn read(root: &Path) -> Counters {
        let stat = std::fs::read_to_string(root.join("proc/stat")).ok();
        let (busy_ticks, steal_ticks) = stat.as_deref().and_then(parse_stat).unzip();
        Counters { busy_ticks, steal_ticks }
    }

    /// What the machine did between `self` (before) and `after`.
    pub fn until(&self, after: &Counters) -> Window {
        let ticks = |before: Option<u64>, after: Option<u64>| {
            Some(after?.checked_sub(before?)? as f64 / ticks_per_second())
        };
        Window {
            busy_s: ticks(self.busy_ticks, after.busy_ticks),
            steal_s: ticks(self.steal_ticks, after.steal_ticks),
        }
    }
}

/// The machine's counters over one run's window, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    /// CPU time the whole machine was busy, every CPU added up.
    pub busy_s: Option<f64>,
    pub steal_s: Option<f64>,
}

impl Window {
    /// CPU time the rest of the machine used: its busy time less the run's
    /// own, never below zero (the busy time is counted in ticks, the run's
    /// in nanoseconds, so a quiet window can come out a tick short).
    pub fn foreign_cpu_s(&self, own_cpu_s: f64) -> Option<f64> {
        self.busy_s.map(|busy| (busy - own_cpu_s).max(0.0))
    }
}

/// The fields of `/proc/stat`'s aggregate `cpu` line: busy ticks (user,
/// nice, system, irq, softirq; guest time is inside user already) and
/// steal ticks.
fn parse_stat(text: &str) -> Option<(u64, u64)> {
    let line = text.lines().next()?;
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let values: Vec<u64> = fields.map(|field| field.parse().ok()).collect::<Option<_>>()?;
    let at = |index: usize| values.get(index).copied().unwrap_or(0);
    if values.len() < 4 {
        return None;
    }
    let (user, nice, system, irq, softirq, steal) = (at(0), at(1), at(2), at(5), at(6), at(7));
    Some((user + nice + system + irq + softirq, steal))
}

fn ticks_per_second() -> f64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(ticks)) if ticks > 0 => ticks as f64,
        _ => 100.0,
    }
}

/// One task's scheduler counters: the CPU time it ran, the time it was
/// runnable but waited for a CPU, and the times the scheduler took the CPU
/// from it before it was done (involuntary context switches; `None` where
/// they were not read, as a Python harness does not read them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sched {
    pub cpu: Duration,
    pub delay: Duration,
    pub switches: Option<u64>,
}

impl Default for Sched {
    /// Nothing yet: the start of a sum.
    fn default() -> Self {
        Sched { cpu: Duration::ZERO, delay: Duration::ZERO, switches: Some(0) }
    }
}

impl std::ops::Add for Sched {
    type Output = Sched;
    fn add(self, other: Sched) -> Sched {
        Sched {
            cpu: self.cpu + other.cpu,
            delay: self.delay + other.delay,
            switches: self.switches.zip(other.switches).map(|(one, other)| one + other),
        }
    }
}

impl Sched {
    /// The counters a task's own reading gave (a Python harness reads its
    /// threads' and says them).
    pub fn from_times(cpu: Duration, delay: Duration) -> Sched {
        Sched { cpu, delay, switches: None }
    }

    /// What happened between `before` and `self`, each counter never below zero.
    pub fn since(self, before: Sched) -> Sched {
        Sched {
            cpu: self.cpu.saturating_sub(before.cpu),
            delay: self.delay.saturating_sub(before.delay),
            switches: self.switches.zip(before.switches).map(|(after, before)| after.saturating_sub(before)),
        }
    }

    /// The counters of a `schedstat` file's text: "CPU_NS DELAY_NS SLICES".
    pub fn parse(text: &str) -> Option<Sched> {
        let mut fields = text.split_whitespace().map(|field| field.parse::<u64>().ok());
        let cpu = fields.next()??;
        let delay = fields.next()??;
        Some(Sched { cpu: Duration::from_nanos(cpu), delay: Duration::from_nanos(delay), switches: None })
    }

    /// The involuntary context switches a task's `status` file counts.
    pub fn parse_switches(status: &str) -> Option<u64> {
        status.lines().find_map(|line| line.strip_prefix("nonvoluntary_ctxt_switches:")?.trim().parse().ok())
    }

    /// A task's `schedstat` alone, without its switches: one small read,
    /// for where a run's clock is running (a command's process between
    /// items).
    pub fn of_schedstat(path: &str) -> Option<Sched> {
        Sched::parse(&std::fs::read_to_string(path).ok()?)
    }

    /// The counters of one task (`/proc/PID/schedstat` is the thread group
    /// leader's, `/proc/PID/task/TID/schedstat` any thread's), its switches
    /// from the `status` beside it. A zombie's are still there until it is
    /// reaped. `None` where the kernel keeps none or the task is gone.
    pub fn of_file(path: &str) -> Option<Sched> {
        let mut sched = Sched::parse(&std::fs::read_to_string(path).ok()?)?;
        // The task's `status` beside it counts its switches.
        let status = path.strip_suffix("schedstat").map(|task| format!("{task}status"));
        sched.switches =
            status.and_then(|status| Sched::parse_switches(&std::fs::read_to_string(status).ok()?));
        Some(sched)
    }

    /// The counters of the calling thread.
    pub fn this_thread() -> Option<Sched> {
        Sched::of_file("/proc/thread-self/schedstat")
    }

    /// Both counts, or nothing where either is missing.
    pub fn both(one: Option<Sched>, other: Option<Sched>) -> Option<Sched> {
        Some(one? + other?)
    }
}

/// What a run's window says of other load, as its row records it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evidence {
    /// CPU time the rest of the machine used during the run; `None` where
    /// `/proc/stat` could not be read.
    pub foreign_cpu_s: Option<f64>,
    /// The VM's steal time during the run.
    pub steal_s: Option<f64>,
    /// Time the run's workers were runnable but waited for a CPU, added
    /// up; `None` where the kernel keeps no such counter.
    pub run_delay_s: Option<f64>,
    /// Whether other load harmed the run ([`judge`]).
    pub disturbed: bool,
}

/// The share of the CPU time a run needed that its workers may have waited
/// for a CPU, beyond what the run itself explains, before the run counts as
/// disturbed (see `docs/RESULTS.md`, "Other load").
pub const TOLERANCE: f64 = 0.10;

/// The least unexplained wait, in seconds, that can mark a run: below it,
/// a kernel thread's wake-up or a timer tick explains it.
pub const DELAY_FLOOR_S: f64 = 0.000_5;

/// What a run asked of the machine, and what its own tasks did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    /// The run's timed region, in seconds.
    pub wall_s: f64,
    /// The run's workers (1 for serial).
    pub workers: usize,
    /// The CPUs the runner may use.
    pub cpus: usize,
    /// CPU time parbench's own tasks other than the workers used during
    /// the run (the run's `cpu_s` less the workers'): the longest they can
    /// have kept a worker from a CPU.
    pub helpers_cpu_s: f64,
    /// CPU time the run's workers used, over the CPUs they could use: the
    /// longest they can have kept one of a Python pool's calling, manager
    /// and feeder threads from a CPU.
    pub workers_cpu_s: f64,
    /// The part of the run's wait that a Python pool's calling, manager and
    /// feeder threads waited (zero for any other run).
    pub helpers_delay_s: f64,
}

impl Demand {
    /// The CPUs the run could keep busy: its workers, at most the usable CPUs.
    pub fn cpus_needed(&self) -> usize {
        self.workers.clamp(1, self.cpus.max(1))
    }

    /// The wait the run explains itself: with more workers than CPUs the
    /// extra ones wait all along; parbench's own helpers take a worker's
    /// CPU while they run; and the workers take the helpers' CPUs while
    /// they run (a Python pool's calling thread, woken by each result,
    /// waits for the worker that woke it), so the helpers' wait is the
    /// run's own up to the time the workers ran: their CPU time over the
    /// CPUs they could keep busy.
    pub fn own_delay_s(&self) -> f64 {
        let workers_running = self.workers_cpu_s.max(0.0) / self.cpus_needed() as f64;
        let helpers_wait = self.helpers_delay_s.max(0.0).min(workers_running);
        self.workers.saturating_sub(self.cpus.max(1)) as f64 * self.wall_s
            + self.helpers_cpu_s.max(0.0)
            + helpers_wait
    }
}

/// Whether other load harmed a run whose workers waited `delay_s` for a
/// CPU in all: the wait beyond what the run explains itself passes
/// [`TOLERANCE`] of the CPU time it needed and [`DELAY_FLOOR_S`]. Judged on
/// this run's own evidence alone, however short.
pub fn judge(demand: Demand, delay_s: f64) -> bool {
    let unexplained = delay_s - demand.own_delay_s();
    let needed = demand.cpus_needed() as f64 * demand.wall_s;
    unexplained > DELAY_FLOOR_S && unexplained > TOLERANCE * needed
}

/// The least steal, in seconds, that can mark a run: two of `/proc/stat`'s
/// 10 ms ticks, so that one tick caught at either end of a short window
/// does not.
pub const STEAL_FLOOR_S: f64 = 0.02;

/// Whether the hypervisor took a run's CPUs from it: a task the host does
/// not run still counts as running in the guest, so steal never shows in
/// the run delay. The steal over the window passes [`STEAL_FLOOR_S`] and
/// [`TOLERANCE`] of the CPU time the run needed.
pub fn stolen(demand: Demand, steal_s: f64) -> bool {
    steal_s > STEAL_FLOOR_S && steal_s > TOLERANCE * demand.cpus_needed() as f64 * demand.wall_s
}

/// [`judge`] and [`stolen`], with the evidence a row records; `own_cpu_s`
/// is parbench's own CPU over the run's whole window (the runner, its
/// children, a Python harness), which the foreign CPU leaves out. Without
/// the workers' wait the run is judged by steal alone: no evidence is no
/// harm shown.
pub fn evidence(demand: Demand, window: &Window, own_cpu_s: f64, delay: Option<Duration>) -> Evidence {
    let run_delay_s = delay.map(|delay| delay.as_secs_f64());
    Evidence {
        foreign_cpu_s: window.foreign_cpu_s(own_cpu_s),
        steal_s: window.steal_s,
        run_delay_s,
        disturbed: run_delay_s.is_some_and(|delay| judge(demand, delay))
            || window.steal_s.is_some_and(|steal| stolen(demand, steal)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str =
        "cpu  36977 0 10263 3225459 2063 0 163 949 0 0\ncpu0 16051 0 4808 1615937 897 0 69 407 0 0\n";

    #[test]
    fn switches_add_up_only_where_every_task_had_them_read() {
        let task = |switches| Sched { switches, ..Sched::default() };
        assert_eq!((Sched::default() + task(Some(3)) + task(Some(4))).switches, Some(7));
        assert_eq!((task(Some(3)) + task(None)).switches, None, "a Python harness's tasks say none");
        assert_eq!(task(Some(9)).since(task(Some(4))).switches, Some(5));
        assert_eq!(task(Some(9)).since(task(None)).switches, None);
        // This thread's own, read from /proc where the kernel has it.
        if let Some(sched) = Sched::this_thread() {
            assert!(sched.switches.is_some(), "{sched:?}");
        }
    }

    #[test]
    fn the_counters_are_read_from_proc() {
        assert_eq!(parse_stat(STAT), Some((36977 + 10263 + 163, 949)));
        assert_eq!(parse_stat("intr 1 2 3\n"), None);
        assert_eq!(parse_stat("cpu 1 x 3 4\n"), None);
        assert_eq!(
            Sched::parse("172944 2500 1\n"),
            Some(Sched {
                cpu: Duration::from_nanos(172_944),
                delay: Duration::from_nanos(2500),
                switches: None
            })
        );
        let status = "Name:\tspin\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t7\n";
        assert_eq!(Sched::parse_switches(status), Some(7));
        assert_eq!(Sched::parse_switches("Name:\tspin\n"), None);
        assert_eq!(Sched::parse("172944\n"), None);
        assert_eq!(Sched::parse("x 1 2\n"), None);
    }

    #[test]
    fn a_window_is_the_difference_and_a_missing_counter_stays_missing() {
        let root = tempfile::tempdir().unwrap();
        let before = Counters::read(root.path());
        assert_eq!(before.busy_ticks, None);
        std::fs::create_dir_all(root.path().join("proc")).unwrap();
        std::fs::write(root.path().join("proc/stat"), STAT).unwrap();
        let before = Counters::read(root.path());
        std::fs::write(root.path().join("proc/stat"), "cpu  37077 0 10263 3225459 2063 0 163 959 0 0\n")
            .unwrap();
        let window = before.until(&Counters::read(root.path()));
        let tick = 1.0 / ticks_per_second();
        assert!((window.busy_s.unwrap() - 100.0 * tick).abs() < 1e-9, "{window:?}");
        assert!((window.steal_s.unwrap() - 10.0 * tick).abs() < 1e-9, "{window:?}");
        assert_eq!(window.foreign_cpu_s(0.25), Some((100.0 * tick - 0.25).max(0.0)));
        assert_eq!(window.foreign_cpu_s(5.0), Some(0.0));
        assert_eq!(Counters::default().until(&before).busy_s, None);
    }

    #[test]
    fn this_threads_counters_grow_as_it_runs() {
        let Some(before) = Sched::this_thread() else {
            // A kernel without CONFIG_SCHED_INFO: nothing to read, and the
            // runs are never judged disturbed (see `evidence`).
            return;
        };
        // Spin until the counter says 5 ms of CPU, however busy the
        // machine: a counter that does not grow never gets there.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        let mut spent = Sched::default();
        while spent.cpu < Duration::from_millis(5) && start.elapsed() < Duration::from_secs(30) {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            spent = Sched::this_thread().unwrap().since(before);
        }
        assert!(spent.cpu >= Duration::from_millis(5), "{spent:?} after {:?}", start.elapsed());
        assert_eq!(Sched::both(Some(spent), None), None);
        assert_eq!(Sched::both(Some(spent), Some(spent)).unwrap().cpu, spent.cpu * 2);
    }

    fn demand(wall_s: f64, workers: usize, cpus: usize) -> Demand {
        Demand { wall_s, workers, cpus, helpers_cpu_s: 0.0, workers_cpu_s: 0.0, helpers_delay_s: 0.0 }
    }

    #[test]
    fn a_wait_past_the_tolerance_and_the_floor_marks_a_run() {
        // Serial, 50 ms: a hog on its CPU took half of it.
        assert!(judge(demand(0.05, 1, 2), 0.025));
        // A kernel thread's wake-up: 0.1 ms of 50.
        assert!(!judge(demand(0.05, 1, 2), 0.000_1));
        // A short run is judged alone: 9 ms of work that took 61 ms.
        assert!(judge(demand(0.061, 2, 2), 0.1));
        // A 2 ms run that waited 0.4 ms: 20%, but under the floor.
        assert!(!judge(demand(0.002, 1, 2), 0.000_4));
        // Two workers on two CPUs: the same wait is half the share.
        assert!(judge(demand(0.05, 1, 2), 0.006));
        assert!(!judge(demand(0.05, 2, 2), 0.006));
    }

    #[test]
    fn the_wait_of_more_workers_than_cpus_is_their_own() {
        // Eight CPU-bound threads on two CPUs for a second: six wait all along.
        assert!(!judge(demand(1.0, 8, 2), 6.0));
        // And a hog beside them took a further half CPU: others' doing.
        assert!(judge(demand(1.0, 8, 2), 6.5));
        // A Python pool's manager thread ran 12 ms of the 20: it can have
        // kept the workers waiting that long, no longer.
        let pool = Demand { helpers_cpu_s: 0.012, ..demand(0.02, 2, 2) };
        assert!(!judge(pool, 0.014));
        assert!(judge(pool, 0.030));
    }

    #[test]
    fn the_helpers_wait_for_the_workers_is_the_runs_own_up_to_the_workers_cpu() {
        // A Python function on 2 threads, 43 ms under the GIL: the calling
        // thread, woken by each result, waited 9 ms behind the worker that
        // woke it (measured on a quiet 2-CPU VM); the workers themselves 2 ms.
        let gil = Demand { workers_cpu_s: 0.042, helpers_delay_s: 0.009, ..demand(0.043, 2, 2) };
        // (The workers ran 21 ms: 42 ms of CPU over 2 CPUs.)
        assert!(!judge(gil, 0.011));
        // Beside two hogs the workers waited 40 ms more: others' doing.
        assert!(judge(gil, 0.051));
        // Workers that hardly ran (a pool of identity functions) explain
        // hardly any of the helpers' wait: 20 ms of it beside hogs still
        // marks the run.
        let idle = Demand { workers_cpu_s: 0.002, helpers_delay_s: 0.020, ..demand(0.03, 2, 2) };
        assert!(judge(idle, 0.024));
        let quiet = Demand { helpers_delay_s: 0.003, ..idle };
        assert!(!judge(quiet, 0.005));
        // Busy workers forgive at most the time they ran (84 ms of CPU on
        // 2 CPUs: 42 ms), not every wait: a hog that held the calling
        // thread off for 70 ms of a 45 ms run still marks it.
        let held = Demand { workers_cpu_s: 0.084, helpers_delay_s: 0.070, ..demand(0.045, 2, 2) };
        assert!(judge(held, 0.072));
        assert!(!judge(Demand { helpers_delay_s: 0.030, ..held }, 0.032));
    }

    #[test]
    fn without_a_run_delay_a_run_is_not_judged_disturbed() {
        let window = Window { busy_s: Some(2.0), steal_s: Some(0.0) };
        let quiet = evidence(demand(1.0, 1, 2), &window, 1.0, None);
        assert_eq!(
            quiet,
            Evidence { foreign_cpu_s: Some(1.0), steal_s: Some(0.0), run_delay_s: None, disturbed: false }
        );
        let harmed = evidence(demand(1.0, 1, 2), &window, 1.0, Some(Duration::from_millis(300)));
        assert!(harmed.disturbed);
        assert_eq!(harmed.run_delay_s, Some(0.3));
    }

    #[test]
    fn steal_past_the_tolerance_and_two_ticks_marks_a_run_whatever_its_wait() {
        let stolen_from = |steal_s: f64| Window { busy_s: Some(1.0), steal_s: Some(steal_s) };
        let quiet_wait = Some(Duration::ZERO);
        assert!(evidence(demand(1.0, 1, 2), &stolen_from(0.3), 1.0, quiet_wait).disturbed);
        assert!(evidence(demand(1.0, 1, 2), &stolen_from(0.3), 1.0, None).disturbed);
        assert!(!evidence(demand(1.0, 1, 2), &stolen_from(0.05), 1.0, quiet_wait).disturbed);
        // One tick in a 5 ms run is no evidence.
        assert!(!evidence(demand(0.005, 1, 2), &stolen_from(0.01), 0.005, quiet_wait).disturbed);
    }
}
