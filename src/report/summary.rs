//! `results/NAME.summary.csv`: one row per entry, from an [`Analysis`] of the
//! per-run rows. The documented columns come first, in their order; the
//! columns this version adds follow them.

use super::csv::writer;
use super::seconds;
use super::text_cell;
use crate::analysis::{Analysis, EntryStats};

pub const ADDED_COLUMNS: &[&str] = &[
    "median_ci_low_s",
    "median_ci_high_s",
    "outliers",
    "speedup_ci_low",
    "speedup_ci_high",
    "host",
    "median_peak_rss_bytes",
    "karp_flatt",
    "median_ci_level",
    "precision",
    "speedup_ci_level",
    "verdict",
];

pub fn to_csv(analysis: &Analysis) -> Vec<u8> {
    let mut header: Vec<String> =
        ["job", "workload", "generator", "list_size", "strategy", "workers", "chunk_size"]
            .iter()
            .map(|column| (*column).to_owned())
            .collect();
    header.extend(analysis.param_names.iter().map(|name| format!("param_{name}")));
    header.extend(
        [
            "runs",
            "failures",
            "median_s",
            "mean_s",
            "stddev_s",
            "min_s",
            "max_s",
            "median_cpu_s",
            "speedup",
            "efficiency",
        ]
        .iter()
        .chain(ADDED_COLUMNS)
        .map(|column| (*column).to_owned()),
    );
    let mut csv = writer(Vec::new());
    csv.write_record(&header).expect("writing to memory");
    for entry in &analysis.entries {
        csv.write_record(cells(analysis, entry)).expect("writing to memory");
    }
    csv.into_inner().expect("writing to memory")
}

fn cells(analysis: &Analysis, entry: &EntryStats) -> Vec<String> {
    let id = &entry.id;
    let mut cells = vec![
        // Names came back from a CSV unguarded: guard them again.
        text_cell(&id.group.job),
        text_cell(&id.group.workload),
        id.group.generator.clone(),
        id.group.list_size.to_string(),
        id.strategy.name().to_owned(),
        id.workers.to_string(),
        id.chunk_size.clone(),
    ];
    for name in &analysis.param_names {
        let value = id.group.params.iter().find(|(param, _)| param == name).map(|(_, value)| value.clone());
        let value = value.unwrap_or_default();
        cells.push(if value.parse::<f64>().is_ok() { value } else { text_cell(&value) });
    }
    let stat = |pick: fn(&crate::stats::Summary) -> f64| entry.wall.as_ref().map(|wall| seconds(pick(wall)));
    let ratio = |value: f64| super::significant(value, 6);
    // Levels and precisions: fractions, with digits enough for 1 - 2/2^n.
    let level = |value: f64| format!("{value:.6}");
    let optional = |value: Option<String>| value.unwrap_or_default();
    cells.extend([
        entry.runs.to_string(),
        entry.failures.to_string(),
        optional(stat(|wall| wall.median)),
        optional(stat(|wall| wall.mean)),
        optional(stat(|wall| wall.stddev)),
        optional(stat(|wall| wall.min)),
        optional(stat(|wall| wall.max)),
        optional(entry.median_cpu.map(seconds)),
        optional(entry.speedup.map(ratio)),
        optional(entry.efficiency().map(ratio)),
        optional(entry.median_ci.map(|(low, _)| seconds(low))),
        optional(entry.median_ci.map(|(_, high)| seconds(high))),
        entry.outliers.to_string(),
        optional(entry.speedup_ci.map(|(low, _)| ratio(low))),
        optional(entry.speedup_ci.map(|(_, high)| ratio(high))),
        text_cell(&id.group.host),
        optional(entry.median_peak_rss.map(|bytes| format!("{bytes:.0}"))),
        optional(entry.karp_flatt().map(ratio)),
        optional(entry.median_ci_level.map(level)),
        optional(entry.precision.map(level)),
        optional(entry.speedup_ci_level.map(level)),
        entry.verdict.map(|verdict| crate::report::words::verdict(verdict).to_owned()).unwrap_or_default(),
    ]);
    cells
}
