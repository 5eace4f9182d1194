//! Reliability, second pass: one test per fault of the hostile-user review
//! (no file written outside the results folder, no hang past a timeout, no
//! orphan process, no silent mix of data, no panic on input `check` passed).
//!
//! Every test runs the real binary in a fresh temporary folder. Tests about
//! processes never assert a duration: they assert the recorded status, that
//! no process carrying the test's unique marker is left (read from
//! /proc/*/cmdline), or an order of events the commands themselves write
//! down. Generous time limits only guard against a hang.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

/// A parbench that has not ended by then is hung: the test kills it and fails.
const HANG_GUARD: Duration = Duration::from_secs(40);

fn parbench_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_parbench"))
}

/// The shared temporary folder, with a marker unique to it for the names
/// of the processes its commands start, and a hang guard on every run.
struct Workdir {
    base: common::Workdir,
    marker: String,
}

impl std::ops::Deref for Workdir {
    type Target = common::Workdir;

    fn deref(&self) -> &common::Workdir {
        &self.base
    }
}

impl Workdir {
    fn new() -> Workdir {
        let base = common::Workdir::new();
        let marker = format!("nap-{}", base.path().file_name().unwrap().to_string_lossy().replace('.', ""));
        Workdir { base, marker }
    }

    /// `./nap-MARKER`, a link to `sleep` whose command line carries the marker.
    fn plant_napper(&self, folder: &str) -> String {
        let sleep = ["/bin/sleep", "/usr/bin/sleep"].into_iter().find(|p| Path::new(p).exists()).unwrap();
        let link = self.path().join(folder).join(&self.marker);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        let _ = std::os::unix::fs::symlink(sleep, &link);
        format!("./{}", self.marker)
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(parbench_exe());
        command.current_dir(self.path()).args(args);
        command
    }

    fn parbench(&self, args: &[&str]) -> Output {
        finish(self.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }

    /// Pids of live processes whose command line holds this folder's marker.
    fn marked(&self) -> Vec<u32> {
        marked_processes(&self.marker)
    }

    /// Waits (at most the hang guard) for marked processes to vanish; true
    /// when none is left.
    fn none_left(&self) -> bool {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if self.marked().is_empty() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Waits until a marked process runs (a worker has started).
    fn wait_for_marked(&self) {
        let started = Instant::now();
        while self.marked().is_empty() {
            assert!(started.elapsed() < HANG_GUARD, "no worker ever started");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn files_in(&self, folder: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path().join(folder))
            .map(|entries| {
                entries.map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned()).collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for Workdir {
    /// Whatever a failed test left running goes too.
    fn drop(&mut self) {
        for pid in self.marked() {
            // SAFETY: kill takes integers and touches no memory; a pid that
            // has ended fails.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

fn marked_processes(marker: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline"))
            && String::from_utf8_lossy(&cmdline).contains(marker)
        {
            pids.push(pid);
        }
    }
    pids
}

/// Waits for a child within the hang guard, killing it past that.
fn finish(mut child: Child) -> Output {
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        bytes
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!("parbench was still running after {HANG_GUARD:?}: hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn signal(child: &Child, signal: i32) {
    // SAFETY: kill takes integers and touches no memory; the child is ours
    // and not yet waited for, so its pid is its own.
    unsafe { libc::kill(child.id() as libc::pid_t, signal) };
}

/// A job of one workload, one entry, one measured run, no warm-up.
fn one_run_job(name: &str, list: &str, workload: &str, extra_run: &str) -> String {
    format!(
        "version = 1\nname = \"{name}\"\n[list]\n{list}\n[run]\nstrategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0\n{extra_run}\n{workload}\n"
    )
}

const RANGE3: &str = "generator = \"range\"\nsize = 3";
const QUICK: &str = "[[workload]]\nname = \"inc\"\nbuiltin = \"price-increase\"";

// ------------------------------------------------------------------ security

/// 1
#[test]
fn planted_symlinks_in_the_results_folder_leave_their_targets_untouched() {
    let work = Workdir::new();
    work.write("job.toml", &one_run_job("sym", RANGE3, QUICK, ""));
    std::fs::create_dir_all(work.path().join("results")).unwrap();
    let victim = |name: &str| work.write(&format!("victims/{name}"), "precious\n");
    let untouched = |path: &Path| std::fs::read_to_string(path).unwrap() == "precious\n";

    // Temporaries: never written through a planted name.
    let csv_tmp = victim("csv.tmp");
    let summary_tmp = victim("summary.tmp");
    std::os::unix::fs::symlink(&csv_tmp, work.path().join("results/sym.csv.tmp")).unwrap();
    std::os::unix::fs::symlink(&summary_tmp, work.path().join("results/sym.summary.csv.tmp")).unwrap();
    let output = work.parbench(&["run", "--quiet", "job.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(untouched(&csv_tmp) && untouched(&summary_tmp), "a planted temporary's target was written");
    let csv = std::fs::symlink_metadata(work.path().join("results/sym.csv")).unwrap();
    assert!(csv.file_type().is_file(), "results/sym.csv is a regular file");

    // The lock and the results themselves: refused, named, target untouched.
    for planted in
        ["sym.lock", "sym.csv", "sym.summary.csv", "sym.env.json", "sym.csv.partial", "sym.invocations.csv"]
    {
        let target = victim(planted);
        let link = work.path().join("results").join(planted);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let output = work.parbench(&["run", "--quiet", "--fresh", "job.toml"]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{planted}: {stderr}");
        assert!(stderr.contains(planted) && stderr.contains("symbolic link"), "{planted}: {stderr}");
        assert!(untouched(&target), "{planted}: its target was written");
        std::fs::remove_file(&link).unwrap();
    }
}

/// 2
#[test]
fn control_characters_reach_the_terminal_escaped_and_the_csv_exact() {
    let work = Workdir::new();
    let workload = "[[workload]]\nname = \"red\\u001b[31mname\"\ncommand = [\"sh\", \"-c\", \"printf '\\\\033[2Jboom\\\\n' >&2; exit 3\", \"{item}\"]";
    work.write("job.toml", &one_run_job("esc", RANGE3, workload, ""));
    let output = work.parbench(&["run", "job.toml"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        assert!(!bytes.contains(&0x1b), "{stream} holds a raw ESC: {:?}", text(bytes));
    }
    assert!(text(&output.stdout).contains("red\\e[31mname"), "{}", text(&output.stdout));
    let rows = work.rows("results/esc.csv");
    assert_eq!(rows[0]["workload"], "red\u{1b}[31mname", "the CSV keeps the name exact");
    let output = work.parbench(&["report", "results/esc.csv", "--markdown", "r.md", "--html", "r.html"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    for file in ["r.md", "r.html"] {
        assert!(!work.read(file).contains('\u{1b}'), "{file} holds a raw ESC");
    }
}

/// 3
#[test]
fn the_sbatch_script_quotes_paths_and_refuses_what_a_line_cannot_hold() {
    let work = Workdir::new();
    work.write("evil\ntouch pwned\n/job.toml", &one_run_job("slurmy", RANGE3, QUICK, ""));
    let output = work.parbench(&["slurm", "--out", "my results", "evil\ntouch pwned\n/job.toml"]);
    let stderr = text(&output.stderr);
    if output.status.success() {
        let script = work.read("my results/slurmy.sbatch");
        assert!(!script.lines().any(|line| line.trim_start().starts_with("touch")), "{script}");
    } else {
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("newline"), "{stderr}");
    }
    work.write("plain/job.toml", &one_run_job("slurmy", RANGE3, QUICK, ""));
    let output = work.parbench(&["slurm", "--out", "my results", "plain/job.toml"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let script = work.read("my results/slurmy.sbatch");
    let line = script.lines().find(|line| line.starts_with("#SBATCH --output=")).unwrap();
    assert!(line.starts_with("#SBATCH --output=\"") && line.ends_with('"'), "{line}");
    let output = work.parbench(&["slurm", "--out", "new\nline", "plain/job.toml"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
}

// ------------------------------------------------------- processes, signals

/// 4
///
/// A `lines` worker whose child left its group and holds its pipes
/// times out; an `argv` item is done when its own process exits (its output
/// goes to a file, not a pipe the child could hold open), and the child it
/// left is ended after the run. Neither leaves a process behind.
#[test]
fn a_timeout_ends_commands_whose_children_left_the_process_group() {
    let work = Workdir::new();
    let nap = work.plant_napper("");
    let workloads = format!(
        "[[workload]]\nname = \"lines\"\nprotocol = \"lines\"\ncommand = [\"sh\", \"-c\", \"setsid {nap} 60 & exec cat\"]\n\
         [[workload]]\nname = \"argv\"\ncommand = [\"sh\", \"-c\", \"setsid {nap} 60 & echo hi\", \"{{item}}\"]"
    );
    work.write(
        "job.toml",
        &one_run_job("setsid", "generator = \"range\"\nsize = 1", &workloads, "timeout = \"1s\""),
    );
    let output = work.parbench(&["run", "--quiet", "job.toml"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let rows = work.rows("results/setsid.csv");
    assert_eq!(rows.len(), 2);
    for row in &rows {
        let expected = if row["workload"] == "argv" { "ok" } else { "timeout" };
        assert_eq!(row["status"], expected, "{row:?}");
    }
    assert!(work.none_left(), "processes left: {:?}", work.marked());
}

/// An `argv` item's stdout and stderr go to its slot's files: each item's
/// answer is its own, whole (more than a pipe holds), and none of another
/// item's is mixed in, whether one slot runs them all or two share them;
/// each item's stderr reaches the log under its number.
#[test]
fn argv_items_keep_their_own_output_in_the_slot_files() {
    let work = Workdir::new();
    let workload = "[[workload]]\nname = \"big\"\n\
         command = [\"sh\", \"-c\", \"printf '%0*d' $((100000 - {item} * 999)) {item}; echo note {item} >&2\"]";
    let job = one_run_job("big", "generator = \"range\"\nsize = 6", workload, "")
        .replace("strategies = [\"serial\"]", "strategies = [\"serial\", \"processes\"]\nworkers = [2]");
    work.write("job.toml", &job);
    let output = work.parbench(&["run", "--quiet", "job.toml"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let rows = work.rows("results/big.csv");
    assert_eq!(rows.len(), 2);
    // Both strategies give the checksum of the same six answers, each of
    // 100,000 characters or a little fewer (later items write less, so a
    // file not emptied between items would keep another item's tail).
    assert!(rows.iter().all(|row| row["status"] == "ok"), "{rows:?}");
    assert_eq!(rows[0]["checksum"], rows[1]["checksum"], "{rows:?}");
    let log = work.read("results/big.log");
    for item in 0..6 {
        let line = format!("item {}: note {item}", item + 1);
        assert_eq!(log.matches(&line).count(), 2, "{line:?} once per strategy in {log}");
    }
}

/// 5
#[test]
fn a_failed_lines_worker_that_stays_alive_does_not_hold_the_run() {
    let work = Workdir::new();
    let nap = work.plant_napper("");
    let workload = format!(
        "[[workload]]\nname = \"mute\"\nprotocol = \"lines\"\nchunk_size = 50000\nstrategies = [\"processes\"]\nworkers = 2\n\
         command = [\"sh\", \"-c\", \"exec >&-; exec {nap} 60\"]"
    );
    let job = one_run_job("mute", "generator = \"range\"\nsize = 200000", &workload, "timeout = \"30s\"");
    work.write("job.toml", &job);
    let output = work.parbench(&["run", "--quiet", "job.toml"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let rows = work.rows("results/mute.csv");
    assert_eq!(rows[0]["status"], "failed", "{:?}", rows[0]);
    assert!(work.none_left(), "processes left: {:?}", work.marked());
}

/// 6
#[test]
fn a_lines_worker_that_exits_non_zero_after_its_answers_fails_its_run() {
    let work = Workdir::new();
    let workloads = "[[workload]]\nname = \"seven\"\nprotocol = \"lines\"\n\
         command = [\"sh\", \"-c\", \"while read l; do echo $l; done; echo oops >&2; exit 7\"]\n\
         [[workload]]\nname = \"segv\"\nprotocol = \"lines\"\n\
         command = [\"sh\", \"-c\", \"while read l; do echo $l; done; kill -SEGV $$\"]";
    let job = one_run_job("status", RANGE3, workloads, "")
        .replace("[\"serial\"]", "[\"serial\", \"processes\"]\nworkers = 2");
    work.write("job.toml", &job);
    let output = work.parbench(&["run", "--quiet", "job.toml"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let rows = work.rows("results/status.csv");
    assert_eq!(rows.len(), 4);
    for row in &rows {
        assert_eq!(row["status"], "failed", "{row:?}");
        let expected: &[&str] =
            if row["workload"] == "seven" { &["exited with status 7", ": oops"] } else { &["SIGSEGV"] };
        assert!(expected.iter().all(|words| row["error"].contains(words)), "{row:?}");
    }
}

/// 7
#[test]
fn the_wall_clock_of_a_lines_run_stops_at_the_last_answer() {
    let work = Workdir::new();
    // The worker notes when it began and when it exited, 3 s after its last
    // answer. The run began before the worker did, so a run that ended at
    // the last answer has wall_s < exited - began; one that waited for the
    // worker's end of file has wall_s > exited - began.
    let workload = "[[workload]]\nname = \"dawdle\"\nprotocol = \"lines\"\n\
         command = [\"sh\", \"-c\", \"date +%s.%N > began; while read l; do echo $l; done; sleep 3; date +%s.%N > exited\"]";
    work.write("job.toml", &one_run_job("dawdle", RANGE3, workload, ""));
    let output = work.parbench(&["run", "--quiet", "job.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let seconds = |name: &str| work.read(name).trim().parse::<f64>().unwrap();
    let dwell = seconds("exited") - seconds("began");
    let rows = work.rows("results/dawdle.csv");
    let wall: f64 = rows[0]["wall_s"].parse().unwrap();
    assert!(
        wall < dwell,
        "wall_s {wall} includes the worker's {dwell} s between its first breath and its exit"
    );
}

/// 8
#[test]
fn sighup_sigquit_a_second_ctrl_c_and_kill_9_leave_no_worker() {
    let work = Workdir::new();
    let nap = work.plant_napper("");
    let workloads = format!(
        "{QUICK}\n[[workload]]\nname = \"stuck\"\nprotocol = \"lines\"\nstrategies = [\"processes\"]\nworkers = 2\ncommand = [\"{nap}\", \"60\"]"
    );
    work.write("job.toml", &one_run_job("sig", RANGE3, &workloads, ""));
    for (what, signals) in [
        ("SIGHUP", &[libc::SIGHUP][..]),
        ("SIGQUIT", &[libc::SIGQUIT][..]),
        ("two Ctrl-C", &[libc::SIGINT, libc::SIGINT][..]),
        ("kill -9", &[libc::SIGKILL][..]),
    ] {
        let child = work.spawn(&["run", "--quiet", "--fresh", "job.toml"]);
        work.wait_for_marked();
        for sig in signals {
            signal(&child, *sig);
        }
        let output = finish(child);
        assert!(work.none_left(), "{what}: workers left: {:?}", work.marked());
        if what == "SIGHUP" {
            assert_eq!(output.status.code(), Some(130), "{what}: {}", text(&output.stderr));
            let kept = work.rows("results/sig.csv.partial");
            assert_eq!(kept.len(), 1, "{what}: the run measured before is kept");
            assert!(text(&output.stderr).contains("--resume"), "{}", text(&output.stderr));
        }
    }
}

/// 9
#[test]
fn replacing_the_binary_mid_run_does_not_fail_later_runs() {
    let work = Workdir::new();
    std::fs::copy(parbench_exe(), work.path().join("pb")).unwrap();
    let job = "version = 1\nname = \"swap\"\n[list]\ngenerator = \"range\"\nsize = 4\n[run]\nstrategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0\n\
        [[workload]]\nname = \"replace\"\ncommand = [\"sh\", \"-c\", \"cp pb pb.new && mv pb.new pb\", \"{item}\"]\nworkers = 1\n\
        [[workload]]\nname = \"pool\"\nbuiltin = \"price-increase\"\nstrategies = [\"processes\"]\nworkers = 2\n";
    work.write("job.toml", job);
    let output = finish(
        std::process::Command::new(work.path().join("pb"))
            .current_dir(work.path())
            .args(["run", "--quiet", "job.toml"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    for row in work.rows("results/swap.csv") {
        assert_eq!(row["status"], "ok", "{row:?}");
    }
}

// ------------------------------------------------------------------- data

/// 10
#[test]
fn file_items_reach_a_command_byte_for_byte() {
    let work = Workdir::new();
    let items = ["12345678901234567890", "9007199254740993", "007", "1.50", "1e3", "-0", "+5"];
    work.write("items.txt", &format!("{}\n", items.join("\n")));
    let workloads = "[[workload]]\nname = \"argv\"\ncommand = [\"sh\", \"-c\", \"printf '%s\\\\n' \\\"$1\\\" >> argv.seen\", \"sh\", \"{item}\"]\n\
        [[workload]]\nname = \"lines\"\nprotocol = \"lines\"\n\
        command = [\"sh\", \"-c\", \"while read -r l; do printf '%s\\\\n' \\\"$l\\\" >> lines.seen; echo ok; done\"]";
    work.write(
        "job.toml",
        &one_run_job("exact", "generator = \"file\"\npath = \"items.txt\"", workloads, ""),
    );
    let output = work.parbench(&["run", "--quiet", "job.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // Every run sees every item exactly (serial runs twice: its group's
    // reference run comes first, unrecorded).
    for seen in ["argv.seen", "lines.seen"] {
        let text = work.read(seen);
        let lines: Vec<&str> = text.lines().collect();
        assert!(!lines.is_empty() && lines.len().is_multiple_of(items.len()), "{seen}: {lines:?}");
        assert!(lines.chunks(items.len()).all(|run| run == items), "{seen}: {lines:?}");
    }
}

/// 11
#[test]
fn two_jobs_with_the_same_name_are_refused_before_anything_runs() {
    let work = Workdir::new();
    let job = "version = 1\n[list]\ngenerator = \"range\"\nsize = 3\n[run]\nstrategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0\n[[workload]]\nname = \"inc\"\nbuiltin = \"price-increase\"\n";
    work.write("a/bench.toml", job);
    work.write("b/bench.toml", job);
    work.write("job ☃.toml", job);
    work.write("job ★.toml", job);
    for (first, second) in [("a/bench.toml", "b/bench.toml"), ("job ☃.toml", "job ★.toml")] {
        let output = work.parbench(&["run", "--quiet", first, second]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(first) && stderr.contains(second), "{stderr}");
        assert!(work.files_in("results").is_empty(), "{:?}", work.files_in("results"));
    }
}

/// 12
#[test]
fn resume_refuses_rows_of_a_job_elsewhere_or_with_another_script() {
    let work = Workdir::new();
    let workload = "[[workload]]\nname = \"script\"\ncommand = [\"sh\", \"work.sh\", \"{item}\"]";
    let job = one_run_job("same", RANGE3, workload, "");
    work.write("a/job.toml", &job);
    work.write("a/work.sh", "echo a\n");
    work.write("b/job.toml", &job);
    work.write("b/work.sh", "echo b\n");
    let output = work.parbench(&["run", "--quiet", "a/job.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));

    let output = work.parbench(&["run", "--quiet", "--resume", "b/job.toml"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "another folder: {stderr}");
    assert!(stderr.contains("a/job.toml"), "the reason names where the rows came from: {stderr}");

    work.write("a/work.sh", "echo changed\n");
    let output = work.parbench(&["run", "--quiet", "--resume", "a/job.toml"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "an edited script: {stderr}");
    assert!(stderr.contains("work.sh"), "the reason names the script: {stderr}");

    work.write("a/work.sh", "echo a\n");
    let output = work.parbench(&["run", "--resume", "a/job.toml"]);
    assert_eq!(output.status.code(), Some(0), "unchanged, it resumes: {}", text(&output.stderr));
}

/// 13
#[test]
fn merge_refuses_shards_of_different_versions_of_a_job() {
    let work = Workdir::new();
    let job = "version = 1\nname = \"sharded\"\n[list]\ngenerator = \"range\"\nsize = 3\n[run]\nstrategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0\n\
        [[workload]]\nname = \"a\"\nbuiltin = \"price-increase\"\n[[workload]]\nname = \"b\"\nbuiltin = \"spin\"\nparams = { iterations = 10 }\n";
    work.write("job.toml", job);
    let output = work.parbench(&["run", "--quiet", "--shard", "0/2", "job.toml"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    work.write("job.toml", &job.replace("repetitions = 1", "repetitions = 2"));
    let output = work.parbench(&["run", "--quiet", "--shard", "1/2", "job.toml"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output =
        work.parbench(&["merge", "results/sharded.shard-0-of-2.csv", "results/sharded.shard-1-of-2.csv"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("shard-0-of-2") && stderr.contains("shard-1-of-2"), "{stderr}");
    assert!(!work.path().join("results/sharded.csv").exists());
}

/// 14
#[test]
fn report_refuses_rows_given_twice() {
    let work = Workdir::new();
    work.write("job.toml", &one_run_job("twice", RANGE3, QUICK, ""));
    assert!(work.parbench(&["run", "--quiet", "job.toml"]).status.success());
    let output = work.parbench(&["report", "results/twice.csv", "results/twice.csv"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("twice.csv") && stderr.contains("repetition 1"), "{stderr}");
}

type Row = BTreeMap<String, String>;

/// Rewrites a per-run CSV: each of `copies` writes every row once, edited.
fn rewrite_rows(path: &Path, copies: &[&dyn Fn(&mut Row)]) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows: Vec<BTreeMap<String, String>> = reader
        .records()
        .map(|record| header.iter().cloned().zip(record.unwrap().iter().map(str::to_owned)).collect())
        .collect();
    let mut writer = csv::Writer::from_path(path).unwrap();
    writer.write_record(&header).unwrap();
    for edit in copies {
        for row in &rows {
            let mut row = row.clone();
            edit(&mut row);
            writer.write_record(header.iter().map(|column| row[column].clone())).unwrap();
        }
    }
    writer.flush().unwrap();
}

/// 15
#[test]
fn report_baseline_pairs_entries_by_host() {
    let work = Workdir::new();
    let job = one_run_job("hosts", RANGE3, QUICK, "").replace("repetitions = 1", "repetitions = 5");
    work.write("job.toml", &job);
    assert!(work.parbench(&["run", "--quiet", "--out", "old", "job.toml"]).status.success());
    assert!(work.parbench(&["run", "--quiet", "--out", "new", "job.toml"]).status.success());
    let set = |host: &'static str, wall: f64| {
        move |row: &mut BTreeMap<String, String>| {
            row.insert("host".into(), host.into());
            let jitter: f64 = row["repetition"].parse::<f64>().unwrap() * 0.001;
            row.insert("wall_s".into(), format!("{:.9}", wall + jitter));
        }
    };
    let (a1, b10, a1_new) = (set("A", 1.0), set("B", 10.0), set("A", 1.0));
    rewrite_rows(&work.path().join("old/hosts.csv"), &[&a1, &b10]);
    rewrite_rows(&work.path().join("new/hosts.csv"), &[&a1_new]);
    let output = work.parbench(&["report", "--baseline", "old/hosts.csv", "new/hosts.csv"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", text(&output.stderr));
    let judged = |verdict: &str| stdout.lines().any(|line| line.trim_start().starts_with(verdict));
    assert!(!judged("faster") && judged("no clear change"), "A was judged against B's numbers: {stdout}");

    let b_only = set("B", 1.0);
    std::fs::copy(work.path().join("new/hosts.csv"), work.path().join("old/hosts.csv")).unwrap();
    rewrite_rows(&work.path().join("old/hosts.csv"), &[&b_only]);
    let output = work.parbench(&["report", "--baseline", "old/hosts.csv", "new/hosts.csv"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--any-host"), "{stderr}");
    let output = work.parbench(&["report", "--any-host", "--baseline", "old/hosts.csv", "new/hosts.csv"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

/// 16
#[test]
fn resume_appends_to_the_log_and_keeps_rows_above_fewer_repetitions() {
    let work = Workdir::new();
    let workload = "[[workload]]\nname = \"talk\"\ncommand = [\"sh\", \"-c\", \"echo said-$1 >&2; echo $1\", \"sh\", \"{item}\"]";
    let job = one_run_job("talk", RANGE3, workload, "").replace("repetitions = 1", "repetitions = 3");
    work.write("job.toml", &job);
    assert!(work.parbench(&["run", "--quiet", "job.toml"]).status.success());
    assert!(work.path().join("results/talk.log").exists(), "{:?}", work.files_in("results"));
    let log = work.read("results/talk.log");
    assert!(log.contains("said-0"), "{log}");
    let output = work.parbench(&["run", "--quiet", "--resume", "--repetitions", "2", "job.toml"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let now = || std::fs::read_to_string(work.path().join("results/talk.log")).unwrap_or_default();
    assert!(now().starts_with(&log), "the log of the kept runs is gone");
    let reps: Vec<String> =
        work.rows("results/talk.csv").iter().map(|row| row["repetition"].clone()).collect();
    assert!(reps.contains(&"3".to_owned()), "repetition 3, measured before, was dropped: {reps:?}");
    let output = work.parbench(&["run", "--quiet", "--retry-failed", "job.toml"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(now().starts_with(&log), "--retry-failed removed the log");
}

/// 17
#[test]
fn a_failed_final_write_keeps_the_previous_set_and_says_how_to_resume() {
    let work = Workdir::new();
    // A long folder name makes env.json (which records the job file's path)
    // the largest of the final files, so a file-size limit between the CSV's
    // size and env.json's lets the CSV through and stops env.json.
    let folder = "d".repeat(200);
    work.write(&format!("{folder}/job.toml"), &one_run_job("set", RANGE3, QUICK, ""));
    let job = format!("{folder}/job.toml");
    let output = work.parbench(&["run", "--quiet", "--out", "results", &job]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let size = |name: &str| std::fs::metadata(work.path().join("results").join(name)).unwrap().len();
    let (csv, summary, env) = (size("set.csv"), size("set.summary.csv"), size("set.env.json"));
    assert!(env > csv.max(summary) + 16, "env.json {env} is the largest (csv {csv}, summary {summary})");
    let before = work.read("results/set.csv");
    let limit = csv.max(summary) + 8;
    let mut command = work.command(&["run", "--quiet", "--fresh", "--out", "results", &job]);
    // SAFETY: the hook runs between fork and exec and calls only
    // setrlimit, which is async-signal-safe, on a struct on its own stack.
    unsafe {
        command.pre_exec(move || {
            let rlimit = libc::rlimit { rlim_cur: limit, rlim_max: limit };
            libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit);
            Ok(())
        });
    }
    let output = finish(command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap());
    let stderr = text(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("--resume"), "no resume hint: {stderr}");
    assert_eq!(work.read("results/set.csv"), before, "the CSV was replaced without its env.json");
    let files = work.files_in("results");
    assert!(!files.iter().any(|name| name.contains(".tmp")), "temporaries left: {files:?}");
    assert!(files.contains(&"set.csv.partial".to_owned()), "{files:?}");
}

// ------------------------------------------------- input refused up front

fn assert_located_error(output: &Output, file: &str, words: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let located = stderr.lines().any(|line| {
        line.strip_prefix(&format!("error: {file}:")).is_some_and(|rest| {
            let mut parts = rest.splitn(3, ':');
            parts.next().is_some_and(|n| n.parse::<usize>().is_ok())
                && parts.next().is_some_and(|n| n.parse::<usize>().is_ok())
        })
    });
    assert!(located, "not a located error: {stderr}");
    assert!(stderr.contains(words), "{stderr}");
}

/// 18
#[test]
fn values_that_would_overflow_are_located_errors() {
    let work = Workdir::new();
    work.write("timeout.toml", &one_run_job("t", RANGE3, QUICK, "timeout = \"584542046090y\""));
    let sleepy = "[[workload]]\nname = \"z\"\nbuiltin = \"sleep\"\nparams = { millis = 1e300 }";
    work.write("sleep.toml", &one_run_job("s", RANGE3, sleepy, ""));
    for (file, words) in [("timeout.toml", "timeout"), ("sleep.toml", "millis")] {
        for command in ["check", "run"] {
            let output = work.parbench(&[command, file]);
            assert_located_error(&output, file, words);
        }
    }
}

/// 19
#[test]
fn jobs_too_big_for_the_machine_are_refused_and_check_estimates_the_cost() {
    let work = Workdir::new();
    let axis: Vec<String> = (0..60_000).map(|n| n.to_string()).collect();
    let workloads: String = ["a", "b"]
        .iter()
        .map(|name| {
            format!("[[workload]]\nname = \"{name}\"\nbuiltin = \"price-increase\"\nparams = {{ percent = [{}] }}\n", axis.join(","))
        })
        .collect();
    work.write("entries.toml", &one_run_job("e", RANGE3, &workloads, ""));
    assert_located_error(&work.parbench(&["check", "entries.toml"]), "entries.toml", "entries");
    let reps = one_run_job("r", RANGE3, QUICK, "").replace("repetitions = 1", "repetitions = 4294967295");
    work.write("reps.toml", &reps);
    assert_located_error(&work.parbench(&["check", "reps.toml"]), "reps.toml", "runs");

    work.write("small.toml", &one_run_job("small", RANGE3, QUICK, ""));
    let output = work.parbench(&["check", "small.toml"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("memory") && stdout.contains("duration"), "{stdout}");
    let huge = one_run_job("huge", "generator = \"range\"\nsize = 1_000_000_000", QUICK, "")
        .replace("[\"serial\"]", "[\"processes\"]\nworkers = 2");
    work.write("huge.toml", &huge);
    let output = work.parbench(&["check", "huge.toml"]);
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    // A billion numbers in and out: 16 GB, which the estimate says; the
    // warning comes where the machine has less.
    assert!(all.contains("memory about 14.9 GiB") || all.contains("memory about 16"), "{all}");
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(all.contains("warning: the memory estimate"), total * 1024.0 < 16e9, "{all}");
    let output = work.parbench(&["run", "--repetitions", "4294967295", "small.toml"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
}

/// 20
#[test]
fn an_item_in_the_program_name_or_a_nul_in_an_item_is_refused_by_check() {
    let work = Workdir::new();
    let program = "[[workload]]\nname = \"p\"\ncommand = [\"{item}\", \"x\"]";
    work.write("program.toml", &one_run_job("p", RANGE3, program, ""));
    assert_located_error(&work.parbench(&["check", "program.toml"]), "program.toml", "{item}");
    work.write("nul.txt", "a\nb\0c\n");
    let echo = "[[workload]]\nname = \"e\"\ncommand = [\"echo\", \"{item}\"]";
    work.write("nul.toml", &one_run_job("n", "generator = \"file\"\npath = \"nul.txt\"", echo, ""));
    assert_located_error(&work.parbench(&["check", "nul.toml"]), "nul.toml", "NUL");
}

/// 21
#[test]
fn job_files_that_are_not_regular_files_are_refused() {
    let work = Workdir::new();
    let fifo = work.path().join("fifo.toml");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: `path` is a NUL-terminated string that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    for file in ["fifo.toml", "/dev/zero"] {
        let output = work.parbench(&["check", file]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(file) && stderr.contains("not a regular file"), "{stderr}");
    }
}

/// 22
#[test]
fn names_from_file_names_follow_the_name_rules_and_hints_run() {
    let work = Workdir::new();
    let job = "version = 1\n[list]\ngenerator = \"range\"\nsize = 3\n[run]\nstrategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0\n[[workload]]\nname = \"inc\"\nbuiltin = \"price-increase\"\n";
    for file in ["...toml", ".x.toml"] {
        work.write(file, job);
        let output = work.parbench(&["check", file]);
        assert_located_error(&output, file, "name");
    }
    work.write("-rf.toml", job);
    work.write("results/-rf.csv.partial", "job,repetition\n");
    let output = work.parbench(&["run", "--", "-rf.toml"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("parbench run --resume -- -rf.toml"), "{stderr}");
}

/// 23
#[test]
fn the_formula_guard_stays_inside_csv_cells() {
    let work = Workdir::new();
    work.write("job.toml", &one_run_job("-neg", RANGE3, QUICK, ""));
    let output = work.parbench(&["run", "--quiet", "--shard", "0/1", "job.toml"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = work.parbench(&["merge", "results/-neg.shard-0-of-1.csv"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(work.rows("results/-neg.csv")[0]["job"], "'-neg", "the CSV cell keeps its guard");
    let output = work.parbench(&["report", "results/-neg.csv", "--json", "r.json", "--markdown", "r.md"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(work.read("r.json").contains("\"-neg\""), "{}", work.read("r.json"));
    for shown in [text(&output.stdout), work.read("r.json"), work.read("r.md")] {
        assert!(!shown.contains("'-neg"), "{shown}");
    }
}

/// 24
#[test]
fn a_commands_stderr_kept_per_run_is_capped_and_the_log_says_so() {
    let work = Workdir::new();
    let workload = "[[workload]]\nname = \"loud\"\nprotocol = \"lines\"\n\
        command = [\"sh\", \"-c\", \"yes 0123456789012345678901234567890123456789 | head -c 8000000 >&2; while read l; do echo $l; done\"]";
    work.write("job.toml", &one_run_job("loud", RANGE3, workload, ""));
    let output = work.parbench(&["run", "--quiet", "job.toml"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let log = std::fs::metadata(work.path().join("results/loud.log")).unwrap().len();
    // 8 MB written; the log keeps a bounded part (each line with its prefix).
    assert!(log < 4_000_000, "the log holds {log} bytes of one run's stderr");
    let text = work.read("results/loud.log");
    assert!(
        text.contains("bytes of stderr") && text.contains("not kept"),
        "{}",
        &text[text.len().saturating_sub(500)..]
    );
}

/// 25
#[test]
fn every_chart_gets_its_own_file_and_large_params_stay_numbers() {
    let work = Workdir::new();
    let job = "version = 1\nname = \"charts\"\n[list]\ngenerator = \"range\"\nsize = 3\n[run]\nstrategies = [\"serial\", \"threads\"]\nworkers = 2\nrepetitions = 2\nwarmup = 0\n\
        [[workload]]\nname = \"a b\"\nbuiltin = \"price-increase\"\nparams = { percent = [-1, 1, 1e300] }\n";
    work.write("job.toml", job);
    let output = work.parbench(&["run", "--quiet", "job.toml"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let output = work.parbench(&["report", "results/charts.csv", "--charts", "charts"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let speedup = work.files_in("charts").into_iter().filter(|name| name.ends_with("-speedup.svg")).count();
    assert_eq!(speedup, 3, "one speedup chart per group: {:?}", work.files_in("charts"));
    let cells: Vec<String> =
        work.rows("results/charts.csv").iter().map(|row| row["param_percent"].clone()).collect();
    for cell in cells {
        // pandas reads a 301-digit integer as text, a decimal as a float.
        let number: f64 = cell.parse().unwrap();
        assert!(cell.len() < 20 || (cell.contains('.') && number == 1e300), "{cell}");
    }
}

/// 26
#[parbench_test_tools::needs(cc)]
#[test]
fn a_lock_that_fails_for_another_reason_says_what_failed() {
    let work = Workdir::new();
    let shim = work.write(
        "shim.c",
        "#include <errno.h>\nint flock(int fd, int op) { (void)fd; (void)op; errno = ENOLCK; return -1; }\n",
    );
    let library = work.path().join("shim.so");
    let compiled =
        std::process::Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(&library).arg(&shim).status();
    assert!(compiled.is_ok_and(|status| status.success()), "cc cannot build the flock shim");
    work.write("job.toml", &one_run_job("nolock", RANGE3, QUICK, ""));
    let output = finish(
        work.command(&["run", "--quiet", "job.toml"])
            .env("LD_PRELOAD", &library)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = text(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("being written by"), "{stderr}");
    assert!(stderr.contains("nolock.lock") && stderr.contains("No locks available"), "{stderr}");
}
