//! `[[workload]]`: what a workload runs (a builtin here, a command in
//! `command.rs`, Python in `jobfile/python.rs`), its parameter axes and the
//! `[run]` settings it overrides.

use std::path::Path;

use toml::Spanned;

use super::super::raw::{RawWorkload, Table};
use super::super::suggest::choices;
use super::super::{JobError, Locator, ParamValue, Workload, WorkloadKind};
use super::run::{self, Defaults};
use super::values::{number_at, value_axis};
use crate::generator::Generator;
use crate::workload::{BUILTINS, BuiltinSpec, find_builtin};

type Result<T> = std::result::Result<T, JobError>;

pub(super) fn workload(
    spanned: &Spanned<RawWorkload>,
    defaults: &Defaults,
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
        Some(strategies) => run::strategies(strategies, at)?,
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
        return Err(at.error(ready.span().start, super::command::READY_LINES_ONLY));
    }
    let mut python_axes = Vec::new();
    let kind = match (&raw.builtin, &raw.command) {
        _ if raw.python.is_some() => {
            let python = raw.python.as_ref().expect("checked just above");
            let (kind, axes) = super::super::python::validate(raw, python, &strategies, dir, at)?;
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
        (Some(builtin), None) => builtin_kind(raw, builtin, generator, at)?,
        (None, Some(command)) => super::command::kind(raw, command, generator, dir, at)?,
    };

    let param_axes = match (&raw.params, &kind) {
        (_, WorkloadKind::Python { .. }) => python_axes,
        (None, _) => Vec::new(),
        (Some(params), WorkloadKind::Builtin(spec)) => builtin_params(params, spec, at)?,
        (Some(params), WorkloadKind::Command { .. }) => super::command::params(params, at)?,
    };
    let warnings = match (&raw.command, &kind) {
        (Some(command), WorkloadKind::Command { protocol, .. }) => {
            super::command::placeholders(command, raw.params.as_ref(), *protocol, at)?
        }
        _ => Vec::new(),
    };

    Ok(Workload {
        name,
        kind,
        param_axes,
        strategies,
        workers: match &raw.workers {
            Some(workers) => run::workers(workers, at)?,
            None => defaults.workers.clone(),
        },
        repetitions: match &raw.repetitions {
            Some(repetitions) => run::repetitions(repetitions, at)?,
            None => defaults.repetitions,
        },
        chunk_sizes: match &raw.chunk_size {
            Some(chunk_size) => run::chunk_sizes(chunk_size, at)?,
            None => defaults.chunk_sizes.clone(),
        },
        verify: raw.verify.as_ref().is_none_or(|verify| *verify.get_ref()),
        warnings,
    })
}

/// `builtin = "NAME"`: a builtin parbench has, over a list of numbers.
fn builtin_kind(
    raw: &RawWorkload,
    builtin: &Spanned<String>,
    generator: &Generator,
    at: &Locator,
) -> Result<WorkloadKind> {
    if let Some(protocol) = &raw.protocol {
        return Err(at.error(
            protocol.span().start,
            "\"protocol\" applies to command workloads only; remove it or use \"command\"",
        ));
    }
    let spec = find_builtin(builtin.get_ref()).ok_or_else(|| {
        let names: Vec<&str> = BUILTINS.iter().filter(|spec| !spec.hidden).map(|spec| spec.name).collect();
        at.error(
            builtin.span().start,
            format!("unknown builtin \"{}\"; {}", builtin.get_ref(), choices(builtin.get_ref(), &names)),
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
    Ok(WorkloadKind::Builtin(spec))
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
