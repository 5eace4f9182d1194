//! `report --baseline` on entries with too few runs for an interval (an
//! expensive job measured 3 times): the exact rank test judges them, and
//! where even that cannot (2 runs a side) the entry is said to be not
//! judged and counted apart. The times are written into the CSVs, so the
//! verdicts depend on nothing this machine does.

mod common;

use common::{Workdir, stdout, with_walls};

const JOB: &str = "version = 1\nname = \"tiny\"\n[list]\ngenerator = \"range\"\nsize = 2\n[run]\n\
                   strategies = [\"serial\"]\nrepetitions = 3\nwarmup = 0\n\
                   [[workload]]\nname = \"inc\"\nbuiltin = \"price-increase\"\n";

/// old.csv and new.csv from one run's rows, `runs` of them each, with wall
/// times around 57.6 µs in the old file and `scale` times that in the new.
fn two_files(work: &Workdir, runs: f64, scale: f64) {
    work.write("tiny.toml", JOB);
    let run = work.parbench(&["run", "--quiet", "tiny.toml"]);
    assert_eq!(run.status.code(), Some(0), "{}", common::stderr(&run));
    let rows = work.read("results/tiny.csv");
    let walls = |scale: f64| {
        with_walls(&rows, |row| {
            let round: f64 = row["repetition"].parse().unwrap();
            (round <= runs).then(|| 57.6e-6 * scale * (1.0 + round / 100.0))
        })
    };
    work.write("old.csv", &walls(1.0));
    work.write("new.csv", &walls(scale));
}

fn compare(work: &Workdir, old: &str, new: &str) -> (Option<i32>, String) {
    let output = work.parbench(&["report", "--quiet", "--baseline", old, new]);
    (output.status.code(), stdout(&output))
}

#[test]
fn three_runs_each_ten_times_slower_are_named_slower_and_fail() {
    let work = Workdir::new();
    two_files(&work, 3.0, 10.0);
    let (status, out) = compare(&work, "old.csv", "new.csv");
    assert_eq!(status, Some(1), "{out}");
    assert!(out.contains("SLOWER"), "{out}");
    assert!(out.contains("3 against 3 runs, rank test p = 0.050"), "{out}");
    assert!(out.contains("1 slower, 0 faster, 0 without a clear change\n"), "{out}");
}

#[test]
fn three_runs_each_ten_times_faster_are_named_faster_and_pass() {
    let work = Workdir::new();
    two_files(&work, 3.0, 10.0);
    let (status, out) = compare(&work, "new.csv", "old.csv");
    assert_eq!(status, Some(0), "{out}");
    assert!(out.contains("  faster "), "{out}");
    assert!(out.contains("0 slower, 1 faster, 0 without a clear change\n"), "{out}");
}

#[test]
fn three_runs_each_slower_by_less_than_the_threshold_are_no_clear_change() {
    let work = Workdir::new();
    // 5% slower: every new run above every old one, but not above the old
    // ones × 1.10.
    two_files(&work, 3.0, 1.05);
    let (status, out) = compare(&work, "old.csv", "new.csv");
    assert_eq!(status, Some(0), "{out}");
    assert!(out.contains("0 slower, 0 faster, 1 without a clear change\n"), "{out}");
}

#[test]
fn two_runs_each_are_not_judged_and_counted_apart() {
    let work = Workdir::new();
    two_files(&work, 2.0, 10.0);
    let (status, out) = compare(&work, "old.csv", "new.csv");
    assert_eq!(status, Some(0), "{out}");
    assert!(out.contains("  not judged "), "{out}");
    assert!(out.contains("2 against 2 runs, 3 a side are needed"), "{out}");
    assert!(
        out.contains(
            "0 slower, 0 faster, 0 without a clear change, 1 not judged (too few runs: 3 a side are needed)\n"
        ),
        "{out}"
    );
}

#[test]
fn disturbed_runs_count_only_where_no_undisturbed_one_is_left() {
    let work = Workdir::new();
    // The new run: three quiet runs as fast as before, and three runs beside
    // a hog, ten times slower, marked disturbed: no change.
    let header = "job,workload,generator,list_size,strategy,workers,chunk_size,repetition,status,wall_s,cpu_s,error,host,disturbed";
    let rows = |walls: &[(f64, bool)]| {
        let mut text = format!("{header}\n");
        for (index, (wall, disturbed)) in walls.iter().enumerate() {
            text.push_str(&format!("j,w,range,4,serial,1,,{},ok,{wall},{wall},,h,{disturbed}\n", index + 1));
        }
        text
    };
    work.write("old.csv", &rows(&[(0.01, false), (0.0101, false), (0.0099, false)]));
    work.write(
        "new.csv",
        &rows(&[(0.01, false), (0.1, true), (0.0102, false), (0.1, true), (0.0098, false), (0.1, true)]),
    );
    let output = work.parbench(&["report", "--baseline", "old.csv", "new.csv"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // Only disturbed runs left: they count, and the line says so.
    work.write("hogged.csv", &rows(&[(0.1, true), (0.101, true), (0.099, true)]));
    let output = work.parbench(&["report", "--baseline", "old.csv", "hogged.csv"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("only disturbed runs"), "{}", stdout(&output));
}
