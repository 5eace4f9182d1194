//! `threads`: a pool of exactly N OS threads, built inside the timed region
//! as the seed's `ThreadPoolExecutor` was, each pinned to a CPU (see
//! `affinity.rs` for why). The threads share the list in indexed chunks
//! claimed under one lock (`Chunks`) by whoever is free (as the processes pool
//! does), and write the results straight into their chunk's slice of the
//! output, in order.
//!
//! The threads are plain scoped threads that block, never spin: a rayon
//! pool's idle threads search for work before they sleep, and with far more
//! threads than CPUs that search became the run: seconds of CPU for a
//! thousand threads on ten trivial items, growing with the thread count
//! and not with the work.

use std::sync::{Condvar, Mutex};
use std::time::Instant;

use super::chunks::Chunks;
use super::{Cutoff, Execution, Finish, Outputs, RunFailure, Spread};
use crate::interference::Sched;
use crate::workload::Kernel;

/// A count the runner's thread waits on, and the counters of the threads
/// counted so far (`None` once a read failed).
struct Tally {
    state: Mutex<(usize, Option<Sched>)>,
    changed: Condvar,
}

impl Tally {
    fn new() -> Tally {
        Tally { state: Mutex::new((0, Some(Sched::default()))), changed: Condvar::new() }
    }

    /// Counts this thread in, with `sched` (its counters now, where they
    /// are wanted: reading them is a file read).
    fn arrive(&self, sched: Option<Sched>) {
        let mut state = self.state.lock().unwrap_or_else(|poison| poison.into_inner());
        state.0 += 1;
        state.1 = state.1.zip(sched).map(|(sum, sched)| sum + sched);
        self.changed.notify_all();
    }

    /// Waits until `count` threads have arrived; their counters.
    fn wait_for(&self, count: usize) -> Option<Sched> {
        let state = self.state.lock().unwrap_or_else(|poison| poison.into_inner());
        let state = self
            .changed
            .wait_while(state, |state| state.0 < count)
            .unwrap_or_else(|poison| poison.into_inner());
        state.1
    }
}

/// Whether the threads may start on the list: `Some(true)` go, `Some(false)`
/// stop (a thread could not be started), `None` wait.
struct Gate {
    open: Mutex<Option<bool>>,
    changed: Condvar,
}

impl Gate {
    fn set(&self, go: bool) {
        *self.open.lock().unwrap_or_else(|poison| poison.into_inner()) = Some(go);
        self.changed.notify_all();
    }

    fn wait(&self) -> bool {
        let open = self.open.lock().unwrap_or_else(|poison| poison.into_inner());
        let open =
            self.changed.wait_while(open, |open| open.is_none()).unwrap_or_else(|poison| poison.into_inner());
        open.unwrap_or(false)
    }
}

pub fn run(
    kernel: &dyn Kernel,
    numbers: &[f64],
    mut out: Vec<f64>,
    spread: Spread<'_>,
    cutoff: &Cutoff,
) -> Result<Execution, RunFailure> {
    let Spread { workers, chunk_size, cpus, .. } = spread;
    let started = Instant::now();
    let chunk = chunk_size.unwrap_or_else(|| thread_chunk(numbers.len(), workers));
    let chunks = Chunks::new(&mut out, chunk);
    let (arrived, finished, counted) = (Tally::new(), Tally::new(), Tally::new());
    let gate = || Gate { open: Mutex::new(None), changed: Condvar::new() };
    // The start of the work, and the read of each thread's counters once
    // the clock has stopped.
    let (gate, read) = (gate(), gate());
    let untimed = spread.untimed_start();
    let (mut setup, mut ready, mut stop) = (None, None, None);
    let failed = std::thread::scope(|scope| {
        for index in 0..workers {
            let (chunks, arrived, finished, counted, gate, read) =
                (&chunks, &arrived, &finished, &counted, &gate, &read);
            let spawned = std::thread::Builder::new().name(format!("parbench-worker-{index}")).spawn_scoped(
                scope,
                move || {
                    if let Some(cpus) = cpus {
                        crate::affinity::pin_current_thread(cpus[index]);
                    }
                    // Started: counted in, then every thread takes the next
                    // chunk as soon as it is free, from the first moment
                    // (self-scheduling; rayon's work stealing left threads
                    // idle until they woke to steal, so that one thread could
                    // take two of 4 equal items on 4 threads and the run last
                    // twice one item: docs/PERFORMANCE.md).
                    arrived.arrive(if untimed { Sched::this_thread() } else { Some(Sched::default()) });
                    if !gate.wait() {
                        return;
                    }
                    while let Some((range, out)) = chunks.claim() {
                        if cutoff.passed() {
                            break;
                        }
                        kernel.apply(&numbers[range], out);
                    }
                    finished.arrive(Some(Sched::default()));
                    // Its counters, read once the clock has stopped: the
                    // evidence of other load.
                    if read.wait() {
                        counted.arrive(Sched::this_thread());
                    }
                },
            );
            if let Err(error) = spawned {
                gate.set(false);
                read.set(false);
                return Some(RunFailure::Failed(format!("cannot start {workers} threads: {error}")));
            }
        }
        // Every thread has started.
        let at_ready = arrived.wait_for(workers);
        setup = Some(started.elapsed());
        // Under an untimed start, the clock starts here, with each thread's
        // counters so far (their start is not the run's).
        ready = untimed.then(|| Finish { workers: at_ready, ..Finish::now(&[]) });
        gate.set(true);
        finished.wait_for(workers);
        let mut at_stop = Finish::now(&[]);
        read.set(true);
        at_stop.workers = counted.wait_for(workers);
        stop = Some(at_stop);
        // The threads end and are joined here, outside the timed region, so
        // that none runs into the next run.
        None
    });
    if let Some(failure) = failed {
        return Err(failure);
    }
    if cutoff.passed() {
        return Err(cutoff.failure());
    }
    Ok(Execution {
        outputs: Outputs::Numbers(out),
        setup,
        ready,
        finish: stop.expect("set when no thread failed to start"),
        stderr: Vec::new(),
        children_peak_rss: Some(0),
        timed: None,
        python: None,
    })
}

/// Items per chunk: taking a chunk costs well under a microsecond, so threads
/// can afford about 256 chunks per thread, which keeps the idle tail short
/// when items are slow; at most 8192 items so a task stays cache-sized.
fn thread_chunk(list_size: usize, workers: usize) -> usize {
    list_size.div_ceil(workers.max(1) * 256).clamp(1, 8192)
}

#[cfg(test)]
mod tests {
    use super::thread_chunk;

    #[test]
    fn thread_chunks_are_small_for_short_lists() {
        assert_eq!(thread_chunk(200, 2), 1);
        assert_eq!(thread_chunk(100_000, 2), 196);
        assert_eq!(thread_chunk(100_000_000, 2), 8192);
    }
}
