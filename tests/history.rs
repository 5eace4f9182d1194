//! `parbench history`: a git repository made by the test, twelve commits of
//! a job whose command workload sleeps 20 ms per item until commit 7 and
//! 30 ms from there on. The step is large (+50%) so that a loaded machine
//! cannot hide it; nothing else here depends on timing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use common::{Workdir, keyed_rows, measuring, stderr, stdout};

const JOB: &str = r#"version = 1
name = "demo"

[list]
generator = "range"
size = 2

[run]
strategies = ["serial", "processes"]
workers = [2]
repetitions = 3
warmup = 0

[[workload]]
name = "work"
command = ["sh", "work.sh", "{item}"]

[history]
build = ["sh", "-c", "if [ -e broken ]; then echo 'make: *** [all] Error 2' >&2; exit 2; fi"]
"#;

/// What differs from commit to commit.
struct Plan {
    /// The commit (from 1) from which work.sh sleeps 30 ms instead of 20.
    slower_from: usize,
    /// A commit whose build fails.
    broken: Option<usize>,
    /// The commit from which work.sh answers differently.
    new_answers_from: Option<usize>,
    /// Seconds slept per item before `slower_from`.
    sleep: f64,
}

const PLAN: Plan = Plan { slower_from: 7, broken: None, new_answers_from: None, sleep: 0.02 };

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Process::new("git").arg("-C").arg(dir).args(args).output().expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A repository of twelve commits in `work/repo`; returns the commits' ids,
/// oldest first.
fn repository(work: &Workdir, plan: &Plan) -> Vec<String> {
    let repo = work.path().join("repo");
    std::fs::create_dir_all(repo.join("bench")).unwrap();
    git(&repo, &["init", "--quiet"]);
    git(&repo, &["config", "user.name", "parbench tests"]);
    git(&repo, &["config", "user.email", "tests@parbench.invalid"]);
    git(&repo, &["config", "commit.gpgsign", "false"]);
    std::fs::write(repo.join("bench/history.toml"), JOB).unwrap();
    let mut ids = Vec::new();
    for commit in 1..=12 {
        let sleep = if commit >= plan.slower_from { plan.sleep * 1.5 } else { plan.sleep };
        let factor = if plan.new_answers_from.is_some_and(|from| commit >= from) { 3 } else { 2 };
        std::fs::write(repo.join("bench/work.sh"), format!("sleep {sleep}\necho $(( $1 * {factor} ))\n"))
            .unwrap();
        std::fs::write(repo.join("counter"), commit.to_string()).unwrap();
        let broken = repo.join("broken");
        if plan.broken == Some(commit) {
            std::fs::write(&broken, "").unwrap();
        } else {
            let _ = std::fs::remove_file(&broken);
        }
        git(&repo, &["add", "-A"]);
        let date = format!("2026-01-01T00:{commit:02}:00Z");
        let output = Process::new("git")
            .arg("-C")
            .arg(&repo)
            .args(["commit", "--quiet", "-m", &format!("commit {commit}")])
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        ids.push(git(&repo, &["rev-parse", "HEAD"]));
    }
    ids
}

fn history_rows(work: &Workdir) -> Vec<std::collections::BTreeMap<String, String>> {
    keyed_rows(&work.path().join("repo/results/history/demo.csv"))
}

fn distinct_commits(rows: &[std::collections::BTreeMap<String, String>]) -> Vec<String> {
    let mut commits: Vec<String> = rows.iter().map(|row| row["commit"].clone()).collect();
    commits.dedup();
    commits
}

fn in_repo(work: &Workdir, args: &[&str]) -> std::process::Output {
    let _turn = measuring();
    let mut command = assert_cmd::Command::cargo_bin("parbench").unwrap();
    command.current_dir(work.path().join("repo")).args(args).timeout(Duration::from_secs(300));
    command.output().unwrap()
}

#[test]
fn a_walk_over_twelve_commits_finds_the_slowdown_at_commit_seven_and_nowhere_else() {
    let work = Workdir::new();
    let plan = Plan { broken: Some(4), new_answers_from: Some(10), ..PLAN };
    let ids = repository(&work, &plan);

    let walk = in_repo(&work, &["history", "run", "bench/history.toml", "--commits", "HEAD"]);
    // A failed build makes the walk's status 1, and the walk goes on.
    assert_eq!(walk.status.code(), Some(1), "{}{}", stdout(&walk), stderr(&walk));
    let said = stderr(&walk);
    assert!(
        said.contains("[4/12]") && said.contains("build failed (exit status 2): make: *** [all] Error 2"),
        "{said}"
    );
    assert!(said.contains("[12/12]"), "{said}");

    let rows = history_rows(&work);
    assert_eq!(distinct_commits(&rows), ids, "every commit, oldest first");
    for row in &rows {
        let failed = row["commit"] == ids[3];
        assert_eq!(row["status"] == "failed", failed, "{row:?}");
        assert_eq!(
            row["commit_subject"],
            format!("commit {}", ids.iter().position(|id| *id == row["commit"]).unwrap() + 1)
        );
        if failed {
            assert!(row["error"].starts_with("build failed"), "{row:?}");
        }
    }
    let measured = rows.len();

    // A second walk measures nothing again.
    let again = in_repo(&work, &["history", "run", "bench/history.toml", "--commits", "HEAD", "--quiet"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(history_rows(&work).len(), measured);

    let report = in_repo(&work, &["history", "report", "demo", "--html", "history.html"]);
    let text = stdout(&report);
    assert_eq!(report.status.code(), Some(0), "{text}{}", stderr(&report));
    let seventh = &ids[6][..9];
    let change_lines: Vec<&str> =
        text.lines().filter(|line| line.contains(" slower, p ") || line.contains(" faster, p ")).collect();
    assert!(!change_lines.is_empty(), "{text}");
    for line in &change_lines {
        assert!(line.contains(seventh) && line.contains("\"commit 7\"") && line.contains("slower"), "{text}");
    }
    assert!(change_lines.iter().any(|line| line.starts_with("  work · range 2 items · serial: ")), "{text}");
    assert!(text.contains(&format!("failed at {} \"commit 4\"", &ids[3][..9])), "{text}");
    assert!(
        text.contains(&format!(
            "answers changed: work · range 2 items · serial: at {} \"commit 10\"",
            &ids[9][..9]
        )),
        "{text}"
    );

    let changes = keyed_rows(&work.path().join("repo/results/history/demo.changes.csv"));
    assert!(!changes.is_empty());
    for change in &changes {
        assert_eq!(change["commit"], ids[6], "{changes:?}");
        assert_eq!(change["commit_subject"], "commit 7");
        let relative: f64 = change["change"].parse().unwrap();
        // Serial runs the items one after the other: 20 → 30 ms a sleep,
        // plus a process start per item, near +50%. Two processes on a
        // shared machine may wait for a CPU, which blurs their step.
        if change["entry"].ends_with("· serial") {
            assert!((0.25..0.75).contains(&relative), "near +50%: {change:?}");
        } else {
            assert!(relative > 0.10, "a slowdown past the threshold: {change:?}");
        }
        let before: f64 = change["median_before_s"].parse().unwrap();
        let after: f64 = change["median_after_s"].parse().unwrap();
        assert!(after > before, "{change:?}");
        assert!(change["p_value"].parse::<f64>().unwrap() < 0.05, "{change:?}");
        assert!(!change["entry_key"].is_empty() && change["entry"].starts_with("work · "), "{change:?}");
    }
    let page = std::fs::read_to_string(work.path().join("repo/history.html")).unwrap();
    assert_eq!(page.matches("<svg").count(), 1, "one chart per group");
    assert!(page.contains(&ids[6][..7]), "the change is marked with its commit");

    // For CI: a slowdown after --since fails, none after it passes.
    let since_before = in_repo(&work, &["history", "report", "demo", "--since", &ids[4]]);
    assert_eq!(since_before.status.code(), Some(1), "{}", stdout(&since_before));
    assert!(
        stdout(&since_before)
            .contains(&format!("slowdown{} after", if change_lines.len() == 1 { "" } else { "s" }))
    );
    let since_after = in_repo(&work, &["history", "report", "demo", "--since", &ids[7][..10]]);
    assert_eq!(since_after.status.code(), Some(0), "{}", stdout(&since_after));
}

#[test]
fn bisect_names_commit_seven_after_measuring_at_most_six_commits() {
    let work = Workdir::new();
    let ids = repository(&work, &PLAN);
    let output = in_repo(
        &work,
        &[
            "history",
            "bisect",
            "bench/history.toml",
            "--good",
            &ids[0],
            "--bad",
            &ids[11],
            "--entry",
            "serial",
        ],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(
        text.starts_with(&format!(
            "first slower commit for work · range 2 items · serial: {} \"commit 7\"",
            &ids[6][..9]
        )),
        "{text}"
    );
    let measured = distinct_commits(&history_rows(&work));
    assert!(measured.len() <= 6, "measured {} commits: {measured:?}", measured.len());
    assert!(text.contains(&format!("{} commits measured, 0 read from", measured.len())), "{text}");
    assert!(measured.len() >= 4, "the two ends and at least two probes: {measured:?}");

    // A second bisection reads every commit from the history file.
    let again = in_repo(
        &work,
        &[
            "history",
            "bisect",
            "bench/history.toml",
            "--good",
            &ids[0],
            "--bad",
            &ids[11],
            "--entry",
            "serial",
            "-q",
        ],
    );
    assert!(
        stdout(&again).contains(&format!("0 commits measured, {} read from", measured.len())),
        "{}",
        stdout(&again)
    );
}

#[test]
fn bisect_names_the_entries_when_the_entry_is_not_one_of_them() {
    let work = Workdir::new();
    let ids = repository(&work, &PLAN);
    let output =
        in_repo(&work, &["history", "bisect", "bench/history.toml", "--good", &ids[0], "--bad", &ids[11]]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: --entry: name the entry to bisect; the job's entries:\n  work · range 2 items · serial\n  \
         work · range 2 items · processes ×2\n"
    );
    let swapped =
        in_repo(&work, &["history", "bisect", "bench/history.toml", "--good", "HEAD", "--bad", "HEAD~3"]);
    assert_eq!(swapped.status.code(), Some(2));
    assert_eq!(
        stderr(&swapped),
        "error: --good HEAD is not an earlier commit of --bad HEAD~3's history; bisect needs good before bad\n"
    );
    assert!(!work.path().join("repo/results/history/demo.csv").exists(), "nothing measured");
}

fn worktrees(repo: &Path) -> usize {
    git(repo, &["worktree", "list", "--porcelain"])
        .lines()
        .filter(|line| line.starts_with("worktree "))
        .count()
}

fn entries(folder: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(folder).unwrap().map(|entry| entry.unwrap().path()).collect()
}

#[test]
fn ctrl_c_mid_walk_leaves_no_worktree_behind() {
    let work = Workdir::new();
    // Slow commits (half a second a run), so that the signal lands mid-run.
    let ids = repository(&work, &Plan { sleep: 0.25, ..PLAN });
    let repo = work.path().join("repo");
    let temporary = work.path().join("tmp");
    std::fs::create_dir_all(&temporary).unwrap();
    let _turn = measuring();
    let mut child = Process::new(assert_cmd::cargo::cargo_bin("parbench"))
        .current_dir(&repo)
        .args(["history", "run", "bench/history.toml", "--commits", "HEAD"])
        .env("TMPDIR", &temporary)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the second commit's checkout, then for its run to start.
    let started = Instant::now();
    loop {
        let history = repo.join("results/history/demo.csv");
        let outs = entries(&temporary).iter().filter(|path| path.to_string_lossy().contains("-out-")).count();
        if history.exists() && outs > 0 && worktrees(&repo) == 2 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no second commit started");
        assert!(child.try_wait().unwrap().is_none(), "parbench ended before the signal");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGINT)
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{said}");
    assert!(said.contains("stopped: 1 commit measured and kept in"), "{said}");
    assert_eq!(worktrees(&repo), 1, "only the repository's own work tree is left");
    assert_eq!(entries(&temporary), Vec::<PathBuf>::new(), "no temporary folder is left");
    assert_eq!(distinct_commits(&history_rows(&work)), [ids[0].clone()], "the measured commit is kept");
    drop(_turn);

    // The same walk resumes: what was measured is not measured again.
    let commits = format!("{},{}", ids[0], ids[1]);
    let again = in_repo(&work, &["history", "run", "bench/history.toml", "--commits", &commits]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(stderr(&again).contains("[1/2] ") && stderr(&again).contains("measured on this host already"));
    assert_eq!(distinct_commits(&history_rows(&work)), [ids[0].clone(), ids[1].clone()]);
}

#[test]
fn report_says_what_is_missing_rather_than_reporting_nothing() {
    let work = Workdir::new();
    let output = work.parbench(&["history", "report", "demo"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: results/history/demo.csv: no history there; `parbench history run JOB --commits RANGE` makes it\n"
    );
    work.write(
        "results/plain.csv",
        "job,workload,generator,list_size,strategy,workers,repetition,status,wall_s\n",
    );
    let output = work.parbench(&["history", "report", "results/plain.csv"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: results/plain.csv: no column \"commit\"; is this a history CSV, written by `parbench history run`?\n"
    );
}
