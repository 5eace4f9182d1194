//! Results in words: the names of groups and entries, ratios, and the
//! sentences of the crossover and the warnings. Analysis returns numbers and
//! verdicts; this is the one place they become English.

use super::human_seconds;
use crate::analysis::{
    self, Analysis, Busy, Crossover, EntryId, EntryStats, GroupId, Point, RunsOf, Series, SeriesVerdict,
    Verdict, Warning,
};
use crate::vocab::Strategy;

/// `price-crazy · range 20 items · iterations=100`, and the host where the
/// results come from several.
pub fn title(group: &GroupId, hosts: usize) -> String {
    let mut title = format!(
        "{} · {} {}",
        group.workload,
        group.generator,
        crate::vocab::count(group.list_size as u64, "item", "items")
    );
    for (name, value) in &group.params {
        title.push_str(&format!(" · {name}={value}"));
    }
    if hosts > 1 {
        title.push_str(&format!(" · on {}", group.host));
    }
    title
}

/// The characters of a run's error a terminal line shows; a longer one
/// (a program may print megabytes to stderr) is cut there.
pub const ERROR_LINE_CHARS: usize = 300;

/// A run's error as one terminal line: its first line, cut at
/// [`ERROR_LINE_CHARS`], saying where the rest is.
pub fn error_line(error: &str) -> String {
    let first = error.lines().next().unwrap_or_default();
    let shown: String = first.chars().take(ERROR_LINE_CHARS).collect();
    let left = error.chars().count() - shown.chars().count();
    if left == 0 {
        shown
    } else {
        format!("{shown}… ({left} more characters in the run's `error` cell of the per-run CSV)")
    }
}

/// `processes ×2 chunk 4`, `serial`.
pub fn how(id: &EntryId) -> String {
    let mut text = id.strategy.name().to_owned();
    if id.strategy != Strategy::Serial {
        text.push_str(&format!(" ×{}", id.workers));
    }
    if id.chunking != crate::vocab::Chunking::None {
        text.push_str(&format!(" chunk {}", id.chunking.label()));
    }
    text
}

/// An entry's full name: its group's title and how it ran.
pub fn entry_label(id: &EntryId, hosts: usize) -> String {
    format!("{} · {}", title(&id.group, hosts), how(id))
}

/// Speedups with enough digits to tell 0.004× from 0.0004×.
pub fn ratio(value: f64) -> String {
    if value >= 0.1 || value <= 0.0 || !value.is_finite() {
        format!("{value:.2}×")
    } else {
        let digits = ((-value.log10().floor()) as usize + 2).min(12);
        format!("{value:.digits$}×")
    }
}

/// The warnings of an analysis, one sentence each.
pub fn warnings(analysis: &Analysis) -> Vec<String> {
    let hosts = analysis.hosts.len();
    let shared = shared_parts(analysis);
    analysis::warnings(analysis)
        .iter()
        .map(|warning| without_parts(&warning_sentence(warning, hosts), &shared))
        .collect()
}

/// The crossover of an analysis, one sentence each.
pub fn crossover(analysis: &Analysis) -> Vec<String> {
    let hosts = analysis.hosts.len();
    let shared = shared_parts(analysis);
    analysis::crossover(analysis)
        .iter()
        .map(|crossover| without_parts(&crossover_sentence(crossover, hosts), &shared))
        .collect()
}

/// The parts of a group's title after its workload (`range 100 items`,
/// `interpreter=python3`) that every group of the analysis shares: a
/// sentence names an entry by what tells it apart, and the table's headings
/// say the rest.
fn shared_parts(analysis: &Analysis) -> Vec<String> {
    let hosts = analysis.hosts.len();
    let titles: Vec<Vec<String>> = analysis
        .groups()
        .iter()
        .map(|(group, _)| title(group, hosts).split(" · ").skip(1).map(str::to_owned).collect())
        .collect();
    let Some((first, rest)) = titles.split_first() else { return Vec::new() };
    first.iter().filter(|part| rest.iter().all(|title| title.contains(part))).cloned().collect()
}

/// `sentence` with each of `parts` taken out of the entry names in it.
fn without_parts(sentence: &str, parts: &[String]) -> String {
    parts.iter().fold(sentence.to_owned(), |sentence, part| sentence.replace(&format!(" · {part}"), ""))
}

fn warning_sentence(warning: &Warning, hosts: usize) -> String {
    let others = |count: usize| match count {
        1 => String::new(),
        2 => " and 1 other entry".to_owned(),
        _ => format!(" and {} other entries", count - 1),
    };
    match warning {
        Warning::HighVariation { worst, spread, entries } => format!(
            "high variation: the standard deviation is {:.0}% of the mean in {}{}: \
             measure longer (`max_time`, or more `repetitions`), or on a quieter machine",
            spread * 100.0,
            entry_label(worst, hosts),
            others(*entries)
        ),
        Warning::Oversubscribed { worst, cpus, entries } => format!(
            "more workers than CPUs ({cpus}) in {}{}: CPU-bound work cannot gain past {cpus}",
            entry_label(worst, hosts),
            others(*entries)
        ),
        Warning::SlowFirstRun { worst, ratio, entries } => format!(
            "the first run took {ratio:.1}× the median of the others in {}{}: raise `warmup`",
            entry_label(worst, hosts),
            others(*entries)
        ),
        Warning::SerialFailed { group } => {
            format!("serial failed in {}: no speedup can be computed there", title(group, hosts))
        }
        Warning::PrecisionNotReached { entry, precision, runs, blocks, spent_s } => {
            let reached = match precision {
                Some(precision) => format!("±{}", percent(*precision)),
                None => "no 95% interval".to_owned(),
            };
            format!(
                "precision not reached in {}: {reached} after {runs} runs in {blocks} {} of processes ({}): raise `max_time`, or measure on a quieter machine",
                entry_label(entry, hosts),
                if *blocks == 1 { "block" } else { "blocks" },
                human_seconds(*spent_s)
            )
        }
        Warning::Disturbed { left_out, not_judged } => {
            let total: usize = left_out.iter().map(|(_, disturbed, _)| disturbed).sum();
            let named: Vec<String> = left_out
                .iter()
                .map(|(id, disturbed, runs)| format!("{} {disturbed} of {runs}", entry_label(id, hosts)))
                .collect();
            let mut sentence = format!(
                "other load on the machine took CPU that {} needed; the medians, intervals and speedups \
                 leave them out ({})",
                crate::vocab::count(total as u64, "run", "runs"),
                named.join(", ")
            );
            // An entry not judged for its serial's runs is said with that serial.
            let busy: Vec<String> = not_judged
                .iter()
                .filter(|(_, busy)| busy.runs_of == RunsOf::Entry)
                .map(|(id, own)| {
                    let behind = not_judged
                        .iter()
                        .filter(|(other, busy)| busy.runs_of == RunsOf::Serial && other.group == id.group)
                        .count();
                    let behind = match behind {
                        0 => String::new(),
                        1 => " and the entry judged against it".to_owned(),
                        _ => format!(" and the {behind} entries judged against it"),
                    };
                    format!("{} ({}){behind}", entry_label(id, hosts), self::busy(own))
                })
                .collect();
            if !busy.is_empty() {
                sentence.push_str(&format!(
                    "; too few undisturbed runs are left to judge {}: not judged (busy); {JUDGE_AGAIN}",
                    busy.join(", ")
                ));
            }
            sentence
        }
        Warning::BeyondCpus { entry, speedup, cpus_usable } => format!(
            "{} is {} faster than serial with {cpus_usable} CPU{} to use: more than those CPUs can give to CPU-bound \
             work. Likely a serial slowed by other load, or caches (the pool's share of the data fits where \
             serial's did not); not a basis for a recommendation",
            entry_label(entry, hosts),
            ratio(*speedup),
            if *cpus_usable == 1 { "" } else { "s" }
        ),
        Warning::TooFewRuns { worst, runs, level, entries } => format!(
            "too few runs for a 95% interval of the median in {}{}: min … max of {runs} {} covers it {} of the time, \
             and it takes 6: use repetitions = \"auto\"",
            entry_label(worst, hosts),
            others(*entries),
            if *runs == 1 { "block of processes" } else { "blocks of processes" },
            percent(*level)
        ),
    }
}

/// `7%`, `1.5%`, `93.75%`: as many digits as tell the value apart.
fn percent(fraction: f64) -> String {
    let value = fraction * 100.0;
    let text = if value >= 10.0 { format!("{value:.2}") } else { format!("{value:.1}") };
    let text =
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text };
    format!("{text}%")
}

/// What to do about an entry not judged (busy).
pub const JUDGE_AGAIN: &str = "run again when the machine is quiet, or set fixed repetitions";

/// `busy: 3 of 6 runs disturbed`, or `busy: 3 of 6 serial runs disturbed`
/// where its group's serial entry is what is not judged.
pub fn busy(busy: &Busy) -> String {
    let whose = match busy.runs_of {
        RunsOf::Entry => "",
        RunsOf::Serial => "serial ",
    };
    format!("busy: {} of {} {whose}runs disturbed", busy.disturbed, busy.runs)
}

/// An entry's verdict as the tables and the summary say it: its verdict,
/// `not judged (busy: 3 of 6 runs disturbed)`, or nothing (serial, or no
/// serial to judge it against).
pub fn entry_verdict(entry: &EntryStats) -> String {
    match (entry.busy, entry.verdict) {
        (Some(busy), _) => format!("not judged ({})", self::busy(&busy)),
        (None, Some(verdict)) => self::verdict(verdict).to_owned(),
        (None, None) => String::new(),
    }
}

/// The verdict of a speedup interval, as the crossover and the tables say it.
pub fn verdict(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Beats => "beats serial",
        Verdict::Slower => "slower than serial",
        Verdict::NoClearDifference => "no clear difference",
    }
}

/// `1.85× (95% CI 1.80× … 1.90×)`, or without an interval, why not.
fn speedup_and_interval(point: &Point) -> String {
    match point.interval {
        Some((low, high)) => format!("{}, 95% CI {} … {}", ratio(point.speedup), ratio(low), ratio(high)),
        None => format!("{}, too few blocks of processes for an interval", ratio(point.speedup)),
    }
}

fn chunk_choice(point: &Point) -> String {
    match &point.chunk_of {
        Some((chunk, count)) => {
            format!(" with chunk {}, the best of {count} chunk sizes, chosen after measuring", chunk.label())
        }
        None => String::new(),
    }
}

fn crossover_sentence(crossover: &Crossover, hosts: usize) -> String {
    match crossover {
        Crossover::Point { group, strategy, workers, point } => {
            let verdict = match point.verdict {
                Verdict::Beats => "beats serial",
                Verdict::Slower => "is slower than serial",
                Verdict::NoClearDifference => "shows no clear difference from serial",
            };
            format!(
                "{}: {strategy} ×{workers}{} {verdict} ({})",
                title(group, hosts),
                chunk_choice(point),
                speedup_and_interval(point)
            )
        }
        Crossover::Series(series) => series_sentence(series),
    }
}

fn series_sentence(series: &Series) -> String {
    let workload = match &series.host {
        Some(host) => format!("{} on {host}", series.workload),
        None => series.workload.clone(),
    };
    let who = format!("{workload}: {} ×{}", series.strategy, series.workers);
    let axis = &series.axis;
    let name =
        |value: &str| if axis == "size" { format!("{value} items") } else { format!("{axis}={value}") };
    let range = format!("{}..{}", series.first, series.last);
    let fixed: Vec<String> = series.fixed.iter().map(|(name, value)| format!("{name}={value}")).collect();
    let mut context = if fixed.is_empty() { String::new() } else { format!(" (at {})", fixed.join(", ")) };
    if series.chunk_chosen {
        context.push_str("; at each point the best of several chunk sizes, chosen after measuring");
    }
    if !series.not_judged.is_empty() {
        let values: Vec<String> = series.not_judged.iter().map(|value| name(value)).collect();
        context.push_str(&format!("; not judged (busy) at {}, left out: {JUDGE_AGAIN}", values.join(", ")));
    }
    let everywhere = if series.not_judged.is_empty() { "everywhere measured" } else { "everywhere judged" };
    let (best_value, best_point) = &series.best;
    let best = format!("{} at {}", ratio(best_point.speedup), name(best_value));
    match &series.verdict {
        SeriesVerdict::Everywhere => {
            format!("{who} beats serial {everywhere} ({axis} {range}; best {best}){context}")
        }
        SeriesVerdict::From(value, point) => format!(
            "{who} beats serial from {} on ({} there; best {best}){context}",
            name(value),
            speedup_and_interval(point)
        ),
        SeriesVerdict::Never { slower: true } => {
            format!("{who} is slower than serial {everywhere} ({axis} {range}; best {best}){context}")
        }
        SeriesVerdict::Never { slower: false } => {
            format!("{who} never clearly beats serial for {axis} {range} (best {best}){context}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{error_line, ratio};

    #[test]
    fn a_long_error_is_cut_to_a_line_that_says_where_the_rest_is() {
        assert_eq!(error_line("exited 1"), "exited 1");
        let long = "x".repeat(5_000_000);
        let line = error_line(&long);
        assert!(line.len() < 500, "{}", line.len());
        assert!(
            line.ends_with("(4999700 more characters in the run's `error` cell of the per-run CSV)"),
            "{line}"
        );
        assert!(error_line("first\nsecond").starts_with("first… (7 more"));
    }

    #[test]
    fn ratios_keep_three_significant_digits_when_small() {
        assert_eq!(ratio(1.96), "1.96×");
        assert_eq!(ratio(0.35), "0.35×");
        assert_eq!(ratio(0.0047), "0.00470×");
        assert_eq!(ratio(0.00023), "0.000230×");
        // A hand-made CSV can hold a zero time; nothing may panic on it.
        assert_eq!(ratio(0.0), "0.00×");
        assert_eq!(ratio(f64::INFINITY), "inf×");
        assert_eq!(ratio(1e-300), "0.000000000000×");
    }
}
