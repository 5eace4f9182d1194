//! Raw job → [`Job`]: every semantic check, each error at the value it is
//! about. Checks run in file order so the first error reported is the first
//! a reader meets.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::{Spanned, Value};

use super::raw::{Axis, RawJob, RawRun, RawWorkload, Table};
use super::suggest::choices;
use super::{Job, JobError, Locator, ParamValue, Workload, WorkloadKind};
use crate::generator::{self, Generator};
use crate::vocab::{ChunkSize, Order, Pin, Precision, Repetitions, Strategy, WorkerCount, io_reason};
use crate::workload::{BUILTINS, BuiltinSpec, Protocol, find_builtin};

type Result<T> = std::result::Result<T, JobError>;

/// A billion numbers is 8 GB in and 8 GB out; past that a typo is likelier
/// than an experiment.
pub(super) const MAX_LIST_SIZE: usize = 1_000_000_000;
/// Each worker is a thread or a process; thousands would exhaust the machine
/// before they measured anything.
pub(super) const MAX_WORKERS: usize = 1024;
/// A deadline is `now + timeout`: bounded, so that it cannot overflow.
const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(366 * 24 * 3600);
/// Entries of one workload at most: each runs at least once, so more is a
/// typo, not a plan.
const MAX_ENTRIES: usize = 100_000;
/// Runs of one job at most: ten million runs of the cheapest builtin take
/// hours; more is a typo (`repetitions = 4294967295`), and the runner's
/// bookkeeping for them would not fit in memory.
pub const MAX_RUNS: u64 = 10_000_000;

fn at_most(value: usize, max: usize, offset: usize, key: &str, at: &Locator) -> Result<usize> {
    if value > max {
        return Err(at.error(offset, format!("\"{key}\" is at most {max}, not {value}")));
    }
    Ok(value)
}

/// Run-wide settings that workloads may override.
struct RunDefaults {
    strategies: Vec<Strategy>,
    workers: Vec<WorkerCount>,
    repetitions: Repetitions,
    chunk_sizes: Vec<ChunkSize>,
}

pub(super) fn validate(raw: RawJob, at: &Locator) -> Result<Job> {
    if *raw.version.get_ref() != 1 {
        return Err(at.error(
            raw.version.span().start,
            format!(
                "unsupported version {}; this parbench reads job files of version 1",
                raw.version.get_ref()
            ),
        ));
    }
    let name = match &raw.name {
        Some(name) => check_name(name, at)?,
        None => default_name(at)?,
    };
    let dir = at.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };

    let (generator, sizes) = list(&raw.list, &dir, at)?;
    let defaults = run_defaults(raw.run.get_ref(), at)?;
    let warmup = match &raw.run.get_ref().warmup {
        Some(warmup) => count(warmup, 0, "warmup", at)?,
        None => 1,
    };
    let order = match &raw.run.get_ref().order {
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
    let pin = match &raw.run.get_ref().pin {
        None => Pin::Cores,
        Some(pin) => Pin::parse(pin.get_ref()).ok_or_else(|| {
            at.error(
                pin.span().start,
                format!("unknown pin \"{}\"; {}", pin.get_ref(), choices(pin.get_ref(), Pin::NAMES)),
            )
        })?,
    };
    let timeout = match &raw.run.get_ref().timeout {
        Some(timeout) => Some(duration(timeout, "timeout", false, at)?),
        None => None,
    };
    let precision = precision(raw.run.get_ref(), at)?;
    let order_seed = match &raw.run.get_ref().order_seed {
        Some(seed) => Some(integer(seed, 0, "order_seed", at)? as u64),
        None => None,
    };

    let raw_workloads = match &raw.workload {
        Some(workloads) if !workloads.get_ref().is_empty() => workloads.get_ref(),
        other => {
            let offset = other.as_ref().map_or(at.source.len(), |workloads| workloads.span().start);
            return Err(at.error(
                offset,
                "no workload; add at least one [[workload]] with a name and a builtin or command",
            ));
        }
    };
    let mut seen = HashSet::new();
    let mut workloads = Vec::new();
    for workload in raw_workloads {
        let workload_name = workload.get_ref().name.get_ref();
        if !seen.insert(workload_name.clone()) {
            return Err(at.error(
                workload.get_ref().name.span().start,
                format!("duplicate workload name \"{workload_name}\"; each workload needs its own name"),
            ));
        }
        workloads.push(self::workload(workload, &defaults, &generator, &dir, at)?);
    }

    // A typo in an axis can ask for more entries than any machine holds;
    // the caps hold per workload and for the whole job.
    let (mut job_entries, mut job_runs) = (0usize, 0u64);
    for (workload, raw_workload) in workloads.iter().zip(raw_workloads) {
        let params: usize = workload.param_axes.iter().map(|(_, values)| values.len()).product();
        let entries = params
            .saturating_mul(sizes.len())
            .saturating_mul(workload.strategies.len())
            .saturating_mul(workload.workers.len())
            .saturating_mul(workload.chunk_sizes.len());
        if entries > MAX_ENTRIES {
            return Err(at.error(
                raw_workload.get_ref().name.span().start,
                format!(
                    "workload \"{}\" expands to {entries} entries (parameters × sizes × strategies × workers × chunk sizes); at most {MAX_ENTRIES}",
                    workload.name
                ),
            ));
        }
        job_entries += entries;
        if job_entries > MAX_ENTRIES {
            return Err(at.error(
                raw_workload.get_ref().name.span().start,
                format!(
                    "the job expands to {job_entries} entries up to workload \"{}\"; at most {MAX_ENTRIES} in a job",
                    workload.name
                ),
            ));
        }
        let repetitions = match workload.repetitions {
            crate::vocab::Repetitions::Fixed(count) => u64::from(count),
            crate::vocab::Repetitions::Auto => 1,
        };
        job_runs = job_runs.saturating_add((entries as u64).saturating_mul(u64::from(warmup) + repetitions));
        if job_runs > MAX_RUNS {
            return Err(at.error(
                raw_workload.get_ref().name.span().start,
                format!(
                    "the job asks for {job_runs} runs up to workload \"{}\" (entries × (warm-up + repetitions)); \
                     at most {MAX_RUNS} in a job",
                    workload.name
                ),
            ));
        }
    }

    Ok(Job {
        name,
        description: raw.description,
        path: at.path.to_path_buf(),
        dir,
        generator,
        sizes,
        warmup,
        timeout,
        order,
        pin,
        precision,
        order_seed,
        workloads,
        source_hash: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(at.source.as_bytes())),
    })
}

fn valid_name(text: &str) -> bool {
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    !text.is_empty() && text.chars().all(valid) && !text.starts_with('.')
}

fn check_name(name: &Spanned<String>, at: &Locator) -> Result<String> {
    let text = name.get_ref();
    if !valid_name(text) {
        return Err(at.error(
            name.span().start,
            format!("invalid job name \"{text}\"; use letters, digits, '-', '_' and '.' (it names the result files)"),
        ));
    }
    Ok(text.clone())
}

/// The job's name from its file name, under the same rules as `name`.
fn default_name(at: &Locator) -> Result<String> {
    let path = at.path;
    let stem = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    let cleaned: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect();
    if !valid_name(&cleaned) {
        return Err(at.error(
            0,
            format!(
                "the file name gives the job the name \"{cleaned}\", which cannot name result files \
                 (letters, digits, '-', '_' and '.', not first '.'); add a line such as name = \"my-job\""
            ),
        ));
    }
    Ok(cleaned)
}

// ---------------------------------------------------------------- [list]

fn list(table: &Spanned<Table>, dir: &Path, at: &Locator) -> Result<(Generator, Vec<usize>)> {
    let entries = table.get_ref();
    let Some((_, kind)) = entries.iter().find(|(key, _)| key.get_ref() == "generator") else {
        return Err(at.error(
            table.span().start,
            format!(
                "missing required key \"generator\" in [list]; expected one of {}",
                Generator::NAMES.join(", ")
            ),
        ));
    };
    let kind_name = string(kind, "generator", at)?;
    if !Generator::NAMES.contains(&kind_name.as_str()) {
        return Err(at.error(
            kind.span().start,
            format!("unknown generator \"{kind_name}\"; {}", choices(&kind_name, Generator::NAMES)),
        ));
    }
    let allowed: Vec<&str> = Generator::keys(&kind_name).iter().map(|(key, _, _)| *key).collect();
    let mut values: BTreeMap<&str, &Spanned<Value>> = BTreeMap::new();
    for (key, value) in entries {
        let key_name = key.get_ref().as_str();
        if key_name == "generator" {
            continue;
        }
        if !allowed.contains(&key_name) {
            return Err(at.error(
                key.span().start,
                format!(
                    "unknown key \"{key_name}\" for generator \"{kind_name}\"; {}",
                    choices(key_name, &allowed)
                ),
            ));
        }
        values.insert(key_name, value);
    }
    let number = |key: &str, default: f64| -> Result<f64> {
        values.get(key).map_or(Ok(default), |value| self::number(value, key, at))
    };
    let required = |key: &str| -> Result<&Spanned<Value>> {
        values.get(key).copied().ok_or_else(|| {
            at.error(
                table.span().start,
                format!("missing required key \"{key}\" in [list] for generator \"{kind_name}\""),
            )
        })
    };

    let generator = match kind_name.as_str() {
        "squares" => Generator::Squares { scale: number("scale", 1.0)? },
        "range" => Generator::Range { start: number("start", 0.0)?, step: number("step", 1.0)? },
        "random" => {
            let low = number("low", 0.0)?;
            let high = number("high", 1.0)?;
            if low >= high {
                let offset =
                    values.get("high").or(values.get("low")).map_or(table.span().start, |v| v.span().start);
                return Err(at.error(offset, format!("\"low\" ({low}) must be below \"high\" ({high})")));
            }
            let seed = match values.get("seed") {
                Some(seed) => integer(seed, 0, "seed", at)? as u64,
                None => 0,
            };
            Generator::Random { low, high, seed }
        }
        "constant" => Generator::Constant { value: self::number(required("value")?, "value", at)? },
        _ => {
            let path_value = required("path")?;
            let relative = string(path_value, "path", at)?;
            let path = dir.join(&relative);
            // A folder, FIFO or device (/dev/zero) would fail or never end.
            if path.exists() && !path.is_file() {
                return Err(at.error(
                    path_value.span().start,
                    format!("list file \"{}\" is not a regular file", path.display()),
                ));
            }
            let text = std::fs::read_to_string(&path).map_err(|error| {
                at.error(
                    path_value.span().start,
                    format!("cannot read list file \"{}\": {}", path.display(), io_reason(&error)),
                )
            })?;
            let lines = generator::read_lines(&text);
            if lines.items.is_empty() {
                return Err(at.error(
                    path_value.span().start,
                    format!("list file \"{}\" has no items (blank lines are skipped)", path.display()),
                ));
            }
            Generator::File { lines: Arc::new(lines) }
        }
    };

    let sizes = match (&generator, values.get("size")) {
        (_, Some(size)) => {
            let sizes = value_axis(size, "size", at, |value, offset| {
                positive(value, offset, "size", at)
                    .and_then(|size| at_most(size, MAX_LIST_SIZE, offset, "size", at))
            })?;
            if let Generator::File { lines } = &generator {
                let available = lines.items.len();
                if let Some(too_big) = sizes.iter().find(|size| **size > available) {
                    return Err(at.error(
                        size.span().start,
                        format!("size {too_big} is more than the {available} items in the list file"),
                    ));
                }
            }
            sizes
        }
        (Generator::File { lines }, None) => vec![lines.items.len()],
        (_, None) => return Err(required("size").unwrap_err()),
    };
    Ok((generator, sizes))
}

// ---------------------------------------------------------------- [run]

fn run_defaults(run: &RawRun, at: &Locator) -> Result<RunDefaults> {
    Ok(RunDefaults {
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

fn strategies(axis_value: &Spanned<Axis>, at: &Locator) -> Result<Vec<Strategy>> {
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

fn workers(axis_value: &Spanned<Axis>, at: &Locator) -> Result<Vec<WorkerCount>> {
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

fn chunk_sizes(axis_value: &Spanned<Axis>, at: &Locator) -> Result<Vec<ChunkSize>> {
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
fn repetitions(value: &Spanned<Value>, at: &Locator) -> Result<Repetitions> {
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

// ---------------------------------------------------------------- [[workload]]

fn workload(
    spanned: &Spanned<RawWorkload>,
    defaults: &RunDefaults,
    generator: &Generator,
    dir: &Path,
    at: &Locator,
) -> Result<Workload> {
    let raw = spanned.get_ref();
    let name = raw.name.get_ref().clone();
    if name.trim().is_empty() {
        return Err(at.error(raw.name.span().start, "a workload name cannot be empty"));
    }
    let strategies = match &raw.strategies {
        Some(strategies) => self::strategies(strategies, at)?,
        None => defaults.strategies.clone(),
    };
    let kinds = [
        ("builtin", raw.builtin.as_ref().map(|value| value.span().start)),
        ("command", raw.command.as_ref().map(|value| value.span().start)),
        ("python", raw.python.as_ref().map(|value| value.span().start)),
    ];
    let given: Vec<(&str, usize)> =
        kinds.iter().filter_map(|(key, offset)| offset.map(|offset| (*key, offset))).collect();
    if let [(first, _), (second, offset), ..] = given[..] {
        return Err(at.error(
            offset,
            format!("workload \"{name}\" has both \"{first}\" and \"{second}\"; keep exactly one"),
        ));
    }
    if raw.python.is_none() {
        for (key, value) in [("interpreter", &raw.interpreter), ("start_method", &raw.start_method)] {
            if let Some(value) = value {
                return Err(at.error(
                    value.span().start,
                    format!("\"{key}\" applies to python workloads only; remove it or use \"python\""),
                ));
            }
        }
    }
    if let Some(ready) = &raw.ready
        && raw.command.is_none()
    {
        return Err(at.error(ready.span().start, READY_LINES_ONLY));
    }
    let mut python_axes = Vec::new();
    let kind = match (&raw.builtin, &raw.command) {
        _ if raw.python.is_some() => {
            let python = raw.python.as_ref().expect("checked just above");
            let (kind, axes) = super::python::validate(raw, python, &strategies, dir, at)?;
            python_axes = axes;
            kind
        }
        (Some(_), Some(_)) => unreachable!("refused above"),
        (None, None) => {
            return Err(at.error(
                raw.name.span().start,
                format!(
                    "workload \"{name}\" needs \"builtin\", \"command\" or \"python\" (see `parbench list` for builtins)"
                ),
            ));
        }
        (Some(builtin), None) => {
            if let Some(protocol) = &raw.protocol {
                return Err(at.error(
                    protocol.span().start,
                    "\"protocol\" applies to command workloads only; remove it or use \"command\"",
                ));
            }
            let spec = find_builtin(builtin.get_ref()).ok_or_else(|| {
                let names: Vec<&str> =
                    BUILTINS.iter().filter(|spec| !spec.hidden).map(|spec| spec.name).collect();
                at.error(
                    builtin.span().start,
                    format!(
                        "unknown builtin \"{}\"; {}",
                        builtin.get_ref(),
                        choices(builtin.get_ref(), &names)
                    ),
                )
            })?;
            if let Generator::File { lines } = generator
                && let Some((line, text)) = &lines.first_text
            {
                return Err(at.error(
                    builtin.span().start,
                    format!(
                        "builtin \"{}\" needs numbers, but line {line} of the list file is not a number: \"{text}\"",
                        spec.name
                    ),
                ));
            }
            WorkloadKind::Builtin(spec)
        }
        (None, Some(command)) => {
            let protocol = match &raw.protocol {
                None => Protocol::Argv,
                Some(protocol) => Protocol::parse(protocol.get_ref()).ok_or_else(|| {
                    at.error(
                        protocol.span().start,
                        format!(
                            "unknown protocol \"{}\"; {}",
                            protocol.get_ref(),
                            choices(protocol.get_ref(), Protocol::NAMES)
                        ),
                    )
                })?,
            };
            let argv = command_argv(command, dir, at)?;
            if protocol == Protocol::Argv
                && let Generator::File { lines } = generator
                && let Some(index) =
                    (0..lines.items.len()).find(|index| lines.items.text(*index).contains('\0'))
            {
                return Err(at.error(
                    command.span().start,
                    format!(
                        "item {} of the list file holds a NUL character, which cannot be passed as an argument; \
                         use protocol = \"lines\", or remove it",
                        index + 1
                    ),
                ));
            }
            if protocol == Protocol::Lines
                && let Some(arg) = command.get_ref().iter().find(|arg| arg.get_ref().contains("{item}"))
            {
                return Err(at.error(
                    arg.span().start,
                    "{item} has no meaning with protocol = \"lines\": items arrive one per line on standard input",
                ));
            }
            let inputs = named_inputs(&argv, dir);
            let ready = ready_line(raw.ready.as_ref(), protocol, at)?;
            WorkloadKind::Command { argv, protocol, inputs, ready }
        }
    };

    let param_axes = match (&raw.params, &kind) {
        (_, WorkloadKind::Python { .. }) => python_axes,
        (None, _) => Vec::new(),
        (Some(params), WorkloadKind::Builtin(spec)) => builtin_params(params, spec, at)?,
        (Some(params), WorkloadKind::Command { .. }) => command_params(params, at)?,
    };
    let warnings = match (&raw.command, &kind) {
        (Some(command), WorkloadKind::Command { protocol, .. }) => {
            placeholders(command, raw.params.as_ref(), *protocol, at)?
        }
        _ => Vec::new(),
    };

    Ok(Workload {
        name,
        kind,
        param_axes,
        strategies,
        workers: match &raw.workers {
            Some(workers) => self::workers(workers, at)?,
            None => defaults.workers.clone(),
        },
        repetitions: match &raw.repetitions {
            Some(repetitions) => self::repetitions(repetitions, at)?,
            None => defaults.repetitions,
        },
        chunk_sizes: match &raw.chunk_size {
            Some(chunk_size) => chunk_sizes(chunk_size, at)?,
            None => defaults.chunk_sizes.clone(),
        },
        verify: raw.verify.as_ref().is_none_or(|verify| *verify.get_ref()),
        warnings,
    })
}

/// The `{NAME}` words of an argument that look like placeholders: braces
/// around a name, with the name's offset in the argument. Braces around
/// anything else (an awk program) are not.
fn placeholder_names(arg: &str) -> Vec<(usize, &str)> {
    let mut names = Vec::new();
    let mut from = 0;
    while let Some(open) = arg[from..].find('{').map(|open| from + open) {
        let rest = &arg[open + 1..];
        let name = &rest[..rest.find('}').unwrap_or(0)];
        let identifier = name.chars().next().is_some_and(|first| first.is_alphabetic() || first == '_')
            && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        if identifier {
            names.push((open, name));
        }
        from = open + 1;
    }
    names
}

/// A `{name}` close to `{item}` or a parameter is a typo: an error. A
/// parameter no argument uses, and an argv command without `{item}`, are
/// warnings: every value or item would run the same program.
fn placeholders(
    command: &Spanned<Vec<Spanned<String>>>,
    params: Option<&Spanned<Table>>,
    protocol: Protocol,
    at: &Locator,
) -> Result<Vec<String>> {
    let param_names: Vec<&str> = params
        .map(|params| params.get_ref().keys().map(|key| key.get_ref().as_str()).collect())
        .unwrap_or_default();
    let known: Vec<&str> = std::iter::once("item").chain(param_names.iter().copied()).collect();
    let mut used = std::collections::BTreeSet::new();
    for arg in command.get_ref() {
        for (_, name) in placeholder_names(arg.get_ref()) {
            if known.contains(&name) {
                used.insert(name.to_owned());
            } else if let Some(close) = super::suggest::did_you_mean(name, known.iter().copied()) {
                return Err(at.error(
                    arg.span().start,
                    format!("\"{{{name}}}\" is not a placeholder; did you mean \"{{{close}}}\"?"),
                ));
            }
        }
    }
    let mut warnings = Vec::new();
    if protocol == Protocol::Argv && !used.contains("item") {
        warnings.push(
            at.error(
                command.span().start,
                "the command has no \"{item}\": every item runs the same program with the same arguments",
            )
            .to_string(),
        );
    }
    if let Some(params) = params {
        for key in params.get_ref().keys() {
            if !used.contains(key.get_ref().as_str()) {
                warnings.push(
                    at.error(
                        key.span().start,
                        format!(
                            "parameter \"{}\" is not used by the command: every value of it runs the same program",
                            key.get_ref()
                        ),
                    )
                    .to_string(),
                );
            }
        }
    }
    Ok(warnings)
}

fn command_argv(command: &Spanned<Vec<Spanned<String>>>, dir: &Path, at: &Locator) -> Result<Vec<String>> {
    let args = command.get_ref();
    let Some(program) = args.first() else {
        return Err(at.error(
            command.span().start,
            "\"command\" is empty; give the program and its arguments, such as [\"python3\", \"worker.py\", \"{item}\"]",
        ));
    };
    let program_name = program.get_ref();
    if program_name.is_empty() {
        return Err(at.error(program.span().start, "the program name is empty"));
    }
    if program_name.contains("{item}") {
        return Err(at.error(
            program.span().start,
            "{item} cannot be the program: name the program, and pass the item as an argument",
        ));
    }
    // An argument is a C string: a NUL would cut it, so exec refuses it.
    if let Some(arg) = args.iter().find(|arg| arg.get_ref().contains('\0')) {
        return Err(
            at.error(arg.span().start, "an argument holds a NUL character, which no program can receive")
        );
    }
    if !program_name.contains('{') {
        if program_name.contains('/') {
            if !dir.join(program_name).exists() {
                return Err(at.error(
                    program.span().start,
                    format!(
                        "program \"{program_name}\" does not exist (paths are relative to the job file's folder, {})",
                        dir.display()
                    ),
                ));
            }
        } else if find_on_path(program_name).is_none() {
            return Err(
                at.error(program.span().start, format!("program \"{program_name}\" is not found on PATH"))
            );
        }
    }
    // A script handed to an interpreter: `python3 worker.py` with no
    // worker.py would otherwise fail on every item, far into the run.
    for arg in &args[1..] {
        let text = arg.get_ref();
        if looks_like_script(text) && !dir.join(text).exists() {
            return Err(at.error(
                arg.span().start,
                format!(
                    "script \"{text}\" does not exist (commands run in the job file's folder, {})",
                    dir.display()
                ),
            ));
        }
    }
    Ok(args.iter().map(|arg| arg.get_ref().clone()).collect())
}

/// The files a command names, each with a digest of its bytes: the program
/// (by path, or as found on PATH) and every argument that is a file in the
/// job's folder.
fn named_inputs(argv: &[String], dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    if let Some(program) = argv.first()
        && !program.contains('{')
    {
        let found = if program.contains('/') { Some(dir.join(program)) } else { find_on_path(program) };
        files.extend(found.map(|path| (program.clone(), path)));
    }
    for arg in argv.iter().skip(1) {
        let path = dir.join(arg);
        if !arg.contains('{') && path.is_file() {
            files.push((arg.clone(), path));
        }
    }
    files
        .into_iter()
        .map(|(name, path)| {
            let digest = std::fs::read(&path)
                .map(|bytes| format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes)))
                .unwrap_or_else(|_| "unreadable".to_owned());
            (name, digest)
        })
        .collect()
}

fn looks_like_script(arg: &str) -> bool {
    const EXTENSIONS: &[&str] =
        &[".py", ".sh", ".js", ".mjs", ".pl", ".rb", ".R", ".jl", ".lua", ".php", ".tcl"];
    !arg.starts_with('-') && !arg.contains('{') && EXTENSIONS.iter().any(|ext| arg.ends_with(ext))
}

/// The first executable file named `program` in a PATH folder.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| {
        std::fs::metadata(candidate)
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    })
}

fn builtin_params(
    params: &Spanned<Table>,
    spec: &BuiltinSpec,
    at: &Locator,
) -> Result<Vec<(String, Vec<ParamValue>)>> {
    let mut axes = Vec::new();
    for (key, value) in params.get_ref() {
        let key_name = key.get_ref();
        let Some(param) = spec.params.iter().find(|param| param.name == key_name) else {
            let names: Vec<&str> = spec.params.iter().map(|param| param.name).collect();
            return Err(at.error(
                key.span().start,
                format!(
                    "unknown parameter \"{key_name}\" for builtin \"{}\"; {}",
                    spec.name,
                    choices(key_name, &names)
                ),
            ));
        };
        let values = value_axis(value, key_name, at, |value, offset| {
            let number = number_at(value, offset, key_name, at)?;
            if param.integer && number.fract() != 0.0 {
                return Err(at.error(offset, format!("\"{key_name}\" must be a whole number, not {number}")));
            }
            if param.non_negative && number < 0.0 {
                return Err(at.error(offset, format!("\"{key_name}\" cannot be negative ({number})")));
            }
            if number > param.max {
                return Err(at.error(
                    offset,
                    format!(
                        "\"{key_name}\" is at most {}, not {number}",
                        crate::vocab::format_number(param.max)
                    ),
                ));
            }
            Ok(ParamValue::Number(number))
        })?;
        axes.push((key_name.clone(), values));
    }
    Ok(axes)
}

fn command_params(params: &Spanned<Table>, at: &Locator) -> Result<Vec<(String, Vec<ParamValue>)>> {
    let mut axes = Vec::new();
    for (key, value) in params.get_ref() {
        let key_name = key.get_ref();
        if key_name == "item" || key_name.is_empty() {
            return Err(at.error(
                key.span().start,
                "\"item\" is reserved for the item itself; name the parameter otherwise",
            ));
        }
        let values = value_axis(value, key_name, at, |value, offset| match value {
            Value::String(text) => Ok(ParamValue::Text(text.clone())),
            Value::Integer(number) => Ok(ParamValue::Number(*number as f64)),
            Value::Float(number) => Ok(ParamValue::Number(*number)),
            Value::Boolean(flag) => Ok(ParamValue::Text(flag.to_string())),
            _ => {
                Err(at.error(offset, format!("parameter \"{key_name}\" must be a string, number or boolean")))
            }
        })?;
        axes.push((key_name.clone(), values));
    }
    Ok(axes)
}

// ---------------------------------------------------------------- values

/// The values of a key that may be an axis, each with the offset of its own text.
fn axis<T>(
    value: &Spanned<Axis>,
    key: &str,
    at: &Locator,
    mut check: impl FnMut(&Value, usize) -> Result<T>,
) -> Result<Vec<T>> {
    match value.get_ref() {
        Axis::One(single) => Ok(vec![check(single, value.span().start)?]),
        Axis::Many(values) if values.is_empty() => {
            Err(at.error(value.span().start, format!("\"{key}\" is an empty array; give at least one value")))
        }
        Axis::Many(values) => {
            values.iter().map(|element| check(element.get_ref(), element.span().start)).collect()
        }
    }
}

/// Like [`axis`], for a value held as a plain TOML value (inside [list] or
/// params), where array elements carry no spans of their own.
fn value_axis<T>(
    value: &Spanned<Value>,
    key: &str,
    at: &Locator,
    mut check: impl FnMut(&Value, usize) -> Result<T>,
) -> Result<Vec<T>> {
    let offset = value.span().start;
    match value.get_ref() {
        Value::Array(values) if values.is_empty() => {
            Err(at.error(offset, format!("\"{key}\" is an empty array; give at least one value")))
        }
        Value::Array(values) => values.iter().map(|element| check(element, offset)).collect(),
        single => Ok(vec![check(single, offset)?]),
    }
}

fn unique<T: PartialEq + std::fmt::Debug>(
    values: &[T],
    at_value: &Spanned<Axis>,
    what: &str,
    at: &Locator,
) -> Result<()> {
    for (index, value) in values.iter().enumerate() {
        if values[..index].contains(value) {
            let offset = match at_value.get_ref() {
                Axis::Many(elements) => elements[index].span().start,
                Axis::One(_) => at_value.span().start,
            };
            return Err(at.error(offset, format!("this {what} is listed twice")));
        }
    }
    Ok(())
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

fn string(value: &Spanned<Value>, key: &str, at: &Locator) -> Result<String> {
    match value.get_ref() {
        Value::String(text) => Ok(text.clone()),
        other => {
            Err(at.error(value.span().start, format!("\"{key}\" must be a string, not {}", type_name(other))))
        }
    }
}

fn number(value: &Spanned<Value>, key: &str, at: &Locator) -> Result<f64> {
    number_at(value.get_ref(), value.span().start, key, at)
}

fn number_at(value: &Value, offset: usize, key: &str, at: &Locator) -> Result<f64> {
    let number = match value {
        Value::Integer(number) => *number as f64,
        Value::Float(number) => *number,
        other => {
            return Err(at.error(offset, format!("\"{key}\" must be a number, not {}", type_name(other))));
        }
    };
    if !number.is_finite() {
        return Err(at.error(offset, format!("\"{key}\" must be a finite number, not {number}")));
    }
    Ok(number)
}

fn integer(value: &Spanned<Value>, min: i64, key: &str, at: &Locator) -> Result<i64> {
    match value.get_ref() {
        Value::Integer(number) if *number >= min => Ok(*number),
        Value::Integer(number) => {
            Err(at.error(value.span().start, format!("\"{key}\" must be at least {min}, not {number}")))
        }
        other => {
            Err(at
                .error(value.span().start, format!("\"{key}\" must be an integer, not {}", type_name(other))))
        }
    }
}

/// A count such as repetitions: an integer of at least `min`.
fn count(value: &Spanned<i64>, min: i64, key: &str, at: &Locator) -> Result<u32> {
    let number = *value.get_ref();
    if number < min {
        return Err(at.error(value.span().start, format!("\"{key}\" must be at least {min}, not {number}")));
    }
    u32::try_from(number)
        .map_err(|_| at.error(value.span().start, format!("\"{key}\" is too large ({number})")))
}

fn positive(value: &Value, offset: usize, key: &str, at: &Locator) -> Result<usize> {
    match value {
        Value::Integer(number) if *number >= 1 => usize::try_from(*number)
            .map_err(|_| at.error(offset, format!("\"{key}\" is too large ({number})"))),
        Value::Integer(number) => {
            Err(at.error(offset, format!("\"{key}\" must be at least 1, not {number}")))
        }
        other => Err(at.error(
            offset,
            format!("\"{key}\" must be a whole number of at least 1, not {}", type_name(other)),
        )),
    }
}

const READY_LINES_ONLY: &str = "\"ready\" applies to commands with protocol = \"lines\" only: it is the line each worker prints once it can take work";

/// `ready = "LINE"`: only for a `lines` command, one non-empty line.
fn ready_line(ready: Option<&Spanned<String>>, protocol: Protocol, at: &Locator) -> Result<Option<String>> {
    let Some(ready) = ready else { return Ok(None) };
    if protocol != Protocol::Lines {
        return Err(at.error(ready.span().start, READY_LINES_ONLY));
    }
    let line = ready.get_ref();
    if line.is_empty() || line.contains(['\n', '\r']) {
        return Err(
            at.error(ready.span().start, "\"ready\" must be one non-empty line, without a line break")
        );
    }
    Ok(Some(line.clone()))
}
