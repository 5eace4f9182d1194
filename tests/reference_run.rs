//! The group's reference (the results every run must reproduce) comes from
//! serial's own first run, not from an extra run of its own: a command with
//! side effects, or an hour-long serial run, is paid once.

mod common;

use common::{Workdir, stderr};

fn job(strategies: &str, warmup: u32) -> String {
    format!(
        r#"version = 1
name = "append"
[list]
generator = "range"
size = 5
start = 1
[run]
strategies = {strategies}
workers = [2]
repetitions = 1
warmup = {warmup}
[[workload]]
name = "append"
command = ["sh", "-c", 'echo "$1" >> seen.txt; echo "$1"', "sh", "{{item}}"]
"#
    )
}

/// How many times each item 1..=5 was appended.
fn counts(work: &Workdir) -> Vec<usize> {
    let seen = work.read("seen.txt");
    (1..=5).map(|item| seen.lines().filter(|line| *line == item.to_string()).count()).collect()
}

#[test]
fn a_serial_only_job_runs_each_item_once() {
    let work = Workdir::new();
    work.write("append.toml", &job(r#"["serial"]"#, 0));
    let output = work.parbench(&["run", "append.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(counts(&work), vec![1; 5]);
}

#[test]
fn serial_beside_a_pool_is_its_own_reference_and_the_pool_is_still_checked() {
    let work = Workdir::new();
    work.write("append.toml", &job(r#"["serial", "processes"]"#, 0));
    let output = work.parbench(&["run", "append.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // One serial run and one pool run: no third, unrecorded one.
    assert_eq!(counts(&work), vec![2; 5]);
    let rows = work.rows("results/append.csv");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|row| row["status"] == "ok"), "{rows:?}");
    assert_eq!(rows[0]["checksum"], rows[1]["checksum"]);
}

#[test]
fn a_warm_up_of_serial_is_the_reference_when_there_is_one() {
    let work = Workdir::new();
    work.write("append.toml", &job(r#"["serial", "processes"]"#, 1));
    let output = work.parbench(&["run", "append.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // A warm-up and a measured run each: two per entry.
    assert_eq!(counts(&work), vec![4; 5]);
}
