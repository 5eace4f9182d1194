//! Which run comes next. `Interleaved`: rounds; each round runs every entry
//! of the group that still needs runs once, in an order shuffled anew for
//! every round from the run's order seed (serial first in the first round:
//! its first run is the reference the others' results are checked against), so that neither a slow drift of
//! the machine nor what ran just before favours one strategy. `Grouped`:
//! each entry's runs back to back. Either way an entry's warm-ups run right
//! before its first measured run, and runs already recorded (a resumed run)
//! are not run again.
//!
//! With `repetitions = "auto"` an entry stops once its median is known to
//! the job's precision from runs spread over at least `min_span` of the
//! clock, or once it has taken `max_time`, or the machine stays busy (see
//! [`Tally::auto_stop`]); the
//! others go on without it. Serial, the group's
//! reference, keeps running as long as another entry of the group does, so
//! that every round of every entry has a serial time to pair with.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use super::KeptRun;
use super::tally::{Stop, Tally};
use crate::matrix::Entry;
use crate::results::RunRow;
use crate::vocab::{Order, Repetitions, Strategy};

/// One thing the runner does, in order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Step<'a> {
    Warmup(&'a Entry),
    Measure(&'a Entry, u32),
    /// The entry needs no more runs.
    Finished(&'a Entry),
}

pub(super) struct Rounds<'a> {
    entries: &'a [Entry],
    order: Order,
    seed: u64,
    /// Rounds planned so far (interleaved); the entry being run (grouped).
    round: u32,
    current: usize,
    /// Per entry: the last repetition planned (grouped), warmed up, finished.
    planned: Vec<u32>,
    warmed: Vec<bool>,
    finished: Vec<bool>,
    /// Per entry: its runs so far, and the repetitions an earlier
    /// invocation measured (not run again).
    tallies: Vec<Tally>,
    kept: Vec<BTreeSet<u32>>,
    queue: VecDeque<Step<'a>>,
}

impl<'a> Rounds<'a> {
    /// `seed` is the run's order seed; `group` tells this group's rounds
    /// from another's.
    /// `prior`: runs an earlier invocation measured, of any entry.
    pub(super) fn new(
        entries: &'a [Entry],
        order: Order,
        seed: u64,
        group: usize,
        prior: &[KeptRun],
    ) -> Rounds<'a> {
        let mut state = seed ^ (group as u64).wrapping_mul(0xA24B_AED4_963E_E407);
        let mut tallies = vec![Tally::default(); entries.len()];
        let mut kept = vec![BTreeSet::new(); entries.len()];
        for kept_run in prior {
            if let Some(index) = entries.iter().position(|entry| entry.index == kept_run.entry) {
                tallies[index].keep(&kept_run.row);
                kept[index].insert(kept_run.row.repetition);
            }
        }
        Rounds {
            entries,
            order,
            seed: crate::stats::splitmix64(&mut state),
            round: 0,
            current: 0,
            planned: vec![0; entries.len()],
            warmed: vec![false; entries.len()],
            finished: vec![false; entries.len()],
            tallies,
            kept,
            queue: VecDeque::new(),
        }
    }

    fn local(&self, entry: &Entry) -> usize {
        self.entries.iter().position(|other| other.index == entry.index).expect("an entry of this group")
    }

    /// Counts a measured run of `entry`.
    pub(super) fn record(&mut self, entry: &Entry, row: &RunRow) {
        let index = self.local(entry);
        self.tallies[index].record(row);
    }

    /// Adds time `entry` took: one of its runs or warm-ups, and parbench's
    /// work around it.
    pub(super) fn spend(&mut self, entry: &Entry, time: Duration) {
        let index = self.local(entry);
        self.tallies[index].spend(time);
    }

    /// What `entry`'s runs came to so far.
    pub(super) fn tally(&self, entry: &Entry) -> &Tally {
        &self.tallies[self.local(entry)]
    }

    /// The next step, given every run recorded so far.
    pub(super) fn next(&mut self) -> Option<Step<'a>> {
        while self.queue.is_empty() {
            let more = match self.order {
                Order::Interleaved => self.plan_round(),
                Order::Grouped => self.plan_grouped(),
            };
            if !more && self.queue.is_empty() {
                return None;
            }
        }
        self.queue.pop_front()
    }

    /// Whether entry `index` (within the group) needs no run beyond those
    /// already planned; `others_running`: another entry of the group still
    /// needs runs.
    fn satisfied(&mut self, index: usize, others_running: bool) -> bool {
        let entry = &self.entries[index];
        match entry.repetitions {
            Repetitions::Fixed(count) => self.planned[index] >= count,
            Repetitions::Auto => match self.tallies[index].auto_stop(&entry.precision) {
                None => false,
                // Serial goes on beside the others, within its own
                // max_time, so that every block of theirs has serial's
                // beside it; where its own precision is out of reach too.
                Some(Stop::Converged | Stop::OutOfReach) => {
                    !(self.order == Order::Interleaved
                        && entry.strategy == Strategy::Serial
                        && others_running)
                        || self.tallies[index].out_of_time(&entry.precision)
                }
                Some(Stop::OutOfTime | Stop::Failing | Stop::Busy | Stop::Enough) => true,
            },
        }
    }

    /// Marks entries that need nothing more as finished (queueing their
    /// `Finished`), then plans the next round; `false` when all are finished.
    fn plan_round(&mut self) -> bool {
        // Entries other than serial first: serial's decision depends on them.
        let mut indices: Vec<usize> = (0..self.entries.len()).collect();
        indices.sort_by_key(|index| self.entries[*index].strategy == Strategy::Serial);
        let mut newly_finished = Vec::new();
        for index in indices {
            if self.finished[index] {
                continue;
            }
            let others_running = (0..self.entries.len()).any(|other| {
                other != index && !self.finished[other] && self.entries[other].strategy != Strategy::Serial
            });
            if self.satisfied(index, others_running) {
                self.finished[index] = true;
                newly_finished.push(index);
            }
        }
        // In plan order, whatever order they were decided in.
        newly_finished.sort_unstable();
        self.queue.extend(newly_finished.into_iter().map(|index| Step::Finished(&self.entries[index])));
        let mut active: Vec<usize> = (0..self.entries.len()).filter(|index| !self.finished[*index]).collect();
        if active.is_empty() {
            return false;
        }
        self.round += 1;
        let round = self.round;
        shuffle(&mut active, self.seed ^ u64::from(round).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        if round == 1 {
            // Serial's first run is the group's reference (the results every
            // other run must reproduce): measured first, it is taken from a
            // recorded run instead of an extra one.
            if let Some(at) =
                active.iter().position(|index| self.entries[*index].strategy == Strategy::Serial)
            {
                active[..=at].rotate_right(1);
            }
        }
        for index in active {
            self.planned[index] = round;
            if !self.kept[index].contains(&round) {
                self.measure(index, round);
            }
        }
        true
    }

    fn plan_grouped(&mut self) -> bool {
        while self.current < self.entries.len() {
            let index = self.current;
            if self.satisfied(index, false) {
                self.finished[index] = true;
                self.queue.push_back(Step::Finished(&self.entries[index]));
                self.current += 1;
                return true;
            }
            self.planned[index] += 1;
            let repetition = self.planned[index];
            if !self.kept[index].contains(&repetition) {
                self.measure(index, repetition);
                return true;
            }
        }
        false
    }

    fn measure(&mut self, index: usize, repetition: u32) {
        let entry = &self.entries[index];
        if !self.warmed[index] {
            self.warmed[index] = true;
            self.queue.extend((0..entry.warmup).map(|_| Step::Warmup(entry)));
        }
        self.queue.push_back(Step::Measure(entry, repetition));
    }
}

/// Fisher–Yates with SplitMix64: the same seed, the same order.
fn shuffle(items: &mut [usize], seed: u64) {
    let mut state = seed;
    for last in (1..items.len()).rev() {
        let pick = (crate::stats::splitmix64(&mut state) % (last as u64 + 1)) as usize;
        items.swap(last, pick);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::{Overrides, Plan, expand};
    use crate::vocab::Status;
    use std::time::SystemTime;

    fn plan(run: &str) -> Plan {
        let source = format!(
            "version = 1\n[list]\ngenerator = \"range\"\nsize = 3\n[run]\nstrategies = [\"serial\", \"threads\", \"processes\"]\nworkers = 2\nwarmup = 1\n{run}\n[[workload]]\nname = \"a\"\nbuiltin = \"spin\"\n"
        );
        let job = crate::jobfile::parse(std::path::Path::new("o.toml"), &source).unwrap();
        expand(&job, 2, Overrides::default())
    }

    fn record(entry: usize, repetition: u32, wall_s: f64, status: Status) -> KeptRun {
        let row = RunRow {
            repetition,
            status,
            wall_s,
            setup_s: Some(0.0),
            started_at: Some(SystemTime::UNIX_EPOCH),
            ..RunRow::blank()
        };
        KeptRun { entry, row }
    }

    fn at(seconds: f64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs_f64(seconds)
    }

    fn name(step: &Step<'_>) -> String {
        match step {
            Step::Warmup(entry) => format!("w{}", entry.index),
            Step::Measure(entry, repetition) => format!("m{}.{repetition}", entry.index),
            Step::Finished(entry) => format!("f{}", entry.index),
        }
    }

    /// Runs the schedule to the end; every measured run takes `wall(entry,
    /// repetition)`, one after the other on a clock that starts at 0.
    fn drive(plan: &Plan, order: Order, seed: u64, wall: impl Fn(usize, u32) -> f64) -> Vec<String> {
        let mut rounds = Rounds::new(&plan.entries, order, seed, 0, &[]);
        let mut steps = Vec::new();
        let mut clock = 0.0;
        while let Some(step) = rounds.next() {
            if let Step::Measure(entry, repetition) = step {
                let mut run = record(entry.index, repetition, wall(entry.index, repetition), Status::Ok).row;
                run.started_at = Some(at(clock));
                clock += run.wall_s;
                rounds.record(entry, &run);
                rounds.spend(entry, Duration::from_secs_f64(run.wall_s));
            }
            steps.push(name(&step));
            assert!(steps.len() < 10_000, "the schedule ends");
        }
        steps
    }

    #[test]
    fn each_round_is_a_seeded_shuffle_with_warmups_right_before_first_runs() {
        let plan = plan("repetitions = 6");
        let steps = drive(&plan, Order::Interleaved, 7, |_, _| 1.0);
        assert_eq!(steps, drive(&plan, Order::Interleaved, 7, |_, _| 1.0), "the same seed, the same order");
        assert_ne!(steps, drive(&plan, Order::Interleaved, 8, |_, _| 1.0));
        let measured: Vec<&String> = steps.iter().filter(|step| step.starts_with('m')).collect();
        assert_eq!(measured.len(), 18);
        let rounds: Vec<Vec<&String>> = measured.chunks(3).map(|round| round.to_vec()).collect();
        for (number, round) in rounds.iter().enumerate() {
            let mut sorted: Vec<String> = round.iter().map(|step| (*step).clone()).collect();
            sorted.sort();
            assert_eq!(sorted, [0, 1, 2].map(|entry| format!("m{entry}.{}", number + 1)));
        }
        let orders: std::collections::BTreeSet<Vec<char>> = rounds
            .iter()
            .map(|round| round.iter().map(|step| step.chars().nth(1).unwrap()).collect())
            .collect();
        assert!(orders.len() > 1, "not one order for every round: {steps:?}");
        // Each warm-up comes right before its entry's first measured run.
        for entry in 0..3 {
            let warmup = steps.iter().position(|step| *step == format!("w{entry}")).unwrap();
            assert_eq!(steps[warmup + 1], format!("m{entry}.1"), "{steps:?}");
        }
        assert_eq!(steps.iter().filter(|step| step.starts_with('f')).count(), 3);
    }

    #[test]
    fn grouped_runs_each_entry_back_to_back() {
        let plan = plan("repetitions = 2\norder = \"grouped\"");
        let steps = drive(&plan, Order::Grouped, 1, |_, _| 1.0);
        assert_eq!(
            steps,
            ["w0", "m0.1", "m0.2", "f0", "w1", "m1.1", "m1.2", "f1", "w2", "m2.1", "m2.2", "f2"]
        );
    }

    #[test]
    fn done_runs_and_their_warmups_are_skipped() {
        let plan = plan("repetitions = 2");
        let prior: Vec<KeptRun> = [(0, 1), (0, 2), (1, 1), (2, 1), (2, 2)]
            .into_iter()
            .map(|(entry, repetition)| record(entry, repetition, 1.0, Status::Ok))
            .collect();
        let mut rounds = Rounds::new(&plan.entries, Order::Interleaved, 3, 0, &prior);
        let mut steps = Vec::new();
        while let Some(step) = rounds.next() {
            steps.push(name(&step));
        }
        steps.sort();
        assert_eq!(steps, ["f0", "f1", "f2", "m1.2", "w1"]);
    }

    #[test]
    fn auto_stops_converged_entries_and_keeps_serial_while_others_run() {
        let plan = plan("precision = \"2%\"\nmin_repetitions = 10\nmax_time = \"1000s\"");
        // Entry 1 (threads) is steady from the start; entry 2 (processes)
        // wobbles by ±3% for 30 rounds, then steadies. (A wobble of ±10%
        // would be out of reach of ±2% within `max_time`, and stop.)
        let steps = drive(&plan, Order::Interleaved, 5, |entry, round| match entry {
            2 if round <= 30 => 1.0 + if round % 2 == 0 { 0.03 } else { -0.03 },
            _ => 1.0,
        });
        let runs = |entry: usize| steps.iter().filter(|step| step.starts_with(&format!("m{entry}."))).count();
        assert_eq!(runs(1), 10, "threads converged at min_repetitions: {steps:?}");
        assert!(runs(2) > 30, "processes went on until steady: {steps:?}");
        assert_eq!(runs(0), runs(2), "serial paired every round of processes");
        let finished_threads = steps.iter().position(|step| step == "f1").unwrap();
        assert!(steps[finished_threads..].iter().all(|step| !step.starts_with("m1.")));
    }

    #[test]
    fn auto_stops_at_max_time_but_not_before_three_runs() {
        let plan = plan("precision = \"0.001%\"\nmax_time = \"1s\"");
        let steps = drive(&plan, Order::Interleaved, 5, |_, round| 0.3 + f64::from(round % 3) / 10.0);
        // 0.4 + 0.5 + 0.3 = 1.2 s after 3 runs.
        assert_eq!(steps.iter().filter(|step| step.starts_with('m')).count(), 9, "{steps:?}");
        let slow = plan_with_wall(10.0);
        assert_eq!(slow, 3, "a run longer than max_time still gets three");
    }

    fn plan_with_wall(wall: f64) -> usize {
        let plan = plan("max_time = \"1s\"");
        drive(&plan, Order::Interleaved, 5, |_, _| wall).iter().filter(|step| step.starts_with("m0.")).count()
    }
}
