//! `protocol = "argv"` commands: no pool, one process per item, up to
//! `workers` at once, each slot a thread that claims the next item (a chunk
//! of one), spawns, collects and waits.
//!
//! # The ruler
//!
//! A command's time is its processes' time, as hyperfine's is: the clock
//! starts as the first slot starts its first process (the command line
//! built) and stops when the last process has ended, seen by `waitid`
//! before it is reaped. What is parbench's own lies outside: the slots'
//! threads, their CPUs and output files are ready before, and the slots
//! leave one start line together; killing the last items' groups, reaping
//! them and reading their output come after. A process writes its stdout
//! and stderr into its slot's two files, not into pipes: the runner only
//! waits for it to end, as hyperfine's `wait` does, and reads the output
//! after. Between two items of one slot parbench reaps the first, reads its
//! output and builds the next command line.

use std::fs::File;
use std::io::{Read, Seek};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock, mpsc};
use std::time::{Duration, Instant};

use super::drive::{Live, Note, watch};
use super::telling_line;
use crate::child::Tether;
use crate::generator::Items;
use crate::interference::Sched;
use crate::strategy::chunks::Chunks;
use crate::strategy::reaper::{self, StderrBudget};
use crate::strategy::{
    Cutoff, Ended, Execution, Failed, Finish, Outputs, RunFailure, Spread, Timed, own_cpu,
    reaped_children_cpu,
};
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
    /// The start line: held shut (written) while the slots are started,
    /// each slot passes it (reads) once all are; a failed thread start
    /// that unwinds opens it too, so no slot waits for ever.
    start_line: RwLock<()>,
}

/// A moment on the command's ruler: the instant and the runner's own CPU
/// time then.
type Mark = (Instant, Duration);

/// When a slot started its first process and when its last one ended.
#[derive(Debug, Clone, Copy)]
struct Span {
    first: Option<Mark>,
    last: Option<Mark>,
    /// The scheduler's counters of the slot's processes
    /// (`crate::interference`); `None` once one could not be read.
    workers: Option<Sched>,
}

impl Default for Span {
    fn default() -> Span {
        Span { first: None, last: None, workers: Some(Sched::default()) }
    }
}

impl Span {
    /// The span of two slots together: the earlier start, the later end.
    fn and(self, other: Span) -> Span {
        Span {
            first: self.first.into_iter().chain(other.first).min_by_key(|(at, _)| *at),
            last: self.last.into_iter().chain(other.last).max_by_key(|(at, _)| *at),
            workers: Sched::both(self.workers, other.workers),
        }
    }
}

pub(super) fn run(
    command: &CommandSpec,
    items: &Items,
    spread: Spread<'_>,
    cutoff: &Cutoff,
) -> Result<Execution, Failed> {
    let workers = spread.workers;
    let mut out = vec![String::new(); items.len()];
    // Each slot's two files, made before any item starts.
    let mut slot_files = (0..workers)
        .map(|_| SlotFiles::new())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| RunFailure::Failed(format!("cannot create a temporary file for output: {error}")))?;
    // Each slot's largest process: slots run theirs one after another.
    let slot_peaks: Vec<AtomicU64> = (0..workers).map(|_| AtomicU64::new(0)).collect();
    let slot_spans: Vec<Mutex<Span>> = (0..workers).map(|_| Mutex::new(Span::default())).collect();
    let (notes_tx, notes_rx) = mpsc::channel::<Note>();
    reaper::adopt_orphans();
    let slots = Slots {
        command,
        items,
        spread: &spread,
        chunks: Chunks::new(&mut out, 1),
        abort: AtomicBool::new(false),
        live: Live::new(workers, true, None),
        stderr_lines: Mutex::new(Vec::new()),
        budget: Mutex::new(StderrBudget::new()),
        start_line: RwLock::new(()),
    };
    let children_before = reaped_children_cpu();
    let failure = std::thread::scope(|scope| {
        let shut = slots.start_line.write().unwrap_or_else(|p| p.into_inner());
        let slot_state = slot_peaks.iter().zip(&slot_spans).zip(slot_files.iter_mut());
        for (slot, ((slot_peak, slot_span), files)) in slot_state.enumerate() {
            let (slots, notes_tx) = (&slots, notes_tx.clone());
            scope.spawn(move || {
                // A slot's processes inherit its thread's CPU.
                if let Some(cpus) = slots.spread.cpus {
                    crate::affinity::pin_current_thread(cpus[slot]);
                }
                drop(slots.start_line.read().unwrap_or_else(|p| p.into_inner()));
                let (mut largest, mut span) = (0, Span::default());
                let result = slots.serve(slot, files, &mut largest, &mut span);
                slot_peak.store(largest, Ordering::Relaxed);
                *slot_span.lock().unwrap_or_else(|p| p.into_inner()) = span;
                let _ = notes_tx.send(Note::Ended(result));
            });
        }
        drop(shut);
        drop(notes_tx);
        // Each item's process has its stdin closed from the start.
        let release: &dyn Fn() = &|| {};
        let watched = (&slots.live, &slots.abort, cutoff, release);
        watch(&notes_rx, workers, 0, watched, |_| {}, (None, &mut |_| {}))
    });
    // Every child is reaped: their CPU is among the runner's reaped children.
    let children_cpu = reaped_children_cpu().saturating_sub(children_before);
    let mut stop = Finish::now(&[]);
    reaper::end_leftovers(None);
    let Slots { stderr_lines, budget, .. } = slots;
    let mut stderr = stderr_lines.into_inner().unwrap_or_default();
    stderr.extend(budget.into_inner().unwrap_or_else(|p| p.into_inner()).note());
    if let Some(failure) = failure {
        return Err(Failed { failure, stderr });
    }
    let span = slot_spans.into_iter().map(|span| span.into_inner().unwrap_or_else(|p| p.into_inner()));
    let span = span.fold(Span::default(), Span::and);
    stop.workers = span.workers;
    let timed = match span {
        Span { first: Some((started, own_before)), last: Some((ended, own_after)), .. } => Some(Timed {
            wall_s: ended.saturating_duration_since(started).as_secs_f64(),
            setup_s: None,
            cpu_s: (own_after.saturating_sub(own_before) + children_cpu).as_secs_f64(),
            harness_cpu_s: None,
        }),
        // No item: the runner's own clock.
        _ => None,
    };
    Ok(Execution {
        outputs: Outputs::Text(out),
        // A process per item: no moment when "every worker can take work".
        setup: None,
        ready: None,
        finish: stop,
        stderr,
        children_peak_rss: Some(slot_peaks.iter().map(|peak| peak.load(Ordering::Relaxed)).sum()),
        timed,
        python: None,
    })
}

impl Slots<'_> {
    /// One slot's loop: runs items until none is left or the run is
    /// abandoned; `largest` is its largest process's peak memory, `span`
    /// when its first process started and its last ended.
    fn serve(
        &self,
        slot: usize,
        files: &mut SlotFiles,
        largest: &mut u64,
        span: &mut Span,
    ) -> Result<(), RunFailure> {
        while !self.abort.load(Ordering::Relaxed) {
            let Some((range, out)) = self.chunks.claim() else {
                return Ok(());
            };
            let (result, peak) = self.run_item(slot, range.start, files, span)?;
            *largest = (*largest).max(peak);
            out[0] = result;
        }
        Ok(())
    }

    /// Runs item `index` in one process; its output and the process's peak
    /// memory. `span` gets the instant the process starts (if it is the
    /// slot's first) and the instant it is seen to end.
    fn run_item(
        &self,
        slot: usize,
        index: usize,
        files: &mut SlotFiles,
        span: &mut Span,
    ) -> Result<(String, u64), RunFailure> {
        let failed = |message: String| RunFailure::Failed(message);
        let command = self.command;
        let item = self.items.text(index);
        // The slot's files are empty here (see `SlotFiles::take`); the
        // child writes at the offsets it shares with them.
        let (stdout_for_child, stderr_for_child) =
            files.for_child().map_err(|error| failed(format!("cannot reuse the output files: {error}")))?;
        let mut program = Command::new(&command.program);
        program
            .args(command.args_for(&item))
            .current_dir(self.spread.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::from(stdout_for_child))
            .stderr(Stdio::from(stderr_for_child));
        if span.first.is_none() {
            let own = own_cpu();
            span.first = Some((Instant::now(), own));
        }
        // Not tied to parbench by a parent-death signal: that hook would
        // make std fork instead of using posix_spawn (vfork), and this is
        // the one place a spawn per item is the hot path (the figures are
        // in the commit that chose posix_spawn). The group kills and the
        // reaper of orphans end whatever an item leaves.
        let (mut group, _) = crate::child::spawn(&mut program, Tether::Loose).map_err(|error| {
            failed(format!("cannot start \"{}\": {}", command.program, io_reason(&error)))
        })?;
        let pid = group.pid();
        self.live.set(slot, Some(pid));
        // Waits for the process to end, unreaped, so that whatever it left
        // running can go with its group before it is reaped.
        group.exited_within(Duration::MAX);
        let ended = Instant::now();
        span.last = Some((ended, own_cpu()));
        // The process's counters, read from the kernel while it is a
        // zombie (a few microseconds after its end, before the reap: the
        // slot's next process starts after both).
        span.workers = Sched::both(span.workers, crate::strategy::child_sched_in_run(pid));
        // Out of the watcher's reach before the reap (see `Live`); the
        // group leaves the interrupt handler's as it ends.
        self.live.set(slot, None);
        let ended = group.end(Duration::ZERO);
        let (status, peak) = (
            ended
                .status
                .ok_or_else(|| failed(format!("item {}: its process could not be waited for", index + 1)))?,
            ended.peak_rss,
        );
        let (stdout, stderr) =
            files.take(&self.budget).map_err(|error| failed(format!("item {}: {error}", index + 1)))?;
        if !stderr.trim().is_empty() {
            let mut lines = self.stderr_lines.lock().unwrap_or_else(|p| p.into_inner());
            lines.extend(stderr.lines().map(|line| format!("item {}: {line}", index + 1)));
        }
        if !status.success() {
            return Err(RunFailure::Ended(Ended {
                what: format!("\"{}\"", command.program),
                status,
                when: format!(" on item {} ({item:?})", index + 1),
                said: telling_line(&stderr),
            }));
        }
        let text = String::from_utf8(stdout)
            .map_err(|_| failed(format!("item {}: the output is not UTF-8", index + 1)))?;
        Ok((text.trim_end().to_owned(), peak))
    }
}

/// A slot's stdout and stderr files: each of its processes writes into
/// them, and the slot reads them once the process has ended.
struct SlotFiles {
    stdout: File,
    stderr: File,
}

impl SlotFiles {
    /// Two empty temporary files: on disk, not in memory, since a command
    /// may write gigabytes.
    fn new() -> std::io::Result<SlotFiles> {
        Ok(SlotFiles { stdout: tempfile::tempfile()?, stderr: tempfile::tempfile()? })
    }

    /// The child's stdout and stderr: the same open files, so that it
    /// writes at the offsets they share.
    fn for_child(&self) -> std::io::Result<(File, File)> {
        Ok((self.stdout.try_clone()?, self.stderr.try_clone()?))
    }

    /// What the ended process wrote (stderr as far as `budget` goes), and
    /// a fresh file in place of each one it wrote into: a process it left
    /// behind (one that left its group) may still hold the old one, and
    /// must not write into the next item's output. A file is judged by its
    /// size and its offset (a command may reopen or truncate /dev/stdout);
    /// one left untouched, as most stderr is, is kept.
    fn take(&mut self, budget: &Mutex<StderrBudget>) -> std::io::Result<(Vec<u8>, String)> {
        let mut stdout = Vec::new();
        if written(&mut self.stdout)? {
            self.stdout.rewind()?;
            self.stdout.read_to_end(&mut stdout)?;
            self.stdout = tempfile::tempfile()?;
        }
        let mut stderr = String::new();
        if written(&mut self.stderr)? {
            stderr = budget.lock().unwrap_or_else(|p| p.into_inner()).read(&mut self.stderr);
            self.stderr = tempfile::tempfile()?;
        }
        Ok((stdout, stderr))
    }
}

/// Whether a process wrote into (or moved the offset of) a slot's file.
fn written(file: &mut File) -> std::io::Result<bool> {
    Ok(file.metadata()?.len() > 0 || file.stream_position()? > 0)
}
