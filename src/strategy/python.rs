//! Python workloads: the harness (`workload::python`) runs the function
//! under Python's own `map` or pool and times the run itself; this keeps one
//! harness alive for the runs of a group, and turns its answers into an
//! [`Execution`] or a [`Failed`] run.

use std::time::Duration;

use super::{Cutoff, Execution, Failed, Finish, Outputs, RunFailure, Session, Spread, Timed};
use crate::generator::Items;
use crate::vocab::Strategy;
use crate::workload::python::{Harness, HarnessError, PythonWork, RunRequest, WorkerCounters, items_json};

pub fn run(
    work: &PythonWork,
    items: &Items,
    spread: Spread<'_>,
    cutoff: &Cutoff,
    session: &mut Session,
) -> Result<Execution, Failed> {
    let stopped = || cutoff.passed();
    let patience = || cutoff.slice();
    let failed = |error: HarnessError, stderr: Vec<String>| match error {
        HarnessError::Failed(message) => Failed { failure: RunFailure::Failed(message), stderr },
        HarnessError::Died { status, said } => {
            let ended =
                super::Ended { what: "the Python harness".to_owned(), status, when: String::new(), said };
            Failed { failure: RunFailure::Ended(ended), stderr }
        }
        HarnessError::Stopped => Failed { failure: cutoff.failure(), stderr },
    };
    // The group's harness, if it is this work's and still alive; otherwise
    // the old one is ended (dropped) and a new one started.
    let reuse = match &mut session.python {
        Some((running, harness)) => running == work && harness.alive(),
        None => false,
    };
    if !reuse {
        session.python = None;
        // A `file` list's lines go as written, as `str`.
        let json = match items {
            Items::Numbers(numbers) => items_json(Some(numbers), None),
            Items::Text(lines) | Items::Parsed { lines, .. } => items_json(None, Some(lines)),
        };
        let harness = Harness::start(
            &work.interpreter,
            spread.cwd,
            &work.file,
            &work.function,
            &json,
            &stopped,
            &patience,
        )
        .map_err(|(error, stderr)| failed(error, stderr))?;
        session.python = Some((work.clone(), harness));
    }
    let (_, harness) = session.python.as_mut().expect("started just above");
    let request = RunRequest {
        strategy: spread.strategy.name(),
        workers: if spread.strategy == Strategy::Serial { 1 } else { spread.workers },
        chunksize: if spread.strategy == Strategy::Processes { spread.chunk_size } else { None },
        start_method: if spread.strategy == Strategy::Processes {
            work.start_method.as_deref()
        } else {
            None
        },
    };
    let (result, stderr) = harness.run(&request, &stopped, &patience);
    let facts = harness.facts.clone();
    match result {
        Ok(run) => Ok(Execution {
            outputs: Outputs::Text(run.results),
            // Timed inside Python: `timed` below replaces these.
            setup: run.setup_s.map(|setup| Duration::from_secs_f64(setup.max(0.0))),
            ready: None,
            finish: Finish {
                workers: run.workers.map(WorkerCounters::sched),
                helpers: run.helpers.map(WorkerCounters::sched),
                ..Finish::now(&[])
            },
            stderr,
            children_peak_rss: run.peak_rss_bytes,
            timed: Some(Timed {
                wall_s: run.wall_s,
                setup_s: run.setup_s,
                cpu_s: run.cpu_s,
                harness_cpu_s: run.harness_cpu_s,
            }),
            python: Some((facts.name(), run.gil)),
        }),
        Err(error) => {
            if error == HarnessError::Stopped {
                session.python = None;
            }
            Err(failed(error, stderr))
        }
    }
}
