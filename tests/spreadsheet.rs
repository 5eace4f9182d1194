//! The CSVs as a spreadsheet reads them: digests that no spreadsheet can
//! take for a number, `started_at` as a date-time, files of the previous
//! version still read, and a real round trip through LibreOffice Calc.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::{Workdir, keyed_rows, read_csv, repo, stderr};

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/csv-v0.1.0")
}

/// A digest as parbench writes it: `x` and 16 hex digits.
fn is_digest(cell: &str) -> bool {
    cell.strip_prefix('x').is_some_and(|hex| {
        hex.len() == 16 && hex.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// A cell that looks like a digest of the previous version: only hex
/// digits, 16 of them.
fn is_bare_hex(cell: &str) -> bool {
    cell.len() == 16 && cell.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// Every digest column of every CSV in `folder` holds `x` and 16 hex
/// digits, and no cell anywhere is a bare 16-hex-digit digest.
fn assert_digests_prefixed(work: &Workdir, folder: &str) -> usize {
    let mut digests = 0;
    for path in work.csv_files(folder) {
        let (header, rows) = read_csv(&path);
        // The record of invocations holds each judged entry's key once: its
        // digests are checked, and the count is the per-run files'.
        let record = path.to_string_lossy().ends_with(".invocations.csv");
        for row in &rows {
            for (column, cell) in header.iter().zip(row) {
                assert!(!is_bare_hex(cell), "{}: {column} = {cell:?} is a bare hex digest", path.display());
                if matches!(column.as_str(), "checksum" | "entry_key") && !cell.is_empty() {
                    assert!(is_digest(cell), "{}: {column} = {cell:?}", path.display());
                    digests += usize::from(!record);
                }
            }
        }
    }
    digests
}

const SMALL: &str = r#"
version = 1
name = "small"

[list]
generator = "squares"
size = [10, 20]
scale = 42

[run]
strategies = ["serial", "threads", "processes"]
workers = [2]
repetitions = 2
warmup = 0

[[workload]]
name = "increase"
builtin = "price-increase"
params = { percent = 10 }
"#;

#[test]
fn every_digest_in_every_csv_starts_with_a_letter() {
    let work = Workdir::new();
    work.write("small.toml", SMALL);
    let output = work.parbench(&["run", "--quiet", "small.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(assert_digests_prefixed(&work, "results"), 2 * 3 * 2 * 2, "a checksum and a key per run");

    for shard in ["0/2", "1/2"] {
        let output = work.parbench(&["run", "--quiet", "--shard", shard, "--out", "shards", "small.toml"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let output = work.parbench(&[
        "merge",
        "shards/small.shard-0-of-2.csv",
        "shards/small.shard-1-of-2.csv",
        "--out",
        "merged",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(assert_digests_prefixed(&work, "shards"), 2 * 3 * 2 * 2);
    assert_eq!(assert_digests_prefixed(&work, "merged"), 2 * 3 * 2 * 2);
}

#[test]
fn started_at_is_a_spreadsheet_date_time_in_utc() {
    let work = Workdir::new();
    work.write("small.toml", SMALL);
    let before = SystemTime::now();
    // Fourteen hours east of UTC: a local time would be far from now in UTC.
    let output = work.parbench_with(&["run", "--quiet", "small.toml"], &[("TZ", "Pacific/Kiritimati")]);
    let after = SystemTime::now();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for row in keyed_rows(&work.path().join("results/small.csv")) {
        let cell = &row["started_at"];
        // YYYY-MM-DD HH:MM:SS.mmm: what Excel, LibreOffice and Google
        // Sheets read as a date-time (no `T`, no `Z`, milliseconds).
        let shape: String =
            cell.chars().map(|character| if character.is_ascii_digit() { '0' } else { character }).collect();
        assert_eq!(shape, "0000-00-00 00:00:00.000", "{cell}");
        let time = humantime::parse_rfc3339_weak(cell).unwrap();
        let hour = Duration::from_secs(3600);
        assert!(time + hour > before && time < after + hour, "{cell} is not the time of the run in UTC");
    }
}

/// The rows of a CSV as (entry_key, repetition, status, checksum, wall_s),
/// digests in today's form.
fn runs(path: &Path) -> Vec<(String, String, String, String, String)> {
    let now = |cell: &str| if is_bare_hex(cell) { format!("x{cell}") } else { cell.to_owned() };
    let mut runs: Vec<_> = keyed_rows(path)
        .iter()
        .map(|row| {
            (
                now(&row["entry_key"]),
                row["repetition"].clone(),
                row["status"].clone(),
                now(&row["checksum"]),
                row["wall_s"].clone(),
            )
        })
        .collect();
    runs.sort();
    runs
}

#[test]
fn csvs_written_by_version_0_1_0_still_resume_merge_and_report() {
    let work = Workdir::new();
    let fixtures = fixtures();
    work.write("legacy.toml", &std::fs::read_to_string(fixtures.join("legacy.toml")).unwrap());
    let old = fixtures.join("full/legacy.csv");
    let old_runs = runs(&old);
    assert!(
        keyed_rows(&old).iter().all(|row| is_bare_hex(&row["entry_key"]) && row["started_at"].ends_with('Z')),
        "the fixture is in the form of 0.1.0"
    );

    // An interrupted run of 0.1.0: its first 7 of 12 rows in the .partial.
    let text = std::fs::read_to_string(&old).unwrap();
    let kept: Vec<&str> = text.lines().take(8).collect();
    work.write("results/legacy.csv.partial", &(kept.join("\n") + "\n"));
    let output = work.parbench(&["run", "--quiet", "--resume", "legacy.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let resumed = runs(&work.path().join("results/legacy.csv"));
    assert_eq!(resumed.len(), old_runs.len(), "{resumed:?}");
    // The 7 rows of 0.1.0 are kept (their wall_s too); the other 5 measured.
    let old_partial: Vec<_> = {
        let mut partial = runs(&work.path().join("results/legacy.csv"));
        partial.retain(|run| old_runs.contains(run));
        partial
    };
    assert_eq!(old_partial.len(), 7, "{resumed:?}");
    for run in &resumed {
        assert_eq!(run.2, "ok", "new runs agree with the old rows' checksums: {run:?}");
    }
    // The runs measured now carry the key of this parbench, which also
    // covers where the job file is (issue 17); each repetition is there as
    // often as in 0.1.0's file.
    let repetitions = |runs: &[(String, String, String, String, String)]| {
        let mut repetitions: Vec<String> = runs.iter().map(|run| run.1.clone()).collect();
        repetitions.sort();
        repetitions
    };
    assert_eq!(repetitions(&resumed), repetitions(&old_runs));
    assert_digests_prefixed(&work, "results");

    // merge: the shards of 0.1.0.
    for shard in ["legacy.shard-0-of-2.csv", "legacy.shard-1-of-2.csv"] {
        std::fs::create_dir_all(work.path().join("shards")).unwrap();
        std::fs::copy(fixtures.join("shards").join(shard), work.path().join("shards").join(shard)).unwrap();
    }
    let output = work.parbench(&[
        "merge",
        "shards/legacy.shard-0-of-2.csv",
        "shards/legacy.shard-1-of-2.csv",
        "--out",
        "merged",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mut shard_runs = runs(&fixtures.join("shards/legacy.shard-0-of-2.csv"));
    shard_runs.extend(runs(&fixtures.join("shards/legacy.shard-1-of-2.csv")));
    shard_runs.sort();
    assert_eq!(runs(&work.path().join("merged/legacy.csv")), shard_runs);
    assert_digests_prefixed(&work, "merged");
    for row in keyed_rows(&work.path().join("merged/legacy.csv")) {
        assert!(!row["started_at"].contains(['T', 'Z']), "merged rows are written in today's form: {row:?}");
    }

    // report: a 0.1.0 file, read and summarised.
    let output = work.parbench(&["report", "--summary-csv", "summary.csv", old.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("processes") && table.contains("speedup"), "{table}");
    assert_eq!(keyed_rows(&work.path().join("summary.csv")).len(), 6);
}

// ------------------------------------------------------------ LibreOffice

/// A job whose names, parameters and errors are built to trip a spreadsheet:
/// names that look like formulas, a negative and a huge parameter, a text
/// parameter that is a formula, and a command whose error output is one.
const HOSTILE: &str = r#"
version = 1
name = "hostile"

[list]
generator = "range"
size = [3, 6, 12]

[run]
strategies = ["serial", "processes"]
workers = [2]
repetitions = 2
warmup = 0

[[workload]]
name = "=1+1"
builtin = "price-increase"
params = { percent = -5 }

[[workload]]
name = "@SUM(A1)"
builtin = "price-crazy"
params = { iterations = 1000, percent = 1e300 }

[[workload]]
name = "-fails"
command = ["sh", "-c", "echo '=HYPERLINK(\"http://x\",\"y\")' >&2; exit 3", "{item}"]

[[workload]]
name = "+text"
command = ["sh", "-c", "echo {item}", "{note}"]
params = { note = "=2+3" }
"#;

/// One cell of a converted sheet, as tests/support/xlsx_cells.py reads it.
#[derive(Debug, serde::Deserialize)]
struct SheetCell {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(rename = "type")]
    kind: String,
    value: Option<String>,
    formula: bool,
}

/// `A1`-style reference of a zero-based row and column.
fn reference(row: usize, column: usize) -> String {
    let mut letters = String::new();
    let mut number = column + 1;
    while number > 0 {
        letters.insert(0, (b'A' + ((number - 1) % 26) as u8) as char);
        number = (number - 1) / 26;
    }
    format!("{letters}{}", row + 1)
}

/// A cell a spreadsheet must read as a number: a plain decimal.
fn is_decimal(cell: &str) -> bool {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && (whole.bytes().chain(fraction.bytes())).all(|b| b.is_ascii_digit())
}

/// Converts the per-run, summary (and, where parbench writes one, scaling)
/// CSVs of a hostile job to .xlsx with LibreOffice Calc, reads the cells
/// back and checks them against the CSV: no formula, numbers numeric,
/// digests and names exactly as written, `started_at` a date-time.
/// Ignored where soffice is not installed, unless PARBENCH_REQUIRE_SPREADSHEET=1
/// (CI sets it after installing libreoffice-calc-nogui).
#[parbench_test_tools::needs(soffice)]
#[test]
fn libreoffice_reads_every_csv_as_written() {
    let soffice = std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path).map(|dir| dir.join("soffice")).find(|path| path.is_file())
        })
        .expect("PARBENCH_REQUIRE_SPREADSHEET is set but there is no soffice on PATH");
    let work = Workdir::new();
    work.write("hostile.toml", HOSTILE);
    let output = work.parbench(&["run", "--quiet", "hostile.toml"]);
    assert_eq!(output.status.code(), Some(1), "the -fails workload fails: {}", stderr(&output));
    let csvs = work.csv_files("results");
    let names: Vec<String> =
        csvs.iter().map(|path| path.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for expected in ["hostile.csv", "hostile.summary.csv"] {
        assert!(names.contains(&expected.to_owned()), "{names:?}");
    }
    eprintln!("converting {names:?}");

    // A profile of its own, so that no other LibreOffice blocks this one.
    let profile = work.path().join("lo-profile");
    let xlsx = work.path().join("xlsx");
    // LibreOffice keeps CPUs busy: not beside another test's run.
    let _turn = common::measuring();
    let converted = std::process::Command::new(&soffice)
        .arg(format!("-env:UserInstallation=file://{}", profile.display()))
        .args(["--headless", "--norestore", "--convert-to", "xlsx"])
        // Comma, double quote, UTF-8, from line 1: how a user opens the file.
        .arg("--infilter=CSV:44,34,76,1")
        .arg("--outdir")
        .arg(&xlsx)
        .args(&csvs)
        .output()
        .unwrap();
    assert!(converted.status.success(), "soffice: {}", stderr(&converted));

    let mut checked = BTreeMap::new();
    for csv_path in &csvs {
        let stem = csv_path.file_stem().unwrap().to_string_lossy().into_owned();
        let sheet = xlsx.join(format!("{stem}.xlsx"));
        let cells = std::process::Command::new("python3")
            .arg(repo().join("tests/support/xlsx_cells.py"))
            .arg(&sheet)
            .output()
            .unwrap();
        assert!(cells.status.success(), "{}: {}", sheet.display(), stderr(&cells));
        let rows: Vec<Vec<SheetCell>> = serde_json::from_slice(&cells.stdout).unwrap();
        let by_reference: BTreeMap<&str, &SheetCell> =
            rows.iter().flatten().map(|cell| (cell.reference.as_str(), cell)).collect();

        let (header, csv_rows) = read_csv(csv_path);
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for (row_index, row) in std::iter::once(&header).chain(&csv_rows).enumerate() {
            for (column_index, cell) in row.iter().enumerate() {
                let place =
                    format!("{stem} {} ({})", reference(row_index, column_index), header[column_index]);
                let sheet_cell = by_reference.get(reference(row_index, column_index).as_str());
                let Some(sheet_cell) = sheet_cell else {
                    assert!(cell.is_empty(), "{place}: {cell:?} is missing from the sheet");
                    continue;
                };
                assert!(!sheet_cell.formula, "{place}: {cell:?} became a formula: {sheet_cell:?}");
                let value = sheet_cell.value.as_deref().unwrap_or_default();
                let column = header[column_index].as_str();
                if row_index > 0 && column == "started_at" {
                    assert_eq!(
                        sheet_cell.kind, "date",
                        "{place}: {cell:?} is not a date-time: {sheet_cell:?}"
                    );
                    assert_eq!(value, cell, "{place}");
                    *kinds.entry("date").or_default() += 1;
                } else if row_index > 0 && is_decimal(cell) {
                    assert_eq!(
                        sheet_cell.kind, "number",
                        "{place}: {cell:?} is not a number: {sheet_cell:?}"
                    );
                    let (read, written): (f64, f64) = (value.parse().unwrap(), cell.parse().unwrap());
                    assert!(
                        (read - written).abs() <= written.abs() * 1e-14,
                        "{place}: {cell:?} was read as {value}"
                    );
                    *kinds.entry("number").or_default() += 1;
                } else if row_index > 0 && matches!(cell.as_str(), "true" | "false") {
                    // `disturbed`: a spreadsheet boolean with the same truth,
                    // so that a filter on TRUE finds the disturbed runs.
                    assert_eq!(sheet_cell.kind, "bool", "{place}: {cell:?} is not a boolean: {sheet_cell:?}");
                    let truth = if cell == "true" { "1" } else { "0" };
                    assert_eq!(value, truth, "{place}: {cell:?}");
                    *kinds.entry("bool").or_default() += 1;
                } else {
                    // Names, digests, statuses, errors: text, exactly as written.
                    assert_eq!(sheet_cell.kind, "text", "{place}: {cell:?} is not text: {sheet_cell:?}");
                    assert_eq!(value, cell, "{place}");
                    if row_index > 0 && matches!(column, "checksum" | "entry_key") {
                        assert!(is_digest(cell), "{place}: {cell:?}");
                        *kinds.entry("digest").or_default() += 1;
                    } else if column == "workload" && row_index > 0 {
                        *kinds.entry("name").or_default() += 1;
                    }
                }
            }
        }
        checked.insert(stem, kinds);
    }
    eprintln!("cells checked, by kind: {checked:?}");
    let runs = &checked["hostile"];
    // 4 workloads × 3 sizes × 2 strategies × 2 repetitions; the failing
    // command has no checksum.
    assert_eq!(runs.get("date"), Some(&48), "{checked:?}");
    assert_eq!(runs.get("digest"), Some(&(48 + 36)), "{checked:?}");
    assert_eq!(runs.get("name"), Some(&48), "{checked:?}");
    // Every run, failed or not, says whether other load disturbed it.
    assert_eq!(runs.get("bool"), Some(&48), "{checked:?}");
    assert!(runs.get("number").is_some_and(|numbers| *numbers > 48 * 6), "{checked:?}");
    assert!(checked["hostile.summary"].get("number").is_some_and(|numbers| *numbers > 24 * 8), "{checked:?}");
    // The scaling CSV, where parbench writes one: the cost model over the
    // three list sizes gives it rows.
    if let Some(scaling) = checked.get("hostile.scaling") {
        assert!(scaling.get("name").is_some_and(|names| *names > 0), "{checked:?}");
        assert!(scaling.get("number").is_some_and(|numbers| *numbers > 0), "{checked:?}");
    }
    let csv_text = std::fs::read_to_string(work.path().join("results/hostile.csv")).unwrap();
    for hostile in ["'=1+1", "'@SUM(A1)", "'-fails", "'+text", "=HYPERLINK", "'=2+3", ",-5", ",1000000000000"]
    {
        assert!(csv_text.contains(hostile), "the job really is hostile: {hostile} in\n{csv_text}");
    }
}
