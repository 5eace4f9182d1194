//! The ruler (docs/RESULTS.md): one timed region, setup and CPU window for
//! every strategy, checked through the real binary. No timing thresholds:
//! only what must hold on any machine.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;

fn run(dir: &Path, job: &str, args: &[&str]) -> std::process::Output {
    std::fs::write(dir.join("job.toml"), job).unwrap();
    Command::cargo_bin("parbench")
        .unwrap()
        .current_dir(dir)
        .args(["run", "--quiet"])
        .args(args)
        .arg("job.toml")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap()
}

fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    reader
        .records()
        .map(|record| header.iter().cloned().zip(record.unwrap().iter().map(str::to_owned)).collect())
        .collect()
}

fn number(row: &BTreeMap<String, String>, column: &str) -> f64 {
    row[column].parse().unwrap_or_else(|_| panic!("{column} = {:?} is a number", row[column]))
}

#[test]
fn setup_is_inside_wall_and_empty_where_there_is_no_pool() {
    let dir = tempfile::tempdir().unwrap();
    let job = r#"
version = 1
name = "job"
[list]
generator = "range"
size = 6
[run]
strategies = ["serial", "threads", "processes"]
workers = 2
repetitions = 2
warmup = 0
[[workload]]
name = "increase"
builtin = "price-increase"
[[workload]]
name = "cat"
command = ["cat"]
protocol = "lines"
[[workload]]
name = "echo"
command = ["echo", "{item}"]
"#;
    let output = run(dir.path(), job, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rows = rows(&dir.path().join("results/job.csv"));
    assert_eq!(rows.len(), 2 * (3 + 2 + 2));
    for row in &rows {
        let (wall, cpu) = (number(row, "wall_s"), number(row, "cpu_s"));
        assert!(wall > 0.0 && cpu >= 0.0, "{row:?}");
        if row["workload"] == "echo" {
            // argv: a process per item, no moment when a pool is ready.
            assert_eq!(row["setup_s"], "", "{row:?}");
        } else {
            let setup = number(row, "setup_s");
            assert!((0.0..=wall).contains(&setup), "setup within wall: {row:?}");
        }
    }
}

/// The CPUs each worker of a run was allowed, as its processes saw them.
fn allowed_lists(pin: &str, strategy: &str, command: &str, protocol: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let job = format!(
        r#"
version = 1
name = "job"
[list]
generator = "range"
size = 4
[run]
strategies = ["{strategy}"]
workers = 1
repetitions = 1
warmup = 0
pin = "{pin}"
[[workload]]
name = "where"
command = ["sh", "-c", '{command}']
protocol = "{protocol}"
"#
    );
    let output = run(dir.path(), &job, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let env = std::fs::read_to_string(dir.path().join("results/job.env.json")).unwrap();
    assert!(env.contains(&format!("\"pin\": \"{pin}\"")), "{env}");
    let seen = std::fs::read_to_string(dir.path().join("seen.txt")).unwrap();
    seen.lines().map(|line| line.trim_start_matches("Cpus_allowed_list:").trim().to_owned()).collect()
}

#[test]
fn pin_cores_puts_every_kind_of_worker_on_one_cpu() {
    let argv = "grep Cpus_allowed_list /proc/self/status >> seen.txt";
    let lines = "while read item; do grep Cpus_allowed_list /proc/$$/status >> seen.txt; echo $item; done";
    for (strategy, command, protocol) in
        [("processes", argv, "argv"), ("serial", lines, "lines"), ("processes", lines, "lines")]
    {
        let seen = allowed_lists("cores", strategy, command, protocol);
        // Serial also makes the group's reference run, unrecorded.
        assert!(seen.len() >= 4, "{strategy} {protocol}: {seen:?}");
        for cpus in &seen {
            assert!(cpus.parse::<usize>().is_ok(), "{strategy} {protocol}: allowed {cpus:?}, not one CPU");
        }
    }
    // Not pinned: what the runner may use (the whole mask, one CPU or more).
    let seen = allowed_lists("none", "processes", argv, "argv");
    assert_eq!(seen.len(), 4);
}

#[test]
fn an_unknown_pin_is_refused_with_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    let job = "version = 1\nname = \"job\"\n[list]\ngenerator = \"range\"\nsize = 2\n[run]\nstrategies = [\"serial\"]\npin = \"core\"\n\
               [[workload]]\nname = \"a\"\nbuiltin = \"spin\"\n";
    let output = run(dir.path(), job, &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("job.toml:8:7: unknown pin \"core\"") && stderr.contains("cores"), "{stderr}");
}

#[test]
fn when_serials_reference_run_fails_the_other_runs_are_unverified() {
    let dir = tempfile::tempdir().unwrap();
    // Fails the first time it is ever run (serial's first run, the
    // group's reference, which opens the first round), answers its item
    // every time after.
    let job = r#"
version = 1
name = "job"
[list]
generator = "range"
size = 3
[run]
strategies = ["serial", "processes"]
workers = 2
repetitions = 2
warmup = 0
[[workload]]
name = "once"
command = ["sh", "-c", "if [ -e seen ]; then echo {item}; else touch seen; exit 1; fi"]
"#;
    let output = run(dir.path(), job, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let rows = rows(&dir.path().join("results/job.csv"));
    assert_eq!(rows.len(), 4);
    let first = |row: &&std::collections::BTreeMap<String, String>| {
        row["strategy"] == "serial" && row["repetition"] == "1"
    };
    let reference = rows.iter().find(first).unwrap();
    assert_eq!(reference["status"], "failed", "{reference:?}");
    for row in rows.iter().filter(|row| !first(row)) {
        assert_eq!(row["status"], "unverified", "{row:?}");
        assert!(row["error"].contains("reference run") && row["error"].contains("serial"), "{row:?}");
    }
}

#[test]
fn serial_opens_the_first_round_and_is_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    // Every run after the first answers differently from the first: serial's
    // first run sees "0" and is the reference, every later run "1", so each
    // is a mismatch against serial, whatever order the later rounds take.
    let job = r#"
version = 1
name = "job"
[list]
generator = "range"
size = 1
[run]
strategies = ["serial", "processes"]
workers = 2
repetitions = 2
warmup = 0
[[workload]]
name = "drift"
command = ["sh", "-c", "if [ -e seen ]; then echo 1; else touch seen; echo 0; fi"]
"#;
    let output = run(dir.path(), job, &[]);
    assert_eq!(output.status.code(), Some(1));
    let rows = rows(&dir.path().join("results/job.csv"));
    assert_eq!(rows.len(), 4);
    let first = |row: &&std::collections::BTreeMap<String, String>| {
        row["strategy"] == "serial" && row["repetition"] == "1"
    };
    assert!(rows.iter().filter(first).all(|row| row["status"] == "ok"), "{rows:?}");
    assert!(
        rows.iter()
            .filter(|row| !first(row))
            .all(|row| row["status"] == "mismatch" && row["error"].contains("serial")),
        "{rows:?}"
    );
}

/// `pool_start = "untimed"`: the closing line and env.json say so, every
/// run is recorded with its pool's start apart, and the pools' entries are
/// other entries than under a timed start (their keys differ), while a
/// builtin's serial, which starts no pool, is the same entry.
#[test]
fn an_untimed_start_is_said_and_keeps_pool_entries_apart() {
    let job = |pool_start: &str| {
        format!(
            r#"
version = 1
name = "job"
[list]
generator = "range"
size = 6
[run]
strategies = ["serial", "threads", "processes"]
workers = 2
repetitions = 2
warmup = 0
{pool_start}
[[workload]]
name = "increase"
builtin = "price-increase"
[[workload]]
name = "cat"
command = ["cat"]
protocol = "lines"
"#
        )
    };
    let keys = |dir: &Path| -> BTreeMap<(String, String), String> {
        rows(&dir.join("results/job.csv"))
            .into_iter()
            .map(|row| ((row["workload"].clone(), row["strategy"].clone()), row["entry_key"].clone()))
            .collect()
    };
    // One folder: the key holds the job file's path.
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &job(""), &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let timed = keys(dir.path());
    std::fs::write(dir.path().join("job.toml"), job(r#"pool_start = "untimed""#)).unwrap();
    // Not quiet: the closing line is wanted.
    let output = Command::cargo_bin("parbench")
        .unwrap()
        .current_dir(dir.path())
        .args(["run", "job.toml"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("pools' start not timed"), "{said}");
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results/job.env.json")).unwrap())
            .unwrap();
    assert_eq!(env["pool_start"], "untimed");
    for row in rows(&dir.path().join("results/job.csv")) {
        assert_eq!(row["status"], "ok", "{row:?}");
        assert!(number(&row, "wall_s") > 0.0 && number(&row, "setup_s") >= 0.0, "{row:?}");
    }
    let untimed = keys(dir.path());
    // increase: serial, threads, processes; cat (a pool of `lines` workers
    // whatever the strategy): serial, processes.
    assert_eq!(timed.len(), 5);
    for (entry, key) in &timed {
        let same = *entry == ("increase".to_owned(), "serial".to_owned());
        assert_eq!(untimed[entry] == *key, same, "{entry:?}");
    }
}
