//! Progress on stderr: an indicatif bar over all runs on a terminal; one
//! plain line per finished entry anywhere else (a batch server's log, CI),
//! where a bar would be a mess of carriage returns.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::human_seconds;
use crate::error::Error;
use crate::matrix::Plan;
use crate::runner::{Event, Reporter};
use crate::stats;

pub struct Progress {
    bar: Option<ProgressBar>,
    entries_done: usize,
    entries_total: usize,
    job: String,
}

impl Progress {
    /// `quiet` shows nothing at all.
    /// `runs` is the number of runs (warm-ups included) still to do.
    pub fn new(job: &str, plan: &Plan, runs: u64, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(runs), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:.bold} [{bar:30.cyan/blue}] {pos}/{len} runs, ETA {eta}  {wide_msg}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.set_prefix(job.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            entries_done: 0,
            entries_total: if quiet { 0 } else { plan.entries.len() },
            job: job.to_owned(),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Reporter for Progress {
    fn report(&mut self, event: &Event<'_>) -> Result<(), Error> {
        match event {
            Event::RunStarted { entry, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(super::shown(&entry.label()));
                    // "auto" repetitions can outgrow the runs planned.
                    if bar.length().is_some_and(|length| bar.position() >= length) {
                        bar.inc_length(1);
                    }
                }
            }
            Event::Notice { entry, text } => {
                let line = format!("{}: {}: {text}", self.job, entry.label());
                match &self.bar {
                    Some(bar) => bar.println(line),
                    None => {
                        let _ = writeln!(std::io::stderr().lock(), "{line}");
                    }
                }
            }
            Event::WarmupFinished { .. } | Event::RunFinished { .. } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            Event::EntryFinished { entry, tally } => {
                self.entries_done += 1;
                if self.bar.is_none() && self.entries_total > 0 {
                    // The median of the runs the table uses: undisturbed ok ones.
                    let median = stats::median(tally.quiet_walls())
                        .map(human_seconds)
                        .unwrap_or_else(|| "-".to_owned());
                    let mut line = format!(
                        "{} [{}/{}] {}: median {median}, {} of {} ok",
                        self.job,
                        self.entries_done,
                        self.entries_total,
                        entry.label(),
                        tally.ok,
                        tally.runs
                    );
                    if tally.disturbed > 0 {
                        line.push_str(&format!(" ({} disturbed, left out of the median)", tally.disturbed));
                    }
                    if let Some((status, error)) = &tally.first_bad {
                        line.push_str(&format!(" ({}: {error})", status.name()));
                    }
                    let mut stderr = std::io::stderr().lock();
                    // Progress is best effort: a closed stderr must not stop the measurements.
                    let _ = writeln!(stderr, "{}", super::shown(&line));
                }
            }
        }
        Ok(())
    }
}
