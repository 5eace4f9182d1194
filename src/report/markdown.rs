//! `--markdown FILE`: the tables, crossover and warnings as Markdown, for a
//! pull request or a wiki.

use super::words;
use crate::analysis::Analysis;

pub fn render(analysis: &Analysis) -> String {
    let mut out = String::from("# parbench report\n");
    for (group, entries) in analysis.groups() {
        out.push_str(&format!("\n## {}\n\n", words::title(&group, analysis.hosts.len())));
        out.push_str(&format!("| {} |\n", super::ENTRY_COLUMNS.join(" | ")));
        out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for entry in entries {
            // A `|` inside a cell would end it.
            let cells: Vec<String> =
                super::entry_cells(entry).iter().map(|cell| cell.replace('|', "\\|")).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
    }
    let crossover = words::crossover(analysis);
    if !crossover.is_empty() {
        out.push_str("\n## Where parallelism pays\n\n");
        crossover.iter().for_each(|sentence| out.push_str(&format!("- {sentence}\n")));
    }
    let warnings = words::warnings(analysis);
    if !warnings.is_empty() {
        out.push_str("\n## Warnings\n\n");
        warnings.iter().for_each(|warning| out.push_str(&format!("- {warning}\n")));
    }
    out
}
