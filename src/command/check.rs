//! `parbench check`: validate job files and show the plan they expand to.

use std::path::PathBuf;

use super::{EXIT_OK, load_all, plan_all, print};
use crate::error::Error;
use crate::jobfile::{Job, WorkloadKind};
use crate::matrix::{Overrides, Plan};
use crate::runner::Host;
use crate::vocab::{Repetitions, count};

pub fn check(paths: &[PathBuf]) -> Result<i32, Error> {
    let jobs = load_all(paths)?;
    let cpus = Host::detect().cpus;
    let mut text = String::new();
    for (job, plan) in jobs.iter().zip(plan_all(&jobs, cpus, Overrides::default())?) {
        text.push_str(&plan_text(job, &plan));
    }
    print(&text)?;
    Ok(EXIT_OK)
}

/// What `parbench check` prints for one job.
pub fn plan_text(job: &Job, plan: &Plan) -> String {
    let warmup_runs = plan.total_runs() - plan.measured_runs();
    // "auto" entries run as often as their precision needs: the count is
    // what min_repetitions plans, and the time is what bounds them.
    let auto = plan.entries.iter().filter(|entry| entry.repetitions == Repetitions::Auto).count();
    let bound = if auto == 0 {
        String::new()
    } else {
        format!(
            "; \"auto\" may make more or fewer: until ±{}% over at least {}, at most {} of runs per entry",
            crate::vocab::format_number(job.precision.target * 100.0),
            humantime::format_duration(job.precision.min_span),
            humantime::format_duration(job.precision.max_time)
        )
    };
    let mut text = format!(
        "{}: job \"{}\" is valid: {} in {}, {} ({} measured, {} warm-up{bound}) on {}\n",
        job.path.display(),
        job.name,
        count(plan.entries.len() as u64, "entry", "entries"),
        count(plan.groups.len() as u64, "group", "groups"),
        count(plan.total_runs(), "run", "runs"),
        plan.measured_runs(),
        warmup_runs,
        count(plan.cpus as u64, "CPU", "CPUs"),
    );
    for group in &plan.groups {
        let workload = &job.workloads[group.workload];
        let what = match &workload.kind {
            WorkloadKind::Builtin(spec) => format!("builtin {}", spec.name),
            WorkloadKind::Command { argv, protocol, .. } => {
                let protocol = if *protocol == crate::workload::Protocol::Lines { "lines" } else { "argv" };
                format!("command {argv:?}, {protocol} protocol")
            }
            // Which python runs it, found where: the default depends on the
            // active virtual environment, so the plan says which it found.
            WorkloadKind::Python { file, function, interpreters } => {
                let python = match &group.work {
                    crate::workload::Work::Python(work) => {
                        interpreters.iter().find(|i| i.path == work.interpreter)
                    }
                    _ => None,
                };
                match python {
                    Some(python) => {
                        format!(
                            "python {file}:{function} in {} {}",
                            python.facts.name(),
                            python.path.display()
                        )
                    }
                    None => format!("python {file}:{function}"),
                }
            }
        };
        text.push_str(&format!(
            "  group {}: {} ({what}), {} {} items\n",
            group.index + 1,
            workload.name,
            job.generator.name(),
            group.list_size
        ));
        for entry in &plan.entries[group.entries.clone()] {
            let measured = match entry.repetitions {
                Repetitions::Fixed(count) => format!("{count} measured"),
                Repetitions::Auto => format!(
                    "measured until ±{}% with {} runs or more over at least {}, or {} of runs",
                    crate::vocab::format_number(entry.precision.target * 100.0),
                    entry.precision.min_repetitions,
                    humantime::format_duration(entry.precision.min_span),
                    humantime::format_duration(entry.precision.max_time)
                ),
            };
            text.push_str(&format!(
                "    {:>3}. {}  ({} warm-up + {measured})\n",
                entry.index + 1,
                entry.label(),
                entry.warmup,
            ));
        }
    }
    for skipped in &plan.skipped {
        text.push_str(&format!("  skipped: {} × {}: {}\n", skipped.workload, skipped.what, skipped.reason));
    }
    text.push_str(&estimate_text(job, plan, crate::report::env::memory_bytes()));
    text
}

/// What the job will take: memory for the largest list (its items and its
/// results are held at once, and a builtin processes pool's shared memory
/// for its chunks), and time from the builtins' documented costs
/// (`parbench list`), spread over the workers a strategy runs, with a
/// warning when the memory is more than the machine has.
fn estimate_text(job: &Job, plan: &Plan, machine_memory: Option<u64>) -> String {
    let item_bytes = match &job.generator {
        crate::generator::Generator::File { lines } => {
            let items = lines.items.len().max(1);
            let text: usize = (0..lines.items.len()).map(|index| lines.items.text(index).len()).sum();
            // A String is 24 bytes and its text; numbers take 8 more each.
            (text / items + 24 + 8) as f64
        }
        _ => 8.0,
    };
    // A builtin processes pool also maps shared memory for its chunks.
    let arena = |entry: &crate::matrix::Entry| match &job.workloads[entry.workload].kind {
        WorkloadKind::Builtin(_) if entry.strategy == crate::vocab::Strategy::Processes => {
            crate::strategy::arena_bytes(entry.workers, entry.chunk_size, entry.list_size).unwrap_or(0) as f64
        }
        _ => 0.0,
    };
    let memory = plan
        .entries
        .iter()
        .map(|entry| 2.0 * item_bytes * entry.list_size as f64 + arena(entry))
        .fold(0.0, f64::max);
    let mut seconds = 0.0;
    let mut uncounted = false;
    for entry in &plan.entries {
        let WorkloadKind::Builtin(spec) = &job.workloads[entry.workload].kind else {
            uncounted = true;
            continue;
        };
        let given = entry
            .params
            .iter()
            .filter_map(|(name, value)| match value {
                crate::jobfile::ParamValue::Number(number) => Some((name.clone(), *number)),
                crate::jobfile::ParamValue::Text(_) => None,
            })
            .collect();
        let per_item = (spec.ns_per_item)(&spec.resolve(&given)) * 1e-9;
        let parallel = entry.workers.clamp(1, plan.cpus.max(1)) as f64;
        seconds += per_item * entry.list_size as f64 / parallel * entry.runs() as f64;
    }
    let duration = if seconds < 1.0 {
        "under a second".to_owned()
    } else {
        let whole = std::time::Duration::from_secs(seconds.min(1e12) as u64);
        format!("about {}", humantime::format_duration(whole))
    };
    let mut text = format!(
        "  estimate: memory about {} at most (the largest list's items and results, and a processes pool's \
         shared memory); duration {duration} \
         (from the builtins' documented costs{})\n",
        crate::report::human_bytes(memory),
        if uncounted { "; commands' own time not counted" } else { "" }
    );
    if let Some(machine) = machine_memory
        && memory > machine as f64
    {
        text.push_str(&format!(
            "  warning: the memory estimate is more than this machine's {}: make the list smaller, or run it \
             on a larger machine\n",
            crate::report::human_bytes(machine as f64)
        ));
    }
    text
}
