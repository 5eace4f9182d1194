//! `protocol = "argv"` commands: no pool, one process per item, up to
//! `workers` at once, each slot a thread that claims the next item (a chunk
//! of one), spawns, collects and waits.

use std::fs::File;
use std::io::{Read, Seek};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

use super::drive::{Live, Note, watch};
use super::telling_line;
use crate::child::{Group, Tether, describe_exit};
use crate::generator::Items;
use crate::strategy::chunks::Chunks;
use crate::strategy::reaper::{self, StderrBudget};
use crate::strategy::{Cutoff, Execution, Failed, Finish, Outputs, Spread};
use crate::vocab::io_reason;
use crate::workload::CommandSpec;

/// What the slots of one run share.
struct Slots<'a> {
    command: &'a CommandSpec,
    items: &'a Items,
    spread: &'a Spread<'a>,
    chunks: Chunks<'a, String>,
    abort: AtomicBool,
    live: Live,
    stderr_lines: Mutex<Vec<String>>,
    budget: Mutex<StderrBudget>,
}

pub(super) fn run(
    command: &CommandSpec,
    items: &Items,
    spread: Spread<'_>,
    cutoff: &Cutoff,
) -> Result<Execution, Failed> {
    let workers = spread.workers;
    let mut out = vec![String::new(); items.len()];
    // Each slot's largest process: slots run theirs one after another.
    let slot_peaks: Vec<AtomicU64> = (0..workers).map(|_| AtomicU64::new(0)).collect();
    let (notes_tx, notes_rx) = mpsc::channel::<Note>();
    reaper::adopt_orphans();
    let slots = Slots {
        command,
        items,
        spread: &spread,
        chunks: Chunks::new(&mut out, 1),
        abort: AtomicBool::new(false),
        live: Live::new(workers, true),
        stderr_lines: Mutex::new(Vec::new()),
        budget: Mutex::new(StderrBudget::new()),
    };
    let failure = std::thread::scope(|scope| {
        for (slot, slot_peak) in slot_peaks.iter().enumerate() {
            let (slots, notes_tx) = (&slots, notes_tx.clone());
            scope.spawn(move || {
                // A slot's processes inherit its thread's CPU.
                if let Some(cpus) = slots.spread.cpus {
                    crate::affinity::pin_current_thread(cpus[slot]);
                }
                let mut largest = 0;
                let result = slots.serve(slot, &mut largest);
                slot_peak.store(largest, Ordering::Relaxed);
                let _ = notes_tx.send(Note::Ended(result));
            });
        }
        drop(notes_tx);
        // Each item's process has its stdin closed from the start.
        let release: &dyn Fn() = &|| {};
        let watched = (&slots.live, &slots.abort, cutoff, release);
        watch(&notes_rx, workers, 0, watched, |_| {}, (None, &mut |_| {}))
    });
    // Every child is reaped: their CPU is among the runner's reaped children.
    let stop = Finish::now(&[]);
    reaper::end_leftovers();
    let Slots { stderr_lines, budget, .. } = slots;
    let mut stderr = stderr_lines.into_inner().unwrap_or_default();
    stderr.extend(budget.into_inner().unwrap_or_else(|p| p.into_inner()).note());
    if let Some(failure) = failure {
        return Err(Failed { failure, stderr });
    }
    Ok(Execution {
        outputs: Outputs::Text(out),
        // A process per item: no moment when "every worker can take work".
        setup: None,
        finish: stop,
        stderr,
        children_peak_rss: Some(slot_peaks.iter().map(|peak| peak.load(Ordering::Relaxed)).sum()),
        timed: None,
        python: None,
    })
}

impl Slots<'_> {
    /// One slot's loop: runs items until none is left or the run is
    /// abandoned; `largest` is its largest process's peak memory.
    fn serve(&self, slot: usize, largest: &mut u64) -> Result<(), String> {
        // Each item's stderr goes to this slot's file, not a pipe read into
        // memory: a command may write gigabytes.
        let mut stderr_file = tempfile::tempfile()
            .map_err(|error| format!("cannot create a temporary file for stderr: {error}"))?;
        while !self.abort.load(Ordering::Relaxed) {
            let Some((range, out)) = self.chunks.claim() else {
                return Ok(());
            };
            let (result, peak) = self.run_item(slot, range.start, &mut stderr_file)?;
            *largest = (*largest).max(peak);
            out[0] = result;
        }
        Ok(())
    }

    /// Runs item `index` in one process; its output and the process's peak
    /// memory.
    fn run_item(&self, slot: usize, index: usize, stderr_file: &mut File) -> Result<(String, u64), String> {
        let command = self.command;
        let item = self.items.text(index);
        let stderr_for_child = stderr_file
            .set_len(0)
            .and_then(|()| stderr_file.rewind())
            .and_then(|()| stderr_file.try_clone())
            .map_err(|error| format!("cannot reuse the stderr file: {error}"))?;
        // Not tied to parbench by a parent-death signal: that hook would
        // make std fork instead of using posix_spawn (vfork), and this is
        // the one place a spawn per item is the hot path (the figures are
        // in the commit that chose posix_spawn). The group kills and the
        // reaper of orphans end whatever an item leaves.
        let mut child = crate::child::spawn(
            Command::new(&command.program)
                .args(command.args_for(&item))
                .current_dir(self.spread.cwd)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(stderr_for_child)),
            Tether::Loose,
        )
        .map_err(|error| format!("cannot start \"{}\": {}", command.program, io_reason(&error)))?;
        let mut group = Group::new(child.id());
        crate::interrupt::track_group(group.pid() as i32);
        self.live.set(slot, Some(group.pid()));
        // Reads stdout to its end, then waits for the process to end,
        // unreaped, so that whatever it left running can go with its group
        // before it is reaped.
        let mut stdout = Vec::new();
        let read = child.stdout.take().map_or(Ok(0), |mut pipe| pipe.read_to_end(&mut stdout));
        if read.is_ok() {
            group.await_end();
        }
        // Out of the watcher's and the interrupt handler's reach before
        // the reap (see `Live`).
        self.live.set(slot, None);
        crate::interrupt::untrack_group(group.pid() as i32);
        let reaped = group.end_with_peak();
        read.map_err(|error| format!("item {}: {error}", index + 1))?;
        let (status, peak) = reaped.map_err(|error| format!("item {}: {error}", index + 1))?;
        let stderr = self.budget.lock().unwrap_or_else(|p| p.into_inner()).read(stderr_file);
        if !stderr.trim().is_empty() {
            let mut lines = self.stderr_lines.lock().unwrap_or_else(|p| p.into_inner());
            lines.extend(stderr.lines().map(|line| format!("item {}: {line}", index + 1)));
        }
        if !status.success() {
            let mut message =
                format!("\"{}\" {} on item {} ({item:?})", command.program, describe_exit(status), index + 1);
            if let Some(line) = telling_line(&stderr) {
                message.push_str(&format!(": {line}"));
            }
            return Err(message);
        }
        let text =
            String::from_utf8(stdout).map_err(|_| format!("item {}: the output is not UTF-8", index + 1))?;
        Ok((text.trim_end().to_owned(), peak))
    }
}
