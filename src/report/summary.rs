//! `results/NAME.summary.csv`: one row per entry, from an [`Analysis`] of the
//! per-run rows. The documented columns come first, in their order; the
//! columns this version adds follow them.

use super::csv::writer;
use super::seconds;
use super::text_cell;
use crate::analysis::{Analysis, EntryStats, RunsOf};

/// A column of the summary: its name and its cell for an entry.
pub struct SummaryColumn {
    pub name: &'static str,
    pub cell: fn(&EntryStats) -> String,
}

const fn column(name: &'static str, cell: fn(&EntryStats) -> String) -> SummaryColumn {
    SummaryColumn { name, cell }
}

/// The columns before the job's `param_NAME` columns, in file order. Names
/// came back from a CSV unguarded: they are guarded again.
pub const LEAD: &[SummaryColumn] = &[
    column("job", |entry| text_cell(&entry.id.group.job)),
    column("workload", |entry| text_cell(&entry.id.group.workload)),
    column("generator", |entry| entry.id.group.generator.clone()),
    column("list_size", |entry| entry.id.group.list_size.to_string()),
    column("strategy", |entry| entry.id.strategy.name().to_owned()),
    column("workers", |entry| entry.id.workers.to_string()),
    column("chunk_size", |entry| entry.id.chunk_size.clone()),
];

/// The columns after the parameters, in file order: the documented ones,
/// then (from `median_ci_low_s`) those this version adds, only ever at the
/// end.
pub const TAIL: &[SummaryColumn] = &[
    column("runs", |entry| entry.runs.to_string()),
    column("failures", |entry| entry.failures.to_string()),
    column("median_s", |entry| stat(entry, |wall| wall.median)),
    column("mean_s", |entry| stat(entry, |wall| wall.mean)),
    column("stddev_s", |entry| stat(entry, |wall| wall.stddev)),
    column("min_s", |entry| stat(entry, |wall| wall.min)),
    column("max_s", |entry| stat(entry, |wall| wall.max)),
    column("median_cpu_s", |entry| optional(entry.median_cpu.map(seconds))),
    column("speedup", |entry| optional(entry.speedup.map(ratio))),
    column("efficiency", |entry| optional(entry.efficiency().map(ratio))),
    column("median_ci_low_s", |entry| optional(entry.median_ci.map(|(low, _)| seconds(low)))),
    column("median_ci_high_s", |entry| optional(entry.median_ci.map(|(_, high)| seconds(high)))),
    column("outliers", |entry| entry.outliers.to_string()),
    column("speedup_ci_low", |entry| optional(entry.speedup_ci.map(|(low, _)| ratio(low)))),
    column("speedup_ci_high", |entry| optional(entry.speedup_ci.map(|(_, high)| ratio(high)))),
    column("host", |entry| text_cell(&entry.id.group.host)),
    column("median_peak_rss_bytes", |entry| {
        optional(entry.median_peak_rss.map(|bytes| format!("{bytes:.0}")))
    }),
    column("karp_flatt", |entry| optional(entry.karp_flatt().map(ratio))),
    column("median_ci_level", |entry| optional(entry.median_ci_level.map(level))),
    column("precision", |entry| optional(entry.precision.map(level))),
    column("speedup_ci_level", |entry| optional(entry.speedup_ci_level.map(level))),
    column("verdict", crate::report::words::entry_verdict),
    column("disturbed_runs", |entry| entry.disturbed_runs().to_string()),
    column("not_judged", |entry| {
        match entry.busy.map(|busy| busy.runs_of) {
            None => "",
            Some(RunsOf::Entry) => "busy",
            Some(RunsOf::Serial) => "serial busy",
        }
        .to_owned()
    }),
];

fn stat(entry: &EntryStats, pick: fn(&crate::stats::Summary) -> f64) -> String {
    optional(entry.wall.as_ref().map(|wall| seconds(pick(wall))))
}

fn ratio(value: f64) -> String {
    super::significant(value, 6)
}

/// Levels and precisions: fractions, with digits enough for 1 - 2/2^n.
fn level(value: f64) -> String {
    format!("{value:.6}")
}

fn optional(value: Option<String>) -> String {
    value.unwrap_or_default()
}

pub fn to_csv(analysis: &Analysis) -> Vec<u8> {
    let header: Vec<String> = LEAD
        .iter()
        .map(|column| column.name.to_owned())
        .chain(analysis.param_names.iter().map(|name| format!("param_{name}")))
        .chain(TAIL.iter().map(|column| column.name.to_owned()))
        .collect();
    let mut csv = writer(Vec::new());
    csv.write_record(&header).expect("writing to memory");
    for entry in &analysis.entries {
        csv.write_record(cells(analysis, entry)).expect("writing to memory");
    }
    csv.into_inner().expect("writing to memory")
}

fn cells(analysis: &Analysis, entry: &EntryStats) -> Vec<String> {
    let params = analysis.param_names.iter().map(|name| {
        let value =
            entry.id.group.params.iter().find(|(param, _)| param == name).map(|(_, value)| value.clone());
        let value = value.unwrap_or_default();
        if value.parse::<f64>().is_ok() { value } else { text_cell(&value) }
    });
    LEAD.iter()
        .map(|column| (column.cell)(entry))
        .chain(params)
        .chain(TAIL.iter().map(|column| (column.cell)(entry)))
        .collect()
}
