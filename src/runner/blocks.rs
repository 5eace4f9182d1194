//! A group's runs in blocks of fresh processes, so that the level each
//! process has of its own (its address-space layout, Python's hash seeds,
//! where the allocator put the list, which caches it warmed) is sampled,
//! not fixed for the whole invocation.
//!
//! At the start of each block after the group's first, the Python harness
//! and a pool's fork server are ended (the next run starts new ones before
//! its clock, as the first run always did) and the list and the output
//! buffer are made anew. A run's row says its block (`process`), and
//! intervals and speedups are computed over the blocks' medians
//! (docs/RESULTS.md, "Processes").
//!
//! With fixed repetitions, an entry's runs are spread over at most
//! [`Blocks::MOST_FIXED`] blocks of equal length. With `"auto"`, a block
//! lasts a tenth of the group's `min_span` (so that the span holds ten),
//! and at least [`Blocks::COST_SHARE`] times what renewing its processes
//! was seen to cost: a Python harness's end and start make blocks of a
//! few tenths of a second to a second, a fork server's of a tenth.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::matrix::Entry;
use crate::vocab::{Order, Repetitions};

/// Where a group's runs stand in their blocks of processes.
#[derive(Debug)]
pub(super) struct Blocks {
    /// Rounds a block holds, with fixed repetitions.
    fixed_len: Option<u32>,
    /// With `"auto"`: the least time a block lasts, before what starting
    /// its processes costs is known.
    least: Duration,
    /// Blocks of an earlier invocation whose runs were kept: this
    /// invocation's blocks are numbered after them.
    kept: u32,
    /// Whether each entry has a line of blocks of its own: in grouped
    /// order, an entry runs all its rounds before the next one starts.
    grouped: bool,
    /// With `"auto"`, per line of blocks (the group's, or in grouped order
    /// each entry's): the first round of each block so far, and when the
    /// newest one started.
    starts: BTreeMap<usize, (Vec<u32>, Instant)>,
    /// The block whose processes are live.
    current: Option<u32>,
    /// Whether processes have been renewed since the group's first runs.
    renewals: u32,
    /// The most the first run in fresh processes took beyond its own time,
    /// with what ending the old ones took.
    start_cost: Duration,
    /// Whether the next run is the first in fresh processes, and what
    /// ending the old ones took.
    fresh: bool,
    ended_in: Duration,
    /// Entries that have run (a warm-up or a measured run) in the live
    /// processes.
    warm: BTreeSet<usize>,
    /// Each entry's latest run's wall seconds.
    last_wall: BTreeMap<usize, f64>,
}

/// Where a measured run of an entry in a round goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Placement {
    /// The run's block (its row's `process`).
    pub block: u32,
    /// Whether it is the first run of a new block, so that processes must
    /// be started anew before it.
    pub new_processes: bool,
}

impl Blocks {
    /// The most blocks of a fixed number of repetitions.
    pub const MOST_FIXED: u32 = 10;
    /// Blocks `"auto"` fits into `min_span`.
    const PER_SPAN: u32 = 10;
    /// The least time an `"auto"` block lasts.
    const LEAST_TIME: Duration = Duration::from_millis(20);
    /// An `"auto"` block lasts at least this many times what ending the
    /// last block's processes and starting its own costs, so that they
    /// take a fifth of the time at most; a warm-up in fresh processes is
    /// run where it takes a fifth of a block at most, too.
    pub const COST_SHARE: u32 = 5;

    /// The blocks of a group's `entries`, run in `order`, after
    /// `kept_blocks` blocks of an earlier invocation whose runs are kept.
    pub fn new(entries: &[Entry], order: Order, kept_blocks: u32) -> Blocks {
        let fixed: Option<Vec<u32>> = entries
            .iter()
            .map(|entry| match entry.repetitions {
                Repetitions::Fixed(count) => Some(count),
                Repetitions::Auto => None,
            })
            .collect();
        let fixed_len =
            fixed.map(|counts| counts.into_iter().max().unwrap_or(1).div_ceil(Self::MOST_FIXED).max(1));
        let span = entries.iter().map(|entry| entry.precision.min_span).min().unwrap_or_default();
        Blocks {
            fixed_len,
            least: (span / Self::PER_SPAN).max(Self::LEAST_TIME),
            kept: kept_blocks,
            grouped: order == Order::Grouped,
            starts: BTreeMap::new(),
            current: None,
            renewals: 0,
            start_cost: Duration::ZERO,
            // The group's first run starts its first processes.
            fresh: true,
            ended_in: Duration::ZERO,
            warm: BTreeSet::new(),
            last_wall: BTreeMap::new(),
        }
    }

    /// The least time an `"auto"` block lasts now.
    fn length(&self) -> Duration {
        (self.start_cost * Self::COST_SHARE).max(self.least)
    }

    /// Places a measured run of `entry` in round `round`, which is about
    /// to start: where `"auto"` has spent a block's time, a later round
    /// starts the next block.
    pub fn place(&mut self, entry: &Entry, round: u32) -> Placement {
        let block = self.kept
            + match self.fixed_len {
                Some(len) => (round.max(1) - 1) / len + 1,
                None => {
                    let length = self.length();
                    let line = if self.grouped { entry.index } else { 0 };
                    let (starts, since) =
                        self.starts.entry(line).or_insert_with(|| (Vec::new(), Instant::now()));
                    if starts.last().is_none_or(|last| round > *last && since.elapsed() >= length) {
                        starts.push(round);
                        *since = Instant::now();
                    }
                    starts.iter().rposition(|start| *start <= round).map_or(1, |at| at as u32 + 1)
                }
            };
        // The group's first block runs in the processes its warm-ups
        // started; each later one in fresh ones.
        let new_processes = self.current.is_some_and(|current| current != block);
        self.current = Some(block);
        if new_processes {
            self.renewals += 1;
            self.fresh = true;
            self.warm.clear();
        }
        Placement { block, new_processes }
    }

    /// How many warm-ups `entry` runs again in fresh processes: one more
    /// than its `warmup`, as a fresh interpreter's first runs are slower
    /// than a warm one's (a Python function's runs on 2 threads, measured:
    /// 2.4 ms for the first run after one warm-up, 1.2 ms for the next);
    /// none where the job asks for none.
    pub fn warmups_again(entry: &Entry) -> u32 {
        if entry.warmup == 0 { 0 } else { entry.warmup + 1 }
    }

    /// Whether `entry`'s warm-ups are run again before its next measured
    /// run: where processes were renewed since it last ran (the rounds run
    /// the warm-ups of the group's first processes) and a warm-up is short
    /// beside a block: a fifth of an `"auto"` block's least length, or with
    /// fixed repetitions also where a block holds 5 rounds a warm-up. A
    /// long run's first run in fresh processes is measured as it comes.
    pub fn warm_again(&self, entry: &Entry) -> bool {
        let Some(last_wall) = self.last_wall.get(&entry.index) else { return false };
        if entry.warmup == 0 || self.renewals == 0 || self.warm.contains(&entry.index) {
            return false;
        }
        let again = Self::warmups_again(entry);
        let short = Duration::from_secs_f64(last_wall.max(0.0)) * again * Self::COST_SHARE <= self.length();
        short || self.fixed_len.is_some_and(|len| len >= Self::COST_SHARE * again)
    }

    /// Notes what ending the old block's processes took: part of what
    /// starting a block costs.
    pub fn renewed(&mut self, took: Duration) {
        self.ended_in = took;
    }

    /// Notes a run of `entry` (a warm-up or a measured one) that took
    /// `took` in all, `wall_s` of it timed: the first in fresh processes
    /// says what starting them costs.
    pub fn ran(&mut self, entry: &Entry, took: Duration, wall_s: f64) {
        self.warm.insert(entry.index);
        if wall_s.is_finite() {
            self.last_wall.insert(entry.index, wall_s);
        }
        if std::mem::take(&mut self.fresh) {
            let beyond = took.saturating_sub(Duration::from_secs_f64(wall_s.max(0.0)));
            self.start_cost = self.start_cost.max(beyond + std::mem::take(&mut self.ended_in));
        }
    }
}
