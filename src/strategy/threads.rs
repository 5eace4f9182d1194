//! `threads`: a pool of exactly N OS threads, built inside the timed region
//! as the seed's `ThreadPoolExecutor` was. rayon splits the list into
//! indexed chunks and steals work between threads; each chunk writes its
//! results straight into its own slice of the output, in order, with no lock.

use std::time::Instant;

use rayon::prelude::*;

use super::{Deadline, Execution, Outputs, RunFailure, chunk_auto, numbers};
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
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|index| format!("parbench-worker-{index}"))
        .build()
        .map_err(|error| RunFailure::Failed(format!("cannot start {workers} threads: {error}")))?;
    // Every thread has started and taken a (trivial) piece of work.
    pool.broadcast(|_| ());
    let setup = started.elapsed();

    let chunk = chunk_size.unwrap_or_else(|| chunk_auto(numbers.len(), workers));
    let mut out = vec![0.0f64; numbers.len()];
    pool.install(|| {
        out.par_chunks_mut(chunk)
            .zip(numbers.par_chunks(chunk))
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
    Ok(Execution {
        outputs: Outputs::Numbers(out),
        setup,
        finished,
        stderr: Vec::new(),
    })
}
