//! Other load on the machine during a run, and whether it took CPU the run
//! needed.
//!
//! Three counters of the whole machine are read just before a run's clock
//! starts and just after it stops (outside the timed region):
//!
//! - `/proc/stat`'s first line: the machine's busy time (user, nice,
//!   system, irq, softirq) and `steal`, the time a hypervisor gave this
//!   VM's CPUs to others, in clock ticks (10 ms on Linux);
//! - `/proc/pressure/cpu`'s `some total`: microseconds during which at least
//!   one runnable task waited for a CPU (Linux 4.20 and later, where PSI is
//!   enabled).
//!
//! A run's *foreign* CPU is the machine's busy time over its window minus
//! the run's own (`cpu_s`: the runner and the run's workers). Whether that
//! other load *disturbed* the run is decided by [`Judge`], whose rules are
//! stated in `docs/RESULTS.md` ("Other load").

use std::collections::VecDeque;
use std::path::Path;

/// The machine's counters at one moment; a counter that could not be read
/// is `None` and its evidence is missing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counters {
    busy_ticks: Option<u64>,
    steal_ticks: Option<u64>,
    stalled_us: Option<u64>,
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
        let stalled_us =
            std::fs::read_to_string(root.join("proc/pressure/cpu")).ok().as_deref().and_then(parse_pressure);
        Counters { busy_ticks, steal_ticks, stalled_us }
    }

    /// What the machine did between `self` (before) and `after`.
    pub fn until(&self, after: &Counters) -> Window {
        let ticks = |before: Option<u64>, after: Option<u64>| {
            Some(after?.checked_sub(before?)? as f64 / ticks_per_second())
        };
        Window {
            busy_s: ticks(self.busy_ticks, after.busy_ticks),
            steal_s: ticks(self.steal_ticks, after.steal_ticks),
            stalled_s: after
                .stalled_us
                .zip(self.stalled_us)
                .and_then(|(after, before)| Some(after.checked_sub(before)? as f64 / 1e6)),
        }
    }
}

/// The machine's counters over one run's window, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    /// CPU time the whole machine was busy, every CPU added up.
    pub busy_s: Option<f64>,
    pub steal_s: Option<f64>,
    /// Time during which some runnable task waited for a CPU.
    pub stalled_s: Option<f64>,
}

impl Window {
    /// CPU time the rest of the machine used: its busy time less the run's
    /// own `cpu_s`, never below zero (the busy time is counted in ticks, the
    /// run's in nanoseconds, so a quiet window can come out a tick short).
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

/// `total=` of the `some` line of `/proc/pressure/cpu`, in microseconds.
fn parse_pressure(text: &str) -> Option<u64> {
    let line = text.lines().find(|line| line.starts_with("some "))?;
    line.split_whitespace().find_map(|field| field.strip_prefix("total="))?.parse().ok()
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions and only reads a constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// What a run's window says of other load, as its row records it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evidence {
    /// CPU time the rest of the machine used during the run; `None` where
    /// `/proc/stat` could not be read.
    pub foreign_cpu_s: Option<f64>,
    /// The VM's steal time during the run.
    pub steal_s: Option<f64>,
    /// Whether other load took CPU time the run needed ([`Judge::judge`]).
    pub disturbed: bool,
}

/// The share of the CPU time a run needed that other load may take before
/// the run counts as disturbed (see `docs/RESULTS.md`, "Other load").
pub const TOLERANCE: f64 = 0.10;

/// The least stall, in seconds, that can mark a run: below it, a kernel
/// thread's wake-up or the pool's own start explains the wait.
pub const STALL_FLOOR_S: f64 = 0.000_5;

/// How much CPU time a window must have needed before the tick-counted
/// evidence (busy and steal time) can judge it; shorter runs are judged
/// with the runs measured just before them. The kernel prints the sum over
/// its CPUs in clock ticks (10 ms), and accounts each CPU's time at its
/// scheduler tick (4 ms at the common 250 Hz), so a window's figure is off
/// by up to a clock tick, plus a scheduler tick a CPU, at each end; the
/// tolerance must see past that.
pub fn resolution_s(cpus: usize) -> f64 {
    const SCHEDULER_TICK_S: f64 = 0.004;
    let error = 2.0 / ticks_per_second() + 2.0 * SCHEDULER_TICK_S * cpus.max(1) as f64;
    error / TOLERANCE
}

/// What a run asked of the machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    pub wall_s: f64,
    pub cpu_s: f64,
    /// The run's workers (1 for serial).
    pub workers: usize,
    /// The machine's logical CPUs.
    pub cpus: usize,
    /// The run's work is done by the runner's own threads alone (serial and
    /// threads on a builtin): no process of its own (a pool's fork server,
    /// a worker starting, a harness) can wait for a CPU beside them.
    pub threads_only: bool,
}

impl Demand {
    /// The CPUs the run could keep busy: its workers, at most the machine's.
    pub fn cpus_needed(&self) -> usize {
        self.workers.clamp(1, self.cpus.max(1))
    }

    /// Whether the run alone fits the machine, so that any wait for a CPU
    /// during it was caused by other load.
    fn fits(&self) -> bool {
        self.threads_only && (self.workers < self.cpus || (self.workers == self.cpus && self.cpus > 1))
    }
}

/// Decides, run after run, which runs other load disturbed. It keeps the
/// tick-counted evidence of the last runs, so that a run too short for the
/// ticks' resolution is judged together with the runs just before it.
#[derive(Debug)]
pub struct Judge {
    /// The machine's logical CPUs.
    cpus: usize,
    recent: VecDeque<Pooled>,
}

#[derive(Debug, Clone, Copy)]
struct Pooled {
    /// CPU time others took beyond what the run left free.
    excess_s: f64,
    /// CPU time the run needed: its CPUs over its wall time.
    needed_s: f64,
}

impl Judge {
    pub fn new(cpus: usize) -> Judge {
        Judge { cpus: cpus.max(1), recent: VecDeque::new() }
    }

    /// The CPUs a run of `workers` could keep busy: its workers, at most the
    /// machine's.
    pub fn demand(&self, window_s: f64, cpu_s: f64, workers: usize, threads_only: bool) -> Demand {
        Demand { wall_s: window_s, cpu_s, workers, cpus: self.cpus, threads_only }
    }

    /// [`Judge::judge`], with the evidence a row records.
    pub fn evidence(&mut self, demand: Demand, window: &Window) -> Evidence {
        Evidence {
            foreign_cpu_s: window.foreign_cpu_s(demand.cpu_s),
            steal_s: window.steal_s,
            disturbed: self.judge(demand, window),
        }
    }

    /// Whether other load disturbed a run: whether, during its window, other
    /// programs (or the hypervisor) took CPU time the run needed.
    ///
    /// - Where the run's own threads do its work and fit the machine (its
    ///   workers fewer than the CPUs, or as many, with more than one) and
    ///   the kernel counts CPU pressure: any
    ///   time a runnable task waited for a CPU was caused by others, and the
    ///   run is disturbed when that stall passes [`TOLERANCE`] of its wall
    ///   time (and [`STALL_FLOOR_S`]).
    /// - Otherwise, and always for steal: the foreign CPU time and the steal
    ///   beyond the CPUs the run left idle, over the CPU time it needed,
    ///   must stay under [`TOLERANCE`]; judged on this run's window, pooled
    ///   with the windows of the runs just before it until they reach
    ///   [`resolution_s`].
    pub fn judge(&mut self, demand: Demand, window: &Window) -> bool {
        let needed = demand.cpus_needed() as f64;
        let idle_cpus = (demand.cpus.max(1) as f64 - needed).max(0.0);
        // Unclamped: a short window catches a whole 10 ms tick or none, so
        // only the sum over many windows is unbiased, negative parts too.
        let foreign = window.busy_s.map(|busy| busy - demand.cpu_s);
        let steal = window.steal_s.unwrap_or(0.0);
        let stall = if demand.fits() { window.stalled_s } else { None };
        let Some(foreign) = foreign else {
            return stall.is_some_and(|stall| stalled_past(stall, demand.wall_s));
        };
        let this = Pooled {
            excess_s: if stall.is_some() {
                // Others' CPU is judged by the stall; steal, which the
                // pressure counter does not see, by the ticks.
                steal
            } else {
                foreign + steal - idle_cpus * demand.wall_s
            },
            needed_s: needed * demand.wall_s,
        };
        self.recent.push_front(this);
        let resolution = resolution_s(demand.cpus);
        let mut pooled = Pooled { excess_s: 0.0, needed_s: 0.0 };
        let mut taken = 0;
        for run in &self.recent {
            pooled.excess_s += run.excess_s;
            pooled.needed_s += run.needed_s;
            taken += 1;
            if pooled.needed_s >= resolution {
                break;
            }
        }
        self.recent.truncate(taken);
        let by_ticks = pooled.needed_s >= resolution && pooled.excess_s > TOLERANCE * pooled.needed_s;
        by_ticks || stall.is_some_and(|stall| stalled_past(stall, demand.wall_s))
    }
}

fn stalled_past(stall_s: f64, wall_s: f64) -> bool {
    stall_s > STALL_FLOOR_S && stall_s > TOLERANCE * wall_s
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str =
        "cpu  36977 0 10263 3225459 2063 0 163 949 0 0\ncpu0 16051 0 4808 1615937 897 0 69 407 0 0\n";
    const PRESSURE: &str = "some avg10=0.43 avg60=3.55 avg300=5.71 total=44057781\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";

    #[test]
    fn the_counters_are_read_from_proc() {
        assert_eq!(parse_stat(STAT), Some((36977 + 10263 + 163, 949)));
        assert_eq!(parse_pressure(PRESSURE), Some(44057781));
        assert_eq!(parse_stat("intr 1 2 3\n"), None);
        assert_eq!(parse_stat("cpu 1 x 3 4\n"), None);
        assert_eq!(parse_pressure("full avg10=0 total=5\n"), None);
    }

    #[test]
    fn a_window_is_the_difference_and_a_missing_counter_stays_missing() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("proc/pressure")).unwrap();
        std::fs::write(root.path().join("proc/stat"), STAT).unwrap();
        let before = Counters::read(root.path());
        assert_eq!(before.stalled_us, None);
        std::fs::write(root.path().join("proc/stat"), "cpu  37077 0 10263 3225459 2063 0 163 959 0 0\n")
            .unwrap();
        std::fs::write(root.path().join("proc/pressure/cpu"), PRESSURE).unwrap();
        let after = Counters::read(root.path());
        let window = before.until(&after);
        let tick = 1.0 / ticks_per_second();
        assert!((window.busy_s.unwrap() - 100.0 * tick).abs() < 1e-9, "{window:?}");
        assert!((window.steal_s.unwrap() - 10.0 * tick).abs() < 1e-9, "{window:?}");
        assert_eq!(window.stalled_s, None);
        assert_eq!(window.foreign_cpu_s(0.25), Some((100.0 * tick - 0.25).max(0.0)));
        assert_eq!(window.foreign_cpu_s(5.0), Some(0.0));
    }

    fn demand(wall_s: f64, workers: usize, cpus: usize) -> Demand {
        Demand { wall_s, cpu_s: wall_s * workers.min(cpus) as f64, workers, cpus, threads_only: true }
    }

    fn window(busy_s: f64, stalled_s: Option<f64>) -> Window {
        Window { busy_s: Some(busy_s), steal_s: Some(0.0), stalled_s }
    }

    #[test]
    fn a_stall_marks_a_run_that_fits_the_machine() {
        let mut judge = Judge::new(2);
        // Two threads on two CPUs, 50 ms, a quiet machine.
        assert!(!judge.judge(demand(0.05, 2, 2), &window(0.1, Some(0.0001))));
        // Two hogs beside it: tasks waited for a quarter of the window.
        assert!(judge.judge(demand(0.05, 2, 2), &window(0.1, Some(0.026))));
        // A stall under the floor is a kernel thread's wake-up.
        assert!(!Judge::new(2).judge(demand(0.002, 1, 2), &window(0.0, Some(0.0004))));
    }

    #[test]
    fn other_load_on_cpus_the_run_leaves_idle_does_not_disturb_it() {
        // Serial on 16 CPUs, with a hog on another CPU the whole second: no
        // stall, and the foreign CPU fits in the 15 idle CPUs.
        let mut judge = Judge::new(16);
        assert!(!judge.judge(demand(1.0, 1, 16), &window(2.0, Some(0.0))));
        // Without pressure counters, the ticks say the same.
        assert!(!Judge::new(16).judge(demand(1.0, 1, 16), &window(2.0, None)));
        // Twenty hogs do not fit: a run of 4 CPU-seconds takes 4·21/16 s,
        // every CPU busy all along, and others took 80 CPU-seconds.
        let crowded =
            Demand { wall_s: 4.0 * 21.0 / 16.0, cpu_s: 4.0, workers: 1, cpus: 16, threads_only: true };
        assert!(Judge::new(16).judge(crowded, &window(84.0, None)));
    }

    #[test]
    fn more_workers_than_cpus_are_judged_by_the_foreign_cpu_alone() {
        // Eight threads on two CPUs stall on each other: no evidence of others.
        let mut judge = Judge::new(2);
        assert!(!judge.judge(demand(1.0, 8, 2), &window(2.0, Some(0.9))));
        // The machine busier than the run by half a CPU: others took it.
        let mut judge = Judge::new(2);
        let run = Demand { wall_s: 1.0, cpu_s: 1.5, workers: 8, cpus: 2, threads_only: true };
        assert!(judge.judge(run, &window(2.0, Some(0.9))));
    }

    #[test]
    fn a_short_run_is_judged_with_the_runs_before_it() {
        let cpus = 2;
        let resolution = resolution_s(cpus);
        let short = resolution / 20.0;
        let mut judge = Judge::new(cpus);
        let busy_run = Demand { wall_s: short, cpu_s: short * 0.5, workers: 8, cpus, threads_only: true };
        // Alone, too short to judge however busy the machine looks.
        assert!(!judge.judge(busy_run, &window(2.0 * short, None)));
        // Pooled with enough busy neighbours, it is judged disturbed.
        let verdicts: Vec<bool> =
            (0..30).map(|_| judge.judge(busy_run, &window(2.0 * short, None))).collect();
        // Ten runs reach the resolution: the first eight pools are short.
        assert!(verdicts[..7].iter().all(|disturbed| !disturbed), "{verdicts:?}");
        assert!(verdicts[10..].iter().all(|disturbed| *disturbed), "{verdicts:?}");
        // Quiet neighbours: the pool clears once the quiet runs fill it.
        let quiet = Demand { wall_s: short, cpu_s: short * 2.0, workers: 8, cpus, threads_only: true };
        let verdicts: Vec<bool> = (0..30).map(|_| judge.judge(quiet, &window(2.0 * short, None))).collect();
        assert!(verdicts[25..].iter().all(|disturbed| !disturbed), "{verdicts:?}");
    }

    #[test]
    fn steal_past_the_tolerance_disturbs_even_a_run_that_did_not_stall() {
        let mut judge = Judge::new(2);
        let w = Window { busy_s: Some(1.0), steal_s: Some(0.3), stalled_s: Some(0.0) };
        assert!(judge.judge(demand(1.0, 1, 2), &w));
        let w = Window { busy_s: Some(1.0), steal_s: Some(0.01), stalled_s: Some(0.0) };
        assert!(!Judge::new(2).judge(demand(1.0, 1, 2), &w));
    }
}
