//! No process outlives the run that started it, and no command's stderr
//! outgrows the memory of the runner.
//!
//! A command's child can leave its process group (`setsid`), so killing the
//! group misses it, and keep the command's stdout open, so a reader waits
//! for an end of file that never comes. parbench therefore makes itself the
//! reaper of its orphaned descendants (`PR_SET_CHILD_SUBREAPER`): such a
//! child, once its parent dies, becomes parbench's own, and the whole tree
//! below parbench can be found in /proc and killed. Runs follow one another
//! and only runs start processes, so after a run (or past its deadline)
//! every descendant of parbench is a leftover.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek};
use std::sync::Once;

use nix::unistd::Pid;

use crate::child::{kill_descendant, proc_stat};

/// Makes parbench the parent of its orphaned descendants; once per process.
pub fn adopt_orphans() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // A failure (a kernel without it) leaves the group kills as the only
        // defence.
        let _ = nix::sys::prctl::set_child_subreaper(true);
    });
}

/// A process below parbench, as found in /proc.
struct Descendant {
    pid: i32,
    parent: i32,
    /// Its start time, which tells it from a process given its pid later.
    started: u64,
}

/// Every process below parbench, children before grandchildren, but
/// `spare` (a group's fork server, which outlives runs) and any below it.
fn descendants(spare: Option<u32>) -> Vec<Descendant> {
    let me = std::process::id() as i32;
    let mut children: HashMap<i32, Vec<(i32, u64)>> = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        if let Some(stat) = proc_stat(pid) {
            children.entry(stat.parent).or_default().push((pid, stat.started));
        }
    }
    let mut found = Vec::new();
    let mut parents = vec![me];
    while let Some(parent) = parents.pop() {
        for &(pid, started) in children.get(&parent).into_iter().flatten() {
            if spare.is_some_and(|spare| spare as i32 == pid) {
                continue;
            }
            found.push(Descendant { pid, parent, started });
            parents.push(pid);
        }
    }
    found
}

/// Kills every descendant of parbench but `spare` (see [`descendants`]):
/// each only if its pid still names the process found (see
/// [`kill_descendant`]).
pub fn kill_descendants(spare: Option<u32>) {
    for found in descendants(spare) {
        kill_descendant(found.pid, found.started);
    }
}

/// After a run whose own children were all waited for: kills whatever is
/// left below parbench (but `spare`, see [`descendants`]) and reaps the
/// orphans that came back to it.
pub fn end_leftovers(spare: Option<u32>) {
    let me = std::process::id() as i32;
    for found in descendants(spare) {
        // A child of parbench's is killed before it is reaped, never after.
        kill_descendant(found.pid, found.started);
        if found.parent == me {
            let _ = nix::sys::wait::waitpid(Pid::from_raw(found.pid), None);
        }
    }
}

/// How much of its commands' stderr one run keeps for the log: a command
/// that writes without end must not fill the runner's memory or the disk.
pub const STDERR_KEPT: u64 = 1 << 20;

/// The stderr budget of one run, shared by its workers or its items.
#[derive(Debug)]
pub struct StderrBudget {
    left: u64,
    dropped: u64,
}

impl StderrBudget {
    pub fn new() -> StderrBudget {
        StderrBudget { left: STDERR_KEPT, dropped: 0 }
    }

    /// What `file` holds, as far as the budget goes.
    pub fn read(&mut self, file: &mut File) -> String {
        let size = file.metadata().map(|meta| meta.len()).unwrap_or(0);
        let mut text = Vec::new();
        if file.rewind().is_ok() {
            let _ = file.by_ref().take(self.left).read_to_end(&mut text);
        }
        self.left -= text.len() as u64;
        self.dropped += size.saturating_sub(text.len() as u64);
        String::from_utf8_lossy(&text).into_owned()
    }

    /// The line the log gets when something was left out.
    pub fn note(&self) -> Option<String> {
        (self.dropped > 0).then(|| {
            format!(
                "parbench: {} more bytes of stderr not kept (a run keeps the first {} bytes)",
                self.dropped, STDERR_KEPT
            )
        })
    }
}
