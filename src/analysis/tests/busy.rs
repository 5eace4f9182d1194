//! Entries that other load disturbed: left out of verdicts, recommendations,
//! comparisons and fits, and said so.

use super::*;

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
    assert!(threads_row.ends_with(&format!(",{not_judged},5,busy,,,1")), "{summary}");
    assert!(
        summary
            .lines()
            .next()
            .unwrap()
            .ends_with(",verdict,disturbed_runs,not_judged,chunk_policy,median_ctx_switches,invocations"),
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
