//! What the history needs of git: the commits of a range, oldest first, and
//! a temporary checkout of one of them that is always removed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One commit, as the history CSV records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The full id.
    pub id: String,
    /// Committer time, ISO 8601 (`2026-03-01T12:00:00+01:00`).
    pub time: String,
    pub subject: String,
}

impl Commit {
    /// The id as `git log --oneline` shows it.
    pub fn short(&self) -> &str {
        &self.id[..self.id.len().min(9)]
    }
}

/// Runs git in `dir` and returns its standard output, or its error in words.
pub fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot start git: {error}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!("git {}: {}", args.join(" "), stderr.trim()))
    }
}

/// The root of the work tree that holds `dir`.
pub fn toplevel(dir: &Path) -> Result<PathBuf, String> {
    Ok(PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?.trim()))
}

/// The commits of `range`, oldest first: a revision range as `git rev-list`
/// takes it (`v0.3..HEAD`, `main~20..`), or commas between single commits
/// (`a1b2c3,d4e5f6`), kept in the order given.
pub fn commits(repo: &Path, range: &str) -> Result<Vec<Commit>, String> {
    let mut args = vec!["log", FORMAT];
    if range.contains(',') {
        let ids: Vec<String> = range
            .split(',')
            .map(str::trim)
            .filter(|rev| !rev.is_empty())
            .map(|rev| resolve(repo, rev))
            .collect::<Result<_, _>>()?;
        // One git for them all, in the order given.
        let mut given = vec!["--no-walk=unsorted".to_owned()];
        given.extend(ids);
        let given: Vec<&str> = given.iter().map(String::as_str).collect();
        args.extend(given);
        args.push("--");
        return parse_log(&git(repo, &args)?);
    }
    args.extend(["--reverse", "--first-parent"]);
    args.extend(range.split_whitespace());
    args.push("--");
    parse_log(&git(repo, &args)?)
}

/// One commit a line: id, committer time and subject, NUL between them.
const FORMAT: &str = "--format=%H%x00%cI%x00%s";

fn parse_log(text: &str) -> Result<Vec<Commit>, String> {
    text.lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let mut parts = line.splitn(3, '\0');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(id), Some(time), Some(subject)) => {
                    Ok(Commit { id: id.to_owned(), time: time.to_owned(), subject: subject.to_owned() })
                }
                _ => Err(format!("git log: unexpected line {line:?}")),
            }
        })
        .collect()
}

/// The full id of a revision.
pub fn resolve(repo: &Path, rev: &str) -> Result<String, String> {
    let spec = format!("{rev}^{{commit}}");
    git(repo, &["rev-parse", "--verify", "--quiet", &spec])
        .ok()
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .ok_or_else(|| format!("{rev:?} is not a commit of the repository at {}", repo.display()))
}

/// Every `every`-th commit counted back from the newest (which is always
/// kept), then the newest `max` of those.
pub fn sample(commits: Vec<Commit>, every: usize, max: Option<usize>) -> Vec<Commit> {
    let every = every.max(1);
    let newest = commits.len().saturating_sub(1);
    let mut kept: Vec<Commit> = commits
        .into_iter()
        .enumerate()
        .filter(|(at, _)| (newest - at).is_multiple_of(every))
        .map(|(_, c)| c)
        .collect();
    if let Some(max) = max {
        kept.drain(..kept.len().saturating_sub(max));
    }
    kept
}

/// The prefix of the temporary folders that hold checkouts, with the id of
/// the parbench that made them.
const PREFIX: &str = "parbench-history-";

/// A commit checked out with `git worktree add --detach` into a temporary
/// folder; dropping it removes the worktree and the folder, whatever
/// happened in between.
pub struct Checkout {
    repo: PathBuf,
    folder: tempfile::TempDir,
}

impl Checkout {
    pub fn add(repo: &Path, commit: &Commit) -> Result<Checkout, String> {
        let folder = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|error| format!("cannot make a temporary folder: {error}"))?;
        let checkout = Checkout { repo: repo.to_owned(), folder };
        let tree = checkout.tree();
        git(repo, &["worktree", "add", "--detach", "--quiet", &tree.to_string_lossy(), &commit.id])?;
        Ok(checkout)
    }

    /// The work tree: the commit's files.
    pub fn tree(&self) -> PathBuf {
        self.folder.path().join("tree")
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let tree = self.tree();
        let _ = git(&self.repo, &["worktree", "remove", "--force", &tree.to_string_lossy()]);
        let _ = std::fs::remove_dir_all(&tree);
        let _ = git(&self.repo, &["worktree", "prune"]);
    }
}

/// Removes the checkouts that an earlier parbench, no longer running, left
/// behind (killed before it could remove them), and returns how many.
pub fn remove_stale(repo: &Path) -> usize {
    let Ok(list) = git(repo, &["worktree", "list", "--porcelain"]) else { return 0 };
    let mut removed = 0;
    for path in list.lines().filter_map(|line| line.strip_prefix("worktree ")) {
        let path = Path::new(path);
        let Some(folder) = path.parent().and_then(Path::file_name).and_then(|name| name.to_str()) else {
            continue;
        };
        let Some(pid) = folder.strip_prefix(PREFIX).and_then(|rest| rest.split('-').next()) else { continue };
        let alive = pid.parse::<u32>().is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if !alive && path.file_name().is_some_and(|name| name == "tree") {
            let _ = git(repo, &["worktree", "remove", "--force", &path.to_string_lossy()]);
            let _ = std::fs::remove_dir_all(path.parent().expect("a tree has a folder"));
            removed += 1;
        }
    }
    let _ = git(repo, &["worktree", "prune"]);
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(id: &str) -> Commit {
        Commit { id: id.to_owned(), time: String::new(), subject: String::new() }
    }

    fn repository() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for args in [
            &["init", "--quiet"][..],
            &["config", "user.name", "t"],
            &["config", "user.email", "t@parbench.invalid"],
            &["config", "commit.gpgsign", "false"],
            &["commit", "--quiet", "--allow-empty", "-m", "first, \"quoted\""],
            &["commit", "--quiet", "--allow-empty", "-m", "second"],
        ] {
            git(dir.path(), args).unwrap();
        }
        dir
    }

    #[test]
    fn a_checkout_is_removed_when_dropped_and_one_left_by_a_dead_parbench_on_the_next_start() {
        let repo = repository();
        let all = commits(repo.path(), "HEAD").unwrap();
        assert_eq!(
            all.iter().map(|c| c.subject.as_str()).collect::<Vec<_>>(),
            ["first, \"quoted\"", "second"]
        );
        let checkout = Checkout::add(repo.path(), &all[0]).unwrap();
        let tree = checkout.tree();
        assert!(tree.is_dir());
        drop(checkout);
        assert!(!tree.exists() && !tree.parent().unwrap().exists());
        // A folder named for a process that is not running: a parbench killed mid-walk.
        let left =
            tempfile::Builder::new().prefix(&format!("{PREFIX}{}-", u32::MAX)).tempdir().unwrap().keep();
        let tree = left.join("tree");
        git(repo.path(), &["worktree", "add", "--detach", "--quiet", &tree.to_string_lossy(), &all[1].id])
            .unwrap();
        assert_eq!(remove_stale(repo.path()), 1);
        assert!(!left.exists());
        assert_eq!(git(repo.path(), &["worktree", "list"]).unwrap().lines().count(), 1);
    }

    #[test]
    fn sampling_keeps_the_newest_and_every_nth_before_it() {
        let all: Vec<Commit> = (0..10).map(|at| commit(&at.to_string())).collect();
        let ids = |kept: Vec<Commit>| kept.into_iter().map(|c| c.id).collect::<Vec<_>>().join(",");
        assert_eq!(ids(sample(all.clone(), 3, None)), "0,3,6,9");
        assert_eq!(ids(sample(all.clone(), 1, Some(2))), "8,9");
        assert_eq!(ids(sample(all.clone(), 4, Some(2))), "5,9");
        assert_eq!(ids(sample(Vec::new(), 2, Some(2))), "");
    }
}
