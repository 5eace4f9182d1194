//! Python workloads (`python = "FILE:FUNCTION"`): the user's function run by
//! Python's own `map`, `ThreadPoolExecutor` and `ProcessPoolExecutor`, timed
//! inside Python. The harness that does it (`python_harness.py`) ships in the
//! binary; this module starts it, speaks its JSON-lines protocol, and ends it
//! and every process of its pool, however a run ends.
//!
//! One harness serves one group of entries (one list, one interpreter, one
//! start method): it is started by the group's first run and ended when the
//! group is done, so the interpreter's start is never part of a run.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// The harness, as shipped: started as `INTERPRETER -c HARNESS MARKER`.
pub const HARNESS: &str = include_str!("python_harness.py");

/// The first argument after the harness's source: it names the harness's
/// processes in `ps` (and the tests' scans of /proc).
pub const MARKER: &str = "parbench-python-harness";

/// The oldest Python the harness is written for.
pub const MINIMUM_VERSION: &str = "3.8";

/// The Python a job without `interpreter` runs when a virtual environment
/// is active: `$VIRTUAL_ENV/bin/python`, the one whose packages the user
/// installed, even where PATH names another python3 first.
pub fn active_virtualenv_python() -> Option<PathBuf> {
    let venv = std::env::var_os("VIRTUAL_ENV").filter(|venv| !venv.is_empty())?;
    let python = Path::new(&venv).join("bin").join("python");
    python.is_file().then_some(python)
}

/// `start_method` values, as `multiprocessing.get_context` names them.
pub const START_METHODS: &[&str] = &["fork", "spawn", "forkserver"];

/// A Python function ready to run: which interpreter, which module, which
/// function, how its process pool starts.
#[derive(Debug, Clone, PartialEq)]
pub struct PythonWork {
    /// Relative to the job file's folder, where the harness runs.
    pub file: String,
    pub function: String,
    pub interpreter: PathBuf,
    /// `None`: Python's default for the platform.
    pub start_method: Option<String>,
}

/// What an interpreter says of itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PythonFacts {
    /// `CPython`, `PyPy`, …
    pub implementation: String,
    /// `3.11.7`
    pub version: String,
    /// Whether the GIL is enabled (`sys._is_gil_enabled()`; always before 3.13).
    pub gil: bool,
}

impl PythonFacts {
    /// `CPython 3.11.7`, for the `python` column.
    pub fn name(&self) -> String {
        format!("{} {}", self.implementation, self.version)
    }

    /// `enabled` or `disabled`, for the `python_gil` column.
    pub fn gil_cell(&self) -> &'static str {
        gil_cell(self.gil)
    }
}

pub fn gil_cell(gil: bool) -> &'static str {
    if gil { "enabled" } else { "disabled" }
}

/// What `check` learns of a module and an interpreter without running the
/// module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub facts: PythonFacts,
    pub module: Module,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Module {
    /// Top-level `def`s in file order, and other top-level names (imports,
    /// assignments, classes) that may hold a callable made at import.
    Parsed {
        functions: Vec<String>,
        bound: Vec<String>,
        /// Modules imported at the top level that the interpreter cannot
        /// find from the module's folder, with their lines.
        missing: Vec<MissingImport>,
    },
    SyntaxError {
        line: usize,
        column: usize,
        message: String,
    },
    Unreadable(String),
}

/// A top-level import the interpreter cannot satisfy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MissingImport {
    pub module: String,
    pub line: usize,
}

#[derive(Deserialize)]
struct RawProbe {
    too_old: Option<String>,
    #[serde(flatten)]
    facts: Option<PythonFacts>,
    functions: Option<Vec<String>>,
    #[serde(default)]
    bound: Vec<String>,
    #[serde(default)]
    missing: Vec<MissingImport>,
    syntax_error: Option<RawSyntaxError>,
    unreadable: Option<String>,
}

#[derive(Deserialize)]
struct RawSyntaxError {
    line: usize,
    column: usize,
    message: String,
}

/// Asks `interpreter` (run in `dir`) what `file` defines, parsing it with
/// Python's `ast`: the module's top level is not run. The error is one
/// line, for a located job-file error.
pub fn probe(interpreter: &Path, dir: &Path, file: &str) -> Result<Probe, String> {
    let output = Command::new(interpreter)
        .args(["-c", HARNESS, MARKER, "probe", file])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| {
            format!("cannot run {}: {}", interpreter.display(), crate::vocab::io_reason(&error))
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let raw: RawProbe = serde_json::from_str(stdout.trim()).map_err(|_| {
        let why = stderr.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or("no answer");
        format!("{} cannot run parbench's Python harness: {}", interpreter.display(), why.trim())
    })?;
    if let Some(version) = raw.too_old {
        return Err(format!(
            "{} is Python {version}; parbench's Python harness needs {MINIMUM_VERSION} or later",
            interpreter.display()
        ));
    }
    let facts = raw.facts.ok_or_else(|| format!("{} did not describe itself", interpreter.display()))?;
    let module = if let Some(error) = raw.syntax_error {
        Module::SyntaxError { line: error.line, column: error.column, message: error.message }
    } else if let Some(why) = raw.unreadable {
        Module::Unreadable(why)
    } else {
        Module::Parsed {
            functions: raw.functions.unwrap_or_default(),
            bound: raw.bound,
            missing: raw.missing,
        }
    };
    Ok(Probe { facts, module })
}

/// The items as the harness receives them: whole numbers as `int`, other
/// numbers as `float`, text (and every item of a `file` list) as `str`.
pub fn items_json(numbers: Option<&[f64]>, texts: Option<&[String]>) -> String {
    let mut json = String::from("[");
    if let Some(numbers) = numbers {
        for (index, number) in numbers.iter().enumerate() {
            if index > 0 {
                json.push(',');
            }
            json.push_str(&number_json(*number));
        }
    }
    if let Some(texts) = texts {
        for (index, text) in texts.iter().enumerate() {
            if index > 0 {
                json.push(',');
            }
            json.push_str(&serde_json::to_string(text).expect("a string serialises"));
        }
    }
    json.push(']');
    json
}

/// A number in the JSON dialect Python's `json` reads: an integer literal
/// for a whole number (Python makes it an `int`), the shortest exact
/// decimal otherwise, and Python's names for the values JSON lacks.
fn number_json(number: f64) -> String {
    if number.is_nan() {
        "NaN".to_owned()
    } else if number.is_infinite() {
        if number > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else if number.fract() == 0.0 && !(number == 0.0 && number.is_sign_negative()) {
        format!("{number:.0}")
    } else {
        // Rust prints the shortest decimal that reads back to the same f64,
        // and never with an exponent; a negative zero stays a float.
        let text = format!("{number}");
        if text.contains('.') { text } else { format!("{text}.0") }
    }
}

/// How one run is asked of the harness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequest<'a> {
    pub strategy: &'a str,
    pub workers: usize,
    pub chunksize: Option<usize>,
    pub start_method: Option<&'a str>,
}

/// One run's figures, as the harness measured them (the `ok` answer).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PythonRun {
    pub wall_s: f64,
    /// `None` for Python's pools, which start their workers inside `map`.
    pub setup_s: Option<f64>,
    pub cpu_s: f64,
    /// `repr` of each result, in input order.
    pub results: Vec<String>,
    pub gil: bool,
    /// The interpreter's peak resident memory during the run plus that of
    /// its pool's processes, in bytes; None where /proc cannot say.
    pub peak_rss_bytes: Option<u64>,
    /// The scheduler's counters of the tasks that did the work (the
    /// interpreter's thread for serial, the pool's threads or processes);
    /// None where the kernel keeps none.
    pub workers: Option<WorkerCounters>,
    /// The same of the interpreter's other threads over the run (the
    /// calling thread; a process pool's manager and feeder threads).
    pub helpers: Option<WorkerCounters>,
    /// CPU time the harness spent on the request, its pool's start, end and
    /// reaped processes included.
    pub harness_cpu_s: Option<f64>,
}

/// A Python run's workers' CPU time and wait for a CPU, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct WorkerCounters {
    pub cpu_s: f64,
    pub delay_s: f64,
}

impl WorkerCounters {
    pub fn sched(self) -> crate::interference::Sched {
        let seconds = |value: f64| std::time::Duration::from_secs_f64(value.max(0.0));
        crate::interference::Sched::from_times(seconds(self.cpu_s), seconds(self.delay_s))
    }
}

/// Why a request to the harness came to nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum HarnessError {
    /// The run failed (an exception in the function, a failed import, a
    /// harness that stopped answering): one line.
    Failed(String),
    /// The harness ended with this status, saying this last line.
    Died { status: std::process::ExitStatus, said: Option<String> },
    /// The deadline passed or a signal came; the harness and its pool are
    /// ended already.
    Stopped,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Reply {
    Loaded(PythonFacts),
    Ok(PythonRun),
    Failed { error: String },
    Error(String),
}

/// A running harness, in a process group of its own. Dropping it ends the
/// harness and every process of that group.
pub struct Harness {
    group: crate::child::ProcessGroup,
    stdin: Option<ChildStdin>,
    replies: Receiver<String>,
    /// Standard error goes to an unnamed temporary file (no pipe to fill);
    /// what each run added is read after it.
    stderr: File,
    stderr_seen: u64,
    pub facts: PythonFacts,
}

impl Harness {
    /// Starts `interpreter` in `dir` with the harness, and loads `file`'s
    /// `function` with the items. `stopped` says when to give up: a
    /// deadline passed or a signal came.
    pub fn start(
        interpreter: &Path,
        dir: &Path,
        file: &str,
        function: &str,
        items_json: &str,
        stopped: &dyn Fn() -> bool,
        patience: &dyn Fn() -> Duration,
    ) -> Result<Harness, (HarnessError, Vec<String>)> {
        let failed = |message: String| (HarnessError::Failed(message), Vec::new());
        let stderr = tempfile::tempfile()
            .map_err(|error| failed(format!("cannot create a temporary file for stderr: {error}")))?;
        let stderr_for_child =
            stderr.try_clone().map_err(|error| failed(format!("cannot share the stderr file: {error}")))?;
        let mut command = Command::new(interpreter);
        command
            .args(["-c", HARNESS, MARKER])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr_for_child);
        // If parbench dies without ending the harness (a second Ctrl-C, a
        // SIGKILL), the kernel sends the harness SIGHUP, on which it ends
        // its own process group.
        let tether = crate::child::Tether::Hangup;
        let (group, pipes) = crate::child::spawn(&mut command, tether).map_err(|error| {
            failed(format!("cannot start \"{}\": {}", interpreter.display(), crate::vocab::io_reason(&error)))
        })?;
        let stdout = pipes.stdout.expect("stdout is piped");
        let (sender, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut harness = Harness {
            stdin: pipes.stdin,
            group,
            replies,
            stderr,
            stderr_seen: 0,
            facts: PythonFacts { implementation: String::new(), version: String::new(), gil: true },
        };
        let request = format!(
            "{{\"load\":{{\"file\":{},\"function\":{},\"items\":{items_json}}}}}\n",
            serde_json::to_string(file).expect("a string serialises"),
            serde_json::to_string(function).expect("a string serialises"),
        );
        match harness.ask(&request, stopped, patience) {
            Ok(Reply::Loaded(facts)) => {
                harness.facts = facts;
                Ok(harness)
            }
            Ok(Reply::Error(message)) => {
                let stderr = harness.new_stderr();
                Err((HarnessError::Failed(format!("cannot load {file}: {message}")), stderr))
            }
            Ok(_) => Err((
                HarnessError::Failed("the harness answered out of turn".to_owned()),
                harness.new_stderr(),
            )),
            Err(error) => Err((error, harness.new_stderr())),
        }
    }

    /// One run. The harness times it; the figures come back with the results.
    pub fn run(
        &mut self,
        request: &RunRequest<'_>,
        stopped: &dyn Fn() -> bool,
        patience: &dyn Fn() -> Duration,
    ) -> (Result<PythonRun, HarnessError>, Vec<String>) {
        let message = serde_json::json!({
            "run": {
                "strategy": request.strategy,
                "workers": request.workers,
                "chunksize": request.chunksize,
                "start_method": request.start_method,
            }
        });
        let result = match self.ask(&format!("{message}\n"), stopped, patience) {
            Ok(Reply::Ok(run)) => Ok(run),
            Ok(Reply::Failed { error }) => Err(HarnessError::Failed(error)),
            Ok(Reply::Error(message)) => Err(HarnessError::Failed(message)),
            Ok(Reply::Loaded(_)) => Err(HarnessError::Failed("the harness answered out of turn".to_owned())),
            Err(error) => Err(error),
        };
        (result, self.new_stderr())
    }

    /// Whether the harness can take another run.
    pub fn alive(&mut self) -> bool {
        self.stdin.is_some() && !self.group.exited_within(Duration::ZERO)
    }

    fn ask(
        &mut self,
        request: &str,
        stopped: &dyn Fn() -> bool,
        patience: &dyn Fn() -> Duration,
    ) -> Result<Reply, HarnessError> {
        let written = match self.stdin.as_mut() {
            Some(stdin) => stdin.write_all(request.as_bytes()).and_then(|()| stdin.flush()).is_ok(),
            None => false,
        };
        if !written {
            return Err(self.died());
        }
        loop {
            if stopped() {
                self.end();
                return Err(HarnessError::Stopped);
            }
            match self.replies.recv_timeout(patience()) {
                Ok(line) => {
                    return serde_json::from_str(&line).map_err(|_| {
                        self.end();
                        HarnessError::Failed(format!("the harness answered something unexpected: {line:.80}"))
                    });
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(self.died()),
            }
        }
    }

    /// The harness's standard output closed: it exited or was killed.
    fn died(&mut self) -> HarnessError {
        self.stdin = None;
        let exited = self.group.exited_within(Duration::from_secs(1));
        let status = self.end().status.filter(|_| exited);
        // This run's stderr only: what earlier runs wrote (another run's
        // traceback) is not this death's cause.
        let mut tail = String::new();
        if self.stderr.seek(SeekFrom::Start(self.stderr_seen)).is_ok() {
            self.stderr.read_to_string(&mut tail).ok();
        }
        let said = tail.lines().rev().find(|line| !line.trim().is_empty()).map(|line| line.trim().to_owned());
        match (status, said) {
            (Some(status), said) => HarnessError::Died { status, said },
            (None, Some(line)) => {
                HarnessError::Failed(format!("the Python harness stopped answering: {line}"))
            }
            (None, None) => HarnessError::Failed("the Python harness stopped answering".to_owned()),
        }
    }

    /// What the harness wrote to stderr since the last look, line by line.
    fn new_stderr(&mut self) -> Vec<String> {
        let mut text = String::new();
        if self.stderr.seek(SeekFrom::Start(self.stderr_seen)).is_ok() {
            let _ = self.stderr.read_to_string(&mut text);
        }
        self.stderr_seen += text.len() as u64;
        text.lines().map(str::to_owned).collect()
    }

    /// Ends the harness and every process of its group: SIGTERM first, so
    /// that multiprocessing's resource tracker (which ignores it) sees its
    /// clients gone and removes their semaphores, then SIGKILL for anything
    /// left after a short grace. The harness, the group's leader, is reaped
    /// only after that (see [`crate::child`]); how it ended.
    fn end(&mut self) -> crate::child::Ended {
        use nix::sys::signal::Signal;
        self.stdin = None;
        let group = self.group.pid() as libc::pid_t;
        if self.group.ended().is_none() {
            self.group.signal(Signal::SIGTERM);
            let _ = self.group.exited_within(Duration::from_millis(500));
            let grace = Instant::now() + Duration::from_secs(1);
            while running_in_group(group) && Instant::now() < grace {
                reap_group(group);
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let ended = self.group.end(Duration::ZERO);
        let reaped = Instant::now() + Duration::from_secs(1);
        while running_in_group(group) && Instant::now() < reaped {
            reap_group(group);
            std::thread::sleep(Duration::from_millis(1));
        }
        reap_group(group);
        ended
    }
}

impl Drop for Harness {
    /// End of input asks the harness to exit (its pools are already shut
    /// down after each run); whatever is left of its group is then ended.
    fn drop(&mut self) {
        if self.stdin.take().is_some() {
            let _ = self.group.exited_within(Duration::from_secs(2));
        }
        self.end();
    }
}

/// Whether a process of the group is still running (a zombie is not).
fn running_in_group(group: libc::pid_t) -> bool {
    members(group).iter().any(|(_, zombie)| !zombie)
}

/// Reaps the group's zombies that are parbench's own children, but its
/// leader (the harness, reaped by its `Group`): pool processes whose
/// harness died come back to parbench when it is their subreaper, and would
/// otherwise stay zombies.
fn reap_group(group: libc::pid_t) {
    use nix::sys::wait::{WaitPidFlag, waitpid};
    for (pid, _) in members(group).into_iter().filter(|(pid, zombie)| *zombie && *pid != group) {
        let _ = waitpid(nix::unistd::Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
    }
}

/// The processes of process group `group`, and whether each is a zombie,
/// from /proc.
fn members(group: libc::pid_t) -> Vec<(libc::pid_t, bool)> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_string_lossy().parse::<libc::pid_t>().ok())
        .filter_map(|pid| crate::child::proc_stat(pid).map(|stat| (pid, stat)))
        .filter(|(_, stat)| stat.group == group)
        .map(|(pid, stat)| (pid, stat.zombie))
        .collect()
}

/// An interpreter as the job file names it: a path (with a `/`, relative to
/// the job file's folder) or a name looked up on PATH.
pub fn locate_interpreter(
    name: &str,
    dir: &Path,
    find_on_path: impl Fn(&str) -> Option<PathBuf>,
) -> Option<PathBuf> {
    if name.contains('/') {
        let path = dir.join(name);
        path.is_file().then_some(path)
    } else {
        find_on_path(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_become_ints_and_others_floats() {
        let numbers = [0.0, 42.0, -3.0, 2.5, 0.1, -0.0, 1e20, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
        assert_eq!(
            items_json(Some(&numbers), None),
            "[0,42,-3,2.5,0.1,-0.0,100000000000000000000,NaN,Infinity,-Infinity]"
        );
        let texts = ["a \"b\"".to_owned(), "7".to_owned()];
        assert_eq!(items_json(None, Some(&texts)), r#"["a \"b\"","7"]"#);
    }
}
