//! `parbench init`: a commented starter job file that `check` accepts and
//! that runs in seconds, for a builtin, a command or a Python function. It
//! never overwrites a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::InitArgs;
use crate::error::Error;
use crate::jobfile;
use crate::vocab::io_reason;
use crate::workload::{BUILTINS, BuiltinSpec, find_builtin};

use super::EXIT_OK;

pub fn init(args: &InitArgs) -> Result<i32, Error> {
    let path = job_path(&args.name);
    let name = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    let workload = match (&args.command, &args.python) {
        (Some(command_line), _) => command_workload(command_line)?,
        (None, Some(function)) => python_workload(function, &path)?,
        (None, None) => builtin_workload(&args.builtin)?,
    };
    let text = starter(&name, &path, &workload);
    // create_new: an existing file, even one created a moment ago by
    // someone else, is never replaced.
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(|error| {
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Usage(format!(
                "{} exists; parbench init never overwrites a file: choose another NAME or remove it",
                path.display()
            ))
        } else {
            Error::Usage(format!("cannot write {}: {}", path.display(), io_reason(&error)))
        }
    })?;
    file.write_all(text.as_bytes()).map_err(|source| Error::Output { path: path.clone(), source })?;
    eprintln!(
        "wrote {0}; check it with `parbench check {0}`, run it with `parbench run {0}`",
        path.display()
    );
    Ok(EXIT_OK)
}

/// NAME.toml, unless NAME already ends in .toml.
fn job_path(name: &str) -> PathBuf {
    if name.ends_with(".toml") { PathBuf::from(name) } else { PathBuf::from(format!("{name}.toml")) }
}

/// What the starter measures: its [list], its [run] strategies and worker
/// counts, and its [[workload]].
struct Starter {
    list: &'static str,
    strategies: &'static str,
    workers: &'static str,
    workload: String,
}

/// The seed's own list, for builtins and commands that take numbers.
const SQUARES: &str = "\
[list]                       # the input list
generator = \"squares\"        # item i = i^2 * scale; or range, random, constant, file
size = 100                   # items; an array such as [100, 10_000] is an axis
scale = 42
";

/// A Python function's first list: 0, 1, 2, … as ints, or the user's own
/// inputs from a file, one per line.
const PYTHON_LIST: &str = "\
[list]                       # the items your function receives, one per call
generator = \"range\"          # 0, 1, 2, ... as int; or squares, random, constant, file
size = 100                   # items; an array such as [100, 10_000] is an axis
# Your own inputs instead, one per line of a text file (each arrives as a str):
# generator = \"file\"
# path = \"inputs.txt\"          # relative to this job file
";

fn builtin_workload(builtin: &str) -> Result<Starter, Error> {
    let spec: &BuiltinSpec = find_builtin(builtin).filter(|spec| !spec.hidden).ok_or_else(|| {
        let names: Vec<&str> = BUILTINS.iter().filter(|spec| !spec.hidden).map(|spec| spec.name).collect();
        Error::Usage(format!("unknown builtin \"{builtin}\"; {}", jobfile::choices(builtin, &names)))
    })?;
    let mut workload = format!(
        "[[workload]]                 # one table per workload; add more to compare them\n\
         name = {}\n\
         builtin = {}{}# {}\n",
        quoted(spec.name.split('-').next_back().unwrap_or(spec.name)),
        quoted(spec.name),
        padding(spec.name.len() + 12),
        spec.summary,
    );
    if !spec.params.is_empty() {
        let params: Vec<String> = spec
            .params
            .iter()
            .map(|param| format!("{} = {}", param.name, crate::vocab::format_number(param.default)))
            .collect();
        workload.push_str(&format!(
            "params = {{ {} }}  # the defaults; an array is an axis: [1000, 100000]\n",
            params.join(", ")
        ));
    }
    Ok(Starter {
        list: SQUARES,
        strategies: r#"["serial", "threads", "processes"]"#,
        workers: "[2]",
        workload,
    })
}

fn command_workload(command_line: &str) -> Result<Starter, Error> {
    let argv = shlex::split(command_line).filter(|argv| !argv.is_empty()).ok_or_else(|| {
        Error::Usage(format!("--command {command_line:?} is not a command line (check its quotes)"))
    })?;
    let program = Path::new(&argv[0]).file_stem().map(|stem| stem.to_string_lossy().into_owned());
    let array = toml::Value::Array(argv.iter().cloned().map(toml::Value::String).collect());
    let workload = format!(
        "[[workload]]                 # one table per workload; add more to compare them\n\
         name = {}\n\
         # One process per item, {{item}} replaced by the item in every argument\n\
         # (no shell). For a long-lived worker that reads one item per line on\n\
         # stdin and prints one result per line, add protocol = \"lines\".\n\
         command = {array}\n",
        quoted(program.as_deref().filter(|name| !name.is_empty()).unwrap_or("command")),
    );
    // Threads run code inside parbench: they do not apply to a command.
    Ok(Starter { list: SQUARES, strategies: r#"["serial", "processes"]"#, workers: "[2]", workload })
}

fn python_workload(function: &str, job: &Path) -> Result<Starter, Error> {
    let (file, name) =
        function.rsplit_once(':').filter(|(file, name)| !file.is_empty() && !name.is_empty()).ok_or_else(
            || Error::Usage(format!("--python {function:?} is not FILE:FUNCTION, such as work.py:price")),
        )?;
    // A starter that `check` refuses is no start: the file must be there,
    // relative to the job file, as `check` reads it.
    let folder = job.parent().filter(|folder| !folder.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.join(file).is_file() {
        return Err(Error::Usage(format!(
            "--python {function:?}: there is no file {file} beside {} (FILE is relative to the job file); \
             write it first",
            job.display()
        )));
    }
    let workload = format!(
        "[[workload]]                 # one table per workload; add more to compare them\n\
         name = {}\n\
         # {name}() from {file} (relative to this job file) on one item at a time,\n\
         # under Python's map, ThreadPoolExecutor and ProcessPoolExecutor, timed\n\
         # inside Python.\n\
         python = {}\n\
         # The python that runs it: by default the active virtual environment's\n\
         # ($VIRTUAL_ENV/bin/python), else python3 on PATH. Name another, or an\n\
         # array to compare them: [\".venv/bin/python\", \"python3.13t\"].\n\
         # interpreter = \".venv/bin/python\"\n",
        quoted(name),
        quoted(function),
    );
    Ok(Starter {
        list: PYTHON_LIST,
        strategies: r#"["serial", "threads", "processes"]"#,
        // At 2 and at every CPU: whether a second worker pays, and all of them.
        workers: r#"[2, "cpus"]"#,
        workload,
    })
}

fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn padding(used: usize) -> String {
    " ".repeat(29usize.saturating_sub(used).max(1))
}

fn starter(name: &str, path: &Path, workload: &Starter) -> String {
    let valid_name = !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let name_line = if valid_name {
        format!("name = {}{}# names the result files\n", quoted(name), padding(name.len() + 9))
    } else {
        String::new()
    };
    let path = path.display();
    format!(
        "# A parbench job file (format version 1), written by `parbench init`.
#   parbench check {path}   validate it and show the plan
#   parbench run {path}     measure; results/NAME.csv has one row per run
# Every key is in docs/JOBFILE.md. For an editor that checks TOML (taplo,
# Even Better TOML): `parbench schema > jobfile.schema.json`, then make
# `#:schema ./jobfile.schema.json` the first line of this file.
version = 1                  # the job-file format version
{name_line}description = \"A starter experiment: does parallelism pay for this work?\"

{list}
[run]                        # how to run every workload
strategies = {strategies}  # serial is the reference
workers = {workers}{}# worker counts, or \"cpus\"; an array is an axis
repetitions = \"auto\"         # measured runs of each entry until the median is sure
                             # to ±2% (at most about 5 s each), or a number
warmup = 1                   # unmeasured runs before them
chunk_size = \"auto\"          # items per dispatch to a worker, or a number
timeout = \"60s\"              # per run; \"500ms\", \"2m\", \"1h\"

{workload}",
        padding(workload.workers.len() + 10),
        list = workload.list,
        strategies = workload.strategies,
        workers = workload.workers,
        workload = workload.workload,
    )
}
