//! parbench at home in editors, shells and spreadsheets: the job-file JSON
//! Schema, shell completions, the man page, `init`, `--version` and the
//! memory column. Each test runs the real binary; a test that needs a tool
//! that is not parbench (a JSON Schema validator, bash, man) is ignored,
//! with its reason, where the tests were built without it (`#[needs]`,
//! tests/support/tools), unless CI's PARBENCH_REQUIRE_TOOLS=1 is set.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use common::{Workdir, keyed_rows, repo, stderr, stdout};

/// parbench where the folder does not matter (schema, completions, man).
fn parbench(args: &[&str]) -> Output {
    Workdir::new().parbench(args)
}

fn job_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("jobs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the job files in jobs/: {files:?}");
    files
}

// ---------------------------------------------------------------- schema

fn schema_output() -> String {
    let output = parbench(&["schema"]);
    assert!(output.status.success(), "parbench schema: {}", stderr(&output));
    stdout(&output)
}

#[test]
fn the_committed_schema_is_what_parbench_schema_prints() {
    let committed = std::fs::read_to_string(repo().join("docs/jobfile.schema.json")).unwrap_or_default();
    assert!(
        committed == schema_output(),
        "docs/jobfile.schema.json differs from `parbench schema`; regenerate it with\n    cargo run -- schema > docs/jobfile.schema.json"
    );
}

#[test]
fn the_schema_is_draft_07_with_a_description_and_an_example_for_every_key() {
    let schema: serde_json::Value = serde_json::from_str(&schema_output()).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    let mut keys = 0;
    let mut missing = Vec::new();
    every_property(&schema, &schema, "", &mut |path, property| {
        keys += 1;
        if property.get("description").and_then(|d| d.as_str()).is_none_or(str::is_empty) {
            missing.push(format!("{path}: no description"));
        }
        if property.get("examples").and_then(|e| e.as_array()).is_none_or(Vec::is_empty) {
            missing.push(format!("{path}: no example"));
        }
    });
    assert!(keys >= 25, "only {keys} keys in the schema");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// Calls `visit` for every property of every object schema, `$ref`s followed.
fn every_property(
    root: &serde_json::Value,
    schema: &serde_json::Value,
    path: &str,
    visit: &mut dyn FnMut(&str, &serde_json::Value),
) {
    let resolved = match schema.get("$ref").and_then(|r| r.as_str()) {
        Some(reference) => {
            root.pointer(reference.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling {reference}"))
        }
        None => schema,
    };
    if let Some(properties) = resolved.get("properties").and_then(|p| p.as_object()) {
        for (name, property) in properties {
            let here = format!("{path}.{name}");
            visit(&here, property);
            every_property(root, property, &here, visit);
        }
    }
    for key in ["items", "then", "else"] {
        if let Some(inner) = resolved.get(key) {
            every_property(root, inner, path, visit);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for inner in resolved.get(key).and_then(|v| v.as_array()).into_iter().flatten() {
            every_property(root, inner, path, visit);
        }
    }
}

/// Validates each JSON document against the schema with Python's
/// `jsonschema` (Draft 7): one line per document, `ok` or the first error.
fn validate(schema: &str, documents: &[serde_json::Value]) -> Vec<String> {
    const SCRIPT: &str = r#"
import json, sys
import jsonschema
payload = json.load(sys.stdin)
jsonschema.Draft7Validator.check_schema(payload["schema"])
validator = jsonschema.Draft7Validator(payload["schema"])
for document in payload["documents"]:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    print("ok" if not errors else "invalid at /%s: %s" % ("/".join(map(str, errors[0].path)), errors[0].message))
"#;
    let payload = serde_json::json!({
        "schema": serde_json::from_str::<serde_json::Value>(schema).unwrap(),
        "documents": documents,
    });
    let mut child = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(payload.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the validator failed: {}", stderr(&output));
    stdout(&output).lines().map(str::to_owned).collect()
}

fn toml_to_json(source: &str) -> serde_json::Value {
    let value: toml::Value = toml::from_str(source).unwrap();
    serde_json::to_value(value).unwrap()
}

#[parbench_test_tools::needs(jsonschema)]
#[test]
fn every_job_file_names_the_schema_and_validates_against_it() {
    let schema = schema_output();
    let mut documents = Vec::new();
    for path in job_files() {
        let source = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            source.lines().next(),
            Some("#:schema ../docs/jobfile.schema.json"),
            "{} starts with a #:schema line",
            path.display()
        );
        documents.push(toml_to_json(&source));
    }
    let verdicts = validate(&schema, &documents);
    for (path, verdict) in job_files().iter().zip(&verdicts) {
        assert_eq!(verdict, "ok", "{}", path.display());
    }
    assert_eq!(verdicts.len(), documents.len());
}

/// Each mistake is refused by the schema and, as the schema promises, by
/// `parbench check`; the unchanged seed job passes both.
#[parbench_test_tools::needs(jsonschema)]
#[test]
fn the_schema_rejects_what_parbench_check_rejects() {
    let seed = std::fs::read_to_string(repo().join("jobs/seed.toml")).unwrap();
    let mistakes: &[(&str, &str, &str, &str)] = &[
        ("unchanged", "", "", "ok"),
        ("unknown strategy", "\"threads\",", "\"thread\",", "invalid at /run/strategies"),
        ("negative size", "size = 20", "size = -20", "invalid at /list/size"),
        ("negative size in an axis", "size = 20", "size = [20, -1]", "invalid at /list/size"),
        ("misspelt top-level key", "description =", "descripton =", "invalid at /:"),
        ("misspelt key in [run]", "warmup = 1", "warmpu = 1", "invalid at /run:"),
        (
            "misspelt key in a workload",
            "builtin = \"price-increase\"",
            "bulitin = \"price-increase\"",
            "invalid at /workload/0",
        ),
        ("unknown builtin", "\"price-increase\"", "\"price-increse\"", "invalid at /workload/0"),
        ("unknown parameter", "percent = 10", "percnt = 10", "invalid at /workload/0"),
        ("key of another generator", "scale = 42", "seed = 42", "invalid at /list"),
        ("zero workers", "workers = [2]", "workers = [0]", "invalid at /run/workers"),
    ];
    let work = Workdir::new();
    let mut documents = Vec::new();
    for (what, from, to, _) in mistakes {
        let broken = if from.is_empty() { seed.clone() } else { seed.replacen(from, to, 1) };
        assert!(from.is_empty() || broken != seed, "{what}: {from:?} is in jobs/seed.toml");
        let path = work.path().join("job.toml");
        std::fs::write(&path, &broken).unwrap();
        let check = work.parbench(&["check", "job.toml"]);
        assert_eq!(check.status.success(), from.is_empty(), "{what}: parbench check: {}", stderr(&check));
        documents.push(toml_to_json(&broken));
    }
    let verdicts = validate(&schema_output(), &documents);
    for ((what, _, _, expected), verdict) in mistakes.iter().zip(&verdicts) {
        assert!(verdict.starts_with(expected), "{what}: expected {expected:?}, got {verdict:?}");
    }
}

// ---------------------------------------------------------------- shells and man

#[parbench_test_tools::needs(bash)]
#[test]
fn bash_completion_is_valid_bash_and_completes_subcommands() {
    let output = parbench(&["completions", "bash"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let work = Workdir::new();
    let script = work.path().join("parbench.bash");
    std::fs::write(&script, &output.stdout).unwrap();
    let syntax = std::process::Command::new("bash").arg("-n").arg(&script).output().unwrap();
    assert!(syntax.status.success(), "bash -n: {}", stderr(&syntax));

    let mut offered = bash_complete(&script, "r");
    offered.sort();
    assert_eq!(offered, ["report", "run"]);
    let everything = bash_complete(&script, "");
    assert!(everything.iter().any(|word| word == "schema"), "{everything:?}");
    assert!(!everything.iter().any(|word| word.contains("worker")), "the internal command: {everything:?}");
}

/// What bash offers on `parbench WORD<TAB>`: the function registered with
/// `complete -F`, called with COMP_WORDS and COMP_CWORD set as bash does.
fn bash_complete(script: &Path, word: &str) -> Vec<String> {
    let session = r#"
source "$1"
function=$(complete -p parbench | sed -E 's/.* -F ([^ ]+) .*/\1/')
COMP_WORDS=(parbench "$2"); COMP_CWORD=1; COMP_LINE="parbench $2"; COMP_POINT=${#COMP_LINE}
"$function" parbench "$2" parbench
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let completed = std::process::Command::new("bash")
        .args(["-c", session, "bash"])
        .arg(script)
        .arg(word)
        .output()
        .unwrap();
    assert!(completed.status.success(), "{}", stderr(&completed));
    stdout(&completed).split_whitespace().map(str::to_owned).collect()
}

#[test]
fn completions_exist_for_five_shells_and_refuse_others() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = parbench(&["completions", shell]);
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        assert!(script.contains("report") && script.contains("repetitions"), "{shell}: {script}");
        assert!(!script.contains("__worker"), "{shell} offers the internal worker command");
    }
    let tcsh = parbench(&["completions", "tcsh"]);
    assert_eq!(tcsh.status.code(), Some(2));
    assert!(stderr(&tcsh).contains("bash, elvish, fish, powershell, zsh"), "{}", stderr(&tcsh));
}

#[test]
fn the_man_page_holds_a_page_per_command() {
    let output = parbench(&["man"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let roff = stdout(&output);
    for page in ["parbench", "parbench-run", "parbench-check", "parbench-report", "parbench-init"] {
        assert!(roff.contains(&format!(".TH {page} 1")), "no page {page}");
    }
}

#[parbench_test_tools::needs(man)]
#[test]
fn the_man_page_renders_without_warnings() {
    let output = parbench(&["man"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let mut man = std::process::Command::new("man")
        .args(["--warnings", "-l", "-"])
        .env("MANWIDTH", "80")
        .env("MAN_KEEP_FORMATTING", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    man.stdin.take().unwrap().write_all(&output.stdout).unwrap();
    let rendered = man.wait_with_output().unwrap();
    assert!(rendered.status.success(), "man: {}", stderr(&rendered));
    assert_eq!(stderr(&rendered), "", "man --warnings");
    let page = stdout(&rendered);
    assert!(page.contains("--repetitions"), "{page}");
    assert!(page.contains("jobfile.schema.json") || page.contains("parbench schema"), "{page}");
}

#[test]
fn man_out_dir_writes_one_page_per_command() {
    let work = Workdir::new();
    let output = work.parbench(&["man", "--out-dir", "man1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    for page in ["parbench.1", "parbench-run.1", "parbench-completions.1", "parbench-schema.1"] {
        let roff = std::fs::read_to_string(work.path().join("man1").join(page)).unwrap();
        assert!(roff.contains(".TH parbench"), "{page}: {roff}");
    }
    assert!(!work.path().join("man1/parbench-__worker.1").exists());
}

// ---------------------------------------------------------------- init

#[test]
fn init_writes_a_job_that_check_accepts_and_never_overwrites() {
    let work = Workdir::new();
    let first = work.parbench(&["init", "x"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let written = std::fs::read_to_string(work.path().join("x.toml")).unwrap();
    assert!(written.starts_with('#'), "a commented starter: {written}");
    let check = work.parbench(&["check", "x.toml"]);
    assert!(check.status.success(), "{}", stderr(&check));

    let second = work.parbench(&["init", "x"]);
    assert_eq!(second.status.code(), Some(2));
    assert_eq!(
        stderr(&second),
        "error: x.toml exists; parbench init never overwrites a file: choose another NAME or remove it\n"
    );
    assert_eq!(std::fs::read_to_string(work.path().join("x.toml")).unwrap(), written);
}

#[test]
fn init_with_a_command_writes_a_command_workload() {
    let work = Workdir::new();
    let output = work.parbench(&["init", "cmd.toml", "--command", "expr {item} + 1"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let written = std::fs::read_to_string(work.path().join("cmd.toml")).unwrap();
    assert!(written.contains(r#"command = ["expr", "{item}", "+", "1"]"#), "{written}");
    let check = work.parbench(&["check", "cmd.toml"]);
    assert!(check.status.success(), "{}", stderr(&check));
    let run = work.parbench(&["run", "--quiet", "--repetitions", "1", "cmd.toml"]);
    assert!(run.status.success(), "{}", stderr(&run));
}

#[parbench_test_tools::needs(python3)]
#[test]
fn init_with_python_writes_a_python_workload_that_runs() {
    let work = Workdir::new();
    work.write("work.py", "def double(x):\n    return 2 * x\n");
    let output = work.parbench(&["init", "py", "--python", "work.py:double"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let written = work.read("py.toml");
    assert!(written.contains(r#"python = "work.py:double""#), "{written}");
    let check = work.parbench(&["check", "py.toml"]);
    assert!(check.status.success(), "{}", stderr(&check));
    let run = work.parbench(&["run", "--quiet", "--repetitions", "1", "py.toml"]);
    assert!(run.status.success(), "{}", stderr(&run));
    // Pools at 2 workers and at every CPU ("cpus" is measured once where it is 2).
    let rows = work.rows("results/py.csv");
    assert!(rows.iter().all(|row| row["status"] == "ok"), "{rows:?}");
    let rows: Vec<_> = rows.into_iter().filter(|row| ["1", "2"].contains(&row["workers"].as_str())).collect();
    let statuses: Vec<String> =
        rows.iter().map(|row| format!("{} {}", row["strategy"], row["status"])).collect();
    assert_eq!(statuses, ["serial ok", "threads ok", "processes ok"]);
    // The interpreter and, for processes, its pool's two processes.
    let peaks: Vec<u64> = rows.iter().map(|row| row["peak_rss_bytes"].parse().unwrap()).collect();
    assert!(peaks[0] > 0 && peaks[2] > peaks[0] + peaks[0] / 4, "serial, threads, processes ×2: {peaks:?}");

    let missing = work.parbench(&["init", "other", "--python", "work.py"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(stderr(&missing), "error: --python \"work.py\" is not FILE:FUNCTION, such as work.py:price\n");
    // No starter that `check` would refuse: a file that is not there.
    let absent = work.parbench(&["init", "nope", "--python", "nope.py:f"]);
    assert_eq!(absent.status.code(), Some(2), "{}", stderr(&absent));
    assert!(stderr(&absent).contains("there is no file nope.py beside nope.toml"), "{}", stderr(&absent));
    assert!(!work.path().join("nope.toml").exists());
}

#[test]
fn init_refuses_an_unknown_builtin_and_a_broken_command_line() {
    let work = Workdir::new();
    let builtin = work.parbench(&["init", "x", "--builtin", "spinn"]);
    assert_eq!(builtin.status.code(), Some(2));
    assert_eq!(
        stderr(&builtin),
        "error: unknown builtin \"spinn\"; expected one of price-increase, price-crazy, spin, sleep; did you mean \"spin\"?\n"
    );
    let command = work.parbench(&["init", "x", "--command", "python3 \"work.py"]);
    assert_eq!(command.status.code(), Some(2));
    assert!(stderr(&command).contains("is not a command line (check its quotes)"), "{}", stderr(&command));
    assert!(!work.path().join("x.toml").exists());
}

#[test]
fn the_starter_job_runs() {
    let work = Workdir::new();
    assert!(work.parbench(&["init"]).status.success());
    let run = work.parbench(&["run", "--quiet", "job.toml"]);
    assert!(run.status.success(), "{}", stderr(&run));
}

#[parbench_test_tools::needs(jsonschema)]
#[test]
fn the_starter_job_validates_against_the_schema() {
    let work = Workdir::new();
    assert!(work.parbench(&["init"]).status.success());
    let source = std::fs::read_to_string(work.path().join("job.toml")).unwrap();
    let verdicts = validate(&schema_output(), &[toml_to_json(&source)]);
    assert_eq!(verdicts, ["ok"]);
}

// ---------------------------------------------------------------- version and help

#[test]
fn version_names_the_commit_and_help_points_at_the_man_page_and_schema() {
    let version = stdout(&parbench(&["--version"]));
    assert!(version.starts_with(&format!("parbench {}", env!("CARGO_PKG_VERSION"))), "{version}");
    if repo().join(".git").exists() {
        let commit = std::process::Command::new("git").args(["rev-parse", "--short=12", "HEAD"]).output();
        if let Some(commit) = commit.ok().filter(|output| output.status.success()) {
            let commit = stdout(&commit);
            assert!(version.contains(commit.trim()), "{version} names commit {commit}");
        }
    }
    let help = stdout(&parbench(&["--help"]));
    assert!(help.contains("parbench man"), "{help}");
    assert!(help.contains("parbench schema"), "{help}");
}

// ---------------------------------------------------------------- memory

#[test]
fn memory_is_each_way_of_running_its_own_and_no_run_reports_zero() {
    let work = Workdir::new();
    std::fs::write(
        work.path().join("memory.toml"),
        r#"version = 1
[list]
generator = "squares"
size = 1_000_000
[run]
strategies = ["serial", "threads", "processes"]
workers = [2]
repetitions = 3
warmup = 0
[[workload]]
name = "increase"
builtin = "price-increase"
"#,
    )
    .unwrap();
    let run = work.parbench(&["run", "memory.toml"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let table = stdout(&run);
    assert!(table.contains("  memory  ") && table.contains(" MiB "), "the table shows memory: {table}");
    let report = work.parbench(&["report", "--quiet", "--html", "r.html", "results/memory.csv"]);
    assert!(report.status.success(), "{}", stderr(&report));
    let html = std::fs::read_to_string(work.path().join("r.html")).unwrap();
    assert!(html.contains("<th>memory</th>") && html.contains(" MiB</td>"), "the HTML report shows memory");
    let peaks = |strategy: &str| -> Vec<u64> {
        keyed_rows(&work.path().join("results/memory.csv"))
            .iter()
            .filter(|row| row["strategy"] == strategy)
            .map(|row| row["peak_rss_bytes"].parse().unwrap())
            .collect()
    };
    let (serial, threads, processes) = (peaks("serial"), peaks("threads"), peaks("processes"));
    assert_eq!((serial.len(), threads.len(), processes.len()), (3, 3, 3));
    for peak in serial.iter().chain(&threads) {
        // The runner's: at least the list and its results, 16 MB.
        assert!(*peak > 16_000_000, "{serial:?} {threads:?} {processes:?}");
    }
    // The two workers' own: each a process of its own (a few MiB), neither
    // holding the list, which they see a chunk at a time.
    let least_serial = serial.iter().min().unwrap();
    assert!(
        processes.iter().all(|peak| *peak > 2 << 20 && peak < least_serial),
        "serial {serial:?}, processes ×2 {processes:?}"
    );

    let summary = work.rows("results/memory.summary.csv");
    for row in &summary {
        let median: u64 = row["median_peak_rss_bytes"].parse().unwrap();
        let least = if row["strategy"] == "processes" { 2 << 20 } else { 16_000_000 };
        assert!(median > least, "{row:?}");
    }
}
