//! An entry against its group's serial entry: the speedup, paired round by
//! round, and the verdict its interval gives.

use crate::precision::{self, Estimate, Verdict};
use crate::vocab::Strategy;

/// The speedup of an entry of `strategy` with these ok `rounds` (round,
/// wall seconds) over serial's, and its verdict; `None`s where the group
/// has no serial rounds. Serial against itself is exactly 1 and has no
/// verdict.
pub fn against_serial(
    strategy: Strategy,
    serial_rounds: Option<&[(u32, f64)]>,
    rounds: &[(u32, f64)],
) -> (Option<Estimate>, Option<Verdict>) {
    let Some(serial) = serial_rounds else { return (None, None) };
    if strategy == Strategy::Serial {
        return (Some(Estimate::exact(1.0)), None);
    }
    let speedup = precision::speedup(serial, rounds);
    (speedup, Some(Verdict::of(speedup.and_then(|speedup| speedup.interval))))
}
