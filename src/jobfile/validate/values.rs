//! The typed reading of single values every part of the job file shares:
//! strings, numbers, counts, axes (one value or an array), each error at the
//! value's own text.

use toml::{Spanned, Value};

use super::super::raw::OneOrMany;
use super::super::{JobError, Locator};

type Result<T> = std::result::Result<T, JobError>;

pub(super) fn at_most(value: usize, max: usize, offset: usize, key: &str, at: &Locator) -> Result<usize> {
    if value > max {
        return Err(at.error(offset, format!("\"{key}\" is at most {max}, not {value}")));
    }
    Ok(value)
}

/// The values of a key that may be an axis, each with the offset of its own text.
pub(super) fn axis<T>(
    value: &Spanned<OneOrMany>,
    key: &str,
    at: &Locator,
    mut check: impl FnMut(&Value, usize) -> Result<T>,
) -> Result<Vec<T>> {
    match value.get_ref() {
        OneOrMany::One(single) => Ok(vec![check(single, value.span().start)?]),
        OneOrMany::Many(values) if values.is_empty() => {
            Err(at.error(value.span().start, format!("\"{key}\" is an empty array; give at least one value")))
        }
        OneOrMany::Many(values) => {
            values.iter().map(|element| check(element.get_ref(), element.span().start)).collect()
        }
    }
}

/// Like [`axis`], for a value held as a plain TOML value (inside [list] or
/// params), where array elements carry no spans of their own.
pub(super) fn value_axis<T>(
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

pub(super) fn unique<T: PartialEq + std::fmt::Debug>(
    values: &[T],
    at_value: &Spanned<OneOrMany>,
    what: &str,
    at: &Locator,
) -> Result<()> {
    for (index, value) in values.iter().enumerate() {
        if values[..index].contains(value) {
            let offset = match at_value.get_ref() {
                OneOrMany::Many(elements) => elements[index].span().start,
                OneOrMany::One(_) => at_value.span().start,
            };
            return Err(at.error(offset, format!("this {what} is listed twice")));
        }
    }
    Ok(())
}

pub(super) fn type_name(value: &Value) -> &'static str {
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

pub(super) fn string(value: &Spanned<Value>, key: &str, at: &Locator) -> Result<String> {
    match value.get_ref() {
        Value::String(text) => Ok(text.clone()),
        other => {
            Err(at.error(value.span().start, format!("\"{key}\" must be a string, not {}", type_name(other))))
        }
    }
}

pub(super) fn number(value: &Spanned<Value>, key: &str, at: &Locator) -> Result<f64> {
    number_at(value.get_ref(), value.span().start, key, at)
}

pub(super) fn number_at(value: &Value, offset: usize, key: &str, at: &Locator) -> Result<f64> {
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

pub(super) fn integer(value: &Spanned<Value>, min: i64, key: &str, at: &Locator) -> Result<i64> {
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
pub(super) fn count(value: &Spanned<i64>, min: i64, key: &str, at: &Locator) -> Result<u32> {
    let number = *value.get_ref();
    if number < min {
        return Err(at.error(value.span().start, format!("\"{key}\" must be at least {min}, not {number}")));
    }
    u32::try_from(number)
        .map_err(|_| at.error(value.span().start, format!("\"{key}\" is too large ({number})")))
}

pub(super) fn positive(value: &Value, offset: usize, key: &str, at: &Locator) -> Result<usize> {
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
