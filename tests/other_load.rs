//! Other load, for real: the tests start CPU hogs of their own (pinned one
//! per CPU where `taskset` can), run jobs beside them, stop them by pid,
//! and read the `disturbed` column; and they run every workload kind on the
//! machine as it is, where few runs may be flagged. The verdicts are the
//! kernel's per-task counters, not a timing. Runs take turns
//! (`common::Workdir::parbench`), so that no test's hogs land in another's
//! runs: a test holds its hogs only while its own run has the turn.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Workdir, stderr, stdout};

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Busy loops, hog i pinned to the i-th CPU this process may use (in turn)
/// where `taskset` is there (it execs the loop: the pid is the loop's).
/// Each is killed by its pid and reaped when dropped, whatever happens to
/// the test, and killed by the kernel should the test process die first.
struct Hogs(Vec<Child>);

impl Hogs {
    fn start(count: usize) -> Hogs {
        use std::os::unix::process::CommandExt;
        let taskset = Command::new("taskset").arg("--version").output().is_ok_and(|out| out.status.success());
        let allowed = allowed_cpus();
        let mut hogs = Hogs(Vec::new());
        for index in 0..count {
            let mut command = if taskset && !allowed.is_empty() {
                let mut command = Command::new("taskset");
                command.args(["-c", &allowed[index % allowed.len()].to_string(), "sh"]);
                command
            } else {
                Command::new("sh")
            };
            command.args(["-c", "while :; do :; done"]).stdout(Stdio::null()).stderr(Stdio::null());
            // SAFETY: prctl is async-signal-safe and touches no memory of
            // the parent; the child asks the kernel for SIGKILL when the
            // thread that forked it ends.
            unsafe {
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            hogs.0.push(command.spawn().unwrap());
        }
        hogs
    }
}

/// The CPUs this process may run on (`Cpus_allowed_list`: `0-3,8`).
fn allowed_cpus() -> Vec<usize> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let Some(list) = status.lines().find_map(|line| line.strip_prefix("Cpus_allowed_list:")) else {
        return Vec::new();
    };
    let mut cpus = Vec::new();
    for part in list.trim().split(',') {
        match part.split_once('-') {
            Some((first, last)) => {
                if let (Ok(first), Ok(last)) = (first.parse::<usize>(), last.parse::<usize>()) {
                    cpus.extend(first..=last);
                }
            }
            None => cpus.extend(part.parse::<usize>().ok()),
        }
    }
    cpus
}

impl Drop for Hogs {
    fn drop(&mut self) {
        for hog in &mut self.0 {
            let _ = hog.kill();
            let _ = hog.wait();
        }
    }
}

/// Per entry (workload, strategy), its rows' `disturbed` in repetition order.
fn flags(work: &Workdir, csv: &str) -> BTreeMap<(String, String), Vec<bool>> {
    let mut rows = work.rows(csv);
    rows.sort_by_key(|row| row["repetition"].parse::<u32>().unwrap());
    let mut flags: BTreeMap<(String, String), Vec<bool>> = BTreeMap::new();
    for row in &rows {
        assert!(["true", "false"].contains(&row["disturbed"].as_str()), "{row:?}");
        assert!(row["run_delay_s"].parse::<f64>().is_ok_and(|delay| delay >= 0.0), "{row:?}");
        let entry = (row["workload"].clone(), format!("{}×{}", row["strategy"], row["workers"]));
        flags.entry(entry).or_default().push(row["disturbed"] == "true");
    }
    flags
}

const SHORT: &str = r#"version = 1
name = "hogged"
[list]
generator = "range"
size = 100
[run]
strategies = ["serial", "threads", "processes"]
workers = [2]
repetitions = 3
warmup = 0
[[workload]]
name = "spin"
builtin = "spin"
params = { iterations = 20000 }
[[workload]]
name = "dd"
command = ["dd", "if=/dev/zero", "of=/dev/null", "bs=64k", "count=1{item}", "status=none"]
"#;

/// `parbench run hogged.toml` in `work` beside six hogs (one more than
/// the CPUs where there are more), which must end well.
fn beside_six_hogs(work: &Workdir) -> std::process::Output {
    let output = {
        let _turn = common::measuring();
        let _hogs = Hogs::start(6.max(cpus() + 1));
        work.parbench_in_turn(&["run", "hogged.toml"], &[])
    };
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    output
}

#[test]
fn beside_hogs_short_groups_and_first_runs_are_flagged() {
    let work = Workdir::new();
    work.write("hogged.toml", SHORT);
    let output = beside_six_hogs(&work);
    let flags = flags(&work, "results/hogged.csv");
    assert_eq!(flags.len(), 5, "{flags:?}");
    for (entry, runs) in &flags {
        assert!(runs[0], "{entry:?}: its first run beside the hogs was not flagged: {runs:?}");
        assert!(runs.iter().filter(|flagged| **flagged).count() >= 2, "{entry:?}: {runs:?}");
    }
    let said = stderr(&output) + &stdout(&output);
    assert!(said.contains("not judged (busy"), "{said}");
    let env: serde_json::Value = serde_json::from_str(&work.read("results/hogged.env.json")).unwrap();
    let disturbed: usize = flags.values().flatten().filter(|flagged| **flagged).count();
    assert_eq!(env["other_load"]["disturbed_runs"], disturbed);
    assert_eq!(env["other_load"]["runs"], 15);
}

/// A Python function that holds the GIL about 1 ms an item, on pools of
/// threads and processes: their calling, manager and feeder threads wait
/// for the run's own workers on a quiet machine, which must not hide the
/// hogs' harm.
const PYTHON_POOLS: &str = r#"version = 1
name = "hogged-python"
[list]
generator = "range"
size = 40
[run]
strategies = ["threads", "processes"]
workers = [2]
repetitions = 3
warmup = 0
[[workload]]
name = "gil"
python = "work.py:gil"
"#;

#[parbench_test_tools::needs(python3)]
#[test]
fn python_pools_beside_hogs_are_flagged() {
    let work = Workdir::new();
    let bench = common::repo().join("bench/other-load");
    work.write("work.py", &std::fs::read_to_string(bench.join("work.py")).unwrap());
    work.write("hogged.toml", PYTHON_POOLS);
    beside_six_hogs(&work);
    let flags = flags(&work, "results/hogged-python.csv");
    assert_eq!(flags.len(), 2, "{flags:?}");
    for (entry, runs) in &flags {
        assert!(runs.iter().filter(|flagged| **flagged).count() >= 2, "{entry:?}: {runs:?}");
    }
}

const AUTO: &str = r#"version = 1
name = "busy"
[list]
generator = "range"
size = 40
[run]
strategies = ["serial", "threads"]
workers = [2]
repetitions = "auto"
max_time = "2s"
warmup = 1
[[workload]]
name = "spin"
builtin = "spin"
params = { iterations = 100000 }
"#;

#[test]
fn auto_beside_sustained_hogs_ends_within_its_bound_and_judges_nothing() {
    let work = Workdir::new();
    work.write("busy.toml", AUTO);
    let (output, took) = {
        let _turn = common::measuring();
        let started = Instant::now();
        let _hogs = Hogs::start(cpus());
        (work.parbench_in_turn(&["run", "busy.toml"], &[]), started.elapsed())
    };
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Two entries of at most 2 s each: the bound the issue sets, 1.5 ×
    // entries × max_time + 20 s (a run that never ends would hit it).
    assert!(took < Duration::from_secs(26), "took {took:?}");
    let said = stderr(&output) + &stdout(&output);
    assert!(said.contains("not judged (busy"), "{said}");
    assert!(!said.contains("beats serial"), "a verdict from disturbed runs: {said}");
    let rows = work.rows("results/busy.csv");
    // The busy streak stops an entry long before 1,000 runs.
    assert!(rows.len() < 200, "{} rows", rows.len());
}

/// Every workload kind parbench runs (`bench/other-load/job.toml`, which
/// `bench/other_load.py` measures the rates of), as a user would on the
/// machine as it is: the flags must be rare (a few runs that a kernel
/// thread or another tenant harmed), never the rule for any kind. Without
/// `python`, the job's Python workloads are left out.
fn quiet_runs_are_seldom_flagged(python: bool) {
    let bench = common::repo().join("bench/other-load");
    let mut job = std::fs::read_to_string(bench.join("job.toml")).unwrap();
    if !python {
        let at = job.find("[[workload]]\nname = \"python-small\"").expect("the job's Python workloads");
        job.truncate(at);
    }
    let work = Workdir::new();
    work.write("work.py", &std::fs::read_to_string(bench.join("work.py")).unwrap());
    work.write("quiet.toml", &job);
    let output = work.parbench(&["run", "quiet.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let flags = flags(&work, "results/other-load.csv");
    let runs: usize = flags.values().map(Vec::len).sum();
    let flagged: usize = flags.values().flatten().filter(|flagged| **flagged).count();
    let each: Vec<(&(String, String), usize)> =
        flags.iter().map(|(entry, runs)| (entry, runs.iter().filter(|flagged| **flagged).count())).collect();
    // The issue's goal is 5% and 2 of 10; the test allows twice that for a
    // shared machine, and still fails where a kind is flagged as a rule.
    assert!(flagged * 10 <= runs, "{flagged} of {runs} quiet runs flagged: {each:?}");
    assert!(each.iter().all(|(_, count)| *count <= 4), "{each:?}");
}

#[test]
fn quiet_runs_of_builtins_and_commands_are_seldom_flagged() {
    quiet_runs_are_seldom_flagged(false);
}

#[parbench_test_tools::needs(python3)]
#[test]
fn quiet_runs_of_python_functions_are_seldom_flagged() {
    quiet_runs_are_seldom_flagged(true);
}

/// `peak_rss_bytes` of `count` runs, in repetition order.
fn peaks(work: &Workdir, csv: &str) -> Vec<f64> {
    let mut rows = work.rows(csv);
    rows.sort_by_key(|row| row["repetition"].parse::<u32>().unwrap());
    rows.iter().map(|row| row["peak_rss_bytes"].parse::<f64>().unwrap()).collect()
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn memory_stays_flat(workload: &str) {
    let work = Workdir::new();
    work.write("work.py", "def identity(x):\n    return x\n");
    let job = format!(
        "version = 1\nname = \"long\"\n[list]\ngenerator = \"range\"\nsize = 1\n[run]\nstrategies = [\"serial\"]\nrepetitions = 20000\nwarmup = 0\n[[workload]]\nname = \"w\"\n{workload}\n"
    );
    work.write("long.toml", &job);
    let output = work.parbench(&["run", "--quiet", "long.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let peaks = peaks(&work, "results/long.csv");
    assert_eq!(peaks.len(), 20_000);
    let (first, last) = (median(&peaks[..1000]), median(&peaks[19_000..]));
    // Within 10%, and under 2 MiB apart: a row kept per run (1.5 KB) would
    // have grown it by 30 MB.
    assert!((last - first).abs() <= 0.1 * first, "first 1,000 runs {first} bytes, last 1,000 {last}");
    assert!((last - first).abs() < 2.0 * 1024.0 * 1024.0, "first {first}, last {last}");
}

#[test]
fn the_runners_memory_stays_flat_over_20000_runs() {
    // Serial on a builtin works in the runner: its peak is the runner's.
    memory_stays_flat("builtin = \"price-increase\"");
}

#[parbench_test_tools::needs(python3)]
#[test]
fn a_python_runs_memory_is_its_interpreters_whatever_ran_before() {
    memory_stays_flat("python = \"work.py:identity\"");
}
