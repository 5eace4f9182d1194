//! The ruler (docs/RESULTS.md): one timed region, setup and CPU window for
//! every strategy, checked through the real binary. No timing thresholds:
//! only what must hold on any machine.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;

fn run(dir: &Path, job: &str, args: &[&str]) -> std::process::Output {
    std::fs::write(dir.join("job.toml"), job).unwrap();
    Command::cargo_bin("parbench")
        .unwrap()
        .current_dir(dir)
        .args(["run", "--quiet"])
        .args(args)
        .arg("job.toml")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap()
}

fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    reader
        .records()
        .map(|record| header.iter().cloned().zip(record.unwrap().iter().map(str::to_owned)).collect())
        .collect()
}

fn number(row: &BTreeMap<String, String>, column: &str) -> f64 {
    row[column].parse().unwrap_or_else(|_| panic!("{column} = {:?} is a number", row[column]))
}

#[test]
fn setup_is_inside_wall_and_empty_where_there_is_no_pool() {
    let dir = tempfile::tempdir().unwrap();
    let job = r#"
version = 1
name = "job"
[list]
generator = "range"
size = 6
[run]
strategies = ["serial", "threads", "processes"]
workers = 2
repetitions = 2
warmup = 0
[[workload]]
name = "increase"
builtin = "price-increase"
[[workload]]
name = "cat"
command = ["cat"]
protocol = "lines"
[[workload]]
name = "echo"
command = ["echo", "{item}"]
"#;
    let output = run(dir.path(), job, &[]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rows = rows(&dir.path().join("results/job.csv"));
    assert_eq!(rows.len(), 2 * (3 + 2 + 2));
    for row in &rows {
        let (wall, cpu) = (number(row, "wall_s"), number(row, "cpu_s"));
        assert!(wall > 0.0 && cpu >= 0.0, "{row:?}");
        if row["workload"] == "echo" {
            // argv: a process per item, no moment when a pool is ready.
            assert_eq!(row["setup_s"], "", "{row:?}");
        } else {
            let setup = number(row, "setup_s");
            assert!((0.0..=wall).contains(&setup), "setup within wall: {row:?}");
        }
    }
}
