//! The front door: what README, JOBFILE and RESULTS promise is what
//! happens. One test per numbered finding of issue 19, named after the
//! behaviour it pins down.

mod common;

use common::{Workdir, keyed_rows, repo, stderr, stdout};

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).unwrap()
}

/// A job file with one workload and the given `[run]` and workload lines.
fn job(name: &str, list: &str, run: &str, workload: &str) -> String {
    format!(
        "version = 1\nname = \"{name}\"\n\n[list]\n{list}\n\n[run]\n{run}\n\n[[workload]]\nname = \"w\"\n{workload}\n"
    )
}

// 1 ------------------------------------------------------------------------

/// The README's `$ parbench check FILE` example names a file of the
/// repository and prints exactly the error shown under it.
#[test]
fn the_readme_check_example_runs_as_shown() {
    let text = readme();
    let start = text.find("$ parbench check ").expect("the README shows a check example");
    let mut lines = text[start..].lines();
    let command = lines.next().unwrap().trim_start_matches("$ ");
    let shown = lines.next().unwrap();
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    assert!(repo().join(args[1]).is_file(), "{} does not exist", args[1]);
    let output =
        assert_cmd::Command::cargo_bin("parbench").unwrap().current_dir(repo()).args(&args).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output).trim_end(), shown);
}

// 2 ------------------------------------------------------------------------

const TWO_GROUPS: &str = r#"
version = 1
name = "two"

[list]
generator = "range"
size = [10, 20]

[run]
strategies = ["serial", "threads"]
workers = [2]
repetitions = 1
warmup = 0

[[workload]]
name = "w"
builtin = "spin"
params = { iterations = 10 }
"#;

/// `results/NAME.shard-*.csv` also matches the shards' `.summary.csv`:
/// merge and report take such a glob and leave the summaries out, saying so.
#[test]
fn merge_and_report_take_a_shard_glob_that_matches_summaries_too() {
    let work = Workdir::new();
    work.write("two.toml", TWO_GROUPS);
    for shard in ["0/2", "1/2"] {
        let output = work.parbench(&["run", "--quiet", "--shard", shard, "two.toml"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    // What the shell makes of `results/two.shard-*.csv`, in its order.
    let glob = [
        "results/two.shard-0-of-2.csv",
        "results/two.shard-0-of-2.summary.csv",
        "results/two.shard-1-of-2.csv",
        "results/two.shard-1-of-2.summary.csv",
    ];
    let mut args = vec!["merge"];
    args.extend(glob);
    let output = work.parbench(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("left out results/two.shard-0-of-2.summary.csv: a summary"),
        "{}",
        stderr(&output)
    );
    assert_eq!(work.rows("results/two.csv").len(), 4);

    let mut args = vec!["report"];
    args.extend(glob);
    let output = work.parbench(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("threads"), "{}", stdout(&output));
}

// 3 ------------------------------------------------------------------------

/// Chart files are named after the job, so two jobs with the same workloads
/// keep their own; report says which files it wrote.
#[test]
fn report_names_charts_after_the_job_and_lists_what_it_wrote() {
    let work = Workdir::new();
    for name in ["one", "other"] {
        work.write(
            &format!("{name}.toml"),
            &TWO_GROUPS.replace("name = \"two\"", &format!("name = \"{name}\"")),
        );
        let output = work.parbench(&["run", "--quiet", &format!("{name}.toml")]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let output = work.parbench(&["report", "--charts", "charts", "results/one.csv", "results/other.csv"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mut files: Vec<String> = std::fs::read_dir(work.path().join("charts"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert!(files.iter().any(|file| file.starts_with("one-w-")), "{files:?}");
    assert!(files.iter().any(|file| file.starts_with("other-w-")), "{files:?}");
    let said = format!("{}{}", stdout(&output), stderr(&output));
    for file in &files {
        assert!(said.contains(&format!("charts/{file}")), "report does not name {file}: {said}");
    }
}

// 4 ------------------------------------------------------------------------

#[test]
fn check_shows_a_command_with_its_own_bytes() {
    let work = Workdir::new();
    work.write(
        "cmd.toml",
        &job(
            "cmd",
            "generator = \"range\"\nsize = 3",
            "strategies = [\"serial\"]\nrepetitions = 1",
            "command = [\"awk\", \"BEGIN {print \\\"Hello {Mod}\\\"}\", \"{item}\"]\nparams = { Mod = \"X\" }",
        ),
    );
    let output = work.parbench(&["check", "cmd.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output)
            .contains(r#"command ["awk", "BEGIN {print \"Hello {Mod}\"}", "{item}"], argv protocol"#),
        "{}",
        stdout(&output)
    );
}

// 5 ------------------------------------------------------------------------

/// The summary CSV keeps the significant digits of a small ratio.
#[test]
fn summary_ratios_keep_their_significant_digits() {
    let work = Workdir::new();
    let legacy = repo().join("tests/fixtures/csv-v0.1.0/full/legacy.csv");
    let output = work.parbench(&["report", "--summary-csv", "summary.csv", legacy.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let rows = work.rows("summary.csv");
    let processes =
        rows.iter().find(|row| row["workload"] == "increase" && row["strategy"] == "processes").unwrap();
    let written: f64 = processes["speedup"].parse().unwrap();
    assert!(written < 0.001, "the fixture has a small speedup: {}", processes["speedup"]);
    for column in ["speedup", "efficiency", "speedup_ci_low", "speedup_ci_high"] {
        let cell = &processes[column];
        if cell.is_empty() {
            continue; // an interval needs more repetitions than the fixture has
        }
        assert!(!cell.contains('e'), "{column} = {cell}: no exponent in a spreadsheet cell");
        let significant = cell.trim_start_matches(['0', '.']).len();
        assert!(significant >= 4, "{column} = {cell}: too few significant digits");
    }
}

// 6 ------------------------------------------------------------------------

#[test]
fn every_subcommand_help_has_its_own_exit_statuses_and_examples() {
    let work = Workdir::new();
    for (command, own) in [
        ("run", "every run ok"),
        ("check", "every job file is valid"),
        ("merge", "the shards were merged"),
        ("report", "--baseline"),
        ("slurm", "--wait"),
    ] {
        let output = work.parbench(&[command, "--help"]);
        assert_eq!(output.status.code(), Some(0));
        let help = stdout(&output);
        assert!(help.contains("Exit status"), "{command} --help: {help}");
        assert!(help.contains(own), "{command} --help lacks {own:?}: {help}");
        assert!(
            help.contains(&format!("parbench {command} ")),
            "{command} --help has no example of itself: {help}"
        );
        if command != "run" {
            assert!(!help.contains("every run ok"), "{command} --help shows run's statuses: {help}");
        }
    }
}

#[test]
fn counts_of_one_are_singular() {
    let work = Workdir::new();
    work.write(
        "one.toml",
        &job(
            "one",
            "generator = \"range\"\nsize = 3",
            "strategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0",
            "builtin = \"spin\"",
        ),
    );
    let output = work.parbench(&["check", "one.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("1 entry in 1 group, 1 run (1 measured, 0 warm-up)"), "{text}");
    for plural in ["1 entries", "1 groups", "1 runs", "1 CPUs"] {
        assert!(!text.contains(plural), "{plural}: {text}");
    }
}

// 7 ------------------------------------------------------------------------

/// "CPU-bound work cannot gain past N" is said of work that keeps the CPUs
/// busy, not of waiting work such as `sleep`.
#[test]
fn more_workers_than_cpus_is_a_warning_only_for_busy_work() {
    let work = Workdir::new();
    let cpus = std::thread::available_parallelism().unwrap().get();
    let workers = cpus * 4;
    for (name, workload) in [
        ("waits", "builtin = \"sleep\"\nparams = { millis = 2 }"),
        ("spins", "builtin = \"spin\"\nparams = { iterations = 200000 }"),
    ] {
        work.write(
            &format!("{name}.toml"),
            &job(
                name,
                &format!("generator = \"constant\"\nsize = {}\nvalue = 1", workers * 2),
                &format!("strategies = [\"serial\", \"threads\"]\nworkers = [{workers}]\nrepetitions = 2\nwarmup = 0"),
                workload,
            ),
        );
    }
    let waits = work.parbench(&["run", "waits.toml"]);
    assert_eq!(waits.status.code(), Some(0), "{}", stderr(&waits));
    assert!(!stdout(&waits).contains("CPU-bound work cannot gain"), "{}", stdout(&waits));
    let spins = work.parbench(&["run", "spins.toml"]);
    assert_eq!(spins.status.code(), Some(0), "{}", stderr(&spins));
    assert!(stdout(&spins).contains("CPU-bound work cannot gain"), "{}", stdout(&spins));
}

// 8 ------------------------------------------------------------------------

/// Every measured number (in docs/PERFORMANCE.md, where the README's
/// measurements went) is beside the machine and the date it was measured
/// on, and the page says that numbers vary by machine; the claims found
/// stale here are gone.
#[test]
fn readme_measurements_name_their_machine() {
    let text = std::fs::read_to_string(repo().join("docs/PERFORMANCE.md")).unwrap();
    assert!(text.contains("Your numbers will differ"), "the page says numbers vary by machine");
    for section in text.split("\n## ").skip(1) {
        let title = section.lines().next().unwrap_or_default();
        assert!(section.contains("\nMeasured on 20"), "{title}: its date of measurement");
        assert!(section.contains("machine"), "{title}: its machine");
    }
    let readme = readme();
    if readme.contains(" µs ") || readme.contains(" ms ") {
        assert!(
            readme.contains("Measured on 20"),
            "the README's one measured answer names its date and machine"
        );
    }
    // Found not to hold on the machine named: each now says how it varies.
    for stale in ["processes pool overtakes serial only at 10,000 items", "17.24 M/s  target"] {
        let at = text.find(stale).map(|at| &text[at.saturating_sub(2500)..at]);
        assert!(
            at.is_none_or(|before| before.contains("when nothing\nelse ran on it")),
            "stale claim without its conditions: {stale}"
        );
        assert!(!text.contains("overtakes serial only at"), "the crossover is stated as fixed");
    }
}

// 9 ------------------------------------------------------------------------

/// Every results file RESULTS.md describes is written where it says, named
/// after the job's `name` (not the file's), and every file a run writes is
/// described.
#[test]
fn results_md_describes_the_files_a_run_writes() {
    let contract = std::fs::read_to_string(repo().join("docs/RESULTS.md")).unwrap().replace('\n', " ");
    let work = Workdir::new();
    std::fs::create_dir_all(work.path().join("jobs")).unwrap();
    work.write(
        "jobs/file-name.toml",
        &job(
            "job-name",
            "generator = \"range\"\nsize = 2",
            "strategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0",
            "command = [\"sh\", \"-c\", \"echo $1; echo to-the-log >&2\", \"sh\", \"{item}\"]",
        ),
    );
    let output = work.parbench(&["run", "--quiet", "jobs/file-name.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mut written: Vec<String> = std::fs::read_dir(work.path().join("results"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().replace("job-name", "NAME"))
        .collect();
    written.sort();
    for file in ["NAME.csv", "NAME.env.json", "NAME.log", "NAME.summary.csv"] {
        assert!(written.contains(&file.to_owned()), "{file} in {written:?}");
    }
    for file in &written {
        assert!(
            contract.contains(&format!("`results/{file}`")),
            "RESULTS.md does not describe results/{file}"
        );
    }
    assert!(contract.contains("the job's `name`"), "RESULTS.md says which NAME");
    assert!(contract.contains("relative to the current folder"), "RESULTS.md says where results/ is");
    assert!(
        !contract.contains("a command's serial run starts one worker"),
        "setup_s: only lines commands start one"
    );
}

// 10 -----------------------------------------------------------------------

fn command_job(command: &str, params: &str) -> String {
    job(
        "cmd",
        "generator = \"range\"\nsize = 2",
        "strategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0",
        &format!("command = {command}\n{params}"),
    )
}

#[test]
fn check_catches_mistyped_placeholders_located() {
    let work = Workdir::new();
    for (command, params, expected) in [
        (
            r#"["expr", "{iterm}", "*", "3"]"#,
            "",
            r#"cmd.toml:15:20: "{iterm}" is not a placeholder; did you mean "{item}"?"#,
        ),
        (
            r#"["expr", "{item}", "*", "{factr}"]"#,
            "params = { factor = 3 }",
            r#"cmd.toml:15:35: "{factr}" is not a placeholder; did you mean "{factor}"?"#,
        ),
    ] {
        work.write("cmd.toml", &command_job(command, params));
        let output = work.parbench(&["check", "cmd.toml"]);
        assert_eq!(output.status.code(), Some(2), "{command}: {}", stdout(&output));
        assert!(stderr(&output).contains(expected), "{command}: {}", stderr(&output));
    }
    // An awk program's braces are no placeholders.
    work.write("cmd.toml", &command_job(r#"["awk", "BEGIN {print}", "{item}"]"#, ""));
    assert_eq!(work.parbench(&["check", "cmd.toml"]).status.code(), Some(0));
}

#[test]
fn check_warns_of_unused_parameters_and_argv_without_item() {
    let work = Workdir::new();
    work.write(
        "cmd.toml",
        &command_job(r#"["expr", "1", "+", "{factor}"]"#, "params = { factor = 3, unused = 1 }"),
    );
    let output = work.parbench(&["check", "cmd.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains(r#"warning: cmd.toml:16:24: parameter "unused" is not used by the command: every value of it runs the same program"#),
        "{text}"
    );
    assert!(
        text.contains(r#"warning: cmd.toml:15:11: the command has no "{item}": every item runs the same program with the same arguments"#),
        "{text}"
    );
}

// 11 -----------------------------------------------------------------------

#[test]
fn a_job_with_nothing_to_run_is_refused_saying_why() {
    let work = Workdir::new();
    work.write(
        "nothing.toml",
        &job(
            "nothing",
            "generator = \"range\"\nsize = 2",
            "strategies = [\"threads\"]\nrepetitions = 1\nwarmup = 0",
            "command = [\"echo\", \"{item}\"]",
        ),
    );
    for command in ["check", "run"] {
        let output = work.parbench(&[command, "nothing.toml"]);
        assert_eq!(output.status.code(), Some(2), "{command}: {}", stdout(&output));
        assert!(
            stderr(&output).contains("nothing.toml: nothing to run: every combination is skipped (w × threads: a command runs in its own processes"),
            "{command}: {}",
            stderr(&output)
        );
    }
    assert!(!work.path().join("results/nothing.csv").exists());
}

// 12 -----------------------------------------------------------------------

#[test]
fn auto_chunks_are_never_the_same_as_a_fixed_size() {
    let work = Workdir::new();
    work.write(
        "chunks.toml",
        &job(
            "chunks",
            "generator = \"range\"\nsize = 2048",
            "strategies = [\"processes\"]\nworkers = [2]\nrepetitions = 1\nwarmup = 0\nchunk_size = [\"auto\", 16]",
            "builtin = \"spin\"",
        ),
    );
    let output = work.parbench(&["check", "chunks.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        // "auto" is guided (sizes change as the run goes), so it is never
        // skipped as a repeat of a fixed size, as it was when it resolved to one.
        !stdout(&output).contains("skipped")
            && stdout(&output).contains("chunk auto:guided")
            && stdout(&output).contains("chunk 16"),
        "{}",
        stdout(&output)
    );
}

// 13 -----------------------------------------------------------------------

/// A `lines` worker that reads but never answers: after a few seconds the
/// runner says so, and the timeout's error says the same.
#[test]
fn a_lines_worker_that_never_answers_is_named() {
    let work = Workdir::new();
    work.write(
        "mute.toml",
        &job(
            "mute",
            "generator = \"range\"\nsize = 2",
            "strategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0\ntimeout = \"6s\"",
            "command = [\"sh\", \"-c\", \"cat > /dev/null\"]\nprotocol = \"lines\"",
        ),
    );
    let output = work.parbench(&["run", "mute.toml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let said = "worker 1 has answered 0 of 2 lines";
    assert!(stderr(&output).contains(said) && stderr(&output).contains("flush"), "{}", stderr(&output));
    let rows = work.rows("results/mute.csv");
    assert_eq!(rows[0]["status"], "timeout");
    assert!(rows[0]["error"].contains(said) && rows[0]["error"].contains("flush"), "{}", rows[0]["error"]);
}

// 14 -----------------------------------------------------------------------

#[test]
fn the_error_column_keeps_the_line_that_names_the_error() {
    let work = Workdir::new();
    work.write(
        "py.toml",
        &job(
            "py",
            "generator = \"range\"\nsize = 2",
            "strategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0",
            "command = [\"python3\", \"-c\", \"import sys; raise ValueError('bad item ' + sys.argv[1])\", \"{item}\"]",
        ),
    );
    let output = work.parbench(&["run", "--quiet", "py.toml"]);
    assert_eq!(output.status.code(), Some(1));
    let error = &work.rows("results/py.csv")[0]["error"];
    assert!(error.contains("ValueError: bad item 0"), "{error}");
    assert!(!error.contains("Traceback"), "{error}");
    assert!(error.contains("results/py.log"), "{error}");
}

// 15 -----------------------------------------------------------------------

#[test]
fn report_errors_name_the_file() {
    let work = Workdir::new();
    work.write("not-results.csv", "job,x\na,1\n");
    let output = work.parbench(&["report", "not-results.csv"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).starts_with("error: not-results.csv: row 2: no column"), "{}", stderr(&output));
}

// 16 -----------------------------------------------------------------------

fn pid_job(verify: &str) -> String {
    job(
        "pids",
        "generator = \"range\"\nsize = 3",
        "strategies = [\"serial\", \"processes\"]\nworkers = [2]\nrepetitions = 2\nwarmup = 0",
        &format!("command = [\"sh\", \"-c\", \"echo $$\"]\n{verify}"),
    )
}

/// A command whose answer differs run to run: without `verify = false` its
/// runs are mismatches and the log shows the first differing answer; with
/// it, every run is ok with its time, and the group is marked unverified.
#[test]
fn verify_false_keeps_the_times_of_a_command_whose_output_differs() {
    let work = Workdir::new();
    work.write("pids.toml", &pid_job(""));
    let output = work.parbench(&["run", "--quiet", "pids.toml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let log = work.read("results/pids.log");
    assert!(log.contains("first differing answer: item 1"), "{log}");

    work.write("pids.toml", &pid_job("verify = false"));
    let output = work.parbench(&["run", "--fresh", "pids.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("unverified"), "{}", stdout(&output));
    let rows = keyed_rows(&work.path().join("results/pids.csv"));
    assert!(rows.iter().all(|row| row["status"] == "ok" && !row["wall_s"].is_empty()), "{rows:?}");
}
