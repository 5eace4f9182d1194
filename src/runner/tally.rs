//! What the runner keeps of an entry's runs while it measures them: counts,
//! the undisturbed times the precision is judged on, and the time the entry
//! has taken. Each run costs constant time and eight bytes at most, so an
//! entry of 100,000 runs keeps well under a megabyte, and `"auto"` decides
//! in constant time (amortised) whether to go on.

use std::time::{Duration, SystemTime};

use super::Status;
use crate::results::RunRow;
use crate::vocab::Precision;

/// Why `"auto"` stopped repeating an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The interval of the median is within the precision.
    Converged,
    /// The entry took `max_time` before that.
    OutOfTime,
    /// Three runs failed: more would not tell more.
    Failing,
    /// Other load harmed the last [`busy_streak`] runs in a row: the
    /// machine stays busy, and more runs would only be disturbed too.
    Busy,
    /// [`MAX_AUTO_RUNS`] runs: the median's interval is then as narrow as
    /// the entry's spread allows.
    Enough,
    /// At the pace its interval narrowed so far, reaching the precision
    /// would take past `max_time`: the processes differ more than the
    /// precision asks for, and the interval says how much.
    OutOfReach,
}

/// Failed runs after which `"auto"` gives up on an entry.
const FAILURES_ENOUGH: u32 = 3;

/// The most runs `"auto"` gives one entry: at about 400 bytes a row, its
/// CSV stays under half a megabyte whatever the runs' length.
pub const MAX_AUTO_RUNS: u32 = 1_000;

/// Disturbed runs in a row after which `"auto"` stops re-measuring an
/// entry: its `min_repetitions`, and at least 5.
pub fn busy_streak(precision: &Precision) -> u32 {
    precision.min_repetitions.max(5)
}

/// One entry's runs so far.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Measured runs, kept ones of an earlier invocation included.
    pub runs: u32,
    pub ok: u32,
    /// Ok runs other load harmed.
    pub disturbed: u32,
    pub failures: u32,
    /// The first run that was not ok: its status and error.
    pub first_bad: Option<(Status, String)>,
    /// Wall times of the undisturbed ok runs, the ones the statistics use.
    quiet_walls: Vec<f64>,
    /// The block of processes each of those ran in (see `runner::Blocks`).
    quiet_blocks: Vec<u32>,
    /// Disturbed runs since the last undisturbed one.
    streak: u32,
    /// The clock the runs spread over: the first start, the last end.
    first: Option<SystemTime>,
    last: Option<SystemTime>,
    /// The time the entry has taken: its runs, its warm-ups and parbench's
    /// work around each (for kept runs, their wall times).
    spent: Duration,
    /// Whether the interval was within the precision when last looked at,
    /// how far it reached then, and at how many undisturbed runs.
    precise: bool,
    reached: Option<f64>,
    looked_at: usize,
}

impl Tally {
    /// Counts one measured run.
    pub fn record(&mut self, row: &RunRow) {
        self.runs += 1;
        let started_at = row.started_at.unwrap_or(SystemTime::UNIX_EPOCH);
        let end = started_at + Duration::from_secs_f64(row.wall_s.max(0.0));
        self.first = Some(self.first.map_or(started_at, |first| first.min(started_at)));
        self.last = Some(self.last.map_or(end, |last| last.max(end)));
        let disturbed = row.disturbed == Some(true);
        match row.status {
            Status::Ok if disturbed => {
                self.ok += 1;
                self.disturbed += 1;
                self.streak += 1;
            }
            Status::Ok => {
                self.ok += 1;
                self.streak = 0;
                self.quiet_walls.push(row.wall_s);
                self.quiet_blocks.push(row.block());
            }
            status => {
                self.failures += 1;
                if self.first_bad.is_none() {
                    self.first_bad = Some((status, row.error.clone()));
                }
            }
        }
    }

    /// Counts a kept run of an earlier invocation: its wall time is the
    /// time it took. Whether the machine is busy is this invocation's to
    /// find out: kept runs start no streak.
    pub fn keep(&mut self, row: &RunRow) {
        self.record(row);
        self.spend(Duration::from_secs_f64(row.wall_s.max(0.0)));
        self.streak = 0;
    }

    /// Whether the entry has taken `max_time`.
    pub fn out_of_time(&self, precision: &Precision) -> bool {
        self.spent >= precision.max_time
    }

    /// Adds time the entry took: a run or a warm-up and the work around it.
    pub fn spend(&mut self, time: Duration) {
        self.spent += time;
    }

    /// The undisturbed ok runs' wall times, in the order they ran.
    pub fn quiet_walls(&self) -> &[f64] {
        &self.quiet_walls
    }

    /// How far the interval of the median reaches from it, as a fraction
    /// of it, as analysis computes it: the interval over the medians of
    /// the blocks of processes the undisturbed ok runs ran in, around the
    /// median of the runs. `None` with too few blocks for an interval.
    fn half_width(&self) -> Option<f64> {
        let runs: Vec<(u32, f64)> =
            self.quiet_blocks.iter().copied().zip(self.quiet_walls.iter().copied()).collect();
        crate::precision::over_blocks(&runs)?.half_width()
    }

    /// Whether, at the pace the interval narrowed so far, reaching the
    /// precision would take past `max_time`. An interval over `k` blocks
    /// narrows about as `1/√k`: from a half-width `h` to the target `p`
    /// takes `(h/p)²` times the blocks, and so the time, spent so far.
    fn out_of_reach(&self, precision: &Precision) -> bool {
        let Some(reached) = self.reached.filter(|reached| *reached > precision.target) else { return false };
        self.quiet_walls.len() >= precision.min_repetitions as usize
            && self.spent.mul_f64((reached / precision.target).powi(2)) > precision.max_time
    }

    /// Whether `"auto"` is done with the entry, and why.
    pub fn auto_stop(&mut self, precision: &Precision) -> Option<Stop> {
        if self.failures >= FAILURES_ENOUGH {
            return Some(Stop::Failing);
        }
        let quiet = self.quiet_walls.len();
        // The interval narrows slowly past a few hundred runs: look at it
        // about a hundred times more, not after every run (each look sorts).
        if quiet != self.looked_at && (quiet <= 200 || quiet >= self.looked_at + quiet / 100) {
            self.looked_at = quiet;
            self.reached = self.half_width();
            self.precise = quiet >= precision.min_repetitions as usize
                && self.reached.is_some_and(|half_width| half_width <= precision.target);
        }
        let span = match (self.first, self.last) {
            (Some(first), Some(last)) => last.duration_since(first).unwrap_or_default(),
            _ => Duration::ZERO,
        };
        if self.precise && span >= precision.min_span {
            return Some(Stop::Converged);
        }
        if self.runs < Precision::LEAST_RUNS {
            return None;
        }
        if self.spent >= precision.max_time {
            // Out of time while spreading its runs: precise all the same.
            return Some(if self.precise { Stop::Converged } else { Stop::OutOfTime });
        }
        if self.streak >= busy_streak(precision) {
            return Some(Stop::Busy);
        }
        if span >= precision.min_span && self.out_of_reach(precision) {
            return Some(Stop::OutOfReach);
        }
        if self.runs >= MAX_AUTO_RUNS {
            return Some(if self.precise { Stop::Converged } else { Stop::Enough });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: f64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs_f64(seconds)
    }

    pub(crate) fn run(wall_s: f64, status: Status, disturbed: bool, started: f64) -> RunRow {
        // Each run a round of its own, as the runner numbers them.
        static ROUND: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
        RunRow {
            repetition: ROUND.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            status,
            wall_s,
            setup_s: Some(0.0),
            error: if status == Status::Ok { String::new() } else { "boom".to_owned() },
            started_at: Some(at(started)),
            disturbed: Some(disturbed),
            ..RunRow::blank()
        }
    }

    fn precision() -> Precision {
        Precision {
            target: 0.02,
            min_repetitions: 10,
            min_span: Duration::from_secs(1),
            max_time: Duration::from_secs(5),
        }
    }

    /// `count` runs of `wall` seconds, one every `every` seconds, each
    /// taking `wall` of the entry's time.
    fn tally(count: u32, every: f64, wall: f64, disturbed: bool) -> Tally {
        let mut tally = Tally::default();
        for index in 0..count {
            tally.record(&run(wall, Status::Ok, disturbed, every * f64::from(index)));
            tally.spend(Duration::from_secs_f64(wall));
        }
        tally
    }

    #[test]
    fn the_stop_rule() {
        let precision = precision();
        // Back to back: 0.0 … 1.0 s, the span asked for.
        assert_eq!(tally(10, 0.1, 0.1, false).auto_stop(&precision), Some(Stop::Converged));
        assert_eq!(tally(9, 0.1, 0.1, false).auto_stop(&precision), None, "not before min_repetitions");
        // Precise, but all within 0.55 s: a burst could have hit them all.
        assert_eq!(tally(10, 0.05, 0.1, false).auto_stop(&precision), None, "not before min_span");
        assert_eq!(tally(10, 0.1, 0.01, false).auto_stop(&precision), None, "0.91 s");
        assert_eq!(tally(10, 0.11, 0.01, false).auto_stop(&precision), Some(Stop::Converged), "1.0 s");
        // Out of time before the span: precise all the same, so converged.
        assert_eq!(tally(10, 0.0, 0.5, false).auto_stop(&precision), Some(Stop::Converged));
        let mut failing = Tally::default();
        for _ in 0..3 {
            failing.record(&run(0.1, Status::Failed, false, 0.0));
        }
        assert_eq!(failing.auto_stop(&precision), Some(Stop::Failing));
        assert_eq!(failing.first_bad, Some((Status::Failed, "boom".to_owned())));
        assert_eq!(tally(3, 0.0, 2.0, false).auto_stop(&precision), Some(Stop::OutOfTime));
        assert_eq!(tally(2, 0.0, 2.0, false).auto_stop(&precision), None, "three runs however long");
    }

    #[test]
    fn the_time_an_entry_takes_counts_not_only_its_runs_walls() {
        // Runs of 1 ms that each took 100 ms of the entry's time (a harness
        // answering slowly, a disturbed run re-measured): out of time after
        // 50 runs, not after 5,000.
        let mut tally = Tally::default();
        let mut runs = 0;
        // A span longer than the runs take: no stop before `max_time`.
        let never = Precision { target: 1e-9, min_span: Duration::from_secs(60), ..precision() };
        while tally.auto_stop(&never).is_none() {
            tally.record(&run(0.001 * (1.0 + f64::from(runs % 7)), Status::Ok, false, f64::from(runs) * 0.1));
            tally.spend(Duration::from_millis(100));
            runs += 1;
            assert!(runs < 10_000, "the entry ends");
        }
        assert_eq!(runs, 50);
        assert_eq!(tally.auto_stop(&precision()), Some(Stop::OutOfTime));
    }

    /// The progress line's median is the table's: of the undisturbed ok
    /// runs only (a newcomer saw 801 ns beside the table's 661 ns when it
    /// counted disturbed runs too).
    #[test]
    fn the_progress_median_leaves_out_what_the_table_leaves_out() {
        let mut tally = Tally::default();
        for (wall, status, disturbed) in [
            (0.001, Status::Ok, false),
            (0.002, Status::Ok, false),
            (0.003, Status::Ok, false),
            (0.500, Status::Ok, true),
            (0.400, Status::Ok, true),
            (0.900, Status::Failed, false),
        ] {
            tally.record(&run(wall, status, disturbed, 0.0));
        }
        assert_eq!(tally.quiet_walls(), [0.001, 0.002, 0.003]);
        assert_eq!(crate::stats::median(tally.quiet_walls()), Some(0.002));
    }

    /// Runs of 10 ms back to back, `per_block` in each block of processes,
    /// whose levels are `levels` (each run 1% around its block's level, in
    /// turn below and above), and whether `"auto"` stops after them.
    fn blocks(levels: &[f64], per_block: u32) -> Option<Stop> {
        let mut tally = Tally::default();
        let mut index = 0;
        for (block, level) in levels.iter().enumerate() {
            for run_in_block in 0..per_block {
                let wall = 0.01 * level * if run_in_block % 2 == 0 { 0.99 } else { 1.01 };
                let started = 0.0105 * f64::from(index);
                tally.record(&RunRow {
                    process: Some(block as u32 + 1),
                    ..run(wall, Status::Ok, false, started)
                });
                tally.spend(Duration::from_millis(10));
                index += 1;
            }
        }
        tally.auto_stop(&precision())
    }

    #[test]
    fn the_interval_is_over_blocks_and_an_unreachable_precision_stops_early() {
        // Ten blocks of ten runs over 1 s: the runs alone would give ±1%.
        let close = [1.0, 1.01, 0.99, 1.0, 1.005, 0.995, 1.01, 0.99, 1.0, 1.0];
        assert_eq!(blocks(&close, 10), Some(Stop::Converged));
        // Levels 5% apart: the interval over the blocks' medians is about
        // ±5%, and reaching ±2% would take (5/2)² times the second spent,
        // past `max_time`: done now, with the precision it has.
        let apart = [1.0, 1.05, 0.95, 1.0, 1.04, 0.96, 1.05, 0.95, 1.02, 0.98];
        assert_eq!(blocks(&apart, 10), Some(Stop::OutOfReach));
        // Levels 3% apart: about (3/2)² seconds would do; go on.
        let nearer = [1.0, 1.03, 0.97, 1.0, 1.025, 0.975, 1.03, 0.97, 1.01, 0.99];
        assert_eq!(blocks(&nearer, 10), None);
        // Five blocks have no 95% interval, however many runs they hold.
        assert_eq!(blocks(&close[..5], 20), None);
    }

    #[test]
    fn a_machine_that_stays_busy_stops_the_entry() {
        let precision = precision();
        let mut busy = tally(4, 0.1, 0.01, false);
        for index in 0..9 {
            busy.record(&run(0.05, Status::Ok, true, 1.0 + f64::from(index)));
            assert_eq!(busy.auto_stop(&precision), None, "{index}");
        }
        busy.record(&run(0.05, Status::Ok, true, 11.0));
        assert_eq!(busy.auto_stop(&precision), Some(Stop::Busy));
        assert_eq!((busy.runs, busy.ok, busy.disturbed, busy.quiet_walls().len()), (14, 14, 10, 4));
        // An undisturbed run between them starts the streak again.
        let mut bursts = Tally::default();
        for index in 0..30 {
            bursts.record(&run(0.05, Status::Ok, index % 5 == 4, f64::from(index) * 0.001));
        }
        assert_eq!(bursts.auto_stop(&Precision { target: 1e-9, ..precision }), None);
    }

    #[test]
    fn auto_gives_an_entry_at_most_max_auto_runs() {
        // Noisy runs that never reach ±0.1%, a microsecond each.
        let precision = Precision { target: 0.001, ..precision() };
        let mut tally = Tally::default();
        let mut runs = 0;
        while tally.auto_stop(&precision).is_none() {
            let wall = 1e-6 * (1.0 + f64::from(runs % 10) / 2.0);
            tally.record(&run(wall, Status::Ok, false, f64::from(runs) * 1e-6));
            tally.spend(Duration::from_micros(1));
            runs += 1;
        }
        assert_eq!(runs, MAX_AUTO_RUNS);
        assert_eq!(tally.auto_stop(&precision), Some(Stop::Enough));
    }
}
