//! Worker counts past the open-file limit: `workers = [512]` either runs to
//! the end or is refused before anything runs, with the limit named; never
//! a bare "Too many open files" half-way.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

const JOB: &str = r#"
version = 1
name = "many"
[list]
generator = "range"
size = 1024
[run]
strategies = ["processes", "threads"]
workers = [512]
repetitions = 1
warmup = 0
[[workload]]
name = "nap"
builtin = "sleep"
params = { millis = 0 }
"#;

/// parbench under `ulimit LIMIT` set by a POSIX shell.
fn parbench_under(dir: &Path, limit: &str) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit {limit} && exec \"$0\" \"$@\""))
        .arg(assert_cmd::cargo::cargo_bin("parbench"))
        .args(["run", "--quiet", "many.toml"])
        .current_dir(dir)
        .timeout(std::time::Duration::from_secs(300))
        .output()
        .unwrap()
}

#[test]
fn a_pool_past_the_hard_open_file_limit_is_refused_before_anything_runs() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("many.toml"), JOB).unwrap();
    let output = parbench_under(work.path(), "-n 256");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: processes ×512 in \"nap\" needs about "), "{stderr}");
    assert!(stderr.contains("`ulimit -n` is 256"), "{stderr}");
    assert!(!stderr.contains("Too many open files"), "{stderr}");
    for file in ["results/many.csv", "results/many.csv.partial"] {
        assert!(!work.path().join(file).exists(), "{file} was written");
    }
}

#[parbench_test_tools::needs(hard_open_files_2048)]
#[test]
fn a_pool_past_only_the_soft_limit_runs_to_the_end() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("many.toml"), JOB).unwrap();
    let output = parbench_under(work.path(), "-Sn 256");
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let mut reader = csv::Reader::from_path(work.path().join("results/many.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|column| column == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(&row[column("workers")], "512");
        assert_eq!(&row[column("status")], "ok", "{}", &row[column("error")]);
    }
}
