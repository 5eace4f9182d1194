//! Integration tests: the real `parbench` binary on real job files in a
//! fresh temporary folder.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

/// A temporary folder to write job files in and run parbench from.
struct Workdir {
    dir: TempDir,
}

impl Workdir {
    fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn parbench(&self, args: &[&str]) -> Output {
        Command::cargo_bin("parbench")
            .unwrap()
            .current_dir(self.path())
            .args(args)
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name))
            .unwrap_or_else(|error| panic!("{name}: {error}"))
    }

    /// A results CSV as header-keyed rows, read with the csv crate.
    fn rows(&self, name: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
        let mut reader = csv::Reader::from_path(self.path().join(name)).unwrap();
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        let rows = reader
            .records()
            .map(|record| {
                let record = record.unwrap();
                assert_eq!(record.len(), header.len(), "every row has every column");
                header
                    .iter()
                    .cloned()
                    .zip(record.iter().map(str::to_owned))
                    .collect()
            })
            .collect();
        (header, rows)
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const SMALL_SEED: &str = r#"
version = 1
name = "small-seed"

[list]
generator = "squares"
size = 20
scale = 42

[run]
strategies = ["serial", "threads", "processes"]
workers = [2]
repetitions = 3
warmup = 1

[[workload]]
name = "increase"
builtin = "price-increase"
params = { percent = 10 }

[[workload]]
name = "crazy"
builtin = "price-crazy"
params = { iterations = 2_000 }
"#;

#[test]
fn every_strategy_reproduces_the_serial_checksum() {
    let work = Workdir::new();
    work.write("seed.toml", SMALL_SEED);
    let output = work.parbench(&["run", "seed.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let (_, rows) = work.rows("results/small-seed.csv");
    assert_eq!(
        rows.len(),
        2 * 3 * 3,
        "2 workloads × 3 strategies × 3 repetitions"
    );
    let mut checksums: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut strategies: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in &rows {
        assert_eq!(row["status"], "ok", "{row:?}");
        checksums
            .entry(row["workload"].clone())
            .or_default()
            .insert(row["checksum"].clone());
        strategies
            .entry(row["workload"].clone())
            .or_default()
            .insert(row["strategy"].clone());
    }
    for (workload, sums) in &checksums {
        assert_eq!(
            sums.len(),
            1,
            "{workload}: one checksum across strategies: {sums:?}"
        );
        assert_eq!(strategies[workload].len(), 3);
    }
    assert_ne!(
        checksums["increase"], checksums["crazy"],
        "different work, different results"
    );

    // The table is printed, one block per group.
    let table = stdout(&output);
    assert!(table.contains("increase · squares 20 items"), "{table}");
    assert!(table.contains("crazy · squares 20 items"), "{table}");
    assert!(table.contains("speedup"), "{table}");
}

#[test]
fn the_run_csv_has_the_documented_columns_in_order() {
    let work = Workdir::new();
    work.write("seed.toml", SMALL_SEED);
    let output = work.parbench(&["run", "--repetitions", "1", "--warmup", "0", "seed.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (header, rows) = work.rows("results/small-seed.csv");
    assert_eq!(
        header,
        [
            "job",
            "workload",
            "generator",
            "list_size",
            "strategy",
            "workers",
            "chunk_size",
            "repetition",
            "status",
            "wall_s",
            "setup_s",
            "cpu_s",
            "items_per_s",
            "checksum",
            "error",
            "started_at",
            "host",
            "cpus",
            "parbench_version",
            "param_iterations",
            "param_percent",
        ]
    );
    for row in &rows {
        assert_eq!(row["job"], "small-seed");
        assert_eq!(row["generator"], "squares");
        assert_eq!(row["list_size"], "20");
        assert_eq!(row["repetition"], "1");
        for column in ["wall_s", "setup_s", "cpu_s", "items_per_s"] {
            let cell = &row[column];
            assert!(
                !cell.contains('e') && !cell.contains('E'),
                "{column} = {cell}: no exponent"
            );
            let value: f64 = cell
                .parse()
                .unwrap_or_else(|_| panic!("{column} = {cell} is a number"));
            assert!(value >= 0.0);
        }
        assert!(
            row["started_at"].ends_with('Z') && row["started_at"].contains('T'),
            "{}",
            row["started_at"]
        );
        let workers: usize = row["workers"].parse().unwrap();
        match row["strategy"].as_str() {
            "serial" => {
                assert_eq!(workers, 1);
                assert_eq!(row["setup_s"], "0.000000000");
                assert_eq!(row["chunk_size"], "");
            }
            "threads" => assert_eq!((workers, row["chunk_size"].as_str()), (2, "")),
            "processes" => {
                assert_eq!(workers, 2);
                assert_eq!(row["chunk_size"], "1", "auto for 20 items on 2 workers");
                assert!(row["setup_s"].parse::<f64>().unwrap() > 0.0);
            }
            other => panic!("strategy {other}"),
        }
        let params = (
            row["param_iterations"].as_str(),
            row["param_percent"].as_str(),
        );
        match row["workload"].as_str() {
            "increase" => assert_eq!(params, ("", "10")),
            _ => assert_eq!(params, ("2000", "1000")),
        }
    }

    let (header, summary) = work.rows("results/small-seed.summary.csv");
    assert_eq!(
        header,
        [
            "job",
            "workload",
            "generator",
            "list_size",
            "strategy",
            "workers",
            "chunk_size",
            "param_iterations",
            "param_percent",
            "runs",
            "failures",
            "median_s",
            "mean_s",
            "stddev_s",
            "min_s",
            "max_s",
            "median_cpu_s",
            "speedup",
            "efficiency",
        ]
    );
    assert_eq!(summary.len(), 6);
    for row in &summary {
        assert_eq!((row["runs"].as_str(), row["failures"].as_str()), ("1", "0"));
        let speedup: f64 = row["speedup"].parse().unwrap();
        let efficiency: f64 = row["efficiency"].parse().unwrap();
        let workers: f64 = row["workers"].parse().unwrap();
        assert!((efficiency - speedup / workers).abs() < 1e-3, "{row:?}");
        if row["strategy"] == "serial" {
            assert_eq!(row["speedup"], "1.0000");
        }
    }
}

#[test]
fn a_misspelt_strategy_is_located_with_a_suggestion() {
    let work = Workdir::new();
    work.write(
        "typo.toml",
        "version = 1\n[list]\ngenerator = \"squares\"\nsize = 20\n[run]\nstrategies = [\"serial\", \"thread\"]\n[[workload]]\nname = \"a\"\nbuiltin = \"spin\"\n",
    );
    for command in ["check", "run"] {
        let output = work.parbench(&[command, "typo.toml"]);
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(
            stderr(&output),
            "error: typo.toml:6:25: unknown strategy \"thread\"; expected one of serial, threads, processes; did you mean \"threads\"?\n"
        );
    }
    assert!(
        !work.path().join("results").exists(),
        "nothing ran, nothing was written"
    );
}

#[test]
fn check_prints_the_plan() {
    let work = Workdir::new();
    work.write(
        "plan.toml",
        r#"
version = 1
name = "plan"
[list]
generator = "range"
size = [10, 100]
[run]
strategies = ["serial", "processes"]
workers = [2]
chunk_size = ["auto", 5]
repetitions = 2
[[workload]]
name = "spin"
builtin = "spin"
[[workload]]
name = "echo"
command = ["echo", "{item}"]
strategies = ["serial", "threads"]
"#,
    );
    let output = work.parbench(&["check", "plan.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    // spin: (serial + processes × 2 chunks) × 2 sizes = 6; echo: serial × 2 sizes = 2.
    assert!(
        text.starts_with("plan.toml: job \"plan\" is valid: 8 entries in 4 groups, 24 runs (16 measured, 8 warm-up)"),
        "{text}"
    );
    assert!(
        text.contains("group 1: spin (builtin spin), range 10 items"),
        "{text}"
    );
    assert!(
        text.contains("spin · 10 items · processes ×2 · chunk auto=1"),
        "{text}"
    );
    assert!(
        text.contains("spin · 100 items · processes ×2 · chunk 5"),
        "{text}"
    );
    assert!(
        text.contains("skipped: echo × threads: a command runs in its own processes"),
        "{text}"
    );
}

#[test]
fn list_shows_builtins_generators_and_strategies() {
    let work = Workdir::new();
    let output = work.parbench(&["list"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for needle in [
        "price-increase",
        "price-crazy",
        "param iterations (default 200000, whole number)",
        "spin",
        "sleep",
        "squares",
        "random",
        "file",
        "processes",
        "cost:",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
}

#[test]
fn without_a_terminal_progress_is_one_line_per_entry() {
    let work = Workdir::new();
    work.write("seed.toml", SMALL_SEED);
    let output = work.parbench(&["run", "--repetitions", "1", "seed.toml"]);
    let text = stderr(&output);
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("small-seed ["))
        .collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert!(
        lines[0].starts_with("small-seed [1/6] increase · 20 items · serial: median"),
        "{text}"
    );
    assert!(!text.contains('\r'), "no bar drawing");

    let quiet = work.parbench(&["run", "--quiet", "--repetitions", "1", "seed.toml"]);
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(stderr(&quiet), "");
    assert_eq!(stdout(&quiet), "");
}

#[test]
fn results_go_to_the_out_folder() {
    let work = Workdir::new();
    work.write("jobs/seed.toml", SMALL_SEED);
    let output = work.parbench(&[
        "run",
        "--out",
        "elsewhere/deep",
        "--repetitions",
        "1",
        "jobs/seed.toml",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(work.path().join("elsewhere/deep/small-seed.csv").exists());
    assert!(
        work.path()
            .join("elsewhere/deep/small-seed.summary.csv")
            .exists()
    );
    assert!(
        !work
            .path()
            .join("elsewhere/deep/small-seed.csv.partial")
            .exists()
    );
}

#[test]
fn a_timeout_is_recorded_and_fails_the_exit_status() {
    let work = Workdir::new();
    work.write(
        "slow.toml",
        r#"
version = 1
[list]
generator = "constant"
size = 100
value = 1
[run]
strategies = ["serial", "threads", "processes"]
workers = [2]
repetitions = 1
warmup = 0
timeout = "100ms"
[[workload]]
name = "nap"
builtin = "sleep"
params = { millis = 20 }
"#,
    );
    let output = work.parbench(&["run", "slow.toml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let (_, rows) = work.rows("results/slow.csv");
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row["status"], "timeout", "{row:?}");
        assert_eq!(row["error"], "timed out after 100ms");
        let wall: f64 = row["wall_s"].parse().unwrap();
        assert!(
            wall < 5.0,
            "stopped near the limit, not after all 2 s of items: {wall}"
        );
    }
}

#[test]
fn user_text_cannot_become_a_spreadsheet_formula() {
    let work = Workdir::new();
    work.write(
        "formula.toml",
        "version = 1\n[list]\ngenerator = \"range\"\nsize = 2\n[run]\nstrategies = [\"serial\"]\nrepetitions = 1\n[[workload]]\nname = \"=HYPERLINK(1)\"\nbuiltin = \"price-increase\"\nparams = { percent = -5 }\n",
    );
    let output = work.parbench(&["run", "formula.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (_, rows) = work.rows("results/formula.csv");
    assert_eq!(rows[0]["workload"], "'=HYPERLINK(1)");
    // Numbers parbench writes itself stay numbers.
    assert_eq!(rows[0]["param_percent"], "-5");
}

#[test]
fn a_file_list_is_read_relative_to_the_job_file() {
    let work = Workdir::new();
    work.write("jobs/data/prices.txt", "1\n\n2.5\n4\n");
    work.write(
        "jobs/file.toml",
        "version = 1\n[list]\ngenerator = \"file\"\npath = \"data/prices.txt\"\n[run]\nstrategies = [\"serial\", \"processes\"]\nworkers = 2\nrepetitions = 1\n[[workload]]\nname = \"inc\"\nbuiltin = \"price-increase\"\n",
    );
    let output = work.parbench(&["run", "jobs/file.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (_, rows) = work.rows("results/file.csv");
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|row| row["list_size"] == "3" && row["status"] == "ok")
    );
    assert_eq!(rows[0]["checksum"], rows[1]["checksum"]);
}

// ---------------------------------------------------------------- commands

/// A job with one command workload; `extra` goes into the [[workload]] table.
fn command_job(name: &str, list: &str, run: &str, command: &str, extra: &str) -> String {
    format!(
        "version = 1\nname = \"{name}\"\n[list]\n{list}\n[run]\n{run}\n[[workload]]\nname = \"cmd\"\ncommand = {command}\n{extra}\n"
    )
}

#[test]
fn items_reach_commands_verbatim_and_are_never_run_by_a_shell() {
    let work = Workdir::new();
    let items = [
        "a b",
        "\"quoted\" 'single'",
        "$(touch pwned)",
        "x; touch pwned2",
        "`touch pwned3`",
        "-n",
    ];
    work.write("items.txt", &items.join("\n"));
    let text = String::from(
        "version = 1\nname = \"verbatim\"\n[list]\ngenerator = \"file\"\npath = \"items.txt\"\n[run]\nstrategies = [\"serial\", \"processes\"]\nworkers = 2\nrepetitions = 1\nwarmup = 0\n\
         [[workload]]\nname = \"printf\"\ncommand = [\"printf\", \"%s\", \"{item}\"]\n\
         [[workload]]\nname = \"cat\"\ncommand = [\"cat\"]\nprotocol = \"lines\"\n",
    );
    work.write("verbatim.toml", &text);
    let output = work.parbench(&["run", "verbatim.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (_, rows) = work.rows("results/verbatim.csv");
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|row| row["status"] == "ok"), "{rows:?}");
    // printf "%s" ITEM and cat both give back the items themselves: the
    // same results, so the same checksum in both groups.
    let sums: BTreeSet<&str> = rows.iter().map(|row| row["checksum"].as_str()).collect();
    assert_eq!(sums.len(), 1, "{rows:?}");
    for file in ["pwned", "pwned2", "pwned3"] {
        assert!(
            !work.path().join(file).exists(),
            "{file} was created: an item ran as shell code"
        );
    }
}

#[test]
fn a_failing_command_fails_its_run_with_status_and_stderr() {
    let work = Workdir::new();
    work.write(
        "fail.toml",
        &command_job(
            "fail",
            "generator = \"range\"\nsize = 3",
            "strategies = [\"serial\", \"processes\"]\nworkers = 2\nrepetitions = 2\nwarmup = 0",
            r#"["sh", "-c", "echo boom on $1 >&2; exit 3", "sh", "{item}"]"#,
            "",
        ),
    );
    let output = work.parbench(&["run", "fail.toml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let (_, rows) = work.rows("results/fail.csv");
    assert_eq!(rows.len(), 4, "failed runs are recorded too");
    for row in &rows {
        assert_eq!(row["status"], "failed");
        assert!(
            row["error"].starts_with("\"sh\" exited with status 3 on item "),
            "{}",
            row["error"]
        );
        assert!(row["error"].contains(": boom on "), "{}", row["error"]);
        assert_eq!(row["checksum"], "");
    }
    let log = work.read("results/fail.log");
    assert!(
        log.contains("[cmd · 3 items · serial · repetition 1] item 1: boom on 0"),
        "{log}"
    );
    assert!(
        log.contains("[cmd · 3 items · processes ×2 · repetition 2]"),
        "{log}"
    );
}

#[test]
fn a_command_killed_by_a_signal_says_which() {
    let work = Workdir::new();
    work.write(
        "killed.toml",
        &command_job(
            "killed",
            "generator = \"range\"\nsize = 1",
            "strategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0",
            r#"["sh", "-c", "kill -KILL $$"]"#,
            "",
        ),
    );
    let output = work.parbench(&["run", "killed.toml"]);
    assert_eq!(output.status.code(), Some(1));
    let (_, rows) = work.rows("results/killed.csv");
    assert_eq!(
        rows[0]["error"],
        "\"sh\" was killed by signal 9 (SIGKILL) on item 1 (\"0\")"
    );
}

#[test]
fn a_missing_program_or_script_is_reported_before_anything_runs() {
    let work = Workdir::new();
    let run = "strategies = [\"serial\"]";
    work.write(
        "missing.toml",
        &command_job(
            "missing",
            "generator = \"range\"\nsize = 1",
            run,
            r#"["no-such-program-parbench", "{item}"]"#,
            "",
        ),
    );
    work.write(
        "script.toml",
        &command_job(
            "script",
            "generator = \"range\"\nsize = 1",
            run,
            r#"["python3", "workers/missing.py"]"#,
            "protocol = \"lines\"",
        ),
    );
    work.write(
        "local.toml",
        &command_job(
            "local",
            "generator = \"range\"\nsize = 1",
            run,
            r#"["./bin/tool", "{item}"]"#,
            "",
        ),
    );
    for (file, expected) in [
        (
            "missing.toml",
            "error: missing.toml:10:12: program \"no-such-program-parbench\" is not found on PATH\n",
        ),
        (
            "script.toml",
            "error: script.toml:10:23: script \"workers/missing.py\" does not exist (commands run in the job file's folder, .)\n",
        ),
        (
            "local.toml",
            "error: local.toml:10:12: program \"./bin/tool\" does not exist (paths are relative to the job file's folder, .)\n",
        ),
    ] {
        for command in ["check", "run"] {
            let output = work.parbench(&[command, file]);
            assert_eq!(output.status.code(), Some(2), "{file}");
            assert_eq!(stderr(&output), expected);
        }
    }
    assert!(!work.path().join("results").exists());
}

#[test]
fn a_million_lines_flow_through_cat() {
    let work = Workdir::new();
    work.write(
        "cat.toml",
        &command_job(
            "cat",
            "generator = \"range\"\nsize = 1_000_000",
            "strategies = [\"serial\", \"processes\"]\nworkers = 2\nrepetitions = 1\nwarmup = 0",
            r#"["cat"]"#,
            "protocol = \"lines\"",
        ),
    );
    let output = work.parbench(&["run", "cat.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (_, rows) = work.rows("results/cat.csv");
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|row| row["status"] == "ok" && row["list_size"] == "1000000"),
        "{rows:?}"
    );
    assert_eq!(rows[0]["checksum"], rows[1]["checksum"]);
    assert_eq!(
        rows[1]["chunk_size"], "7813",
        "auto for a million items on 2 workers"
    );
}

#[test]
fn a_lines_worker_that_answers_too_few_or_too_many_lines_fails() {
    let work = Workdir::new();
    let list = "generator = \"range\"\nsize = 5";
    let run = "strategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0";
    work.write(
        "few.toml",
        &command_job(
            "few",
            list,
            run,
            r#"["sh", "-c", "head -n 2"]"#,
            "protocol = \"lines\"",
        ),
    );
    work.write(
        "many.toml",
        &command_job(
            "many",
            list,
            run,
            r#"["sh", "-c", "while read x; do echo $x; done; echo surplus"]"#,
            "protocol = \"lines\"",
        ),
    );
    let output = work.parbench(&["run", "few.toml"]);
    assert_eq!(output.status.code(), Some(1));
    let (_, rows) = work.rows("results/few.csv");
    assert_eq!(rows[0]["status"], "failed");
    assert!(
        rows[0]["error"].contains("printed a line too few: its output ended after 2 result lines, before the result for item 3"),
        "{}",
        rows[0]["error"]
    );
    let output = work.parbench(&["run", "many.toml"]);
    assert_eq!(output.status.code(), Some(1));
    let (_, rows) = work.rows("results/many.csv");
    assert!(
        rows[0]["error"]
            .contains("printed a line too many: \"surplus\" after the 5 results for its 5 items"),
        "{}",
        rows[0]["error"]
    );
}

/// Processes whose command line contains `marker`.
fn processes_matching(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(marker) {
                found.push(cmdline);
            }
        }
    }
    found
}

#[test]
fn a_timeout_kills_the_whole_process_group() {
    let work = Workdir::new();
    // A duration no other process uses, so the check finds only ours.
    let argv_marker = format!("1000.{}1", std::process::id());
    let lines_marker = format!("1000.{}2", std::process::id());
    let run = "strategies = [\"serial\", \"processes\"]\nworkers = 2\nrepetitions = 1\nwarmup = 0\ntimeout = \"300ms\"";
    work.write(
        "argv.toml",
        &command_job(
            "argv",
            "generator = \"range\"\nsize = 4",
            run,
            &format!(r#"["sh", "-c", "sleep {argv_marker} & wait"]"#),
            "",
        ),
    );
    work.write(
        "lines.toml",
        &command_job(
            "lines",
            "generator = \"range\"\nsize = 4",
            run,
            &format!(r#"["sh", "-c", "sleep {lines_marker} & wait"]"#),
            "protocol = \"lines\"",
        ),
    );
    for (job, marker) in [("argv", &argv_marker), ("lines", &lines_marker)] {
        let output = work.parbench(&["run", &format!("{job}.toml")]);
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let (_, rows) = work.rows(&format!("results/{job}.csv"));
        assert_eq!(rows.len(), 2);
        for row in &rows {
            assert_eq!(row["status"], "timeout", "{row:?}");
        }
        let left = processes_matching(&format!("sleep {marker}"));
        assert!(left.is_empty(), "{job}: processes left behind: {left:?}");
    }
}

#[test]
fn threads_are_skipped_for_commands_and_said_so() {
    let work = Workdir::new();
    work.write(
        "skip.toml",
        &command_job(
            "skip",
            "generator = \"range\"\nsize = 2",
            "strategies = [\"serial\", \"threads\"]\nrepetitions = 1\nwarmup = 0",
            r#"["echo", "{item}"]"#,
            "",
        ),
    );
    let output = work.parbench(&["run", "skip.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("skipped: cmd × threads: a command runs in its own processes"),
        "{}",
        stdout(&output)
    );
    let (_, rows) = work.rows("results/skip.csv");
    assert_eq!(rows.len(), 1);
}
