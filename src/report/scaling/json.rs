//! The scaling answers as JSON, for `report --json` (`report::json`).

use serde_json::{Value, json};

use super::*;

fn estimate_json(estimate: Option<&FittedParameter>) -> Value {
    match estimate {
        Some(estimate) => json!({
            "value": finite(estimate.value),
            "interval": interval_json(estimate.interval),
            "level": level_json(estimate.interval),
        }),
        None => Value::Null,
    }
}

fn interval_json(interval: Option<Interval>) -> Value {
    json!(interval.map(|(low, high)| [finite(low), finite(high)]))
}

/// The level an interval is made for, beside it; null where there is none.
fn level_json(interval: Option<Interval>) -> Value {
    json!(interval.map(|_| LEVEL))
}

/// JSON has no infinity: null stands for it (documented).
fn finite(value: f64) -> Value {
    if value.is_finite() { json!(value) } else { Value::Null }
}

/// The `scaling` object of `report --json`.
pub fn json(answers: &Answers, hosts: usize) -> Value {
    json!({
        "workers": answers.workers.iter().map(|fit| worker_json(fit, hosts)).collect::<Vec<_>>(),
        "costs": answers.costs.iter().map(|fit| cost_json(fit, hosts)).collect::<Vec<_>>(),
        "costs_not_fitted": answers
            .costs_not_fitted
            .iter()
            .map(|unfitted| cost_not_fitted_json(unfitted, hosts))
            .collect::<Vec<_>>(),
        "recommendations": answers
            .recommendations
            .iter()
            .map(|recommendation| recommendation_json(recommendation, hosts))
            .collect::<Vec<_>>(),
    })
}

fn params_json(params: &[(String, String)]) -> std::collections::BTreeMap<String, String> {
    params.iter().cloned().collect()
}

/// One strategy's worker-count fits in one group.
fn worker_json(fit: &WorkerScaling, hosts: usize) -> Value {
    json!({
        "workload": fit.group.workload,
        "host": fit.group.host,
        "list_size": fit.group.list_size,
        "params": params_json(&fit.group.params),
        "strategy": fit.strategy,
        "cpus": fit.cpus,
        "points": fit.points.iter().map(|point| json!({
            "workers": point.workers,
            "speedup": finite(point.speedup),
            "karp_flatt": point.karp_flatt.map(finite),
        })).collect::<Vec<_>>(),
        "karp_flatt_trend": fit.karp_flatt_trend.map(|trend| match trend {
            Trend::Flat => "flat",
            Trend::Rising => "rising",
            Trend::Falling => "falling",
        }),
        "amdahl": fit.amdahl.as_ref().ok().map(|amdahl| json!({
            "serial_fraction": estimate_json(Some(&amdahl.serial_fraction)),
            "rms": amdahl.rms,
            "capped_at_cpus": amdahl.capped_at,
        })),
        "usl": fit.usl.as_ref().ok().map(|usl| json!({
            "sigma": estimate_json(Some(&usl.sigma)),
            "kappa": estimate_json(Some(&usl.kappa)),
            "peak_workers": estimate_json(usl.peak_workers.as_ref()),
            "peak_speedup": estimate_json(usl.peak_speedup.as_ref()),
            "rms": usl.rms,
        })),
        "stops_at_cpus": fit.stops_at_cpus,
        "not_judged": fit.left_out.iter().map(|(workers, busy)| json!({
            "workers": workers,
            "busy": busy_json(busy),
        })).collect::<Vec<_>>(),
        "sentence": worker_sentence(fit, hosts),
    })
}

/// One way of running a workload's cost line, and where it pays.
fn cost_json(fit: &CostFit, hosts: usize) -> Value {
    json!({
        "workload": fit.key.workload,
        "host": fit.key.host,
        "params": params_json(&fit.key.params),
        "strategy": fit.strategy,
        "workers": fit.workers,
        "points": fit.points.iter().map(|(size, seconds)| json!([size, seconds])).collect::<Vec<_>>(),
        "fixed_s": estimate_json(Some(&fit.fixed_s)),
        "per_item_s": estimate_json(Some(&fit.per_item_s)),
        "rms": fit.rms,
        "break_even_items": fit.break_even.as_ref().map(|break_even| json!({
            "value": finite(break_even.estimate.items()),
            "never": break_even.estimate == BreakEven::Never,
            "interval": interval_json(break_even.interval),
            "level": level_json(break_even.interval),
            "pays_in_measured_range": break_even.pays_from().is_some(),
        })),
        "not_judged": sizes_json(&fit.left_out),
        "sentence": (fit.break_even.is_some() || !fit.left_out.is_empty()).then(|| cost_sentence(fit, hosts)),
    })
}

fn cost_not_fitted_json(unfitted: &CostNotFitted, hosts: usize) -> Value {
    json!({
        "workload": unfitted.key.workload,
        "host": unfitted.key.host,
        "params": params_json(&unfitted.key.params),
        "strategy": unfitted.strategy,
        "workers": unfitted.workers,
        "list_sizes_judged": unfitted.sizes,
        "not_judged": sizes_json(&unfitted.left_out),
        "sentence": cost_not_fitted_sentence(unfitted, hosts),
    })
}

fn recommendation_json(recommendation: &Recommendation, hosts: usize) -> Value {
    json!({
        "workload": recommendation.key.workload,
        "host": recommendation.key.host,
        "params": params_json(&recommendation.key.params),
        "choices": recommendation.choices.iter().map(|choice| json!({
            "list_size": choice.list_size,
            "strategy": choice.strategy,
            "workers": choice.workers,
            "speedup": finite(choice.speedup),
        })).collect::<Vec<_>>(),
        "not_judged": recommendation.not_judged.iter().map(|(id, busy)| json!({
            "list_size": id.group.list_size,
            "strategy": id.strategy.name(),
            "workers": id.workers,
            "chunk_size": id.chunking.size(),
            "chunk_policy": id.chunking.policy(),
            "busy": busy_json(busy),
        })).collect::<Vec<_>>(),
        "undecided_list_sizes": recommendation.undecided,
        "capped_at_cpus": recommendation.capped_at,
        "prediction": recommendation.prediction.as_ref().map(|(strategy, prediction)| json!({
            "strategy": strategy,
            "workers": prediction.workers,
            "model": match prediction.model { Model::Usl => "usl", Model::Amdahl => "amdahl" },
            "speedup": estimate_json(Some(&prediction.speedup)),
            "extrapolated": prediction.extrapolated,
        })),
        "sentence": recommendation_sentence(recommendation, hosts),
    })
}

/// Why something is not judged, as the entries' `busy` says it.
pub fn busy_json(busy: &Busy) -> Value {
    json!({
        "runs_of": match busy.runs_of { RunsOf::Entry => "entry", RunsOf::Serial => "serial" },
        "disturbed_runs": busy.disturbed,
        "runs": busy.runs,
    })
}

fn sizes_json(left_out: &[LeftOut]) -> Vec<Value> {
    left_out.iter().map(|(size, busy)| json!({ "list_size": size, "busy": busy_json(busy) })).collect()
}
