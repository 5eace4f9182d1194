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
                    "measured until ±{}% over 6 or more blocks of fresh processes, with {} runs or more over at least {}, or {} of runs",
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
    let memory = peak_memory(job, plan);
    let time = TimeEstimate::of(job, plan);
    let mut text = format!(
        "  estimate: memory about {} at most (the largest list's items and results, and a processes pool's \
         shared memory); duration {}\n",
        crate::report::human_bytes(memory),
        time.words(),
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

/// The bytes the largest entry holds at once: its list's items and their
/// results, and a builtin processes pool's shared memory for its chunks.
fn peak_memory(job: &Job, plan: &Plan) -> f64 {
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
    plan.entries
        .iter()
        .map(|entry| 2.0 * item_bytes * entry.list_size as f64 + arena(entry))
        .fold(0.0, f64::max)
}

/// How long the plan will take, as far as it is known before it runs.
#[derive(Clone, Copy)]
struct TimeEstimate {
    /// The builtins' entries, from their documented costs.
    seconds: f64,
    /// Command and Python entries under "auto": `max_time` bounds each.
    bounded: f64,
    bounded_entries: usize,
    /// Command and Python entries with fixed repetitions: nothing bounds
    /// them, their own time is known only once they run.
    unknown: usize,
    /// The number of builtin entries.
    builtins: usize,
    /// The job's `max_time`, in seconds.
    max_time: f64,
}

impl TimeEstimate {
    fn of(job: &Job, plan: &Plan) -> TimeEstimate {
        let max_time = job.precision.max_time.as_secs_f64();
        let mut time = TimeEstimate {
            seconds: 0.0,
            bounded: 0.0,
            bounded_entries: 0,
            unknown: 0,
            builtins: 0,
            max_time,
        };
        for entry in &plan.entries {
            let auto = entry.repetitions == Repetitions::Auto;
            let WorkloadKind::Builtin(spec) = &job.workloads[entry.workload].kind else {
                if auto {
                    time.bounded += max_time;
                    time.bounded_entries += 1;
                } else {
                    time.unknown += 1;
                }
                continue;
            };
            let cost = builtin_seconds(spec, entry, plan.cpus);
            time.seconds += if auto { cost.min(max_time) } else { cost };
        }
        time.builtins = plan.entries.len() - time.bounded_entries - time.unknown;
        time
    }

    /// The duration, where the estimate comes from, and what it leaves out.
    fn words(&self) -> String {
        let TimeEstimate { seconds, bounded, bounded_entries, unknown, builtins, max_time } = *self;
        let mut sources = Vec::new();
        if builtins > 0 {
            sources.push("the builtins' documented costs".to_owned());
        }
        if bounded_entries > 0 {
            sources.push(format!(
                "{} command or Python {} at most {} each, as \"auto\" stops at max_time",
                bounded_entries,
                if bounded_entries == 1 { "entry" } else { "entries" },
                span(max_time)
            ));
        }
        let duration = match (bounded_entries, unknown) {
            (_, unknown) if unknown > 0 && builtins + bounded_entries == 0 => format!(
                "not known before it runs: its {} command or Python {} fixed repetitions, and their own time is \
                 known only once they run (a run's results/NAME.csv has it)",
                unknown,
                if unknown == 1 { "entry has" } else { "entries have" }
            ),
            (0, _) if seconds < 1.0 => span(seconds),
            (0, _) => format!("about {}", span(seconds)),
            _ if seconds + bounded < 1.0 => span(seconds + bounded),
            _ => format!("at most about {}", span(seconds + bounded)),
        };
        let not_counted = match unknown {
            0 => String::new(),
            _ if builtins + bounded_entries == 0 => String::new(),
            unknown => format!(
                "; {unknown} command or Python {} with fixed repetitions not counted: their own time is known \
                 only once they run",
                if unknown == 1 { "entry" } else { "entries" }
            ),
        };
        let from = if sources.is_empty() { String::new() } else { format!(" (from {})", sources.join("; ")) };
        format!("{duration}{from}{not_counted}")
    }
}

/// A builtin entry's time from its documented cost per item, spread over
/// the workers it runs (at most the machine's CPUs), for all its runs.
fn builtin_seconds(spec: &crate::workload::BuiltinSpec, entry: &crate::matrix::Entry, cpus: usize) -> f64 {
    let given = entry
        .params
        .iter()
        .filter_map(|(name, value)| match value {
            crate::jobfile::ParamValue::Number(number) => Some((name.clone(), *number)),
            crate::jobfile::ParamValue::Text(_) => None,
        })
        .collect();
    let per_item = (spec.ns_per_item)(&spec.resolve(&given)) * 1e-9;
    let parallel = entry.workers.clamp(1, cpus.max(1)) as f64;
    per_item * entry.list_size as f64 / parallel * entry.runs() as f64
}

/// A duration in words, as a person would round it.
fn span(seconds: f64) -> String {
    match seconds < 1.0 {
        true => "under a second".to_owned(),
        false => {
            humantime::format_duration(std::time::Duration::from_secs(seconds.min(1e12) as u64)).to_string()
        }
    }
}
