//! `parbench check`: validate job files and show the plan they expand to.

use std::path::PathBuf;

use super::{EXIT_OK, load_all, print};
use crate::error::Error;
use crate::jobfile::{Job, WorkloadKind};
use crate::matrix::{self, Overrides, Plan};
use crate::runner::Host;
use crate::vocab::Repetitions;

pub fn check(paths: &[PathBuf]) -> Result<i32, Error> {
    let jobs = load_all(paths)?;
    let cpus = Host::detect().cpus;
    let mut text = String::new();
    for job in &jobs {
        let plan = matrix::expand(job, cpus, Overrides::default());
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
            "; \"auto\" may make more or fewer: until ±{}%, at most {} of runs per entry",
            crate::vocab::format_number(job.precision.target * 100.0),
            humantime::format_duration(job.precision.max_time)
        )
    };
    let mut text = format!(
        "{}: job \"{}\" is valid: {} entries in {} groups, {} runs ({} measured, {} warm-up{bound}) on {} CPUs\n",
        job.path.display(),
        job.name,
        plan.entries.len(),
        plan.groups.len(),
        plan.total_runs(),
        plan.measured_runs(),
        warmup_runs,
        plan.cpus,
    );
    for group in &plan.groups {
        let workload = &job.workloads[group.workload];
        let what = match &workload.kind {
            WorkloadKind::Builtin(spec) => format!("builtin {}", spec.name),
            WorkloadKind::Command { argv, protocol, .. } => {
                format!("command {argv:?} ({protocol:?} protocol)").to_lowercase()
            }
            WorkloadKind::Python { file, function, .. } => format!("python {file}:{function}"),
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
                    "measured until ±{}% with {} runs or more, or {} of runs",
                    crate::vocab::format_number(entry.precision.target * 100.0),
                    entry.precision.min_repetitions,
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
    text
}
