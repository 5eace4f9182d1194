//! `--json FILE`: every entry's statistics, the crossover and the warnings,
//! for scripts.

use serde_json::{Value, json};

use super::words;
use crate::analysis::Analysis;
use crate::analysis::answers::Answers;

pub fn render(analysis: &Analysis, answers: &Answers) -> String {
    let entries: Vec<Value> = analysis
        .entries
        .iter()
        .map(|entry| {
            let id = &entry.id;
            let params: serde_json::Map<String, Value> = id
                .group
                .params
                .iter()
                .map(|(name, value)| (name.clone(), Value::String(value.clone())))
                .collect();
            json!({
                "job": id.group.job,
                "host": id.group.host,
                "workload": id.group.workload,
                "generator": id.group.generator,
                "list_size": id.group.list_size,
                "params": params,
                "strategy": id.strategy.name(),
                "workers": id.workers,
                "chunk_size": id.chunk_size.parse::<u64>().ok(),
                "runs": entry.runs,
                "failures": entry.failures,
                "median_s": entry.wall.map(|w| w.median),
                "mean_s": entry.wall.map(|w| w.mean),
                "stddev_s": entry.wall.map(|w| w.stddev),
                "min_s": entry.wall.map(|w| w.min),
                "max_s": entry.wall.map(|w| w.max),
                "median_ci_s": entry.median_ci.map(|(low, high)| [low, high]),
                "outliers": entry.outliers,
                "median_cpu_s": entry.median_cpu,
                "median_peak_rss_bytes": entry.median_peak_rss,
                "speedup": entry.speedup,
                "speedup_ci": entry.speedup_ci.map(|(low, high)| [low, high]),
                "median_ci_level": entry.median_ci_level,
                "precision": entry.precision,
                "speedup_ci_level": entry.speedup_ci_level,
                "verdict": Some(words::entry_verdict(entry)).filter(|verdict| !verdict.is_empty()),
                "busy": entry.busy.as_ref().map(super::scaling::busy_json),
                "efficiency": entry.efficiency(),
                "karp_flatt": entry.karp_flatt(),
            })
        })
        .collect();
    let value = json!({
        "entries": entries,
        "crossover": words::crossover(analysis),
        "warnings": words::warnings(analysis),
        "scaling": super::scaling::json(answers, analysis.hosts.len()),
    });
    let mut text = serde_json::to_string_pretty(&value).expect("a JSON value serialises");
    text.push('\n');
    text
}
