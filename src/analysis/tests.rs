use std::collections::BTreeMap;

use super::*;

// Test code throughout, as this module is: marked so that the layering
// check reads them as tests.
#[cfg(test)]
mod busy;
#[cfg(test)]
mod invocations;
#[cfg(test)]
mod processes;

fn analyze(rows: &[BTreeMap<String, String>]) -> Result<Analysis, String> {
    super::analyze_cells(rows)
}

fn row(strategy: &str, workers: usize, size: usize, repetition: u32, wall: f64) -> BTreeMap<String, String> {
    [
        ("job", "j".to_owned()),
        ("host", "h".to_owned()),
        ("workload", "w".to_owned()),
        ("generator", "range".to_owned()),
        ("list_size", size.to_string()),
        ("strategy", strategy.to_owned()),
        ("workers", workers.to_string()),
        ("chunk_size", String::new()),
        ("repetition", repetition.to_string()),
        ("status", "ok".to_owned()),
        ("wall_s", wall.to_string()),
        ("cpu_s", wall.to_string()),
        ("cpus", "2".to_owned()),
        ("error", String::new()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect()
}

#[test]
fn intervals_come_from_order_statistics_and_speedups_from_rounds() {
    // Serial drifts from round to round; threads always takes half.
    let mut rows = Vec::new();
    for repetition in 1..=10 {
        let serial = 1.0 + f64::from(repetition) / 10.0;
        rows.push(row("serial", 1, 10, repetition, serial));
        rows.push(row("threads", 2, 10, repetition, serial / 2.0));
    }
    let analysis = analyze(&rows).unwrap();
    let (serial, threads) = (&analysis.entries[0], &analysis.entries[1]);
    // The 2nd and 9th of ten values, at 1 - 22/1024.
    assert_eq!(serial.median_ci, Some((1.2, 1.9)));
    assert_eq!(serial.median_ci_level, Some(1.0 - 22.0 / 1024.0));
    assert_eq!((serial.speedup, serial.speedup_ci, serial.verdict), (Some(1.0), Some((1.0, 1.0)), None));
    // Paired, the drift cancels: exactly 2 at both ends.
    assert_eq!(threads.speedup, Some(2.0));
    assert_eq!(threads.speedup_ci, Some((2.0, 2.0)));
    assert_eq!(threads.verdict, Some(Verdict::Beats));
    // Five runs: no interval, and the level says what min … max covers.
    let five = analyze(&rows[..10]).unwrap();
    assert_eq!((five.entries[0].median_ci, five.entries[0].median_ci_level), (None, Some(0.9375)));
    assert_eq!(five.entries[0].speedup_ci, Some((1.0, 1.0)), "serial is exactly 1 whatever the runs");
    assert_eq!(five.entries[1].verdict, Some(Verdict::NoClearDifference));
}

#[test]
fn hostile_counts_and_times_are_named_not_saturated() {
    let damaged = |column: &str, text: &str| {
        let mut bad = row("threads", 2, 10, 1, 1.0);
        bad.insert(column.to_owned(), text.to_owned());
        analyze(&[bad]).map(|_| ()).unwrap_err()
    };
    assert_eq!(damaged("workers", "inf"), "row 2: \"workers\" is not a whole number: \"inf\"");
    assert_eq!(damaged("workers", "2.5"), "row 2: \"workers\" is not a whole number: \"2.5\"");
    assert_eq!(damaged("list_size", "-3"), "row 2: \"list_size\" is not a whole number: \"-3\"");
    assert_eq!(damaged("repetition", "4294967296"), "row 2: \"repetition\" is too large");
    let refused = |cell: &str| {
        format!("row 2: \"wall_s\" is not a time a run can take (0 to a century, in seconds): \"{cell}\"")
    };
    assert_eq!(damaged("wall_s", "-1"), refused("-1"));
    assert_eq!(damaged("wall_s", "NaN"), refused("NaN"));
    assert_eq!(damaged("wall_s", "1e308"), refused("1e308"));
    assert!(damaged("wall_s", "3155760001").starts_with("row 2"), "a century and a second");
    assert!(analyze(&[row("threads", 2, 10, 1, 1.0)]).is_ok());
}

#[test]
fn tukey_fences_find_the_straggler() {
    assert_eq!(outliers(&[1.0, 1.01, 0.99, 1.02, 0.98, 5.0]), 1);
    assert_eq!(outliers(&[1.0, 1.01, 0.99, 1.02]), 0);
}

#[test]
fn speedups_come_from_the_groups_serial_entry() {
    let mut rows = Vec::new();
    for repetition in 1..=3 {
        rows.push(row("serial", 1, 10, repetition, 2.0));
        rows.push(row("threads", 2, 10, repetition, 1.0));
        rows.push(row("threads", 4, 10, repetition, 1.0));
    }
    let analysis = analyze(&rows).unwrap();
    assert_eq!(analysis.entries.len(), 3);
    assert_eq!(analysis.entries[1].speedup, Some(2.0));
    assert_eq!(analysis.entries[1].efficiency(), Some(1.0));
    let warnings = crate::report::words::warnings(&analysis);
    // One group: its list size is in its heading, not in every sentence.
    assert_eq!(
        warnings,
        vec![
            "more workers than CPUs (2) in w · threads ×4: CPU-bound work cannot gain past 2",
            "too few runs for a 95% interval of the median in w · serial and 2 other entries: \
             min … max of 3 blocks of processes covers it 75% of the time, and it takes 6: use repetitions = \"auto\""
        ]
    );
}

#[test]
fn the_crossover_is_where_a_strategy_starts_to_stay_ahead() {
    let mut rows = Vec::new();
    for (size, serial, threads) in [(10, 1.0, 3.0), (100, 2.0, 2.5), (1000, 4.0, 2.0), (10000, 8.0, 3.2)] {
        for repetition in 1..=10 {
            rows.push(row("serial", 1, size, repetition, serial));
            rows.push(row("threads", 2, size, repetition, threads));
        }
    }
    let sentences = crate::report::words::crossover(&analyze(&rows).unwrap());
    assert_eq!(
        sentences,
        vec![
            "w: threads ×2 beats serial from 1000 items on (2.00×, 95% CI 2.00× … 2.00× there; best 2.50× at 10000 items)"
        ]
    );
    // With three runs there is no interval, so no verdict of "beats".
    let few: Vec<_> =
        rows.iter().filter(|row| row["repetition"].parse::<u32>().unwrap() <= 3).cloned().collect();
    let sentences = crate::report::words::crossover(&analyze(&few).unwrap());
    assert_eq!(
        sentences,
        vec!["w: threads ×2 never clearly beats serial for size 10..10000 (best 2.50× at 10000 items)"]
    );
}

#[test]
fn crossovers_are_listed_by_strategy_name_as_before_strategies_were_typed() {
    let mut rows = Vec::new();
    for repetition in 1..=10 {
        rows.push(row("serial", 1, 10, repetition, 2.0));
        rows.push(row("threads", 2, 10, repetition, 1.0));
        rows.push(row("processes", 2, 10, repetition, 1.0));
    }
    let strategies: Vec<Strategy> = crossover(&analyze(&rows).unwrap())
        .iter()
        .map(|found| match found {
            Crossover::Point { strategy, .. } => *strategy,
            Crossover::Series(series) => series.strategy,
        })
        .collect();
    assert_eq!(strategies, [Strategy::Processes, Strategy::Threads]);
}

#[test]
fn the_best_chunk_size_is_named_as_chosen_after_measuring() {
    let mut rows = Vec::new();
    for repetition in 1..=10 {
        rows.push(row("serial", 1, 10, repetition, 2.0));
        for (chunk, wall) in [("1", 1.0), ("4", 1.9)] {
            let mut cells = row("processes", 2, 10, repetition, wall);
            cells.insert("chunk_size".to_owned(), chunk.to_owned());
            rows.push(cells);
        }
    }
    let sentences = crate::report::words::crossover(&analyze(&rows).unwrap());
    assert_eq!(
        sentences,
        vec![
            "w: processes ×2 with chunk 1, the best of 2 chunk sizes, chosen after measuring beats serial (2.00×, 95% CI 2.00× … 2.00×)"
        ]
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use proptest::strategy::Strategy;

    fn cell() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("0".to_owned()),
            Just("nan".to_owned()),
            Just("inf".to_owned()),
            Just("-1".to_owned()),
            Just("".to_owned()),
            Just("abc".to_owned()),
            (0.0f64..10.0).prop_map(|value| value.to_string()),
            (1usize..5).prop_map(|value| value.to_string()),
        ]
    }

    fn row() -> impl Strategy<Value = BTreeMap<String, String>> {
        (
            prop::sample::select(vec!["serial", "threads", "processes"]),
            cell(),
            cell(),
            cell(),
            cell(),
            prop::sample::select(vec!["ok", "failed", "mismatch"]),
            prop::option::of(cell()),
            prop::bool::ANY,
        )
            .prop_map(|(strategy, workers, size, repetition, wall, status, param, disturbed)| {
                let mut row = run(strategy, &workers, &size, &repetition, &wall);
                row.insert("status".to_owned(), status.to_owned());
                row.insert("disturbed".to_owned(), disturbed.to_string());
                if let Some(param) = param {
                    row.insert("param_x".to_owned(), param);
                }
                row
            })
    }

    fn run(
        strategy: &str,
        workers: &str,
        size: &str,
        repetition: &str,
        wall: &str,
    ) -> BTreeMap<String, String> {
        [
            ("job", "j"),
            ("host", "h"),
            ("workload", "w"),
            ("generator", "range"),
            ("strategy", strategy),
            ("chunk_size", ""),
            ("status", "ok"),
            ("cpu_s", "0"),
            ("cpus", "2"),
            ("error", ""),
            ("workers", workers),
            ("list_size", size),
            ("repetition", repetition),
            ("wall_s", wall),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
    }

    /// Found hanging (or panicking) the HTML report: 10^15 workers asked
    /// plotters for a label at every worker count (and overflowed `usize`),
    /// and 10^300 s against 10^18 items made a log axis whose ends' ratio
    /// overflows, which plotters steps through ~`usize::MAX` times. Each
    /// case must end, with a report and no panic. ("inf" or "1e15" workers
    /// are refused before that: a count is a whole number.)
    #[test]
    fn huge_worker_counts_sizes_and_times_give_a_report() {
        let serial_and_threads =
            |workers| vec![run("serial", "1", "4", "1", "1"), run("threads", workers, "4", "1", "0.5")];
        for workers in ["1000000000000000", "100000"] {
            let analysis = analyze(&serial_and_threads(workers)).unwrap();
            let answers = crate::analysis::answers::answers(&analysis, Some(64));
            assert!(
                crate::report::html::render(&analysis, &answers).contains("</html>"),
                "workers {workers}"
            );
        }
        let huge = "18446744073709551615";
        for (size, wall) in [("1000000000000000000", "3e9"), (huge, "1e-300"), ("1", "3e9"), (huge, "5e-324")]
        {
            let mut rows = Vec::new();
            for list_size in ["1", "4", size] {
                for repetition in ["1", "2", "3"] {
                    rows.push(run(
                        "serial",
                        "1",
                        list_size,
                        repetition,
                        if list_size == size { wall } else { "1" },
                    ));
                    rows.push(run("threads", "2", list_size, repetition, "0.5"));
                    rows.push(run("processes", huge, list_size, repetition, wall));
                }
            }
            let analysis = analyze(&rows).unwrap();
            let answers = crate::analysis::answers::answers(&analysis, Some(64));
            assert!(
                crate::report::html::render(&analysis, &answers).contains("</html>"),
                "{size} items, {wall} s"
            );
            let _ = crate::report::html::charts(&analysis, &answers);
        }
        for workers in ["inf", "1e15"] {
            let error = analyze(&serial_and_threads(workers)).unwrap_err();
            assert!(error.contains("\"workers\" is not a whole number"));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

        /// `report` reads any CSV a person hands it: whatever the cells
        /// hold, an error or a report, never a panic.
        #[test]
        fn any_rows_give_an_error_or_a_report(rows in prop::collection::vec(row(), 0..12)) {
            if let Ok(analysis) = analyze(&rows) {
                let _ = crate::report::table::render(&analysis);
                let _ = crate::report::summary::to_csv(&analysis);
                let _ = crate::report::markdown::render(&analysis);
                let answers = crate::analysis::answers::answers(&analysis, Some(64));
                let _ = crate::report::json::render(&analysis, &answers);
                let _ = crate::report::scaling::to_csv(&answers, &analysis.param_names);
                let _ = crate::report::scaling::text(&answers, 1);
                let _ = crate::report::html::render(&analysis, &answers);
                let _ = compare::compare(&analysis, &analysis, 0.05);
            }
        }
    }
}

#[test]
fn a_cpu_bound_speedup_past_the_usable_cpus_is_named_and_never_recommended() {
    // Two CPUs; serial kept its CPU busy, threads ×2 came out 3× faster
    // (serial's rounds fell in a busier minute).
    let mut rows = Vec::new();
    for repetition in 1..=10 {
        rows.push(row("serial", 1, 10, repetition, 3.0));
        rows.push(row("threads", 2, 10, repetition, 1.0));
    }
    let analysis = analyze(&rows).unwrap();
    assert!(warnings(&analysis).iter().any(|warning| matches!(
        warning,
        Warning::BeyondCpus { speedup, cpus_usable: 2, .. } if (*speedup - 3.0).abs() < 1e-9
    )));
    let answers = answers::answers(&analysis, None);
    let choice = &answers.recommendations[0].choices[0];
    assert_eq!((choice.strategy.name(), choice.workers), ("serial", 1), "{choice:?}");
    // 1.9× on two CPUs is physics, not a warning.
    let mut rows = Vec::new();
    for repetition in 1..=10 {
        rows.push(row("serial", 1, 10, repetition, 1.9));
        rows.push(row("threads", 2, 10, repetition, 1.0));
    }
    let analysis = analyze(&rows).unwrap();
    assert!(!warnings(&analysis).iter().any(|warning| matches!(warning, Warning::BeyondCpus { .. })));
    let choice = &answers::answers(&analysis, None).recommendations[0].choices[0];
    assert_eq!((choice.strategy.name(), choice.workers), ("threads", 2), "{choice:?}");
}

#[test]
fn without_serial_the_entries_are_compared_with_the_fewest_workers() {
    let mut rows = Vec::new();
    for repetition in 1..=10 {
        let drift = 1.0 + f64::from(repetition % 3) / 10.0;
        rows.push(row("threads", 1, 10, repetition, 0.04 * drift));
        rows.push(row("threads", 2, 10, repetition, 0.02 * drift));
    }
    let analysis = analyze(&rows).unwrap();
    let choice = &answers::answers(&analysis, None).recommendations[0].choices[0];
    assert_eq!((choice.strategy.name(), choice.workers), ("threads", 2), "{choice:?}");
    assert_eq!(choice.reference, Some((Strategy::Threads, 1)));
    assert!((choice.speedup - 2.0).abs() < 1e-9, "{choice:?}");
    // Nothing clearly faster: the fewest workers, never serial.
    let mut rows = Vec::new();
    for repetition in 1..=10 {
        let noise = 1.0 + f64::from(repetition % 4) / 100.0;
        let other = 1.0 + f64::from((repetition + 2) % 4) / 100.0;
        rows.push(row("threads", 1, 10, repetition, 0.04 * noise));
        rows.push(row("processes", 2, 10, repetition, 0.04 * other));
    }
    let analysis = analyze(&rows).unwrap();
    let choice = &answers::answers(&analysis, None).recommendations[0].choices[0];
    assert_eq!((choice.strategy.name(), choice.workers), ("threads", 1), "{choice:?}");
    assert!(choice.rest_within_noise);
}

#[test]
fn no_clear_difference_is_never_recommended_over_serial() {
    // Three rounds: processes ×2 measured 1.08× faster, with no interval.
    let mut rows = Vec::new();
    for repetition in 1..=3 {
        rows.push(row("serial", 1, 100, repetition, 1.08));
        rows.push(row("processes", 2, 100, repetition, 1.0));
    }
    let analysis = analyze(&rows).unwrap();
    assert_eq!(analysis.entries[1].verdict, Some(Verdict::NoClearDifference));
    let choice = &answers::answers(&analysis, None).recommendations[0].choices[0];
    assert_eq!(choice.strategy, Strategy::Serial, "{choice:?}");
    assert!(choice.rest_within_noise);
}

/// A sentence names an entry by what tells it apart from the other groups:
/// a parameter every group shares is left to the headings, a list size that
/// differs is kept.
#[test]
fn sentences_name_entries_by_what_differs_between_groups() {
    let mut rows = Vec::new();
    for size in [10, 20] {
        for repetition in 1..=3 {
            for (strategy, workers, wall) in [("serial", 1, 2.0), ("threads", 4, 1.0)] {
                let mut cells = row(strategy, workers, size, repetition, wall);
                cells.insert("param_interpreter".to_owned(), "python3".to_owned());
                rows.push(cells);
            }
        }
    }
    let said = crate::report::words::warnings(&analyze(&rows).unwrap()).join("\n");
    assert!(said.contains("in w · range 10 items · threads ×4"), "{said}");
    assert!(!said.contains("interpreter=python3"), "{said}");
}

#[test]
fn a_per_run_columns_median_is_over_the_undisturbed_ok_runs_that_have_it() {
    let mut rows = Vec::new();
    for (repetition, switches, disturbed) in
        [(1, "3", "false"), (2, "5", "false"), (3, "", "false"), (4, "900", "true"), (5, "4", "false")]
    {
        let mut run = row("serial", 1, 10, repetition, 1.0);
        run.insert("ctx_switches".to_owned(), switches.to_owned());
        run.insert("disturbed".to_owned(), disturbed.to_owned());
        rows.push(run);
    }
    let analysis = analyze(&rows).unwrap();
    let at = crate::results::MEDIANS.iter().position(|median| median.name == "median_ctx_switches").unwrap();
    assert_eq!(
        analysis.entries[0].medians[at],
        Some(4.0),
        "3, 4 and 5; the disturbed 900 and the empty left out"
    );
    let summary = String::from_utf8(crate::report::summary::to_csv(&analysis)).unwrap();
    assert!(summary.lines().next().unwrap().ends_with(",median_ctx_switches,invocations"), "{summary}");
    assert!(summary.lines().nth(1).unwrap().ends_with(",4.00000,1"), "{summary}");
}
