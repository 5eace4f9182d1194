//! An entry's key: the text that says what an entry measures, in an
//! explicit canonical encoding, and the xxh3_64 digest of that text.
//!
//! Rows on disk carry the digest, and `--resume` and `cluster` find their
//! entry by it, so the text of an unchanged entry must never change. No
//! part of it is `Debug` output: a renamed variant or another release of
//! std would change every key. Every form is written out here instead, and
//! pinned by the golden test in `key_tests.rs`.
//!
//! The encoding, as docs/RESULTS.md documents it (`entry_key`):
//!
//! ```text
//! key        = "x" + 16 lowercase hex digits of xxh3_64(UTF-8 of text)
//! text       = definition "|" inputs "|" string(job file) "|" version
//!              [ "|pool_start untimed" ]
//! definition = string(workload) "|" what "|" list(string(name "=" param))
//!              "|" generator "|" list size "|" strategy "|" workers "|" chunk
//! what       = "builtin " NAME
//!            | "command " list(string(arg)) " " ("Argv" | "Lines") [" ready " string(line)]
//!            | "python " string(file) ":" string(function)
//! param      = "Number(" number ")" | "Text(" string(text) ")"
//! generator  = "Squares { scale: " number " }" | "Range { start: " number ", step: " number " }"
//!            | "Random { low: " number ", high: " number ", seed: " integer " }"
//!            | "Constant { value: " number " }" | "file " 16 hex digits of the lines
//! chunk      = "auto:guided" | "None" | "Some(" integer ")"
//! inputs     = "" (builtin) | list("(" string(name) ", " string(digest) ")") (command)
//!            | "None" | "Some((" string(file) ", " string(digest) "))" (python)
//! list(x)    = "[" x, separated by ", " "]"
//! string(s)  = '"' s '"', with \0 \t \r \n \\ \" escaped so, other control
//!              characters (U+0001–U+001F, U+007F–U+009F) as \u{hex}, the
//!              rest as it is
//! number     = decimal where 1e-4 <= |n| < 1e16 or n = 0, with ".0" if
//!              whole ("1000.0", "0.25"); else exponent ("1e16", "2.5e-5");
//!              "NaN", "inf", "-inf"; the shortest digits that read back
//! ```
//!
//! These forms are the ones parbench 0.1.x wrote with `Debug`, so every key
//! on disk is the key of today. They differ only in a string with a
//! character that std's `Debug` escaped by its Unicode tables (a combining
//! mark, a format character, an unassigned one): such an entry also answers
//! to the key its `Debug` text gave ([`Quoting::Debug`], the only use of
//! `Debug` left), so that rows written by 0.1.x still match.

use crate::generator::Generator;
use crate::jobfile::{ParamValue, WorkloadKind};
use crate::vocab::{PoolStart, Strategy};
use crate::workload::Protocol;

use super::{AUTO_CHUNK, Origin};

/// What decides what an entry measures, as its key covers it.
pub(super) struct Definition<'a> {
    pub workload: &'a str,
    pub kind: &'a WorkloadKind,
    pub generator: &'a Generator,
    pub params: &'a [(String, ParamValue)],
    pub list_size: usize,
    pub strategy: Strategy,
    pub workers: usize,
    pub chunk: Chunk,
    pub pool_start: PoolStart,
}

/// The chunk size an entry's keys cover: guided "auto", or a fixed size
/// (`None` where chunks do not apply).
#[derive(Clone, Copy)]
pub(super) enum Chunk {
    Auto,
    Fixed(Option<usize>),
}

/// An entry's key and the keys that rows written by earlier releases carry
/// for it.
pub(super) struct Keys {
    pub key: String,
    /// parbench 0.1.0's first key: the definition alone, "auto" resolved
    /// to the fixed size it was then, strings quoted by `Debug`.
    pub legacy: String,
    /// The key as 0.1.x wrote it where its `Debug` quoting differs from
    /// the canonical one; `None` for every ordinary entry.
    pub debug: Option<String>,
}

/// How a string is quoted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Quoting {
    Canonical,
    /// std's `Debug`, as parbench 0.1.x quoted: for former keys only.
    Debug,
}

pub(super) fn keys(definition: &Definition<'_>, origin: &Origin) -> Keys {
    let key = digest(&text(definition, origin, Quoting::Canonical));
    let debug = digest(&text(definition, origin, Quoting::Debug));
    let legacy_chunk = match definition.chunk {
        Chunk::Auto => Some(definition.list_size.div_ceil(definition.workers.max(1) * 64).clamp(1, 8192)),
        Chunk::Fixed(size) => size,
    };
    let legacy = digest(&defined(definition, &optional_integer(legacy_chunk), Quoting::Debug));
    Keys { debug: (debug != key).then_some(debug), key, legacy }
}

fn digest(text: &str) -> String {
    crate::vocab::digest(xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
}

/// The text an entry's key is the digest of.
pub(super) fn text(definition: &Definition<'_>, origin: &Origin, quoting: Quoting) -> String {
    let chunk = match definition.chunk {
        Chunk::Auto => AUTO_CHUNK.to_owned(),
        Chunk::Fixed(size) => optional_integer(size),
    };
    let mut text = defined(definition, &chunk, quoting);
    let quote = |text: &str| quoting.quote(text);
    let pair = |(name, digest): &(String, String)| format!("({}, {})", quote(name), quote(digest));
    let inputs = match definition.kind {
        WorkloadKind::Command { inputs, .. } => list(inputs.iter().map(pair)),
        WorkloadKind::Python { file, .. } => match origin.python.iter().find(|(name, _)| name == file) {
            Some(found) => format!("Some({})", pair(found)),
            None => "None".to_owned(),
        },
        WorkloadKind::Builtin(_) => String::new(),
    };
    text.push_str(&format!("|{inputs}|{}|{}", quote(&origin.job_file), origin.version));
    // Another ruler, another measurement; a timed start (the default, and
    // all there was before) adds nothing, so that its keys stay as they were.
    let has_pool = match definition.kind {
        WorkloadKind::Builtin(_) => definition.strategy != Strategy::Serial,
        WorkloadKind::Command { protocol, .. } => *protocol == Protocol::Lines,
        // Python's pools cannot run untimed (validation refuses them).
        WorkloadKind::Python { .. } => false,
    };
    if definition.pool_start == PoolStart::Untimed && has_pool {
        text.push_str("|pool_start untimed");
    }
    text
}

/// The definition's part of the text, with its chunk as given.
fn defined(definition: &Definition<'_>, chunk: &str, quoting: Quoting) -> String {
    let quote = |text: &str| quoting.quote(text);
    let what = match definition.kind {
        WorkloadKind::Builtin(spec) => format!("builtin {}", spec.name),
        WorkloadKind::Command { argv, protocol, ready, .. } => {
            let argv = list(argv.iter().map(|arg| quote(arg)));
            let protocol = match protocol {
                Protocol::Argv => "Argv",
                Protocol::Lines => "Lines",
            };
            match ready {
                // Without a ready line the identity stays what it was.
                None => format!("command {argv} {protocol}"),
                Some(ready) => format!("command {argv} {protocol} ready {}", quote(ready)),
            }
        }
        WorkloadKind::Python { file, function, .. } => format!("python {}:{}", quote(file), quote(function)),
    };
    let params = list(definition.params.iter().map(|(name, value)| {
        let value = match value {
            ParamValue::Number(number) => format!("Number({})", number_text(*number)),
            ParamValue::Text(text) => format!("Text({})", quote(text)),
        };
        quote(&format!("{name}={value}"))
    }));
    format!(
        "{}|{what}|{params}|{}|{}|{}|{}|{chunk}",
        quote(definition.workload),
        generator_text(definition.generator),
        definition.list_size,
        definition.strategy.name(),
        definition.workers,
    )
}

fn generator_text(generator: &Generator) -> String {
    match generator {
        Generator::Squares { scale } => format!("Squares {{ scale: {} }}", number_text(*scale)),
        Generator::Range { start, step } => {
            format!("Range {{ start: {}, step: {} }}", number_text(*start), number_text(*step))
        }
        Generator::Random { low, high, seed } => {
            format!("Random {{ low: {}, high: {}, seed: {seed} }}", number_text(*low), number_text(*high))
        }
        Generator::Constant { value } => format!("Constant {{ value: {} }}", number_text(*value)),
        // A digest of its lines as written.
        Generator::File { .. } => generator.fingerprint(),
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}

fn optional_integer(value: Option<usize>) -> String {
    match value {
        Some(value) => format!("Some({value})"),
        None => "None".to_owned(),
    }
}

/// A number in the key: the shortest digits that read back as it (Rust's
/// `Display` and `LowerExp`), in decimal from 1e-4 to under 1e16 with at
/// least one decimal, in exponent form outside.
pub(super) fn number_text(number: f64) -> String {
    if number.is_nan() {
        return "NaN".to_owned();
    }
    if number.is_infinite() {
        return if number > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let magnitude = number.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        return format!("{number:e}");
    }
    let decimal = number.to_string();
    if decimal.contains('.') { decimal } else { format!("{decimal}.0") }
}

impl Quoting {
    pub(super) fn quote(self, text: &str) -> String {
        match self {
            Quoting::Canonical => canonical_string(text),
            Quoting::Debug => format!("{text:?}"),
        }
    }
}

/// A string in the key: in double quotes, with the escapes listed at the
/// top of this file and nothing else escaped.
pub(super) fn canonical_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        match character {
            '\0' => quoted.push_str("\\0"),
            '\t' => quoted.push_str("\\t"),
            '\r' => quoted.push_str("\\r"),
            '\n' => quoted.push_str("\\n"),
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            control @ ('\u{1}'..='\u{1f}' | '\u{7f}'..='\u{9f}') => {
                quoted.push_str(&format!("\\u{{{:x}}}", control as u32))
            }
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}
