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
//! 6. chunk sizes in file order (`processes` only).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::jobfile::{Job, ParamValue, WorkloadKind};
use crate::vocab::{ChunkSize, Precision, Repetitions, Strategy, count, format_number};
use crate::workload::python::PythonWork;
use crate::workload::{CommandSpec, Protocol, Work};

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
        if self.strategy != Strategy::Serial {
            label.push_str(&format!(" ×{}", self.workers));
        }
        let chunk = self.chunk_cell();
        if !chunk.is_empty() {
            label.push_str(&format!(" · chunk {chunk}"));
        }
        label
    }

    /// Its chunk size as the CSV's chunk_size cell says it: [`AUTO_CHUNK`],
    /// a number, or nothing where chunks do not apply.
    pub fn chunk_cell(&self) -> String {
        match (self.chunk_auto, self.chunk_size) {
            (true, _) => AUTO_CHUNK.to_owned(),
            (false, Some(size)) => size.to_string(),
            (false, None) => String::new(),
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
    let origin = Origin::of(job);
    let mut entries = Vec::new();
    let mut groups = Vec::new();
    let mut skipped = Vec::new();

    for (workload_index, workload) in job.workloads.iter().enumerate() {
        let is_command = matches!(workload.kind, WorkloadKind::Command { .. });
        let uses_chunks = !matches!(workload.kind, WorkloadKind::Command { protocol: Protocol::Argv, .. });
        if is_command && workload.strategies.contains(&Strategy::Threads) {
            skipped.push(Skipped {
                workload: workload.name.clone(),
                what: "threads".to_owned(),
                reason:
                    "a command runs in its own processes, so a pool of threads inside parbench does not apply"
                        .to_owned(),
            });
        }
        let strategies: Vec<Strategy> = std::iter::once(Strategy::Serial)
            .filter(|serial| workload.strategies.contains(serial))
            .chain(workload.strategies.iter().copied().filter(|s| *s != Strategy::Serial))
            .filter(|strategy| !(is_command && *strategy == Strategy::Threads))
            .collect();

        let mut worker_counts: Vec<usize> = Vec::new();
        for count in &workload.workers {
            let resolved = count.resolve(cpus);
            if worker_counts.contains(&resolved) {
                skipped.push(Skipped {
                    workload: workload.name.clone(),
                    what: format!("workers {count:?}")
                        .replace("Fixed(", "")
                        .replace(')', "")
                        .replace("Cpus", "\"cpus\""),
                    reason: format!("resolves to {resolved} workers on this machine, already measured"),
                });
            } else {
                worker_counts.push(resolved);
            }
        }

        for params in combinations(&workload.param_axes) {
            let varying: Vec<(String, ParamValue)> = params
                .iter()
                .filter(|(name, _)| {
                    workload.param_axes.iter().any(|(axis, values)| axis == name && values.len() > 1)
                })
                .cloned()
                .collect();
            let (work, resolved) = make_work(&workload.kind, &params);
            for &list_size in &job.sizes {
                let group_index = groups.len();
                let first = entries.len();
                for &strategy in &strategies {
                    let counts: &[usize] = if strategy == Strategy::Serial { &[1] } else { &worker_counts };
                    for &workers in counts {
                        let chunks: Vec<Option<ChunkSize>> = if strategy == Strategy::Processes && uses_chunks
                        {
                            workload.chunk_sizes.iter().copied().map(Some).collect()
                        } else {
                            vec![None]
                        };
                        let mut seen_chunks: Vec<(Option<usize>, Option<ChunkSize>)> = Vec::new();
                        for chunk in chunks {
                            // "auto" is not a size but guided chunks, chosen
                            // as the run goes (strategy/chunks.rs).
                            let chunk_size = chunk.and_then(|chunk| match chunk {
                                ChunkSize::Auto => None,
                                ChunkSize::Fixed(size) => Some(size),
                            });
                            if let Some((_, first)) = seen_chunks.iter().find(|(size, _)| *size == chunk_size)
                            {
                                let name = |chunk: Option<ChunkSize>| match (chunk, chunk_size) {
                                    (Some(ChunkSize::Auto), _) => format!("chunk {AUTO_CHUNK}"),
                                    (_, size) => format!("chunk {}", size.unwrap_or_default()),
                                };
                                let duplicate = Skipped {
                                    workload: workload.name.clone(),
                                    what: format!("{strategy} ×{workers} · {}", name(chunk)),
                                    reason: format!(
                                        "the same as {} for {}",
                                        name(*first),
                                        count(list_size as u64, "item", "items")
                                    ),
                                };
                                if !skipped.contains(&duplicate) {
                                    skipped.push(duplicate);
                                }
                                continue;
                            }
                            seen_chunks.push((chunk_size, chunk));
                            let (key, legacy_key) = entry_keys(
                                &origin,
                                &job.generator,
                                &workload.name,
                                &workload.kind,
                                &resolved,
                                list_size,
                                strategy,
                                workers,
                                if chunk == Some(ChunkSize::Auto) {
                                    Chunk::Auto
                                } else {
                                    Chunk::Fixed(chunk_size)
                                },
                            );
                            entries.push(Entry {
                                key,
                                legacy_key,
                                index: entries.len(),
                                group: group_index,
                                workload: workload_index,
                                workload_name: workload.name.clone(),
                                params: resolved.clone(),
                                varying: varying.clone(),
                                generator: job.generator.name(),
                                list_size,
                                strategy,
                                workers,
                                chunk_size,
                                chunk_auto: chunk == Some(ChunkSize::Auto),
                                repetitions: overrides.repetitions.unwrap_or(workload.repetitions),
                                precision: job.precision,
                                warmup: overrides.warmup.unwrap_or(job.warmup),
                                timeout: job.timeout,
                                dir: job.dir.clone(),
                            });
                        }
                    }
                }
                groups.push(Group {
                    index: group_index,
                    workload: workload_index,
                    list_size,
                    work: work.clone(),
                    entries: first..entries.len(),
                });
            }
        }
    }
    Plan { entries, groups, skipped, cpus, origin }
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

/// The chunk size an entry's keys cover: guided "auto", or a fixed size
/// (`None` where chunks do not apply).
enum Chunk {
    Auto,
    Fixed(Option<usize>),
}

/// The entry's key, and its key as parbench 0.1.0 computed it.
#[allow(clippy::too_many_arguments)]
fn entry_keys(
    origin: &Origin,
    generator: &crate::generator::Generator,
    workload: &str,
    kind: &WorkloadKind,
    params: &[(String, ParamValue)],
    list_size: usize,
    strategy: Strategy,
    workers: usize,
    chunk: Chunk,
) -> (String, String) {
    let what = match kind {
        WorkloadKind::Builtin(spec) => format!("builtin {}", spec.name),
        WorkloadKind::Command { argv, protocol, ready, .. } => match ready {
            // Without a ready line the identity stays what it was.
            None => format!("command {argv:?} {protocol:?}"),
            Some(ready) => format!("command {argv:?} {protocol:?} ready {ready:?}"),
        },
        WorkloadKind::Python { file, function, .. } => format!("python {file:?}:{function:?}"),
    };
    let params: Vec<String> = params.iter().map(|(name, value)| format!("{name}={value:?}")).collect();
    let define = |chunk: &str| {
        format!(
            "{workload:?}|{what}|{params:?}|{}|{list_size}|{strategy}|{workers}|{chunk}",
            generator.fingerprint()
        )
    };
    // The key of parbench 0.1.0: the definition alone, "auto" resolved to
    // the fixed size it was then.
    let legacy_chunk = match chunk {
        Chunk::Auto => Some(list_size.div_ceil(workers.max(1) * 64).clamp(1, 8192)),
        Chunk::Fixed(size) => size,
    };
    let legacy =
        crate::vocab::digest(xxhash_rust::xxh3::xxh3_64(define(&format!("{legacy_chunk:?}")).as_bytes()));
    let mut definition = match chunk {
        Chunk::Auto => define(AUTO_CHUNK),
        Chunk::Fixed(size) => define(&format!("{size:?}")),
    };
    let inputs = match kind {
        WorkloadKind::Command { inputs, .. } => format!("{inputs:?}"),
        WorkloadKind::Python { file, .. } => {
            format!("{:?}", origin.python.iter().find(|(name, _)| name == file))
        }
        WorkloadKind::Builtin(_) => String::new(),
    };
    definition.push_str(&format!("|{inputs}|{:?}|{}", origin.job_file, origin.version));
    (crate::vocab::digest(xxhash_rust::xxh3::xxh3_64(definition.as_bytes())), legacy)
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
mod tests {
    use super::*;
    use std::path::Path;

    fn plan(source: &str, cpus: usize) -> Plan {
        let job = crate::jobfile::parse(Path::new("jobs/test.toml"), source).unwrap();
        expand(&job, cpus, Overrides::default())
    }

    fn labels(plan: &Plan) -> Vec<String> {
        plan.entries.iter().map(Entry::label).collect()
    }

    #[test]
    fn expands_in_the_documented_order() {
        let plan = plan(
            r#"
version = 1
[list]
generator = "range"
size = [10, 20]
[run]
strategies = ["processes", "threads", "serial"]
workers = [1, 2]
chunk_size = ["auto", 3]
[[workload]]
name = "w"
builtin = "spin"
params = { iterations = [5, 6] }
"#,
            4,
        );
        let labels = labels(&plan);
        assert_eq!(plan.groups.len(), 4);
        // Per group: serial, processes ×(1,2) × chunks (auto, 3), threads ×(1,2).
        assert_eq!(plan.entries.len(), 4 * 7);
        assert_eq!(
            &labels[..7],
            &[
                "w iterations=5 · 10 items · serial",
                "w iterations=5 · 10 items · processes ×1 · chunk auto:guided",
                "w iterations=5 · 10 items · processes ×1 · chunk 3",
                "w iterations=5 · 10 items · processes ×2 · chunk auto:guided",
                "w iterations=5 · 10 items · processes ×2 · chunk 3",
                "w iterations=5 · 10 items · threads ×1",
                "w iterations=5 · 10 items · threads ×2",
            ]
        );
        assert_eq!(labels[7], "w iterations=5 · 20 items · serial");
        assert_eq!(labels[14], "w iterations=6 · 10 items · serial");
        for (index, group) in plan.groups.iter().enumerate() {
            assert!(plan.entries[group.entries.clone()].iter().all(|entry| entry.group == index));
        }
    }

    #[test]
    fn resolves_cpus_and_measures_a_count_once() {
        let plan = plan(
            r#"
version = 1
[list]
generator = "squares"
size = 20
[run]
strategies = ["threads"]
workers = [1, 2, "cpus"]
[[workload]]
name = "w"
builtin = "price-increase"
"#,
            2,
        );
        assert_eq!(plan.entries.iter().map(|e| e.workers).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(plan.skipped.len(), 1);
        assert!(plan.skipped[0].reason.contains("resolves to 2 workers"), "{:?}", plan.skipped);
        // Builtin defaults are part of the entry's parameters.
        assert_eq!(plan.entries[0].params, vec![("percent".to_owned(), ParamValue::Number(10.0))]);
    }

    #[test]
    fn skips_threads_for_commands_and_chunks_for_argv() {
        let plan = plan(
            r#"
version = 1
[list]
generator = "range"
size = 3
[run]
strategies = ["serial", "threads", "processes"]
workers = [2]
chunk_size = [1, 2]
[[workload]]
name = "echo"
command = ["echo", "{item}"]
"#,
            2,
        );
        assert_eq!(labels(&plan), vec!["echo · 3 items · serial", "echo · 3 items · processes ×2"]);
        assert_eq!(plan.skipped[0].what, "threads");
    }

    #[test]
    fn overrides_replace_repetitions_and_warmup() {
        let job = crate::jobfile::parse(
            Path::new("x.toml"),
            "version = 1\n[list]\ngenerator = \"range\"\nsize = 3\n[run]\nstrategies = [\"serial\"]\n[[workload]]\nname = \"a\"\nbuiltin = \"spin\"\nrepetitions = 9\n",
        )
        .unwrap();
        let plan = expand(&job, 2, Overrides { repetitions: Some(Repetitions::Fixed(2)), warmup: Some(0) });
        assert_eq!((plan.entries[0].repetitions, plan.entries[0].warmup), (Repetitions::Fixed(2), 0));
        let plan = expand(&job, 2, Overrides::default());
        assert_eq!((plan.entries[0].repetitions, plan.entries[0].warmup), (Repetitions::Fixed(9), 1));
        assert_eq!(plan.total_runs(), 10);
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;
    use std::path::Path;

    fn keys(source: &str) -> Vec<(String, String)> {
        let job = crate::jobfile::parse(Path::new("k.toml"), source).unwrap();
        expand(&job, 2, Overrides::default()).entries.iter().map(|e| (e.label(), e.key.clone())).collect()
    }

    #[test]
    fn keys_cover_the_job_files_place_and_the_scripts_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let source = "version = 1\n[list]\ngenerator = \"range\"\nsize = 2\n[run]\nstrategies = [\"serial\"]\n[[workload]]\nname = \"s\"\ncommand = [\"sh\", \"w.sh\", \"{item}\"]\n";
        let script = |folder: &str, text: &str| {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
            std::fs::write(dir.path().join(folder).join("w.sh"), text).unwrap();
        };
        let key = |folder: &str| {
            let job = crate::jobfile::parse(&dir.path().join(folder).join("j.toml"), source).unwrap();
            let entry = &expand(&job, 2, Overrides::default()).entries[0];
            (entry.key.clone(), entry.legacy_key.clone())
        };
        script("a", "echo 1\n");
        script("b", "echo 1\n");
        let (a, legacy) = key("a");
        assert_eq!(key("a").0, a, "the same job, the same key");
        assert_ne!(key("b").0, a, "another folder");
        assert_eq!(key("b").1, legacy, "the key of 0.1.0 knew no folder");
        script("a", "echo 2\n");
        assert_ne!(key("a").0, a, "another script");
    }

    #[test]
    fn keys_survive_reordering_and_ignore_repetitions_but_not_definitions() {
        let base = "version = 1\n[list]\ngenerator = \"range\"\nsize = 5\n[run]\nstrategies = [\"serial\", \"threads\"]\nworkers = 2\n";
        let a = "[[workload]]\nname = \"a\"\nbuiltin = \"spin\"\n";
        let b = "[[workload]]\nname = \"b\"\nbuiltin = \"sleep\"\n";
        let mut first = keys(&format!("{base}{a}{b}"));
        let mut reordered = keys(&format!("{base}repetitions = 9\n{b}{a}"));
        first.sort();
        reordered.sort();
        assert_eq!(first, reordered);
        let changed = keys(&format!("{base}{a}params = {{ iterations = 7 }}\n"));
        assert_ne!(changed[0].1, first.iter().find(|(label, _)| label.starts_with("a ")).unwrap().1);
        let scaled = keys(&format!("{}{a}", base.replace("size = 5", "size = 5\nstep = 2")));
        assert_ne!(scaled[0].1, first.iter().find(|(label, _)| label.starts_with("a ")).unwrap().1);
    }
}
