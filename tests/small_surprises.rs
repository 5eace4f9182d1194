//! The small surprises a user met, each fixed: a name a spreadsheet reads
//! as a number, a merge without env.json, a megabyte error on the
//! terminal, a time no run can take, and a memory estimate without the
//! pool's shared memory.

mod common;

use common::{Workdir, stderr, stdout};

fn seed(name: &str, workload: &str, strategies: &str, size: usize, extra: &str) -> String {
    format!(
        r#"version = 1
name = "{name}"
[list]
generator = "range"
size = {size}
[run]
strategies = {strategies}
workers = [2]
repetitions = 2
warmup = 0
{extra}
[[workload]]
name = "{workload}"
builtin = "spin"
params = {{ iterations = 10 }}
"#
    )
}

#[test]
fn a_name_a_spreadsheet_reads_as_a_number_is_warned_of_at_check() {
    let work = Workdir::new();
    work.write("job.toml", &seed("0123", "007", r#"["serial"]"#, 4, ""));
    let output = work.parbench(&["check", "job.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let said = stderr(&output);
    assert!(said.contains("job.toml:2:8: job name \"0123\" reads as a number in a spreadsheet"), "{said}");
    assert!(said.contains("workload name \"007\" reads as a number"), "{said}");
    // The example is the name's own: "007" shows as 7, "1e3" as 1000.
    assert!(said.contains("show it as 7)") && said.contains("show it as 123)"), "{said}");
    work.write("e.toml", &seed("e", "1e3", r#"["serial"]"#, 4, ""));
    let said = stderr(&work.parbench(&["check", "e.toml"]));
    assert!(said.contains("workload name \"1e3\"") && said.contains("show it as 1000)"), "{said}");
    assert!(!said.contains("0123"), "{said}");
    work.write("fine.toml", &seed("v0123", "spin-1e3x", r#"["serial"]"#, 4, ""));
    let output = work.parbench(&["check", "fine.toml"]);
    assert!(!stderr(&output).contains("reads as a number"), "{}", stderr(&output));
}

#[test]
fn merged_shards_get_an_env_json_for_the_baseline_check() {
    let work = Workdir::new();
    let job = seed("sharded", "spin", r#"["serial", "threads"]"#, 4, "")
        + "\n[[workload]]\nname = \"other\"\nbuiltin = \"spin\"\nparams = { iterations = 20 }\n";
    work.write("job.toml", &job);
    for shard in ["0/2", "1/2"] {
        let output = work.parbench(&["run", "--quiet", "--shard", shard, "job.toml"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let output = work.parbench(&[
        "merge",
        "--out",
        "merged",
        "results/sharded.shard-0-of-2.csv",
        "results/sharded.shard-1-of-2.csv",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let env: serde_json::Value = serde_json::from_str(&work.read("merged/sharded.env.json")).unwrap();
    assert!(env.get("shard").is_none(), "{env}");
    assert_eq!(env["merged_shards"].as_array().map(Vec::len), Some(2), "{env}");
    assert_eq!(env["other_load"]["runs"], 8, "{env}");
    // The baseline comparison finds it: no "no env.json" note.
    let output =
        work.parbench(&["report", "--quiet", "--baseline", "merged/sharded.csv", "merged/sharded.csv"]);
    assert!(!stderr(&output).contains("note:"), "{}", stderr(&output));
}

const HEADER: &str =
    "job,workload,generator,list_size,strategy,workers,chunk_size,repetition,status,wall_s,cpu_s,error,host";

#[test]
fn a_megabyte_error_cell_is_one_line_on_the_terminal() {
    let work = Workdir::new();
    let error = "e".repeat(1_000_000);
    let csv = format!(
        "{HEADER}\nj,w,range,4,serial,1,,1,ok,0.5,0.5,,h\nj,w,range,4,serial,1,,2,failed,0.5,0.5,{error},h\n"
    );
    work.write("big.csv", &csv);
    let output = work.parbench(&["report", "big.csv"]);
    let shown = stdout(&output) + &stderr(&output);
    let line = shown.lines().find(|line| line.contains("eeee")).expect("the error is shown");
    assert!(line.len() < 1000, "{} characters", line.len());
    assert!(line.contains("999700 more characters in the run's `error` cell"), "{line}");
}

#[test]
fn a_time_no_run_can_take_is_refused_with_its_row_and_column() {
    let work = Workdir::new();
    work.write("forged.csv", &format!("{HEADER}\nj,w,range,4,serial,1,,1,ok,1e308,0.5,,h\n"));
    let output = work.parbench(&["report", "forged.csv"]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let said = stderr(&output);
    assert!(said.contains("row 2: \"wall_s\" is not a time a run can take"), "{said}");
    assert!(said.contains("\"1e308\"") && said.lines().count() <= 2, "{said}");
}

/// The memory `check` estimates, in MiB.
fn estimate(work: &Workdir, job: &str) -> f64 {
    let output = work.parbench(&["check", job]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let after = text.split("memory about ").nth(1).expect("an estimate");
    let (number, unit) = after.split_once(' ').unwrap();
    let number: f64 = number.parse().unwrap();
    number
        * if unit.starts_with("GiB") {
            1024.0
        } else if unit.starts_with("KiB") {
            1.0 / 1024.0
        } else {
            1.0
        }
}

#[test]
fn the_memory_estimate_counts_a_processes_pools_shared_memory() {
    let work = Workdir::new();
    work.write("serial.toml", &seed("s", "spin", r#"["serial"]"#, 1_000_000, ""));
    work.write(
        "pool.toml",
        &seed("p", "spin", r#"["serial", "processes"]"#, 1_000_000, "chunk_size = [100000]"),
    );
    let (serial, pool) = (estimate(&work, "serial.toml"), estimate(&work, "pool.toml"));
    if cfg!(all(
        target_os = "linux",
        target_env = "gnu",
        any(target_arch = "x86_64", target_arch = "aarch64")
    )) {
        // 2 workers × 2 chunks in flight × 100,000 items × 16 bytes.
        assert!((pool - serial - 6.1).abs() < 0.2, "serial {serial} MiB, pool {pool} MiB");
    }
}

/// Result files honour the umask as any tool's output does: 0644 under
/// umask 022 (they were written 0600, owner only). The `.partial` is
/// made the same way.
#[test]
fn result_files_honour_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let work = Workdir::new();
    work.write(
        "modes.toml",
        "version = 1\nname = \"modes\"\n[list]\ngenerator = \"range\"\nsize = 4\n[run]\nstrategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0\n[[workload]]\nname = \"w\"\nbuiltin = \"price-increase\"\n",
    );
    let _turn = common::measuring();
    let output = std::process::Command::new("sh")
        .args(["-c", "umask 022 && exec \"$0\" \"$@\""])
        .arg(assert_cmd::cargo::cargo_bin("parbench"))
        .args(["run", "--quiet", "--html", "modes.html", "modes.toml"])
        .current_dir(work.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for name in [
        "results/modes.csv",
        "results/modes.summary.csv",
        "results/modes.scaling.csv",
        "results/modes.env.json",
        "modes.html",
    ] {
        let mode = std::fs::metadata(work.path().join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{name}: {mode:o}");
    }
}

/// A place that is not what parbench expects is named for what it is: a
/// file system that makes no files, a folder given as a CSV, a folder where
/// an unfinished run's rows belong (exit 2 whether resumed or not).
#[test]
fn a_folder_or_a_virtual_file_system_where_a_file_belongs_is_named_for_what_it_is() {
    let work = Workdir::new();
    work.write("job.toml", &seed("j", "spin", r#"["serial"]"#, 4, ""));
    if std::path::Path::new("/proc/self").is_dir() {
        let output = work.parbench(&["run", "--quiet", "--out", "/proc/self", "job.toml"]);
        assert_eq!(output.status.code(), Some(2));
        assert!(stderr(&output).contains("takes no new files"), "{}", stderr(&output));
    }
    let output = work.parbench(&["run", "--quiet", "job.toml"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = work.parbench(&["report", "--baseline", "results", "results/j.csv"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("results is a folder; give the per-run CSV in it"),
        "{}",
        stderr(&output)
    );
    std::fs::create_dir(work.path().join("results/j.csv.partial")).unwrap();
    for args in [&["run", "job.toml"][..], &["run", "--resume", "job.toml"]] {
        let output = work.parbench(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains("j.csv.partial is not a file"), "{}", stderr(&output));
    }
}

/// `report --predict N` on a job with two worker counts says why it
/// predicts nothing, and the HTML caption speaks only of curves it draws.
#[test]
fn a_prediction_that_cannot_be_made_says_why_and_no_caption_speaks_of_undrawn_curves() {
    let work = Workdir::new();
    work.write(
        "job.toml",
        &seed("two", "s", r#"["serial", "threads"]"#, 8, "").replace("workers = [2]", "workers = [1, 2]"),
    );
    let output = work.parbench(&["run", "--quiet", "job.toml"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output =
        work.parbench(&["report", "--quiet", "--predict", "8", "--html", "r.html", "results/two.csv"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let said = stdout(&output);
    assert!(said.contains("no prediction: no strategy was measured at 3 or more worker counts"), "{said}");
    let html = work.read("r.html");
    assert!(html.contains("No model is drawn") && !html.contains("fitted USL (solid)"), "the caption");
}

/// `check`'s duration for command and Python entries is a bound where
/// "auto" gives one (max_time each) and says it is not known where it is
/// not, instead of "under a second" for jobs that take minutes.
#[test]
fn the_duration_estimate_never_guesses_a_commands_time() {
    let work = Workdir::new();
    let job = |repetitions: &str| {
        format!(
            "version = 1\nname = \"c\"\n[list]\ngenerator = \"range\"\nsize = 4\n[run]\nstrategies = [\"serial\", \
             \"processes\"]\nworkers = [2]\nrepetitions = {repetitions}\nmax_time = \"7s\"\n[[workload]]\nname = \
             \"s\"\ncommand = [\"sleep\", \"1\"]\n"
        )
    };
    work.write("fixed.toml", &job("3"));
    let said = stdout(&work.parbench(&["check", "fixed.toml"]));
    assert!(said.contains("duration not known before it runs"), "{said}");
    assert!(!said.contains("under a second"), "{said}");
    work.write("auto.toml", &job("\"auto\""));
    let said = stdout(&work.parbench(&["check", "auto.toml"]));
    assert!(
        said.contains("duration at most about 14s (from 2 command or Python entries at most 7s each"),
        "{said}"
    );
}
