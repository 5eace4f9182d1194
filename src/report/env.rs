//! `results/NAME.env.json`: the machine and the inputs behind a run, so
//! that numbers from different days and hosts can be told apart.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::jobfile::Job;
use crate::machine::Checks;
use crate::matrix::Entry;
use crate::runner::Host;
use crate::vocab::Repetitions;

/// Which shard a run was; every group of the whole job (by
/// [`super::csv::group_names`]), so that `merge` can tell a group that no
/// shard measured; and every entry of the shard's own slice, so that it
/// can tell a shard whose rows fall short of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardInfo {
    pub index: usize,
    pub count: usize,
    pub groups: Vec<String>,
    pub slice: Vec<SliceEntry>,
}

/// An entry of a shard's slice, as env.json lists it under
/// `shard.entries`: the keys its rows carry, its name, and the
/// repetitions it was planned with.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceEntry {
    pub key: String,
    /// Rows a resumed run kept from parbench 0.1.0 carry this one.
    pub legacy_key: String,
    pub label: String,
    pub repetitions: Repetitions,
}

impl SliceEntry {
    pub fn of(entry: &Entry) -> SliceEntry {
        SliceEntry {
            key: entry.key.clone(),
            legacy_key: entry.legacy_key.clone(),
            label: super::csv::entry_label(entry),
            repetitions: entry.repetitions,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        let repetitions = match self.repetitions {
            Repetitions::Fixed(count) => json!(count),
            Repetitions::Auto => json!("auto"),
        };
        json!({
            "entry_key": self.key,
            "legacy_key": self.legacy_key,
            "label": self.label,
            "repetitions": repetitions,
        })
    }

    fn from_json(value: &serde_json::Value) -> Option<SliceEntry> {
        let text = |name: &str| value.get(name)?.as_str().map(str::to_owned);
        let repetitions = match &value["repetitions"] {
            serde_json::Value::String(auto) if auto == "auto" => Repetitions::Auto,
            count => Repetitions::Fixed(u32::try_from(count.as_u64()?).ok()?),
        };
        Some(SliceEntry {
            key: text("entry_key")?,
            legacy_key: text("legacy_key")?,
            label: text("label")?,
            repetitions,
        })
    }
}

/// The slice a shard's env.json, beside its CSV, lists; `None` where the
/// file is absent, unreadable or older than the list.
pub fn slice_beside(csv: &Path) -> Option<Vec<SliceEntry>> {
    read_beside(csv)?["shard"]["entries"].as_array()?.iter().map(SliceEntry::from_json).collect()
}

/// What other load did during a job's measured runs, for env.json.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
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

/// `order_seed` orders the rounds; `checks` is what the machine checks found.
pub fn describe(
    job: &Job,
    host: &Host,
    shard: Option<&ShardInfo>,
    order_seed: u64,
    checks: &Checks,
    other_load: &OtherLoad,
) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let mut value = json!({
        "host": host.name,
        "cpu_model": cpu_model(&cpuinfo),
        "logical_cpus": host.cpus,
        "physical_cores": physical_cores(&cpuinfo).unwrap_or(host.cpus),
        "memory_bytes": memory_bytes(),
        "os": os_name(),
        "kernel": kernel(),
        "parbench_version": env!("CARGO_PKG_VERSION"),
        "job": job.name,
        "job_file": job.path.display().to_string(),
        "job_file_hash": job.source_hash,
        "git_commit": git_commit(&job.dir),
        "python": python_interpreters(job),
        "written_at": super::timestamp(std::time::SystemTime::now()),
        "order_seed": order_seed,
        "pin": job.pin.name(),
        "pool_start": job.pool_start.name(),
        "machine_checks": checks.to_json(),
        "other_load": {
            "runs": other_load.runs,
            "disturbed_runs": other_load.disturbed_runs,
            "foreign_cpu_s": other_load.foreign_cpu_s,
            "steal_s": other_load.steal_s,
        },
    });
    if let Some(shard) = shard {
        let entries: Vec<serde_json::Value> = shard.slice.iter().map(SliceEntry::to_json).collect();
        value["shard"] = json!({
            "index": shard.index,
            "count": shard.count,
            "groups": shard.groups,
            "entries": entries,
        });
    }
    let mut text = serde_json::to_string_pretty(&value).expect("a JSON value serialises");
    text.push('\n');
    text
}

/// Where a result file's env.json lies: beside it, `NAME.env.json` for
/// `NAME.csv` and for its `NAME.summary.csv` alike.
pub fn beside(csv: &Path) -> PathBuf {
    let name = csv.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".summary.csv").or_else(|| name.strip_suffix(".csv")).unwrap_or(&name);
    csv.with_file_name(format!("{stem}.env.json"))
}

/// The env.json beside a result file, where it is there and readable.
pub fn read_beside(csv: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(beside(csv)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Each Python interpreter of the job's `python` workloads, as it described
/// itself when the job was checked (before any module was imported; the
/// per-run `python_gil` column says whether the GIL was on during each run).
fn python_interpreters(job: &Job) -> serde_json::Value {
    let mut seen = Vec::new();
    for workload in &job.workloads {
        if let crate::jobfile::WorkloadKind::Python { interpreters, .. } = &workload.kind {
            for interpreter in interpreters {
                let value = json!({
                    "interpreter": interpreter.name,
                    "path": interpreter.path.display().to_string(),
                    "implementation": interpreter.facts.implementation,
                    "version": interpreter.facts.version,
                    "gil": if interpreter.facts.gil { "enabled" } else { "disabled" },
                });
                if !seen.contains(&value) {
                    seen.push(value);
                }
            }
        }
    }
    serde_json::Value::Array(seen)
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
    // SAFETY: uname fills the struct we own with NUL-terminated fields.
    unsafe {
        let mut name: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut name) != 0 {
            return String::new();
        }
        let field = |bytes: &[libc::c_char]| {
            let bytes: Vec<u8> =
                bytes.iter().take_while(|byte| **byte != 0).map(|byte| *byte as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        format!("{} {}", field(&name.sysname), field(&name.release))
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

    #[test]
    fn a_result_file_and_its_summary_share_one_env_json() {
        for csv in ["results/seed.csv", "results/seed.summary.csv"] {
            assert_eq!(beside(Path::new(csv)), Path::new("results/seed.env.json"));
        }
        let shard = Path::new("out/seed.shard-1-of-2.csv");
        assert_eq!(beside(shard), Path::new("out/seed.shard-1-of-2.env.json"));
    }
}
