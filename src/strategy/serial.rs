//! `serial`: the items one after another in the runner's own thread, the
//! baseline every other strategy is compared with.

use std::time::{Duration, Instant};

use super::{Cutoff, Execution, Finish, Outputs, RunFailure, Spread, numbers};
use crate::generator::Items;
use crate::workload::Kernel;

/// Items handed to the kernel at once at most. Blocks start at one item and
/// double while a block is quick, so that slow items still meet the cutoff
/// check often and fast items pay for it rarely.
const MAX_BLOCK: usize = 65_536;

/// Pins the calling thread, serial's worker, to its CPU under `spread` until
/// the guard goes, when its earlier mask comes back. The runner calls it
/// before the clock starts: a pool pins threads it starts inside its timed
/// setup, but serial starts none, and pinning the runner's thread (a
/// system call, often a move to another CPU: longer than a light serial
/// run, such as the seed's, takes as a whole) is bookkeeping, not serial's
/// work.
pub fn pin_worker(spread: &Spread<'_>) -> crate::affinity::PinnedThread {
    crate::affinity::PinnedThread::new(spread.cpus.map(|cpus| cpus[0]))
}

pub fn run(
    kernel: &dyn Kernel,
    items: &Items,
    mut out: Vec<f64>,
    cutoff: &Cutoff,
) -> Result<Execution, RunFailure> {
    let numbers = numbers(items)?;
    // The runner's own thread is serial's worker, already pinned by the
    // runner (see [`pin_worker`]): serial has nothing to start.
    let setup = Duration::ZERO;
    let mut start = 0;
    let mut block = 1;
    while start < numbers.len() {
        if cutoff.passed() {
            return Err(cutoff.failure());
        }
        let end = (start + block).min(numbers.len());
        let began = Instant::now();
        kernel.apply(&numbers[start..end], &mut out[start..end]);
        if began.elapsed() < Duration::from_millis(1) {
            block = (block * 2).min(MAX_BLOCK);
        }
        start = end;
    }
    Ok(Execution {
        children_peak_rss: Some(0),
        outputs: Outputs::Numbers(out),
        setup: Some(setup),
        ready: None,
        finish: Finish::now(&[]),
        stderr: Vec::new(),
        timed: None,
        python: None,
    })
}
