//! Pinning workers to CPUs: one policy for every strategy.
//!
//! `[run] pin = "cores"` (the default) gives serial's thread, each thread
//! worker and each worker process a CPU of its own: one per physical core
//! first (the lowest-numbered hardware thread of each core, read from
//! `/sys/devices/system/cpu/cpuN/topology`), SMT siblings only after every
//! core has one. When a run has more workers than the CPUs parbench may use,
//! none of its workers is pinned, for threads and processes alike: pinned
//! round robin, two workers would queue on one CPU while another sat idle.
//! `pin = "none"` leaves every placement to the scheduler.
//!
//! Pinned, a thread pool's runs are as steady as a process pool's: unpinned,
//! Linux's scheduler at times wakes two threads of one process on the same
//! CPU, and such a run takes longer while another CPU sits idle. The
//! numbers, with their machine and date, are in docs/PERFORMANCE.md
//! ("How the pools get there").

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;

/// The CPUs this process may run on (its affinity mask, which honours
/// `taskset` and cgroup cpusets), in ascending order.
pub fn allowed_cpus() -> Vec<usize> {
    let Ok(set) = sched_getaffinity(Pid::from_raw(0)) else { return Vec::new() };
    (0..CpuSet::count()).filter(|cpu| set.is_set(*cpu).unwrap_or(false)).collect()
}

/// The allowed CPUs in the order workers get them: physical cores first.
pub fn cpu_order() -> Vec<usize> {
    by_core(&allowed_cpus(), core_of)
}

/// The CPU of each of `workers` workers under `pin = "cores"`, or `None`
/// when there are more workers than allowed CPUs. The topology is read once.
pub fn assignment(workers: usize) -> Option<Vec<usize>> {
    static ORDER: std::sync::OnceLock<Vec<usize>> = std::sync::OnceLock::new();
    let order = ORDER.get_or_init(cpu_order);
    (workers > 0 && workers <= order.len()).then(|| order[..workers].to_vec())
}

/// (package, core) of a CPU as the kernel reports it; `None` where `/sys`
/// does not say.
fn core_of(cpu: usize) -> Option<(u32, u32)> {
    let read = |name: &str| -> Option<u32> {
        std::fs::read_to_string(format!("/sys/devices/system/cpu/cpu{cpu}/topology/{name}"))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    Some((read("physical_package_id")?, read("core_id")?))
}

/// `cpus` ordered so that the first hardware thread of every core comes
/// before any second one; a CPU whose core is unknown counts as a core.
fn by_core(cpus: &[usize], core: impl Fn(usize) -> Option<(u32, u32)>) -> Vec<usize> {
    let mut seen = std::collections::HashMap::new();
    let mut ranked: Vec<(usize, usize)> = cpus
        .iter()
        .map(|&cpu| {
            let rank = match core(cpu) {
                Some(key) => {
                    let count = seen.entry(key).or_insert(0);
                    *count += 1;
                    *count - 1
                }
                None => 0,
            };
            (rank, cpu)
        })
        .collect();
    ranked.sort_unstable();
    ranked.into_iter().map(|(_, cpu)| cpu).collect()
}

/// Pins the calling thread to `cpu`. Best effort: a refusal leaves the
/// thread where the scheduler puts it.
pub fn pin_current_thread(cpu: usize) {
    pin_pid(0, cpu);
}

/// Pins a child process (its main thread, and so every thread it starts
/// later) to `cpu`. Best effort, as above.
pub fn pin_process(pid: u32, cpu: usize) {
    if let Ok(pid) = i32::try_from(pid) {
        pin_pid(pid, cpu);
    }
}

fn pin_pid(pid: i32, cpu: usize) {
    let mut set = CpuSet::new();
    if set.set(cpu).is_ok() {
        let _ = sched_setaffinity(Pid::from_raw(pid), &set);
    }
}

/// The calling thread pinned to a CPU until this is dropped; then its
/// earlier mask comes back (serial runs in the runner's own thread).
pub struct PinnedThread {
    previous: Option<CpuSet>,
}

impl PinnedThread {
    pub fn new(cpu: Option<usize>) -> PinnedThread {
        let Some(cpu) = cpu else { return PinnedThread { previous: None } };
        let previous = sched_getaffinity(Pid::from_raw(0)).ok();
        if previous.is_some() {
            pin_current_thread(cpu);
        }
        PinnedThread { previous }
    }
}

impl Drop for PinnedThread {
    fn drop(&mut self) {
        if let Some(set) = &self.previous {
            let _ = sched_setaffinity(Pid::from_raw(0), set);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_thread_runs_where_it_was_put() {
        let cpus = allowed_cpus();
        assert!(!cpus.is_empty());
        let last = *cpus.last().unwrap();
        std::thread::spawn(move || {
            pin_current_thread(last);
            assert_eq!(allowed_cpus(), vec![last]);
            // SAFETY: sched_getcpu has no preconditions.
            assert_eq!(unsafe { libc::sched_getcpu() } as usize, last);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_pinned_thread_gets_its_mask_back() {
        std::thread::spawn(|| {
            let before = allowed_cpus();
            {
                let _pinned = PinnedThread::new(Some(before[0]));
                assert_eq!(allowed_cpus(), vec![before[0]]);
            }
            assert_eq!(allowed_cpus(), before);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn physical_cores_come_before_their_siblings() {
        // Two cores with two threads each, numbered as Intel does (0/2 and 1/3)
        // and as AMD does (0/1 and 2/3), and a CPU of unknown topology.
        let intel = |cpu: usize| Some((0, (cpu % 2) as u32));
        assert_eq!(by_core(&[0, 1, 2, 3], intel), [0, 1, 2, 3]);
        let amd = |cpu: usize| Some((0, (cpu / 2) as u32));
        assert_eq!(by_core(&[0, 1, 2, 3], amd), [0, 2, 1, 3]);
        assert_eq!(by_core(&[1, 2, 3], amd), [1, 2, 3]);
        let two_packages = |cpu: usize| Some(((cpu / 4) as u32, (cpu % 2) as u32));
        assert_eq!(by_core(&[0, 1, 2, 3, 4, 5, 6, 7], two_packages), [0, 1, 4, 5, 2, 3, 6, 7]);
        assert_eq!(by_core(&[5, 9], |_| None), [5, 9]);
    }

    #[test]
    fn no_pinning_past_the_cpus() {
        let cpus = allowed_cpus().len();
        let all = assignment(cpus).expect("as many workers as CPUs are pinned");
        let mut sorted = all.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, allowed_cpus(), "each allowed CPU once");
        assert_eq!(assignment(cpus + 1), None);
    }
}
