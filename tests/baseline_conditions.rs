//! `report --baseline` says when the two runs' machines differed in a way
//! that moves timings (a busier machine, another governor, turbo, build,
//! host, CPU count or parbench), from the env.json beside each CSV. Both
//! folders hold the same rows, so the verdicts and the exit status depend
//! on nothing this machine does; only the recorded conditions change.

use std::path::Path;
use std::process::Output;

mod common;

use common::Workdir;

const JOB: &str = "version = 1\nname = \"tiny\"\n[list]\ngenerator = \"range\"\nsize = 2\n[run]\n\
                   strategies = [\"serial\"]\nrepetitions = 3\nwarmup = 0\n\
                   [[workload]]\nname = \"inc\"\nbuiltin = \"price-increase\"\n";

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// old/ and new/ with the rows of one run and its env.json, the load
/// average at start set to `old_load` and `new_load`.
fn two_folders(work: &Workdir, old_load: f64, new_load: f64) {
    for (folder, load) in [("old", old_load), ("new", new_load)] {
        let dir = work.path().join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(work.path().join("results/tiny.csv"), dir.join("tiny.csv")).unwrap();
        set_load(&work.path().join("results/tiny.env.json"), &dir.join("tiny.env.json"), load);
    }
}

fn set_load(from: &Path, to: &Path, load: f64) {
    let mut env: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(from).unwrap()).unwrap();
    env["machine_checks"]["load_average"] = load.into();
    std::fs::write(to, serde_json::to_string_pretty(&env).unwrap()).unwrap();
}

fn compare(work: &Workdir) -> (Option<i32>, String, String) {
    let output = work.parbench(&["report", "--quiet", "--baseline", "old/tiny.csv", "new/tiny.csv"]);
    let (stdout, stderr) = text(&output);
    (output.status.code(), stdout, stderr)
}

#[test]
fn a_baseline_measured_on_a_busier_machine_is_said_and_the_verdicts_stand() {
    let work = Workdir::new();
    work.write("tiny.toml", JOB);
    let run = work.parbench(&["run", "--quiet", "tiny.toml"]);
    assert_eq!(run.status.code(), Some(0), "{:?}", text(&run));
    let env: serde_json::Value = serde_json::from_str(&work.read("results/tiny.env.json")).unwrap();
    let cpus = env["logical_cpus"].as_u64().unwrap();

    // Quiet baseline, a new run at twice the CPUs' load: the warning names
    // both loads and the CPUs, and the exit status is the verdicts' (0).
    two_folders(&work, 0.0, cpus as f64 * 2.0);
    let (status, stdout, stderr) = compare(&work);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    let expected = format!(
        "warning: the baseline ran at load average 0.00, the new run at {:.2} ({cpus} CPUs): a slower or \
         faster verdict may be the machine's, not the code's\n",
        cpus as f64 * 2.0
    );
    assert!(stdout.contains(&expected), "{stdout}");
    assert!(
        stdout.contains("0 failed, 0 slower, 0 faster, 1 without a clear change, 0 not judged\n"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("warning:").count(), 1, "{stdout}");

    // The same conditions: not a word about them.
    two_folders(&work, 0.25, 0.25);
    let (status, stdout, stderr) = compare(&work);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("warning:"), "{stdout}");
    assert!(!stderr.contains("env.json"), "{stderr}");

    // Another parbench and another build are named too.
    let mut other = env.clone();
    other["parbench_version"] = "9.9.9".into();
    other["machine_checks"]["debug_build"] =
        (!env["machine_checks"]["debug_build"].as_bool().unwrap()).into();
    other["machine_checks"]["load_average"] = 0.25.into();
    work.write("new/tiny.env.json", &other.to_string());
    let (status, stdout, _) = compare(&work);
    assert_eq!(status, Some(0), "{stdout}");
    assert!(stdout.contains(", the new run parbench 9.9.9: a slower or faster verdict"), "{stdout}");
    assert!(stdout.contains("build of parbench, the new run on a "), "{stdout}");

    // A baseline without env.json (files older than it): no warning, one
    // note, and the comparison as before.
    std::fs::remove_file(work.path().join("old/tiny.env.json")).unwrap();
    let (status, stdout, stderr) = compare(&work);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("warning:"), "{stdout}");
    assert!(
        stdout.contains("0 failed, 0 slower, 0 faster, 1 without a clear change, 0 not judged\n"),
        "{stdout}"
    );
    assert_eq!(
        stderr.trim_end(),
        "note: no readable env.json beside old/tiny.csv: the two runs' machine conditions were not compared",
    );
    // An env.json that is not JSON is the same as none.
    work.write("old/tiny.env.json", "{ truncated");
    let (status, _, stderr) = compare(&work);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stderr.contains("no readable env.json beside old/tiny.csv"), "{stderr}");
}
