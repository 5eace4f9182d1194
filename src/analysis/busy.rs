//! Not judged (busy): an entry whose runs other load disturbed, with too
//! few undisturbed ones left to judge it by. Its statistics are of the
//! undisturbed runs alone, as every entry's are; it gets no speedup and no
//! verdict, and nothing downstream (recommendations, fits, break-even
//! sizes, the crossover) uses it.

use super::OkRun;
use crate::precision;

/// The fewest undisturbed ok runs an entry with disturbed ones is judged
/// by (the fewest the rank test of `report --baseline` can judge); where
/// all its ok runs would hold a 95% interval of the median, the undisturbed
/// ones must hold one too (see `docs/RESULTS.md`, "Other load").
pub const UNDISTURBED_ENOUGH: usize = 3;

/// Why an entry is not judged: too many of its runs, or of its group's
/// serial runs, were disturbed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    pub runs_of: RunsOf,
    /// Ok runs that other load disturbed, of `runs` ok runs.
    pub disturbed: usize,
    pub runs: usize,
}

/// Whose runs left too few undisturbed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunsOf {
    /// The entry's own.
    Entry,
    /// Its group's serial entry's: there is nothing to judge it against.
    Serial,
}

impl Busy {
    /// Whether an entry with these ok runs is not judged by its own runs:
    /// some are disturbed, and the undisturbed ones are fewer than
    /// [`UNDISTURBED_ENOUGH`], or hold no 95% interval where all would have.
    /// An entry without disturbed runs is always judged.
    pub fn of(ok_runs: &[OkRun]) -> Option<Busy> {
        let disturbed = ok_runs.iter().filter(|run| run.disturbed).count();
        if disturbed == 0 {
            return None;
        }
        let walls = |keep: &dyn Fn(&OkRun) -> bool| -> Vec<f64> {
            ok_runs.iter().filter(|run| keep(run)).map(|run| run.wall_s).collect()
        };
        let (quiet, all) = (walls(&|run| !run.disturbed), walls(&|_| true));
        let interval =
            |walls: &[f64]| precision::estimate(walls).is_some_and(|estimate| estimate.interval.is_some());
        let enough = quiet.len() >= UNDISTURBED_ENOUGH && (interval(&quiet) || !interval(&all));
        (!enough).then_some(Busy { runs_of: RunsOf::Entry, disturbed, runs: ok_runs.len() })
    }

    /// This serial entry's busy, as an entry of its group inherits it.
    pub fn of_serial(self) -> Busy {
        Busy { runs_of: RunsOf::Serial, ..self }
    }
}
