//! A real disturbance: the test starts CPU hogs of its own (one busy loop
//! per CPU, and one more), runs a CPU-bound job beside them, stops them,
//! and reads the `disturbed` column; then runs the same job with the hogs
//! gone. The verdicts are the machine counters' own, not a timing.

mod common;

use std::process::{Child, Command, Stdio};

use common::{Workdir, stderr};

const JOB: &str = r#"version = 1
name = "hogged"
[list]
generator = "range"
size = 32
[run]
strategies = ["serial", "threads"]
workers = [2]
repetitions = 10
warmup = 0
[[workload]]
name = "spin"
builtin = "spin"
"#;

/// Busy loops that end when dropped, whatever happens to the test.
struct Hogs(Vec<Child>);

impl Hogs {
    fn start(count: usize) -> Hogs {
        Hogs(
            (0..count)
                .map(|_| {
                    Command::new("sh")
                        .args(["-c", "while :; do :; done"])
                        .stdout(Stdio::null())
                        .spawn()
                        .unwrap()
                })
                .collect(),
        )
    }
}

impl Drop for Hogs {
    fn drop(&mut self) {
        for hog in &mut self.0 {
            let _ = hog.kill();
            let _ = hog.wait();
        }
    }
}

fn disturbed_share(work: &Workdir) -> (usize, usize) {
    let rows = work.rows("results/hogged.csv");
    let disturbed = rows.iter().filter(|row| row["disturbed"] == "true").count();
    assert!(rows.iter().all(|row| ["true", "false"].contains(&row["disturbed"].as_str())), "{rows:?}");
    (disturbed, rows.len())
}

#[test]
fn runs_beside_a_cpu_hog_are_marked_disturbed_and_named() {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let work = Workdir::new();
    work.write("hogged.toml", JOB);
    let output = {
        let _hogs = Hogs::start(cpus + 1);
        work.parbench(&["run", "hogged.toml"])
    };
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (disturbed, runs) = disturbed_share(&work);
    assert!(disturbed * 10 >= runs * 8, "{disturbed} of {runs} runs beside the hogs marked disturbed");
    let said = stderr(&output) + &common::stdout(&output);
    assert!(said.contains("other load on the machine took CPU that"), "{said}");
    let summary = work.rows("results/hogged.summary.csv");
    let counted: usize = summary.iter().map(|row| row["disturbed_runs"].parse::<usize>().unwrap()).sum();
    assert_eq!(counted, disturbed);
    let env: serde_json::Value = serde_json::from_str(&work.read("results/hogged.env.json")).unwrap();
    assert_eq!(env["other_load"]["disturbed_runs"], disturbed);
    assert_eq!(env["other_load"]["runs"], runs);
}
