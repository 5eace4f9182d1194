//! The comparison against a baseline, in words.

use super::human_seconds;
use super::words::entry_label;
use crate::analysis::compare::{Comparison, Unmatched, Verdict};

pub fn render(comparison: &Comparison, threshold: f64) -> String {
    let mut out = format!(
        "Against the baseline (threshold {:.0}%; each interval at {:.2}%, so that all {} hold together at 95%; \
         slower or faster also needs the middle 80% of the two runs' times apart):\n",
        threshold * 100.0,
        comparison.level * 100.0,
        comparison.changes.len()
    );
    let percent = |ratio: f64| format!("{:+.1}%", (ratio - 1.0) * 100.0);
    for change in &comparison.changes {
        let verdict = match change.verdict {
            Verdict::Faster => "faster",
            Verdict::Slower => "SLOWER",
            Verdict::NoClearChange | Verdict::WithinNoise => "no clear change",
        };
        let interval = match change.interval {
            Some((low, high)) => format!("CI {} … {}", percent(low), percent(high)),
            None => "too few runs for an interval".to_owned(),
        };
        out.push_str(&format!(
            "  {verdict:<15}  {:>9} → {:<9}  {:>7} ({interval})  {}\n",
            human_seconds(change.old_median),
            human_seconds(change.new_median),
            percent(change.ratio),
            entry_label(&change.entry, comparison.hosts)
        ));
        if change.verdict == Verdict::WithinNoise {
            out.push_str(&format!(
                "{:19}within this entry's noise: the middle 80% of its two runs' times overlap (they spread from {:+.0}% to {:+.0}% of the median)\n",
                "",
                (change.spread.0 - 1.0) * 100.0,
                (change.spread.1 - 1.0) * 100.0
            ));
        }
    }
    for (why, entry) in &comparison.unmatched {
        let why = match why {
            Unmatched::OnlyInNew => "only in the new results",
            Unmatched::OnlyInBaseline => "only in the baseline",
            Unmatched::NoOkRuns => "no ok runs to compare",
        };
        out.push_str(&format!("  {why}: {}\n", entry_label(entry, comparison.hosts)));
    }
    let slower = comparison.changes.iter().filter(|change| change.verdict == Verdict::Slower).count();
    let faster = comparison.changes.iter().filter(|change| change.verdict == Verdict::Faster).count();
    let noise = comparison.changes.iter().filter(|change| change.verdict == Verdict::WithinNoise).count();
    out.push_str(&format!(
        "{slower} slower, {faster} faster, {} without a clear change",
        comparison.changes.len() - slower - faster
    ));
    if noise > 0 {
        out.push_str(&format!(
            " ({noise} of them moved past the threshold, but within {} own noise)",
            if noise == 1 { "its" } else { "their" }
        ));
    }
    out.push('\n');
    out
}
