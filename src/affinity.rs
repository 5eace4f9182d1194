//! Pinning threads to CPUs.
//!
//! Measured on 2 cores with `price-crazy` on 200 items: unpinned, a
//! two-thread pool took 76 to 98 ms per run (median 85), because Linux's
//! scheduler at times woke both threads of the same process on one CPU; pinned
//! to one allowed CPU each, 78 to 84 ms (median 80), as steady as two
//! processes. So the `threads` strategy pins worker i to the i-th CPU this
//! process may use, when there are no more workers than CPUs (with more,
//! pinned threads would wait on a busy core while another is idle).

/// The CPUs this process may run on (its affinity mask, which honours
/// `taskset` and cgroup cpusets), in ascending order.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills the one we own.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize).filter(|cpu| libc::CPU_ISSET(*cpu, &set)).collect()
    }
}

/// Pins the calling thread to `cpu`. Best effort: a refusal leaves the
/// thread where the scheduler puts it.
pub fn pin_current_thread(cpu: usize) {
    // SAFETY: as above; sched_setaffinity reads the set we own.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
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
}
