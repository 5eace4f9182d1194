//! `ready = "LINE"` on a `lines` command (docs/JOBFILE.md): setup_s runs
//! until every worker has printed it, it is not taken as an answer, and a
//! worker that never prints it fails the run by name.

mod common;

use std::collections::BTreeMap;

use common::{Workdir, stderr};

const ANSWER: &str = r#"while read line; do echo "$line done"; done"#;

fn job(workloads: &str) -> String {
    format!(
        r#"version = 1
name = "job"
[list]
generator = "range"
size = 12
[run]
strategies = ["serial", "processes"]
workers = 2
chunk_size = 1
repetitions = 2
warmup = 0
timeout = "60s"
{workloads}"#
    )
}

/// Runs `workloads`, which must fail, and returns its rows, each failed.
fn failed_rows(workloads: &str) -> Vec<BTreeMap<String, String>> {
    let dir = Workdir::new();
    dir.write("job.toml", &job(workloads));
    let output = dir.parbench(&["run", "--quiet", "job.toml"]);
    assert!(!output.status.success(), "{}", stderr(&output));
    let rows = dir.rows("results/job.csv");
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(row["status"], "failed", "{row:?}");
    }
    rows
}

#[test]
fn a_ready_line_is_awaited_and_not_an_answer() {
    let dir = Workdir::new();
    dir.write(
        "job.toml",
        &job(&format!(
            r#"
[[workload]]
name = "plain"
command = ["sh", "-c", '{ANSWER}']
protocol = "lines"

[[workload]]
name = "ready"
command = ["sh", "-c", 'echo READY; {ANSWER}']
protocol = "lines"
ready = "READY"
"#
        )),
    );
    let output = dir.parbench(&["run", "--quiet", "job.toml"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows = dir.rows("results/job.csv");
    assert_eq!(rows.len(), 2 * 2 * 2, "{rows:?}");
    let plain = rows.iter().find(|row| row["workload"] == "plain").unwrap()["checksum"].clone();
    assert!(plain.starts_with('x'), "{rows:?}");
    for row in &rows {
        assert_eq!(row["status"], "ok", "{row:?}");
        // The same answers with and without the ready line: READY was
        // consumed, not taken as the first item's answer.
        assert_eq!(row["checksum"], plain, "{row:?}");
        let wall: f64 = row["wall_s"].parse().unwrap();
        let setup: f64 = row["setup_s"].parse().unwrap_or_else(|_| panic!("setup_s present: {row:?}"));
        assert!((0.0..=wall).contains(&setup), "setup within wall: {row:?}");
    }
}

#[test]
fn a_worker_that_exits_before_its_ready_line_fails_the_run() {
    let rows = failed_rows(
        r#"
[[workload]]
name = "silent"
command = ["sh", "-c", 'echo nope >&2; exit 3']
protocol = "lines"
ready = "READY"
"#,
    );
    for row in &rows {
        let error = &row["error"];
        assert!(error.contains("worker 1"), "{row:?}");
        assert!(error.contains(r#"ready line "READY""#), "{row:?}");
        assert!(error.contains("status 3"), "{row:?}");
    }
}

#[test]
fn a_worker_that_prints_another_line_first_fails_the_run() {
    let rows = failed_rows(&format!(
        r#"
[[workload]]
name = "chatty"
command = ["sh", "-c", 'echo hello; {ANSWER}']
protocol = "lines"
ready = "READY"
"#
    ));
    for row in &rows {
        assert!(row["error"].contains(r#"printed "hello" instead of its ready line "READY""#), "{row:?}");
    }
}

#[test]
fn check_refuses_ready_where_it_has_no_meaning_with_its_location() {
    for (workload, line) in [
        ("builtin = \"price-increase\"\nready = \"READY\"", 17),
        ("command = [\"echo\", \"{item}\"]\nready = \"READY\"", 17),
        ("command = [\"cat\"]\nprotocol = \"lines\"\nready = \"\"", 18),
    ] {
        let dir = Workdir::new();
        dir.write("job.toml", &job(&format!("\n[[workload]]\nname = \"w\"\n{workload}\n")));
        let output = dir.parbench(&["check", "job.toml"]);
        assert!(!output.status.success(), "{workload}");
        let text = stderr(&output);
        assert!(text.contains(&format!("job.toml:{line}:9: ")), "{workload}: {text}");
        assert!(text.contains("\"ready\""), "{workload}: {text}");
    }
}

#[test]
fn a_worker_that_never_prints_its_ready_line_times_out_by_name() {
    let dir = Workdir::new();
    let job = job(r#"
[[workload]]
name = "mute"
command = ["sh", "-c", 'exec sleep 60']
protocol = "lines"
ready = "READY"
strategies = ["processes"]
repetitions = 1
"#)
    .replace(r#"timeout = "60s""#, r#"timeout = "1s""#);
    dir.write("job.toml", &job);
    let output = dir.parbench(&["run", "--quiet", "job.toml"]);
    assert!(!output.status.success(), "{}", stderr(&output));
    let rows = dir.rows("results/job.csv");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["status"], "timeout", "{rows:?}");
    assert!(rows[0]["error"].contains(r#"worker 1 had not printed its ready line "READY""#), "{rows:?}");
}
