//! `[list]`: the generator, its keys and the list sizes.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use toml::{Spanned, Value};

use super::super::bounds::MAX_LIST_SIZE;
use super::super::raw::Table;
use super::super::suggest::choices;
use super::super::{JobError, Locator};
use super::values::{at_most, integer, positive, string, value_axis};
use crate::generator::{self, Generator};
use crate::vocab::io_reason;

type Result<T> = std::result::Result<T, JobError>;

/// The generator and the list sizes, in file order.
pub(super) fn list(table: &Spanned<Table>, dir: &Path, at: &Locator) -> Result<(Generator, Vec<usize>)> {
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
        values.get(key).map_or(Ok(default), |value| super::values::number(value, key, at))
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
        "constant" => Generator::Constant { value: super::values::number(required("value")?, "value", at)? },
        _ => list_file(required("path")?, dir, at)?,
    };

    let sizes = match values.get("size") {
        Some(size) => sizes(size, &generator, at)?,
        None => match &generator {
            Generator::File { lines } => vec![lines.items.len()],
            _ => return Err(required("size").unwrap_err()),
        },
    };
    Ok((generator, sizes))
}

/// The `file` generator's list: the lines of `path` (relative to the job
/// file's folder), read now; a file that is not regular, unreadable or
/// empty is refused at its key.
fn list_file(path_value: &Spanned<Value>, dir: &Path, at: &Locator) -> Result<Generator> {
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
    Ok(Generator::File { lines: Arc::new(lines) })
}

/// The list sizes of `size`: each positive and within the limit, and for
/// a list file, no more than its lines.
fn sizes(size: &Spanned<Value>, generator: &Generator, at: &Locator) -> Result<Vec<usize>> {
    let sizes = value_axis(size, "size", at, |value, offset| {
        positive(value, offset, "size", at).and_then(|size| at_most(size, MAX_LIST_SIZE, offset, "size", at))
    })?;
    if let Generator::File { lines } = generator {
        let available = lines.items.len();
        if let Some(too_big) = sizes.iter().find(|size| **size > available) {
            return Err(at.error(
                size.span().start,
                format!("size {too_big} is more than the {available} items in the list file"),
            ));
        }
    }
    Ok(sizes)
}
