use std::collections::BTreeMap;

use super::*;

/// Rows of one job on a host with `cpus` CPUs: (strategy, workers,
/// seconds) at 64 items, with drift and a little noise per round.
fn analysis(cpus: usize, entries: &[(&str, usize, f64)]) -> Analysis {
    let entries: Vec<Measured> = entries
        .iter()
        .map(|(strategy, workers, seconds)| (64, *strategy, *workers, *seconds, "ok"))
        .collect();
    with_statuses(cpus, 9, &entries)
}

/// (list size, strategy, workers, seconds, status of every run).
type Measured<'a> = (usize, &'a str, usize, f64, &'a str);

/// Rows of one job as [`analysis`] makes them, over `rounds` rounds, at
/// each entry's list size and with its status.
fn with_statuses(cpus: usize, rounds: u32, entries: &[Measured]) -> Analysis {
    let mut rows = Vec::new();
    for round in 1..=rounds {
        let drift = 1.0 + 0.02 * ((round * 7) % 5) as f64;
        for (index, (list_size, strategy, workers, seconds, status)) in entries.iter().enumerate() {
            let noise = 1.0 + 0.004 * (((round as usize * 13 + index * 5) % 7) as f64 - 3.0);
            let error = if *status == "ok" { String::new() } else { format!("{status} in round {round}") };
            let row: BTreeMap<String, String> = [
                ("job", "j".to_owned()),
                ("host", "h".to_owned()),
                ("workload", "spin".to_owned()),
                ("generator", "range".to_owned()),
                ("list_size", list_size.to_string()),
                ("strategy", strategy.to_string()),
                ("workers", workers.to_string()),
                ("chunk_size", String::new()),
                ("repetition", round.to_string()),
                ("status", status.to_string()),
                ("wall_s", (seconds * drift * noise).to_string()),
                ("cpu_s", "0".to_owned()),
                ("cpus", cpus.to_string()),
                ("error", error),
            ]
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect();
            rows.push(row);
        }
    }
    super::super::analyze_cells(&rows).unwrap()
}

/// The recommendation sentence of the only workload.
fn sentence(analysis: &Analysis) -> String {
    let answers = answers(analysis, None);
    assert_eq!(answers.recommendations.len(), 1, "{answers:?}");
    crate::report::scaling::recommendation_sentence(&answers.recommendations[0], 1)
}

#[test]
fn cpu_bound_work_past_the_cpus_gets_no_curve_above_what_the_cpus_give() {
    let mut entries = vec![("serial", 1, 0.064)];
    entries.extend([1, 2, 3, 4, 6, 8].map(|workers| ("threads", workers, 0.064 / workers.min(2) as f64)));
    let answers = answers(&analysis(2, &entries), Some(64));
    let fit = &answers.workers[0];
    assert!(fit.stops_at_cpus);
    let (usl, amdahl) = (fit.usl.as_ref().unwrap(), fit.amdahl.as_ref().unwrap());
    for workers in 1..=64 {
        let n = workers as f64;
        assert!(usl.model.speedup(n) <= 2.2 && amdahl.speedup(n) <= 2.2, "at {workers}: {usl:?} {amdahl:?}");
    }
    assert_eq!(answers.recommendations[0].choices[0].workers, 2);
    assert_eq!(answers.recommendations[0].capped_at, Some(2));
    // Where the same points come from a host with 8 CPUs, they are a
    // real limit of the work, and no cap applies.
    let eight = super::answers(&analysis(8, &entries), None);
    assert!(!eight.workers[0].stops_at_cpus);
    assert_eq!(eight.recommendations[0].capped_at, None);
}

#[test]
fn a_prediction_within_twice_the_measured_counts_is_no_extrapolation() {
    let mut entries = vec![("serial", 1, 1.0)];
    entries.extend([1, 2, 4, 8].map(|workers| ("threads", workers, 0.05 + 0.95 / workers as f64)));
    let analysis = analysis(16, &entries);
    let fit = &answers(&analysis, None).workers[0];
    let near = fit.predict(16).unwrap();
    assert!(!near.extrapolated && near.model == Model::Usl, "{near:?}");
    let far = fit.predict(17).unwrap();
    assert!(far.extrapolated);
    let (low, high) = near.speedup.interval.unwrap();
    assert!(low <= near.speedup.value && near.speedup.value <= high, "{near:?}");
    // Amdahl with f = 0.05 gives 9.14× at 16.
    assert!((near.speedup.value - 9.14).abs() < 0.5, "{near:?}");
}

#[test]
fn a_serial_that_failed_every_run_is_never_recommended() {
    // A command job whose every run timed out: serial alone.
    let timed_out = with_statuses(4, 3, &[(1, "serial", 1, 1.0, "timeout")]);
    let answers = answers(&timed_out, None);
    let recommendation = &answers.recommendations[0];
    assert_eq!(recommendation.choices, []);
    assert_eq!(recommendation.failed.len(), 1);
    assert_eq!(sentence(&timed_out), "spin: no recommendation: serial failed all 3 runs (timeout).");

    // Pools that ran ok are not compared with a serial that never did.
    let pools_ok = with_statuses(
        4,
        3,
        &[(64, "serial", 1, 1.0, "failed"), (64, "threads", 2, 0.5, "ok"), (64, "threads", 4, 0.3, "ok")],
    );
    assert_eq!(sentence(&pools_ok), "spin: no recommendation: serial failed all 3 runs (failed).");

    // At another size serial ran ok: that size keeps its choice.
    let one_size = with_statuses(
        4,
        9,
        &[
            (8, "serial", 1, 1.0, "timeout"),
            (8, "threads", 2, 0.5, "ok"),
            (64, "serial", 1, 1.0, "ok"),
            (64, "threads", 2, 0.5, "ok"),
        ],
    );
    let said = sentence(&one_size);
    assert!(
        said.starts_with("spin: use threads ×2 at 64 items (")
            && said.ends_with("; no recommendation where serial failed all 9 runs at 8 items (timeout)."),
        "{said}"
    );
}

#[test]
fn without_serial_an_entry_that_failed_every_run_is_no_reference() {
    let none_ok =
        with_statuses(4, 3, &[(64, "threads", 2, 1.0, "timeout"), (64, "processes", 2, 1.0, "mismatch")]);
    assert_eq!(
        sentence(&none_ok),
        "spin: no recommendation: threads ×2 failed all 3 runs (timeout) and processes ×2 failed all 3 runs \
         (mismatch)."
    );
    // The fewest workers failed: the reference is the next that ran ok.
    let fewest_failed = with_statuses(
        4,
        9,
        &[(64, "threads", 1, 1.0, "timeout"), (64, "threads", 2, 0.5, "ok"), (64, "threads", 4, 0.25, "ok")],
    );
    let answers = answers(&fewest_failed, None);
    let choice = &answers.recommendations[0].choices[0];
    assert_eq!(choice.reference, Some((Strategy::Threads, 2)), "{choice:?}");
    assert_eq!((choice.strategy.name(), choice.workers), ("threads", 4), "{choice:?}");
}
