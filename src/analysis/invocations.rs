//! The spread between invocations: how far an entry's median and speedup
//! moved from one `parbench run` of the same job to the next on the same
//! host (`results/NAME.invocations.csv`).
//!
//! Blocks of fresh processes sample what differs between processes, but
//! no sampling inside one invocation sees the state a shared machine is in
//! at another time: on this project's 2-vCPU VM, sixteen invocations of one
//! builtin loop a second apart gave medians of 5.02 to 5.30 ms, rising and
//! falling over tens of seconds, each invocation's interval ±0.1-0.3%. An
//! interval that holds the next time the job runs must hold that spread
//! too, and only earlier invocations show it. So each invocation records
//! its entries' medians and speedups, and an entry's intervals widen to
//! hold the spread of the invocations of the same entry on the same host
//! (the same `entry_key`, job file contents and interpreter: see [`This`]): a
//! t interval on the logarithms of their medians (speedups) with as many
//! degrees of freedom as there are other invocations, around this
//! invocation's median, joined with this invocation's own interval.

use std::collections::BTreeMap;

use super::{Analysis, EntryStats, Verdict};
use crate::results::{text_cell, unguard_cell};
use crate::vocab::Strategy;

/// This invocation: when its first ok run started (a resumed run keeps
/// its ok rows, so this stays) and the digest of the job file's contents
/// (`job_file_hash` in env.json: a changed warm-up or repetitions is
/// another setup).
#[derive(Debug, Clone)]
pub struct This {
    pub started_at: String,
    pub job_file_hash: String,
}

impl This {
    /// The invocation `analysis` holds, run from a job file whose contents
    /// have the digest `job_file_hash`; `None` where no ok run says when it
    /// started.
    pub fn of(analysis: &Analysis, job_file_hash: &str) -> Option<This> {
        let runs = analysis.entries.iter().flat_map(|entry| &entry.ok_runs);
        let first = runs.filter_map(|run| run.started_at).min()?;
        Some(This { started_at: crate::results::cell_time(first), job_file_hash: job_file_hash.to_owned() })
    }
}

/// The most invocations of an entry the spread is taken over, this one
/// included: the newest.
pub const MOST: usize = 20;

/// The columns of `NAME.invocations.csv`, in file order.
pub const COLUMNS: [&str; 11] = [
    "started_at",
    "host",
    "entry_key",
    "job_file_hash",
    "python",
    "job",
    "workload",
    "strategy",
    "workers",
    "median_s",
    "speedup",
];

/// One entry of one invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// When the invocation's first ok run started, as a per-run CSV's
    /// `started_at` cell (UTC; it sorts as text): the file's `started_at`.
    pub invocation: String,
    pub host: String,
    pub entry_key: String,
    pub job_file_hash: String,
    pub python: String,
    pub job: String,
    pub workload: String,
    pub strategy: String,
    pub workers: usize,
    pub median_s: f64,
    /// Against its group's serial; `None` for serial itself and where the
    /// entry had none.
    pub speedup: Option<f64>,
}

impl Invocation {
    /// Whether this is an invocation of `entry` other than `this`: the same
    /// `entry_key` (workload, list, strategy, inputs' digests, the job
    /// file's path, parbench's version), job file contents, interpreter and
    /// host.
    fn is_other_of(&self, this: &This, entry: &EntryStats) -> bool {
        self.invocation != this.started_at
            && self.job_file_hash == this.job_file_hash
            && self.entry_key == entry.entry_key
            && self.python == entry.python
            && self.host == entry.id.group.host
    }
}

/// Reads a `NAME.invocations.csv`.
pub fn read(bytes: &[u8]) -> Result<Vec<Invocation>, String> {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let headers = reader.headers().map_err(|error| error.to_string())?.clone();
    let columns: BTreeMap<&str, usize> = COLUMNS
        .iter()
        .map(|name| Ok((*name, headers.iter().position(|header| header == *name).ok_or(*name)?)))
        .collect::<Result<_, &str>>()
        .map_err(|name| format!("no column \"{name}\""))?;
    let mut invocations = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| error.to_string())?;
        let cell = |name: &str| record.get(columns[name]).unwrap_or_default();
        let text = |name: &str| unguard_cell(cell(name)).to_owned();
        let wrong = |name: &str| format!("row {}: {name} \"{}\"", index + 2, cell(name));
        let number = |name: &str| match cell(name) {
            "" => Ok(None),
            text => text
                .parse::<f64>()
                .ok()
                .filter(|value| value.is_finite() && *value > 0.0)
                .map(Some)
                .ok_or_else(|| wrong(name)),
        };
        invocations.push(Invocation {
            invocation: cell("started_at").to_owned(),
            host: text("host"),
            entry_key: cell("entry_key").to_owned(),
            job_file_hash: cell("job_file_hash").to_owned(),
            python: text("python"),
            job: text("job"),
            workload: text("workload"),
            strategy: cell("strategy").to_owned(),
            workers: cell("workers").parse().map_err(|_| wrong("workers"))?,
            median_s: number("median_s")?.ok_or_else(|| wrong("median_s"))?,
            speedup: number("speedup")?,
        });
    }
    Ok(invocations)
}

/// The file's text: `earlier` but for `this` invocation's rows, then
/// `entries`, this invocation's; of each entry on each host, the newest
/// [`MOST`].
pub fn write(earlier: &[Invocation], this: &This, entries: &[Invocation]) -> Vec<u8> {
    let mut kept: Vec<&Invocation> =
        earlier.iter().filter(|entry| entry.invocation != this.started_at).chain(entries).collect();
    kept.sort_by(|a, b| a.invocation.cmp(&b.invocation));
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for entry in kept.iter().rev() {
        *counts.entry((&entry.host, &entry.entry_key)).or_default() += 1;
    }
    let mut csv = crate::results::writer(Vec::new());
    let _ = csv.write_record(COLUMNS);
    for entry in kept {
        // The oldest beyond the newest MOST of an entry are dropped.
        let count = counts.get_mut(&(entry.host.as_str(), entry.entry_key.as_str())).expect("counted");
        if *count > MOST {
            *count -= 1;
            continue;
        }
        // Numbers in the shortest form that reads back as the same number.
        let _ = csv.write_record([
            entry.invocation.clone(),
            text_cell(&entry.host),
            entry.entry_key.clone(),
            entry.job_file_hash.clone(),
            text_cell(&entry.python),
            text_cell(&entry.job),
            text_cell(&entry.workload),
            entry.strategy.clone(),
            entry.workers.to_string(),
            entry.median_s.to_string(),
            entry.speedup.map(|speedup| speedup.to_string()).unwrap_or_default(),
        ]);
    }
    csv.into_inner().unwrap_or_default()
}

/// This invocation's entries as the file records them: each judged entry
/// with an interval of its own (a smoke run of 3 repetitions records
/// nothing).
pub fn of(analysis: &Analysis, this: &This) -> Vec<Invocation> {
    let positive = |value: f64| value.is_finite() && value > 0.0;
    analysis
        .entries
        .iter()
        .filter(|entry| entry.busy.is_none() && entry.median_ci.is_some())
        .filter_map(|entry| {
            Some(Invocation {
                invocation: this.started_at.clone(),
                host: entry.id.group.host.clone(),
                entry_key: entry.entry_key.clone(),
                job_file_hash: this.job_file_hash.clone(),
                python: entry.python.clone(),
                job: entry.id.group.job.clone(),
                workload: entry.id.group.workload.clone(),
                strategy: entry.id.strategy.name().to_owned(),
                workers: entry.id.workers,
                median_s: entry.wall.map(|wall| wall.median).filter(|median| positive(*median))?,
                speedup: entry
                    .speedup
                    .filter(|speedup| entry.id.strategy != Strategy::Serial && positive(*speedup)),
            })
        })
        .collect()
}

/// Widens each entry's intervals to hold the spread of the other
/// invocations of it in `earlier` (the newest [`MOST`] − 1), and sets its
/// verdict again from the speedup's; records how many invocations each
/// entry's intervals hold.
pub fn widen(analysis: &mut Analysis, this: &This, earlier: &[Invocation]) {
    for entry in &mut analysis.entries {
        let mut others: Vec<&Invocation> =
            earlier.iter().filter(|other| other.is_other_of(this, entry)).collect();
        others.sort_by(|a, b| b.invocation.cmp(&a.invocation));
        others.truncate(MOST - 1);
        widen_entry(entry, &others);
    }
}

fn widen_entry(entry: &mut EntryStats, others: &[&Invocation]) {
    if entry.busy.is_some() || others.is_empty() {
        return;
    }
    let Some(median) = entry.wall.map(|wall| wall.median).filter(|median| *median > 0.0) else { return };
    let medians: Vec<f64> = others.iter().map(|other| other.median_s).collect();
    if let Some(interval) = entry.median_ci {
        let widened = joined(median, interval, &medians);
        // `precision` stays this invocation's own: what `"auto"` aims at,
        // which more runs of this invocation can narrow.
        entry.median_ci = Some(widened);
        entry.invocations = others.len() + 1;
    }
    if entry.id.strategy == Strategy::Serial {
        return;
    }
    let speedups: Vec<f64> = others.iter().filter_map(|other| other.speedup).collect();
    if let (Some(speedup), Some(interval), false) = (entry.speedup, entry.speedup_ci, speedups.is_empty()) {
        let widened = joined(speedup, interval, &speedups);
        entry.speedup_ci = Some(widened);
        entry.verdict = Some(Verdict::of(Some(widened)));
        entry.invocations = entry.invocations.max(speedups.len() + 1);
    }
}

/// `interval` around `value`, joined with the t interval (95%) of the
/// spread between `value` and `others` on a log scale, centred on `value`.
fn joined(value: f64, interval: (f64, f64), others: &[f64]) -> (f64, f64) {
    let logs: Vec<f64> = others.iter().chain([&value]).map(|value| value.ln()).collect();
    let spread = crate::stats::summarize(&logs).map_or(0.0, |logs| logs.stddev);
    let half = t_975(logs.len() - 1) * spread;
    (interval.0.min(value * (-half).exp()), interval.1.max(value * half.exp()))
}

/// Student's t distribution's 97.5th percentile at `df` degrees of
/// freedom (1 to [`MOST`] − 1; beyond, 19's).
fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 19] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093,
    ];
    TABLE[df.clamp(1, TABLE.len()) - 1]
}
