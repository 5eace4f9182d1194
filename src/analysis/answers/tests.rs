use std::collections::BTreeMap;

use super::*;

/// Rows of one job on a host with `cpus` CPUs: (strategy, workers,
/// seconds) at 64 items, with drift and a little noise per round.
fn analysis(cpus: usize, entries: &[(&str, usize, f64)]) -> Analysis {
    let mut rows = Vec::new();
    for round in 1..=9u32 {
        let drift = 1.0 + 0.02 * ((round * 7) % 5) as f64;
        for (index, (strategy, workers, seconds)) in entries.iter().enumerate() {
            let noise = 1.0 + 0.004 * (((round as usize * 13 + index * 5) % 7) as f64 - 3.0);
            let row: BTreeMap<String, String> = [
                ("job", "j".to_owned()),
                ("host", "h".to_owned()),
                ("workload", "spin".to_owned()),
                ("generator", "range".to_owned()),
                ("list_size", "64".to_owned()),
                ("strategy", strategy.to_string()),
                ("workers", workers.to_string()),
                ("chunk_size", String::new()),
                ("repetition", round.to_string()),
                ("status", "ok".to_owned()),
                ("wall_s", (seconds * drift * noise).to_string()),
                ("cpu_s", "0".to_owned()),
                ("cpus", cpus.to_string()),
                ("error", String::new()),
            ]
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect();
            rows.push(row);
        }
    }
    super::super::analyze_cells(&rows).unwrap()
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
