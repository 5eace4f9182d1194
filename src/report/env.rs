//! `results/NAME.env.json`: the machine and the inputs behind a run, so
//! that numbers from different days and hosts can be told apart.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::jobfile::Job;
use crate::machine::Checks;
use crate::matrix::Entry;
use crate::runner::Host;
use crate::vocab::Repetitions;

/// Everything env.json holds. This struct is the one place its keys are
/// declared: `run` writes it, `merge` writes it for the merged results, and
/// `report --baseline`, `merge` and `--resume` read it back. A key that a
/// later release adds is an `Option` (or `#[serde(default)]`), so that the
/// files of earlier releases still read; keys this one does not know are
/// ignored. A file that is not JSON, or whose values are of other forms
/// than these, reads as none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Env {
    pub host: String,
    pub cpu_model: String,
    pub logical_cpus: usize,
    pub physical_cores: usize,
    /// MemTotal; null where /proc does not say.
    pub memory_bytes: Option<u64>,
    pub os: String,
    /// `Linux 6.1.0`: the system's name and release.
    pub kernel: String,
    pub parbench_version: String,
    pub job: String,
    pub job_file: String,
    pub job_file_hash: String,
    /// Of the repository that holds the job file; null outside one.
    pub git_commit: Option<String>,
    pub python: Vec<PythonInterpreter>,
    pub written_at: String,
    pub order_seed: u64,
    pub pin: String,
    pub pool_start: String,
    pub machine_checks: MachineChecks,
    pub other_load: OtherLoad,
    /// A shard's run only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// Merged results only: each shard's host, time and checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_shards: Option<Vec<MergedShard>>,
}

impl Env {
    /// The env.json of a run of `job` on `host`; `order_seed` orders the
    /// rounds, `checks` is what the machine checks found.
    pub fn of(
        job: &Job,
        host: &Host,
        shard: Option<&ShardInfo>,
        order_seed: u64,
        checks: &Checks,
        other_load: &OtherLoad,
    ) -> Env {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        Env {
            host: host.name.clone(),
            cpu_model: cpu_model(&cpuinfo),
            logical_cpus: host.cpus,
            physical_cores: physical_cores(&cpuinfo).unwrap_or(host.cpus),
            memory_bytes: memory_bytes(),
            os: os_name(),
            kernel: kernel(),
            parbench_version: env!("CARGO_PKG_VERSION").to_owned(),
            job: job.name.clone(),
            job_file: job.path.display().to_string(),
            job_file_hash: job.source_hash.clone(),
            git_commit: git_commit(&job.dir),
            python: python_interpreters(job),
            written_at: super::timestamp(std::time::SystemTime::now()),
            order_seed,
            pin: job.pin.name().to_owned(),
            pool_start: job.pool_start.name().to_owned(),
            machine_checks: MachineChecks::of(checks),
            other_load: *other_load,
            shard: shard.cloned(),
            merged_shards: None,
        }
    }

    /// The file's text: pretty JSON, its keys sorted as every release has
    /// written them (a `serde_json::Value`'s object keeps its keys sorted;
    /// the struct would write them in field order).
    pub fn to_text(&self) -> String {
        let value = serde_json::to_value(self).expect("env.json's fields serialise");
        let mut text = serde_json::to_string_pretty(&value).expect("a JSON value serialises");
        text.push('\n');
        text
    }

    /// The env.json at `path`, where it is there and readable.
    pub fn read(path: &Path) -> Option<Env> {
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// `machine_checks`: what the checks found before the first run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineChecks {
    /// The CPUs' frequency governors, each once.
    #[serde(rename = "governor")]
    pub governors: Vec<String>,
    /// Null where it cannot be read.
    pub turbo: Option<bool>,
    /// The 1-minute load average at the start.
    pub load_average: Option<f64>,
    pub debug_build: bool,
    /// The findings that make timings less trustworthy.
    pub warnings: Vec<String>,
}

impl MachineChecks {
    pub fn of(checks: &Checks) -> MachineChecks {
        MachineChecks {
            governors: checks.governors.clone(),
            turbo: checks.turbo,
            load_average: checks.load_average,
            debug_build: checks.debug_build,
            warnings: checks.warnings(),
        }
    }
}

/// One element of `python`: an interpreter as it described itself when
/// the job was checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PythonInterpreter {
    /// As the job names it (`param_interpreter`).
    pub interpreter: String,
    /// The program that ran.
    pub path: String,
    pub implementation: String,
    pub version: String,
    pub gil: Gil,
}

/// Whether an interpreter's GIL was on before any module was imported.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gil {
    Enabled,
    Disabled,
}

/// One element of a merged env.json's `merged_shards`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergedShard {
    /// Null where the shard's env.json had no `shard`.
    pub index: Option<usize>,
    pub host: String,
    pub written_at: String,
    pub machine_checks: MachineChecks,
}

/// Which shard a run was; every group of the whole job (by
/// [`super::csv::group_names`]), so that `merge` can tell a group that no
/// shard measured; and every entry of the shard's own slice, so that it
/// can tell a shard whose rows fall short of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub index: usize,
    pub count: usize,
    pub groups: Vec<String>,
    #[serde(rename = "entries")]
    pub slice: Vec<SliceEntry>,
}

/// An entry of a shard's slice, as env.json lists it under
/// `shard.entries`: the keys its rows carry, its name, and the
/// repetitions it was planned with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceEntry {
    #[serde(rename = "entry_key")]
    pub key: String,
    /// Rows a resumed run kept from parbench 0.1.0 carry this one.
    pub legacy_key: String,
    /// Rows of 0.1.x whose key text `Debug` quoted otherwise carry this one
    /// (see `Entry::former_keys`); absent where there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_key: Option<String>,
    pub label: String,
    /// A number, or `"auto"`.
    #[serde(with = "repetitions_form")]
    pub repetitions: Repetitions,
}

impl SliceEntry {
    pub fn of(entry: &Entry) -> SliceEntry {
        SliceEntry {
            key: entry.key.clone(),
            legacy_key: entry.legacy_key.clone(),
            debug_key: entry.debug_key.clone(),
            label: super::csv::entry_label(entry),
            repetitions: entry.repetitions,
        }
    }
}

/// [`Repetitions`] as env.json writes it: the count, or `"auto"`.
mod repetitions_form {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::vocab::Repetitions;

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Form {
        Fixed(u32),
        Word(String),
    }

    pub fn serialize<S: Serializer>(repetitions: &Repetitions, serializer: S) -> Result<S::Ok, S::Error> {
        match repetitions {
            Repetitions::Fixed(count) => Form::Fixed(*count),
            Repetitions::Auto => Form::Word("auto".to_owned()),
        }
        .serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Repetitions, D::Error> {
        match Form::deserialize(deserializer)? {
            Form::Fixed(count) => Ok(Repetitions::Fixed(count)),
            Form::Word(word) if word == "auto" => Ok(Repetitions::Auto),
            Form::Word(word) => {
                Err(serde::de::Error::custom(format!("repetitions {word:?}: expected a number or \"auto\"")))
            }
        }
    }
}

/// The slice a shard's env.json, beside its CSV, lists; `None` where the
/// file is absent, unreadable or not a shard's.
pub fn slice_beside(csv: &Path) -> Option<Vec<SliceEntry>> {
    Some(read_beside(csv)?.shard?.slice)
}

/// What other load did during a job's measured runs, for env.json.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct OtherLoad {
    /// Measured runs with the machine's counters read around them.
    pub runs: usize,
    /// Of those, the runs other load disturbed.
    pub disturbed_runs: usize,
    /// CPU seconds the rest of the machine used during those runs.
    pub foreign_cpu_s: f64,
    pub steal_s: f64,
}

impl OtherLoad {
    /// The totals of the runs that carry evidence.
    pub fn of(totals: &crate::runner::Totals) -> OtherLoad {
        OtherLoad {
            runs: totals.judged,
            disturbed_runs: totals.disturbed,
            foreign_cpu_s: totals.foreign_cpu_s,
            steal_s: totals.steal_s,
        }
    }
}

/// Where a result file's env.json lies: beside it, `NAME.env.json` for
/// `NAME.csv` and for its `NAME.summary.csv` alike.
pub fn beside(csv: &Path) -> PathBuf {
    let name = csv.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".summary.csv").or_else(|| name.strip_suffix(".csv")).unwrap_or(&name);
    csv.with_file_name(format!("{stem}.env.json"))
}

/// The env.json beside a result file, where it is there and readable.
pub fn read_beside(csv: &Path) -> Option<Env> {
    Env::read(&beside(csv))
}

/// Each Python interpreter of the job's `python` workloads, once, as it
/// described itself when the job was checked (before any module was
/// imported; the per-run `python_gil` column says whether the GIL was on
/// during each run).
fn python_interpreters(job: &Job) -> Vec<PythonInterpreter> {
    let mut seen = Vec::new();
    for workload in &job.workloads {
        if let crate::jobfile::WorkloadKind::Python { interpreters, .. } = &workload.kind {
            for interpreter in interpreters {
                let described = PythonInterpreter {
                    interpreter: interpreter.name.clone(),
                    path: interpreter.path.display().to_string(),
                    implementation: interpreter.facts.implementation.clone(),
                    version: interpreter.facts.version.clone(),
                    gil: if interpreter.facts.gil { Gil::Enabled } else { Gil::Disabled },
                };
                if !seen.contains(&described) {
                    seen.push(described);
                }
            }
        }
    }
    seen
}

fn cpu_model(cpuinfo: &str) -> String {
    cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name").and_then(|rest| rest.split_once(':')))
        .map(|(_, model)| model.trim().to_owned())
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned())
}

/// Distinct (physical id, core id) pairs; `None` where cpuinfo lacks them.
fn physical_cores(cpuinfo: &str) -> Option<usize> {
    let mut cores = std::collections::BTreeSet::new();
    let mut package = None;
    for line in cpuinfo.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        match key.trim() {
            "physical id" => package = Some(value.trim().to_owned()),
            "core id" => {
                cores.insert((package.clone(), value.trim().to_owned()));
            }
            _ => {}
        }
    }
    (!cores.is_empty()).then_some(cores.len())
}

/// The machine's memory (MemTotal), when /proc says.
pub fn memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|line| line.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn os_name() -> String {
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    release
        .lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map(|name| name.trim_matches('"').to_owned())
        .unwrap_or_else(|| std::env::consts::OS.to_owned())
}

fn kernel() -> String {
    match nix::sys::utsname::uname() {
        Ok(name) => format!("{} {}", name.sysname().to_string_lossy(), name.release().to_string_lossy()),
        Err(_) => String::new(),
    }
}

/// The commit of the repository that holds the job file, if it is in one.
fn git_commit(dir: &std::path::Path) -> Option<String> {
    let output = Command::new("git").arg("-C").arg(dir).args(["rev-parse", "HEAD"]).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cores_not_hyperthreads() {
        let cpuinfo = "processor: 0\nphysical id: 0\ncore id: 0\n\nprocessor: 1\nphysical id: 0\ncore id: 0\n\n\
                       processor: 2\nphysical id: 0\ncore id: 1\n\nprocessor: 3\nphysical id: 1\ncore id: 0\n";
        assert_eq!(physical_cores(cpuinfo), Some(3));
        assert_eq!(physical_cores("processor: 0\n"), None);
        assert_eq!(cpu_model("model name\t: AMD EPYC\n"), "AMD EPYC");
    }

    fn fixture(name: &str) -> (PathBuf, String) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/env-0.1").join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        (path, text)
    }

    fn checks(load_average: f64) -> MachineChecks {
        MachineChecks {
            governors: Vec::new(),
            turbo: None,
            load_average: Some(load_average),
            debug_build: false,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn an_env_json_of_parbench_0_1_reads_with_its_values() {
        let (path, _) = fixture("tiny.env.json");
        let env = Env::read(&path).expect("0.1.0's env.json reads");
        let expected = Env {
            host: "bench-host".to_owned(),
            cpu_model: "AMD EPYC".to_owned(),
            logical_cpus: 2,
            physical_cores: 2,
            memory_bytes: Some(25_276_194_816),
            os: "Debian GNU/Linux 12 (bookworm)".to_owned(),
            kernel: "Linux 6.1.0".to_owned(),
            parbench_version: "0.1.0".to_owned(),
            job: "tiny".to_owned(),
            job_file: "tiny.toml".to_owned(),
            job_file_hash: "5d5391dc9d74f04b".to_owned(),
            git_commit: None,
            python: Vec::new(),
            written_at: "2026-12-05T04:38:55.626313Z".to_owned(),
            order_seed: 2_484_252_939_265_704,
            pin: "cores".to_owned(),
            pool_start: "timed".to_owned(),
            machine_checks: checks(0.45),
            other_load: OtherLoad { runs: 2, disturbed_runs: 0, foreign_cpu_s: 0.0, steal_s: 0.0 },
            shard: None,
            merged_shards: None,
        };
        assert_eq!(env, expected);
    }

    #[test]
    fn a_shard_env_json_of_parbench_0_1_reads_with_its_slice() {
        let (path, _) = fixture("tiny.shard-1-of-2.env.json");
        let env = Env::read(&path).expect("0.1.0's shard env.json reads");
        let shard = env.shard.expect("a shard's env.json has `shard`");
        assert_eq!((shard.index, shard.count), (1, 2));
        assert_eq!(
            shard.groups,
            ["spin · range 10 items · iterations=1000", "spin2 · range 10 items · iterations=2000"]
        );
        assert_eq!(
            shard.slice,
            [SliceEntry {
                key: "x5a531b77b7496839".to_owned(),
                legacy_key: "xe0f0c9589d3c2a8d".to_owned(),
                debug_key: None,
                label: "spin2 · range 10 items · iterations=2000 · serial".to_owned(),
                repetitions: Repetitions::Fixed(2),
            }]
        );
        assert_eq!(env.machine_checks, checks(0.41));
        assert_eq!(env.job_file_hash, "b2b2b40a08d9ba0c");
    }

    #[test]
    fn files_of_parbench_0_1_are_written_again_byte_for_byte() {
        for name in ["tiny.env.json", "tiny.shard-1-of-2.env.json"] {
            let (path, text) = fixture(name);
            assert_eq!(Env::read(&path).unwrap().to_text(), text, "{name}");
        }
    }

    #[test]
    fn every_field_survives_a_write_and_a_read() {
        let (path, _) = fixture("tiny.shard-1-of-2.env.json");
        let mut env = Env::read(&path).unwrap();
        env.git_commit = Some("0123abcd".to_owned());
        env.memory_bytes = None;
        env.python = vec![PythonInterpreter {
            interpreter: "python3.13t".to_owned(),
            path: "/usr/bin/python3.13t".to_owned(),
            implementation: "CPython".to_owned(),
            version: "3.13.1".to_owned(),
            gil: Gil::Disabled,
        }];
        env.machine_checks.turbo = Some(true);
        env.machine_checks.governors = vec!["powersave".to_owned()];
        env.machine_checks.warnings = vec!["turbo is on".to_owned()];
        let shard = env.shard.as_mut().unwrap();
        shard.slice.push(SliceEntry { repetitions: Repetitions::Auto, ..shard.slice[0].clone() });
        env.merged_shards = Some(vec![MergedShard {
            index: Some(1),
            host: "node-1".to_owned(),
            written_at: env.written_at.clone(),
            machine_checks: checks(0.5),
        }]);
        let text = env.to_text();
        assert!(text.contains("\"repetitions\": \"auto\""), "{text}");
        assert!(text.contains("\"gil\": \"disabled\""), "{text}");
        assert_eq!(serde_json::from_str::<Env>(&text).unwrap(), env);
    }

    #[test]
    fn unknown_keys_are_ignored_and_a_file_of_another_form_reads_as_none() {
        let (_, text) = fixture("tiny.env.json");
        let later = text.replacen('{', "{\n  \"a_later_key\": [1, 2],", 1);
        assert_eq!(serde_json::from_str::<Env>(&later).unwrap(), serde_json::from_str::<Env>(&text).unwrap());
        assert!(serde_json::from_str::<Env>("[1, 2]").is_err());
        let bad_pin = text.replace("\"pin\": \"cores\"", "\"pin\": 7");
        assert!(serde_json::from_str::<Env>(&bad_pin).is_err());
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("tiny.csv");
        assert_eq!(read_beside(&csv), None, "no env.json");
        std::fs::write(beside(&csv), "{ truncated").unwrap();
        assert_eq!(read_beside(&csv), None, "not JSON");
        std::fs::write(beside(&csv), text.replace("2484252939265704", "\"auto\"")).unwrap();
        assert_eq!(read_beside(&csv), None, "a value of another form");
    }

    #[test]
    fn repetitions_other_than_a_count_or_auto_do_not_read() {
        let (_, text) = fixture("tiny.shard-1-of-2.env.json");
        for (form, reads) in [("\"auto\"", true), ("5", true), ("\"many\"", false), ("-1", false)] {
            let changed = text.replace("\"repetitions\": 2", &format!("\"repetitions\": {form}"));
            assert_eq!(serde_json::from_str::<Env>(&changed).is_ok(), reads, "{form}");
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_kernel_is_named_by_the_system_and_its_release() {
        let kernel = kernel();
        let release = kernel.strip_prefix("Linux ").unwrap_or_else(|| panic!("{kernel:?}"));
        assert!(release.starts_with(|c: char| c.is_ascii_digit()), "{kernel:?}");
    }

    #[test]
    fn a_result_file_and_its_summary_share_one_env_json() {
        for csv in ["results/seed.csv", "results/seed.summary.csv"] {
            assert_eq!(beside(Path::new(csv)), Path::new("results/seed.env.json"));
        }
        let shard = Path::new("out/seed.shard-1-of-2.csv");
        assert_eq!(beside(shard), Path::new("out/seed.shard-1-of-2.env.json"));
    }
}
