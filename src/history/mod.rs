//! Results across commits: the git walk, the history CSV, change points and
//! bisection (see docs/HISTORY.md).

pub mod detect;
