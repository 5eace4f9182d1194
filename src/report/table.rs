//! The table printed after a run or by `parbench report`: one block per
//! group (workload, parameters and list), one row per strategy, worker count
//! and chunk size; then the crossover and the warnings.

use super::summary::{self, Shown, Shows};
use super::words;
use crate::analysis::Analysis;

pub fn render(analysis: &Analysis) -> String {
    let mut out = String::new();
    for (group, entries) in analysis.groups() {
        out.push_str(&format!("\n{}\n", words::title(&group, analysis.hosts.len())));
        let columns: Vec<&Shown> = summary::table(Shows::Terminal).collect();
        let mut lines: Vec<Vec<String>> =
            vec![columns.iter().map(|column| column.heading.to_owned()).collect()];
        for entry in &entries {
            lines.push(
                columns
                    .iter()
                    .map(|column| match column.cell(entry) {
                        cell if cell.is_empty() && column.dash => "-".to_owned(),
                        cell => cell,
                    })
                    .collect(),
            );
        }
        let widths: Vec<usize> = (0..lines[0].len())
            .map(|column| lines.iter().map(|line| line[column].chars().count()).max().unwrap_or(0))
            .collect();
        for line in &lines {
            let mut text = String::from("  ");
            for (column, cell) in line.iter().enumerate() {
                let pad = " ".repeat(widths[column] - cell.chars().count());
                // Numbers align right, words left.
                if !columns[column].numeric {
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
    let joined = analysis.entries.iter().filter(|entry| entry.invocations > 1);
    if let Some(most) = joined.max_by_key(|entry| entry.invocations) {
        out.push_str(&wrap(
            &format!(
                "The 95% CIs hold the spread between invocations too: of up to {} invocations of each \
                 entry on this host, this one included (recorded in the .invocations.csv beside the \
                 per-run CSV; remove it to start afresh).",
                most.invocations
            ),
            "\n",
            "",
            width,
        ));
    }
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
