//! Python workloads (`python = "FILE:FUNCTION"`): the real binary on real job
//! files and Python modules in a fresh temporary folder. Needs `python3`
//! (3.8 or later) on PATH, as CI has.

mod common;

use std::collections::BTreeMap;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// A [`common::Workdir`] whose parbench runs carry a marker in their
/// environment, inherited by the harness and every process of its pool: a
/// process that carries it after parbench has exited was left behind.
struct Workdir {
    work: common::Workdir,
    marker: (String, String),
}

impl Workdir {
    fn new() -> Workdir {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let count = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let value = format!("{}-{count}", std::process::id());
        Workdir { work: common::Workdir::new(), marker: ("PARBENCH_PYTHON_TEST".to_owned(), value) }
    }

    fn path(&self) -> &std::path::Path {
        self.work.path()
    }

    fn write(&self, name: &str, text: &str) {
        self.work.write(name, text);
    }

    fn parbench(&self, args: &[&str]) -> Output {
        self.work.parbench_with(args, &[(&self.marker.0, &self.marker.1)])
    }

    /// parbench, to be started and signalled by the test.
    fn command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("parbench"));
        command.current_dir(self.path()).env(&self.marker.0, &self.marker.1);
        command
    }

    /// Processes that carry this test's marker in their environment.
    fn left_behind(&self) -> Vec<String> {
        let marker = format!("{}={}", self.marker.0, self.marker.1);
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(environ) = std::fs::read(entry.path().join("environ")) else { continue };
            if environ.split(|byte| *byte == 0).any(|var| var == marker.as_bytes()) {
                let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                found.push(format!("{}: {:.120}", entry.file_name().to_string_lossy(), cmdline));
            }
        }
        found
    }

    fn rows(&self, name: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
        let path = self.path().join(name);
        (common::read_csv(&path).0, common::keyed_rows(&path))
    }
}

/// Where PATH finds `program`, as parbench looks for it.
fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn job(run: &str, workloads: &str) -> String {
    format!(
        "version = 1\nname = \"py\"\n[list]\ngenerator = \"squares\"\nsize = 6\nscale = 42\n[run]\n{run}\n{workloads}"
    )
}

const FUNCTIONS: &str = r#"
import os
import time


def square(price):
    return price * price


def kind(item):
    return type(item).__name__


def fails_on_one_item(price):
    if price == 42 * 9:
        raise ValueError("no price may be %d" % price)
    return price


def announce_then_hang(price):
    open("started-%d" % os.getpid(), "w").close()
    time.sleep(1000)


def exits_on_one_item(price):
    if price == 42 * 9:
        os._exit(9)
    return price
"#;

#[test]
fn every_strategy_of_a_python_function_gives_the_serial_checksum() {
    let work = Workdir::new();
    work.write("funcs.py", FUNCTIONS);
    work.write(
        "ok.toml",
        &job(
            "strategies = [\"serial\", \"threads\", \"processes\"]\nworkers = 2\nrepetitions = 2\nwarmup = 0",
            "[[workload]]\nname = \"sq\"\npython = \"funcs.py:square\"\nstart_method = [\"fork\", \"spawn\"]\n",
        ),
    );
    let output = work.parbench(&["run", "ok.toml"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (header, rows) = work.rows("results/py.csv");
    assert_eq!(rows.len(), 12, "2 start methods × 3 strategies × 2 repetitions");
    for row in &rows {
        assert_eq!(row["status"], "ok", "{row:?}");
        assert_eq!(row["checksum"], rows[0]["checksum"], "{row:?}");
        assert_eq!(row["param_interpreter"], "python3");
        assert!(row["python"].starts_with("CPython 3.") || row["python"].starts_with("PyPy 3."), "{row:?}");
        assert!(["enabled", "disabled"].contains(&row["python_gil"].as_str()), "{row:?}");
    }
    let methods: Vec<&str> = rows.iter().map(|row| row["param_start_method"].as_str()).collect();
    assert!(methods.contains(&"fork") && methods.contains(&"spawn"), "{methods:?}");
    let fixed_end = header.iter().position(|column| column.starts_with("param_")).unwrap();
    let python = header.iter().position(|column| column == "python").unwrap();
    assert!(python < fixed_end && header[python + 1] == "python_gil", "{header:?}");
    assert!(work.left_behind().is_empty(), "{:?}", work.left_behind());
    let env = std::fs::read_to_string(work.path().join("results/py.env.json")).unwrap();
    let env: serde_json::Value = serde_json::from_str(&env).unwrap();
    let python = &env["python"][0];
    assert_eq!(python["interpreter"], "python3", "{env}");
    assert!(python["version"].as_str().unwrap().starts_with("3."), "{env}");
}

#[test]
fn whole_numbers_reach_the_function_as_int_and_text_as_str() {
    let work = Workdir::new();
    work.write("funcs.py", FUNCTIONS);
    work.write("list.txt", "one\n2\n");
    // The run's checksum is that of the results' reprs, one per line, as a
    // `lines` command's is: a command printing 'int' for every item must
    // give the same checksum as the function that returns the type's name.
    for (list, expected) in [
        ("generator = \"squares\"\nsize = 6\nscale = 42", "int"),
        ("generator = \"file\"\npath = \"list.txt\"", "str"),
    ] {
        let text = job("strategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0", &format!(
            "[[workload]]\nname = \"kind\"\npython = \"funcs.py:kind\"\n\
             [[workload]]\nname = \"same\"\ncommand = [\"sed\", \"-u\", \"s/.*/'{expected}'/\"]\nprotocol = \"lines\"\n"
        ))
        .replace("generator = \"squares\"\nsize = 6\nscale = 42", list);
        work.write("kind.toml", &text);
        let output = work.parbench(&["run", "kind.toml"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let (_, rows) = work.rows("results/py.csv");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["checksum"], rows[1]["checksum"], "{expected}: {rows:?}");
    }
}

#[test]
fn an_exception_fails_its_run_naming_it_and_the_other_runs_complete() {
    let work = Workdir::new();
    work.write("funcs.py", FUNCTIONS);
    work.write(
        "raise.toml",
        &job(
            "strategies = [\"serial\", \"threads\", \"processes\"]\nworkers = 2\nrepetitions = 2\nwarmup = 0",
            "[[workload]]\nname = \"bad\"\npython = \"funcs.py:fails_on_one_item\"\n\
             [[workload]]\nname = \"good\"\npython = \"funcs.py:square\"\n",
        ),
    );
    let output = work.parbench(&["run", "raise.toml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let (_, rows) = work.rows("results/py.csv");
    assert_eq!(rows.len(), 12);
    for row in &rows {
        if row["workload"] == "bad" {
            assert_eq!(row["status"], "failed", "{row:?}");
            assert_eq!(row["error"], "ValueError: no price may be 378 (see results/py.log)", "{row:?}");
        } else {
            assert_eq!(row["status"], "ok", "{row:?}");
        }
    }
    let log = std::fs::read_to_string(work.path().join("results/py.log")).unwrap();
    assert!(log.contains("Traceback"), "the traceback is in the log: {log}");
    assert!(work.left_behind().is_empty(), "{:?}", work.left_behind());
}

#[test]
fn a_python_runs_error_names_its_own_cause_not_an_earlier_runs() {
    // Processes first, in one harness: the pool's worker exits, Python says
    // BrokenProcessPool in a traceback; then threads, where the harness
    // itself exits with status 9 and writes nothing.
    let work = Workdir::new();
    work.write("funcs.py", FUNCTIONS);
    work.write(
        "exit.toml",
        &job(
            "strategies = [\"processes\", \"threads\"]\nworkers = 2\nrepetitions = 1\nwarmup = 0\norder = \"grouped\"",
            "[[workload]]\nname = \"exit\"\npython = \"funcs.py:exits_on_one_item\"\n",
        ),
    );
    let output = work.parbench(&["run", "exit.toml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let (_, rows) = work.rows("results/py.csv");
    let error =
        |strategy: &str| rows.iter().find(|row| row["strategy"] == strategy).unwrap()["error"].clone();
    assert!(error("processes").contains("BrokenProcessPool"), "{rows:?}");
    let threads = error("threads");
    assert!(threads.starts_with("the Python harness exited with status 9"), "{threads}");
    assert!(!threads.contains("BrokenProcessPool"), "the threads run quotes the processes run: {threads}");
    assert!(work.left_behind().is_empty(), "{:?}", work.left_behind());
}

#[test]
fn a_timeout_ends_the_harness_and_every_process_of_its_pool() {
    let work = Workdir::new();
    work.write("funcs.py", FUNCTIONS);
    work.write(
        "hang.toml",
        &job(
            "strategies = [\"serial\", \"threads\", \"processes\"]\nworkers = 2\nrepetitions = 1\nwarmup = 0\ntimeout = \"10s\"",
            "[[workload]]\nname = \"hang\"\npython = \"funcs.py:announce_then_hang\"\nstart_method = \"forkserver\"\n",
        ),
    );
    let output = work.parbench(&["run", "hang.toml"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let (_, rows) = work.rows("results/py.csv");
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row["status"], "timeout", "{row:?}");
    }
    // Not a timing assertion on parbench: this only makes sure the test
    // killed pool processes at all (the Ctrl-C test below waits for them by
    // event). The timeout covers the harness's start, so it is generous: 3 s
    // was once too short for Python to start, on one busy CPU.
    let started = std::fs::read_dir(work.path()).unwrap().flatten();
    let pids = started.filter(|entry| entry.file_name().to_string_lossy().starts_with("started-")).count();
    assert!(pids >= 3, "the function ran in two harnesses and in the pool ({pids} pids)");
    assert!(work.left_behind().is_empty(), "{:?}", work.left_behind());
}

#[test]
fn ctrl_c_ends_the_harness_and_its_pool_and_exits_130() {
    let work = Workdir::new();
    work.write("funcs.py", FUNCTIONS);
    work.write(
        "stop.toml",
        &job(
            "strategies = [\"processes\"]\nworkers = 2\nrepetitions = 1\nwarmup = 0",
            "[[workload]]\nname = \"hang\"\npython = \"funcs.py:announce_then_hang\"\nstart_method = \"spawn\"\n",
        ),
    );
    let child = work
        .command()
        .args(["run", "stop.toml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_started(&work, 2);
    assert!(!work.left_behind().is_empty(), "the marker finds the running harness");
    // SAFETY: kill on the pid of a child we spawned and have not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(work.left_behind().is_empty(), "{:?}", work.left_behind());
}

/// Waits, up to two minutes, until the function has started in `count`
/// processes (each leaves a `started-PID` file).
fn wait_for_started(work: &Workdir, count: usize) {
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let started = std::fs::read_dir(work.path())
            .unwrap()
            .flatten()
            .filter(|entry| entry.file_name().to_string_lossy().starts_with("started-"))
            .count();
        if started >= count {
            return;
        }
        assert!(Instant::now() < until, "the function never started in {count} processes");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A parbench killed outright cannot end the harness itself: the kernel
/// tells the harness (its parent-death signal), which ends its process
/// group. Polled until gone, with a bound, never timed.
#[test]
fn a_killed_parbench_leaves_no_python_process_behind() {
    let work = Workdir::new();
    work.write("funcs.py", FUNCTIONS);
    work.write(
        "kill.toml",
        &job(
            "strategies = [\"processes\"]\nworkers = 2\nrepetitions = 1\nwarmup = 0",
            "[[workload]]\nname = \"hang\"\npython = \"funcs.py:announce_then_hang\"\nstart_method = \"fork\"\n",
        ),
    );
    let mut child = work
        .command()
        .args(["run", "kill.toml"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_started(&work, 2);
    child.kill().unwrap();
    child.wait().unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while !work.left_behind().is_empty() {
        assert!(Instant::now() < until, "left behind: {:?}", work.left_behind());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn check_refuses_a_function_the_module_does_not_define_and_lists_those_it_does() {
    let work = Workdir::new();
    work.write("python/prices.py", "import math\n\ndef increase(price):\n    return price\n\ndef crazy(price):\n    return price\n\nraise SystemExit('the top level must not run')\n");
    work.write(
        "missing.toml",
        &job(
            "strategies = [\"serial\"]",
            "[[workload]]\nname = \"w\"\npython = \"python/prices.py:increse\"\n",
        ),
    );
    let output = work.parbench(&["check", "missing.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: missing.toml:11:28: python/prices.py defines no function \"increse\"; expected one of increase, crazy; did you mean \"increase\"?\n"
    );
}

#[test]
fn a_missing_file_interpreter_or_start_method_is_located() {
    let work = Workdir::new();
    work.write("funcs.py", FUNCTIONS);
    let cases = [
        (
            "python = \"nope.py:f\"",
            "missing.toml:11:10: file \"nope.py\" does not exist (paths are relative to the job file's folder)",
        ),
        (
            "python = \"funcs.py\"",
            "missing.toml:11:10: \"python\" must be \"FILE:FUNCTION\", such as \"prices.py:increase_price\"",
        ),
        (
            "python = \"funcs.py:square\"\ninterpreter = [\"python3\", \"python3.99-nowhere\"]",
            "missing.toml:12:27: interpreter \"python3.99-nowhere\" is not found on PATH",
        ),
        (
            "python = \"funcs.py:square\"\nstart_method = \"fork-exec\"",
            "missing.toml:12:16: unknown start_method \"fork-exec\"; expected one of fork, spawn, forkserver; did you mean \"fork\"?",
        ),
    ];
    for (workload, expected) in cases {
        work.write(
            "missing.toml",
            &job(
                "strategies = [\"serial\", \"processes\"]",
                &format!("[[workload]]\nname = \"w\"\n{workload}\n"),
            ),
        );
        let output = work.parbench(&["check", "missing.toml"]);
        assert_eq!(output.status.code(), Some(2), "{workload}");
        assert_eq!(stderr(&output), format!("error: {expected}\n"), "{workload}");
    }
}

/// The harness's own tests, on the protocol without parbench.
#[test]
fn the_harness_passes_its_python_tests() {
    let output = std::process::Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", "tests/python"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

/// A module that imports what the interpreter lacks is refused by `check`,
/// before any run, naming the module, the interpreter's path and the
/// `interpreter` key that points elsewhere.
#[test]
fn check_names_a_module_the_interpreter_cannot_import_and_the_way_out() {
    let work = Workdir::new();
    work.write("work.py", "import json\nimport parbench_no_such_module\n\n\ndef f(x):\n    return x\n");
    // A module beside the file imports, as the harness will import it.
    work.write("helper.py", "");
    work.write("fine.py", "import helper\ntry:\n    import parbench_optional\nexcept ImportError:\n    pass\n\n\ndef f(x):\n    return x\n");
    let python3 = which("python3").expect("python3 on PATH");
    for (workload, at) in
        [("python = \"work.py:f\"", "11:10"), ("python = \"work.py:f\"\ninterpreter = \"python3\"", "12:15")]
    {
        work.write(
            "job.toml",
            &job("strategies = [\"serial\"]", &format!("[[workload]]\nname = \"w\"\n{workload}\n")),
        );
        let output = work.command().args(["check", "job.toml"]).env_remove("VIRTUAL_ENV").output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{workload}");
        let error = stderr(&output);
        assert!(
            error.starts_with(&format!(
                "error: job.toml:{at}: work.py:2 imports parbench_no_such_module, which {} (CPython ",
                python3.display()
            )),
            "{error}"
        );
        assert!(error.contains("set interpreter = \"PATH/TO/VENV/bin/python\""), "{error}");
        // The package is named where the module says it.
        assert!(error.contains("-m pip install parbench_no_such_module)"), "{error}");
    }
    work.write(
        "job.toml",
        &job("strategies = [\"serial\"]", "[[workload]]\nname = \"w\"\npython = \"fine.py:f\"\n"),
    );
    let output = work.parbench(&["check", "job.toml"]);
    assert!(output.status.success(), "{}", stderr(&output));
}

/// With a virtual environment active, a job without `interpreter` runs that
/// environment's python even where PATH finds another python3 first, and
/// env.json and `check` name it.
#[parbench_test_tools::needs(venv)]
#[test]
fn the_active_virtual_environment_is_the_default_interpreter() {
    let work = Workdir::new();
    let venv = work.path().join("venv");
    let made = std::process::Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .output()
        .unwrap();
    assert!(made.status.success(), "python3 -m venv: {}", stderr(&made));
    work.write("funcs.py", FUNCTIONS);
    work.write(
        "job.toml",
        &job(
            "strategies = [\"serial\"]\nrepetitions = 1\nwarmup = 0",
            "[[workload]]\nname = \"w\"\npython = \"funcs.py:square\"\n",
        ),
    );
    let python = venv.join("bin/python");
    let active = |args: &[&str]| work.command().args(args).env("VIRTUAL_ENV", &venv).output().unwrap();
    let check = active(&["check", "job.toml"]);
    assert!(check.status.success(), "{}", stderr(&check));
    let plan = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(plan.contains("(python funcs.py:square in CPython "), "{plan}");
    assert!(plan.contains(&format!(" {}), ", python.display())), "{plan}");
    let run = active(&["run", "job.toml"]);
    assert!(run.status.success(), "{}", stderr(&run));
    // The table's output says which python `python3` stood for.
    let table = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(table.contains(&format!("w: interpreter=python3 ran {} (CPython ", python.display())), "{table}");
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.path().join("results/py.env.json")).unwrap())
            .unwrap();
    assert_eq!(env["python"][0]["path"], python.display().to_string(), "{env}");
    assert_eq!(env["python"][0]["interpreter"], "python3", "{env}");
    let (_, rows) = work.rows("results/py.csv");
    assert_eq!(rows[0]["status"], "ok");
    assert_eq!(rows[0]["param_interpreter"], "python3");
}
