//! Integration tests: the real `parbench` binary on real job files in a
//! fresh temporary folder.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

mod common;
use tempfile::TempDir;

/// A temporary folder to write job files in and run parbench from.
struct Workdir {
    dir: TempDir,
}

impl Workdir {
    fn new() -> Workdir {
        Workdir { dir: tempfile::tempdir().expect("a temporary folder") }
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
        // parbench runs take turns: one beside another would be other load.
        let _turn = common::measuring();
        Command::cargo_bin("parbench")
            .unwrap()
            .current_dir(self.path())
            .args(args)
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
    }

    /// A results CSV as header-keyed rows, read with the csv crate.
    fn rows(&self, name: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
        let mut reader = csv::Reader::from_path(self.path().join(name)).unwrap();
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        let rows = reader
            .records()
            .map(|record| {
                let record = record.unwrap();
                assert_eq!(record.len(), header.len(), "every row has every column");
                header.iter().cloned().zip(record.iter().map(str::to_owned)).collect()
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
    assert_eq!(rows.len(), 2 * 3 * 3, "2 workloads × 3 strategies × 3 repetitions");
    let mut checksums: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut strategies: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in &rows {
        assert_eq!(row["status"], "ok", "{row:?}");
        checksums.entry(row["workload"].clone()).or_default().insert(row["checksum"].clone());
        strategies.entry(row["workload"].clone()).or_default().insert(row["strategy"].clone());
    }
    for (workload, sums) in &checksums {
        assert_eq!(sums.len(), 1, "{workload}: one checksum across strategies: {sums:?}");
        assert_eq!(strategies[workload].len(), 3);
    }
    assert_ne!(checksums["increase"], checksums["crazy"], "different work, different results");

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
            "entry_key",
            "peak_rss_bytes",
            "python",
            "python_gil",
            "foreign_cpu_s",
            "steal_s",
            "disturbed",
            "run_delay_s",
            "chunk_policy",
            "exit_code",
            "exit_signal",
            "ctx_switches",
            "process",
            "param_iterations",
            "param_percent",
        ]
    );
    for row in &rows {
        assert_eq!(row["job"], "small-seed");
        assert_eq!(row["process"], "1", "one repetition: the first block");
        assert_eq!(row["generator"], "squares");
        assert_eq!(row["list_size"], "20");
        assert_eq!(row["repetition"], "1");
        for column in ["wall_s", "setup_s", "cpu_s", "items_per_s"] {
            let cell = &row[column];
            assert!(!cell.contains('e') && !cell.contains('E'), "{column} = {cell}: no exponent");
            let value: f64 = cell.parse().unwrap_or_else(|_| panic!("{column} = {cell} is a number"));
            assert!(value >= 0.0);
        }
        assert!(humantime::parse_rfc3339_weak(&row["started_at"]).is_ok(), "{}", row["started_at"]);
        let workers: usize = row["workers"].parse().unwrap();
        match row["strategy"].as_str() {
            "serial" => {
                assert_eq!(workers, 1);
                // Serial's one worker is ready once its thread is pinned.
                let setup: f64 = row["setup_s"].parse().unwrap();
                assert!(setup <= row["wall_s"].parse::<f64>().unwrap());
                assert_eq!((row["chunk_size"].as_str(), row["chunk_policy"].as_str()), ("", ""));
            }
            "threads" => {
                assert_eq!((workers, row["chunk_size"].as_str(), row["chunk_policy"].as_str()), (2, "", ""))
            }
            "processes" => {
                assert_eq!(workers, 2);
                let chunking = (row["chunk_size"].as_str(), row["chunk_policy"].as_str());
                assert_eq!(chunking, ("", "guided"), "auto for 20 items on 2 workers");
                assert!(row["setup_s"].parse::<f64>().unwrap() > 0.0);
            }
            other => panic!("strategy {other}"),
        }
        let params = (row["param_iterations"].as_str(), row["param_percent"].as_str());
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
            "median_ci_low_s",
            "median_ci_high_s",
            "outliers",
            "speedup_ci_low",
            "speedup_ci_high",
            "host",
            "median_peak_rss_bytes",
            "karp_flatt",
            "median_ci_level",
            "precision",
            "speedup_ci_level",
            "verdict",
            "disturbed_runs",
            "not_judged",
            "chunk_policy",
            "median_ctx_switches",
            "invocations",
        ]
    );
    assert_eq!(summary.len(), 6);
    for row in &summary {
        assert_eq!((row["runs"].as_str(), row["failures"].as_str()), ("1", "0"));
        // One run an entry: where other load disturbed it (this machine is
        // shared), the entry is not judged and has no speedup, as it says.
        if !row["not_judged"].is_empty() {
            assert_eq!((row["speedup"].as_str(), row["efficiency"].as_str()), ("", ""), "{row:?}");
            continue;
        }
        let speedup: f64 = row["speedup"].parse().unwrap();
        let efficiency: f64 = row["efficiency"].parse().unwrap();
        let workers: f64 = row["workers"].parse().unwrap();
        assert!((efficiency - speedup / workers).abs() < 1e-3, "{row:?}");
        if row["strategy"] == "serial" {
            assert_eq!(row["speedup"], "1.00000");
            assert_eq!(row["karp_flatt"], "");
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
    assert!(!work.path().join("results").exists(), "nothing ran, nothing was written");
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
        text.starts_with(
            "plan.toml: job \"plan\" is valid: 8 entries in 4 groups, 24 runs (16 measured, 8 warm-up)"
        ),
        "{text}"
    );
    assert!(text.contains("group 1: spin (builtin spin), range 10 items"), "{text}");
    assert!(text.contains("spin · 10 items · processes ×2 · chunk auto:guided"), "{text}");
    assert!(text.contains("spin · 100 items · processes ×2 · chunk 5"), "{text}");
    assert!(text.contains("skipped: echo × threads: a command runs in its own processes"), "{text}");
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
    let lines: Vec<&str> = text.lines().filter(|line| line.starts_with("small-seed [")).collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert!(lines[0].starts_with("small-seed [1/6] increase · 20 items · serial: median"), "{text}");
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
    let output = work.parbench(&["run", "--out", "elsewhere/deep", "--repetitions", "1", "jobs/seed.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(work.path().join("elsewhere/deep/small-seed.csv").exists());
    assert!(work.path().join("elsewhere/deep/small-seed.summary.csv").exists());
    assert!(!work.path().join("elsewhere/deep/small-seed.csv.partial").exists());
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
        assert!(wall < 5.0, "stopped near the limit, not after all 2 s of items: {wall}");
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
    assert!(rows.iter().all(|row| row["list_size"] == "3" && row["status"] == "ok"));
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
    let items = ["a b", "\"quoted\" 'single'", "$(touch pwned)", "x; touch pwned2", "`touch pwned3`", "-n"];
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
        assert!(!work.path().join(file).exists(), "{file} was created: an item ran as shell code");
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
        assert!(row["error"].starts_with("\"sh\" exited with status 3 on item "), "{}", row["error"]);
        assert!(row["error"].contains(": boom on "), "{}", row["error"]);
        assert_eq!(row["checksum"], "");
    }
    let log = work.read("results/fail.log");
    assert!(log.contains("[cmd · 3 items · serial · repetition 1] item 1: boom on 0"), "{log}");
    assert!(log.contains("[cmd · 3 items · processes ×2 · repetition 2]"), "{log}");
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
    assert_eq!(rows[0]["error"], "\"sh\" was killed by signal 9 (SIGKILL) on item 1 (\"0\")");
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
        &command_job("local", "generator = \"range\"\nsize = 1", run, r#"["./bin/tool", "{item}"]"#, ""),
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
    assert!(rows.iter().all(|row| row["status"] == "ok" && row["list_size"] == "1000000"), "{rows:?}");
    assert_eq!(rows[0]["checksum"], rows[1]["checksum"]);
    let chunking = (rows[1]["chunk_size"].as_str(), rows[1]["chunk_policy"].as_str());
    assert_eq!(chunking, ("", "guided"), "auto for a million items on 2 workers");
}

#[test]
fn a_lines_worker_that_answers_too_few_or_too_many_lines_fails() {
    let work = Workdir::new();
    let list = "generator = \"range\"\nsize = 5";
    let run = "strategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0";
    work.write(
        "few.toml",
        &command_job("few", list, run, r#"["sh", "-c", "head -n 2"]"#, "protocol = \"lines\""),
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
        rows[0]["error"].contains(
            "printed a line too few: its output ended after 2 result lines, before the result for item 3"
        ),
        "{}",
        rows[0]["error"]
    );
    let output = work.parbench(&["run", "many.toml"]);
    assert_eq!(output.status.code(), Some(1));
    let (_, rows) = work.rows("results/many.csv");
    assert!(
        rows[0]["error"].contains("printed a line too many: \"surplus\" after the 5 results for its 5 items"),
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

// ---------------------------------------------------------------- broken job files

/// Every file in tests/fixtures/broken is a job file with one mistake, next
/// to the exact error it must produce.
#[test]
fn every_broken_job_file_gives_its_exact_error() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken");
    let mut checked = 0;
    let mut names: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    names.sort();
    for path in names {
        let name = path.file_name().unwrap().to_str().unwrap();
        let expected = std::fs::read_to_string(path.with_extension("expected"))
            .unwrap_or_else(|_| panic!("{name} has no .expected file"));
        let output = Command::cargo_bin("parbench")
            .unwrap()
            .current_dir(&folder)
            .args(["check", name])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert_eq!(stderr(&output), expected, "{name}");
        assert!(expected.starts_with(&format!("error: {name}:")), "{name}: located");
        checked += 1;
    }
    assert!(checked >= 40, "the corpus has {checked} files");
}

// ---------------------------------------------------------------- reliability

fn parbench_path() -> PathBuf {
    assert_cmd::cargo::cargo_bin("parbench")
}

/// Waits, up to a minute, until `path` holds at least `rows` data rows.
fn wait_for_rows(path: &Path, rows: usize) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let count =
            std::fs::read_to_string(path).map(|text| text.lines().count().saturating_sub(1)).unwrap_or(0);
        if count >= rows {
            return;
        }
        assert!(std::time::Instant::now() < until, "{} never reached {rows} rows", path.display());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn signal(child: &std::process::Child, signal: i32) {
    // SAFETY: kill on the pid of a child we spawned and have not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
}

/// (entry_key, repetition, status, checksum) of every row, sorted.
fn row_set(rows: &[BTreeMap<String, String>]) -> Vec<(String, String, String, String)> {
    let mut set: Vec<_> = rows
        .iter()
        .map(|row| {
            // What the entry measures: its key also covers where the job
            // file lies, and these rows may come from two folders.
            let entry: Vec<&str> = row
                .iter()
                .filter(|(column, _)| {
                    column.starts_with("param_")
                        || ["workload", "list_size", "strategy", "workers", "chunk_size"]
                            .contains(&column.as_str())
                })
                .map(|(_, cell)| cell.as_str())
                .collect();
            (entry.join("|"), row["repetition"].clone(), row["status"].clone(), row["checksum"].clone())
        })
        .collect();
    set.sort();
    set
}

const MANY_ENTRIES: &str = r#"
version = 1
name = "many"
[list]
generator = "range"
size = 4
[run]
strategies = ["serial", "threads"]
workers = 2
repetitions = 3
warmup = 0
[[workload]]
name = "nap"
builtin = "sleep"
params = { millis = [5, 6, 7, 8, 9, 10] }
"#;

#[test]
fn a_killed_runner_resumes_to_the_rows_of_an_uninterrupted_run() {
    let reference = Workdir::new();
    reference.write("many.toml", MANY_ENTRIES);
    assert_eq!(reference.parbench(&["run", "many.toml"]).status.code(), Some(0));
    let (_, expected) = reference.rows("results/many.csv");

    let work = Workdir::new();
    work.write("many.toml", MANY_ENTRIES);
    // A run of its own, not beside another test's (other load).
    let _turn = common::measuring();
    let mut child = std::process::Command::new(parbench_path())
        .current_dir(work.path())
        .args(["run", "--quiet", "many.toml"])
        .spawn()
        .unwrap();
    let partial = work.path().join("results/many.csv.partial");
    wait_for_rows(&partial, 10);
    child.kill().unwrap();
    child.wait().unwrap();
    let saved = std::fs::read_to_string(&partial).unwrap().lines().count() - 1;
    assert!(saved < 36, "killed before the end ({saved} rows)");
    assert!(!work.path().join("results/many.csv").exists());

    // A plain run refuses to overwrite what was measured.
    let refused = work.parbench(&["run", "many.toml"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("results/many.csv.partial holds") && stderr(&refused).contains("--resume"),
        "{}",
        stderr(&refused)
    );

    let resumed = work.parbench(&["run", "--resume", "many.toml"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains(&format!("keeping {saved} runs already measured")),
        "{}",
        stderr(&resumed)
    );
    let (_, rows) = work.rows("results/many.csv");
    assert_eq!(rows.len(), expected.len());
    assert_eq!(row_set(&rows), row_set(&expected), "the same runs, each once");
    assert!(!partial.exists());
    // In plan order: the rows of each entry together, repetitions ascending.
    let order: Vec<(String, String)> =
        rows.iter().map(|row| (row["param_millis"].clone(), row["strategy"].clone())).collect();
    let mut sorted = order.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 12, "each entry's rows are contiguous");
}

#[test]
fn ctrl_c_saves_the_runs_stops_the_workers_and_exits_130() {
    let work = Workdir::new();
    let marker = format!("1.{}7", std::process::id());
    work.write(
        "stop.toml",
        &format!(
            r#"
version = 1
name = "stop"
[list]
generator = "constant"
size = 40
value = 1
[run]
strategies = ["serial", "processes"]
workers = 2
repetitions = 50
warmup = 0
[[workload]]
name = "nap"
builtin = "sleep"
params = {{ millis = {marker} }}
[[workload]]
name = "cmd"
command = ["sleep", "{marker}"]
"#
        ),
    );
    // A run of its own, not beside another test's (other load).
    let _turn = common::measuring();
    let child = std::process::Command::new(parbench_path())
        .current_dir(work.path())
        .args(["run", "stop.toml"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let partial = work.path().join("results/stop.csv.partial");
    // Serial's 50 runs, then into the processes pool.
    wait_for_rows(&partial, 51);
    signal(&child, libc::SIGINT);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("stop: interrupted; "), "{text}");
    assert!(
        text.contains(
            "runs are saved in results/stop.csv.partial. Continue with:\n  parbench run --resume stop.toml"
        ),
        "{text}"
    );
    let rows = std::fs::read_to_string(&partial).unwrap().lines().count() - 1;
    assert!(rows >= 51, "{rows}");
    let left = processes_matching(&format!("millis={marker}"));
    assert!(left.is_empty(), "workers left behind: {left:?}");
    assert!(processes_matching(&format!("sleep {marker}")).is_empty());
    assert!(!work.path().join("results/stop.lock").exists(), "the lock is released");
}

#[test]
fn a_worker_that_dies_fails_its_run_and_the_next_runs_pass() {
    let work = Workdir::new();
    work.write(
        "crash.toml",
        r#"
version = 1
name = "crash"
[list]
generator = "range"
size = 100
[run]
strategies = ["serial", "processes"]
workers = 2
repetitions = 2
warmup = 0
[[workload]]
name = "crash"
builtin = "__crash"
params = { at = 50, signal = [9, 0] }
[[workload]]
name = "fine"
builtin = "spin"
params = { iterations = 10 }
"#,
    );
    let output = work.parbench(&["run", "crash.toml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let (_, rows) = work.rows("results/crash.csv");
    assert_eq!(rows.len(), 12);
    let error = regex_lite(r"^worker \d+ \(pid \d+\) stopped answering after \d+ items \(");
    for row in &rows {
        match (row["workload"].as_str(), row["strategy"].as_str()) {
            ("crash", "processes") => {
                assert_eq!(row["status"], "failed");
                assert!(error(&row["error"]), "{}", row["error"]);
                let why = if row["param_signal"] == "9" {
                    "was killed by signal 9 (SIGKILL))"
                } else {
                    "exited with status 3)"
                };
                assert!(row["error"].ends_with(why), "{}", row["error"]);
            }
            _ => assert_eq!(row["status"], "ok", "{row:?}"),
        }
    }
}

/// A tiny matcher for the one pattern above, to keep the dependencies few:
/// `\d+` and literal text, anchored at the start.
fn regex_lite(pattern: &str) -> impl Fn(&str) -> bool {
    let pattern = pattern.trim_start_matches('^').replace("\\(", "(").replace("\\)", ")");
    let parts: Vec<String> = pattern.split("\\d+").map(str::to_owned).collect();
    move |text: &str| {
        let mut rest = text;
        for (index, part) in parts.iter().enumerate() {
            if index > 0 {
                let digits = rest.chars().take_while(char::is_ascii_digit).count();
                if digits == 0 {
                    return false;
                }
                rest = &rest[digits..];
            }
            match rest.strip_prefix(part.as_str()) {
                Some(after) => rest = after,
                None => return false,
            }
        }
        true
    }
}

#[test]
fn an_output_folder_that_cannot_be_written_is_refused_before_anything_runs() {
    let work = Workdir::new();
    work.write("seed.toml", SMALL_SEED);
    // Root ignores permission bits, so a folder of sysfs stands in for a
    // read-only one there; anyone else gets a folder without write permission.
    let locked = work.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o555)).unwrap();
    let writable = std::fs::write(locked.join("probe"), "").is_ok();
    let out = if writable { PathBuf::from("/sys/kernel") } else { locked.clone() };
    let output = work.parbench(&["run", "--out", out.to_str().unwrap(), "seed.toml"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.starts_with(&format!("error: cannot write results to {}: ", out.display())), "{text}");
    assert_eq!(text.lines().count(), 1, "one line: {text}");
    assert!(stdout(&output).is_empty(), "nothing ran");
}

#[test]
fn a_second_parbench_on_the_same_results_is_refused_naming_the_first() {
    let work = Workdir::new();
    work.write(
        "slow.toml",
        "version = 1\nname = \"slow\"\n[list]\ngenerator = \"constant\"\nsize = 1\nvalue = 1\n[run]\nstrategies = [\"serial\"]\nrepetitions = 200\nwarmup = 0\n[[workload]]\nname = \"nap\"\nbuiltin = \"sleep\"\nparams = { millis = 50 }\n",
    );
    // A run of its own, not beside another test's (other load).
    let _turn = common::measuring();
    let mut first = std::process::Command::new(parbench_path())
        .current_dir(work.path())
        .args(["run", "--quiet", "slow.toml"])
        .spawn()
        .unwrap();
    wait_for_rows(&work.path().join("results/slow.csv.partial"), 1);
    let second = work.parbench(&["run", "slow.toml"]);
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(second.status.code(), Some(2));
    assert_eq!(
        stderr(&second).lines().next().unwrap_or_default().split(" since ").next().unwrap(),
        format!("error: results/slow.csv is being written by parbench pid {}", first.id())
    );
    assert!(stderr(&second).contains("wait for it to finish, or write elsewhere with --out"));
}

#[test]
fn a_write_error_mid_run_stops_cleanly_and_keeps_the_rows_written() {
    let work = Workdir::new();
    work.write(
        "full.toml",
        "version = 1\nname = \"full\"\n[list]\ngenerator = \"range\"\nsize = 3\n[run]\nstrategies = [\"serial\"]\nrepetitions = 200\nwarmup = 0\n[[workload]]\nname = \"w\"\nbuiltin = \"spin\"\nparams = { iterations = 10 }\n",
    );
    // A file-size limit of 8 KiB stands in for a full disk: the write that
    // crosses it fails with EFBIG, as one on a full disk fails with ENOSPC.
    let output = std::process::Command::new("bash")
        .current_dir(work.path())
        .args(["-c", &format!("ulimit -f 8; exec {} run full.toml", parbench_path().display())])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("error: cannot write results/full.csv.partial: File too large"), "{text}");
    assert!(
        text.contains(
            "runs are saved in results/full.csv.partial; continue with: parbench run --resume full.toml"
        ),
        "{text}"
    );
    let rows = resume_rows(&work.path().join("results/full.csv.partial"));
    assert!(rows > 10 && rows < 200, "{rows} complete rows kept");
    assert!(!work.path().join("results/full.csv").exists());
}

/// Complete rows of a `.partial`, as `--resume` reads it (a torn last line is not one).
fn resume_rows(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let complete = &text[..text.rfind('\n').map_or(0, |end| end + 1)];
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(complete.as_bytes());
    let width = reader.headers().unwrap().len();
    reader.records().filter_map(Result::ok).filter(|record| record.len() == width).count()
}

#[test]
fn retry_failed_reruns_only_the_failures_and_replaces_their_rows() {
    let work = Workdir::new();
    work.write(
        "flaky.toml",
        r#"
version = 1
name = "flaky"
[list]
generator = "range"
size = 3
[run]
strategies = ["serial", "processes"]
workers = 2
repetitions = 2
warmup = 0
[[workload]]
name = "flaky"
command = ["sh", "-c", "test -e ready || exit 4; echo $1", "sh", "{item}"]
[[workload]]
name = "steady"
builtin = "price-increase"
"#,
    );
    let first = work.parbench(&["run", "flaky.toml"]);
    assert_eq!(first.status.code(), Some(1));
    let (_, before) = work.rows("results/flaky.csv");
    assert_eq!(before.iter().filter(|row| row["status"] == "failed").count(), 4);

    work.write("ready", "");
    let retried = work.parbench(&["run", "--retry-failed", "flaky.toml"]);
    assert_eq!(retried.status.code(), Some(0), "{}", stderr(&retried));
    let (_, after) = work.rows("results/flaky.csv");
    assert_eq!(after.len(), before.len(), "replaced, not added");
    assert!(after.iter().all(|row| row["status"] == "ok"), "{after:?}");
    let keys: BTreeSet<(String, String)> =
        after.iter().map(|row| (row["entry_key"].clone(), row["repetition"].clone())).collect();
    assert_eq!(keys.len(), after.len(), "no duplicates");
    // The runs that were ok were kept as they were, not measured again.
    for row in before.iter().filter(|row| row["status"] == "ok") {
        assert!(after.contains(row), "{row:?} kept");
    }
}

// ---------------------------------------------------------------- reports

const SLEEPY: &str = r#"
version = 1
name = "sleepy"
[list]
generator = "constant"
size = 4
value = 1
[run]
strategies = ["serial", "threads"]
workers = [4, 8]
repetitions = 7
warmup = 1
[[workload]]
name = "nap"
builtin = "sleep"
params = { millis = 10 }
"#;

#[test]
fn the_same_rows_always_give_the_same_summary_byte_for_byte() {
    let work = Workdir::new();
    work.write("sleepy.toml", SLEEPY);
    assert_eq!(work.parbench(&["run", "sleepy.toml"]).status.code(), Some(0));
    for copy in ["one.csv", "two.csv"] {
        let output = work.parbench(&["report", "--quiet", "results/sleepy.csv", "--summary-csv", copy]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let written = work.read("results/sleepy.summary.csv");
    assert_eq!(work.read("one.csv"), written);
    assert_eq!(work.read("two.csv"), written);
    let (_, summary) = work.rows("results/sleepy.summary.csv");
    for row in summary.iter().filter(|row| row["not_judged"].is_empty()) {
        let median: f64 = row["median_s"].parse().unwrap();
        let low: f64 = row["median_ci_low_s"].parse().unwrap();
        let high: f64 = row["median_ci_high_s"].parse().unwrap();
        assert!(low <= median && median <= high, "{row:?}");
        let speedup: f64 = row["speedup"].parse().unwrap();
        let (low, high): (f64, f64) =
            (row["speedup_ci_low"].parse().unwrap(), row["speedup_ci_high"].parse().unwrap());
        assert!(low <= speedup && speedup <= high, "{row:?}");
        assert!(row["outliers"].parse::<usize>().is_ok());
    }
    // Whether the sleeps overlapped is a wall-clock question and is not
    // asserted here; the summary must still carry the 4-thread entry.
    let threads4 = summary.iter().find(|row| row["strategy"] == "threads" && row["workers"] == "4");
    assert!(threads4.is_some_and(|row| row["min_s"].parse::<f64>().is_ok()), "{summary:?}");
    let env: serde_json::Value = serde_json::from_str(&work.read("results/sleepy.env.json")).unwrap();
    for key in [
        "host",
        "cpu_model",
        "logical_cpus",
        "physical_cores",
        "memory_bytes",
        "os",
        "kernel",
        "job_file_hash",
    ] {
        assert!(!env[key].is_null(), "{key} in {env}");
    }
    assert_eq!(env["parbench_version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn interleaved_order_is_the_default_and_grouped_is_available() {
    let work = Workdir::new();
    work.write("sleepy.toml", SLEEPY);
    work.write(
        "grouped.toml",
        &SLEEPY
            .replace("name = \"sleepy\"", "name = \"grouped\"")
            .replace("warmup = 1", "warmup = 0\norder = \"grouped\""),
    );
    for job in ["sleepy", "grouped"] {
        assert_eq!(work.parbench(&["run", &format!("{job}.toml")]).status.code(), Some(0));
    }
    // The final CSV is in plan order either way; the start times tell the
    // order the runs were measured in.
    let order = |job: &str| {
        let (_, mut rows) = work.rows(&format!("results/{job}.csv"));
        rows.sort_by(|a, b| a["started_at"].cmp(&b["started_at"]));
        rows.iter().map(|row| format!("{}{}", row["workers"], row["repetition"])).take(4).collect::<Vec<_>>()
    };
    // Interleaved: round 1 holds every entry once, in a shuffled order.
    let mut first_round = order("sleepy")[..3].to_vec();
    first_round.sort();
    assert_eq!(first_round, ["11", "41", "81"]);
    assert!(order("sleepy")[3].ends_with('2'), "{:?}", order("sleepy"));
    assert_eq!(order("grouped"), ["11", "12", "13", "14"]);
}

/// Scales the wall time of every row of one entry by `factor`.
fn slow_down(text: &str, strategy: &str, workers: &str, factor: f64) -> String {
    common::with_walls(text, |row| {
        let wall: f64 = row["wall_s"].parse().unwrap();
        Some(if row["strategy"] == strategy && row["workers"] == workers { wall * factor } else { wall })
    })
}

/// The same rows with every wall time replaced by a steady one: 10 ms per
/// item over the workers, ±0.5% by repetition.
fn steady(text: &str) -> String {
    common::with_walls(text, |row| {
        let workers: f64 = row["workers"].parse().unwrap();
        let repetition: f64 = row["repetition"].parse().unwrap();
        Some(0.04 / workers.min(4.0) * (1.0 + (repetition % 11.0 - 5.0) / 1000.0))
    })
}

#[test]
fn a_baseline_comparison_names_what_got_slower_and_fails() {
    let work = Workdir::new();
    work.write("sleepy.toml", SLEEPY);
    // Twenty runs: seven cannot hold the 99% intervals that three entries
    // compared together need (min … max of 7 covers a median 98.4%).
    let run = ["run", "--repetitions", "20", "sleepy.toml"];
    assert_eq!(work.parbench(&run).status.code(), Some(0));
    std::fs::copy(work.path().join("results/sleepy.csv"), work.path().join("old.csv")).unwrap();
    // The same job again: its rows pair with the first run's, entry by
    // entry, and at the times of a quiet machine (±0.5%, the same in both)
    // show no clear change. Rows as steady as that, and the same rows with
    // serial 30% slower: a slowdown beyond doubt. (Real sleeps on a shared
    // machine can drift between two runs by more than their intervals, and
    // wander by tens of percent within one; bench/baseline measures that.)
    assert_eq!(work.parbench(&run).status.code(), Some(0));
    work.write("steady.csv", &steady(&work.read("old.csv")));
    work.write("again.csv", &steady(&work.read("results/sleepy.csv")));
    let same = work.parbench(&["report", "--quiet", "--baseline", "steady.csv", "again.csv"]);
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
    assert!(stdout(&same).contains("0 slower, 0 faster, 3 without a clear change"), "{}", stdout(&same));

    work.write("slower.csv", &slow_down(&work.read("steady.csv"), "serial", "1", 1.3));
    let slower = work.parbench(&["report", "--quiet", "--baseline", "steady.csv", "slower.csv"]);
    assert_eq!(slower.status.code(), Some(1), "{}", stdout(&slower));
    let text = stdout(&slower);
    let flagged: Vec<&str> = text.lines().filter(|line| line.trim_start().starts_with("SLOWER")).collect();
    assert_eq!(flagged.len(), 1, "{text}");
    assert!(flagged[0].ends_with("nap · constant 4 items · millis=10 · serial"), "{text}");
    assert!(flagged[0].contains("+30.0%"), "{text}");
    assert!(text.contains("1 slower, 0 faster, 2 without a clear change"), "{text}");
}

#[test]
fn report_reads_several_hosts_and_exports_every_format() {
    let work = Workdir::new();
    work.write("sleepy.toml", SLEEPY);
    assert_eq!(work.parbench(&["run", "sleepy.toml"]).status.code(), Some(0));
    let text = work.read("results/sleepy.csv");
    let (_, rows) = work.rows("results/sleepy.csv");
    let host = &rows[0]["host"];
    work.write("other-host.csv", &text.replace(&format!(",{host},"), ",other-node,"));
    let output = work.parbench(&[
        "report",
        "results/sleepy.csv",
        "other-host.csv",
        "--markdown",
        "r.md",
        "--json",
        "r.json",
        "--html",
        "r.html",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let table = stdout(&output);
    assert!(table.contains(&format!("nap · constant 4 items · millis=10 · on {host}")), "{table}");
    assert!(table.contains("nap · constant 4 items · millis=10 · on other-node"), "{table}");
    assert!(work.read("r.md").contains("| strategy | workers |"));
    let json: serde_json::Value = serde_json::from_str(&work.read("r.json")).unwrap();
    assert_eq!(json["entries"].as_array().unwrap().len(), 6);
    let html = work.read("r.html");
    assert!(html.contains("<svg") && html.contains("<circle"), "charts drawn");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("<script src"),
        "self-contained"
    );

    let missing = work.parbench(&["report", "nope.csv"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(stderr(&missing), "error: nope.csv: no such file\n");
}

/// Headless Chromium opens the HTML report of a real run: no console
/// message, the charts' points in the DOM, and a screenshot that is not blank.
/// Ignored where Chromium is not installed, unless PARBENCH_REQUIRE_BROWSER=1
/// (CI sets it after installing Debian's chromium).
#[parbench_test_tools::needs(chromium)]
#[test]
fn the_html_report_renders_in_a_browser() {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|path| {
                std::env::split_paths(&path).map(|dir| dir.join(name)).find(|path| path.is_file())
            })
        })
        .expect("PARBENCH_REQUIRE_BROWSER is set but there is no chromium on PATH");
    let work = Workdir::new();
    work.write(
        "scaling.toml",
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/scaling.toml")).unwrap(),
    );
    let output = work.parbench(&[
        "run",
        "--quiet",
        "--repetitions",
        "2",
        "--warmup",
        "0",
        "--html",
        "report.html",
        "scaling.toml",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let page = format!("file://{}", work.path().join("report.html").display());
    // Chromium keeps CPUs busy: not beside another test's run.
    let _turn = common::measuring();
    let browser = |extra: &[&str]| {
        std::process::Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", work.path().join("profile").display()))
            .args(extra)
            .arg(&page)
            .output()
            .unwrap()
    };
    let dom = browser(&["--dump-dom"]);
    let log = stderr(&dom);
    let console: Vec<&str> = log.lines().filter(|line| line.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    let dom = stdout(&dom);
    let attribute = |name: &str| -> usize {
        let start =
            dom.find(&format!("{name}=\"")).unwrap_or_else(|| panic!("{name} set by the page's script"))
                + name.len()
                + 2;
        dom[start..].split('"').next().unwrap().parse().unwrap()
    };
    assert!(attribute("data-charts") >= 2, "charts");
    assert!(attribute("data-points") >= 8, "data points");

    let shot = work.path().join("shot.png");
    let screenshot = browser(&[&format!("--screenshot={}", shot.display()), "--window-size=1200,1600"]);
    assert!(shot.exists(), "{}", stderr(&screenshot));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let channels = info.color_type.samples();
    let pixels = &pixels[..info.buffer_size()];
    let total = pixels.len() / channels;
    let inked = pixels.chunks(channels).filter(|pixel| pixel[..3].iter().any(|value| *value < 200)).count();
    let colored = pixels
        .chunks(channels)
        .filter(|pixel| {
            let (max, min) = (pixel[..3].iter().max().unwrap(), pixel[..3].iter().min().unwrap());
            max - min > 80
        })
        .count();
    assert!(inked * 100 > total, "text and lines drawn: {inked} of {total} pixels");
    assert!(colored > 200, "coloured chart lines drawn: {colored} pixels");
}

// ---------------------------------------------------------------- clusters

const SHARDED: &str = r#"
version = 1
name = "sharded"
[list]
generator = "range"
size = [3, 30]
[run]
strategies = ["serial", "threads", "processes"]
workers = 2
repetitions = 2
warmup = 0
[[workload]]
name = "spin"
builtin = "spin"
params = { iterations = [10, 20] }
[[workload]]
name = "echo"
command = ["echo", "{item}"]
"#;

fn run_set(work: &Workdir, file: &str) -> Vec<(String, String, String, String)> {
    let (_, rows) = work.rows(file);
    row_set(&rows)
}

#[test]
fn shards_run_locally_merge_to_the_rows_of_one_run() {
    let work = Workdir::new();
    work.write("sharded.toml", SHARDED);
    assert_eq!(work.parbench(&["run", "--quiet", "sharded.toml"]).status.code(), Some(0));
    let whole = run_set(&work, "results/sharded.csv");
    for index in 0..3 {
        let output = work.parbench(&[
            "run",
            "--quiet",
            "--out",
            "shards",
            "--shard",
            &format!("{index}/3"),
            "sharded.toml",
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    // Groups are never split: each shard has whole groups.
    for index in 0..3 {
        let (_, rows) = work.rows(&format!("shards/sharded.shard-{index}-of-3.csv"));
        assert!(!rows.is_empty(), "6 groups over 3 shards leave none empty");
        for row in &rows {
            assert_eq!(row["job"], "sharded");
        }
    }
    let shards: Vec<String> = (0..3).map(|index| format!("shards/sharded.shard-{index}-of-3.csv")).collect();
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(String::as_str));
    let merged = work.parbench(&args);
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));
    assert_eq!(run_set(&work, "shards/sharded.csv"), whole, "the same runs, statuses and checksums");
    assert!(work.path().join("shards/sharded.summary.csv").exists());

    // A missing shard, a duplicate, another job's shard: refused, named.
    let missing = work.parbench(&["merge", &shards[0], &shards[2]]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        stderr(&missing),
        "error: shard 1 of 3 is missing: expected shards/sharded.shard-1-of-3.csv\n"
    );
    let twice = work.parbench(&["merge", &shards[0], &shards[1], &shards[1], &shards[2]]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(stderr(&twice).starts_with("error: shard 1 of 3 is given twice"), "{}", stderr(&twice));
    std::fs::copy(work.path().join(&shards[1]), work.path().join("shards/other.shard-1-of-3.csv")).unwrap();
    let other = work.parbench(&["merge", &shards[0], "shards/other.shard-1-of-3.csv", &shards[2]]);
    assert_eq!(other.status.code(), Some(2));
    assert!(stderr(&other).contains("is a shard of job \"other\""), "{}", stderr(&other));
}

/// A real Slurm cluster, as `.ci/slurm-up` starts one: these tests are
/// ignored unless PARBENCH_SLURM=1 says it is there (CI sets it).
#[parbench_test_tools::needs(slurm)]
#[test]
fn a_slurm_array_gives_the_rows_of_a_local_run() {
    let work = Workdir::new();
    work.write("sharded.toml", SHARDED);
    assert_eq!(work.parbench(&["run", "--quiet", "sharded.toml"]).status.code(), Some(0));
    let whole = run_set(&work, "results/sharded.csv");
    let output =
        work.parbench(&["slurm", "--shards", "3", "--shared", "--out", "cluster", "--wait", "sharded.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(text.contains("submitted array job") && text.contains("3 of 3 tasks done"), "{text}");
    assert!(text.contains("merged 3 shards into"), "{text}");
    assert_eq!(run_set(&work, "cluster/sharded.csv"), whole);
    let script = work.read("cluster/sharded.sbatch");
    assert!(
        script.contains("#SBATCH --array=0-2") && script.contains("--shard \"$SLURM_ARRAY_TASK_ID/3\""),
        "{script}"
    );

    // The test fails if a task's shard is missing.
    std::fs::remove_file(work.path().join("cluster/sharded.shard-2-of-3.csv")).unwrap();
    let cluster = work.path().join("cluster");
    let shards: Vec<String> = (0..3)
        .map(|index| cluster.join(format!("sharded.shard-{index}-of-3.csv")).display().to_string())
        .collect();
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(String::as_str));
    let merged = work.parbench(&args);
    assert_eq!(merged.status.code(), Some(2));
    assert!(stderr(&merged).contains("shard 2 of 3 is missing"), "{}", stderr(&merged));
}

#[parbench_test_tools::needs(slurm)]
#[test]
fn a_failing_slurm_task_is_named_with_its_log() {
    let work = Workdir::new();
    work.write(
        "failing.toml",
        r#"
version = 1
name = "failing"
[list]
generator = "range"
size = [5, 50, 500]
[run]
strategies = ["serial", "processes"]
workers = 2
repetitions = 1
warmup = 0
[[workload]]
name = "crash"
builtin = "__crash"
params = { at = 30 }
"#,
    );
    let output =
        work.parbench(&["slurm", "--shards", "3", "--shared", "--out", "cluster", "--wait", "failing.toml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    // Only the groups whose list holds the item 30 crash: sizes 50 and 500.
    let mut failing_tasks = Vec::new();
    for index in 0..3 {
        let (_, rows) = work.rows(&format!("cluster/failing.shard-{index}-of-3.csv"));
        if rows.iter().any(|row| row["status"] == "failed") {
            failing_tasks.push(index);
        }
    }
    assert_eq!(failing_tasks.len(), 2, "two groups fail, in two tasks");
    let text = stderr(&output);
    for task in failing_tasks {
        let log =
            work.path().join("cluster").canonicalize().unwrap().join(format!("failing.slurm-{task}.out"));
        let expected = format!("failed: exit status 1; log: {}", log.display());
        assert!(
            text.lines().any(|line| line.starts_with(&format!("error: task {task} of array job "))
                && line.ends_with(&expected)),
            "{text}"
        );
        assert!(log.exists());
    }
}

#[test]
fn sigterm_stops_like_ctrl_c() {
    let work = Workdir::new();
    work.write(
        "term.toml",
        "version = 1\nname = \"term\"\n[list]\ngenerator = \"constant\"\nsize = 2\nvalue = 1\n[run]\nstrategies = [\"serial\", \"threads\"]\nworkers = 2\nrepetitions = 30\nwarmup = 0\n[[workload]]\nname = \"nap\"\nbuiltin = \"sleep\"\nparams = { millis = 20 }\n",
    );
    // A run of its own, not beside another test's (other load).
    let _turn = common::measuring();
    let child = std::process::Command::new(parbench_path())
        .current_dir(work.path())
        .args(["run", "term.toml"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let partial = work.path().join("results/term.csv.partial");
    wait_for_rows(&partial, 3);
    signal(&child, libc::SIGTERM);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(stderr(&output).contains("parbench run --resume term.toml"), "{}", stderr(&output));
    let saved = resume_rows(&partial);
    assert!((3..60).contains(&saved), "{saved}");
    let resumed = work.parbench(&["run", "--resume", "--quiet", "term.toml"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let (_, rows) = work.rows("results/term.csv");
    assert_eq!(rows.len(), 60);
}
