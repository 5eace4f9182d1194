//! One row per matrix entry: statistics over its measured runs, and speedup
//! against its group's serial entry. [`summarize`] is shared by the summary
//! CSV and the table so the two can never disagree.

use super::csv::{param_cells, param_names, writer};
use super::{seconds, text_cell};
use crate::jobfile::Job;
use crate::matrix::{Entry, Plan};
use crate::runner::{RunRecord, Status};
use crate::stats::{self, Summary};
use crate::strategy::Strategy;

#[derive(Debug, Clone)]
pub struct EntrySummary<'a> {
    pub entry: &'a Entry,
    pub runs: usize,
    pub failures: usize,
    /// Wall-time statistics over the runs that were ok; `None` if none was.
    pub wall: Option<Summary>,
    pub median_cpu: Option<f64>,
    pub speedup: Option<f64>,
    /// The first error, for the table.
    pub first_error: Option<String>,
}

impl EntrySummary<'_> {
    pub fn efficiency(&self) -> Option<f64> {
        self.speedup
            .map(|speedup| speedup / self.entry.workers as f64)
    }
}

pub fn summarize<'a>(plan: &'a Plan, records: &[RunRecord]) -> Vec<EntrySummary<'a>> {
    let mut summaries: Vec<EntrySummary<'a>> = plan
        .entries
        .iter()
        .map(|entry| {
            let mine: Vec<&RunRecord> = records
                .iter()
                .filter(|record| record.entry == entry.index)
                .collect();
            let ok: Vec<&&RunRecord> = mine
                .iter()
                .filter(|record| record.status == Status::Ok)
                .collect();
            let walls: Vec<f64> = ok.iter().map(|record| record.wall_s).collect();
            let cpus: Vec<f64> = ok.iter().map(|record| record.cpu_s).collect();
            EntrySummary {
                entry,
                runs: mine.len(),
                failures: mine.len() - ok.len(),
                wall: stats::summarize(&walls),
                median_cpu: stats::median(&cpus),
                speedup: None,
                first_error: mine
                    .iter()
                    .find(|record| !record.error.is_empty())
                    .map(|record| record.error.clone()),
            }
        })
        .collect();
    for group in &plan.groups {
        let baseline = summaries[group.entries.clone()]
            .iter()
            .find(|summary| summary.entry.strategy == Strategy::Serial)
            .and_then(|summary| summary.wall)
            .map(|wall| wall.median);
        for summary in &mut summaries[group.entries.clone()] {
            summary.speedup = match (baseline, summary.wall) {
                (Some(serial), Some(wall)) if wall.median > 0.0 => Some(serial / wall.median),
                _ => None,
            };
        }
    }
    summaries
}

/// `results/NAME.summary.csv`.
pub fn to_csv(job: &Job, plan: &Plan, summaries: &[EntrySummary<'_>]) -> Vec<u8> {
    let names = param_names(plan);
    let mut header: Vec<String> = [
        "job",
        "workload",
        "generator",
        "list_size",
        "strategy",
        "workers",
        "chunk_size",
    ]
    .iter()
    .map(|column| (*column).to_owned())
    .collect();
    header.extend(names.iter().map(|name| format!("param_{name}")));
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
        .map(|column| (*column).to_owned()),
    );
    let mut csv = writer(Vec::new());
    csv.write_record(&header).expect("writing to memory");
    for summary in summaries {
        let entry = summary.entry;
        let mut cells = vec![
            text_cell(&job.name),
            text_cell(&entry.workload_name),
            entry.generator.to_owned(),
            entry.list_size.to_string(),
            entry.strategy.name().to_owned(),
            entry.workers.to_string(),
            entry
                .chunk_size
                .map(|chunk| chunk.to_string())
                .unwrap_or_default(),
        ];
        cells.extend(param_cells(entry, &names));
        let stat = |pick: fn(&Summary) -> f64| {
            summary
                .wall
                .as_ref()
                .map(|wall| seconds(pick(wall)))
                .unwrap_or_default()
        };
        cells.extend([
            summary.runs.to_string(),
            summary.failures.to_string(),
            stat(|wall| wall.median),
            stat(|wall| wall.mean),
            stat(|wall| wall.stddev),
            stat(|wall| wall.min),
            stat(|wall| wall.max),
            summary.median_cpu.map(seconds).unwrap_or_default(),
            summary
                .speedup
                .map(|speedup| format!("{speedup:.4}"))
                .unwrap_or_default(),
            summary
                .efficiency()
                .map(|efficiency| format!("{efficiency:.4}"))
                .unwrap_or_default(),
        ]);
        csv.write_record(&cells).expect("writing to memory");
    }
    csv.into_inner().expect("writing to memory")
}
