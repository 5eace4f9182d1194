//! Fuzzing the job-file reader: no text, however broken, makes parsing,
//! validation or matrix expansion panic. The inputs are valid job files
//! mutated byte by byte and line by line, and job-shaped TOML built from the
//! format's own keys with hostile values.
//!
//! `cargo test` runs a few hundred cases; for a long session:
//! `PARBENCH_FUZZ_SECONDS=600 cargo test --release --lib fuzz -- --ignored --nocapture`

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const SEEDS: &[&str] = &[
    include_str!("../../jobs/seed.toml"),
    include_str!("../../jobs/scaling.toml"),
    include_str!("../../jobs/io-bound.toml"),
    include_str!("../../jobs/commands.toml"),
    include_str!("../../jobs/python-seed.toml"),
];

const KEYS: &[&str] = &[
    "version",
    "name",
    "description",
    "generator",
    "size",
    "scale",
    "start",
    "step",
    "low",
    "high",
    "seed",
    "value",
    "path",
    "strategies",
    "workers",
    "repetitions",
    "precision",
    "min_repetitions",
    "min_span",
    "max_time",
    "order_seed",
    "warmup",
    "chunk_size",
    "timeout",
    "builtin",
    "command",
    "protocol",
    "params",
    "iterations",
    "percent",
    "millis",
    "item",
];

const WORDS: &[&str] = &[
    "serial",
    "threads",
    "processes",
    "cpus",
    "auto",
    "squares",
    "range",
    "random",
    "constant",
    "file",
    "spin",
    "sleep",
    "price-crazy",
    "price-increase",
    "__crash",
    "argv",
    "lines",
    "{item}",
    "{x}",
    "1s",
    "0ms",
    "-5m",
    "/dev/zero",
    ".",
    "",
    "é",
    "\u{0}",
];

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        prop::sample::select(vec!["0", "1", "-1", "2", "1_000_000_000_000", "9223372036854775807"])
            .prop_map(str::to_owned),
        prop::sample::select(vec!["nan", "inf", "-inf", "0.5", "1e308", "-0.0"]).prop_map(str::to_owned),
        prop::sample::select(WORDS.to_vec()).prop_map(|word| format!("{word:?}")),
        Just("true".to_owned()),
        Just("1979-05-27T07:32:00Z".to_owned()),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => scalar(),
        1 => prop::collection::vec(scalar(), 0..4).prop_map(|items| format!("[{}]", items.join(", "))),
        1 => prop::collection::vec((prop::sample::select(KEYS.to_vec()), scalar()), 0..3).prop_map(|pairs| {
            let pairs: Vec<String> = pairs.iter().map(|(key, value)| format!("{key} = {value}")).collect();
            format!("{{ {} }}", pairs.join(", "))
        }),
    ]
}

/// A job-shaped document: the right tables, random keys and values.
fn job_shaped() -> impl Strategy<Value = String> {
    let table = || prop::collection::vec((prop::sample::select(KEYS.to_vec()), value()), 0..6);
    (prop::option::of(scalar()), table(), table(), prop::collection::vec(table(), 0..3)).prop_map(
        |(version, list, run, workloads)| {
            let lines = |pairs: &[(&str, String)]| {
                pairs.iter().map(|(key, value)| format!("{key} = {value}\n")).collect::<String>()
            };
            let mut text = version.map(|version| format!("version = {version}\n")).unwrap_or_default();
            text.push_str(&format!("[list]\n{}[run]\n{}", lines(&list), lines(&run)));
            for workload in workloads {
                text.push_str(&format!("[[workload]]\n{}", lines(&workload)));
            }
            text
        },
    )
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

/// A valid job file with a few edits.
fn mutated() -> impl Strategy<Value = String> {
    let edit = prop_oneof![
        (any::<usize>(), 1..20usize).prop_map(|(at, len)| Edit::Delete(at, len)),
        (
            any::<usize>(),
            prop_oneof![
                prop::sample::select(vec![
                    "[",
                    "]",
                    "\"",
                    "=",
                    "\n",
                    "#",
                    ",",
                    "{",
                    "}",
                    "0",
                    "-",
                    "[[workload]]\n"
                ])
                .prop_map(str::to_owned),
                value(),
            ]
        )
            .prop_map(|(at, text)| Edit::Insert(at, text)),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ];
    (prop::sample::select(SEEDS.to_vec()), prop::collection::vec(edit, 1..5)).prop_map(|(seed, edits)| {
        let mut text = seed.to_owned();
        for edit in edits {
            text = apply(&text, &edit);
        }
        text
    })
}

fn apply(text: &str, edit: &Edit) -> String {
    let boundary = |at: usize| {
        let mut at = at % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let mut lines: Vec<&str> = text.lines().collect();
    match edit {
        Edit::Delete(at, len) => {
            let start = boundary(*at);
            let end = boundary((start + len).min(text.len()));
            format!("{}{}", &text[..start], &text[end.max(start)..])
        }
        Edit::Insert(at, insert) => {
            let at = boundary(*at);
            format!("{}{insert}{}", &text[..at], &text[at..])
        }
        Edit::DuplicateLine(at) if !lines.is_empty() => {
            let at = at % lines.len();
            lines.insert(at, lines[at]);
            lines.join("\n")
        }
        Edit::SwapLines(a, b) if !lines.is_empty() => {
            let (a, b) = (a % lines.len(), b % lines.len());
            lines.swap(a, b);
            lines.join("\n")
        }
        _ => text.to_owned(),
    }
}

fn document() -> impl Strategy<Value = String> {
    prop_oneof![mutated(), job_shaped(), ".*"]
}

/// Everything a job file goes through before anything runs.
fn check(text: &str) -> Result<(), TestCaseError> {
    // Relative to the jobs folder, so that the seeds' scripts resolve.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/fuzzed.toml");
    if let Ok(job) = crate::jobfile::parse(&path, text) {
        for cpus in [1, 2, 64] {
            let plan = crate::matrix::expand(&job, cpus, crate::matrix::Overrides::default());
            let _ = crate::command::plan_text(&job, &plan);
        }
    }
    Ok(())
}

#[test]
fn job_files_never_panic() {
    let mut runner = TestRunner::new(Config { cases: 400, failure_persistence: None, ..Config::default() });
    runner.run(&document(), |text| check(&text)).unwrap();
}

#[test]
#[ignore = "long: set PARBENCH_FUZZ_SECONDS"]
fn fuzz_job_files_for_a_while() {
    let seconds: u64 = std::env::var("PARBENCH_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut cases = 0u64;
    let accepted = std::sync::atomic::AtomicU64::new(0);
    while Instant::now() < until {
        let mut runner =
            TestRunner::new(Config { cases: 1000, failure_persistence: None, ..Config::default() });
        runner
            .run(&document(), |text| {
                let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/fuzzed.toml");
                if crate::jobfile::parse(&path, &text).is_ok() {
                    accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                check(&text)
            })
            .unwrap();
        cases += 1000;
    }
    let accepted = accepted.into_inner();
    println!("fuzzed {cases} job files in {seconds} s ({accepted} valid), no panic");
}
