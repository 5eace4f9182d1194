//! Results written by the previous release, parbench 0.1.0, still resume
//! and still compare: `tests/fixtures/release-0.1/results/` holds what it
//! wrote for the job files beside them, run from [`PLACE`].
//!
//! An entry's key covers the absolute path of its job file, so the job
//! files are put back at that place before they run: that is the case of
//! someone who upgrades parbench and resumes in the same folder. `tag.toml`
//! has a parameter that ends in a combining accent, which 0.1.0's key
//! quoted by `Debug` (as `\u{301}`) and today's canonical encoding writes
//! as it is: its rows match by the former key.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{Workdir, keyed_rows, repo, stderr, stdout};

/// Where parbench 0.1.0 ran the fixture's job files.
const PLACE: &str = "/tmp/parbench-release-0.1";

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/release-0.1").join(name)
}

/// The fixture's job files and script at [`PLACE`], as 0.1.0 read them.
/// Another test binary may do the same at once: a file is replaced whole.
fn job_at_place(job: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    static PLACING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _placing = PLACING.lock().unwrap_or_else(|poison| poison.into_inner());
    std::fs::create_dir_all(PLACE).unwrap_or_else(|error| panic!("{PLACE}: {error}"));
    assert_eq!(
        std::fs::canonicalize(PLACE).unwrap(),
        Path::new(PLACE),
        "the keys in the fixture cover {PLACE} as the job file's real folder"
    );
    for name in ["spin.toml", "tag.toml", "tag.sh"] {
        let text = std::fs::read(fixture(name)).unwrap();
        let target = Path::new(PLACE).join(name);
        if std::fs::read(&target).is_ok_and(|there| there == text) {
            continue;
        }
        let staged = Path::new(PLACE).join(format!(".{name}.{}", std::process::id()));
        std::fs::write(&staged, &text).unwrap();
        let mode = if name.ends_with(".sh") { 0o755 } else { 0o644 };
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(mode)).unwrap();
        std::fs::rename(&staged, &target).unwrap();
    }
    Path::new(PLACE).join(format!("{job}.toml"))
}

/// A fresh folder with the 0.1.0 results of `job` in `results/`.
fn with_old_results(job: &str) -> Workdir {
    let dir = Workdir::new();
    for file in [format!("{job}.csv"), format!("{job}.env.json")] {
        dir.write(
            &format!("results/{file}"),
            &std::fs::read_to_string(fixture(&format!("results/{file}"))).unwrap(),
        );
    }
    dir
}

/// Rows by entry key and repetition.
fn by_run(path: &Path) -> BTreeMap<(String, String), BTreeMap<String, String>> {
    keyed_rows(path)
        .into_iter()
        .map(|row| ((row["entry_key"].clone(), row["repetition"].clone()), row))
        .collect()
}

/// Resumes `job` from 0.1.0's results; the folder holds the rows after.
fn resumes_without_measuring_again(job: &str) -> Workdir {
    let job_file = job_at_place(job);
    let dir = with_old_results(job);
    let out = dir.path().join("results");
    let output =
        dir.parbench(&["run", "--resume", "--out", out.to_str().unwrap(), job_file.to_str().unwrap()]);
    assert!(output.status.success(), "{}{}", stdout(&output), stderr(&output));
    let old = by_run(&fixture(&format!("results/{job}.csv")));
    let mut resumed = by_run(&out.join(format!("{job}.csv")));
    // A column added since (`chunk_policy`) is empty in a kept row: 0.1.0
    // said nothing of it, and these entries have no chunks.
    let old_columns: Vec<String> =
        old.values().next().map(|row| row.keys().cloned().collect()).unwrap_or_default();
    for row in resumed.values_mut() {
        let added: Vec<String> = row.keys().filter(|column| !old_columns.contains(column)).cloned().collect();
        for column in added {
            assert_eq!(row.remove(&column).as_deref(), Some(""), "{column} of a kept row");
        }
    }
    assert_eq!(old.len(), 12);
    // Measured again, a run would have another start time and wall time.
    assert_eq!(resumed, old, "every run of 0.1.0 kept as it was, nothing measured again");
    dir
}

#[test]
fn a_run_resumes_the_rows_of_the_previous_release_and_compares_with_them() {
    let dir = resumes_without_measuring_again("spin");
    compares_every_entry(&dir, "spin", &[]);
}

#[test]
fn a_run_resumes_rows_whose_key_the_previous_release_quoted_by_debug() {
    let dir = resumes_without_measuring_again("tag");
    compares_every_entry(&dir, "tag", &[]);
}

#[test]
fn an_entry_keeps_its_key_unless_debug_escaped_a_character_of_it() {
    let job_file = job_at_place("tag");
    let dir = Workdir::new();
    let output = dir.parbench(&["run", "--out", "results", job_file.to_str().unwrap()]);
    assert!(output.status.success(), "{}{}", stdout(&output), stderr(&output));
    let keys = |path: &Path| -> BTreeMap<String, String> {
        keyed_rows(path)
            .into_iter()
            .map(|row| {
                (
                    format!("{} {} {}", row["param_tag"], row["strategy"], row["workers"]),
                    row["entry_key"].clone(),
                )
            })
            .collect()
    };
    let old = keys(&fixture("results/tag.csv"));
    let new = keys(&dir.path().join("results/tag.csv"));
    assert_eq!(old.len(), 4);
    assert_eq!(old.keys().collect::<Vec<_>>(), new.keys().collect::<Vec<_>>());
    for (entry, key) in &old {
        if entry.starts_with("plain") {
            assert_eq!(&new[entry], key, "{entry}: the same key as 0.1.0's");
        } else {
            assert_ne!(&new[entry], key, "{entry}: 0.1.0 escaped the accent, the canonical text does not");
        }
    }
    // Paired by what they are, not by key; this machine is not 0.1.0's.
    compares_every_entry(&dir, "tag", &["--any-host"]);
}

/// `report --baseline OLD NEW`, OLD being 0.1.0's rows of `job` and NEW
/// the rows in `dir`'s `results/`, pairs every entry of the two: each is
/// judged or left unjudged with its reason, none is only in one of them.
fn compares_every_entry(dir: &Workdir, job: &str, more: &[&str]) {
    let baseline = fixture(&format!("results/{job}.csv"));
    let new = dir.path().join(format!("results/{job}.csv"));
    let mut args = vec!["report", "--baseline", baseline.to_str().unwrap(), new.to_str().unwrap()];
    args.extend(more);
    let output = dir.parbench(&args);
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(!text.contains("only in"), "{text}");
    let summary = text
        .lines()
        .find(|line| line.contains(" failed, ") && line.contains(" slower, "))
        .unwrap_or_else(|| panic!("a summary line in {text}"));
    // `0 failed, 0 slower, 0 faster, 2 without a clear change, 2 not judged (…)`
    let counted: u32 =
        summary.split(", ").filter_map(|part| part.split_whitespace().next()?.parse::<u32>().ok()).sum();
    assert_eq!(counted, 4, "all four entries paired: {summary}");
}
