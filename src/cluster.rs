//! Slurm: `parbench slurm` writes (and submits, and waits for) an array job
//! with one task per shard; `parbench merge` joins the shards' results.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::analysis::EntryId;
use crate::error::Error;
use crate::jobfile::Job;
use crate::matrix::Plan;
use crate::report::csv::{RunRow, read_rows, write_atomically};
use crate::report::env::{Env, MergedShard, OtherLoad, SliceEntry};
use crate::vocab::{Repetitions, WorkerCount, io_reason, shell_word};

/// A shard's results file, from its name `NAME.shard-I-of-N.csv`.
#[derive(Debug, Clone)]
pub struct ShardFile {
    pub path: PathBuf,
    pub job: String,
    pub index: usize,
    pub count: usize,
}

impl ShardFile {
    pub fn parse(path: &Path) -> Option<ShardFile> {
        let name = path.file_name()?.to_str()?.strip_suffix(".csv")?;
        let (job, rest) = name.rsplit_once(".shard-")?;
        let (index, count) = rest.split_once("-of-")?;
        Some(ShardFile {
            path: path.to_path_buf(),
            job: job.to_owned(),
            index: index.parse().ok()?,
            count: count.parse().ok()?,
        })
    }
}

/// Joins every shard of one job into `OUT/NAME.csv` and its summary;
/// refuses shards of different jobs, a shard given twice or missing, a
/// group measured in two shards or in none (as the shards' `.env.json`
/// list the job's groups), a run recorded in two shards, and a shard whose
/// rows fall short of its slice (see [`shortfalls`]). Returns the merged
/// file's path.
pub fn merge(paths: &[PathBuf], out: Option<&Path>) -> Result<PathBuf, Error> {
    let shards = shard_files(paths)?;
    let by_index = one_set(&shards)?;
    same_version(&by_index)?;
    let gathered = Gathered::of(&by_index)?;
    gathered.check_complete()?;
    let first = &shards[0];
    let out = out.map(Path::to_path_buf).unwrap_or_else(|| first.folder());
    write_merged(&first.job, &out, &gathered, &by_index)
}

/// Each path as a shard's results file, by its name; at least one.
fn shard_files(paths: &[PathBuf]) -> Result<Vec<ShardFile>, Error> {
    let shards = paths
        .iter()
        .map(|path| {
            ShardFile::parse(path).ok_or_else(|| {
                Error::Usage(format!(
                    "{} is not a shard's results: expected a name like NAME.shard-0-of-4.csv",
                    path.display()
                ))
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    if shards.is_empty() {
        return Err(Error::Usage("no shard files to merge".to_owned()));
    }
    Ok(shards)
}

/// The shards by index, where they are every shard of one run of one job,
/// each once.
fn one_set(shards: &[ShardFile]) -> Result<BTreeMap<usize, &ShardFile>, Error> {
    let first = &shards[0];
    let mut by_index: BTreeMap<usize, &ShardFile> = BTreeMap::new();
    for shard in shards {
        if shard.job != first.job {
            return Err(Error::Usage(format!(
                "{} is a shard of job \"{}\", but {} is of job \"{}\"; merge one job at a time",
                shard.path.display(),
                shard.job,
                first.path.display(),
                first.job
            )));
        }
        if shard.count != first.count {
            return Err(Error::Usage(format!(
                "{} is one of {} shards, but {} is one of {}; merge the shards of one run",
                shard.path.display(),
                shard.count,
                first.path.display(),
                first.count
            )));
        }
        if shard.index >= shard.count {
            return Err(Error::Usage(format!(
                "{}: there is no shard {} of {}",
                shard.path.display(),
                shard.index,
                shard.count
            )));
        }
        if let Some(other) = by_index.insert(shard.index, shard) {
            return Err(Error::Usage(format!(
                "shard {} of {} is given twice: {} and {}",
                shard.index,
                shard.count,
                other.path.display(),
                shard.path.display()
            )));
        }
    }
    if let Some(index) = (0..first.count).find(|index| !by_index.contains_key(index)) {
        return Err(Error::Usage(format!(
            "shard {index} of {} is missing: expected {}",
            first.count,
            first.folder().join(format!("{}.shard-{index}-of-{}.csv", first.job, first.count)).display()
        )));
    }
    Ok(by_index)
}

impl ShardFile {
    /// The folder the shard's file is in.
    fn folder(&self) -> PathBuf {
        self.path.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

/// The rows of every shard, in shard order, and what merging them has to
/// check: which shard measured each group and each run, and the groups the
/// shards' env.json say the job has.
#[derive(Default)]
struct Gathered<'a> {
    rows: Vec<RunRow>,
    params: BTreeSet<String>,
    /// The shard that measured each (entry key, repetition).
    runs: BTreeMap<(String, u32), usize>,
    /// The shard that measured each group.
    group_shard: BTreeMap<String, usize>,
    /// The job's groups, as the shards' env.json list them.
    expected: BTreeSet<String>,
    /// Each shard's rows within `rows`.
    spans: Vec<(&'a ShardFile, Range<usize>)>,
}

impl<'a> Gathered<'a> {
    fn of(by_index: &BTreeMap<usize, &'a ShardFile>) -> Result<Gathered<'a>, Error> {
        let mut gathered = Gathered::default();
        for (index, shard) in by_index {
            gathered.add_shard(*index, shard)?;
        }
        Ok(gathered)
    }

    fn add_shard(&mut self, index: usize, shard: &'a ShardFile) -> Result<(), Error> {
        if !shard.path.is_file() {
            return Err(Error::Usage(format!(
                "shard {index} of {} is missing: {} does not exist",
                shard.count,
                shard.path.display()
            )));
        }
        self.expected.extend(planned_groups(&shard.path));
        let table = read_rows(&shard.path)?;
        let rows =
            table.rows().map_err(|error| Error::Usage(format!("{}: {error}", shard.path.display())))?;
        let first_row = self.rows.len();
        for row in rows {
            self.add_row(index, shard, row)?;
        }
        self.spans.push((shard, first_row..self.rows.len()));
        Ok(())
    }

    /// Refuses a row of another job, of a group another shard measured, or
    /// of a run another shard recorded.
    fn add_row(&mut self, index: usize, shard: &ShardFile, row: RunRow) -> Result<(), Error> {
        if row.job != shard.job {
            return Err(Error::Usage(format!(
                "{} holds rows of job \"{}\", not \"{}\"",
                shard.path.display(),
                row.job,
                shard.job
            )));
        }
        let group = row.group_name();
        match self.group_shard.get(&group) {
            Some(other) if *other != index => {
                return Err(Error::Usage(format!(
                    "group \"{group}\" is in shard {other} and in shard {index}; the shards were \
                     planned differently: run them with the same parbench and job file"
                )));
            }
            Some(_) => {}
            None => {
                self.group_shard.insert(group, index);
            }
        }
        let run = (row.entry_key.clone(), row.repetition);
        if let Some(other) = self.runs.insert(run.clone(), index) {
            return Err(Error::Usage(format!(
                "entry {} repetition {} is in shard {other} and in shard {index}; these shards are not of one run",
                run.0, run.1
            )));
        }
        self.params.extend(row.params.keys().cloned());
        self.rows.push(row);
        Ok(())
    }

    /// Refuses a group of the job that no shard measured, and a shard whose
    /// rows fall short of its slice.
    fn check_complete(&self) -> Result<(), Error> {
        let missing: Vec<&String> =
            self.expected.iter().filter(|group| !self.group_shard.contains_key(*group)).collect();
        if let Some(group) = missing.first() {
            let more = match missing.len() {
                1 => String::new(),
                count => format!(" (and {} more groups)", count - 1),
            };
            return Err(Error::Usage(format!(
                "group \"{group}\" is in no shard{more}; the shards were planned differently or a shard's \
                 results were cut: run them with the same parbench and job file"
            )));
        }
        for (shard, span) in &self.spans {
            let slice = crate::report::env::slice_beside(&shard.path);
            let short = shortfalls(slice.as_deref(), &self.rows[span.clone()]);
            if let Some(first) = short.first() {
                return Err(Error::Usage(shortfall_line(shard, first, short.len() - 1)));
            }
        }
        Ok(())
    }
}

/// Writes `OUT/JOB.csv`, its summary and, where a shard has one, its
/// env.json; returns the CSV's path.
fn write_merged(
    job: &str,
    out: &Path,
    gathered: &Gathered,
    shards: &BTreeMap<usize, &ShardFile>,
) -> Result<PathBuf, Error> {
    let params: Vec<String> = gathered.params.iter().cloned().collect();
    let bytes = crate::results::to_csv(&params, &gathered.rows);
    std::fs::create_dir_all(out).map_err(Error::output(out))?;
    let merged = out.join(format!("{job}.csv"));
    write_atomically(&merged, &bytes)?;
    let analysis = crate::analysis::analyze(&gathered.rows).map_err(Error::Usage)?;
    write_atomically(&out.join(format!("{job}.summary.csv")), &crate::report::summary::to_csv(&analysis))?;
    if let Some(env) = merged_env(shards) {
        write_atomically(&out.join(format!("{job}.env.json")), env.to_text().as_bytes())?;
    }
    Ok(merged)
}

/// The merged results' env.json, so that `report --baseline` on merged
/// results checks the machines' conditions as it does for one run's: the
/// first shard's, without its `shard` part, with every shard's host,
/// time and machine checks under `merged_shards` and the other-load
/// totals added up. `None` where no shard has one.
fn merged_env(shards: &BTreeMap<usize, &ShardFile>) -> Option<Env> {
    let envs: Vec<Env> =
        shards.values().filter_map(|shard| crate::report::env::read_beside(&shard.path)).collect();
    let mut merged = envs.first()?.clone();
    merged.shard = None;
    merged.merged_shards = Some(
        envs.iter()
            .map(|env| MergedShard {
                index: env.shard.as_ref().map(|shard| shard.index),
                host: env.host.clone(),
                written_at: env.written_at.clone(),
                machine_checks: env.machine_checks.clone(),
            })
            .collect(),
    );
    merged.other_load = envs.iter().fold(OtherLoad::default(), |total, env| OtherLoad {
        runs: total.runs + env.other_load.runs,
        disturbed_runs: total.disturbed_runs + env.other_load.disturbed_runs,
        foreign_cpu_s: total.foreign_cpu_s + env.other_load.foreign_cpu_s,
        steal_s: total.steal_s + env.other_load.steal_s,
    });
    Some(merged)
}

/// The shards were measured from one version of the job file by one
/// version of parbench: each shard's `env.json`, beside its CSV, says so.
/// Rows of two versions (other parameters, repetitions, workloads) would
/// merge into a file that no job describes.
fn same_version(shards: &BTreeMap<usize, &ShardFile>) -> Result<(), Error> {
    let mut first: Option<(&ShardFile, Env)> = None;
    for shard in shards.values() {
        let Some(env) = crate::report::env::read_beside(&shard.path) else { continue };
        let Some((other, other_env)) = &first else {
            first = Some((shard, env));
            continue;
        };
        let (hash, other_hash) = (&env.job_file_hash, &other_env.job_file_hash);
        let (version, other_version) = (&env.parbench_version, &other_env.parbench_version);
        let differs = if other_hash != hash {
            Some(format!("another version of the job file (job_file_hash {hash}, not {other_hash})"))
        } else if other_version != version {
            Some(format!("another parbench ({version}, not {other_version})"))
        } else {
            None
        };
        if let Some(why) = differs {
            return Err(Error::Usage(format!(
                "{} was measured with {why} than {}; merge the shards of one run",
                shard.path.display(),
                other.path.display()
            )));
        }
    }
    Ok(())
}

/// The job's groups as a shard's `.env.json` lists them; none where the
/// file is absent or not a shard's.
fn planned_groups(csv: &Path) -> Vec<String> {
    crate::report::env::read_beside(csv)
        .and_then(|env| env.shard)
        .map(|shard| shard.groups)
        .unwrap_or_default()
}

/// The runs one entry of a shard's slice lacks.
#[derive(Debug, Clone, PartialEq)]
struct Shortfall {
    label: String,
    repetitions: Repetitions,
    /// The repetitions its rows hold, ascending.
    held: Vec<u32>,
    /// The repetitions the job asks for that no row holds, ascending.
    missing: Vec<u32>,
}

/// The entries of `slice` whose rows lack a repetition the job asks for,
/// in slice order: `Fixed(n)` asks for every one of 1..=n (one above n
/// may stay, from a run with a larger `--repetitions`: a run never deletes
/// what it measured); `Auto` for at least one, numbered from 1 without a
/// gap. Without a slice (no env.json, or one older than its list) only
/// the entries the rows name are known, each judged as `Auto`.
fn shortfalls(slice: Option<&[SliceEntry]>, rows: &[RunRow]) -> Vec<Shortfall> {
    let mut held: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for row in rows.iter().filter(|row| row.repetition > 0) {
        held.entry(row.entry_key.as_str()).or_default().insert(row.repetition);
    }
    let planned: Vec<(String, BTreeSet<u32>, Repetitions)> = match slice {
        Some(slice) => slice
            .iter()
            .map(|entry| {
                let mut reps = held.get(entry.key.as_str()).cloned().unwrap_or_default();
                for former in std::iter::once(&entry.legacy_key).chain(&entry.debug_key) {
                    reps.extend(held.get(former.as_str()).into_iter().flatten());
                }
                (entry.label.clone(), reps, entry.repetitions)
            })
            .collect(),
        None => {
            let mut seen = BTreeSet::new();
            rows.iter()
                .filter(|row| seen.insert(row.entry_key.as_str()))
                .map(|row| {
                    let label = crate::report::words::entry_label(&EntryId::of(row), 1);
                    (label, held.get(row.entry_key.as_str()).cloned().unwrap_or_default(), Repetitions::Auto)
                })
                .collect()
        }
    };
    planned
        .into_iter()
        .filter_map(|(label, reps, repetitions)| {
            let asked = match repetitions {
                Repetitions::Fixed(count) => count,
                Repetitions::Auto => reps.last().copied().unwrap_or(1),
            };
            let missing: Vec<u32> = (1..=asked).filter(|repetition| !reps.contains(repetition)).collect();
            (!missing.is_empty()).then(|| Shortfall {
                label,
                repetitions,
                held: reps.into_iter().collect(),
                missing,
            })
        })
        .collect()
}

/// The first entry short of runs as one line: the shard's file, what its
/// rows hold, what they lack, and how to measure the rest.
fn shortfall_line(shard: &ShardFile, short: &Shortfall, more: usize) -> String {
    let held = match (short.held.as_slice(), short.repetitions) {
        ([], _) => "no rows".to_owned(),
        (held, Repetitions::Fixed(count)) => format!("{} of 1..{count}", repetitions_named(held)),
        (held, Repetitions::Auto) => repetitions_named(held),
    };
    let verb = if short.missing.len() == 1 { "is" } else { "are" };
    let more = match more {
        0 => String::new(),
        1 => " (and 1 more entry lacks runs)".to_owned(),
        more => format!(" (and {more} more entries lack runs)"),
    };
    format!(
        "{}: entry \"{}\" has {held}: {} {verb} missing{more}; rerun that shard with `--resume --shard {}/{}`",
        shard.path.display(),
        short.label,
        repetitions_named(&short.missing),
        shard.index,
        shard.count
    )
}

/// `repetition 3`, `repetitions 1, 2, 4`, `repetitions 1..5, 7`: a run
/// of three or more in a row as its first and last.
fn repetitions_named(numbers: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut start = 0;
    while start < numbers.len() {
        let mut end = start;
        while end + 1 < numbers.len() && numbers[end + 1] == numbers[end] + 1 {
            end += 1;
        }
        if end - start >= 2 {
            parts.push(format!("{}..{}", numbers[start], numbers[end]));
        } else {
            parts.extend(numbers[start..=end].iter().map(u32::to_string));
        }
        start = end + 1;
    }
    let noun = if numbers.len() == 1 { "repetition" } else { "repetitions" };
    format!("{noun} {}", parts.join(", "))
}

/// What `parbench slurm` was asked for.
#[derive(Debug, Clone)]
pub struct SlurmOptions {
    pub shards: usize,
    pub partition: Option<String>,
    pub time: Option<String>,
    pub account: Option<String>,
    pub extra: Vec<String>,
    pub shared: bool,
    pub out: PathBuf,
}

/// The shard count by default: one task per group, at most 64.
pub fn default_shards(plan: &Plan) -> usize {
    plan.groups.len().clamp(1, 64)
}

/// The sbatch script for `job`.
pub fn script(job: &Job, exe: &Path, job_path: &Path, options: &SlurmOptions) -> String {
    let word = |text: &str| shell_word(text);
    let cpus = job
        .workloads
        .iter()
        .flat_map(|workload| workload.workers.iter())
        .filter_map(|count| match count {
            WorkerCount::Fixed(count) => Some(*count),
            WorkerCount::Cpus => None,
        })
        .max()
        .unwrap_or(1);
    let uses_cpus = job.workloads.iter().any(|workload| workload.workers.contains(&WorkerCount::Cpus));
    let out = options.out.display().to_string();
    let n = options.shards;
    let mut text = format!(
        "#!/bin/bash\n\
         # Written by parbench {} for job \"{}\" ({}):\n\
         # an array of {n} tasks, each running one shard of the matrix (whole\n\
         # groups, balanced by cost). Merge them with\n\
         #   parbench merge {}/{}.shard-*-of-{n}.csv\n\
         #SBATCH --job-name=parbench-{}\n\
         #SBATCH --array=0-{}\n\
         #SBATCH --ntasks=1\n\
         #SBATCH --cpus-per-task={cpus}\n\
         #SBATCH --output=\"{}/{}.slurm-%a.out\"\n",
        env!("CARGO_PKG_VERSION"),
        job.name,
        job_path.display(),
        out,
        job.name,
        job.name,
        n - 1,
        out,
        job.name,
    );
    if options.shared {
        text.push_str("# Shared nodes (--shared): a neighbour's load may falsify these timings.\n");
    } else {
        text.push_str(
            "# --exclusive: each task has its node to itself, because a neighbour's load\n\
             # on the same cores falsifies timings. `parbench slurm --shared` drops it.\n\
             #SBATCH --exclusive\n",
        );
    }
    if uses_cpus {
        text.push_str("# Worker counts of \"cpus\" resolve on the node that runs the task.\n");
    }
    for (flag, value) in
        [("partition", &options.partition), ("time", &options.time), ("account", &options.account)]
    {
        if let Some(value) = value {
            text.push_str(&format!("#SBATCH --{flag}={value}\n"));
        }
    }
    for extra in &options.extra {
        text.push_str(&format!("#SBATCH {extra}\n"));
    }
    text.push_str(&format!(
        "\n# A requeued task continues its shard; a new one starts it afresh.\n\
         mode=--fresh\n\
         [ \"${{SLURM_RESTART_COUNT:-0}}\" -gt 0 ] && mode=--resume\n\
         {} run \"$mode\" --shard \"$SLURM_ARRAY_TASK_ID/{n}\" --out {} {}\n\
         status=$?\n\
         echo \"$status\" > {}/{}.shard-\"$SLURM_ARRAY_TASK_ID\"-of-{n}.status\n\
         exit \"$status\"\n",
        word(&exe.display().to_string()),
        word(&out),
        word(&job_path.display().to_string()),
        word(&out),
        word(&job.name),
    ));
    text
}

/// Submits `script_path`; with `wait`, waits for the whole array, with a
/// progress line, and returns the tasks that failed with their logs.
pub fn submit(
    script_path: &Path,
    job: &str,
    options: &SlurmOptions,
    wait: bool,
) -> Result<(String, Vec<(usize, String)>), Error> {
    for index in 0..options.shards {
        let _ = std::fs::remove_file(status_path(&options.out, job, index, options.shards));
    }
    let mut command = Command::new("sbatch");
    command.arg("--parsable");
    if wait {
        command.arg("--wait");
    }
    let mut child = command
        .arg(script_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| Error::Usage(format!("cannot run sbatch: {}", io_reason(&error))))?;
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut first = String::new();
    let _ = stdout.read_line(&mut first);
    let id = first.trim().split(';').next().unwrap_or_default().to_owned();
    if !id.is_empty() {
        eprintln!("submitted array job {id} ({} tasks)", options.shards);
    }
    if wait {
        // sbatch --wait returns when the whole array has ended; meanwhile,
        // the tasks' status files say how far it got.
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let mut last = usize::MAX;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let finished = (0..options.shards)
                        .filter(|index| status_path(&options.out, job, *index, options.shards).exists())
                        .count();
                    if finished != last {
                        eprintln!("{finished} of {} tasks done", options.shards);
                        last = finished;
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            });
            let _ = child.wait();
            done.store(true, std::sync::atomic::Ordering::Relaxed);
        });
    } else {
        let _ = child.wait();
    }
    let mut errors = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut stderr, &mut errors);
    }
    if id.is_empty() {
        return Err(Error::Usage(format!("sbatch did not submit the job: {}", errors.trim())));
    }
    let mut failed = Vec::new();
    if wait {
        for index in 0..options.shards {
            let log = options.out.join(format!("{job}.slurm-{index}.out")).display().to_string();
            match std::fs::read_to_string(status_path(&options.out, job, index, options.shards)) {
                Ok(status) if status.trim() == "0" => {}
                Ok(status) => failed.push((index, format!("exit status {}; log: {log}", status.trim()))),
                Err(_) => failed.push((index, format!("it did not finish; log: {log}"))),
            }
        }
    }
    Ok((id, failed))
}

fn status_path(out: &Path, job: &str, index: usize, count: usize) -> PathBuf {
    out.join(format!("{job}.shard-{index}-of-{count}.status"))
}

#[cfg(test)]
mod tests;
