//! Intervals over blocks of processes (`process`): what the next
//! invocation sees, where one process's runs would not say it.

use super::*;

/// Runs of one entry as rows: `levels[p]` is process `p`'s level, each run
/// that level times its own noise; `process` says the block (or, `None`,
/// each run is its own, as in rows of older versions).
fn process_rows(
    levels: &[f64],
    runs: usize,
    noise: &mut impl FnMut() -> f64,
    blocks: bool,
) -> Vec<BTreeMap<String, String>> {
    let mut rows = Vec::new();
    for (process, level) in levels.iter().enumerate() {
        for run in 0..runs {
            let repetition = (process * runs + run + 1) as u32;
            let mut row = row("serial", 1, 10, repetition, level * (1.0 + 0.003 * noise()));
            if blocks {
                row.insert("process".to_owned(), (process + 1).to_string());
            }
            rows.push(row);
        }
    }
    rows
}

#[test]
fn an_interval_over_processes_covers_the_true_median_where_one_process_would_not() {
    // Each process has a level of its own (3% spread, as layout and hash
    // seeds give a Python function); its runs vary 0.3% around it. The
    // true median is 1.
    let mut state = 37_u64;
    let mut normal = move || {
        let uniform = |state: &mut u64| (crate::stats::splitmix64(state) >> 11) as f64 / (1u64 << 53) as f64;
        let (a, b) = (uniform(&mut state).max(1e-300), uniform(&mut state));
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    };
    let covers = |rows: &[BTreeMap<String, String>]| {
        let analysis = analyze(rows).unwrap();
        let entry = &analysis.entries[0];
        entry.median_ci.is_some_and(|(low, high)| low <= 1.0 && 1.0 <= high)
    };
    let trials = 200;
    let (mut spread, mut one) = (0, 0);
    for _ in 0..trials {
        let levels: Vec<f64> = (0..8).map(|_| 1.0 + 0.03 * normal()).collect();
        spread += usize::from(covers(&process_rows(&levels, 3, &mut normal, true)));
        // The same 24 runs in one process: one level, sampled once.
        let level = [1.0 + 0.03 * normal()];
        one += usize::from(covers(&process_rows(&level, 24, &mut normal, false)));
    }
    let (spread, one) = (spread as f64 / trials as f64, one as f64 / trials as f64);
    eprintln!(
        "coverage of the true median: 8 processes × 3 runs {spread:.3}; 24 runs of one process {one:.3}"
    );
    assert!(
        spread >= 0.90,
        "8 processes of 3 runs: the 95% interval covered the true median {spread:.3} of the time"
    );
    assert!(one < 0.5, "24 runs of one process: {one:.3}");
}
