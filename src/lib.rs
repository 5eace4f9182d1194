//! parbench: measure how a piece of work scales across serial, threaded and
//! multi-process execution.
//!
//! The data flows one way: job file ([`jobfile`]) → matrix of entries
//! ([`matrix`]) → runner ([`runner`], with [`strategy`] × [`workload`]) →
//! events → reporters ([`report`]: progress, CSV, table) → [`analysis`] →
//! words ([`report`]). The commands live in [`command`]. The layers and the
//! references allowed between them are drawn in `docs/ARCHITECTURE.md` and
//! enforced by `tests/layering.rs`.

pub mod affinity;
pub mod analysis;
pub mod child;
pub mod cli;
pub mod cluster;
pub mod command;
pub mod error;
pub mod generator;
pub mod history;
pub mod interference;
pub mod interrupt;
pub mod jobfile;
pub mod limits;
pub mod lock;
pub mod machine;
pub mod matrix;
pub mod precision;
pub mod report;
pub mod results;
pub mod resume;
pub mod runner;
pub mod shard;
pub mod stats;
pub mod strategy;
pub mod vocab;
pub mod worker;
pub mod workload;

pub use command::{EXIT_OK, EXIT_RUN_FAILED, run};
