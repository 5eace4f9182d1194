//! `[run]`: the settings a workload may override (strategies, workers,
//! repetitions, chunk sizes) and those it may not (warm-up, order, pin,
//! timeout, when "auto" repetitions stop).

use toml::{Spanned, Value};

use super::super::bounds::{MAX_TIMEOUT, MAX_WORKERS};
use super::super::raw::{OneOrMany, RawRun};
use super::super::suggest::choices;
use super::super::{JobError, Locator};
use super::values::{at_most, axis, count, integer, positive, type_name, unique};
use crate::vocab::{ChunkSize, Order, Pin, PoolStart, Precision, Repetitions, Strategy, WorkerCount};

type Result<T> = std::result::Result<T, JobError>;

/// Run-wide settings that workloads may override.
pub(super) struct Defaults {
    pub(super) strategies: Vec<Strategy>,
    pub(super) workers: Vec<WorkerCount>,
    pub(super) repetitions: Repetitions,
    pub(super) chunk_sizes: Vec<ChunkSize>,
}

pub(super) fn defaults(run: &RawRun, at: &Locator) -> Result<Defaults> {
    Ok(Defaults {
        strategies: strategies(&run.strategies, at)?,
        workers: match &run.workers {
            Some(workers) => self::workers(workers, at)?,
            None => vec![WorkerCount::Cpus],
        },
        repetitions: match &run.repetitions {
            Some(repetitions) => self::repetitions(repetitions, at)?,
            None => Repetitions::Auto,
        },
        chunk_sizes: match &run.chunk_size {
            Some(chunk_size) => chunk_sizes(chunk_size, at)?,
            None => vec![ChunkSize::Auto],
        },
    })
}

/// The `[run]` settings no workload overrides.
pub(super) struct Settings {
    pub(super) warmup: u32,
    pub(super) order: Order,
    pub(super) pin: Pin,
    pub(super) pool_start: Option<(PoolStart, usize)>,
    pub(super) timeout: Option<std::time::Duration>,
    pub(super) precision: Precision,
    pub(super) order_seed: Option<u64>,
}

pub(super) fn settings(run: &RawRun, at: &Locator) -> Result<Settings> {
    let warmup = match &run.warmup {
        Some(warmup) => count(warmup, 0, "warmup", at)?,
        None => 1,
    };
    let order = match &run.order {
        None => Order::Interleaved,
        Some(order) => match order.get_ref().as_str() {
            "interleaved" => Order::Interleaved,
            "grouped" => Order::Grouped,
            other => {
                return Err(at.error(
                    order.span().start,
                    format!("unknown order \"{other}\"; {}", choices(other, &["interleaved", "grouped"])),
                ));
            }
        },
    };
    let pin = match &run.pin {
        None => Pin::Cores,
        Some(pin) => Pin::parse(pin.get_ref()).ok_or_else(|| {
            at.error(
                pin.span().start,
                format!("unknown pin \"{}\"; {}", pin.get_ref(), choices(pin.get_ref(), Pin::NAMES)),
            )
        })?,
    };
    // With where it was said, for the refusal of python pools.
    let pool_start = match &run.pool_start {
        None => None,
        Some(said) => Some((
            PoolStart::parse(said.get_ref()).ok_or_else(|| {
                at.error(
                    said.span().start,
                    format!(
                        "unknown pool_start \"{}\"; {}",
                        said.get_ref(),
                        choices(said.get_ref(), PoolStart::NAMES)
                    ),
                )
            })?,
            said.span().start,
        )),
    };
    let timeout = match &run.timeout {
        Some(timeout) => Some(duration(timeout, "timeout", false, at)?),
        None => None,
    };
    let precision = precision(run, at)?;
    let order_seed = match &run.order_seed {
        Some(seed) => Some(integer(seed, 0, "order_seed", at)? as u64),
        None => None,
    };
    Ok(Settings { warmup, order, pin, pool_start, timeout, precision, order_seed })
}

pub(super) fn strategies(axis_value: &Spanned<OneOrMany>, at: &Locator) -> Result<Vec<Strategy>> {
    let strategies = axis(axis_value, "strategies", at, |value, offset| {
        let Value::String(name) = value else {
            return Err(at.error(
                offset,
                format!("a strategy is a string; expected one of {}", Strategy::NAMES.join(", ")),
            ));
        };
        Strategy::parse(name).ok_or_else(|| {
            at.error(offset, format!("unknown strategy \"{name}\"; {}", choices(name, Strategy::NAMES)))
        })
    })?;
    unique(&strategies, axis_value, "strategy", at)?;
    Ok(strategies)
}

pub(super) fn workers(axis_value: &Spanned<OneOrMany>, at: &Locator) -> Result<Vec<WorkerCount>> {
    let workers = axis(axis_value, "workers", at, |value, offset| match value {
        Value::String(text) if text == "cpus" => Ok(WorkerCount::Cpus),
        Value::String(text) => Err(at.error(
            offset,
            format!("unknown worker count \"{text}\"; expected a number of at least 1 or \"cpus\""),
        )),
        _ => positive(value, offset, "workers", at)
            .and_then(|count| at_most(count, MAX_WORKERS, offset, "workers", at))
            .map(WorkerCount::Fixed),
    })?;
    unique(&workers, axis_value, "worker count", at)?;
    Ok(workers)
}

pub(super) fn chunk_sizes(axis_value: &Spanned<OneOrMany>, at: &Locator) -> Result<Vec<ChunkSize>> {
    let sizes = axis(axis_value, "chunk_size", at, |value, offset| match value {
        Value::String(text) if text == "auto" => Ok(ChunkSize::Auto),
        Value::String(text) => Err(at.error(
            offset,
            format!("unknown chunk size \"{text}\"; expected \"auto\" or a number of at least 1"),
        )),
        _ => positive(value, offset, "chunk_size", at).map(ChunkSize::Fixed),
    })?;
    unique(&sizes, axis_value, "chunk size", at)?;
    Ok(sizes)
}

/// `repetitions = N` or `"auto"`.
pub(super) fn repetitions(value: &Spanned<Value>, at: &Locator) -> Result<Repetitions> {
    match value.get_ref() {
        Value::String(text) if text == "auto" => Ok(Repetitions::Auto),
        Value::Integer(_) => {
            let number = integer(value, 1, "repetitions", at)?;
            u32::try_from(number)
                .map(Repetitions::Fixed)
                .map_err(|_| at.error(value.span().start, format!("\"repetitions\" is too large ({number})")))
        }
        other => Err(at.error(
            value.span().start,
            format!("\"repetitions\" is a whole number of at least 1 or \"auto\", not {}", describe(other)),
        )),
    }
}

/// `precision`, `min_repetitions`, `min_span` and `max_time`: when "auto" stops.
fn precision(run: &RawRun, at: &Locator) -> Result<Precision> {
    let mut precision = Precision::default();
    if let Some(value) = &run.precision {
        let bad = |what: String| {
            at.error(
                value.span().start,
                format!("\"precision\" is a percentage above 0% and below 100%, such as \"2%\", not {what}"),
            )
        };
        let Value::String(text) = value.get_ref() else {
            return Err(bad(describe(value.get_ref())));
        };
        let percent: f64 = text
            .trim()
            .strip_suffix('%')
            .and_then(|number| number.trim().parse().ok())
            .ok_or_else(|| bad(format!("\"{text}\"")))?;
        if !(percent > 0.0 && percent < 100.0) {
            return Err(bad(format!("\"{text}\"")));
        }
        precision.target = percent / 100.0;
    }
    if let Some(value) = &run.min_repetitions {
        precision.min_repetitions = count(value, 1, "min_repetitions", at)?;
    }
    if let Some(value) = &run.min_span {
        // "0s" turns the rule off.
        precision.min_span = duration(value, "min_span", true, at)?;
    }
    if let Some(value) = &run.max_time {
        precision.max_time = duration(value, "max_time", false, at)?;
    }
    Ok(precision)
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(text) => format!("\"{text}\""),
        other => type_name(other).to_owned(),
    }
}

/// A duration up to 366 days; zero only where it `may_be_zero`.
fn duration(
    value: &Spanned<String>,
    key: &str,
    may_be_zero: bool,
    at: &Locator,
) -> Result<std::time::Duration> {
    let text = value.get_ref();
    match humantime::parse_duration(text.trim()) {
        Ok(duration) if duration > MAX_TIMEOUT => Err(at.error(
            value.span().start,
            format!("{key} \"{text}\" is longer than the limit of 366 days; a run that long is a typo"),
        )),
        Ok(duration) if may_be_zero || !duration.is_zero() => Ok(duration),
        Ok(_) => Err(at.error(value.span().start, format!("{key} must be longer than zero"))),
        Err(_) => Err(at.error(
            value.span().start,
            format!("invalid duration \"{text}\" for {key}; write a number and a unit, such as \"500ms\", \"30s\", \"2m\" or \"1h\""),
        )),
    }
}
