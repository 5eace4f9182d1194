//! Plans that do not depend on the node: `--shard I/N` gives every group to
//! exactly one shard even when `"cpus"` resolves differently on the nodes
//! that run the shards, and `merge` refuses a set that misses or repeats a
//! group, naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

fn parbench(dir: &Path, prefix: &[&str], args: &[&str]) -> Output {
    let mut command = match prefix.split_first() {
        Some((program, rest)) => {
            let mut command = Command::new(program);
            command.args(rest).arg(assert_cmd::cargo::cargo_bin("parbench"));
            command
        }
        None => Command::cargo_bin("parbench").unwrap(),
    };
    command.current_dir(dir).args(args).timeout(std::time::Duration::from_secs(120)).output().unwrap()
}

fn ok(output: &Output) {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&output.stderr));
}

type Row = BTreeMap<String, String>;

fn rows(path: &Path) -> Vec<Row> {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| {
            header.iter().map(str::to_owned).zip(record.unwrap().iter().map(str::to_owned)).collect()
        })
        .collect()
}

/// A group as rows name it: workload, list size and every parameter.
fn group(row: &Row) -> String {
    let params: Vec<String> = row
        .iter()
        .filter(|(name, value)| name.starts_with("param_") && !value.is_empty())
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    format!("{} · {} items · {}", row["workload"], row["list_size"], params.join(" "))
}

fn groups(rows: &[Row]) -> BTreeSet<String> {
    rows.iter().map(group).collect()
}

/// Workloads whose groups cost different amounts once `"cpus"` is resolved:
/// `a` measures `[1, "cpus"]` workers (one entry fewer where there is one
/// CPU), `b` a fixed 2.
const JOB: &str = r#"
version = 1
name = "nodes"
[list]
generator = "range"
size = [10, 300, 2000]
[run]
strategies = ["serial", "threads"]
workers = [1, "cpus"]
repetitions = 1
warmup = 0
[[workload]]
name = "a"
builtin = "spin"
params = { iterations = [5, 6] }
[[workload]]
name = "b"
builtin = "spin"
params = { iterations = 5 }
workers = [2, 3, 4]
"#;

#[parbench_test_tools::needs(taskset_and_2_cpus)]
#[test]
fn shards_on_nodes_with_different_cpu_counts_merge_to_the_groups_of_one_run() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("nodes.toml"), JOB).unwrap();
    ok(&parbench(dir, &[], &["run", "--quiet", "nodes.toml"]));
    let local = groups(&rows(&dir.join("results/nodes.csv")));
    assert_eq!(local.len(), 9);

    // Shard 0 on a node with one CPU, shard 1 on one with all of them.
    for count in [2usize, 3] {
        let out = format!("shards{count}");
        let mut shard_groups = Vec::new();
        for index in 0..count {
            let shard = format!("{index}/{count}");
            let prefix: &[&str] = if index == 0 { &["taskset", "-c", "0"] } else { &[] };
            ok(&parbench(dir, prefix, &["run", "--quiet", "--shard", &shard, "--out", &out, "nodes.toml"]));
            let file = dir.join(format!("{out}/nodes.shard-{index}-of-{count}.csv"));
            shard_groups.push(groups(&rows(&file)));
        }
        let mut seen = BTreeSet::new();
        for (index, groups) in shard_groups.iter().enumerate() {
            for group in groups {
                assert!(
                    seen.insert(group.clone()),
                    "N = {count}: {group} is in two shards (the second: {index})"
                );
            }
        }
        assert_eq!(seen, local, "N = {count}: the shards hold exactly the groups of one run");

        let files: Vec<String> =
            (0..count).map(|index| format!("{out}/nodes.shard-{index}-of-{count}.csv")).collect();
        let mut args = vec!["merge"];
        args.extend(files.iter().map(String::as_str));
        ok(&parbench(dir, &[], &args));
        assert_eq!(groups(&rows(&dir.join(format!("{out}/nodes.csv")))), local);
    }
}

#[test]
fn merge_names_a_group_that_is_missing_or_in_two_shards() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("nodes.toml"), JOB).unwrap();
    for index in 0..2 {
        let shard = format!("{index}/2");
        ok(&parbench(dir, &[], &["run", "--quiet", "--shard", &shard, "--out", "s", "nodes.toml"]));
    }
    let shard = |index: usize| dir.join(format!("s/nodes.shard-{index}-of-2.csv"));
    let merge = || parbench(dir, &[], &["merge", "s/nodes.shard-0-of-2.csv", "s/nodes.shard-1-of-2.csv"]);
    ok(&merge());
    let original = std::fs::read_to_string(shard(1)).unwrap();

    // A group lost: shard 1 without the rows of its first group.
    let lost = group(&rows(&shard(1))[0]);
    let mut reader = csv::Reader::from_path(shard(1)).unwrap();
    let header = reader.headers().unwrap().clone();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).unwrap();
    for record in reader.records() {
        let record = record.unwrap();
        let row: Row = header.iter().map(str::to_owned).zip(record.iter().map(str::to_owned)).collect();
        if group(&row) != lost {
            writer.write_record(&record).unwrap();
        }
    }
    std::fs::write(shard(1), writer.into_inner().unwrap()).unwrap();
    let missing = merge();
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    let workload = lost.split(" · ").next().unwrap();
    assert!(stderr.contains("is in no shard") && stderr.contains(workload), "{stderr}");

    // A group twice: shard 0's rows again in shard 1, as a node that
    // resolved "cpus" to another count would have measured them.
    let again = std::fs::read_to_string(shard(0)).unwrap();
    let body: String = again.lines().skip(1).map(|line| format!("{line}\n")).collect();
    let twice_group = group(&rows(&shard(0))[0]);
    // Other entry keys, so that only the group, not a run, repeats.
    let rekeyed: String = rows(&shard(0))
        .iter()
        .map(|row| row["entry_key"].clone())
        .fold(body, |text, key| text.replace(&key, &format!("{}x", &key[..key.len() - 1])));
    std::fs::write(shard(1), format!("{original}{rekeyed}")).unwrap();
    let twice = merge();
    assert_eq!(twice.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&twice.stderr);
    let workload = twice_group.split(" · ").next().unwrap();
    assert!(stderr.contains("is in shard 0 and in shard 1") && stderr.contains(workload), "{stderr}");
}

/// Two groups of five repetitions each: shard 1 of 2 gets the one of 100
/// items (the cheaper), shard 0 the other.
const FIVE: &str = r#"
version = 1
name = "five"
[list]
generator = "range"
size = [100, 2000]
[run]
strategies = ["serial", "threads"]
workers = [2]
repetitions = 5
warmup = 0
[[workload]]
name = "spin"
builtin = "spin"
params = { iterations = 5 }
"#;

#[test]
fn merge_refuses_a_shard_that_lost_a_row_and_takes_it_once_resumed() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("five.toml"), FIVE).unwrap();
    for index in 0..2 {
        let shard = format!("{index}/2");
        ok(&parbench(dir, &[], &["run", "--quiet", "--shard", &shard, "--out", "s", "five.toml"]));
    }
    let merge = || parbench(dir, &[], &["merge", "s/five.shard-0-of-2.csv", "s/five.shard-1-of-2.csv"]);
    ok(&merge());
    let whole = rows(&dir.join("s/five.csv")).len();
    assert_eq!(whole, 2 * 2 * 5);

    // Repetition 3 of threads ×2 cut from shard 1, as a lost line would.
    let shard = dir.join("s/five.shard-1-of-2.csv");
    let text = std::fs::read_to_string(&shard).unwrap();
    let kept: Vec<bool> =
        rows(&shard).iter().map(|row| row["strategy"] != "threads" || row["repetition"] != "3").collect();
    assert_eq!(kept.iter().filter(|keep| !**keep).count(), 1, "{text}");
    let mut lines = text.lines();
    let mut cut = format!("{}\n", lines.next().unwrap());
    for (line, keep) in lines.zip(&kept) {
        if *keep {
            cut.push_str(&format!("{line}\n"));
        }
    }
    std::fs::write(&shard, cut).unwrap();
    let refused = merge();
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr),
        "error: s/five.shard-1-of-2.csv: entry \"spin · range 100 items · iterations=5 · threads ×2\" has repetitions \
         1, 2, 4, 5 of 1..5: repetition 3 is missing; rerun that shard with `--resume --shard 1/2`\n"
    );

    // The remedy it names measures the lost run, and the set merges whole.
    ok(&parbench(dir, &[], &["run", "--quiet", "--resume", "--shard", "1/2", "--out", "s", "five.toml"]));
    ok(&merge());
    assert_eq!(rows(&dir.join("s/five.csv")).len(), whole);
}
