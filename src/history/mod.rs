//! Results across commits: the commits of a range checked out one by one
//! (`git`), the job run at each (`walk`), the history CSV (`file`), each
//! entry's series of per-commit medians (`series`), its change points
//! (`detect`), bisection (`bisect`) and the chart page (`html`). Never
//! prints; `command/history.rs` says what happened. See docs/HISTORY.md.

pub mod bisect;
pub mod detect;
pub mod file;
pub mod git;
pub mod html;
pub mod series;
pub mod walk;
