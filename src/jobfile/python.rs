//! `python = "FILE:FUNCTION"` workloads: the file, each interpreter and the
//! function checked before anything runs. Each interpreter reads the module
//! with Python's `ast` (the harness's probe mode), so the module's top level
//! never runs during `check`.

use std::path::Path;

use toml::{Spanned, Value};

use super::raw::{OneOrMany, RawWorkload};
use super::suggest::choices;
use super::{Interpreter, JobError, Locator, ParamValue, WorkloadKind, find_on_path};
use crate::vocab::Strategy;
use crate::workload::python::{self, Module, START_METHODS};

type Result<T> = std::result::Result<T, JobError>;

/// Parameter axes by name, as `Workload::param_axes` holds them.
type Axes = Vec<(String, Vec<ParamValue>)>;

/// The workload's kind and its parameter axes (`interpreter`, and
/// `start_method` when given), sorted by name as every axis is.
pub(super) fn validate(
    raw: &RawWorkload,
    python: &Spanned<String>,
    strategies: &[Strategy],
    dir: &Path,
    at: &Locator,
) -> Result<(WorkloadKind, Axes)> {
    if let Some(params) = &raw.params {
        return Err(at.error(
            params.span().start,
            "\"params\" does not apply to python workloads: the function receives the item alone",
        ));
    }
    if let Some(protocol) = &raw.protocol {
        return Err(at.error(protocol.span().start, "\"protocol\" applies to command workloads only"));
    }
    let target = Target::of(python, dir, at)?;
    let interpreters = interpreters(raw, &target, dir, at)?;
    let mut axes = vec![(
        "interpreter".to_owned(),
        interpreters.iter().map(|i| ParamValue::Text(i.name.clone())).collect(),
    )];
    axes.extend(start_method_axis(raw, strategies, target.value_at, at)?);
    let kind = WorkloadKind::Python {
        file: target.file.to_owned(),
        function: target.function.to_owned(),
        interpreters,
    };
    Ok((kind, axes))
}

/// The `python = "FILE:FUNCTION"` value split, its file found, and where in
/// the job file an error about each part points.
#[derive(Clone, Copy)]
struct Target<'a> {
    file: &'a str,
    function: &'a str,
    /// Where the value starts.
    value_at: usize,
    /// Where FUNCTION starts inside the quoted value, when the value is
    /// written plainly (no escapes), so an error can point at the name;
    /// else where the value starts.
    function_at: usize,
}

impl<'a> Target<'a> {
    fn of(python: &'a Spanned<String>, dir: &Path, at: &Locator) -> Result<Target<'a>> {
        let spec = python.get_ref();
        let value_at = python.span().start;
        let Some((file, function)) = spec.rsplit_once(':').filter(|(file, function)| {
            !file.is_empty() && !function.is_empty() && !function.contains(['/', '.'])
        }) else {
            return Err(at.error(
                value_at,
                "\"python\" must be \"FILE:FUNCTION\", such as \"prices.py:increase_price\"",
            ));
        };
        if !dir.join(file).is_file() {
            return Err(at.error(
                value_at,
                format!("file \"{file}\" does not exist (paths are relative to the job file's folder)"),
            ));
        }
        let function_at = match at.source.get(value_at..value_at + spec.len() + 2) {
            Some(text) if text == format!("\"{spec}\"") => value_at + 1 + file.len() + 1,
            _ => value_at,
        };
        Ok(Target { file, function, value_at, function_at })
    }
}

/// Each interpreter the workload names (or the default one), found, and
/// checked to read the module, define the function and find its imports.
fn interpreters(raw: &RawWorkload, target: &Target, dir: &Path, at: &Locator) -> Result<Vec<Interpreter>> {
    let mut interpreters = Vec::new();
    let given = texts(raw.interpreter.as_ref(), "interpreter", at)?;
    let defaulted = given.is_none();
    for (name, offset) in given.unwrap_or_else(|| vec![(DEFAULT_INTERPRETER.to_owned(), target.value_at)]) {
        if interpreters.iter().any(|known: &Interpreter| known.name == name) {
            return Err(at.error(offset, "this interpreter is listed twice"));
        }
        let venv = defaulted.then(python::active_virtualenv_python).flatten();
        let path = if let Some(venv) = venv {
            venv
        } else if name.contains('/') {
            let path = dir.join(&name);
            if !path.is_file() {
                return Err(at.error(
                    offset,
                    format!(
                        "interpreter \"{name}\" does not exist (paths are relative to the job file's folder)"
                    ),
                ));
            }
            path
        } else {
            find_on_path(&name)
                .ok_or_else(|| at.error(offset, format!("interpreter \"{name}\" is not found on PATH")))?
        };
        let probe = python::probe(&path, dir, target.file).map_err(|why| at.error(offset, why))?;
        check_module(&probe, target, &name, &path, defaulted, offset, at)?;
        interpreters.push(Interpreter { name, path, facts: probe.facts });
    }
    Ok(interpreters)
}

/// The module as interpreter `name` read it: without syntax errors,
/// defining the function, and with every import found.
fn check_module(
    probe: &python::Probe,
    target: &Target,
    name: &str,
    path: &Path,
    defaulted: bool,
    offset: usize,
    at: &Locator,
) -> Result<()> {
    let Target { file, function, value_at, function_at } = *target;
    match &probe.module {
        Module::SyntaxError { line, column, message } => {
            Err(at.error(value_at, format!("{file}:{line}:{column}: {message} (as {name} reads it)")))
        }
        Module::Unreadable(why) => Err(at.error(value_at, format!("cannot read {file}: {why}"))),
        Module::Parsed { functions, bound, missing } => {
            if !functions.iter().chain(bound).any(|defined| defined == function) {
                let names: Vec<&str> = functions.iter().map(String::as_str).collect();
                let message = if names.is_empty() {
                    format!("{file} defines no function \"{function}\"; it defines no function at all")
                } else {
                    format!("{file} defines no function \"{function}\"; {}", choices(function, &names))
                };
                return Err(at.error(function_at, message));
            }
            match missing.first() {
                Some(import) => {
                    Err(at.error(offset, missing_import(file, import, path, &probe.facts, defaulted)))
                }
                None => Ok(()),
            }
        }
    }
}

/// The `start_method` axis, where given: processes only, each a known
/// method, none twice.
fn start_method_axis(
    raw: &RawWorkload,
    strategies: &[Strategy],
    value_at: usize,
    at: &Locator,
) -> Result<Option<(String, Vec<ParamValue>)>> {
    let Some(methods) = texts(raw.start_method.as_ref(), "start_method", at)? else { return Ok(None) };
    let key_at = raw.start_method.as_ref().map_or(value_at, |value| value.span().start);
    if !strategies.contains(&Strategy::Processes) {
        return Err(at.error(
            key_at,
            "\"start_method\" applies to processes only, and this workload runs no processes",
        ));
    }
    let mut values = Vec::new();
    for (method, offset) in methods {
        if !START_METHODS.contains(&method.as_str()) {
            return Err(at.error(
                offset,
                format!("unknown start_method \"{method}\"; {}", choices(&method, START_METHODS)),
            ));
        }
        let value = ParamValue::Text(method);
        if values.contains(&value) {
            return Err(at.error(offset, "this start_method is listed twice"));
        }
        values.push(value);
    }
    Ok(Some(("start_method".to_owned(), values)))
}

/// The interpreter a workload without `interpreter` runs, and its
/// `param_interpreter` value: the active virtual environment's python when
/// there is one, else python3 on PATH. The value stays "python3" either way,
/// so the rows of one job compare across machines; env.json names the path.
const DEFAULT_INTERPRETER: &str = "python3";

/// Why a module cannot run under this interpreter, and the two ways out:
/// install the module there, or point `interpreter` at a python that has it.
fn missing_import(
    file: &str,
    import: &python::MissingImport,
    path: &Path,
    facts: &python::PythonFacts,
    defaulted: bool,
) -> String {
    let found = match (defaulted, python::active_virtualenv_python()) {
        (true, Some(venv)) if venv == path => "the default: the active virtual environment's python",
        (true, _) => "the default: no virtual environment is active, so python3 on PATH",
        (false, _) => "as the job names it",
    };
    let which = format!("{} ({}, {found})", path.display(), facts.name());
    format!(
        "{file}:{} imports {}, which {which} cannot find; install it for that python \
         ({} -m pip install {}), or set interpreter = \"PATH/TO/VENV/bin/python\" \
         in this workload to the python of the virtual environment that has it",
        import.line,
        import.module,
        path.display(),
        package_of(&import.module)
    )
}

/// The strings of a key that may be an axis, each with its own offset.
fn texts(
    value: Option<&Spanned<OneOrMany>>,
    key: &str,
    at: &Locator,
) -> Result<Option<Vec<(String, usize)>>> {
    let Some(value) = value else { return Ok(None) };
    let one = |value: &Value, offset: usize| match value {
        Value::String(text) if !text.is_empty() => Ok((text.clone(), offset)),
        _ => Err(at.error(offset, format!("\"{key}\" must be a non-empty string or an array of them"))),
    };
    match value.get_ref() {
        OneOrMany::One(single) => Ok(Some(vec![one(single, value.span().start)?])),
        OneOrMany::Many(values) if values.is_empty() => {
            Err(at.error(value.span().start, format!("\"{key}\" is an empty array; give at least one value")))
        }
        OneOrMany::Many(values) => values
            .iter()
            .map(|element| one(element.get_ref(), element.span().start))
            .collect::<Result<_>>()
            .map(Some),
    }
}

/// The package that installs module `module` as pip names it: the
/// module's top level, but for the well-known packages whose import name
/// differs from their name on the package index.
fn package_of(module: &str) -> &str {
    let top = module.split('.').next().unwrap_or(module);
    const RENAMED: &[(&str, &str)] = &[
        ("cv2", "opencv-python"),
        ("sklearn", "scikit-learn"),
        ("yaml", "PyYAML"),
        ("PIL", "Pillow"),
        ("bs4", "beautifulsoup4"),
        ("skimage", "scikit-image"),
        ("dateutil", "python-dateutil"),
    ];
    RENAMED.iter().find(|(name, _)| *name == top).map_or(top, |(_, package)| package)
}

#[cfg(test)]
mod package_tests {
    #[test]
    fn the_package_is_named_as_pip_knows_it() {
        assert_eq!(super::package_of("numpy"), "numpy");
        assert_eq!(super::package_of("numpy.linalg"), "numpy");
        assert_eq!(super::package_of("sklearn.linear_model"), "scikit-learn");
        assert_eq!(super::package_of("cv2"), "opencv-python");
    }
}
