//! The per-run results row and the one definition of its columns
//! (`docs/RESULTS.md`): [`COLUMNS`] says, for each fixed column in file
//! order, its name and how a [`RunRow`] field is written to and read from
//! its cell. `report::csv` writes rows through it; `resume`, `cluster` and
//! `analysis` read them back through it, typed, never as loose strings.
//!
//! Files parbench wrote read back and write again to the same bytes; cells
//! that parbench 0.1.0 wrote in another form (bare hex digests, RFC 3339
//! times) come back in today's, and columns it did not have yet are empty.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::SystemTime;

use crate::vocab::{Chunking, Status, Strategy, upgrade_digest};

/// One measured run, as a row of `NAME.csv` holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub job: String,
    pub workload: String,
    pub generator: String,
    pub list_size: usize,
    pub strategy: Strategy,
    pub workers: usize,
    /// Its `chunk_size` cell is the fixed size (empty otherwise), its
    /// `chunk_policy` cell how chunks were sized.
    pub chunking: Chunking,
    pub repetition: u32,
    pub status: Status,
    pub wall_s: f64,
    pub setup_s: Option<f64>,
    pub cpu_s: f64,
    pub items_per_s: Option<f64>,
    pub checksum: String,
    pub error: String,
    pub started_at: Option<SystemTime>,
    pub host: String,
    pub cpus: usize,
    pub parbench_version: String,
    pub entry_key: String,
    pub peak_rss_bytes: Option<u64>,
    pub python: String,
    pub python_gil: Option<bool>,
    /// CPU time the rest of the machine used during the run (see
    /// `crate::interference`); `None` in rows of older versions.
    pub foreign_cpu_s: Option<f64>,
    /// The VM's steal time during the run.
    pub steal_s: Option<f64>,
    /// Whether other load harmed the run (see `crate::interference`).
    pub disturbed: Option<bool>,
    /// The time the run's tasks were runnable but waited for a CPU, added
    /// up: the evidence `disturbed` is judged by; `None` in rows of older
    /// versions and where the kernel keeps no such counter.
    pub run_delay_s: Option<f64>,
    /// Where a process of the run ended badly: the status it exited with,
    /// or the signal that killed it.
    pub exit_code: Option<i32>,
    pub exit_signal: Option<i32>,
    /// Involuntary context switches of the run's tasks (its workers and
    /// parbench's tasks beside them) over the run: the scheduler took the
    /// CPU from them this often before they were done.
    pub ctx_switches: Option<u64>,
    /// The block of rounds the run belongs to, run in processes of its own
    /// (see `runner::Blocks`); `None` in rows of older versions, where
    /// every run is its own.
    pub process: Option<u32>,
    /// The `param_NAME` cells by NAME, as the file holds them (a text
    /// value keeps its [`text_cell`] guard; see [`RunRow::param`]).
    pub params: BTreeMap<String, String>,
}

/// Why a cell could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    NotWholeNumber,
    TooLarge,
    NotNumber,
    NotOneOf(&'static [&'static str]),
}

/// A fixed column: its name, and how its cell is written from and read
/// into a row.
pub struct Column {
    pub name: &'static str,
    pub write: fn(&RunRow) -> String,
    pub read: fn(&mut RunRow, &str) -> Result<(), Problem>,
    /// A row means nothing without it; any other column a file lacks (as
    /// files of parbench 0.1.0 lack the later ones) reads as empty or zero.
    pub required: bool,
}

/// The fixed columns of the per-run CSV, in file order; the job's
/// `param_NAME` columns follow them. Columns are only ever added at the end.
pub const COLUMNS: &[Column] = &[
    needed("job", |row| text_cell(&row.job), |row, cell| set_text(&mut row.job, cell)),
    needed("workload", |row| text_cell(&row.workload), |row, cell| set_text(&mut row.workload, cell)),
    needed("generator", |row| row.generator.clone(), |row, cell| set(&mut row.generator, cell)),
    needed("list_size", |row| row.list_size.to_string(), |row, cell| whole(cell).map(|n| row.list_size = n)),
    needed(
        "strategy",
        |row| row.strategy.name().to_owned(),
        |row, cell| {
            row.strategy = Strategy::parse(cell).ok_or(Problem::NotOneOf(Strategy::NAMES))?;
            Ok(())
        },
    ),
    needed("workers", |row| row.workers.to_string(), |row, cell| whole(cell).map(|n| row.workers = n)),
    needed(
        "chunk_size",
        |row| row.chunking.size().map(|size| size.to_string()).unwrap_or_default(),
        |row, cell| {
            // Files before `chunk_policy` wrote guided chunks here.
            row.chunking = match cell {
                "" => Chunking::None,
                "auto:guided" => Chunking::Guided,
                size => Chunking::Fixed(whole(size)?),
            };
            Ok(())
        },
    ),
    needed(
        "repetition",
        |row| row.repetition.to_string(),
        |row, cell| whole(cell).map(|n| row.repetition = n),
    ),
    needed(
        "status",
        |row| row.status.name().to_owned(),
        |row, cell| {
            row.status = Status::parse(cell).ok_or(Problem::NotOneOf(Status::NAMES))?;
            Ok(())
        },
    ),
    needed("wall_s", |row| seconds(row.wall_s), |row, cell| number(cell).map(|n| row.wall_s = n)),
    column(
        "setup_s",
        |row| row.setup_s.map(seconds).unwrap_or_default(),
        |row, cell| maybe(cell, number).map(|n| row.setup_s = n),
    ),
    column("cpu_s", |row| seconds(row.cpu_s), |row, cell| number(cell).map(|n| row.cpu_s = n)),
    column(
        "items_per_s",
        |row| row.items_per_s.map(|n| format!("{n:.3}")).unwrap_or_default(),
        |row, cell| maybe(cell, number).map(|n| row.items_per_s = n),
    ),
    column(
        "checksum",
        |row| row.checksum.clone(),
        |row, cell| {
            row.checksum = upgrade_digest(cell);
            Ok(())
        },
    ),
    column("error", |row| text_cell(&row.error), |row, cell| set_text(&mut row.error, cell)),
    column(
        "started_at",
        |row| row.started_at.map(cell_time).unwrap_or_default(),
        |row, cell| {
            row.started_at = parse_cell_time(cell);
            Ok(())
        },
    ),
    needed("host", |row| text_cell(&row.host), |row, cell| set_text(&mut row.host, cell)),
    column("cpus", |row| row.cpus.to_string(), |row, cell| whole(cell).map(|n| row.cpus = n)),
    column(
        "parbench_version",
        |row| row.parbench_version.clone(),
        |row, cell| set(&mut row.parbench_version, cell),
    ),
    column(
        "entry_key",
        |row| row.entry_key.clone(),
        |row, cell| {
            row.entry_key = upgrade_digest(cell);
            Ok(())
        },
    ),
    column(
        "peak_rss_bytes",
        |row| row.peak_rss_bytes.map(|n| n.to_string()).unwrap_or_default(),
        |row, cell| maybe(cell, whole).map(|n| row.peak_rss_bytes = n),
    ),
    column("python", |row| text_cell(&row.python), |row, cell| set_text(&mut row.python, cell)),
    column(
        "python_gil",
        |row| {
            row.python_gil.map(|gil| if gil { "enabled" } else { "disabled" }).unwrap_or_default().to_owned()
        },
        |row, cell| {
            row.python_gil = match cell {
                "enabled" => Some(true),
                "disabled" => Some(false),
                "" => None,
                _ => return Err(Problem::NotOneOf(&["enabled", "disabled"])),
            };
            Ok(())
        },
    ),
    column(
        "foreign_cpu_s",
        |row| row.foreign_cpu_s.map(seconds).unwrap_or_default(),
        |row, cell| maybe(cell, number).map(|n| row.foreign_cpu_s = n),
    ),
    column(
        "steal_s",
        |row| row.steal_s.map(seconds).unwrap_or_default(),
        |row, cell| maybe(cell, number).map(|n| row.steal_s = n),
    ),
    column(
        "disturbed",
        |row| row.disturbed.map(|disturbed| disturbed.to_string()).unwrap_or_default(),
        |row, cell| {
            row.disturbed = match cell {
                "true" => Some(true),
                "false" => Some(false),
                "" => None,
                _ => return Err(Problem::NotOneOf(&["true", "false"])),
            };
            Ok(())
        },
    ),
    column(
        "run_delay_s",
        |row| row.run_delay_s.map(seconds).unwrap_or_default(),
        |row, cell| maybe(cell, number).map(|n| row.run_delay_s = n),
    ),
    column(
        "chunk_policy",
        |row| row.chunking.policy().to_owned(),
        |row, cell| {
            // Read after `chunk_size`, which holds a fixed size or nothing.
            match cell {
                "guided" => row.chunking = Chunking::Guided,
                "fixed" | "" => {}
                _ => return Err(Problem::NotOneOf(Chunking::POLICIES)),
            }
            Ok(())
        },
    ),
    column(
        "exit_code",
        |row| row.exit_code.map(|code| code.to_string()).unwrap_or_default(),
        |row, cell| maybe(cell, code).map(|code| row.exit_code = code),
    ),
    column(
        "exit_signal",
        |row| row.exit_signal.map(|signal| signal.to_string()).unwrap_or_default(),
        |row, cell| maybe(cell, code).map(|signal| row.exit_signal = signal),
    ),
    column(
        "ctx_switches",
        |row| row.ctx_switches.map(|switches| switches.to_string()).unwrap_or_default(),
        |row, cell| maybe(cell, whole).map(|switches| row.ctx_switches = switches),
    ),
    column(
        "process",
        |row| row.process.map(|process| process.to_string()).unwrap_or_default(),
        |row, cell| maybe(cell, whole).map(|process| row.process = process),
    ),
];

/// A per-run column the summary (and `report --json`) carries the median
/// of, over an entry's undisturbed ok runs, under `name`: a number a row
/// may lack (rows of older versions), and the median of those that have it.
pub struct Median {
    pub name: &'static str,
    pub value: fn(&RunRow) -> Option<f64>,
}

/// The per-run columns whose medians the summary carries beyond those it
/// has always had (`median_cpu_s`, `median_peak_rss_bytes`), in the order
/// the summary adds them: at its end, only ever at the end. A new per-run
/// column that the summary should carry is a line here beside its line in
/// [`COLUMNS`].
pub const MEDIANS: &[Median] =
    &[Median { name: "median_ctx_switches", value: |row| row.ctx_switches.map(|switches| switches as f64) }];

const fn needed(
    name: &'static str,
    write: fn(&RunRow) -> String,
    read: fn(&mut RunRow, &str) -> Result<(), Problem>,
) -> Column {
    Column { name, write, read, required: true }
}

const fn column(
    name: &'static str,
    write: fn(&RunRow) -> String,
    read: fn(&mut RunRow, &str) -> Result<(), Problem>,
) -> Column {
    Column { name, write, read, required: false }
}

fn set(field: &mut String, cell: &str) -> Result<(), Problem> {
    cell.clone_into(field);
    Ok(())
}

fn set_text(field: &mut String, cell: &str) -> Result<(), Problem> {
    unguard_cell(cell).clone_into(field);
    Ok(())
}

/// A count: a whole number, not a float that happens to be one ("inf"
/// workers is a damaged file, not a number to compute with).
fn whole<T: TryFrom<u64>>(cell: &str) -> Result<T, Problem> {
    let value: u64 = cell.parse().map_err(|_| Problem::NotWholeNumber)?;
    T::try_from(value).map_err(|_| Problem::TooLarge)
}

/// An exit status or a signal number: a whole number, negative where a
/// platform says so.
fn code(cell: &str) -> Result<i32, Problem> {
    cell.parse().map_err(|_| Problem::NotWholeNumber)
}

fn number(cell: &str) -> Result<f64, Problem> {
    cell.parse().map_err(|_| Problem::NotNumber)
}

fn maybe<T>(cell: &str, parse: fn(&str) -> Result<T, Problem>) -> Result<Option<T>, Problem> {
    if cell.is_empty() { Ok(None) } else { parse(cell).map(Some) }
}

/// Says what is wrong with `cell` of `column`, quoting it.
pub fn problem_text(column: &str, cell: &str, problem: Problem) -> String {
    match problem {
        Problem::NotWholeNumber => format!("\"{column}\" is not a whole number: {cell:?}"),
        Problem::TooLarge => format!("\"{column}\" is too large"),
        Problem::NotNumber => format!("\"{column}\" is not a number: {cell:?}"),
        Problem::NotOneOf(names) => format!("\"{column}\" is not one of {}: {cell:?}", names.join(", ")),
    }
}

impl RunRow {
    /// The block of processes the run belongs to: its `process`, or in
    /// rows of older versions, where each run was its own, its repetition.
    pub fn block(&self) -> u32 {
        self.process.unwrap_or(self.repetition)
    }

    /// A row with every column empty or zero, for the columns to fill.
    pub fn blank() -> RunRow {
        RunRow {
            job: String::new(),
            workload: String::new(),
            generator: String::new(),
            list_size: 0,
            strategy: Strategy::Serial,
            workers: 0,
            chunking: Chunking::None,
            exit_code: None,
            exit_signal: None,
            ctx_switches: None,
            process: None,
            repetition: 0,
            status: Status::Ok,
            wall_s: 0.0,
            setup_s: None,
            cpu_s: 0.0,
            items_per_s: None,
            checksum: String::new(),
            error: String::new(),
            started_at: None,
            host: String::new(),
            cpus: 0,
            parbench_version: String::new(),
            entry_key: String::new(),
            peak_rss_bytes: None,
            python: String::new(),
            python_gil: None,
            foreign_cpu_s: None,
            steal_s: None,
            disturbed: None,
            run_delay_s: None,
            params: BTreeMap::new(),
        }
    }

    /// A parameter's value as the job gave it (the cell's guard taken off);
    /// `None` where the row has no such column or its cell is empty.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(|cell| unguard_cell(cell)).filter(|value| !value.is_empty())
    }

    /// The parameters that have a value, by name.
    pub fn param_values(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.keys().filter_map(|name| Some((name.as_str(), self.param(name)?)))
    }

    /// The name of the group this row belongs to (see [`group_name`]).
    pub fn group_name(&self) -> String {
        group_name(&self.workload, &self.generator, self.list_size, self.param_values())
    }

    /// The row's cells under `header` (see [`header`]).
    pub fn to_record(&self, param_names: &[String]) -> Vec<String> {
        COLUMNS
            .iter()
            .map(|column| (column.write)(self))
            .chain(param_names.iter().map(|name| self.params.get(name).cloned().unwrap_or_default()))
            .collect()
    }
}

/// A group's name as its rows say it, the same from a plan and from a
/// results file: `spin · range 10 items · iterations=5`.
pub fn group_name<'a>(
    workload: &str,
    generator: &str,
    list_size: usize,
    params: impl Iterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut name = format!("{workload} · {generator} {list_size} items");
    for (param, value) in params.filter(|(_, value)| !value.is_empty()) {
        name.push_str(&format!(" · {param}={value}"));
    }
    name
}

/// The header of a per-run CSV with these parameters.
pub fn header(param_names: &[String]) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|column| column.name.to_owned())
        .chain(param_names.iter().map(|name| format!("param_{name}")))
        .collect()
}

/// The csv writer every file of parbench uses: comma, `\n`, quoting only
/// where needed.
pub fn writer<W: Write>(sink: W) -> csv::Writer<W> {
    csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(sink)
}

/// A whole per-run CSV: the header and the rows.
pub fn to_csv<'r>(param_names: &[String], rows: impl IntoIterator<Item = &'r RunRow>) -> Vec<u8> {
    let mut csv = writer(Vec::new());
    csv.write_record(header(param_names)).expect("writing to memory");
    for row in rows {
        csv.write_record(row.to_record(param_names)).expect("writing to memory");
    }
    csv.into_inner().expect("writing to memory")
}

/// The rows of a per-run CSV, each read or the reason it could not be.
#[derive(Debug, Clone, Default)]
pub struct RunTable {
    /// The file's parameter names, in its column order.
    pub param_names: Vec<String>,
    pub rows: Vec<Result<RunRow, String>>,
}

impl RunTable {
    /// The rows that read, and the first one that did not, numbered as a
    /// spreadsheet shows it (the header is row 1).
    pub fn rows(self) -> Result<Vec<RunRow>, String> {
        self.rows
            .into_iter()
            .enumerate()
            .map(|(index, row)| row.map_err(|error| format!("row {}: {error}", index + 2)))
            .collect()
    }
}

/// A reader of a CSV's complete lines: a complete row ends with a newline,
/// and anything after the last one is a row a killed writer tore.
pub fn complete_rows(bytes: &[u8]) -> csv::Reader<&[u8]> {
    let complete = match bytes.iter().rposition(|byte| *byte == b'\n') {
        Some(end) => &bytes[..=end],
        None => &bytes[..0],
    };
    csv::ReaderBuilder::new().flexible(true).from_reader(complete)
}

/// Reads a per-run CSV, dropping a last line that a killed writer left
/// incomplete and any row of another length than the header.
pub fn read(bytes: &[u8]) -> RunTable {
    let mut reader = complete_rows(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(header) => header.iter().map(str::to_owned).collect(),
        Err(_) => return RunTable::default(),
    };
    let place = |name: &str| header.iter().position(|column| column == name);
    let fixed: Vec<(&Column, Option<usize>)> =
        COLUMNS.iter().map(|column| (column, place(column.name))).collect();
    let params: Vec<(String, usize)> = header
        .iter()
        .enumerate()
        .filter_map(|(index, column)| Some((column.strip_prefix("param_")?.to_owned(), index)))
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let Ok(record) = record else { break };
        if record.len() != header.len() {
            continue;
        }
        rows.push(read_row(&record, &fixed, &params));
    }
    RunTable { param_names: params.into_iter().map(|(name, _)| name).collect(), rows }
}

fn read_row(
    record: &csv::StringRecord,
    fixed: &[(&Column, Option<usize>)],
    params: &[(String, usize)],
) -> Result<RunRow, String> {
    let mut row = RunRow::blank();
    for (column, place) in fixed {
        match place.and_then(|place| record.get(place)) {
            Some(cell) => {
                (column.read)(&mut row, cell).map_err(|problem| problem_text(column.name, cell, problem))?
            }
            None if !column.required => {}
            None => return Err(format!("no column \"{}\"; is this a parbench results CSV?", column.name)),
        }
    }
    row.params = params.iter().map(|(name, place)| (name.clone(), record[*place].to_owned())).collect();
    Ok(row)
}

/// Seconds as a spreadsheet reads them: plain decimals, never `1.2e-5`,
/// nanosecond resolution.
pub fn seconds(value: f64) -> String {
    format!("{value:.9}")
}

/// A time in a CSV cell: UTC, as `2026-11-26 08:26:37.114`. Excel,
/// LibreOffice and Google Sheets read this as a date-time; RFC 3339's
/// `…T…Z` LibreOffice reads as text, and Excel keeps no more than
/// milliseconds.
pub fn cell_time(time: SystemTime) -> String {
    let rfc3339 = humantime::format_rfc3339_millis(time).to_string();
    rfc3339.trim_end_matches('Z').replacen('T', " ", 1)
}

/// A time cell in the form [`cell_time`] writes, or RFC 3339 as parbench
/// 0.1.0 wrote it.
pub fn parse_cell_time(cell: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(cell).ok()
}

/// A cell that came from a user or a program: a leading `=`, `+`, `-`, `@`,
/// tab or carriage return would make a spreadsheet run it as a formula, so it
/// is written with a leading `'`.
/// A text starting with `'` gets one more, so that reading a cell back
/// ([`unguard_cell`]) takes off exactly what was added.
pub fn text_cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// The text a [`text_cell`] was made from: the guard belongs to the CSV
/// cell, never to the name (a job "-neg" is "-neg" everywhere else).
pub fn unguard_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if matches!(rest.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'')) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "job,workload,generator,list_size,strategy,workers,chunk_size,repetition,status,wall_s,host";

    fn line(repetition: u32) -> String {
        format!("j,w,range,10,serial,1,,{repetition},ok,0.5,h\n")
    }

    #[test]
    fn a_torn_last_line_is_dropped() {
        let torn = format!("{HEADER}\n{}{}{}", line(1), line(2), line(3).trim_end());
        let rows = read(torn.as_bytes()).rows().unwrap();
        assert_eq!(rows.iter().map(|row| row.repetition).collect::<Vec<_>>(), [1, 2]);
        let short = format!("{HEADER}\n{}j,w\n", line(1));
        assert_eq!(read(short.as_bytes()).rows.len(), 1, "a short row is dropped");
        assert!(read(HEADER.as_bytes()).rows.is_empty());
    }

    #[test]
    fn a_damaged_cell_is_named_with_its_row() {
        let damaged = format!("{HEADER}\n{}j,w,range,10,serial,inf,,2,ok,0.5,h\n", line(1));
        assert_eq!(
            read(damaged.as_bytes()).rows().unwrap_err(),
            "row 3: \"workers\" is not a whole number: \"inf\""
        );
        let status = format!("{HEADER}\nj,w,range,10,serial,1,,1,interrupted,0.5,h\n");
        assert_eq!(
            read(status.as_bytes()).rows().unwrap_err(),
            "row 2: \"status\" is not one of ok, failed, timeout, mismatch, unverified: \"interrupted\""
        );
        assert_eq!(
            read(b"job,x\na,1\n").rows().unwrap_err(),
            "row 2: no column \"workload\"; is this a parbench results CSV?"
        );
    }
}
