//! The pool driver: moves chunks to a pool's workers and results back, and
//! the one watch-and-kill loop that pools and `argv` slots share.
//!
//! Each worker has a writer thread and a reader thread in the runner. The
//! writer claims the next chunk (see `Chunks`) only when it holds a
//! credit (at most [`IN_FLIGHT`] chunks per worker are unanswered), so a free
//! worker always gets the next chunk; a chunk to queue behind a busy
//! worker's is claimed only while every idle worker still has one left, so
//! a busy one never hoards (two chunks on two workers go one to each). The writer
//! and reader never wait on each other's pipe, so no list size and no result
//! size can deadlock: the child can always write because the reader is
//! always reading.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::codecs::{Codec, Lane};
use super::{IN_FLIGHT, Worker, telling_line};
use crate::child::{ProcessGroup, describe_exit};
use crate::strategy::chunks::Chunks;
use crate::strategy::reaper::{self, StderrBudget};
use crate::strategy::{Cutoff, Failed, Finish, RunFailure};

/// The process group each slot (a pool worker, or an argv slot's current
/// child) runs now, so that the watcher can kill what is running.
///
/// A slot holds a pid only while that process is unreaped: its owner clears
/// the slot before it reaps the process, and [`Live::kill`] signals under
/// the slot's lock, so no signal can reach a group whose leader was reaped
/// (see [`crate::child`]).
pub(super) struct Live {
    slots: Vec<Mutex<Option<u32>>>,
    /// Whether an abandoned run also kills every descendant of parbench:
    /// always, but for a pool of in-process workers in a test, which has
    /// none of its own and must not end other tests' processes.
    descendants: bool,
    /// The group's fork server, which is not the run's and is spared.
    spare: Option<u32>,
}

impl Live {
    pub(super) fn new(slots: usize, descendants: bool, spare: Option<u32>) -> Self {
        Live { slots: (0..slots).map(|_| Mutex::new(None)).collect(), descendants, spare }
    }

    pub(super) fn set(&self, slot: usize, pid: Option<u32>) {
        *self.slots[slot].lock().unwrap_or_else(|poison| poison.into_inner()) = pid;
    }

    /// Kills the group of every slot.
    fn kill(&self) {
        for pid in &self.slots {
            if let Some(pid) = *pid.lock().unwrap_or_else(|poison| poison.into_inner()) {
                crate::child::kill_unreaped_group(pid, nix::sys::signal::Signal::SIGKILL);
            }
        }
        if self.descendants {
            reaper::kill_descendants(self.spare);
        }
    }
}

/// What a slot's thread tells the watcher.
pub(super) enum Note {
    /// A pool worker's reader holds every result of that worker, the last
    /// taken at this instant (`None`: the worker got no chunk).
    AllIn(Option<Instant>),
    /// A thread of a slot ended, and why it failed.
    Ended(Result<(), RunFailure>),
}

/// The one watch-and-kill loop, on the runner's own thread, for pools and
/// argv slots alike: it waits for `threads` threads of the slots to end, and
/// stops the run at the first failure or when the cut-off comes. When
/// `holders` readers have said [`Note::AllIn`] and nothing failed, it calls
/// `all_in` with the instant of the last result, before the workers end.
///
/// With `tallies` (a `lines` pool's lines sent and answered, per worker),
/// it tells `notice` when no worker has answered for [`QUIET`], and the
/// timeout's error names the workers still owing answers: the usual cause
/// is a program that does not flush its output after each line.
pub(super) fn watch(
    notes: &mpsc::Receiver<Note>,
    threads: usize,
    holders: usize,
    (live, abort, cutoff, release): (&Live, &AtomicBool, &Cutoff, &dyn Fn()),
    mut all_in: impl FnMut(Option<Instant>),
    (tallies, notice): (Option<&[LineTally]>, &mut dyn FnMut(String)),
) -> Option<RunFailure> {
    let mut failure = None;
    let mut running = threads;
    let (mut holding, mut last) = (0, None);
    let answered = || tallies.map(|tallies| tallies.iter().map(LineTally::answered).collect::<Vec<_>>());
    let mut last_answered = answered();
    let mut quiet_since = Instant::now();
    let mut told = false;
    while running > 0 {
        match notes.recv_timeout(cutoff.slice()) {
            Ok(Note::AllIn(at)) => {
                holding += 1;
                last = last.max(at);
                if holding == holders && failure.is_none() {
                    all_in(last);
                }
            }
            Ok(Note::Ended(Ok(()))) => running -= 1,
            Ok(Note::Ended(Err(ended))) => {
                running -= 1;
                failure.get_or_insert(ended);
                abort.store(true, Ordering::Relaxed);
                // The failed slot's processes go too: a worker that failed
                // but lives on, not reading, would hold its writer thread,
                // and the run, until it chose to exit.
                stop(notes, &mut running, live, release);
            }
            Err(RecvTimeoutError::Timeout) if !cutoff.passed() => {
                let now = answered();
                if now != last_answered {
                    (last_answered, quiet_since, told) = (now, Instant::now(), false);
                } else if !told
                    && quiet_since.elapsed() >= QUIET
                    && let Some(owing) = tallies.and_then(owing)
                {
                    told = true;
                    notice(format!("{owing} for {} s", QUIET.as_secs()));
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                failure.get_or_insert_with(|| match cutoff.failure() {
                    RunFailure::Timeout(limit, _) => RunFailure::Timeout(limit, tallies.and_then(owing)),
                    other => other,
                });
                abort.store(true, Ordering::Relaxed);
                stop(notes, &mut running, live, release);
            }
            Err(RecvTimeoutError::Disconnected) => running = 0,
        }
    }
    failure
}

/// How long a `lines` pool may go without an answer before the user is told.
const QUIET: Duration = Duration::from_secs(3);

/// Lines sent to one worker of a `lines` pool, and lines it answered.
#[derive(Default)]
pub(super) struct LineTally {
    sent: std::sync::atomic::AtomicUsize,
    answered: std::sync::atomic::AtomicUsize,
}

impl LineTally {
    fn answered(&self) -> usize {
        self.answered.load(Ordering::Relaxed)
    }
}

/// `worker 1 has answered 0 of 2 lines; does it flush …?`, for the workers
/// that owe answers, if any.
fn owing(tallies: &[LineTally]) -> Option<String> {
    let owing: Vec<String> = tallies
        .iter()
        .enumerate()
        .filter_map(|(index, tally)| {
            let (sent, answered) = (tally.sent.load(Ordering::Relaxed), tally.answered());
            (answered < sent).then(|| format!("worker {} has answered {answered} of {sent} lines", index + 1))
        })
        .collect();
    (!owing.is_empty()).then(|| {
        format!(
            "{}; does it flush its output after each line (Python: print(..., flush=True))?",
            owing.join(", ")
        )
    })
}

/// Ends an abandoned run: closes the input of the workers whose writers
/// have handed it back (`release`: a worker that did nothing wrong then
/// ends by itself, and its reader with it), kills every slot's process
/// group and every descendant of parbench, again and again until every
/// thread has ended.
/// An argv slot may be between spawn and registering its pid; a child that
/// left its group (`setsid`) may hold a pipe open, and is found only as a
/// descendant (an orphaned one comes back to parbench, its subreaper).
fn stop(notes: &mpsc::Receiver<Note>, running: &mut usize, live: &Live, release: &dyn Fn()) {
    while *running > 0 {
        release();
        live.kill();
        match notes.recv_timeout(Duration::from_millis(20)) {
            Ok(Note::Ended(_)) => *running -= 1,
            Ok(Note::AllIn(_)) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => *running = 0,
        }
    }
}

/// How a pool's run ended.
pub(super) struct PoolEnd {
    /// The end of the timed region: the last result in hand.
    pub(super) stop: Finish,
    /// Whatever the workers wrote to stderr.
    pub(super) stderr: Vec<String>,
    /// The sum of the workers' peak resident memory, in bytes.
    pub(super) peak_rss: u64,
}

/// What the threads of a pool's run share, owned by [`drive`], which
/// outlives them: no channel is kept here, so that each channel's ends are
/// dropped where the thread or the scope that holds them ends.
struct Counters {
    /// Lines sent and answered, per worker.
    tallies: Vec<LineTally>,
    /// Set when the run is abandoned: the writers stop claiming chunks.
    abort: AtomicBool,
    /// Workers with no chunk unanswered.
    idle: AtomicUsize,
    /// Each worker's unanswered chunks.
    busy: Vec<AtomicUsize>,
}

impl Counters {
    fn new(workers: usize) -> Counters {
        Counters {
            tallies: (0..workers).map(|_| LineTally::default()).collect(),
            abort: AtomicBool::new(false),
            idle: AtomicUsize::new(workers),
            busy: (0..workers).map(|_| AtomicUsize::new(0)).collect(),
        }
    }
}

/// One worker's seat in the run: its index and what its two threads share
/// with the others.
struct Seat<'run, 'out, O> {
    index: usize,
    counters: &'run Counters,
    chunks: &'run Chunks<'out, O>,
}

// Not derived: a derive would ask `O: Copy`, and a seat holds only references.
impl<O> Clone for Seat<'_, '_, O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<O> Copy for Seat<'_, '_, O> {}

/// A chunk handed to a worker: where it goes in the output, and when it
/// was sent.
type Order<'out, O> = (Lane, &'out mut [O], Instant);

/// Moves items to workers and results back.
///
/// The clock stops when every reader holds its worker's last result, while
/// every worker still waits for input: only then are the workers' stdins
/// closed, so that their end of output, exit and reaping all come after
/// the timed region, as a thread pool's teardown does, and their CPU time is
/// read at that moment.
///
/// Then each worker's group is killed (whatever a command left behind in
/// it) before the worker is reaped, never after (see [`crate::child`]).
pub(super) fn drive<C: Codec>(
    codec: &C,
    pool: &mut [Worker],
    chunks: Chunks<'_, C::Out>,
    cutoff: &Cutoff,
    (io, spare): (&rayon::ThreadPool, Option<u32>),
    notice: &mut dyn FnMut(String),
) -> Result<PoolEnd, Failed> {
    assert!(io.current_num_threads() >= 2 * pool.len(), "a writer and a reader for every worker");
    let counters = Counters::new(pool.len());
    let pids: Vec<u32> =
        pool.iter().filter_map(|worker| worker.group.as_ref().map(ProcessGroup::pid)).collect();
    let processes = !pids.is_empty();
    let live = Live::new(pool.len(), processes, spare);
    let (notes_tx, notes_rx) = mpsc::channel::<Note>();
    // Each writer hands its worker's stdin back here once it has sent every
    // chunk it will send; the pipes close after the clock stops.
    let (stdin_tx, stdin_rx) = mpsc::channel::<BufWriter<File>>();
    let mut stop = None;

    let failure = io.in_place_scope(|scope| {
        for (index, worker) in pool.iter_mut().enumerate() {
            live.set(index, worker.group.as_ref().map(ProcessGroup::pid));
            let pid = worker.pid();
            let stdin = worker.stdin.take().expect("stdin is piped");
            let stdout = worker.stdout.take().expect("stdout is piped");
            let (credit_tx, credit_rx) = mpsc::sync_channel::<()>(IN_FLIGHT);
            for _ in 0..IN_FLIGHT {
                credit_tx.send(()).expect("the channel has room");
            }
            // Each chunk sent, its output, and when: the reader fills the
            // output from the answer and times it.
            let (order_tx, order_rx) = mpsc::channel::<Order<'_, C::Out>>();
            let seat = Seat { index, counters: &counters, chunks: &chunks };
            // Every sender is moved into its thread, and dropped as it ends.
            let (stdin_tx, writer_notes, reader_notes) =
                (stdin_tx.clone(), notes_tx.clone(), notes_tx.clone());
            scope.spawn(move |_| {
                write_chunks(codec, seat, stdin, (credit_rx, order_tx), (stdin_tx, writer_notes))
            });
            scope.spawn(move |_| {
                read_answers(codec, seat, (pid, stdout), (order_rx, credit_tx), reader_notes)
            });
        }
        // The watcher sees every thread's end: no sender is left here.
        drop((notes_tx, stdin_tx));
        // Two threads a worker, its writer and its reader; one reader holds
        // each worker's results.
        let release = || stdin_rx.try_iter().for_each(drop);
        let all_in = |last: Option<Instant>| {
            let now = Finish::now(&pids);
            stop = Some(Finish { at: last.unwrap_or(now.at), ..now });
            stdin_rx.try_iter().for_each(drop);
        };
        let tallies = C::LINES.then_some(&counters.tallies[..]);
        let watched = (&live, &counters.abort, cutoff, &release as &dyn Fn());
        watch(&notes_rx, 2 * pool.len(), pool.len(), watched, all_in, (tallies, notice))
    });
    drop(stdin_rx);
    let mut failure = failure;

    // The clock has stopped: no more kills from the watcher.
    drop(live);
    let (stderr, peak_rss) = end_workers(pool, &mut failure);
    // A command may leave processes behind; parbench's own workers start
    // none (and a sweep of /proc after every run costs the job time).
    if processes && C::LINES {
        reaper::end_leftovers(spare);
    }
    match (failure, stop) {
        (Some(failure), _) => Err(Failed { failure, stderr }),
        (None, Some(stop)) => Ok(PoolEnd { stop, stderr, peak_rss }),
        (None, None) => Err(Failed {
            failure: RunFailure::Failed("the pool ended without all of its results".to_owned()),
            stderr,
        }),
    }
}

/// A worker's writer thread: claims chunks while it holds a credit (one a
/// chunk unanswered, [`IN_FLIGHT`] at most), sends each to the worker and
/// its order to the reader, and, when there is nothing more to send, hands
/// the worker's stdin back through `stdin_back` (closed after the clock
/// stops) and says it has ended.
fn write_chunks<'out, C: Codec>(
    codec: &C,
    Seat { index, counters, chunks }: Seat<'_, 'out, C::Out>,
    stdin: File,
    (credits_in, orders): (mpsc::Receiver<()>, mpsc::Sender<Order<'out, C::Out>>),
    (stdin_back, notes): (mpsc::Sender<BufWriter<File>>, mpsc::Sender<Note>),
) {
    let (busy, tally) = (&counters.busy[index], &counters.tallies[index]);
    let mut writer = BufWriter::with_capacity(1 << 16, stdin);
    let mut frame = Vec::new();
    let mut lane = Lane { worker: index, chunk: 0 };
    let mut credits = 0;
    while !counters.abort.load(Ordering::Relaxed) {
        credits += credits_in.try_iter().count();
        // A chunk this worker would queue behind the one it works on is
        // claimed only while the idle workers still have one each (see
        // `Chunks::claim_ahead`).
        let claimed = match (credits, busy.load(Ordering::SeqCst)) {
            (0, _) => None,
            (_, 0) => Some(chunks.claim()),
            _ => chunks.claim_ahead(counters.idle.load(Ordering::SeqCst)).map(Some),
        };
        let (range, out) = match claimed {
            Some(Some(chunk)) => chunk,
            Some(None) => break,
            None => {
                // About to wait for an answer: whatever is buffered must
                // reach the worker first, or it waits for us.
                if writer.flush().is_err() || credits_in.recv().is_err() {
                    break;
                }
                credits += 1;
                continue;
            }
        };
        if busy.fetch_add(1, Ordering::SeqCst) == 0 {
            counters.idle.fetch_sub(1, Ordering::SeqCst);
        }
        credits -= 1;
        frame.clear();
        let lines = range.len();
        codec.encode(lane, range, &mut frame);
        if orders.send((lane, out, Instant::now())).is_err() || writer.write_all(&frame).is_err() {
            break;
        }
        lane.chunk += 1;
        tally.sent.fetch_add(lines, Ordering::Relaxed);
    }
    // Closing stdin tells the worker there is no more work: not yet, while
    // the clock runs (see `drive`).
    if writer.flush().is_ok() {
        let _ = stdin_back.send(writer);
    }
    // The reader learns there is no more to read for.
    drop(orders);
    let _ = notes.send(Note::Ended(Ok(())));
}

/// A worker's reader thread: decodes the answer to each order into its
/// output, gives the writer a credit back for each, says when it holds
/// every answer ([`Note::AllIn`]), and then how the worker's output ended.
fn read_answers<'out, C: Codec>(
    codec: &C,
    Seat { index, counters, chunks }: Seat<'_, 'out, C::Out>,
    (pid, stdout): (u32, File),
    (orders, credits_out): (mpsc::Receiver<Order<'out, C::Out>>, mpsc::SyncSender<()>),
    notes: mpsc::Sender<Note>,
) {
    let (busy, tally) = (&counters.busy[index], &counters.tallies[index]);
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut done = 0usize;
    let mut answered = None;
    let result = loop {
        let Ok((lane, slot, sent)) = orders.recv() else {
            let _ = notes.send(Note::AllIn(answered));
            break codec.finish(&mut reader, done);
        };
        if let Err(error) = codec.decode(lane, &mut reader, slot, done) {
            break Err(error);
        }
        done += slot.len();
        let now = Instant::now();
        chunks.observe(slot.len(), now - sent);
        answered = Some(now);
        tally.answered.store(done, Ordering::Relaxed);
        if busy.fetch_sub(1, Ordering::SeqCst) == 1 {
            counters.idle.fetch_add(1, Ordering::SeqCst);
        }
        let _ = credits_out.send(());
    };
    let result =
        result.map_err(|error| RunFailure::Failed(format!("worker {} (pid {pid}) {error}", index + 1)));
    let _ = notes.send(Note::Ended(result));
}

/// Ends every worker once the clock has stopped: each worker's group is
/// killed (grandchildren a command left behind: reaping the leader does not
/// end its group), and only then is it reaped, with its peak memory. A
/// worker's exit status and first stderr line complete the failure that
/// names it, or, after every answer came in, make one. What the workers
/// wrote to stderr, and the sum of their peaks.
fn end_workers(pool: &mut [Worker], failure: &mut Option<RunFailure>) -> (Vec<String>, u64) {
    let mut stderr = Vec::new();
    let mut budget = StderrBudget::new();
    let mut peak_rss = 0;
    for (index, worker) in pool.iter_mut().enumerate() {
        let ended = worker.end(Duration::from_secs(5));
        let status = ended.and_then(|ended| ended.own_status());
        peak_rss += ended.map_or(0, |ended| ended.peak_rss);
        let text = budget.read(&mut worker.stderr);
        let first = telling_line(&text).map(|line| format!(": {line}")).unwrap_or_default();
        match failure {
            Some(RunFailure::Failed(message)) if message.starts_with(&format!("worker {} ", index + 1)) => {
                if let Some(status) = status {
                    message.push_str(&format!(" ({})", describe_exit(status)));
                }
                message.push_str(&first);
            }
            // Every answer in, and then a crash or an exit status other
            // than 0: the worker says its work went wrong.
            None if let Some(status) = status.filter(|status| !status.success()) => {
                *failure = Some(RunFailure::Ended(crate::strategy::Ended {
                    what: format!("worker {} (pid {})", index + 1, worker.pid()),
                    status,
                    when: " after its last answer".to_owned(),
                    said: telling_line(&text),
                }));
            }
            _ => {}
        }
        stderr.extend(text.lines().map(|line| format!("worker {}: {line}", index + 1)));
    }
    stderr.extend(budget.note());
    (stderr, peak_rss)
}

/// The driver against workers in this process: each a thread behind a pair
/// of pipes, as hyperfine tests its scheduler with a mock executor. No
/// process is started, killed or reaped.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::processes::codecs::BinaryCodec;
    use crate::worker::encode_frame;
    use std::io::Read;
    use std::os::fd::OwnedFd;

    /// What an in-process worker does with each chunk it reads.
    #[derive(Clone, Copy)]
    enum Behaviour {
        /// Answers every chunk with its items doubled.
        Doubles,
        /// Answers its first `n` chunks, then reads one more and ends
        /// without an answer, as a crashed process would.
        DiesAfter(usize),
        /// Answers its first chunk with one result too many.
        AnswersWrong,
    }

    /// Reads one frame of numbers; `None` at the end of input.
    fn read_items(reader: &mut impl Read) -> Option<Vec<f64>> {
        let mut count = [0u8; 4];
        reader.read_exact(&mut count).ok()?;
        let mut items = vec![0.0f64; u32::from_le_bytes(count) as usize];
        reader.read_exact(bytemuck::cast_slice_mut(&mut items)).ok()?;
        Some(items)
    }

    /// Workers that have read a chunk, shared by the workers of one pool
    /// that each wait for all of them to have one before they answer.
    type Gate = std::sync::Arc<(Mutex<usize>, std::sync::Condvar)>;

    fn pipe_worker(behaviour: Behaviour) -> Worker {
        gated_worker(behaviour, None)
    }

    /// A worker that, given a gate for `n` workers, answers its first chunk
    /// only once `n` workers have read one: a pool that gave one worker two
    /// chunks and another none would never get past it.
    fn gated_worker(behaviour: Behaviour, gate: Option<(Gate, usize)>) -> Worker {
        let (mut their_stdin, stdin) = std::io::pipe().unwrap();
        let (stdout, mut their_stdout) = std::io::pipe().unwrap();
        std::thread::spawn(move || {
            let mut answered = 0;
            while let Some(items) = read_items(&mut their_stdin) {
                if let Some((gate, workers)) = &gate
                    && answered == 0
                {
                    let (count, changed) = &**gate;
                    let mut count = count.lock().unwrap();
                    *count += 1;
                    changed.notify_all();
                    // Not a clock: a deadlock guard, so that a hoarding pool
                    // fails the test instead of hanging it.
                    let (count, _) = changed
                        .wait_timeout_while(count, Duration::from_secs(20), |count| *count < *workers)
                        .unwrap();
                    if *count < *workers {
                        return;
                    }
                }
                let mut results: Vec<f64> = items.iter().map(|item| item * 2.0).collect();
                match behaviour {
                    Behaviour::DiesAfter(chunks) if answered == chunks => return,
                    Behaviour::AnswersWrong => results.push(0.0),
                    _ => {}
                }
                let mut frame = Vec::new();
                encode_frame(&results, &mut frame);
                if their_stdout.write_all(&frame).is_err() {
                    return;
                }
                answered += 1;
            }
        });
        Worker {
            group: None,
            stdin: Some(File::from(OwnedFd::from(stdin))),
            stdout: Some(File::from(OwnedFd::from(stdout))),
            stderr: tempfile::tempfile().unwrap(),
        }
    }

    fn io_threads(workers: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new().num_threads(2 * workers).build().unwrap()
    }

    /// Drives `items` through a pool of workers behaving as given, in
    /// chunks of `size`.
    fn run(behaviours: &[Behaviour], items: &[f64], size: usize) -> (Vec<f64>, Result<PoolEnd, Failed>) {
        let mut pool: Vec<Worker> = behaviours.iter().map(|behaviour| pipe_worker(*behaviour)).collect();
        let mut out = vec![f64::NAN; items.len()];
        let chunks = Chunks::new(&mut out, size);
        let io = io_threads(pool.len());
        let ended =
            drive(&BinaryCodec { items }, &mut pool, chunks, &Cutoff::new(None), (&io, None), &mut |_| {});
        (out, ended)
    }

    fn message(ended: Result<PoolEnd, Failed>) -> String {
        match ended {
            Ok(_) => panic!("the run should have failed"),
            Err(Failed { failure: RunFailure::Failed(message), .. }) => message,
            Err(Failed { failure, .. }) => panic!("failed otherwise: {failure}"),
        }
    }

    #[test]
    fn every_answer_lands_in_input_order_whichever_worker_gave_it() {
        let items: Vec<f64> = (0..1000).map(f64::from).collect();
        for workers in [1, 2, 3] {
            for size in [1, 7, 1000] {
                let (out, ended) = run(&vec![Behaviour::Doubles; workers], &items, size);
                let ended = ended.unwrap_or_else(|failed| panic!("{}", failed.failure));
                assert!(out.iter().zip(&items).all(|(got, item)| *got == item * 2.0), "{workers} x {size}");
                assert!(ended.stderr.is_empty());
                assert_eq!(ended.peak_rss, 0);
            }
        }
    }

    #[test]
    fn one_chunk_a_worker_goes_to_every_worker_at_once() {
        for workers in [2, 3, 4, 8] {
            for round in 0..20 {
                let gate: Gate = Default::default();
                let mut pool: Vec<Worker> = (0..workers)
                    .map(|_| gated_worker(Behaviour::Doubles, Some((gate.clone(), workers))))
                    .collect();
                let items: Vec<f64> = (0..workers * 10).map(|item| item as f64).collect();
                let mut out = vec![f64::NAN; items.len()];
                let chunks = Chunks::new(&mut out, 10);
                let ended = drive(
                    &BinaryCodec { items: &items },
                    &mut pool,
                    chunks,
                    &Cutoff::new(None),
                    (&io_threads(workers), None),
                    &mut |_| {},
                );
                assert!(
                    ended.is_ok(),
                    "{workers} chunks on {workers} workers, round {round}: a worker was given two chunks"
                );
                assert!(out.iter().zip(&items).all(|(got, item)| *got == item * 2.0));
            }
        }
    }

    #[test]
    fn a_worker_that_dies_mid_chunk_fails_the_run_saying_how_far_it_got() {
        let items: Vec<f64> = (0..100).map(f64::from).collect();
        let (_, ended) = run(&[Behaviour::DiesAfter(2)], &items, 10);
        assert_eq!(message(ended), "worker 1 (pid 0) stopped answering after 20 items");
    }

    #[test]
    fn a_dying_worker_fails_the_run_though_another_one_is_healthy() {
        let items: Vec<f64> = (0..400).map(f64::from).collect();
        let (_, ended) = run(&[Behaviour::Doubles, Behaviour::DiesAfter(0)], &items, 10);
        assert_eq!(message(ended), "worker 2 (pid 0) stopped answering after 0 items");
    }

    #[test]
    fn a_worker_that_answers_wrongly_fails_the_run_with_what_it_said() {
        let items: Vec<f64> = (0..30).map(f64::from).collect();
        let (_, ended) = run(&[Behaviour::AnswersWrong], &items, 10);
        assert_eq!(
            message(ended),
            "worker 1 (pid 0) failed after 0 items: sent 11 results for a chunk of 10"
        );
    }
}
