//! A builtin pool's chunks go through shared memory, or through the pipes
//! where there is none (`PARBENCH_NO_SHARED_MEMORY` declines it): either
//! way every result comes back in its place, over many chunks a worker and
//! both slots of each, as serial's checksum says.

use std::path::Path;

use assert_cmd::Command;

const JOB: &str = r#"
version = 1
name = "paths"
[list]
generator = "random"
size = 1000
seed = 7
[run]
strategies = ["serial", "processes"]
workers = [1, 3]
chunk_size = [7, "auto"]
repetitions = 2
warmup = 0
[[workload]]
name = "increase"
builtin = "price-increase"
"#;

/// The run's rows: (strategy, workers, chunk, status, checksum).
fn run(dir: &Path, declined: bool) -> Vec<[String; 5]> {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("parbench"));
    command.args(["run", "--quiet", "paths.toml"]).current_dir(dir);
    if declined {
        command.env("PARBENCH_NO_SHARED_MEMORY", "1");
    }
    let output = command.timeout(std::time::Duration::from_secs(120)).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut reader = csv::Reader::from_path(dir.join("results/paths.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|header| header == name).unwrap();
    let columns = ["strategy", "workers", "chunk_size", "status", "checksum"].map(column);
    reader.records().map(|row| columns.map(|index| row.as_ref().unwrap()[index].to_owned())).collect()
}

#[test]
fn results_come_back_whole_through_shared_memory_and_through_pipes() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("paths.toml"), JOB).unwrap();
    let shared = run(work.path(), false);
    let piped = run(work.path(), true);
    assert_eq!(shared.len(), piped.len());
    let serial = &shared.iter().find(|row| row[0] == "serial").expect("a serial row")[4];
    for row in shared.iter().chain(&piped) {
        assert_eq!(row[3], "ok", "{row:?}");
        assert_eq!(&row[4], serial, "{row:?}");
    }
    assert!(shared.iter().any(|row| row[0] == "processes" && row[1] == "3" && row[2] == "7"), "{shared:?}");
}
