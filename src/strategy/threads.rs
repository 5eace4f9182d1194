//! `threads`: a pool of exactly N OS threads, built inside the timed region
//! as the seed's `ThreadPoolExecutor` was, each pinned to a CPU (see
//! `affinity.rs` for why). rayon splits the list into
//! indexed chunks and steals work between threads; each chunk writes its
//! results straight into its own slice of the output, in order, with no lock.

use std::time::Instant;

use rayon::prelude::*;

use super::{Deadline, Execution, Outputs, RunFailure, numbers};
use crate::generator::Items;
use crate::workload::Kernel;

pub fn run(
    kernel: &dyn Kernel,
    items: &Items,
    workers: usize,
    chunk_size: Option<usize>,
    deadline: &Deadline,
) -> Result<Execution, RunFailure> {
    let numbers = numbers(items)?;
    let started = Instant::now();
    let cpus = crate::affinity::allowed_cpus();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|index| format!("parbench-worker-{index}"))
        .start_handler(move |index| {
            if !cpus.is_empty() {
                crate::affinity::pin_current_thread(cpus[index % cpus.len()]);
            }
        })
        .build()
        .map_err(|error| RunFailure::Failed(format!("cannot start {workers} threads: {error}")))?;
    // Every thread has started and taken a (trivial) piece of work.
    pool.broadcast(|_| ());
    let setup = started.elapsed();

    let chunk = chunk_size.unwrap_or_else(|| thread_chunk(numbers.len(), workers));
    let mut out = vec![0.0f64; numbers.len()];
    pool.install(|| {
        out.par_chunks_mut(chunk)
            .zip(numbers.par_chunks(chunk))
            // One chunk per task: without this rayon stops splitting once
            // every thread has work, and a leaf of many slow chunks that
            // cannot be stolen leaves the other threads idle at the end.
            .with_max_len(1)
            .for_each(|(out, input)| {
                if !deadline.passed() {
                    kernel.apply(input, out);
                }
            });
    });
    let finished = Instant::now();
    if deadline.passed() {
        return Err(deadline.failure());
    }
    Ok(Execution { outputs: Outputs::Numbers(out), setup, finished, stderr: Vec::new() })
}

/// Items per task: a task costs rayon well under a microsecond, so threads
/// can afford about 256 tasks per thread, which keeps the idle tail short
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
