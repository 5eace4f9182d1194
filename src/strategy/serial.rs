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

pub fn run(
    kernel: &dyn Kernel,
    items: &Items,
    spread: Spread<'_>,
    cutoff: &Cutoff,
) -> Result<Execution, RunFailure> {
    let numbers = numbers(items)?;
    // The runner's own thread is serial's worker: pinned for this run like
    // any pool's worker, its earlier mask back when the guard goes.
    let started = Instant::now();
    let _pinned = crate::affinity::PinnedThread::new(spread.cpus.map(|cpus| cpus[0]));
    let setup = started.elapsed();
    let mut out = vec![0.0f64; numbers.len()];
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
        finish: Finish::now(&[]),
        stderr: Vec::new(),
        timed: None,
        python: None,
    })
}
