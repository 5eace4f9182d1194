//! The summary of each entry, declared once. [`LEAD`] and [`TAIL`] say, for
//! each column of `results/NAME.summary.csv` in file order, its name, its
//! unit and how its value is read off an entry; [`TABLE`] says which of
//! those columns the tables people read show, under what heading, and
//! where. The summary CSV (here), `report --json` (`json`), the terminal
//! table (`table`) and the Markdown and HTML tables (`markdown`, `html`)
//! all come from them, so a statistic has one name in every file and a
//! new one is one line here.
//!
//! The documented columns come first, in their order; the columns this
//! version adds follow them, only ever at the end.

use serde_json::json;

use super::csv::writer;
use super::{human_bytes, human_seconds, seconds, significant, text_cell, words};
use crate::analysis::{Analysis, EntryStats, RunsOf};

/// What a column's numbers measure, which says how they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Text,
    Count,
    Seconds,
    /// Speedups, efficiencies and the like: a plain ratio.
    Ratio,
    /// Levels and precisions: a fraction of 1.
    Fraction,
    Bytes,
}

impl Unit {
    /// A number as the summary CSV writes it: never with an exponent, with
    /// digits enough for a spreadsheet.
    fn cell(self, value: f64) -> String {
        match self {
            Unit::Seconds => seconds(value),
            Unit::Ratio => significant(value, 6),
            // Digits enough for 1 - 2/2^n.
            Unit::Fraction => format!("{value:.6}"),
            Unit::Bytes | Unit::Count | Unit::Text => format!("{value:.0}"),
        }
    }

    /// A number as people read it: `16.0 ms`, `1.91×`, `25.0 MiB`.
    fn human(self, value: f64) -> String {
        match self {
            Unit::Seconds => human_seconds(value),
            Unit::Ratio => words::ratio(value),
            Unit::Bytes => human_bytes(value),
            Unit::Fraction | Unit::Count | Unit::Text => self.cell(value),
        }
    }
}

/// An entry's value in a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A name or a word, unguarded; the CSV guards it against formulas.
    Text(String),
    Count(usize),
    /// A measure, in the column's unit.
    Number(f64),
    /// Nothing to say: an empty cell, `null` in JSON.
    Empty,
}

impl From<usize> for Value {
    fn from(count: usize) -> Value {
        Value::Count(count)
    }
}

impl From<Option<f64>> for Value {
    fn from(number: Option<f64>) -> Value {
        number.map_or(Value::Empty, Value::Number)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        if text.is_empty() { Value::Empty } else { Value::Text(text.to_owned()) }
    }
}

/// A column of the summary: its name in the CSV's header and the JSON's
/// keys, its unit, and the entry's value in it.
pub struct Column {
    pub name: &'static str,
    pub unit: Unit,
    pub source: Source,
}

/// Where a column's value comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    /// Read off the entry's statistics.
    Entry(fn(&EntryStats) -> Value),
    /// The median of a per-run column, by its place in
    /// [`crate::results::MEDIANS`].
    Median(usize),
}

impl Column {
    /// The entry's value in this column.
    pub fn value(&self, entry: &EntryStats) -> Value {
        match self.source {
            Source::Entry(value) => value(entry),
            Source::Median(at) => entry.medians.get(at).copied().flatten().into(),
        }
    }

    /// The entry's cell in the summary CSV.
    pub fn cell(&self, entry: &EntryStats) -> String {
        match self.value(entry) {
            Value::Text(text) => text_cell(&text),
            Value::Count(count) => count.to_string(),
            Value::Number(number) => self.unit.cell(number),
            Value::Empty => String::new(),
        }
    }

    /// The entry's value in `report --json`: numbers as they are, not
    /// rounded; `null` for nothing (and for infinity, which JSON lacks).
    pub fn json(&self, entry: &EntryStats) -> serde_json::Value {
        match self.value(entry) {
            Value::Text(text) => json!(text),
            Value::Count(count) => json!(count),
            Value::Number(number) => json!(number),
            Value::Empty => serde_json::Value::Null,
        }
    }

    /// The entry's value as people read it; empty for nothing.
    pub fn human(&self, entry: &EntryStats) -> String {
        match self.value(entry) {
            Value::Text(text) => text,
            Value::Count(count) => count.to_string(),
            Value::Number(number) => self.unit.human(number),
            Value::Empty => String::new(),
        }
    }
}

const fn column(name: &'static str, unit: Unit, value: fn(&EntryStats) -> Value) -> Column {
    Column { name, unit, source: Source::Entry(value) }
}

/// The columns after [`TAIL`]: a median for each of the per-run columns in
/// [`crate::results::MEDIANS`], in their order.
static MEDIAN_COLUMNS: std::sync::LazyLock<Vec<Column>> = std::sync::LazyLock::new(|| {
    crate::results::MEDIANS
        .iter()
        .enumerate()
        .map(|(at, median)| Column { name: median.name, unit: Unit::Ratio, source: Source::Median(at) })
        .collect()
});

/// The columns after the parameters, in file order: [`TAIL`], the medians
/// of [`crate::results::MEDIANS`], then [`LATE`].
pub fn tail() -> impl Iterator<Item = &'static Column> {
    TAIL.iter().chain(MEDIAN_COLUMNS.iter()).chain(LATE)
}

/// The columns added after the medians, only ever at the end.
pub const LATE: &[Column] = &[column("invocations", Unit::Count, |entry| entry.invocations.into())];

/// The columns before the job's `param_NAME` columns, in file order. Names
/// came back from a CSV unguarded: they are guarded again.
pub const LEAD: &[Column] = &[
    column("job", Unit::Text, |entry| entry.id.group.job.as_str().into()),
    column("workload", Unit::Text, |entry| entry.id.group.workload.as_str().into()),
    column("generator", Unit::Text, |entry| entry.id.group.generator.as_str().into()),
    column("list_size", Unit::Count, |entry| entry.id.group.list_size.into()),
    column("strategy", Unit::Text, |entry| entry.id.strategy.name().into()),
    column("workers", Unit::Count, |entry| entry.id.workers.into()),
    column("chunk_size", Unit::Count, |entry| entry.id.chunking.size().map_or(Value::Empty, Value::Count)),
];

/// The columns after the parameters, in file order: the documented ones,
/// then (from `median_ci_low_s`) those this version adds, only ever at the
/// end.
pub const TAIL: &[Column] = &[
    column("runs", Unit::Count, |entry| entry.runs.into()),
    column("failures", Unit::Count, |entry| entry.failures.into()),
    column("median_s", Unit::Seconds, |entry| entry.wall.map(|wall| wall.median).into()),
    column("mean_s", Unit::Seconds, |entry| entry.wall.map(|wall| wall.mean).into()),
    column("stddev_s", Unit::Seconds, |entry| entry.wall.map(|wall| wall.stddev).into()),
    column("min_s", Unit::Seconds, |entry| entry.wall.map(|wall| wall.min).into()),
    column("max_s", Unit::Seconds, |entry| entry.wall.map(|wall| wall.max).into()),
    column("median_cpu_s", Unit::Seconds, |entry| entry.median_cpu.into()),
    column("speedup", Unit::Ratio, |entry| entry.speedup.into()),
    column("efficiency", Unit::Ratio, |entry| entry.efficiency().into()),
    column("median_ci_low_s", Unit::Seconds, |entry| entry.median_ci.map(|(low, _)| low).into()),
    column("median_ci_high_s", Unit::Seconds, |entry| entry.median_ci.map(|(_, high)| high).into()),
    column("outliers", Unit::Count, |entry| entry.outliers.into()),
    column("speedup_ci_low", Unit::Ratio, |entry| entry.speedup_ci.map(|(low, _)| low).into()),
    column("speedup_ci_high", Unit::Ratio, |entry| entry.speedup_ci.map(|(_, high)| high).into()),
    column("host", Unit::Text, |entry| entry.id.group.host.as_str().into()),
    column("median_peak_rss_bytes", Unit::Bytes, |entry| entry.median_peak_rss.into()),
    column("karp_flatt", Unit::Ratio, |entry| entry.karp_flatt().into()),
    column("median_ci_level", Unit::Fraction, |entry| entry.median_ci_level.into()),
    column("precision", Unit::Fraction, |entry| entry.precision.into()),
    column("speedup_ci_level", Unit::Fraction, |entry| entry.speedup_ci_level.into()),
    column("verdict", Unit::Text, |entry| words::entry_verdict(entry).as_str().into()),
    column("disturbed_runs", Unit::Count, |entry| entry.disturbed_runs().into()),
    column("not_judged", Unit::Text, |entry| {
        match entry.busy.map(|busy| busy.runs_of) {
            None => "",
            Some(RunsOf::Entry) => "busy",
            Some(RunsOf::Serial) => "serial busy",
        }
        .into()
    }),
    column("chunk_policy", Unit::Text, |entry| entry.id.chunking.policy().into()),
];

/// Every column of the summary, the parameters left out.
pub fn columns() -> impl Iterator<Item = &'static Column> {
    LEAD.iter().chain(tail())
}

/// The column named `name`.
///
/// # Panics
///
/// Where no column has that name: [`TABLE`] names only columns that exist
/// (a test reads every one).
pub fn named(name: &str) -> &'static Column {
    columns().find(|column| column.name == name).unwrap_or_else(|| panic!("no summary column {name}"))
}

// ---------------------------------------------------------------- the tables people read

/// Which tables show a column: the terminal's, the pages' (Markdown and
/// HTML), or both. The terminal joins pairs into one cell (`min … max`,
/// `10 ok`) to stay narrow and shows `cpu`; the pages keep the pairs apart
/// and have no `cpu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shows {
    Everywhere,
    Terminal,
    Pages,
}

/// Where a column stands in the HTML table, which puts the answer right
/// after the entry's name so that a narrow window shows it before it
/// scrolls: the verdict against serial, then the speedup it rests on
/// (`docs/RESULTS.md`). The terminal and Markdown keep [`TABLE`]'s order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// What tells the entry apart in its group.
    Name,
    Verdict,
    /// The speedup and its interval.
    Speedup,
    Detail,
}

/// What a cell of a table shows, from the summary's columns by name.
#[derive(Debug, Clone, Copy)]
pub enum Cell {
    One(&'static str),
    /// Two columns as `low … high`; empty where either is.
    Between(&'static str, &'static str),
    /// A spread: `± 1.20 ms`.
    PlusMinus(&'static str),
    /// `runs` and `failures` in words: `10 ok`, `2 of 10 failed`.
    Status,
    /// `chunk_size` and `chunk_policy` as one: `64`, `auto:guided`.
    Chunk,
}

/// A column of the entry tables people read.
pub struct Shown {
    pub heading: &'static str,
    pub cell: Cell,
    pub shows: Shows,
    /// Words align left, numbers right.
    pub numeric: bool,
    /// The terminal writes `-` where the cell is empty, so that a missing
    /// number reads as missing rather than as a gap.
    pub dash: bool,
    pub rank: Rank,
}

impl Shown {
    /// The entry's cell, as people read it (never `-`: see [`Shown::dash`]).
    pub fn cell(&self, entry: &EntryStats) -> String {
        match self.cell {
            Cell::One(name) => named(name).human(entry),
            Cell::Between(low, high) => match (named(low).human(entry), named(high).human(entry)) {
                (low, high) if low.is_empty() || high.is_empty() => String::new(),
                (low, high) => format!("{low} … {high}"),
            },
            Cell::PlusMinus(name) => {
                let spread = named(name).human(entry);
                if spread.is_empty() { spread } else { format!("± {spread}") }
            }
            Cell::Status if entry.failures == 0 => format!("{} ok", entry.runs),
            Cell::Status => format!("{} of {} failed", entry.failures, entry.runs),
            Cell::Chunk => entry.id.chunking.label(),
        }
    }

    /// Whether the table `on` has this column (`on` is [`Shows::Terminal`]
    /// or [`Shows::Pages`]).
    pub fn on(&self, on: Shows) -> bool {
        self.shows == Shows::Everywhere || self.shows == on
    }
}

const fn shown(heading: &'static str, cell: Cell, numeric: bool) -> Shown {
    Shown { heading, cell, shows: Shows::Everywhere, numeric, dash: false, rank: Rank::Detail }
}

impl Shown {
    const fn only(self, shows: Shows) -> Shown {
        Shown { shows, ..self }
    }

    const fn dashed(self) -> Shown {
        Shown { dash: true, ..self }
    }

    const fn ranked(self, rank: Rank) -> Shown {
        Shown { rank, ..self }
    }
}

/// The entry tables' columns, in the order the terminal and Markdown show
/// them.
pub const TABLE: &[Shown] = &[
    shown("strategy", Cell::One("strategy"), false).ranked(Rank::Name),
    shown("workers", Cell::One("workers"), true).ranked(Rank::Name),
    shown("chunk", Cell::Chunk, false).ranked(Rank::Name).dashed(),
    shown("median", Cell::One("median_s"), true).dashed(),
    shown("95% CI", Cell::Between("median_ci_low_s", "median_ci_high_s"), true),
    shown("mean", Cell::One("mean_s"), true).dashed(),
    shown("± stddev", Cell::PlusMinus("stddev_s"), true).only(Shows::Terminal),
    shown("stddev", Cell::One("stddev_s"), true).only(Shows::Pages),
    shown("min … max", Cell::Between("min_s", "max_s"), true).only(Shows::Terminal),
    shown("min", Cell::One("min_s"), true).only(Shows::Pages),
    shown("max", Cell::One("max_s"), true).only(Shows::Pages),
    shown("outliers", Cell::One("outliers"), true),
    shown("cpu", Cell::One("median_cpu_s"), true).only(Shows::Terminal).dashed(),
    shown("memory", Cell::One("median_peak_rss_bytes"), true).dashed(),
    shown("speedup", Cell::One("speedup"), true).ranked(Rank::Speedup).dashed(),
    shown("95% CI", Cell::Between("speedup_ci_low", "speedup_ci_high"), true).ranked(Rank::Speedup),
    shown("verdict", Cell::One("verdict"), false).ranked(Rank::Verdict),
    shown("status", Cell::Status, false).only(Shows::Terminal),
    shown("runs", Cell::One("runs"), true).only(Shows::Pages),
    shown("failures", Cell::One("failures"), true).only(Shows::Pages),
];

/// The columns of the table `on` ([`Shows::Terminal`] or
/// [`Shows::Pages`]), in [`TABLE`]'s order.
pub fn table(on: Shows) -> impl Iterator<Item = &'static Shown> {
    TABLE.iter().filter(move |shown| shown.on(on))
}

// ---------------------------------------------------------------- the CSV

pub fn to_csv(analysis: &Analysis) -> Vec<u8> {
    let header: Vec<String> = LEAD
        .iter()
        .map(|column| column.name.to_owned())
        .chain(analysis.param_names.iter().map(|name| format!("param_{name}")))
        .chain(tail().map(|column| column.name.to_owned()))
        .collect();
    let mut csv = writer(Vec::new());
    csv.write_record(&header).expect("writing to memory");
    for entry in &analysis.entries {
        csv.write_record(cells(analysis, entry)).expect("writing to memory");
    }
    csv.into_inner().expect("writing to memory")
}

fn cells(analysis: &Analysis, entry: &EntryStats) -> Vec<String> {
    let params = analysis.param_names.iter().map(|name| {
        let value =
            entry.id.group.params.iter().find(|(param, _)| param == name).map(|(_, value)| value.clone());
        let value = value.unwrap_or_default();
        if value.parse::<f64>().is_ok() { value } else { text_cell(&value) }
    });
    LEAD.iter()
        .map(|column| column.cell(entry))
        .chain(params)
        .chain(tail().map(|column| column.cell(entry)))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A serial and a threads entry of ten rounds, the threads one with a
    /// parameter and a chunk size, its last run failed.
    fn analysis() -> Analysis {
        let mut rows = Vec::new();
        for repetition in 1..=10u32 {
            for (strategy, workers, wall) in [("serial", 1, 1.0), ("threads", 2, 0.5)] {
                let wall = wall * (1.0 + f64::from(repetition) / 100.0);
                let failed = strategy == "threads" && repetition == 10;
                let row: BTreeMap<String, String> = [
                    ("job", "j"),
                    ("host", "h"),
                    ("workload", "w"),
                    ("generator", "range"),
                    ("list_size", "10"),
                    ("strategy", strategy),
                    ("workers", &workers.to_string()),
                    ("chunk_size", if strategy == "serial" { "" } else { "4" }),
                    ("repetition", &repetition.to_string()),
                    ("status", if failed { "failed" } else { "ok" }),
                    ("wall_s", &wall.to_string()),
                    ("cpu_s", &wall.to_string()),
                    ("cpus", "2"),
                    ("peak_rss_bytes", "1048576"),
                    ("error", if failed { "boom" } else { "" }),
                    ("param_percent", "10"),
                ]
                .into_iter()
                .map(|(name, cell)| (name.to_owned(), cell.to_owned()))
                .collect();
                rows.push(row);
            }
        }
        crate::analysis::analyze_cells(&rows).unwrap()
    }

    #[test]
    fn every_summary_column_has_its_name_and_its_value_in_both_the_csv_and_the_json() {
        let analysis = analysis();
        let answers = crate::analysis::answers::answers(&analysis, None);
        let csv = String::from_utf8(to_csv(&analysis)).unwrap();
        let mut reader = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        let rows: Vec<Vec<String>> =
            reader.records().map(|record| record.unwrap().iter().map(str::to_owned).collect()).collect();
        let json: serde_json::Value =
            serde_json::from_str(&crate::report::json::render(&analysis, &answers)).unwrap();
        assert_eq!(json["format"], crate::report::json::FORMAT);
        let entries = json["entries"].as_array().unwrap();
        assert_eq!((rows.len(), entries.len()), (2, 2));
        for column in columns() {
            let place = header.iter().position(|name| name == column.name);
            let place =
                place.unwrap_or_else(|| panic!("{} is not in the CSV header {header:?}", column.name));
            for (row, entry) in rows.iter().zip(entries) {
                let cell = &row[place];
                let value = entry
                    .get(column.name)
                    .unwrap_or_else(|| panic!("{} is not a JSON key of {entry}", column.name));
                // The same value, not only the same name.
                let same = match value {
                    serde_json::Value::Null => cell.is_empty(),
                    serde_json::Value::String(text) => text == cell,
                    serde_json::Value::Number(number) => {
                        let (json, csv) = (number.as_f64().unwrap(), cell.parse::<f64>().unwrap());
                        // The CSV rounds: six decimals, six digits, nanoseconds.
                        (json - csv).abs() <= 1e-6 + 1e-5 * json.abs()
                    }
                    _ => false,
                };
                assert!(same, "{}: {cell:?} in the CSV, {value} in the JSON", column.name);
            }
        }
        let names: Vec<&str> = columns().map(|column| column.name).collect();
        let header: Vec<&str> =
            header.iter().map(String::as_str).filter(|name| *name != "param_percent").collect();
        assert_eq!(header, names, "the CSV has the summary's columns in their order, and no others");
        assert!(entries[1]["chunk_size"] == 4 && entries[1]["failures"] == 1, "{}", entries[1]);
        assert_eq!(entries[1]["params"]["percent"], "10");
    }

    #[test]
    fn every_summary_column_is_described_in_the_results_contract() {
        let contract = include_str!("../../docs/RESULTS.md");
        let section = &contract[contract.find("## `results/NAME.summary.csv`").unwrap()..];
        let section = &section[..section.find("\n## ").unwrap()];
        let words: Vec<&str> = section.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).collect();
        for column in columns() {
            assert!(
                words.contains(&column.name),
                "docs/RESULTS.md's summary section does not name {}",
                column.name
            );
        }
    }

    #[test]
    fn every_table_column_shows_summary_columns_that_exist() {
        let exists = |name: &str| columns().any(|column| column.name == name);
        for shown in TABLE {
            let names = match shown.cell {
                Cell::One(name) | Cell::PlusMinus(name) => vec![name],
                Cell::Between(low, high) => vec![low, high],
                Cell::Status => vec!["runs", "failures"],
                Cell::Chunk => vec!["chunk_size", "chunk_policy"],
            };
            assert!(names.iter().all(|name| exists(name)), "{}: {names:?}", shown.heading);
        }
        let headings = |on| table(on).map(|shown| shown.heading).collect::<Vec<_>>();
        assert_eq!(headings(Shows::Terminal).len(), 15);
        assert_eq!(headings(Shows::Pages).len(), 16);
        assert!(!headings(Shows::Pages).contains(&"cpu") && headings(Shows::Terminal).contains(&"cpu"));
    }
}
