//! Precision a user can state: `repetitions = "auto"`, intervals from order
//! statistics with their actual level, paired speedups, verdicts from
//! intervals, the seeded order of each round and the machine checks.
//!
//! No assertion here depends on how fast this machine is: where a result
//! depends on timing (did an entry converge?) the test accepts either
//! documented outcome and checks that the run says which.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use tempfile::TempDir;

mod common;

use common::keyed_rows as rows;

fn parbench(dir: &Path, args: &[&str]) -> Output {
    // parbench runs take turns: one beside another would be other load.
    let _turn = common::measuring();
    assert_cmd::Command::cargo_bin("parbench")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap()
}

/// A job of `sleep` (no CPU, little noise) on two items.
fn job(name: &str, millis: u32, run: &str) -> String {
    format!(
        "version = 1\nname = \"{name}\"\n[list]\ngenerator = \"constant\"\nsize = 2\nvalue = 1\n\
         [run]\nstrategies = [\"serial\", \"threads\"]\nworkers = 2\nwarmup = 0\n{run}\n\
         [[workload]]\nname = \"nap\"\nbuiltin = \"sleep\"\nparams = {{ millis = {millis} }}\n"
    )
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn number(row: &BTreeMap<String, String>, column: &str) -> f64 {
    let cell = row.get(column).unwrap_or_else(|| panic!("no column {column}"));
    cell.parse().unwrap_or_else(|_| panic!("{column} = {cell:?}"))
}

/// Serial against itself is exactly 1, with an interval of exactly 1 at
/// both ends, whatever the number of runs; where other load on a shared
/// machine left it not judged, it has no speedup at all, as RESULTS.md
/// says.
fn assert_serial_is_exactly_one(summary: &[BTreeMap<String, String>]) {
    let serial: Vec<_> = summary.iter().filter(|row| row["strategy"] == "serial").collect();
    assert!(!serial.is_empty());
    for row in serial {
        if !row["not_judged"].is_empty() {
            assert_eq!(row["speedup"], "", "{row:?}");
            continue;
        }
        for column in ["speedup", "speedup_ci_low", "speedup_ci_high"] {
            assert_eq!(number(row, column), 1.0, "serial's {column}: {row:?}");
        }
    }
}

#[test]
fn five_repetitions_claim_no_95_percent() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("five.toml"), job("five", 1, "repetitions = 5")).unwrap();
    let output = parbench(dir.path(), &["run", "five.toml"]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let summary = rows(&dir.path().join("results/five.summary.csv"));
    assert_eq!(summary.len(), 2);
    for row in &summary {
        assert_eq!(row["runs"], "5");
        assert_eq!((row["median_ci_low_s"].as_str(), row["median_ci_high_s"].as_str()), ("", ""), "{row:?}");
        assert_eq!(row["precision"], "");
        // Other load on a shared machine can leave a run out (or the entry
        // not judged): fewer undisturbed runs claim less still.
        if row["disturbed_runs"] != "0" {
            assert!(
                row["median_ci_level"].parse::<f64>().is_ok_and(|level| level < 0.95)
                    || row["median_ci_level"].is_empty(),
                "{row:?}"
            );
            continue;
        }
        let level = number(row, "median_ci_level");
        assert_eq!(level, 0.9375, "min … max of 5 runs covers 1 - 2/32");
    }
    assert_serial_is_exactly_one(&summary);
    // The entry that is not serial has no interval either, so no verdict.
    let threads = summary.iter().find(|row| row["strategy"] == "threads").unwrap();
    assert_eq!((threads["speedup_ci_low"].as_str(), threads["speedup_ci_high"].as_str()), ("", ""));
    let (stdout, _) = text(&output);
    if summary.iter().all(|row| row["disturbed_runs"] == "0") {
        assert_eq!(threads["verdict"], "no clear difference");
        assert!(stdout.contains("too few runs for a 95% interval"), "{stdout}");
    } else {
        let verdict = &threads["verdict"];
        assert!(verdict == "no clear difference" || verdict.starts_with("not judged"), "{verdict}");
    }
}

#[test]
fn auto_stops_at_max_time_after_three_runs_and_says_so() {
    let dir = TempDir::new().unwrap();
    // Every run takes longer than max_time: three runs each, never ten.
    std::fs::write(dir.path().join("short.toml"), job("short", 2, "max_time = \"1ms\"\nprecision = \"1%\""))
        .unwrap();
    let output = parbench(dir.path(), &["run", "short.toml"]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let summary = rows(&dir.path().join("results/short.summary.csv"));
    for row in &summary {
        assert_eq!(row["runs"], "3", "{row:?}");
    }
    assert_serial_is_exactly_one(&summary);
    let (stdout, _) = text(&output);
    let warning = stdout
        .lines()
        .find(|line| line.contains("precision not reached"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(warning.contains("nap") && warning.contains("after 3 runs"), "{warning}");
}

#[test]
fn auto_repeats_until_the_interval_is_within_the_precision_or_says_it_is_not() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("auto.toml"),
        job("auto", 2, "precision = \"5%\"\nmin_repetitions = 12\nmax_time = \"3s\""),
    )
    .unwrap();
    let output = parbench(dir.path(), &["run", "auto.toml"]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let (stdout, _) = text(&output);
    let summary = rows(&dir.path().join("results/auto.summary.csv"));
    for row in &summary {
        assert!(number(row, "runs") >= 3.0, "{row:?}");
        let reached = row["precision"].parse::<f64>().is_ok_and(|precision| precision <= 0.05);
        let warned = stdout
            .lines()
            .any(|line| line.contains("precision not reached") && line.contains(&row["strategy"]));
        assert!(reached || warned, "{row:?}\n{stdout}");
        if reached {
            assert!(number(row, "runs") >= 12.0, "converged only from min_repetitions on: {row:?}");
            assert!(number(row, "median_ci_level") >= 0.95);
        }
    }
    assert_serial_is_exactly_one(&summary);
    // Every run is paired: serial ran in every round the threads entry ran
    // while serial still ran. (Serial stops once it has taken its own
    // max_time, or once the machine stays busy; the rounds of threads after
    // that have no pair. Read from the rows, not from a warning: a serial
    // entry that reached its precision says nothing when its time runs out.)
    let runs = rows(&dir.path().join("results/auto.csv"));
    let rounds = |strategy: &str| -> Vec<u32> {
        runs.iter()
            .filter(|row| row["strategy"] == strategy)
            .map(|row| number(row, "repetition") as u32)
            .collect()
    };
    let serial = rounds("serial");
    let last_serial = serial.iter().copied().max().unwrap_or(0);
    let threads = rounds("threads");
    assert!(
        threads.iter().filter(|round| **round <= last_serial).all(|round| serial.contains(round)),
        "serial {serial:?}, threads {threads:?}\n{stdout}"
    );
}

/// The order of each round is a seeded shuffle, written to env.json; the
/// same seed gives the same order.
#[test]
fn the_order_of_each_round_is_seeded_and_recorded() {
    let dir = TempDir::new().unwrap();
    let order = |out: &str| -> Vec<String> {
        let mut runs = rows(&dir.path().join(out).join("order.csv"));
        runs.sort_by(|a, b| a["started_at"].cmp(&b["started_at"]));
        runs.iter().map(|row| format!("{}{}", row["strategy"], row["workers"])).collect()
    };
    let run = |seed: u64, out: &str| {
        let text = job("order", 1, &format!("repetitions = 8\norder_seed = {seed}"))
            .replace("[\"serial\", \"threads\"]", "[\"serial\", \"threads\", \"processes\"]");
        std::fs::write(dir.path().join("order.toml"), text).unwrap();
        let output = parbench(dir.path(), &["run", "--quiet", "--out", out, "order.toml"]);
        assert_eq!(output.status.code(), Some(0), "{:?}", self::text(&output));
        let env: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(out).join("order.env.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(env["order_seed"], seed);
    };
    run(7, "a");
    run(7, "b");
    run(8, "c");
    let (a, b, c) = (order("a"), order("b"), order("c"));
    assert_eq!(a, b, "the same seed, the same order");
    assert_ne!(a, c, "another seed, another order");
    // Not the same order in every round: 8 rounds of 3 entries.
    let rounds: std::collections::BTreeSet<&[String]> = a.chunks(3).collect();
    assert!(rounds.len() > 1, "{a:?}");
    // Every round holds every entry once.
    for round in a.chunks(3) {
        let mut sorted = round.to_vec();
        sorted.sort();
        assert_eq!(sorted, ["processes2", "serial1", "threads2"]);
    }
}

#[test]
fn the_machine_is_checked_and_the_findings_recorded() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("env.toml"), job("env", 1, "repetitions = 1")).unwrap();
    let output = parbench(dir.path(), &["run", "env.toml"]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results/env.env.json")).unwrap())
            .unwrap();
    let checks = &env["machine_checks"];
    for key in ["governor", "turbo", "load_average", "debug_build", "warnings"] {
        assert!(checks.get(key).is_some(), "{key} in {checks}");
    }
    // The tests run a debug build: the run says so, once.
    assert_eq!(checks["debug_build"], cfg!(debug_assertions));
    let (_, stderr) = text(&output);
    if cfg!(debug_assertions) {
        assert_eq!(stderr.matches("built without --release").count(), 1, "{stderr}");
    }
    assert_eq!(
        stderr.matches("warning: this machine").count().min(1),
        stderr.matches("warning: this machine").count()
    );
}

/// A per-run CSV with every wall time `seconds` × `scale`, ±0.5% by
/// round, as steady as a quiet machine gives; rounds past `rounds` are left
/// out.
fn steady(path: &Path, seconds: f64, scale: f64, rounds: f64) -> String {
    common::with_walls(&std::fs::read_to_string(path).unwrap(), |row| {
        let round: f64 = row["repetition"].parse().unwrap();
        (round <= rounds).then(|| seconds * scale * (1.0 + (round % 11.0 - 5.0) / 1000.0))
    })
}

/// A run 30% slower is named slower and `report` exits 1; the same rows
/// against themselves raise no alarm. The times are made steady, so the
/// test asserts no timing of this machine (bench/baseline measures real
/// pairs of runs).
#[test]
fn the_baseline_names_a_thirty_percent_slowdown() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("nap.toml"), job("nap", 1, "repetitions = 12")).unwrap();
    let output = parbench(dir.path(), &["run", "--quiet", "nap.toml"]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let rows = dir.path().join("results/nap.csv");
    std::fs::write(dir.path().join("old.csv"), steady(&rows, 0.02, 1.0, 12.0)).unwrap();
    std::fs::write(dir.path().join("new.csv"), steady(&rows, 0.02, 1.3, 12.0)).unwrap();
    let report = parbench(dir.path(), &["report", "--baseline", "old.csv", "new.csv"]);
    let (stdout, _) = text(&report);
    assert_eq!(report.status.code(), Some(1), "{stdout}");
    assert_eq!(stdout.matches("SLOWER").count(), 2, "{stdout}");
    let same = parbench(dir.path(), &["report", "--baseline", "old.csv", "old.csv"]);
    assert_eq!(same.status.code(), Some(0), "{:?}", text(&same));
    assert!(text(&same).0.contains("0 slower, 0 faster, 2 without a clear change"), "{:?}", text(&same));
    // Five runs cannot hold the intervals: the t-test on log times judges
    // instead.
    let few = |name: &str, scale: f64| {
        std::fs::write(dir.path().join(name), steady(&rows, 0.02, scale, 5.0)).unwrap()
    };
    few("old5.csv", 1.0);
    few("new5.csv", 1.3);
    let report = parbench(dir.path(), &["report", "--baseline", "old5.csv", "new5.csv"]);
    let (stdout, _) = text(&report);
    assert_eq!(report.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("(5 against 5 runs, t-test p = "), "{stdout}");
}

/// An entry whose runs spread evenly over ±50% within one run (as a
/// few-microsecond entry's do), 30% slower: the interval lies past the
/// threshold, but the middle 80% of the two runs' times overlap; `report`
/// says it is within the entry's noise and exits 0. 2.5 times as slow, it
/// is named. The times are made up, so nothing here depends on this machine.
#[test]
fn a_shift_within_an_entrys_own_noise_is_said_and_does_not_fail() {
    let dir = TempDir::new().unwrap();
    let fast = "version = 1\nname = \"tiny\"\n[list]\ngenerator = \"range\"\nsize = 2\n[run]\n\
                strategies = [\"serial\"]\nrepetitions = 400\nwarmup = 0\n\
                [[workload]]\nname = \"inc\"\nbuiltin = \"price-increase\"\n";
    std::fs::write(dir.path().join("tiny.toml"), fast).unwrap();
    let output = parbench(dir.path(), &["run", "--quiet", "tiny.toml"]);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let rows = std::fs::read_to_string(dir.path().join("results/tiny.csv")).unwrap();
    let noisy = |scale: f64| {
        common::with_walls(&rows, |row| {
            let round: f64 = row["repetition"].parse().unwrap();
            Some(1e-6 * scale * (0.5 + (round * 389.0 % 400.0) / 400.0))
        })
    };
    for (name, scale) in [("old.csv", 1.0), ("new.csv", 1.3), ("far.csv", 2.5)] {
        std::fs::write(dir.path().join(name), noisy(scale)).unwrap();
    }
    let report = parbench(dir.path(), &["report", "--quiet", "--baseline", "old.csv", "new.csv"]);
    let (stdout, _) = text(&report);
    assert_eq!(report.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("no clear change"), "{stdout}");
    assert!(stdout.contains("+30.0%"), "{stdout}");
    assert!(stdout.contains("within this entry's noise"), "{stdout}");
    assert!(stdout.contains("within its own noise"), "{stdout}");
    let report = parbench(dir.path(), &["report", "--quiet", "--baseline", "old.csv", "far.csv"]);
    let (stdout, _) = text(&report);
    assert_eq!(report.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("1 slower, 0 faster, 0 without a clear change, 0 not judged\n"), "{stdout}");
}

#[test]
fn bad_precision_settings_get_one_line_errors() {
    let dir = TempDir::new().unwrap();
    for (run, expected) in [
        ("precision = \"0%\"", "precision"),
        ("precision = \"two\"", "precision"),
        ("precision = 2", "precision"),
        ("max_time = \"soon\"", "max_time"),
        ("min_span = \"soon\"", "min_span"),
        ("min_span = \"400d\"", "min_span \"400d\" is longer than the limit"),
        ("min_span = 1", "min_span"),
        ("min_repetitions = 0", "min_repetitions"),
        ("repetitions = \"often\"", "repetitions"),
        ("order_seed = -1", "order_seed"),
    ] {
        std::fs::write(dir.path().join("bad.toml"), job("bad", 1, run)).unwrap();
        let output = parbench(dir.path(), &["check", "bad.toml"]);
        let (_, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(2), "{run}: {stderr}");
        assert!(stderr.contains(expected), "{run}: {stderr}");
    }
}

const AGAIN: &str = r#"version = 1
name = "again"
[list]
generator = "range"
size = 20
[run]
strategies = ["serial", "threads"]
workers = [2]
repetitions = 12
warmup = 1
[[workload]]
name = "spin"
builtin = "spin"
params = { iterations = 2000 }
"#;

/// The interval cells of a summary, by strategy.
fn intervals(summary: &[BTreeMap<String, String>]) -> BTreeMap<String, [String; 4]> {
    summary
        .iter()
        .map(|row| {
            let cells = ["median_ci_low_s", "median_ci_high_s", "speedup_ci_low", "speedup_ci_high"];
            (row["strategy"].clone(), cells.map(|cell| row[cell].clone()))
        })
        .collect()
}

#[test]
fn a_second_invocation_holds_the_spread_of_the_first_and_report_agrees() {
    let work = common::Workdir::new();
    work.write("again.toml", AGAIN);
    let run = || {
        let output = work.parbench(&["run", "--quiet", "again.toml"]);
        assert_eq!(output.status.code(), Some(0), "{}", common::stderr(&output));
    };
    run();
    let first = work.rows("results/again.invocations.csv");
    run();
    let record = work.rows("results/again.invocations.csv");
    let invocations: std::collections::BTreeSet<&String> =
        record.iter().map(|row| &row["started_at"]).collect();
    assert_eq!(invocations.len(), 2, "{record:?}");
    assert!(record.len() > first.len() && first.iter().all(|row| record.contains(row)), "{record:?}");
    assert!(
        record.iter().all(|row| row["entry_key"].starts_with('x') && !row["host"].is_empty()),
        "{record:?}"
    );
    let summary = work.rows("results/again.summary.csv");
    // An entry recorded the first time (judged, with an interval) and judged
    // with an interval of its own now holds both invocations; any other,
    // its own alone (other load on a shared machine can leave either).
    for row in &summary {
        let recorded = first.iter().any(|earlier| earlier["strategy"] == row["strategy"]);
        let own = row["not_judged"].is_empty() && !row["median_ci_low_s"].is_empty();
        assert_eq!(row["invocations"], if recorded && own { "2" } else { "1" }, "{row:?} {first:?}");
    }
    assert!(summary.iter().any(|row| row["invocations"] == "2"), "{summary:?}");
    // `report` reads the record beside the CSV: the same intervals. The
    // same CSV alone gives this invocation's own, which the joined ones hold.
    let report = |csv: &str, out: &str| {
        let output = work.parbench(&["report", "--quiet", "--summary-csv", out, csv]);
        assert_eq!(output.status.code(), Some(0), "{}", common::stderr(&output));
        work.rows(out)
    };
    assert_eq!(intervals(&report("results/again.csv", "with.csv")), intervals(&summary));
    std::fs::create_dir(work.path().join("alone")).unwrap();
    std::fs::copy(work.path().join("results/again.csv"), work.path().join("alone/again.csv")).unwrap();
    let alone = report("alone/again.csv", "alone.csv");
    for (row, own) in summary.iter().zip(&alone) {
        assert!(own["invocations"] == "1", "{own:?}");
        for (low, high) in [("median_ci_low_s", "median_ci_high_s"), ("speedup_ci_low", "speedup_ci_high")] {
            if own[low].is_empty() {
                continue;
            }
            assert!(
                number(row, low) <= number(own, low) && number(own, high) <= number(row, high),
                "{row:?} {own:?}"
            );
        }
    }
    // A damaged record costs a run nothing but the record, and is named.
    work.write("results/again.invocations.csv", "started_at,host\nnot,a record\n");
    let output = work.parbench(&["run", "--quiet", "again.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", common::stderr(&output));
    let said = common::stderr(&output);
    assert!(said.contains("again.invocations.csv: no column \"entry_key\""), "{said}");
    assert!(work.rows("results/again.summary.csv").iter().all(|row| row["invocations"] == "1"));
    assert_eq!(work.read("results/again.invocations.csv"), "started_at,host\nnot,a record\n");
    let output = work.parbench(&["report", "--quiet", "--summary-csv", "damaged.csv", "results/again.csv"]);
    assert_eq!(output.status.code(), Some(0), "{}", common::stderr(&output));
    assert!(
        common::stderr(&output).contains("again.invocations.csv: no column"),
        "{}",
        common::stderr(&output)
    );
}
