//! `parbench report`: recompute tables and exports from per-run CSVs, and
//! compare against a baseline.

use super::{EXIT_OK, EXIT_RUN_FAILED, analysis_of, print};
use crate::cli::ReportArgs;
use crate::error::Error;
use crate::{analysis, report};

/// `job_file_hash` of the env.json beside a per-run `NAME.csv`, where
/// there is one that says it.
fn job_file_hash_beside(csv: &std::path::Path) -> Option<String> {
    let name = csv.file_name()?.to_string_lossy().into_owned();
    let env = csv.with_file_name(format!("{}.env.json", name.strip_suffix(".csv")?));
    let env: serde_json::Value = serde_json::from_slice(&std::fs::read(env).ok()?).ok()?;
    env["job_file_hash"].as_str().map(str::to_owned)
}

/// One invocation's CSV, as `run` left it, beside its env.json: its
/// intervals hold the spread of the other invocations recorded beside it,
/// as the run's did.
fn join_invocations(analysis: &mut analysis::Analysis, csvs: &[std::path::PathBuf]) {
    if let [csv] = csvs
        && let Some(job_file_hash) = job_file_hash_beside(csv)
        && let Some(this) = analysis::invocations::This::of(analysis, &job_file_hash)
        && let Some(earlier) = super::earlier_invocations(&super::invocations_path(csv))
    {
        analysis::invocations::widen(analysis, &this, &earlier);
    }
}

pub fn report(args: &ReportArgs) -> Result<i32, Error> {
    if !(0.0..100.0).contains(&args.threshold) {
        return Err(Error::Usage(format!(
            "--threshold {} is not a percentage between 0 and 100",
            args.threshold
        )));
    }
    let mut analysis = analysis_of(&args.csvs)?;
    join_invocations(&mut analysis, &args.csvs);
    if analysis.entries.is_empty() {
        return Err(Error::Usage("the CSVs hold no rows".to_owned()));
    }
    let mut written = Vec::new();
    let mut write = |path: &Option<std::path::PathBuf>, text: &[u8]| -> Result<(), Error> {
        if let Some(path) = path {
            std::fs::write(path, text).map_err(Error::output(path))?;
            written.push(path.clone());
        }
        Ok(())
    };
    let answers = analysis::answers::answers(&analysis, args.predict.map(|cpus| cpus as usize));
    write(&args.markdown, report::shown(&report::markdown::render(&analysis)).as_bytes())?;
    write(&args.json, report::json::render(&analysis, &answers).as_bytes())?;
    write(&args.summary_csv, &report::summary::to_csv(&analysis))?;
    write(&args.scaling_csv, &report::scaling::to_csv(&answers, &analysis.param_names))?;
    write(&args.html, report::shown(&report::html::render(&analysis, &answers)).as_bytes())?;
    if let Some(dir) = &args.charts {
        std::fs::create_dir_all(dir).map_err(Error::output(dir))?;
        for (name, svg) in report::html::charts(&analysis, &answers) {
            let path = dir.join(name);
            std::fs::write(&path, report::shown(&svg)).map_err(Error::output(&path))?;
            written.push(path);
        }
    }
    if !written.is_empty() {
        let names: Vec<String> = written.iter().map(|path| path.display().to_string()).collect();
        eprintln!("wrote {}", names.join(", "));
    }
    let mut text = String::new();
    if !args.quiet {
        text.push_str(&report::table::render(&analysis));
        text.push_str(&report::scaling::text(&answers, analysis.hosts.len()));
    } else if args.predict.is_some() {
        // --quiet --predict N: the predictions alone, for scripts.
        for recommendation in &answers.recommendations {
            let said = match (&recommendation.prediction, recommendation.no_prediction) {
                (Some((strategy, prediction)), _) => report::scaling::prediction_text(strategy, prediction),
                (None, Some(why)) => format!("no prediction: {why}"),
                (None, None) => continue,
            };
            text.push_str(&format!(
                "{}: {said}\n",
                report::scaling::workload_title(&recommendation.key, analysis.hosts.len())
            ));
        }
    }
    let mut status = EXIT_OK;
    if let Some(baseline) = &args.baseline {
        let old = analysis_of(std::slice::from_ref(baseline))?;
        let threshold = args.threshold / 100.0;
        if !args.any_host && old.hosts.len() == 1 && analysis.hosts.len() == 1 && old.hosts != analysis.hosts
        {
            let name =
                |hosts: &std::collections::BTreeSet<String>| hosts.iter().next().cloned().unwrap_or_default();
            return Err(Error::Usage(format!(
                "{} was measured on host {}, the new results on host {}: one machine's timings say little \
                 about another's; compare them anyway with --any-host",
                baseline.display(),
                name(&old.hosts),
                name(&analysis.hosts)
            )));
        }
        let comparison = analysis::compare::compare_hosts(&old, &analysis, threshold, args.any_host);
        if comparison.changes.is_empty() {
            return Err(Error::Usage(nothing_to_compare(baseline, &old, &analysis)));
        }
        text.push('\n');
        text.push_str(&report::compare::render(&comparison, threshold));
        // The new files' env.json as `analysis_of` read their rows (it has
        // said already which summaries it left out).
        let news: Vec<_> = args.csvs.iter().filter(|path| !super::is_summary(path)).cloned().collect();
        let conditions = report::conditions::compare_files(baseline, &news);
        text.push_str(&report::compare::condition_warnings(&conditions.differences));
        if let Some(note) = report::compare::unknown_conditions_note(&conditions) {
            eprintln!("{note}");
        }
        if comparison.fails(args.strict) {
            status = EXIT_RUN_FAILED;
        }
    }
    print(&text)?;
    Ok(status)
}

/// Why `--baseline` has nothing to compare, in one line: a gate that
/// compared nothing must not pass.
fn nothing_to_compare(
    baseline: &std::path::Path,
    old: &analysis::Analysis,
    new: &analysis::Analysis,
) -> String {
    let jobs = |analysis: &analysis::Analysis| {
        let names: std::collections::BTreeSet<&str> =
            analysis.entries.iter().map(|entry| entry.id.group.job.as_str()).collect();
        names.into_iter().map(|name| format!("\"{name}\"")).collect::<Vec<_>>().join(", ")
    };
    if old.entries.is_empty() {
        return format!("nothing to compare: the baseline {} holds no measured run", baseline.display());
    }
    let (old_jobs, new_jobs) = (jobs(old), jobs(new));
    if old_jobs != new_jobs {
        format!(
            "nothing to compare: the baseline {} is of job {old_jobs} and the new results of job {new_jobs}",
            baseline.display()
        )
    } else {
        format!(
            "nothing to compare: the baseline {} and the new results share no entry with ok runs in the baseline",
            baseline.display()
        )
    }
}
