//! `command = [...]` workloads: the program and its arguments, the protocol,
//! the placeholders, the files a command names and the ready line.

use std::path::Path;

use toml::{Spanned, Value};

use super::super::raw::{RawWorkload, Table};
use super::super::suggest::{self, choices};
use super::super::{JobError, Locator, ParamValue, WorkloadKind, find_on_path};
use super::values::value_axis;
use crate::generator::Generator;
use crate::workload::Protocol;

type Result<T> = std::result::Result<T, JobError>;

/// `command = [...]`: the program, its protocol, the files it names and
/// its ready line.
pub(super) fn kind(
    raw: &RawWorkload,
    command: &Spanned<Vec<Spanned<String>>>,
    generator: &Generator,
    dir: &Path,
    at: &Locator,
) -> Result<WorkloadKind> {
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
        && let Some(index) = (0..lines.items.len()).find(|index| lines.items.text(*index).contains('\0'))
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
    Ok(WorkloadKind::Command { argv, protocol, inputs, ready })
}

/// A command's parameters: each an axis of strings, numbers or booleans,
/// substituted as text; `item` is the item's own name.
pub(super) fn params(params: &Spanned<Table>, at: &Locator) -> Result<Vec<(String, Vec<ParamValue>)>> {
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
pub(super) fn placeholders(
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
            } else if let Some(close) = suggest::did_you_mean(name, known.iter().copied()) {
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

pub(super) const READY_LINES_ONLY: &str = "\"ready\" applies to commands with protocol = \"lines\" only: it is the line each worker prints once it can take work";

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
