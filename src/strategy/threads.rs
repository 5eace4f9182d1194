//! `threads`: a pool of exactly N OS threads, built inside the timed region
//! as the seed's `ThreadPoolExecutor` was, each pinned to a CPU (see
//! `affinity.rs` for why). The threads share the list in indexed chunks
//! claimed under one lock (`Chunks`) by whoever is free (as the processes pool
//! does), and write the results straight into their chunk's slice of the
//! output, in order.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::chunks::Chunks;
use super::{Cutoff, Execution, Finish, Outputs, RunFailure, Spread};
use crate::interference::Sched;
use crate::workload::Kernel;

pub fn run(
    kernel: &dyn Kernel,
    numbers: &[f64],
    mut out: Vec<f64>,
    spread: Spread<'_>,
    cutoff: &Cutoff,
) -> Result<Execution, RunFailure> {
    let Spread { workers, chunk_size, .. } = spread;
    let started = Instant::now();
    let cpus: Option<Vec<usize>> = spread.cpus.map(<[usize]>::to_vec);
    let exited = Arc::new((Mutex::new(0usize), Condvar::new()));
    let on_exit = Arc::clone(&exited);
    let pool = rayon::ThreadPoolBuilder::new()
        .exit_handler(move |_| {
            let (count, changed) = &*on_exit;
            *count.lock().unwrap_or_else(|poison| poison.into_inner()) += 1;
            changed.notify_all();
        })
        .num_threads(workers)
        .thread_name(|index| format!("parbench-worker-{index}"))
        .start_handler(move |index| {
            if let Some(cpus) = &cpus {
                crate::affinity::pin_current_thread(cpus[index]);
            }
        })
        .build()
        .map_err(|error| RunFailure::Failed(format!("cannot start {workers} threads: {error}")))?;
    // Every thread has started and taken a (trivial) piece of work.
    pool.broadcast(|_| ());
    let setup = started.elapsed();
    // Under an untimed start, the clock starts here, with each thread's
    // counters so far (their start is not the run's).
    let ready = spread.untimed_start().then(|| Finish {
        workers: pool
            .broadcast(|_| Sched::this_thread())
            .into_iter()
            .try_fold(Sched::default(), |sum, sched| Some(sum + sched?)),
        ..Finish::now(&[])
    });

    let chunk = chunk_size.unwrap_or_else(|| thread_chunk(numbers.len(), workers));
    let chunks = Chunks::new(&mut out, chunk);
    // Every thread takes the next chunk from a shared counter as soon as it
    // is free, from the first moment: self-scheduling. rayon's work
    // stealing left threads idle until they woke to steal: 4 items of a
    // 10 ms sleep on 4 threads took 10.6 ms at the median but up to 20 ms
    // when a thread woke late and another ran two items.
    pool.broadcast(|_| {
        while let Some((range, out)) = chunks.claim() {
            if cutoff.passed() {
                break;
            }
            kernel.apply(&numbers[range], out);
        }
    });
    let mut stop = Finish::now(&[]);
    // Each thread's counters over its life so far (it started inside the
    // timed region), read after the clock stops and before the pool winds
    // down: the evidence of other load. The runner's thread waits here, so
    // it keeps no thread from a CPU.
    stop.workers = pool
        .broadcast(|_| Sched::this_thread())
        .into_iter()
        .try_fold(Sched::default(), |sum, sched| Some(sum + sched?));
    // rayon lets a dropped pool's threads wind down on their own; waiting
    // for them (outside the timed region) keeps them from running into the
    // next run: interleaved after threads, a processes pool's setup took
    // 2.16 ms instead of 1.90.
    drop(pool);
    let (count, changed) = &*exited;
    let guard = count.lock().unwrap_or_else(|poison| poison.into_inner());
    let _ = changed.wait_timeout_while(guard, Duration::from_secs(2), |count| *count < workers);
    if cutoff.passed() {
        return Err(cutoff.failure());
    }
    Ok(Execution {
        outputs: Outputs::Numbers(out),
        setup: Some(setup),
        ready,
        finish: stop,
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
