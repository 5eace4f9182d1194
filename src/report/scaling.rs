//! The scaling answers in words, as `results/NAME.scaling.csv` and as JSON:
//! what the fits of `analysis::answers` mean for a person choosing a
//! strategy, a worker count and a list size.

use crate::vocab::Strategy;

use super::csv::writer;
use super::{human_seconds, text_cell, words};
use crate::analysis::answers::{
    Answers, BreakEvenFit, Choice, CostFit, CostNotFitted, FittedParameter, LeftOut, Model, Prediction,
    Recommendation, WorkerScaling, WorkloadKey,
};
use crate::analysis::scaling::{BreakEven, COST_MIN_SIZES, Interval, LEVEL, Trend};
use crate::analysis::{Busy, RunsOf};

mod json;
pub use json::{busy_json, json};

/// The sections printed after the table: how it scales, where pools pay,
/// and what to use. Empty when nothing could be fitted.
pub fn text(answers: &Answers, hosts: usize) -> String {
    let mut out = String::new();
    let width = super::table::terminal_width();
    let mut section = |title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            out.push_str(&format!("\n{title}:\n"));
            for line in lines {
                out.push_str(&super::table::wrap(&line, "  ", "    ", width));
            }
        }
    };
    section("How it scales", answers.workers.iter().map(|fit| worker_sentence(fit, hosts)).collect());
    section(
        "From what list size a pool pays",
        answers
            .costs
            .iter()
            .filter(|fit| fit.break_even.is_some() || !fit.left_out.is_empty())
            .map(|fit| cost_sentence(fit, hosts))
            .chain(answers.costs_not_fitted.iter().map(|unfitted| cost_not_fitted_sentence(unfitted, hosts)))
            .collect(),
    );
    section(
        "Recommendation",
        answers
            .recommendations
            .iter()
            .map(|recommendation| recommendation_sentence(recommendation, hosts))
            .collect(),
    );
    out
}

/// `spin · iterations=300`, with the host where there are several.
pub fn workload_title(key: &WorkloadKey, hosts: usize) -> String {
    let mut title = key.workload.clone();
    for (name, value) in &key.params {
        title.push_str(&format!(" · {name}={value}"));
    }
    if hosts > 1 {
        title.push_str(&format!(" · on {}", key.host));
    }
    title
}

/// A number for people: three significant digits, no exponent.
fn number(value: f64) -> String {
    if !value.is_finite() {
        return "∞".to_owned();
    }
    if value.abs() < 1e-9 {
        return "0".to_owned();
    }
    let decimals = (2 - value.abs().log10().floor() as i32).clamp(0, 12) as usize;
    format!("{value:.decimals$}")
}

/// A count of items with thousands separators: `45,000`.
pub fn items(value: f64) -> String {
    if !value.is_finite() {
        return "∞".to_owned();
    }
    // Two significant digits: the model is not better than that.
    let magnitude = 10f64.powi((value.abs().max(1.0).log10().floor() as i32 - 1).max(0));
    items_exact(((value / magnitude).round() * magnitude) as usize)
}

/// An estimate and its interval: `3.10× (2.90×–3.40×)`; an end that is
/// infinite as such, `3.10× (≥ 2.90×)`; never its low end above its high.
fn with_interval(estimate: &FittedParameter, show: impl Fn(f64) -> String) -> String {
    let value = if estimate.value.is_finite() { show(estimate.value) } else { "∞".to_owned() };
    match estimate.interval.and_then(|(low, high)| interval_text(low, high, &show)) {
        Some(interval) => format!("{value} ({interval})"),
        None => value,
    }
}

/// The inside of an interval's brackets, its ends put in order; `None`
/// where an end is not a number.
fn interval_text(low: f64, high: f64, show: impl Fn(f64) -> String) -> Option<String> {
    if low.is_nan() || high.is_nan() {
        return None;
    }
    let (low, high) = (low.min(high), low.max(high));
    Some(match (low.is_finite(), high.is_finite()) {
        (true, true) => format!("{}–{}", show(low), show(high)),
        (true, false) => format!("≥ {}", show(low)),
        (false, true) => format!("≤ {}", show(high)),
        (false, false) if low == high => "∞".to_owned(),
        (false, false) => "unbounded".to_owned(),
    })
}

pub fn worker_sentence(fit: &WorkerScaling, hosts: usize) -> String {
    let mut parts = Vec::new();
    let karp_flatt: Vec<(usize, f64)> =
        fit.points.iter().filter_map(|point| point.karp_flatt.map(|e| (point.workers, e))).collect();
    if let (Some(first), Some(last), Some(trend)) =
        (karp_flatt.first(), karp_flatt.last(), fit.karp_flatt_trend)
    {
        let what = match trend {
            Trend::Flat => "flat: a fixed serial fraction, as Amdahl's law assumes",
            Trend::Rising => "rising: an overhead that grows with the workers",
            Trend::Falling => "falling: the work gains more than the workers added (caches, or noise)",
        };
        parts.push(format!(
            "Karp–Flatt e = {} at {} workers … {} at {}, {what}",
            number(first.1),
            first.0,
            number(last.1),
            last.0
        ));
    }
    match &fit.amdahl {
        Ok(amdahl) => parts.push(format!(
            "Amdahl serial fraction f = {}{}",
            with_interval(&amdahl.serial_fraction, number),
            amdahl
                .capped_at
                .map(|cpus| format!(", counting workers past {cpus} as {cpus} CPUs"))
                .unwrap_or_default()
        )),
        Err(need) => parts.push(format!("Amdahl: insufficient data: need ≥ {need} worker counts")),
    }
    match &fit.usl {
        Ok(usl) => {
            let mut text = format!(
                "USL σ = {}, κ = {}",
                with_interval(&usl.sigma, number),
                with_interval(&usl.kappa, number)
            );
            match (&usl.peak_workers, &usl.peak_speedup) {
                (Some(workers), Some(speedup)) => text.push_str(&format!(
                    ", peak at N* = {} workers, {} there",
                    with_interval(workers, number),
                    with_interval(speedup, words::ratio)
                )),
                _ => text.push_str(", no peak (κ = 0: no cost of keeping workers in step)"),
            }
            text.push_str(&format!(", off by {:.1}% (relative RMS)", usl.rms * 100.0));
            parts.push(text);
        }
        Err(need) => parts
            .push(format!("USL: insufficient data: need ≥ {need} worker counts, have {}", fit.points.len())),
    }
    if fit.stops_at_cpus {
        let peak = match &fit.usl {
            Ok(usl) => usl.peak_workers.map(|peak| {
                format!(
                    "; the USL's peak at {} workers is only its curve bending over those flat points, not a worker count to use, and says nothing of a machine with more CPUs",
                    number(peak.value)
                )
            }),
            Err(_) => None,
        };
        parts.push(format!(
            "the measured points stop gaining at {cpus} workers, this host's CPU count: past it the workers take turns on {cpus} CPUs{}",
            peak.unwrap_or_default(),
            cpus = fit.cpus
        ));
    }
    if !fit.left_out.is_empty() {
        // Worker counts not judged for one reason are named together: all
        // of them, where serial was not judged.
        let mut reasons: Vec<(String, Vec<String>)> = Vec::new();
        for (workers, busy) in &fit.left_out {
            let reason = words::busy(busy);
            match reasons.iter_mut().find(|(said, _)| *said == reason) {
                Some((_, counts)) => counts.push(format!("×{workers}")),
                None => reasons.push((reason, vec![format!("×{workers}")])),
            }
        }
        let named: Vec<String> =
            reasons.iter().map(|(reason, counts)| format!("{} ({reason})", counts.join(", "))).collect();
        parts.push(format!("not judged (busy), left out: {}: {}", named.join(", "), words::JUDGE_AGAIN));
    }
    format!("{} · {}: {}", words::title(&fit.group, hosts), fit.strategy, parts.join("; "))
}

/// `1,000 items (busy: 3 of 6 runs disturbed), 10,000 items (…)`.
fn sizes_not_judged(left_out: &[LeftOut]) -> String {
    let sizes: Vec<String> = left_out
        .iter()
        .map(|(size, busy)| format!("{} items ({})", items_exact(*size), words::busy(busy)))
        .collect();
    sizes.join(", ")
}

fn break_even_text(break_even: &BreakEvenFit) -> String {
    let (smallest, largest) = break_even.measured;
    let range = format!("{}–{} items", items_exact(smallest), items_exact(largest));
    let interval = |text: &str| match break_even.interval {
        Some((low, high)) => {
            let high =
                if high > largest as f64 { "beyond the measured sizes".to_owned() } else { items(high) };
            format!("{text} ({}–{high})", items(low))
        }
        None => text.to_owned(),
    };
    let line = match (break_even.estimate, break_even.pays_from()) {
        (_, Some(from)) if from <= smallest as f64 => format!("pays at every measured size ({range})"),
        (_, Some(from)) => interval(&format!("pays from about {} items", items(from))),
        (BreakEven::From(beyond), None) => format!(
            "never pays in the measured range ({range}); the lines would cross at about {} items",
            items(beyond)
        ),
        _ => {
            format!("never pays in the measured range ({range}): its cost per item is no lower than serial's")
        }
    };
    // Where the lines disagree with the points themselves, say what the
    // points say.
    let from = break_even.pays_from();
    let disagrees = match (break_even.slower_up_to, break_even.beats_from, from) {
        (Some(slower), Some(beats), Some(from)) => {
            slower < beats && !(slower as f64..=beats as f64).contains(&from)
        }
        (Some(_), None, Some(_)) | (_, Some(_), None) => true,
        (None, Some(beats), Some(from)) => from > beats as f64,
        (None, None, _) | (_, None, None) => false,
    };
    if !disagrees {
        return line;
    }
    let points = match (break_even.slower_up_to, break_even.beats_from) {
        (Some(slower), Some(beats)) if slower < beats => format!(
            "the measured points beat serial from {} items, not at {}",
            items_exact(beats),
            items_exact(slower)
        ),
        (_, Some(beats)) => format!("the measured points beat serial at {} items", items_exact(beats)),
        (Some(slower), None) => {
            format!("the measured points do not beat serial up to {} items", items_exact(slower))
        }
        (None, None) => return line,
    };
    format!("{line}, but {points}: the lines fit them loosely")
}

pub fn cost_sentence(fit: &CostFit, hosts: usize) -> String {
    let how = format!("{} ×{}", fit.strategy, fit.workers);
    let mut text = format!("{}: {how}", workload_title(&fit.key, hosts));
    if let Some(break_even) = &fit.break_even {
        text.push_str(&format!(" {}", break_even_text(break_even)));
    }
    text.push_str(&format!(
        "; t(n) = {} + {} per item, off by {:.0}%",
        human_seconds(fit.line.fixed_s),
        human_seconds(fit.line.per_item_s),
        fit.rms * 100.0
    ));
    if !fit.left_out.is_empty() {
        text.push_str(&format!(
            "; not judged (busy), left out: {}: {}",
            sizes_not_judged(&fit.left_out),
            words::JUDGE_AGAIN
        ));
    }
    text
}

/// A cost line that list sizes not judged (busy) left unfitted.
pub fn cost_not_fitted_sentence(unfitted: &CostNotFitted, hosts: usize) -> String {
    let how = if unfitted.strategy == Strategy::Serial {
        format!("{} (what every pool's break-even is measured against)", unfitted.strategy)
    } else {
        format!("{} ×{}", unfitted.strategy, unfitted.workers)
    };
    format!(
        "{}: {how}: no cost line: {} of the {COST_MIN_SIZES} list sizes it needs are judged; not judged (busy): {}: {}",
        workload_title(&unfitted.key, hosts),
        unfitted.sizes.len(),
        sizes_not_judged(&unfitted.left_out),
        words::JUDGE_AGAIN
    )
}

fn how(choice: &Choice) -> String {
    if choice.strategy == Strategy::Serial {
        Strategy::Serial.name().to_owned()
    } else {
        format!("{} ×{}", choice.strategy, choice.workers)
    }
}

pub fn recommendation_sentence(recommendation: &Recommendation, hosts: usize) -> String {
    let mut runs: Vec<(String, Vec<&Choice>)> = Vec::new();
    for choice in &recommendation.choices {
        match runs.last_mut() {
            Some((name, choices)) if *name == how(choice) => choices.push(choice),
            _ => runs.push((how(choice), vec![choice])),
        }
    }
    let clauses: Vec<String> = runs
        .iter()
        .map(|(name, choices)| {
            let sizes: Vec<String> = choices.iter().map(|choice| items_exact(choice.list_size)).collect();
            let gains: Vec<String> = choices
                .iter()
                .filter(|choice| !choice.is_reference())
                .map(|choice| words::ratio(choice.speedup))
                .collect();
            let gains = if gains.is_empty() { String::new() } else { format!(" ({})", gains.join(", ")) };
            let noise = if choices.iter().any(|choice| choice.is_reference() && choice.rest_within_noise) {
                ": nothing measured clearly beats it, the rest are within noise or slower"
            } else {
                ""
            };
            format!("{name} at {} items{gains}{noise}", join_words(&sizes))
        })
        .collect();
    let title = workload_title(&recommendation.key, hosts);
    let failed = failed_text(recommendation);
    let mut sentence = match (clauses.is_empty(), failed.is_empty()) {
        (false, true) => format!("{title}: use {}", join_words(&clauses)),
        (false, false) => format!("{title}: use {}; no recommendation where {failed}", join_words(&clauses)),
        (true, true) => format!("{title}: no recommendation"),
        (true, false) => format!("{title}: no recommendation: {failed}"),
    };
    if let Some((strategy, workers)) =
        recommendation.choices.iter().find_map(|choice| choice.reference.as_ref())
    {
        let which = if recommendation.not_judged.is_empty() { "measured" } else { "judged" };
        sentence.push_str(&format!(
            "; serial was not measured, so each pool is compared with {strategy} ×{workers}, the fewest workers {which}"
        ));
    }
    sentence.push_str(&not_judged_text(recommendation));
    if let Some(cpus) = recommendation.capped_at {
        sentence.push_str(&format!("; more workers gain nothing on this host's {cpus} CPUs"));
    }
    if let Some(why) = recommendation.no_prediction {
        sentence.push_str(&format!("; no prediction: {why}"));
    }
    if let Some((strategy, prediction)) = &recommendation.prediction {
        sentence.push_str(&format!("; {}", prediction_text(strategy, prediction)));
    }
    sentence.push('.');
    sentence
}

/// The entries without an ok run that left nothing to choose:
/// `serial failed all 3 runs (timeout)`, with the list size where the
/// recommendation is about several; empty where there are none.
fn failed_text(recommendation: &Recommendation) -> String {
    let sizes: std::collections::BTreeSet<usize> = recommendation
        .choices
        .iter()
        .map(|choice| choice.list_size)
        .chain(recommendation.undecided.iter().copied())
        .chain(recommendation.failed.iter().map(|failed| failed.id.group.list_size))
        .collect();
    let phrases: Vec<String> = recommendation
        .failed
        .iter()
        .map(|failed| {
            let runs = match failed.runs {
                1 => "its 1 run".to_owned(),
                runs => format!("all {runs} runs"),
            };
            let at = match sizes.len() {
                1 => String::new(),
                _ => format!(" at {} items", items_exact(failed.id.group.list_size)),
            };
            let statuses: Vec<String> = match failed.not_ok.as_slice() {
                [(status, _)] => vec![status.name().to_owned()],
                several => {
                    several.iter().map(|(status, count)| format!("{count} {}", status.name())).collect()
                }
            };
            format!("{} failed {runs}{at} ({})", words::how(&failed.id), statuses.join(", "))
        })
        .collect();
    join_words(&phrases)
}

/// What a recommendation could not judge, and what to do: empty where it
/// judged everything. An entry not judged for its serial's runs is said
/// with that serial.
fn not_judged_text(recommendation: &Recommendation) -> String {
    let named: Vec<String> = recommendation
        .not_judged
        .iter()
        .filter(|(_, busy)| busy.runs_of == RunsOf::Entry)
        .map(|(id, busy)| {
            format!("{} at {} items ({})", words::how(id), items_exact(id.group.list_size), words::busy(busy))
        })
        .collect();
    if named.is_empty() && recommendation.undecided.is_empty() {
        return String::new();
    }
    let mut text = String::new();
    if !named.is_empty() {
        text.push_str(&format!(
            "; not judged (busy), so neither recommended nor compared with: {}",
            named.join(", ")
        ));
    }
    if !recommendation.undecided.is_empty() {
        let sizes: Vec<String> = recommendation.undecided.iter().map(|size| items_exact(*size)).collect();
        text.push_str(&format!("; nothing judged to choose from at {} items", join_words(&sizes)));
    }
    format!("{text}: {}", words::JUDGE_AGAIN)
}

pub fn prediction_text(strategy: &Strategy, prediction: &Prediction) -> String {
    let model = match prediction.model {
        Model::Usl => "the USL",
        Model::Amdahl => "Amdahl's law",
    };
    let mut text = format!(
        "on a machine with {} CPUs {model} predicts {} for {strategy} ×{}",
        prediction.workers,
        with_interval(&prediction.speedup, words::ratio),
        prediction.workers
    );
    if prediction.extrapolated {
        text.push_str(&format!(
            " (warning: an extrapolation, beyond twice the largest worker count measured, {})",
            prediction.largest_measured
        ));
    }
    text
}

fn items_exact(size: usize) -> String {
    let digits = size.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

fn join_words(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

// ---------------------------------------------------------------- CSV

/// The columns of `results/NAME.scaling.csv` after `param_NAME…` and
/// `model`; see docs/RESULTS.md.
/// A cell for a number: plain decimals with about six significant digits
/// (never an exponent), `inf` for infinity.
fn cell(value: f64) -> String {
    if value.is_infinite() {
        return if value > 0.0 { "inf".to_owned() } else { "-inf".to_owned() };
    }
    if !value.is_finite() {
        return String::new();
    }
    if value == 0.0 {
        return "0".to_owned();
    }
    let decimals = (5 - value.abs().log10().floor() as i32).clamp(0, 18) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
}

fn estimate_cells(estimate: Option<&FittedParameter>) -> [String; 3] {
    match estimate {
        Some(estimate) => {
            let (low, high) = estimate
                .interval
                .map_or((String::new(), String::new()), |(low, high)| (cell(low), cell(high)));
            [cell(estimate.value), low, high]
        }
        None => Default::default(),
    }
}

/// One row of `NAME.scaling.csv`: a model fitted to a workload run one
/// way. [`ScalingRow::columns`] is the one place its columns are named and
/// written, in file order.
#[derive(Default)]
struct ScalingRow<'a> {
    key: Option<&'a WorkloadKey>,
    /// Empty for the cost model, which spans list sizes.
    list_size: String,
    strategy: &'a str,
    model: &'static str,
    points: usize,
    serial_fraction: Option<&'a FittedParameter>,
    sigma: Option<&'a FittedParameter>,
    kappa: Option<&'a FittedParameter>,
    peak_workers: Option<&'a FittedParameter>,
    peak_speedup: Option<&'a FittedParameter>,
    fixed_s: Option<&'a FittedParameter>,
    per_item_s: Option<&'a FittedParameter>,
    /// The break-even list size and its interval.
    break_even_items: Option<(f64, Option<(f64, f64)>)>,
    rms: Option<f64>,
    /// The cost model's worker count; empty for the others.
    workers: Option<usize>,
}

impl ScalingRow<'_> {
    /// (column, cell) in file order; the parameters follow `list_size`.
    fn columns(&self, param_names: &[String]) -> Vec<(String, String)> {
        let key =
            |pick: fn(&WorkloadKey) -> &String| self.key.map(|key| text_cell(pick(key))).unwrap_or_default();
        let mut columns = vec![
            ("workload".to_owned(), key(|key| &key.workload)),
            ("generator".to_owned(), key(|key| &key.generator)),
            ("list_size".to_owned(), self.list_size.clone()),
            ("strategy".to_owned(), self.strategy.to_owned()),
        ];
        for name in param_names {
            let value = self.key.and_then(|key| key.params.iter().find(|(param, _)| param == name));
            columns.push((
                format!("param_{name}"),
                value.map(|(_, value)| text_cell(value)).unwrap_or_default(),
            ));
        }
        columns.push(("model".to_owned(), self.model.to_owned()));
        columns.push(("points".to_owned(), self.points.to_string()));
        let fitted = [
            ("serial_fraction", self.serial_fraction),
            ("sigma", self.sigma),
            ("kappa", self.kappa),
            ("peak_workers", self.peak_workers),
            ("peak_speedup", self.peak_speedup),
            ("fixed_s", self.fixed_s),
            ("per_item_s", self.per_item_s),
        ];
        let break_even =
            self.break_even_items.map(|(items, interval)| FittedParameter { value: items, interval });
        let fitted: Vec<(&str, Option<&FittedParameter>)> =
            fitted.into_iter().chain([("break_even_items", break_even.as_ref())]).collect();
        for (name, estimate) in &fitted {
            let [value, low, high] = estimate_cells(*estimate);
            columns.extend([
                ((*name).to_owned(), value),
                (format!("{name}_low"), low),
                (format!("{name}_high"), high),
            ]);
        }
        columns.extend([
            ("rms".to_owned(), self.rms.map(cell).unwrap_or_default()),
            ("workers".to_owned(), self.workers.map(|workers| workers.to_string()).unwrap_or_default()),
            ("host".to_owned(), key(|key| &key.host)),
            ("job".to_owned(), key(|key| &key.job)),
        ]);
        // Each interval's level, added at the end of the fixed part so that
        // the columns before keep their places.
        for (name, estimate) in fitted {
            let level = estimate.and_then(|estimate| estimate.interval).map(|_| cell(LEVEL));
            columns.push((format!("{name}_level"), level.unwrap_or_default()));
        }
        columns
    }
}

pub fn to_csv(answers: &Answers, param_names: &[String]) -> Vec<u8> {
    let mut csv = writer(Vec::new());
    let header: Vec<String> =
        ScalingRow::default().columns(param_names).into_iter().map(|(name, _)| name).collect();
    csv.write_record(&header).expect("writing to memory");
    let mut write = |row: ScalingRow<'_>| {
        let cells: Vec<String> = row.columns(param_names).into_iter().map(|(_, cell)| cell).collect();
        csv.write_record(&cells).expect("writing to memory");
    };
    let keys: Vec<WorkloadKey> = answers.workers.iter().map(|fit| WorkloadKey::of(&fit.group)).collect();
    for (fit, key) in answers.workers.iter().zip(&keys) {
        let lead = |model| ScalingRow {
            key: Some(key),
            list_size: fit.group.list_size.to_string(),
            strategy: fit.strategy.name(),
            model,
            points: fit.points.len(),
            ..ScalingRow::default()
        };
        if let Ok(amdahl) = &fit.amdahl {
            write(ScalingRow {
                serial_fraction: Some(&amdahl.serial_fraction),
                rms: Some(amdahl.rms),
                ..lead("amdahl")
            });
        }
        if let Ok(usl) = &fit.usl {
            write(ScalingRow {
                sigma: Some(&usl.sigma),
                kappa: Some(&usl.kappa),
                peak_workers: usl.peak_workers.as_ref(),
                peak_speedup: usl.peak_speedup.as_ref(),
                rms: Some(usl.rms),
                ..lead("usl")
            });
        }
    }
    for fit in &answers.costs {
        write(ScalingRow {
            key: Some(&fit.key),
            list_size: String::new(),
            strategy: fit.strategy.name(),
            model: "cost",
            points: fit.points.len(),
            fixed_s: Some(&fit.fixed_s),
            per_item_s: Some(&fit.per_item_s),
            break_even_items: fit
                .break_even
                .as_ref()
                .map(|break_even| (break_even.estimate.items(), break_even.interval)),
            rms: Some(fit.rms),
            workers: Some(fit.workers),
            ..ScalingRow::default()
        });
    }
    csv.into_inner().expect("writing to memory")
}

// ---------------------------------------------------------------- JSON

#[cfg(test)]
mod tests;
