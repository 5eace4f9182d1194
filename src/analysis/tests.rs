use std::collections::BTreeMap;

use super::*;

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

fn disturbed(mut row: BTreeMap<String, String>, disturbed: bool) -> BTreeMap<String, String> {
    row.insert("disturbed".to_owned(), disturbed.to_string());
    row
}

#[test]
fn disturbed_runs_are_always_left_out_and_too_few_undisturbed_ones_leave_an_entry_not_judged() {
    // Ten rounds; rounds 4 and 5 of serial ran beside a hog and took twice
    // as long.
    let mut rows = Vec::new();
    for repetition in 1..=10 {
        let hog = repetition == 4 || repetition == 5;
        rows.push(disturbed(row("serial", 1, 10, repetition, if hog { 2.0 } else { 1.0 }), hog));
        rows.push(disturbed(row("threads", 2, 10, repetition, 0.5), false));
    }
    let analysis = analyze(&rows).unwrap();
    let (serial, threads) = (&analysis.entries[0], &analysis.entries[1]);
    assert_eq!((serial.disturbed_runs(), serial.busy, serial.ok_runs.len()), (2, None, 10));
    assert_eq!(serial.walls.len(), 8, "the statistics leave the disturbed runs out");
    assert_eq!(serial.wall.as_ref().unwrap().max, 1.0);
    // The speedup pairs only rounds where serial was undisturbed: exactly 2.
    assert_eq!((threads.speedup_ci, threads.verdict), (Some((2.0, 2.0)), Some(Verdict::Beats)));
    assert!(warnings(&analysis).iter().any(|warning| matches!(
        warning,
        Warning::Disturbed { left_out, not_judged } if left_out.len() == 1 && left_out[0].1 == 2 && not_judged.is_empty()
    )));
    // Six rounds, two of serial's disturbed: four undisturbed hold no
    // interval where six would have. Serial is not judged, nor is threads
    // against it; the statistics still leave the disturbed runs out.
    let few: Vec<_> = rows.into_iter().filter(|row| row["repetition"].parse::<u32>().unwrap() <= 6).collect();
    let analysis = analyze(&few).unwrap();
    let (serial, threads) = (&analysis.entries[0], &analysis.entries[1]);
    let busy = Busy { runs_of: RunsOf::Entry, disturbed: 2, runs: 6 };
    assert_eq!((serial.walls.len(), serial.busy, serial.speedup), (4, Some(busy), None));
    assert_eq!(threads.busy, Some(Busy { runs_of: RunsOf::Serial, ..busy }));
    assert_eq!((threads.speedup, threads.speedup_ci, threads.verdict), (None, None, None));
    assert_eq!(threads.walls.len(), 6, "threads' own runs were all undisturbed");
    let said = crate::report::words::warnings(&analysis).join("\n");
    assert!(
        said.contains(
            "w · serial (busy: 2 of 6 runs disturbed) and the entry judged against it: \
             not judged (busy); run again when the machine is quiet, or set fixed repetitions"
        ),
        "{said}"
    );
    assert!(!said.contains("kept"), "{said}");
    let table = crate::report::table::render(&analysis);
    assert!(table.contains("not judged (busy: 2 of 6 runs disturbed)"), "{table}");
    assert!(table.contains("not judged (busy: 2 of 6 serial runs disturbed)"), "{table}");
}

#[test]
fn an_entry_without_disturbed_runs_is_judged_whatever_its_run_count() {
    // Two runs each, none disturbed: judged as ever (no interval, so no
    // clear difference), never "busy".
    let rows: Vec<_> = (1..=2)
        .flat_map(|repetition| {
            [row("serial", 1, 10, repetition, 1.0), row("threads", 2, 10, repetition, 0.5)]
        })
        .collect();
    let analysis = analyze(&rows).unwrap();
    assert_eq!(analysis.entries[1].busy, None);
    assert_eq!(analysis.entries[1].verdict, Some(Verdict::NoClearDifference));
    // Three undisturbed runs beside one disturbed, where four would hold no
    // interval either: judged from the three.
    let mut rows = Vec::new();
    for repetition in 1..=4 {
        rows.push(row("serial", 1, 10, repetition, 1.0));
        rows.push(disturbed(row("threads", 2, 10, repetition, 0.5), repetition == 4));
    }
    let analysis = analyze(&rows).unwrap();
    assert_eq!((analysis.entries[1].busy, analysis.entries[1].walls.len()), (None, 3));
    assert_eq!(analysis.entries[1].verdict, Some(Verdict::NoClearDifference));
}

/// Ten rounds at 10 items: serial at 1 s, processes ×2 at 0.5 s, and
/// threads ×2 at 0.4 s in rounds 1 to 5 but beside a hog in 6 to 10 (the
/// GIL-bound Python of issue 31: "faster" only while disturbed).
fn one_busy_entry() -> Vec<BTreeMap<String, String>> {
    let mut rows = Vec::new();
    for repetition in 1..=10 {
        rows.push(row("serial", 1, 10, repetition, 1.0));
        rows.push(row("processes", 2, 10, repetition, 0.5));
        rows.push(disturbed(row("threads", 2, 10, repetition, 0.4), repetition > 5));
    }
    rows
}

#[test]
fn a_busy_entry_gets_no_verdict_and_is_never_recommended_nor_compared_with() {
    let analysis = analyze(&one_busy_entry()).unwrap();
    let threads = analysis.entries.iter().find(|entry| entry.id.strategy == Strategy::Threads).unwrap();
    assert_eq!(threads.busy, Some(Busy { runs_of: RunsOf::Entry, disturbed: 5, runs: 10 }));
    assert_eq!((threads.speedup, threads.speedup_ci, threads.verdict), (None, None, None));
    assert_eq!(threads.walls.len(), 5, "its statistics are of the undisturbed runs");
    let answers = answers::answers(&analysis, None);
    let recommendation = &answers.recommendations[0];
    let choice = &recommendation.choices[0];
    assert_eq!((choice.strategy.name(), choice.workers), ("processes", 2), "{choice:?}");
    assert_eq!(recommendation.not_judged, vec![(threads.id.clone(), threads.busy.unwrap())]);
    assert!(crossover(&analysis).iter().all(|found| match found {
        Crossover::Point { strategy, .. } => *strategy != Strategy::Threads,
        Crossover::Series(series) => series.strategy != Strategy::Threads,
    }));
    let sentence = crate::report::scaling::recommendation_sentence(recommendation, 1);
    assert_eq!(
        sentence,
        "w: use processes ×2 at 10 items (2.00×); not judged (busy), so neither recommended nor compared with: \
         threads ×2 at 10 items (busy: 5 of 10 runs disturbed): run again when the machine is quiet, or set fixed \
         repetitions."
    );
    // Every report that shows a verdict says it is not judged.
    let not_judged = "not judged (busy: 5 of 10 runs disturbed)";
    assert!(crate::report::table::render(&analysis).contains(not_judged));
    assert!(crate::report::markdown::render(&analysis).contains(not_judged));
    assert!(crate::report::html::render(&analysis, &answers).contains(not_judged));
    let json: serde_json::Value =
        serde_json::from_str(&crate::report::json::render(&analysis, &answers)).unwrap();
    assert_eq!(json["entries"][2]["verdict"], not_judged);
    assert_eq!(json["entries"][2]["busy"]["disturbed_runs"], 5);
    assert_eq!(json["entries"][1]["busy"], serde_json::Value::Null);
    let summary = String::from_utf8(crate::report::summary::to_csv(&analysis)).unwrap();
    let threads_row = summary.lines().find(|line| line.contains(",threads,")).unwrap();
    assert!(threads_row.ends_with(&format!(",{not_judged},5,busy,,")), "{summary}");
    assert!(
        summary
            .lines()
            .next()
            .unwrap()
            .ends_with(",verdict,disturbed_runs,not_judged,chunk_policy,median_ctx_switches"),
        "{summary}"
    );
}

#[test]
fn where_serial_is_busy_nothing_is_chosen_and_the_sentence_says_what_to_do() {
    let mut rows = Vec::new();
    for repetition in 1..=10 {
        rows.push(disturbed(row("serial", 1, 10, repetition, 1.0), repetition > 2));
        rows.push(row("threads", 2, 10, repetition, 0.5));
    }
    let analysis = analyze(&rows).unwrap();
    assert_eq!(analysis.entries[1].busy.map(|busy| busy.runs_of), Some(RunsOf::Serial));
    assert_eq!(analysis.entries[1].verdict, None);
    assert!(
        !warnings(&analysis).iter().any(|warning| matches!(warning, Warning::SerialFailed { .. })),
        "serial did not fail: its runs were disturbed"
    );
    let recommendation = &answers::answers(&analysis, None).recommendations[0];
    assert!(recommendation.choices.is_empty(), "{recommendation:?}");
    assert_eq!(recommendation.undecided, vec![10]);
    assert_eq!(
        crate::report::scaling::recommendation_sentence(recommendation, 1),
        "w: no recommendation; not judged (busy), so neither recommended nor compared with: serial at 10 items \
         (busy: 8 of 10 runs disturbed); nothing judged to choose from at 10 items: run again when the machine is \
         quiet, or set fixed repetitions."
    );
}

/// Rows of `strategy` ×`workers` at `size` on a host of 8 CPUs, ten
/// rounds; `busy` marks rounds 1 to 6 disturbed.
fn rounds_on_eight(
    strategy: &str,
    workers: usize,
    size: usize,
    wall: f64,
    busy: bool,
) -> Vec<BTreeMap<String, String>> {
    (1..=10)
        .map(|repetition| {
            let mut cells =
                disturbed(row(strategy, workers, size, repetition, wall), busy && repetition <= 6);
            cells.insert("cpus".to_owned(), "8".to_owned());
            cells
        })
        .collect()
}

#[test]
fn a_busy_entry_is_left_out_of_the_scaling_fits_which_say_so() {
    // Amdahl with f = 0.1; ×8 was measured beside a hog.
    let amdahl = |workers: usize| 1.0 / (0.1 + 0.9 / workers as f64);
    let rows = |busy: &[usize]| -> Vec<BTreeMap<String, String>> {
        let mut rows = rounds_on_eight("serial", 1, 10, 1.0, false);
        for workers in [2, 4, 6, 8] {
            rows.extend(rounds_on_eight(
                "threads",
                workers,
                10,
                1.0 / amdahl(workers),
                busy.contains(&workers),
            ));
        }
        rows
    };
    let answers = answers::answers(&analyze(&rows(&[8])).unwrap(), None);
    let fit = &answers.workers[0];
    let counts: Vec<usize> = fit.points.iter().map(|point| point.workers).collect();
    assert_eq!(counts, [2, 4, 6]);
    assert_eq!(fit.left_out, vec![(8, Busy { runs_of: RunsOf::Entry, disturbed: 6, runs: 10 })]);
    assert!(fit.amdahl.is_ok());
    assert!(fit.usl.is_err(), "three worker counts judged, four needed");
    let sentence = crate::report::scaling::worker_sentence(fit, 1);
    assert!(
        sentence.ends_with(
            "not judged (busy), left out: ×8 (busy: 6 of 10 runs disturbed): run again when the machine is quiet, \
             or set fixed repetitions"
        ),
        "{sentence}"
    );
    // Two left out: too few worker counts for any fit, and the sentence says so.
    let answers = answers::answers(&analyze(&rows(&[4, 8])).unwrap(), None);
    let fit = &answers.workers[0];
    assert_eq!((fit.points.len(), fit.amdahl.is_err(), fit.karp_flatt_trend), (2, true, None));
    let sentence = crate::report::scaling::worker_sentence(fit, 1);
    assert!(sentence.contains("Amdahl: insufficient data: need ≥ 3 worker counts"), "{sentence}");
    assert!(sentence.contains("left out: ×4, ×8 (busy: 6 of 10 runs disturbed): run again"), "{sentence}");
}

#[test]
fn a_busy_list_size_is_left_out_of_break_even_and_crossover() {
    // t(n) = 1 ms + 100 µs/item serial, 10 ms + 50 µs/item threads ×2; the
    // threads runs at 1000 items were disturbed.
    let mut rows = Vec::new();
    for size in [10, 100, 1000, 10_000] {
        rows.extend(rounds_on_eight("serial", 1, size, 0.001 + 0.0001 * size as f64, false));
        rows.extend(rounds_on_eight("threads", 2, size, 0.01 + 0.00005 * size as f64, size == 1000));
    }
    let analysis = analyze(&rows).unwrap();
    let answers = answers::answers(&analysis, None);
    let threads = answers.costs.iter().find(|fit| fit.strategy == Strategy::Threads).unwrap();
    let sizes: Vec<usize> = threads.points.iter().map(|(size, _)| *size).collect();
    assert_eq!(sizes, [10, 100, 10_000]);
    assert_eq!(threads.left_out.len(), 1);
    assert!(
        crate::report::scaling::text(&answers, 1)
            .contains("not judged (busy), left out: 1,000 items (busy: 6 of 10")
    );
    let series = crossover(&analysis)
        .into_iter()
        .find_map(|found| match found {
            Crossover::Series(series) => Some(series),
            Crossover::Point { .. } => None,
        })
        .unwrap();
    assert_eq!(series.not_judged, ["1000"]);
    // Two sizes left: no line, and the answers say why.
    let rows: Vec<_> = rows.into_iter().filter(|row| row["list_size"] != "10000").collect();
    let answers = answers::answers(&analyze(&rows).unwrap(), None);
    assert!(answers.costs.iter().all(|fit| fit.strategy != Strategy::Threads));
    assert_eq!(answers.costs_not_fitted.len(), 1);
    let text = crate::report::scaling::text(&answers, 1);
    assert!(
        text.contains(
            "w: threads ×2: no cost line: 2 of the 3 list sizes it needs are judged; not judged (busy): 1,000 items \
             (busy: 6 of 10 runs disturbed): run again"
        ),
        "{text}"
    );
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
    assert!(summary.lines().next().unwrap().ends_with(",median_ctx_switches"), "{summary}");
    assert!(summary.lines().nth(1).unwrap().ends_with(",4.00000"), "{summary}");
}

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
