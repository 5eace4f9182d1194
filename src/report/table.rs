//! The table printed after a run or by `parbench report`: one block per
//! group (workload, parameters and list), one row per strategy, worker count
//! and chunk size; then the crossover and the warnings.

use super::{human_bytes, human_seconds, words};
use crate::analysis::Analysis;
use words::ratio;

pub fn render(analysis: &Analysis) -> String {
    let mut out = String::new();
    for (group, entries) in analysis.groups() {
        out.push_str(&format!("\n{}\n", words::title(&group, analysis.hosts.len())));
        let mut lines = vec![
            [
                "strategy",
                "workers",
                "chunk",
                "median",
                "95% CI",
                "mean",
                "± stddev",
                "min … max",
                "outliers",
                "cpu",
                "memory",
                "speedup",
                "95% CI",
                "verdict",
                "status",
            ]
            .map(str::to_owned),
        ];
        for entry in &entries {
            let id = &entry.id;
            let dash = || "-".to_owned();
            let (median, mean, spread, range) = match &entry.wall {
                Some(wall) => (
                    human_seconds(wall.median),
                    human_seconds(wall.mean),
                    format!("± {}", human_seconds(wall.stddev)),
                    format!("{} … {}", human_seconds(wall.min), human_seconds(wall.max)),
                ),
                None => (dash(), dash(), String::new(), String::new()),
            };
            let status = if entry.failures == 0 {
                format!("{} ok", entry.runs)
            } else {
                format!("{} of {} failed", entry.failures, entry.runs)
            };
            lines.push([
                id.strategy.name().to_owned(),
                id.workers.to_string(),
                if id.chunk_size.is_empty() { dash() } else { id.chunk_size.clone() },
                median,
                entry
                    .median_ci
                    .map(|(low, high)| format!("{} … {}", human_seconds(low), human_seconds(high)))
                    .unwrap_or_default(),
                mean,
                spread,
                range,
                entry.outliers.to_string(),
                entry.median_cpu.map(human_seconds).unwrap_or_else(dash),
                entry.median_peak_rss.map(human_bytes).unwrap_or_else(dash),
                entry.speedup.map(ratio).unwrap_or_else(dash),
                entry
                    .speedup_ci
                    .map(|(low, high)| format!("{} … {}", ratio(low), ratio(high)))
                    .unwrap_or_default(),
                words::entry_verdict(entry),
                status,
            ]);
        }
        let widths: Vec<usize> = (0..lines[0].len())
            .map(|column| lines.iter().map(|line| line[column].chars().count()).max().unwrap_or(0))
            .collect();
        for line in &lines {
            let mut text = String::from("  ");
            for (column, cell) in line.iter().enumerate() {
                let pad = " ".repeat(widths[column] - cell.chars().count());
                // Numbers align right, words left.
                if matches!(column, 0 | 2 | 13 | 14) {
                    text.push_str(cell);
                    text.push_str(&pad);
                } else {
                    text.push_str(&pad);
                    text.push_str(cell);
                }
                text.push_str("  ");
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        for entry in &entries {
            if let Some(error) = &entry.first_error {
                out.push_str(&format!("  ! {}: {}\n", words::how(&entry.id), words::error_line(error)));
            }
        }
    }
    let width = terminal_width();
    let crossover = words::crossover(analysis);
    if !crossover.is_empty() {
        out.push_str("\nWhere parallelism pays:\n");
        for sentence in crossover {
            out.push_str(&wrap(&sentence, "  ", "    ", width));
        }
    }
    let warnings = words::warnings(analysis);
    if !warnings.is_empty() {
        out.push_str("\nWarnings:\n");
        for warning in warnings {
            out.push_str(&wrap(&warning, "  ! ", "    ", width));
        }
    }
    out
}

/// The width to wrap sentences at: `COLUMNS` where set, else the terminal's
/// where standard output is one; `None` (one line each, for grep and for
/// files) otherwise.
pub fn terminal_width() -> Option<usize> {
    let columns = std::env::var("COLUMNS").ok().and_then(|columns| columns.parse::<usize>().ok());
    columns
        .or_else(|| terminal_size::terminal_size().map(|(width, _)| usize::from(width.0)))
        .filter(|width| *width >= 40)
}

/// `text` after `first`, its further lines after `rest`, broken at spaces so
/// that no line passes `width` where a word allows; one line without a width.
pub fn wrap(text: &str, first: &str, rest: &str, width: Option<usize>) -> String {
    let Some(width) = width else { return format!("{first}{text}\n") };
    let mut out = String::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split(' ') {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = rest.to_owned();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

#[cfg(test)]
mod wrap_tests {
    use super::wrap;

    #[test]
    fn a_sentence_wraps_at_spaces_within_the_width_and_stays_whole_without_one() {
        let text = "other load on the machine took CPU that 1 run needed; the medians leave them out";
        let wrapped = wrap(text, "  ! ", "    ", Some(40));
        assert!(wrapped.lines().all(|line| line.chars().count() <= 40), "{wrapped}");
        assert!(
            wrapped.starts_with("  ! other") && wrapped.lines().skip(1).all(|line| line.starts_with("    "))
        );
        let words: Vec<&str> = wrapped.split_whitespace().filter(|word| *word != "!").collect();
        assert_eq!(words.join(" "), text);
        assert_eq!(wrap(text, "  ! ", "    ", None), format!("  ! {text}\n"));
    }
}
