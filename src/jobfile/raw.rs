//! The serde mirror of a job file: what the TOML says, with the byte span of
//! every value that validation may need to point at. Nothing here is checked
//! beyond its TOML type; `validate.rs` turns it into a [`crate::jobfile::Job`].

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::{Spanned, Value};

pub type Table = BTreeMap<Spanned<String>, Spanned<Value>>;

/// Only the version, read before anything else.
#[derive(Debug, Deserialize)]
pub struct VersionProbe {
    pub version: Option<Spanned<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJob {
    pub version: Spanned<i64>,
    pub name: Option<Spanned<String>>,
    pub description: Option<String>,
    pub list: Spanned<Table>,
    pub run: Spanned<RawRun>,
    pub workload: Option<Spanned<Vec<Spanned<RawWorkload>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub strategies: Spanned<Axis>,
    pub workers: Option<Spanned<Axis>>,
    pub repetitions: Option<Spanned<i64>>,
    pub warmup: Option<Spanned<i64>>,
    pub chunk_size: Option<Spanned<Axis>>,
    pub timeout: Option<Spanned<String>>,
    pub order: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub name: Spanned<String>,
    pub builtin: Option<Spanned<String>>,
    pub command: Option<Spanned<Vec<Spanned<String>>>>,
    pub protocol: Option<Spanned<String>>,
    pub params: Option<Spanned<Table>>,
    pub strategies: Option<Spanned<Axis>>,
    pub workers: Option<Spanned<Axis>>,
    pub repetitions: Option<Spanned<i64>>,
    pub chunk_size: Option<Spanned<Axis>>,
}

/// A value that may be given once or as an array (an axis of the matrix).
/// Each array element keeps its own span so that an error points at it.
#[derive(Debug)]
pub enum Axis {
    One(Value),
    Many(Vec<Spanned<Value>>),
}

impl<'de> Deserialize<'de> for Axis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AxisVisitor;

        impl<'de> Visitor<'de> for AxisVisitor {
            type Value = Axis;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or an array of values")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Axis, E> {
                Ok(Axis::One(Value::Integer(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Axis, E> {
                i64::try_from(v)
                    .map(|v| Axis::One(Value::Integer(v)))
                    .map_err(|_| E::custom("number too large"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Axis, E> {
                Ok(Axis::One(Value::Float(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Axis, E> {
                Ok(Axis::One(Value::Boolean(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Axis, E> {
                Ok(Axis::One(Value::String(v.to_owned())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Axis, A::Error> {
                let mut values = Vec::new();
                while let Some(value) = seq.next_element::<Spanned<Value>>()? {
                    values.push(value);
                }
                Ok(Axis::Many(values))
            }
        }

        deserializer.deserialize_any(AxisVisitor)
    }
}
