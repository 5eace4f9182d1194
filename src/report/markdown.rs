//! `--markdown FILE`: the tables, crossover and warnings as Markdown, for a
//! pull request or a wiki.

use super::human_seconds;
use super::table::ratio;
use crate::analysis::{self, Analysis};

pub fn render(analysis: &Analysis) -> String {
    let mut out = String::from("# parbench report\n");
    for (group, entries) in analysis.groups() {
        out.push_str(&format!("\n## {}\n\n", group.title(analysis.hosts.len())));
        out.push_str("| strategy | workers | chunk | median | 95% CI | mean | stddev | min | max | outliers | speedup | 95% CI | runs | failures |\n");
        out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for entry in entries {
            let wall = entry.wall.as_ref();
            let time = |pick: fn(&crate::stats::Summary) -> f64| {
                wall.map(|w| human_seconds(pick(w))).unwrap_or_default()
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                entry.id.strategy,
                entry.id.workers,
                entry.id.chunk_size,
                time(|w| w.median),
                entry
                    .median_ci
                    .map(|(l, h)| format!("{} … {}", human_seconds(l), human_seconds(h)))
                    .unwrap_or_default(),
                time(|w| w.mean),
                time(|w| w.stddev),
                time(|w| w.min),
                time(|w| w.max),
                entry.outliers,
                entry.speedup.map(ratio).unwrap_or_default(),
                entry.speedup_ci.map(|(l, h)| format!("{} … {}", ratio(l), ratio(h))).unwrap_or_default(),
                entry.runs,
                entry.failures,
            ));
        }
    }
    let crossover = analysis::crossover(analysis);
    if !crossover.is_empty() {
        out.push_str("\n## Where parallelism pays\n\n");
        crossover.iter().for_each(|sentence| out.push_str(&format!("- {sentence}\n")));
    }
    let warnings = analysis::warnings(analysis);
    if !warnings.is_empty() {
        out.push_str("\n## Warnings\n\n");
        warnings.iter().for_each(|warning| out.push_str(&format!("- {warning}\n")));
    }
    out
}
