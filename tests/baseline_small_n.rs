//! `report --baseline` as a CI job runs it, on entries with too few runs
//! for an interval (an expensive job measured 3 times): a t-test on log
//! times judges them, and where nothing can (2 runs a side, a busy side)
//! the entry is said to be not judged and counted apart; every new run
//! failed is a regression; nothing to compare is an error. The times are
//! written into the CSVs, so the verdicts depend on nothing this machine
//! does.

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
    assert!(out.contains("3 against 3 runs, t-test p = "), "{out}");
    assert!(out.contains("0 failed, 1 slower, 0 faster, 0 without a clear change, 0 not judged\n"), "{out}");
}

#[test]
fn three_runs_each_ten_times_faster_are_named_faster_and_pass() {
    let work = Workdir::new();
    two_files(&work, 3.0, 10.0);
    let (status, out) = compare(&work, "new.csv", "old.csv");
    assert_eq!(status, Some(0), "{out}");
    assert!(out.contains("  faster "), "{out}");
    assert!(out.contains("0 failed, 0 slower, 1 faster, 0 without a clear change, 0 not judged\n"), "{out}");
}

#[test]
fn three_runs_each_slower_by_less_than_the_threshold_are_no_clear_change() {
    let work = Workdir::new();
    // 5% slower: every new run above every old one, but not above the old
    // ones × 1.10.
    two_files(&work, 3.0, 1.05);
    let (status, out) = compare(&work, "old.csv", "new.csv");
    assert_eq!(status, Some(0), "{out}");
    assert!(out.contains("0 failed, 0 slower, 0 faster, 1 without a clear change, 0 not judged\n"), "{out}");
}

#[test]
fn two_runs_each_are_not_judged_and_counted_apart() {
    let work = Workdir::new();
    two_files(&work, 2.0, 10.0);
    let (status, out) = compare(&work, "old.csv", "new.csv");
    assert_eq!(status, Some(0), "{out}");
    assert!(out.contains("  not judged "), "{out}");
    assert!(out.contains("too few runs: 2 against 2, 3 a side are needed"), "{out}");
    assert!(
        out.contains(
            "0 failed, 0 slower, 0 faster, 0 without a clear change, 1 not judged (too few runs, or busy: --strict \
             fails the gate on them)\n"
        ),
        "{out}"
    );
    // A CI job that wants every entry judged says --strict.
    let strict = work.parbench(&["report", "--quiet", "--strict", "--baseline", "old.csv", "new.csv"]);
    assert_eq!(strict.status.code(), Some(1), "{}", stdout(&strict));
}

/// A per-run CSV of job `job`, entry `w`, with these (wall, disturbed,
/// status) runs.
fn rows(job: &str, runs: &[(f64, bool, &str)]) -> String {
    let header = "job,workload,generator,list_size,strategy,workers,chunk_size,repetition,status,wall_s,cpu_s,error,host,disturbed";
    let mut text = format!("{header}\n");
    for (index, (wall, disturbed, status)) in runs.iter().enumerate() {
        text.push_str(&format!(
            "{job},w,range,4,serial,1,,{},{status},{wall},{wall},,h,{disturbed}\n",
            index + 1
        ));
    }
    text
}

fn quiet(walls: &[f64]) -> Vec<(f64, bool, &'static str)> {
    walls.iter().map(|wall| (*wall, false, "ok")).collect()
}

#[test]
fn disturbed_runs_are_left_out_and_counted_and_a_busy_side_is_not_judged() {
    let work = Workdir::new();
    work.write("old.csv", &rows("j", &quiet(&[0.01, 0.0101, 0.0099])));
    // Three quiet runs as fast as before, three beside a hog, ten times
    // slower, disturbed: judged on the quiet ones, no change, and said.
    let mixed = [(0.01, false), (0.1, true), (0.0102, false), (0.1, true), (0.0098, false), (0.1, true)];
    work.write("new.csv", &rows("j", &mixed.map(|(wall, disturbed)| (wall, disturbed, "ok"))));
    let output = work.parbench(&["report", "--baseline", "old.csv", "new.csv"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("left out as disturbed: 0 baseline, 3 new runs"), "{}", stdout(&output));
    // Nine of ten new runs three times slower and disturbed, one not: not
    // judged (busy), never "no change" from the one left.
    let mut hogged: Vec<(f64, bool, &str)> = vec![(0.03, true, "ok"); 9];
    hogged.push((0.01, false, "ok"));
    work.write("hogged.csv", &rows("j", &hogged));
    let output = work.parbench(&["report", "--baseline", "old.csv", "hogged.csv"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(out.contains("  not judged ") && out.contains("(busy: 9 of 10 new runs disturbed"), "{out}");
    assert!(out.contains(", 1 not judged (too few runs, or busy"), "{out}");
    let strict = work.parbench(&["report", "--strict", "--baseline", "old.csv", "hogged.csv"]);
    assert_eq!(strict.status.code(), Some(1), "{}", stdout(&strict));
}

#[test]
fn every_new_run_failed_is_a_regression_named_on_its_own_line() {
    let work = Workdir::new();
    work.write("old.csv", &rows("j", &quiet(&[0.05, 0.051, 0.049])));
    for (status, words) in [
        ("timeout", "failed: 3 of 3 timed out"),
        ("failed", "failed: 3 of 3 failed"),
        ("mismatch", "failed: 3 of 3 gave results that differ from serial's"),
        ("unverified", "failed: 3 of 3 unverified"),
    ] {
        work.write("new.csv", &rows("j", &[(3.0, false, status); 3]));
        let output = work.parbench(&["report", "--quiet", "--baseline", "old.csv", "new.csv"]);
        let out = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{status}: {out}");
        assert!(out.contains("  FAILED ") && out.contains(words), "{status}: {out}");
        assert!(
            out.contains("1 failed, 0 slower, 0 faster, 0 without a clear change, 0 not judged\n"),
            "{out}"
        );
    }
}

#[test]
fn nothing_to_compare_is_an_error_not_a_pass() {
    let work = Workdir::new();
    work.write("new.csv", &rows("j", &quiet(&[0.05, 0.051, 0.049])));
    let header = rows("j", &[]);
    let summary = "job,workload,generator,list_size,strategy,workers\nj,w,range,4,serial,1\n";
    for (name, baseline, said) in [
        ("empty.csv", String::new(), ""),
        ("header.csv", header, "nothing to compare: the baseline header.csv holds no measured run"),
        ("other.summary.csv", summary.to_owned(), "nothing to compare"),
        (
            "other-job.csv",
            rows("k", &quiet(&[0.05, 0.051, 0.049])),
            "is of job \"k\" and the new results of job \"j\"",
        ),
    ] {
        work.write(name, &baseline);
        let output = work.parbench(&["report", "--quiet", "--baseline", name, "new.csv"]);
        let stderr = common::stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}{}", stdout(&output));
        // One line of error (a summary given as a baseline also gets its
        // note of what was left out, before it).
        let error = stderr.lines().filter(|line| line.starts_with("error: ")).collect::<Vec<_>>();
        assert_eq!(error.len(), 1, "{name}: {stderr}");
        assert!(error[0].contains(said), "{name}: {stderr}");
    }
}

#[test]
fn two_jobs_compared_name_the_job_on_every_line() {
    let work = Workdir::new();
    let body = |job: &str| rows(job, &quiet(&[0.05, 0.051, 0.049])).split_once('\n').unwrap().1.to_owned();
    let old = rows("j", &quiet(&[0.05, 0.051, 0.049])) + &body("k");
    let new = rows("j", &quiet(&[0.05, 0.051, 0.049])) + &body("m");
    work.write("old.csv", &old);
    work.write("new.csv", &new);
    let output = work.parbench(&["report", "--quiet", "--baseline", "old.csv", "new.csv"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(out.contains("only in the new results: job m: w"), "{out}");
    assert!(out.contains("only in the baseline: job k: w"), "{out}");
}
