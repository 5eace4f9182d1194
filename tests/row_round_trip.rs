//! The per-run CSV read into typed rows and written back: the same bytes
//! for a file parbench writes today, and for a file of parbench 0.1.0 the
//! bytes that earlier versions of the merge wrote (digests and times in
//! today's form, later columns empty), kept in
//! `tests/fixtures/csv-v0.1.0/upgraded/`.

mod common;

use std::path::Path;

use common::{Workdir, repo, stderr};
use parbench::results;

/// The bytes of a per-run CSV read through `RunRow` and written again.
fn written_back(bytes: &[u8]) -> Vec<u8> {
    let table = results::read(bytes);
    let names = table.param_names.clone();
    let rows = table.rows().expect("every row reads");
    assert!(!rows.is_empty());
    results::to_csv(&names, &rows)
}

fn assert_same(path: &Path, expected: &[u8], actual: &[u8]) {
    assert!(
        expected == actual,
        "{}:\nexpected\n{}\nwritten back\n{}",
        path.display(),
        String::from_utf8_lossy(expected),
        String::from_utf8_lossy(actual)
    );
}

#[test]
fn files_of_version_0_1_0_write_back_in_todays_form_and_then_unchanged() {
    let fixtures = repo().join("tests/fixtures/csv-v0.1.0");
    for (old, upgraded) in [
        ("full/legacy.csv", "upgraded/legacy.csv"),
        ("shards/legacy.shard-0-of-2.csv", "upgraded/legacy.shard-0-of-2.csv"),
        ("shards/legacy.shard-1-of-2.csv", "upgraded/legacy.shard-1-of-2.csv"),
    ] {
        let old_bytes = std::fs::read(fixtures.join(old)).unwrap();
        let expected = std::fs::read(fixtures.join(upgraded)).unwrap();
        assert_ne!(old_bytes, expected, "the 0.1.0 file differs from today's form");
        assert_same(&fixtures.join(old), &expected, &written_back(&old_bytes));
        assert_same(&fixtures.join(upgraded), &expected, &written_back(&expected));
    }
}

/// Names and parameters that need the spreadsheet guard, a negative
/// number, rows of several strategies: written by `run`, read and written
/// back, byte for byte.
const GUARDED: &str = r#"
version = 1
name = "-guarded"

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
name = "=HYPERLINK(1)"
builtin = "price-increase"
params = { percent = -5 }

[[workload]]
name = "spin"
builtin = "spin"
params = { iterations = [3, 4] }
"#;

#[test]
fn files_written_today_read_and_write_back_to_the_same_bytes() {
    let work = Workdir::new();
    work.write("guarded.toml", GUARDED);
    let output = work.parbench(&["run", "--quiet", "guarded.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for shard in ["0/2", "1/2"] {
        let output = work.parbench(&["run", "--quiet", "--shard", shard, "--out", "shards", "guarded.toml"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let mut files = 0;
    for folder in ["results", "shards"] {
        for path in work.csv_files(folder) {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if [".summary.csv", ".scaling.csv", ".invocations.csv"]
                .iter()
                .any(|suffix| name.ends_with(suffix))
            {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            assert!(String::from_utf8_lossy(&bytes).contains("'=HYPERLINK(1)"), "{}", path.display());
            assert_same(&path, &bytes, &written_back(&bytes));
            files += 1;
        }
    }
    assert_eq!(files, 3, "the run's CSV and two shards'");
}
