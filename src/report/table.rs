//! The table printed after a run: one block per group (workload, parameters
//! and list), one row per strategy, worker count and chunk size.

use super::human_seconds;
use super::summary::EntrySummary;
use crate::matrix::Plan;

pub fn render(plan: &Plan, summaries: &[EntrySummary<'_>]) -> String {
    let mut out = String::new();
    for group in &plan.groups {
        let rows = &summaries[group.entries.clone()];
        let Some(first) = rows.first() else { continue };
        let entry = first.entry;
        let mut title = format!(
            "{} · {} {} items",
            entry.workload_name, entry.generator, entry.list_size
        );
        for (name, value) in &entry.params {
            title.push_str(&format!(" · {name}={value}"));
        }
        out.push_str(&format!("\n{title}\n"));
        let mut lines = vec![[
            "strategy".to_owned(),
            "workers".to_owned(),
            "chunk".to_owned(),
            "median".to_owned(),
            "± stddev".to_owned(),
            "min … max".to_owned(),
            "cpu".to_owned(),
            "speedup".to_owned(),
            "status".to_owned(),
        ]];
        for summary in rows {
            let entry = summary.entry;
            let chunk = match (entry.chunk_size, entry.chunk_auto) {
                (Some(chunk), true) => format!("auto={chunk}"),
                (Some(chunk), false) => chunk.to_string(),
                (None, _) => "-".to_owned(),
            };
            let (median, spread, range) = match &summary.wall {
                Some(wall) => (
                    human_seconds(wall.median),
                    format!("± {}", human_seconds(wall.stddev)),
                    format!("{} … {}", human_seconds(wall.min), human_seconds(wall.max)),
                ),
                None => ("-".to_owned(), String::new(), String::new()),
            };
            let status = if summary.failures == 0 {
                format!("{} ok", summary.runs)
            } else {
                format!("{} of {} failed", summary.failures, summary.runs)
            };
            lines.push([
                entry.strategy.name().to_owned(),
                entry.workers.to_string(),
                chunk,
                median,
                spread,
                range,
                summary
                    .median_cpu
                    .map(human_seconds)
                    .unwrap_or_else(|| "-".to_owned()),
                summary.speedup.map(ratio).unwrap_or_else(|| "-".to_owned()),
                status,
            ]);
        }
        let widths: Vec<usize> = (0..9)
            .map(|column| {
                lines
                    .iter()
                    .map(|line| line[column].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for line in &lines {
            let mut text = String::from("  ");
            for (column, cell) in line.iter().enumerate() {
                let pad = widths[column] - cell.chars().count();
                // Numbers align right, words left.
                if (3..=7).contains(&column) || column == 1 {
                    text.push_str(&" ".repeat(pad));
                    text.push_str(cell);
                } else {
                    text.push_str(cell);
                    text.push_str(&" ".repeat(pad));
                }
                text.push_str("  ");
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        for summary in rows {
            if let Some(error) = &summary.first_error {
                out.push_str(&format!("  ! {}: {error}\n", summary.entry.label()));
            }
        }
    }

    out
}

/// Speedups with enough digits to tell 0.004× from 0.0004×.
pub fn ratio(value: f64) -> String {
    if value >= 0.1 {
        format!("{value:.2}×")
    } else {
        let digits = (-value.log10().floor()) as usize + 2;
        format!("{value:.digits$}×")
    }
}

#[cfg(test)]
mod tests {
    use super::ratio;

    #[test]
    fn ratios_keep_three_significant_digits_when_small() {
        assert_eq!(ratio(1.96), "1.96×");
        assert_eq!(ratio(0.35), "0.35×");
        assert_eq!(ratio(0.0047), "0.00470×");
        assert_eq!(ratio(0.00023), "0.000230×");
    }
}
