//! The serde mirror of a job file: what the TOML says, with the byte span of
//! every value that validation may need to point at. Nothing here is checked
//! beyond its TOML type; `validate/` turns it into a [`crate::jobfile::Job`].
//!
//! The same types derive the job file's JSON Schema (`parbench schema`): the
//! doc comment of each key is its description there, and `schema.rs` says
//! what values validation accepts. A key added here must say how it looks in
//! the schema (`with` or `schema_with`), or this does not compile.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::{Spanned, Value};

use super::schema;

/// The job files' JSON Schema as pretty JSON, ending in a newline.
pub fn schema_json() -> String {
    let mut settings = SchemaSettings::draft07();
    settings.inline_subschemas = true;
    settings.transforms.push(Box::new(RecursiveTransform(schema::tidy)));
    let schema = settings.into_generator().into_root_schema_for::<RawJob>();
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema is JSON");
    text.push('\n');
    text
}

pub type Table = BTreeMap<Spanned<String>, Spanned<Value>>;

/// Only the version, read before anything else.
#[derive(Debug, Deserialize)]
pub struct VersionProbe {
    pub version: Option<Spanned<Value>>,
}

/// A parbench job file, format version 1: one experiment (workloads, an
/// input list, strategies, worker counts, repetitions). See docs/JOBFILE.md.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "parbench job file, format version 1")]
pub struct RawJob {
    /// The job-file format version; 1 is the only one so far.
    #[schemars(with = "i64", range(min = 1, max = 1), example = 1)]
    pub version: Spanned<i64>,
    /// Names the result files (results/NAME.csv): letters, digits, '-', '_'
    /// and '.'. Default: the job file's name without .toml.
    #[schemars(with = "Option<String>", regex(pattern = r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$"))]
    #[schemars(example = &"seed-prices")]
    pub name: Option<Spanned<String>>,
    /// What the experiment is about, for people reading the file.
    #[schemars(example = &"Serial, threads and processes on a list of 20 prices")]
    pub description: Option<String>,
    /// The input list: a generator and that generator's own keys.
    #[schemars(schema_with = "schema::list")]
    pub list: Spanned<Table>,
    /// How to run every workload; a workload may override strategies,
    /// workers, repetitions and chunk_size.
    #[schemars(with = "RawRun")]
    pub run: Spanned<RawRun>,
    /// One table per workload ([[workload]]), at least one.
    #[schemars(with = "Vec<RawWorkload>", length(min = 1), example = schema::workload_examples())]
    pub workload: Option<Spanned<Vec<Spanned<RawWorkload>>>>,
    /// For `parbench history`: what to do in each commit's checkout first.
    #[expect(dead_code, reason = "declared for the schema and the key check; history::walk reads it")]
    #[schemars(example = serde_json::json!({ "build": ["cargo", "build", "--release"] }))]
    pub history: Option<RawHistory>,
}

/// `[history]`: read by `parbench history` (docs/HISTORY.md), not by `run`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[expect(dead_code, reason = "declared for the schema and the key check; history::walk reads it")]
pub struct RawHistory {
    /// A build command, as an argv, run in the commit's checkout before the
    /// job; a commit whose build fails is recorded as failed.
    #[schemars(length(min = 1), example = &["cargo", "build", "--release"])]
    pub build: Option<Vec<String>>,
}

/// How to run every workload of the job.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = schema::run_example())]
pub struct RawRun {
    /// The strategies to compare: "serial" (the reference), "threads",
    /// "processes"; one or an array.
    #[schemars(schema_with = "schema::strategies")]
    pub strategies: Spanned<OneOrMany>,
    /// Worker counts: numbers from 1 to 1024, or "cpus" (the machine's
    /// logical CPUs); an array is an axis of the matrix. Default: "cpus".
    #[serde(default)]
    #[schemars(schema_with = "schema::workers")]
    pub workers: Option<Spanned<OneOrMany>>,
    /// Measured runs of each entry: a whole number (exactly that many), or
    /// "auto" (repeat until the median's 95% interval is within `precision`).
    /// Default: "auto" (it was 5 before "auto" existed).
    #[serde(default)]
    #[schemars(schema_with = "schema::repetitions")]
    pub repetitions: Option<Spanned<Value>>,
    /// Unmeasured runs of each entry before the measured ones. Default: 1.
    #[schemars(with = "Option<u32>", example = 1)]
    pub warmup: Option<Spanned<i64>>,
    /// Items per dispatch for pools: "auto" (about 64 chunks per worker) or a
    /// number; an array is an axis. Default: "auto".
    #[serde(default)]
    #[schemars(schema_with = "schema::chunk_size")]
    pub chunk_size: Option<Spanned<OneOrMany>>,
    /// The longest one run may take, such as "500ms", "60s", "2m" or "1h".
    /// Default: none.
    #[serde(default)]
    #[schemars(schema_with = "schema::duration")]
    pub timeout: Option<Spanned<String>>,
    /// How the runs of a group are ordered: "interleaved" (in rounds, each
    /// entry once per round, in an order shuffled anew every round) or
    /// "grouped" (each entry's runs back to back). Default: "interleaved".
    #[serde(default)]
    #[schemars(schema_with = "schema::order")]
    pub order: Option<Spanned<String>>,
    /// Where workers run: "cores" (serial's thread, each pool thread and each
    /// worker process on a CPU of its own, physical cores first, while the
    /// workers do not outnumber the CPUs) or "none" (the scheduler decides).
    /// Default: "cores".
    #[serde(default)]
    #[schemars(schema_with = "schema::pin")]
    pub pin: Option<Spanned<String>>,
    /// Whether a pool's start is timed: "timed" (the clock starts before the
    /// pool is created, as the seed's timed block did) or "untimed" (it
    /// starts once every worker is ready: a pool already running). Not for
    /// a python workload's pools, which start their workers inside `map`.
    /// Default: "timed".
    #[serde(default)]
    #[schemars(schema_with = "schema::pool_start")]
    pub pool_start: Option<Spanned<String>>,
    /// Seeds the shuffled order of every round, to run again in the order
    /// env.json recorded. Default: a new seed each run.
    #[schemars(with = "Option<u64>", example = 7)]
    pub order_seed: Option<Spanned<Value>>,
    /// With repetitions = "auto": repeat until the 95% interval of the
    /// median is within this percentage of it. Default: "2%".
    #[serde(default)]
    #[schemars(schema_with = "schema::precision")]
    pub precision: Option<Spanned<Value>>,
    /// With repetitions = "auto": the fewest runs before it may stop.
    /// Default: 10.
    #[schemars(with = "Option<u32>", range(min = 1), example = 10)]
    pub min_repetitions: Option<Spanned<i64>>,
    /// With repetitions = "auto": an entry's measured runs spread over at
    /// least this much of the clock (from the start of its first to the end
    /// of its last), such as "1s", so that a neighbour's burst on a shared
    /// machine is a part of its sample, not all of it. Default: "1s".
    #[serde(default)]
    #[schemars(schema_with = "schema::duration")]
    pub min_span: Option<Spanned<String>>,
    /// With repetitions = "auto": the most measuring per entry, such as
    /// "5s"; at least 3 runs are made. Default: "5s".
    #[serde(default)]
    #[schemars(schema_with = "schema::duration")]
    pub max_time: Option<Spanned<String>>,
}

/// A workload: a builtin function of parbench or an external command, with
/// its parameters; the keys of [run] given here apply to it alone.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = schema::workload)]
pub struct RawWorkload {
    /// Names the workload in tables and CSV; unique in the job.
    #[schemars(with = "String", regex(pattern = r"\S"), example = &"increase")]
    pub name: Spanned<String>,
    /// A function compiled into parbench (`parbench list` shows them).
    #[serde(default)]
    #[schemars(schema_with = "schema::builtin")]
    pub builtin: Option<Spanned<String>>,
    /// An external program as an argv array (no shell): "{item}" and
    /// "{PARAM}" are replaced in every argument.
    #[schemars(with = "Option<Vec<String>>", length(min = 1))]
    #[schemars(example = ["python3", "work.py", "{item}"])]
    pub command: Option<Spanned<Vec<Spanned<String>>>>,
    /// How items reach a command: "argv" (one process per item) or "lines"
    /// (one long-lived process per worker, one item per line). Default: "argv".
    #[serde(default)]
    #[schemars(schema_with = "schema::protocol")]
    pub protocol: Option<Spanned<String>>,
    /// For a "lines" command only: the exact line each worker prints on
    /// stdout once it can take work, before any answer. setup_s then runs
    /// until every worker has printed it; the line is not an answer.
    #[schemars(with = "Option<String>", regex(pattern = r"^[^\n\r]+$"), example = &"READY")]
    pub ready: Option<Spanned<String>>,
    /// A Python function run under Python's own map, ThreadPoolExecutor and
    /// ProcessPoolExecutor, timed inside Python: "FILE:FUNCTION", FILE
    /// relative to the job file.
    #[serde(default)]
    #[schemars(schema_with = "schema::python")]
    pub python: Option<Spanned<String>>,
    /// The interpreter of a `python` workload: a program on PATH or a path
    /// relative to the job file (default: the active virtual environment's
    /// python, else "python3" on PATH); an array is an axis.
    #[serde(default)]
    #[schemars(schema_with = "schema::interpreter")]
    pub interpreter: Option<Spanned<OneOrMany>>,
    /// How a `python` workload's ProcessPoolExecutor starts its processes:
    /// "fork", "spawn" or "forkserver" (default: Python's own); an array is
    /// an axis.
    #[serde(default)]
    #[schemars(schema_with = "schema::start_method")]
    pub start_method: Option<Spanned<OneOrMany>>,
    /// The workload's parameters; an array is an axis of the matrix.
    #[serde(default)]
    #[schemars(schema_with = "schema::params")]
    pub params: Option<Spanned<Table>>,
    /// Strategies for this workload alone, instead of [run]'s.
    #[serde(default)]
    #[schemars(schema_with = "schema::strategies")]
    pub strategies: Option<Spanned<OneOrMany>>,
    /// Worker counts for this workload alone, instead of [run]'s.
    #[serde(default)]
    #[schemars(schema_with = "schema::workers")]
    pub workers: Option<Spanned<OneOrMany>>,
    /// Measured runs of each entry of this workload, instead of [run]'s: a
    /// whole number or "auto".
    #[serde(default)]
    #[schemars(schema_with = "schema::repetitions")]
    pub repetitions: Option<Spanned<Value>>,
    /// Chunk sizes for this workload alone, instead of [run]'s.
    #[serde(default)]
    #[schemars(schema_with = "schema::chunk_size")]
    pub chunk_size: Option<Spanned<OneOrMany>>,
    /// Whether every run's results must equal the group's first (default
    /// true). false: for a command whose output differs run to run (a pid,
    /// a time); its runs are recorded, not compared.
    #[schemars(with = "Option<bool>", example = false)]
    pub verify: Option<Spanned<bool>>,
}

/// A value that may be given once or as an array (an axis of the matrix).
/// Each array element keeps its own span so that an error points at it.
#[derive(Debug)]
pub enum OneOrMany {
    One(Value),
    Many(Vec<Spanned<Value>>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor;

        impl<'de> Visitor<'de> for OneOrManyVisitor {
            type Value = OneOrMany;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or an array of values")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(Value::Integer(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OneOrMany, E> {
                i64::try_from(v)
                    .map(|v| OneOrMany::One(Value::Integer(v)))
                    .map_err(|_| E::custom("number too large"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(Value::Float(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(Value::Boolean(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(Value::String(v.to_owned())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut values = Vec::new();
                while let Some(value) = seq.next_element::<Spanned<Value>>()? {
                    values.push(value);
                }
                Ok(OneOrMany::Many(values))
            }
        }

        deserializer.deserialize_any(OneOrManyVisitor)
    }
}
