//! The `processes` strategy: N child processes fed chunks of items by
//! whichever worker is free, results put back in input order.
//!
//! One room per concern: `start.rs` starts a pool and waits for it to be
//! ready, `drive.rs` moves chunks and results and watches for failures and
//! the cut-off, `codecs.rs` says how items and results are written, and
//! `argv.rs` runs a process per item. Every child is started, waited for,
//! killed and described through [`crate::child`].
//!
//! Three codecs ride on the same pool. Parbench's own workers (`parbench
//! __worker`, see `worker.rs`, forked by a fork server kept for the group's
//! runs: `start::ForkServer`) take their chunks through shared memory, a frame on the
//! pipe saying where (`SharedCodec`), or, where there is none, as binary
//! frames through the pipe (`BinaryCodec`). `protocol = "lines"` commands,
//! each started by its own exec, read and write lines (`LineCodec`).
//! `protocol = "argv"` commands have no pool: each slot thread spawns one
//! process per item.

mod argv;
mod codecs;
mod drive;
mod start;

use std::fs::File;
use std::io::{Read, Seek};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::chunks::{Chunks, MAX_CHUNK};
use super::{Cutoff, Execution, Failed, Finish, Outputs, RunFailure, Spread, numbers};
use crate::child::{Ended, ProcessGroup, describe_exit};
use crate::generator::Items;
use crate::worker;
use crate::workload::{BuiltinSpec, CommandSpec, Params, Protocol};
use codecs::{BinaryCodec, Codec, LineCodec, SharedCodec};
use start::ForkServer;
use start::{await_ready_line, exec_pool, spawn, start_pool};

/// Chunks a worker may have unanswered: one it works on and one waiting in
/// its pipe, so it never waits for the runner between chunks. A third cut
/// the cost of chunk size 1 on fast items by a quarter but left up to two
/// chunks queued behind a busy worker at the end of the list while the
/// other sat idle (a lower speedup on a list of few slow items).
const IN_FLIGHT: usize = 2;

/// Set (to anything), a builtin pool's chunks go through its pipes rather
/// than through shared memory (docs/RESULTS.md).
const NO_SHARED_MEMORY: &str = "PARBENCH_NO_SHARED_MEMORY";

/// The items of a worker's slot in the arena: the largest chunk it can be
/// sent.
fn slot_items(chunk_size: Option<usize>, items: usize) -> usize {
    chunk_size.unwrap_or(MAX_CHUNK).min(items).max(1)
}

/// The bytes of the shared memory a builtin pool of `workers` maps over
/// `items` (each worker's slots hold a chunk's items and results); `None`
/// where its chunks go through pipes instead (no fork server here).
pub fn arena_bytes(workers: usize, chunk_size: Option<usize>, items: usize) -> Option<usize> {
    (workers * IN_FLIGHT)
        .checked_mul(slot_items(chunk_size, items) * 16)
        .filter(|_| worker::FORK_SERVER_CLONES)
}

/// The binary a builtin pool's workers run: /proc/self/exe is this very
/// binary even after `cargo install` has replaced the file it was started
/// from; the path may name a new version by then, or nothing.
fn own_exe() -> Result<std::path::PathBuf, RunFailure> {
    match Path::new("/proc/self/exe") {
        proc if proc.exists() => Ok(proc.to_path_buf()),
        _ => std::env::current_exe()
            .map_err(|error| RunFailure::Failed(format!("cannot find parbench's own executable: {error}"))),
    }
}

/// What a group's processes pools keep from run to run, made before any
/// clock starts: a builtin's fork server, and the runner's threads that
/// write a pool's chunks and read its answers (two a worker). Started in
/// every run, those threads' starts were part of the run's time, and of its
/// CPU, before the first chunk went out.
#[derive(Default)]
pub struct Kept {
    fork_server: Option<ForkServer>,
    io: Option<rayon::ThreadPool>,
    /// The fork server's counters, read as the run was prepared: its forks
    /// for the run are what they grow by (read here, not in the run, so
    /// that the read is not timed).
    server_before: Option<crate::interference::Sched>,
}

impl Kept {
    /// Makes what a run of `workers` workers needs ready: I/O threads, and,
    /// for a builtin (`Some`), a live fork server for it. A failure leaves
    /// it to the run to try again and fail saying why.
    pub fn prepare(&mut self, workers: usize, builtin: Option<(&BuiltinSpec, &Params)>) {
        let _ = self.io_threads(workers);
        if let Some((spec, params)) = builtin
            && worker::FORK_SERVER_CLONES
        {
            self.server_before = self
                .fork_server(&worker::args(spec, params))
                .ok()
                .and_then(|server| crate::strategy::child_sched(server.pid()));
        }
    }

    /// Threads enough for a writer and a reader a worker, started and
    /// waiting.
    fn io_threads(&mut self, workers: usize) -> Result<&rayon::ThreadPool, RunFailure> {
        if self.io.as_ref().is_none_or(|io| io.current_num_threads() < 2 * workers) {
            self.io = None;
            let io = rayon::ThreadPoolBuilder::new()
                .num_threads(2 * workers)
                .thread_name(|index| format!("parbench-io-{index}"))
                .build()
                .map_err(|error| {
                    RunFailure::Failed(format!("cannot start the pool's I/O threads: {error}"))
                })?;
            io.broadcast(|_| ());
            self.io = Some(io);
        }
        Ok(self.io.as_ref().expect("made above"))
    }

    /// A live fork server for `args`, started if there is none.
    fn fork_server(&mut self, args: &[String]) -> Result<&mut ForkServer, RunFailure> {
        if !self.fork_server.as_ref().is_some_and(|server| server.serves(args) && server.alive()) {
            self.fork_server = None;
            self.fork_server = Some(ForkServer::start(&own_exe()?, args)?);
        }
        Ok(self.fork_server.as_mut().expect("made above"))
    }
}

pub fn run_builtin(
    (spec, params): (&BuiltinSpec, &Params),
    items: &Items,
    out: Vec<f64>,
    spread: Spread<'_>,
    cutoff: &Cutoff,
    kept: &mut Kept,
    notice: &mut dyn FnMut(String),
) -> Result<Execution, Failed> {
    let numbers = numbers(items)?;
    let args = worker::args(spec, params);
    // Ready: every worker has started, built its kernel and said so.
    let ready = |_: usize, worker: &mut Worker| {
        worker::read_ready(worker.stdout.as_mut().expect("stdout is piped until the pool is driven"))
            .map_err(|error| RunFailure::Failed(error.to_string()))
    };
    // What could not be prepared is made here, where its failure fails the
    // run. (Whether the prepared server is still alive is asked in
    // `prepare`, before the clock; one that died since fails the run.)
    kept.io_threads(spread.workers)?;
    if worker::FORK_SERVER_CLONES && !kept.fork_server.as_ref().is_some_and(|server| server.serves(&args)) {
        kept.fork_server(&args)?;
        kept.server_before = None;
    }
    let Kept { fork_server, io, server_before } = kept;
    let io = io.as_ref().expect("made above");
    let server = fork_server.as_mut().filter(|_| worker::FORK_SERVER_CLONES);
    let spare = server.as_ref().map(|server| server.pid());
    let server_before = server_before
        .take()
        .or_else(|| server.as_ref().and_then(|server| crate::strategy::child_sched(server.pid())));
    // The largest chunk a worker can be sent, for its slots in the arena.
    let slot = slot_items(spread.chunk_size, numbers.len());
    let started = Instant::now();
    // Where shared memory cannot be had (or is declined), or where there is
    // no fork server to hand it to the workers, the chunks go through the
    // pipes.
    let arena = arena_bytes(spread.workers, spread.chunk_size, numbers.len())
        .filter(|_| std::env::var_os(NO_SHARED_MEMORY).is_none())
        .and_then(|bytes| worker::Arena::create(bytes).ok());
    let start = |pool: &mut Vec<Worker>| match server {
        Some(server) => {
            server.fork_pool(spread.workers, spread.cpus, arena.as_ref().map(worker::Arena::fd), pool)
        }
        None => exec_pool(&own_exe()?, &args, spread.workers, spread.cpus, pool),
    };
    let mut pool = start_pool(start, ready)?;
    let setup = started.elapsed();
    let mut execution = match &arena {
        Some(arena) => {
            let codec = SharedCodec { items: numbers, arena, slot };
            serve_pool(&codec, &mut pool, out, (&spread, setup), cutoff, (io, spare), notice)
        }
        None => serve_pool(
            &BinaryCodec { items: numbers },
            &mut pool,
            out,
            (&spread, setup),
            cutoff,
            (io, spare),
            notice,
        ),
    }?;
    // The server's forks were part of the pool's start: its CPU counts in
    // the run's, and it is one of parbench's tasks beside the workers
    // (unless the start is not timed).
    if let Some(before) = server_before.filter(|_| !spread.untimed_start())
        && let Some(after) = spare.and_then(crate::strategy::child_sched)
    {
        let forks = after.since(before);
        execution.finish.cpu += forks.cpu;
        execution.finish.helpers = crate::interference::Sched::both(execution.finish.helpers, Some(forks));
    }
    Ok(execution)
}

/// The part every pool shares once its workers are ready: hands `out`'s
/// chunks to the workers as they free up and gathers the run's execution.
fn serve_pool<C: Codec>(
    codec: &C,
    pool: &mut [Worker],
    mut out: Vec<C::Out>,
    (spread, setup): (&Spread<'_>, Duration),
    cutoff: &Cutoff,
    kept: (&rayon::ThreadPool, Option<u32>),
    notice: &mut dyn FnMut(String),
) -> Result<Execution, Failed>
where
    Outputs: From<Vec<C::Out>>,
{
    let chunks = match spread.chunk_size {
        Some(size) => Chunks::new(&mut out, size),
        None => Chunks::guided(&mut out, spread.workers),
    };
    // Under an untimed start, the clock starts here: every worker ready.
    let pids: Vec<u32> =
        pool.iter().filter_map(|worker| worker.group.as_ref().map(ProcessGroup::pid)).collect();
    let ready = spread.untimed_start().then(|| Finish::now(&pids));
    let ended = drive::drive(codec, pool, chunks, cutoff, kept, notice)?;
    Ok(Execution {
        outputs: Outputs::from(out),
        setup: Some(setup),
        ready,
        finish: ended.stop,
        stderr: ended.stderr,
        children_peak_rss: Some(ended.peak_rss),
        timed: None,
        python: None,
    })
}

pub fn run_command(
    command: &CommandSpec,
    items: &Items,
    spread: Spread<'_>,
    cutoff: &Cutoff,
    kept: &mut Kept,
    notice: &mut dyn FnMut(String),
) -> Result<Execution, Failed> {
    let Spread { workers, cwd, cpus, .. } = spread;
    match command.protocol {
        Protocol::Argv => argv::run(command, items, spread, cutoff),
        Protocol::Lines => {
            let program = || {
                let mut program = Command::new(&command.program);
                program.args(command.args_for("")).current_dir(cwd);
                program
            };
            let started = Instant::now();
            // A started worker is ready (the spawn returns once the program
            // runs; a failed exec is reported by the spawn itself) once it
            // has printed its ready line, where the command declares one.
            let ready = |index: usize, worker: &mut Worker| match &command.ready {
                None => Ok(()),
                Some(line) => await_ready_line(worker, index, line, cutoff),
            };
            let start = |pool: &mut Vec<Worker>| {
                for index in 0..workers {
                    let worker = spawn(program(), &command.program)?;
                    // Pinned as it starts; threads it starts later inherit it.
                    if let Some(cpus) = cpus {
                        crate::affinity::pin_process(worker.pid(), cpus[index]);
                    }
                    pool.push(worker);
                }
                Ok(())
            };
            let io = kept.io_threads(workers)?;
            let mut pool = start_pool(start, ready)?;
            let setup = started.elapsed();
            let out = vec![String::new(); items.len()];
            serve_pool(&LineCodec { items }, &mut pool, out, (&spread, setup), cutoff, (io, None), notice)
        }
    }
}

/// One child process of a pool, or, in tests of the driver, a worker in
/// this process behind a pair of pipes (no group).
struct Worker {
    /// Killed and reaped when the worker is ended or dropped.
    group: Option<ProcessGroup>,
    /// Taken by the driver, which hands them to its threads.
    stdin: Option<File>,
    stdout: Option<File>,
    /// Standard error goes to an unnamed temporary file, read after the run:
    /// no thread, and no pipe that could fill up.
    stderr: File,
}

impl Worker {
    fn new(group: ProcessGroup, stdin: File, stdout: File, stderr: File) -> Worker {
        Worker { group: Some(group), stdin: Some(stdin), stdout: Some(stdout), stderr }
    }

    /// Its pid, for messages (0 for a worker in this process).
    fn pid(&self) -> u32 {
        self.group.as_ref().map_or(0, ProcessGroup::pid)
    }

    /// Gives the worker up to `patience` to end by itself, then kills its
    /// group and reaps it (see [`ProcessGroup::end`]); `None` for a worker
    /// in this process.
    fn end(&mut self, patience: Duration) -> Option<Ended> {
        self.group.as_mut().map(|group| group.end(patience))
    }

    /// ", exited with status 3: first stderr line" for a worker that failed
    /// to start: it is killed, given `patience` to have ended by itself
    /// first.
    fn describe_end(&mut self, patience: Duration) -> String {
        let mut text = match self.end(patience).and_then(|ended| ended.own_status()) {
            Some(status) => format!(", {}", describe_exit(status)),
            None => String::new(),
        };
        if let Some(line) = telling_line(&read_all(&mut self.stderr)) {
            text.push_str(&format!(": {line}"));
        }
        text
    }
}

fn read_all(file: &mut File) -> String {
    let mut text = Vec::new();
    if file.rewind().is_ok() {
        let _ = file.read_to_end(&mut text);
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// The line of a program's stderr that names what went wrong: the last
/// non-empty one (Python's exception after its traceback, a shell's last
/// complaint), cut at 300 bytes.
fn telling_line(text: &str) -> Option<String> {
    text.lines().map(str::trim).rfind(|line| !line.is_empty()).map(|line| {
        let mut line = line.to_owned();
        if line.len() > 300 {
            let cut = (0..=300).rev().find(|i| line.is_char_boundary(*i)).unwrap_or(0);
            line.truncate(cut);
            line.push('…');
        }
        line
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_telling_line_is_the_last_non_empty_one_truncated() {
        assert_eq!(
            telling_line("Traceback (most recent call last):\n  File \"x\"\nValueError: boom\n  \n"),
            Some("ValueError: boom".to_owned())
        );
        assert_eq!(telling_line(""), None);
        assert_eq!(telling_line(&"é".repeat(400)).unwrap().chars().count(), 151);
    }
}
