//! The comparison against a baseline, in words.

use super::conditions::{Compared, Difference};
use super::human_seconds;
use super::words::entry_label;
use crate::analysis::compare::{Change, ChangeVerdict, Comparison, NotJudged, RANK_RUNS, Unmatched};
use crate::vocab::Status;

pub fn render(comparison: &Comparison, threshold: f64) -> String {
    let judged = comparison.changes.iter().filter(|change| change.not_judged.is_none()).count()
        - comparison.count(ChangeVerdict::Failed);
    let mut out = format!(
        "Against the baseline (threshold {:.0}%; each of the {judged} entries judged at {:.3}%, so that all hold \
         together at 95%: by the interval of its change where it has one, slower or faster also needing the middle \
         80% of the two runs' times apart; else by a t-test on log times whose spread the entries share):\n",
        threshold * 100.0,
        (1.0 - comparison.level) * 100.0,
    );
    let label = |entry: &crate::analysis::EntryId| {
        let label = entry_label(entry, comparison.hosts);
        if comparison.jobs > 1 { format!("job {}: {label}", entry.group.job) } else { label }
    };
    for change in &comparison.changes {
        out.push_str(&change_lines(change, &label(&change.entry)));
    }
    for (why, entry) in &comparison.unmatched {
        let why = match why {
            Unmatched::OnlyInNew => "only in the new results",
            Unmatched::OnlyInBaseline => "only in the baseline",
            Unmatched::NoOkRuns => "no ok runs in the baseline to compare with",
        };
        out.push_str(&format!("  {why}: {}\n", label(entry)));
    }
    out.push_str(&totals(comparison));
    out
}

/// A ratio as the change it is, `+12.5%`.
fn percent(ratio: f64) -> String {
    format!("{:+.1}%", (ratio - 1.0) * 100.0)
}

/// One entry's verdict line: how its median moved and why it was judged
/// so, or how its runs failed; and a second line where the move was
/// within its noise.
fn change_lines(change: &Change, label: &str) -> String {
    let verdict = match change.verdict {
        ChangeVerdict::Failed => "FAILED",
        ChangeVerdict::Faster => "faster",
        ChangeVerdict::Slower => "SLOWER",
        ChangeVerdict::NoClearChange | ChangeVerdict::WithinNoise => "no clear change",
        ChangeVerdict::NotJudged => "not judged",
    };
    if change.verdict == ChangeVerdict::Failed {
        let runs: usize = change.failed.iter().map(|(_, count)| count).sum();
        let how: Vec<String> = change
            .failed
            .iter()
            .map(|(status, count)| format!("{count} of {runs} {}", failed_as(*status)))
            .collect();
        return format!(
            "  {verdict:<15}  {:>9} → failed: {}  {label}\n",
            human_seconds(change.old_median),
            how.join(", ")
        );
    }
    let mut out = format!(
        "  {verdict:<15}  {:>9} → {:<9}  {:>7} ({})  {label}\n",
        human_seconds(change.old_median),
        human_seconds(change.new_median),
        percent(change.ratio),
        judged_by(change),
    );
    if change.verdict == ChangeVerdict::WithinNoise {
        out.push_str(&format!(
            "{:19}within this entry's noise: the middle 80% of its two runs' times overlap (they spread from {:+.0}% to {:+.0}% of the median)\n",
            "",
            (change.spread.0 - 1.0) * 100.0,
            (change.spread.1 - 1.0) * 100.0
        ));
    }
    out
}

/// Why a change has its verdict: why it was not judged, or the interval or
/// t-test that judged it; and the runs left out as disturbed.
fn judged_by(change: &Change) -> String {
    let (old_runs, new_runs) = change.runs;
    let mut why = match (change.not_judged, change.interval, change.p) {
        (Some(NotJudged::TooFewRuns(old, new)), _, _) => {
            format!("too few runs: {old} against {new}, {RANK_RUNS} a side are needed")
        }
        (Some(NotJudged::Busy { baseline, disturbed, runs }), _, _) => format!(
            "busy: {disturbed} of {runs} {} runs disturbed",
            if baseline { "baseline" } else { "new" }
        ),
        (None, Some((low, high)), _) => format!("CI {} … {}", percent(low), percent(high)),
        (None, None, Some(p)) => format!("{old_runs} against {new_runs} runs, t-test p = {p:.2e}"),
        (None, None, None) => format!("{old_runs} against {new_runs} runs"),
    };
    match change.left_out {
        (0, 0) => {}
        (old, new) => why.push_str(&format!("; left out as disturbed: {old} baseline, {new} new runs")),
    }
    why
}

/// The closing line: how many entries went each way.
fn totals(comparison: &Comparison) -> String {
    let failed = comparison.count(ChangeVerdict::Failed);
    let slower = comparison.count(ChangeVerdict::Slower);
    let faster = comparison.count(ChangeVerdict::Faster);
    let noise = comparison.count(ChangeVerdict::WithinNoise);
    let not_judged = comparison.count(ChangeVerdict::NotJudged);
    let mut out = format!(
        "{failed} failed, {slower} slower, {faster} faster, {} without a clear change",
        comparison.changes.len() - failed - slower - faster - not_judged
    );
    if noise > 0 {
        out.push_str(&format!(
            " ({noise} of them moved past the threshold, but within {} own noise)",
            if noise == 1 { "its" } else { "their" }
        ));
    }
    out.push_str(&format!(", {not_judged} not judged"));
    if not_judged > 0 {
        out.push_str(" (too few runs, or busy: --strict fails the gate on them)");
    }
    out.push('\n');
    out
}

/// A failed run's status, as "3 of 3 timed out" says it.
fn failed_as(status: Status) -> &'static str {
    match status {
        Status::Timeout => "timed out",
        Status::Mismatch => "gave results that differ from serial's",
        Status::Unverified => "unverified",
        Status::Interrupted => "interrupted",
        Status::Failed | Status::Ok => "failed",
    }
}

/// One `warning:` line per way the two runs' machines differed that can
/// move timings; the verdicts stand, the lines say what else could explain
/// them.
pub fn condition_warnings(differences: &[Difference]) -> String {
    let on_off = |on: bool| if on { "on" } else { "off" };
    let build = |debug: bool| if debug { "a debug build" } else { "a release build" };
    let mut out = String::new();
    for difference in differences {
        let what = match difference {
            Difference::Load { old, new, old_cpus, new_cpus } => {
                let cpus = if old_cpus == new_cpus {
                    format!("{old_cpus} CPUs")
                } else {
                    format!("{old_cpus} and {new_cpus} CPUs")
                };
                format!("the baseline ran at load average {old:.2}, the new run at {new:.2} ({cpus})")
            }
            Difference::Governor { old, new } => format!(
                "the baseline ran with CPU frequency governor {}, the new run with {}",
                old.join(", "),
                new.join(", ")
            ),
            Difference::Turbo { old, new } => format!(
                "the baseline ran with turbo boost {}, the new run with turbo boost {}",
                on_off(*old),
                on_off(*new)
            ),
            Difference::DebugBuild { old, new } => {
                format!("the baseline ran on {} of parbench, the new run on {}", build(*old), build(*new))
            }
            Difference::Host { old, new } => {
                format!("the baseline ran on host {old}, the new run on host {new}")
            }
            Difference::Cpus { old, new } => {
                format!("the baseline ran on {old} CPUs, the new run on {new}")
            }
            Difference::ParbenchVersion { old, new } => {
                format!("the baseline ran parbench {old}, the new run parbench {new}")
            }
        };
        out.push_str(&format!(
            "warning: {what}: a slower or faster verdict may be the machine's, not the code's\n"
        ));
    }
    out
}

/// The one-line note for result files whose conditions could not be
/// compared (no env.json beside them: files older than env.json, or moved
/// without it); `None` when every file had one.
pub fn unknown_conditions_note(compared: &Compared) -> Option<String> {
    (!compared.unknown.is_empty()).then(|| {
        let names: Vec<String> = compared.unknown.iter().map(|path| path.display().to_string()).collect();
        format!(
            "note: no readable env.json beside {}: the two runs' machine conditions were not compared",
            names.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busier_machine_is_named_with_both_loads_and_the_cpus() {
        let load = Difference::Load { old: 0.4, new: 6.8, old_cpus: 2, new_cpus: 2 };
        assert_eq!(
            condition_warnings(&[load, Difference::Turbo { old: false, new: true }]),
            "warning: the baseline ran at load average 0.40, the new run at 6.80 (2 CPUs): a slower or \
             faster verdict may be the machine's, not the code's\n\
             warning: the baseline ran with turbo boost off, the new run with turbo boost on: a slower or \
             faster verdict may be the machine's, not the code's\n"
        );
        assert_eq!(condition_warnings(&[]), "");
    }
}
