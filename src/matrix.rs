//! A job expanded into the entries that run and the groups that compare them.
//!
//! The order is part of the contract, because it is the order of the CSV rows
//! and of the table:
//!
//! 1. workloads in file order;
//! 2. parameter combinations: axes sorted by name, the last name varying
//!    fastest, values in file order;
//! 3. list sizes in file order;
//! 4. strategies: `serial` first (it is the reference every other result in
//!    the group is checked against), then the others in file order;
//! 5. worker counts in file order (after `"cpus"` is resolved; a count that
//!    resolves to one already listed is measured once);
//! 6. chunk sizes in file order, where the strategy's descriptor takes
//!    them (`processes`, except for `argv` commands).
//!
//! Which strategy runs which workload, and which take worker counts and
//! chunk sizes, is the strategy's [`crate::vocab::Descriptor`]'s to say.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::jobfile::{Job, ParamValue, Workload, WorkloadKind};
use crate::vocab::{ChunkSize, Chunking, Precision, Repetitions, Strategy, count, format_number};
use crate::workload::python::PythonWork;
use crate::workload::{CommandSpec, Work};

mod key;

/// How `chunk_size = "auto"` (guided chunks) reads in the CSV's chunk_size
/// cell, in labels and in an entry's key.
pub const AUTO_CHUNK: &str = "auto:guided";

/// One combination that runs `warmup + repetitions` times (with `"auto"`,
/// as many times as its precision needs).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// A digest of everything that decides what this entry measures, so that
    /// a resumed run recognises its rows even when the job file was
    /// reordered or grew; repetitions, warm-up and timeout are not part of it.
    pub key: String,
    /// The key as parbench 0.1.0 computed it, from the definition alone:
    /// rows written then carry it, and still resume (see `resume`).
    pub legacy_key: String,
    /// The key as parbench 0.1.x computed it where that differs from `key`:
    /// only for a string with a character std's `Debug` escaped (see
    /// `matrix/key.rs`).
    pub debug_key: Option<String>,
    pub index: usize,
    pub group: usize,
    pub workload: usize,
    pub workload_name: String,
    /// Every parameter of the workload with its value here, defaults
    /// included for builtins, sorted by name.
    pub params: Vec<(String, ParamValue)>,
    /// Only the parameters that vary in this job, for labels.
    pub varying: Vec<(String, ParamValue)>,
    pub generator: &'static str,
    pub list_size: usize,
    pub strategy: Strategy,
    pub workers: usize,
    /// Items per dispatch, as resolved; `None` where chunks do not apply.
    pub chunk_size: Option<usize>,
    pub chunk_auto: bool,
    pub repetitions: Repetitions,
    /// When `"auto"` repetitions stop.
    pub precision: Precision,
    pub warmup: u32,
    pub timeout: Option<Duration>,
    dir: PathBuf,
}

impl Entry {
    /// The keys rows written by earlier releases carry for this entry.
    pub fn former_keys(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.legacy_key.as_str()).chain(self.debug_key.as_deref())
    }

    /// Where command workloads run: the job file's folder.
    pub fn cwd(&self) -> &std::path::Path {
        &self.dir
    }

    pub fn runs(&self) -> u64 {
        u64::from(self.warmup) + u64::from(self.expected_repetitions())
    }

    /// Measured runs as planned: the fixed count, or for `"auto"` the
    /// `min_repetitions` it aims for (it may stop sooner at `max_time`, or
    /// go on until the precision is reached).
    pub fn expected_repetitions(&self) -> u32 {
        match self.repetitions {
            Repetitions::Fixed(count) => count,
            Repetitions::Auto => self.precision.min_repetitions,
        }
    }

    /// A short human name: `crazy iterations=100 · 20 items · processes ×2 · chunk 4`.
    pub fn label(&self) -> String {
        let mut label = self.workload_name.clone();
        for (name, value) in &self.varying {
            label.push_str(&format!(" {name}={value}"));
        }
        label.push_str(&format!(" · {} · {}", count(self.list_size as u64, "item", "items"), self.strategy));
        if self.strategy.takes_workers() {
            label.push_str(&format!(" ×{}", self.workers));
        }
        let chunk = self.chunking().label();
        if !chunk.is_empty() {
            label.push_str(&format!(" · chunk {chunk}"));
        }
        label
    }

    /// How it hands out its items, as its rows say it.
    pub fn chunking(&self) -> Chunking {
        match (self.chunk_auto, self.chunk_size) {
            (true, _) => Chunking::Guided,
            (false, Some(size)) => Chunking::Fixed(size),
            (false, None) => Chunking::None,
        }
    }
}

/// The entries that share one workload, one parameter set and one list.
#[derive(Debug, Clone)]
pub struct Group {
    pub index: usize,
    pub workload: usize,
    pub list_size: usize,
    pub work: Work,
    pub entries: std::ops::Range<usize>,
}

/// A combination left out of the matrix, with the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub workload: String,
    pub what: String,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub entries: Vec<Entry>,
    pub groups: Vec<Group>,
    pub skipped: Vec<Skipped>,
    pub cpus: usize,
    pub origin: Origin,
}

/// What, besides each entry's definition, its key covers: where the job
/// file is, which parbench measures, and the files its commands name. Rows
/// of another origin are another job's, even under the same name.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The job file, as an absolute path where it can be resolved.
    pub job_file: String,
    pub version: String,
    /// Files the commands name (program, scripts) and Python workloads'
    /// files, as written in the job.
    pub inputs: Vec<String>,
    /// The digest of each Python workload's file, by its name in the job.
    python: Vec<(String, String)>,
}

impl Origin {
    fn of(job: &Job) -> Origin {
        let job_file = std::fs::canonicalize(&job.path).unwrap_or_else(|_| job.path.clone());
        let mut inputs: Vec<String> = job
            .workloads
            .iter()
            .flat_map(|workload| match &workload.kind {
                WorkloadKind::Command { inputs, .. } => inputs.iter().map(|(name, _)| name.clone()).collect(),
                WorkloadKind::Builtin(_) | WorkloadKind::Python { .. } => Vec::new(),
            })
            .collect();
        let python: Vec<(String, String)> = job
            .workloads
            .iter()
            .filter_map(|workload| match &workload.kind {
                WorkloadKind::Python { file, .. } => {
                    let digest = std::fs::read(job.dir.join(file))
                        .map(|bytes| format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes)))
                        .unwrap_or_default();
                    Some((file.clone(), digest))
                }
                _ => None,
            })
            .collect();
        inputs.extend(python.iter().map(|(file, _)| file.clone()));
        inputs.sort();
        inputs.dedup();
        Origin {
            job_file: job_file.display().to_string(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            inputs,
            python,
        }
    }
}

impl Plan {
    pub fn total_runs(&self) -> u64 {
        self.entries.iter().map(Entry::runs).sum()
    }

    pub fn measured_runs(&self) -> u64 {
        self.entries.iter().map(|entry| u64::from(entry.expected_repetitions())).sum()
    }
}

/// Overrides from the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    pub repetitions: Option<Repetitions>,
    pub warmup: Option<u32>,
}

/// Expands a job for a machine with `cpus` logical CPUs.
pub fn expand(job: &Job, cpus: usize, overrides: Overrides) -> Plan {
    expand_from(job, cpus, overrides, Origin::of(job))
}

/// [`expand`] with the origin given, so that a test can pin keys wherever
/// the repository is.
fn expand_from(job: &Job, cpus: usize, overrides: Overrides, origin: Origin) -> Plan {
    let mut plan = Plan { entries: Vec::new(), groups: Vec::new(), skipped: Vec::new(), cpus, origin };
    for (index, workload) in job.workloads.iter().enumerate() {
        expand_workload(&mut plan, &Expansion { job, overrides, index, workload });
    }
    plan
}

/// What every entry of one workload shares.
struct Expansion<'a> {
    job: &'a Job,
    overrides: Overrides,
    /// The workload's place in the job.
    index: usize,
    workload: &'a Workload,
}

impl Expansion<'_> {
    fn skip(&self, what: String, reason: String) -> Skipped {
        Skipped { workload: self.workload.name.clone(), what, reason }
    }
}

/// One group: a workload with one parameter combination and one list size.
struct GroupOf<'a> {
    index: usize,
    params: &'a [(String, ParamValue)],
    varying: &'a [(String, ParamValue)],
    list_size: usize,
}

/// Adds one workload's groups and entries, and what it leaves out, to `plan`.
fn expand_workload(plan: &mut Plan, expansion: &Expansion<'_>) {
    let workload = expansion.workload;
    let strategies = strategies(expansion, &mut plan.skipped);
    let worker_counts = worker_counts(expansion, plan.cpus, &mut plan.skipped);
    // Each strategy with each of its worker counts, in the documented order.
    let spreads: Vec<(Strategy, usize)> = strategies
        .iter()
        .flat_map(|&strategy| {
            let counts = if strategy.takes_workers() { worker_counts.clone() } else { vec![1] };
            counts.into_iter().map(move |workers| (strategy, workers))
        })
        .collect();
    for params in combinations(&workload.param_axes) {
        let varying: Vec<(String, ParamValue)> = params
            .iter()
            .filter(|(name, _)| {
                workload.param_axes.iter().any(|(axis, values)| axis == name && values.len() > 1)
            })
            .cloned()
            .collect();
        let (work, resolved) = make_work(&workload.kind, &params);
        for &list_size in &expansion.job.sizes {
            let group = GroupOf { index: plan.groups.len(), params: &resolved, varying: &varying, list_size };
            let first = plan.entries.len();
            for &(strategy, workers) in &spreads {
                push_chunks(plan, expansion, &group, strategy, workers);
            }
            plan.groups.push(Group {
                index: group.index,
                workload: expansion.index,
                list_size,
                work: work.clone(),
                entries: first..plan.entries.len(),
            });
        }
    }
}

/// The workload's strategies that run it, `serial` first (the reference);
/// the others are skipped with the reason their descriptor gives.
fn strategies(expansion: &Expansion<'_>, skipped: &mut Vec<Skipped>) -> Vec<Strategy> {
    let workload = expansion.workload;
    let kind = workload.kind.work_kind();
    for strategy in &workload.strategies {
        if let Some(reason) = strategy.refusal(kind) {
            skipped.push(expansion.skip(strategy.to_string(), reason.to_owned()));
        }
    }
    let serial = std::iter::once(Strategy::Serial).filter(|serial| workload.strategies.contains(serial));
    let others = workload.strategies.iter().copied().filter(|strategy| *strategy != Strategy::Serial);
    serial.chain(others).filter(|strategy| strategy.refusal(kind).is_none()).collect()
}

/// The worker counts as resolved on this machine, each once; a count that
/// resolves to one already listed is skipped.
fn worker_counts(expansion: &Expansion<'_>, cpus: usize, skipped: &mut Vec<Skipped>) -> Vec<usize> {
    let mut counts: Vec<usize> = Vec::new();
    for count in &expansion.workload.workers {
        let resolved = count.resolve(cpus);
        if counts.contains(&resolved) {
            let reason = format!("resolves to {resolved} workers on this machine, already measured");
            skipped.push(expansion.skip(format!("workers {count}"), reason));
        } else {
            counts.push(resolved);
        }
    }
    counts
}

/// Adds the entries of one strategy and worker count: one per chunk size
/// where the strategy takes them, else one; a chunk size the same as one
/// already added is skipped.
fn push_chunks(
    plan: &mut Plan,
    expansion: &Expansion<'_>,
    group: &GroupOf<'_>,
    strategy: Strategy,
    workers: usize,
) {
    let workload = expansion.workload;
    let chunks: Vec<Option<ChunkSize>> = if strategy.takes_chunks(workload.kind.work_kind()) {
        workload.chunk_sizes.iter().copied().map(Some).collect()
    } else {
        vec![None]
    };
    let mut added: Vec<Option<ChunkSize>> = Vec::new();
    for chunk in chunks {
        if let Some(first) = added.iter().find(|earlier| fixed_size(**earlier) == fixed_size(chunk)) {
            let duplicate = expansion.skip(
                format!("{strategy} ×{workers} · chunk {}", chunk_label(chunk)),
                format!(
                    "the same as chunk {} for {}",
                    chunk_label(*first),
                    count(group.list_size as u64, "item", "items")
                ),
            );
            if !plan.skipped.contains(&duplicate) {
                plan.skipped.push(duplicate);
            }
            continue;
        }
        added.push(chunk);
        let entry = entry(expansion, group, plan.entries.len(), &plan.origin, strategy, workers, chunk);
        plan.entries.push(entry);
    }
}

/// A fixed chunk size; `None` for guided "auto" and where chunks do not
/// apply ("auto" is not a size but chunks chosen as the run goes, see
/// strategy/chunks.rs).
fn fixed_size(chunk: Option<ChunkSize>) -> Option<usize> {
    match chunk {
        Some(ChunkSize::Fixed(size)) => Some(size),
        Some(ChunkSize::Auto) | None => None,
    }
}

/// A chunk size as labels and skipped entries name it.
fn chunk_label(chunk: Option<ChunkSize>) -> String {
    match chunk {
        Some(ChunkSize::Auto) => AUTO_CHUNK.to_owned(),
        Some(ChunkSize::Fixed(size)) => size.to_string(),
        None => "0".to_owned(),
    }
}

fn entry(
    expansion: &Expansion<'_>,
    group: &GroupOf<'_>,
    index: usize,
    origin: &Origin,
    strategy: Strategy,
    workers: usize,
    chunk: Option<ChunkSize>,
) -> Entry {
    let (job, workload) = (expansion.job, expansion.workload);
    let chunk_auto = chunk == Some(ChunkSize::Auto);
    let chunk_size = fixed_size(chunk);
    let definition = key::Definition {
        workload: &workload.name,
        kind: &workload.kind,
        generator: &job.generator,
        params: group.params,
        list_size: group.list_size,
        strategy,
        workers,
        chunk: if chunk_auto { key::Chunk::Auto } else { key::Chunk::Fixed(chunk_size) },
        pool_start: job.pool_start,
    };
    let keys = key::keys(&definition, origin);
    Entry {
        key: keys.key,
        legacy_key: keys.legacy,
        debug_key: keys.debug,
        index,
        group: group.index,
        workload: expansion.index,
        workload_name: workload.name.clone(),
        params: group.params.to_vec(),
        varying: group.varying.to_vec(),
        generator: job.generator.name(),
        list_size: group.list_size,
        strategy,
        workers,
        chunk_size,
        chunk_auto,
        repetitions: expansion.overrides.repetitions.unwrap_or(workload.repetitions),
        precision: job.precision,
        warmup: expansion.overrides.warmup.unwrap_or(job.warmup),
        timeout: job.timeout,
        dir: job.dir.clone(),
    }
}

/// Every combination of the parameter axes; the last axis varies fastest.
fn combinations(axes: &[(String, Vec<ParamValue>)]) -> Vec<Vec<(String, ParamValue)>> {
    let mut combos: Vec<Vec<(String, ParamValue)>> = vec![Vec::new()];
    for (name, values) in axes {
        combos = combos
            .into_iter()
            .flat_map(|combo| {
                values.iter().map(move |value| {
                    let mut next = combo.clone();
                    next.push((name.clone(), value.clone()));
                    next
                })
            })
            .collect();
    }
    combos
}

/// The runnable work for one parameter combination, and the full parameter
/// list it runs with (defaults included).
fn make_work(kind: &WorkloadKind, params: &[(String, ParamValue)]) -> (Work, Vec<(String, ParamValue)>) {
    match kind {
        WorkloadKind::Builtin(spec) => {
            let given: BTreeMap<String, f64> = params
                .iter()
                .filter_map(|(name, value)| match value {
                    ParamValue::Number(number) => Some((name.clone(), *number)),
                    ParamValue::Text(_) => None,
                })
                .collect();
            let resolved = spec.resolve(&given);
            let listed =
                resolved.iter().map(|(name, value)| (name.clone(), ParamValue::Number(*value))).collect();
            (Work::Builtin { spec, params: resolved }, listed)
        }
        WorkloadKind::Command { argv, protocol, ready, .. } => {
            let texts: BTreeMap<String, String> =
                params.iter().map(|(name, value)| (name.clone(), value.to_string())).collect();
            let spec = CommandSpec::new(argv, &texts, *protocol).with_ready(ready.clone());
            (Work::Command(spec), params.to_vec())
        }
        WorkloadKind::Python { file, function, interpreters } => {
            let text =
                |key: &str| params.iter().find(|(name, _)| name == key).map(|(_, value)| value.to_string());
            let interpreter = text("interpreter")
                .and_then(|name| interpreters.iter().find(|known| known.name == name))
                .or(interpreters.first())
                .map(|known| known.path.clone())
                .unwrap_or_else(|| "python3".into());
            let work = PythonWork {
                file: file.clone(),
                function: function.clone(),
                interpreter,
                start_method: text("start_method"),
            };
            (Work::Python(work), params.to_vec())
        }
    }
}

/// Parameter values as they appear in a CSV cell.
/// A whole number past 2^53 keeps a decimal point (`1e300` as its digits
/// and `.0`): pandas reads a 301-digit integer as text, a decimal as the
/// float it is, and spreadsheets read either as a number.
pub fn param_cell(value: &ParamValue) -> String {
    match value {
        ParamValue::Number(number) if number.fract() == 0.0 && number.abs() >= 9.007_199_254_740_992e15 => {
            format!("{number:.1}")
        }
        ParamValue::Number(number) => format_number(*number),
        ParamValue::Text(text) => text.clone(),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod key_tests;
