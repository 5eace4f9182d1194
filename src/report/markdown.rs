//! `--markdown FILE`: the tables, crossover and warnings as Markdown, for a
//! pull request or a wiki.

use super::summary::{self, Shown, Shows};
use super::words;
use crate::analysis::Analysis;

pub fn render(analysis: &Analysis) -> String {
    let mut out = String::from("# parbench report\n");
    for (group, entries) in analysis.groups() {
        out.push_str(&format!("\n## {}\n\n", words::title(&group, analysis.hosts.len())));
        let columns: Vec<&Shown> = summary::table(Shows::Pages).collect();
        let headings: Vec<&str> = columns.iter().map(|column| column.heading).collect();
        out.push_str(&format!("| {} |\n", headings.join(" | ")));
        let aligns: Vec<&str> =
            columns.iter().map(|column| if column.numeric { "---:" } else { "---" }).collect();
        out.push_str(&format!("|{}|\n", aligns.join("|")));
        for entry in entries {
            // A `|` inside a cell would end it.
            let cells: Vec<String> =
                columns.iter().map(|column| column.cell(entry).replace('|', "\\|")).collect();
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
