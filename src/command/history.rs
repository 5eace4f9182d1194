//! `parbench history run | report | bisect`: a job file's results across the
//! commits of its repository (docs/HISTORY.md).

use std::path::{Path, PathBuf};

use super::{EXIT_OK, EXIT_RUN_FAILED, load_all, prepare_out_dir, print};
use crate::analysis::EntryId;
use crate::cli::{HistoryBisectArgs, HistoryCommand, HistoryCommon, HistoryReportArgs, HistoryRunArgs};
use crate::error::Error;
use crate::history::bisect::{self, Verdict};
use crate::history::detect::Settings;
use crate::history::file::{self, HistoryRow};
use crate::history::git::{self, Commit};
use crate::history::series::{Found, Timeline};
use crate::history::walk::{self, Outcome, Walker};
use crate::interrupt::{self, EXIT_INTERRUPTED};
use crate::jobfile::Job;
use crate::matrix::{self, Overrides};
use crate::report::{human_seconds, words};
use crate::runner::{Host, planned_row};
use crate::vocab::Status;

/// The level of every change-point test (see `history::detect`).
const ALPHA: f64 = 0.05;

pub fn history(command: &HistoryCommand) -> Result<i32, Error> {
    match command {
        HistoryCommand::Run(args) => run(args),
        HistoryCommand::Report(args) => report(args),
        HistoryCommand::Bisect(args) => bisect(args),
    }
}

/// A job file ready to walk its repository's commits.
struct Prepared {
    /// One walk at a time appends to a history file.
    _lock: crate::lock::ResultsLock,
    job: Job,
    text: String,
    repo: PathBuf,
    job_in_repo: PathBuf,
}

impl Prepared {
    fn of(path: &Path, common: &HistoryCommon) -> Result<Prepared, Error> {
        let job = load_all(&[path.to_owned()])?.remove(0);
        let text = std::fs::read_to_string(path)
            .map_err(|error| Error::Usage(format!("cannot read {}: {error}", path.display())))?;
        let absolute = path
            .canonicalize()
            .map_err(|error| Error::Usage(format!("cannot read {}: {error}", path.display())))?;
        let folder = absolute.parent().unwrap_or(Path::new("/"));
        let repo = git::toplevel(folder).map_err(|error| {
            Error::Usage(format!(
                "{}: the job file must be inside the git repository whose commits it measures ({error})",
                path.display()
            ))
        })?;
        let repo = repo.canonicalize().unwrap_or(repo);
        let job_in_repo = absolute.strip_prefix(&repo).map(Path::to_owned).map_err(|_| {
            Error::Usage(format!("{} is not inside the repository at {}", path.display(), repo.display()))
        })?;
        let stale = git::remove_stale(&repo);
        if stale > 0 && !common.quiet {
            eprintln!("note: removed {stale} checkout(s) that a stopped parbench left behind");
        }
        prepare_out_dir(&common.out.join("history"))?;
        let lock = crate::lock::ResultsLock::acquire(&common.out.join("history"), &job.name)?;
        interrupt::install();
        Ok(Prepared { _lock: lock, job, text, repo, job_in_repo })
    }

    fn walker(&self, common: &HistoryCommon) -> Walker<'_> {
        Walker {
            repo: self.repo.clone(),
            job_in_repo: self.job_in_repo.clone(),
            job_text: self.text.clone(),
            job: &self.job,
            build: walk::build_command(&self.text),
            history: file::path_of(&common.out, &self.job.name),
            repetitions: common.repetitions.map(|count| count.to_string()),
            host: Host::detect(),
        }
    }
}

fn commit_line(commit: &Commit) -> String {
    format!("{} {:?}", commit.short(), commit.subject)
}

fn run(args: &HistoryRunArgs) -> Result<i32, Error> {
    let prepared = Prepared::of(&args.job, &args.common)?;
    let walker = prepared.walker(&args.common);
    let all = git::commits(&prepared.repo, &args.commits).map_err(Error::Usage)?;
    let commits = git::sample(all, args.every as usize, args.max.map(|max| max as usize));
    if commits.is_empty() {
        return Err(Error::Usage(format!("no commits in {:?}", args.commits)));
    }
    let known = file::read(&walker.history)?;
    let quiet = args.common.quiet;
    let (mut measured, mut skipped, mut failed) = (0, 0, 0);
    for (at, commit) in commits.iter().enumerate() {
        let step = format!("[{}/{}] {}", at + 1, commits.len(), commit_line(commit));
        if !args.again && walker.measured(&known.rows, commit) {
            skipped += 1;
            if !quiet {
                eprintln!("{step}: measured on this host already (--again measures it again)");
            }
            continue;
        }
        if interrupt::requested() {
            return stopped(&walker.history, measured);
        }
        if !quiet {
            // The commit in progress shows while it runs; its outcome ends the line.
            eprint!("{step}: ");
        }
        let outcome = walker.measure(commit)?;
        let runs = |count: usize| crate::vocab::count(count as u64, "run", "runs");
        let said = match &outcome {
            Outcome::Measured { ok, not_ok: 0 } => format!("{} ok", runs(*ok)),
            Outcome::Measured { ok, not_ok } => {
                failed += 1;
                format!("{} ok, {not_ok} not", runs(*ok))
            }
            Outcome::BuildFailed(why) | Outcome::JobFailed(why) => {
                failed += 1;
                words::error_line(why)
            }
            Outcome::Interrupted => {
                if !quiet {
                    eprintln!("stopped");
                }
                return stopped(&walker.history, measured);
            }
        };
        measured += 1;
        if !quiet {
            eprintln!("{said}");
        }
    }
    if !quiet {
        let mut line = format!(
            "{}: {} measured",
            walker.history.display(),
            crate::vocab::count(measured as u64, "commit", "commits")
        );
        if skipped > 0 {
            line.push_str(&format!(", {skipped} measured before"));
        }
        if failed > 0 {
            line.push_str(&format!(", {failed} with failures (recorded)"));
        }
        print(&format!("{line}\nnext: parbench history report {}\n", walker.history.display()))?;
    }
    Ok(if failed > 0 { EXIT_RUN_FAILED } else { EXIT_OK })
}

fn stopped(history: &Path, measured: usize) -> Result<i32, Error> {
    eprintln!(
        "stopped: {} measured and kept in {}; the same command resumes",
        crate::vocab::count(measured as u64, "commit", "commits"),
        history.display()
    );
    Ok(EXIT_INTERRUPTED)
}

/// The history CSV that NAME stands for.
fn history_path(name: &str, out: &Path) -> Result<PathBuf, Error> {
    let path = Path::new(name);
    if name.ends_with(".toml") {
        let job = load_all(&[path.to_owned()])?.remove(0);
        return Ok(file::path_of(out, &job.name));
    }
    if path.is_file() || name.ends_with(".csv") {
        return Ok(path.to_owned());
    }
    Ok(file::path_of(out, name))
}

fn percent(relative: f64) -> String {
    format!("{:+.1}%", relative * 100.0)
}

fn p_value(p: f64) -> String {
    match p {
        _ if p >= 0.001 => format!("{p:.3}"),
        _ if p >= 1e-15 => format!("{p:.1e}"),
        _ => "< 1e-15".to_owned(),
    }
}

fn report(args: &HistoryReportArgs) -> Result<i32, Error> {
    if !(args.threshold >= 0.0 && args.threshold.is_finite()) {
        return Err(Error::Usage(format!("--threshold {}: give a percentage of 0 or more", args.threshold)));
    }
    let path = history_path(&args.name, &args.out)?;
    let history = file::read(&path)?;
    if history.rows.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no history there; `parbench history run JOB --commits RANGE` makes it",
            path.display()
        )));
    }
    let timeline = Timeline::of(&history.rows);
    let found = timeline.changes(Settings { alpha: ALPHA, min_change: args.threshold / 100.0 });
    let hosts: std::collections::BTreeSet<&str> =
        history.rows.iter().map(|row| row.run.host.as_str()).collect();
    let labels: Vec<String> =
        timeline.series.iter().map(|series| words::entry_label(&series.id, hosts.len())).collect();
    let since = args.since.as_deref().map(|rev| since_index(&timeline, rev)).transpose()?;

    let first = timeline.commits.first().expect("a history has a commit");
    let last = timeline.commits.last().expect("a history has a commit");
    let mut text = format!(
        "{}: {} commits ({} … {}), {} entries{}\n",
        path.display(),
        timeline.commits.len(),
        first.short(),
        last.short(),
        timeline.series.len(),
        if hosts.len() > 1 {
            format!(", {} hosts (each compared only with itself)", hosts.len())
        } else {
            String::new()
        }
    );
    text.push_str(
        "medians by commit, oldest first (the blocks span ±25% of the entry's median, or its range):\n",
    );
    for (series, label) in timeline.series.iter().zip(&labels) {
        if let (Some(first), Some(last)) = (series.points.first(), series.points.last()) {
            text.push_str(&format!(
                "  {label}: {} {} → {} ({})\n",
                spark(&series.points.iter().map(|point| point.median).collect::<Vec<_>>()),
                human_seconds(first.median),
                human_seconds(last.median),
                crate::vocab::count(series.points.len() as u64, "commit", "commits")
            ));
        }
    }
    let sentences: Vec<String> = found.iter().map(|change| change_line(&timeline, change, &labels)).collect();
    if found.is_empty() {
        text.push_str(&format!("no change points (E-divisive, p < {ALPHA}, at least {}%)\n", args.threshold));
    } else {
        text.push_str(&format!(
            "{} change point{} (E-divisive, p < {ALPHA}, at least {}%):\n",
            found.len(),
            if found.len() == 1 { "" } else { "s" },
            args.threshold
        ));
        for sentence in &sentences {
            text.push_str(&format!("  {sentence}\n"));
        }
    }
    for change in &timeline.answers {
        let commit = &timeline.commits[change.commit];
        text.push_str(&format!(
            "answers changed: {}: at {}, serial's checksum {} → {}\n",
            words::entry_label(&change.id, hosts.len()),
            commit_line(commit),
            change.before,
            change.after
        ));
    }
    text.push_str(&failures_text(&timeline));
    let changes_csv = file::changes_path(&path);
    crate::report::csv::write_atomically(&changes_csv, &changes_bytes(&timeline, &found, &labels))?;
    text.push_str(&format!("change points written to {}\n", changes_csv.display()));
    if let Some(page) = &args.html {
        let titles = |group: &crate::analysis::GroupId| words::title(group, hosts.len());
        let name = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
        let html = crate::history::html::page(&name, &timeline, &found, &titles, &labels, &sentences);
        crate::report::csv::write_atomically(page, html.as_bytes())?;
        text.push_str(&format!("chart written to {}\n", page.display()));
    }
    let mut status = EXIT_OK;
    if let (Some(since), Some(rev)) = (since, &args.since) {
        let slower =
            found.iter().filter(|change| change.commit > since && change.change.relative() > 0.0).count();
        text.push_str(&match slower {
            0 => format!("no slowdown after {rev}\n"),
            count => {
                status = EXIT_RUN_FAILED;
                format!("{count} slowdown{} after {rev}\n", if count == 1 { "" } else { "s" })
            }
        });
    }
    print(&text)?;
    Ok(status)
}

/// A series as a line of block characters, at most 40 wide (a longer
/// series is shown by the medians of 40 stretches of it).
fn spark(values: &[f64]) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    const WIDTH: usize = 40;
    let shown: Vec<f64> = if values.len() <= WIDTH {
        values.to_vec()
    } else {
        (0..WIDTH)
            .filter_map(|at| {
                crate::stats::median(&values[at * values.len() / WIDTH..(at + 1) * values.len() / WIDTH])
            })
            .collect()
    };
    // Noise of a few percent stays in the middle blocks rather than filling them all.
    let middle = crate::stats::median(&shown).unwrap_or(0.0);
    let low = shown.iter().copied().fold(middle / 1.25, f64::min);
    let high = shown.iter().copied().fold(middle * 1.25, f64::max);
    shown
        .iter()
        .map(|value| match high > low {
            true => BLOCKS[(((value - low) / (high - low)) * 7.0).round() as usize],
            false => BLOCKS[0],
        })
        .collect()
}

fn since_index(timeline: &Timeline, rev: &str) -> Result<usize, Error> {
    let resolved = git::resolve(Path::new("."), rev).ok();
    resolved
        .as_deref()
        .and_then(|id| timeline.find(id))
        .or_else(|| timeline.find(rev))
        .ok_or_else(|| Error::Usage(format!("--since {rev}: not a commit of this history")))
}

fn change_line(timeline: &Timeline, found: &Found, labels: &[String]) -> String {
    let change = &found.change;
    format!(
        "{}: {}: {} → {} ({}{}, p {})",
        labels[found.series],
        commit_line(&timeline.commits[found.commit]),
        human_seconds(change.before),
        human_seconds(change.after),
        percent(change.relative()),
        if change.relative() > 0.0 { " slower" } else { " faster" },
        match p_value(change.p_value) {
            small if small.starts_with('<') => small,
            p => format!("= {p}"),
        }
    )
}

fn changes_bytes(timeline: &Timeline, found: &[Found], labels: &[String]) -> Vec<u8> {
    let mut csv = crate::results::writer(Vec::new());
    let header = [
        "entry_key",
        "entry",
        "commit",
        "commit_subject",
        "median_before_s",
        "median_after_s",
        "change",
        "p_value",
    ];
    csv.write_record(header).expect("writing to memory");
    for change in found {
        let commit = &timeline.commits[change.commit];
        csv.write_record([
            timeline.series[change.series].entry_key.clone(),
            crate::results::text_cell(&labels[change.series]),
            commit.id.clone(),
            crate::results::text_cell(&commit.subject),
            crate::results::seconds(change.change.before),
            crate::results::seconds(change.change.after),
            format!("{:.6}", change.change.relative()),
            format!("{:e}", change.change.p_value),
        ])
        .expect("writing to memory");
    }
    csv.into_inner().expect("writing to memory")
}

/// The commits where runs failed, each once with its first error.
fn failures_text(timeline: &Timeline) -> String {
    let mut text = String::new();
    for commit_failures in timeline.failures.chunk_by(|a, b| a.commit == b.commit) {
        let commit = &timeline.commits[commit_failures[0].commit];
        let runs: usize = commit_failures.iter().map(|failure| failure.runs).sum();
        let first = &commit_failures[0];
        let what = match first.status {
            Status::Mismatch => "results differ from serial's".to_owned(),
            _ => words::error_line(&first.error),
        };
        text.push_str(&format!(
            "failed at {}: {runs} run{} of {} entr{} ({}): {what}\n",
            commit_line(commit),
            if runs == 1 { "" } else { "s" },
            commit_failures.len(),
            if commit_failures.len() == 1 { "y" } else { "ies" },
            first.status.name()
        ));
    }
    text
}

fn bisect(args: &HistoryBisectArgs) -> Result<i32, Error> {
    if !(args.threshold > 0.0 && args.threshold.is_finite()) {
        return Err(Error::Usage(format!("--threshold {}: give a percentage above 0", args.threshold)));
    }
    let prepared = Prepared::of(&args.job, &args.common)?;
    let walker = prepared.walker(&args.common);
    let quiet = args.common.quiet;
    let commits = good_to_bad(&prepared.repo, &args.good, &args.bad)?;
    let entry = chosen_entry(&prepared.job, &walker.host, args.entry.as_deref())?;
    let label = words::entry_label(&entry, 1);

    let (mut measured, mut reused) = (0usize, 0usize);
    let mut median_at = |at: usize| -> Result<Option<f64>, Error> {
        let commit = &commits[at];
        let known = file::read(&walker.history)?;
        if walker.measured(&known.rows, commit) {
            reused += 1;
        } else {
            if interrupt::requested() {
                return Err(Error::Reported(EXIT_INTERRUPTED));
            }
            if walker.measure(commit)? == Outcome::Interrupted {
                eprintln!("stopped; what was measured is kept in {}", walker.history.display());
                return Err(Error::Reported(EXIT_INTERRUPTED));
            }
            measured += 1;
        }
        let rows = file::read(&walker.history)?.rows;
        let median = median_of(&rows, commit, &entry, &walker);
        if !quiet {
            let said = median.map_or("no ok runs".to_owned(), human_seconds);
            eprintln!("{}: {said}", commit_line(commit));
        }
        Ok(median)
    };
    let last = commits.len() - 1;
    let no_runs = |commit: &Commit| {
        Error::Usage(format!(
            "{}: no ok runs of {label} there, so nothing to bisect from",
            commit_line(commit)
        ))
    };
    let good_median = median_at(0)?.ok_or_else(|| no_runs(&commits[0]))?;
    let bad_median = median_at(last)?.ok_or_else(|| no_runs(&commits[last]))?;
    if bad_median / good_median - 1.0 < args.threshold / 100.0 {
        return Err(Error::Usage(format!(
            "{label}: {} at {} against {} at {} ({}), under the --threshold of {}%: nothing to bisect",
            human_seconds(bad_median),
            commits[last].short(),
            human_seconds(good_median),
            commits[0].short(),
            percent(bad_median / good_median - 1.0),
            args.threshold
        )));
    }
    // A commit is slow when its median is nearer the bad one than the good
    // one, on a ratio scale.
    let middle = (good_median * bad_median).sqrt();
    let found = bisect::bisect(commits.len(), |at| {
        Ok::<_, Error>(match median_at(at)? {
            Some(median) if median > middle => Verdict::Bad,
            Some(_) => Verdict::Good,
            None => Verdict::Unknown,
        })
    })?;
    let first_bad = &commits[found.first_bad];
    let mut text = format!(
        "first slower commit for {label}: {} ({} at {} → {} at {}, {})\n",
        commit_line(first_bad),
        human_seconds(good_median),
        commits[0].short(),
        human_seconds(bad_median),
        commits[last].short(),
        percent(bad_median / good_median - 1.0)
    );
    if !found.skipped.is_empty() {
        let skipped: Vec<&str> = found.skipped.iter().map(|at| commits[*at].short()).collect();
        text.push_str(&format!("or one of {} before it, which could not be measured\n", skipped.join(", ")));
    }
    let most = usize::BITS - (commits.len() - 2).leading_zeros() + 2;
    text.push_str(&format!(
        "{} measured, {reused} read from {} ({} commits in the range: at most {most})\n",
        crate::vocab::count(measured as u64, "commit", "commits"),
        walker.history.display(),
        commits.len()
    ));
    print(&text)?;
    Ok(EXIT_OK)
}

/// The commits from `good` to `bad`, both included, oldest first; refused
/// where `good` is not an earlier commit of `bad`'s history.
fn good_to_bad(repo: &Path, good: &str, bad: &str) -> Result<Vec<Commit>, Error> {
    let first = git::commits(repo, &format!("{good},")).map_err(Error::Usage)?;
    let good_id = &first[0].id;
    let bad_id = git::resolve(repo, bad).map_err(Error::Usage)?;
    if *good_id == bad_id || git::git(repo, &["merge-base", "--is-ancestor", good_id, &bad_id]).is_err() {
        return Err(Error::Usage(format!(
            "--good {good} is not an earlier commit of --bad {bad}'s history; bisect needs good before bad"
        )));
    }
    let after = git::commits(repo, &format!("{good}..{bad}")).map_err(Error::Usage)?;
    if after.last().is_none_or(|last| last.id != bad_id) {
        return Err(Error::Usage(format!("--bad {bad}: no commits after --good {good}")));
    }
    Ok(first.into_iter().chain(after).collect())
}

/// The entry of the plan whose label holds `words` (or the only one).
fn chosen_entry(job: &Job, host: &Host, words_given: Option<&str>) -> Result<EntryId, Error> {
    let plan = matrix::expand(job, host.cpus, Overrides::default());
    let ids: Vec<EntryId> =
        plan.entries.iter().map(|entry| EntryId::of(&planned_row(job, entry, host))).collect();
    let labels: Vec<String> = ids.iter().map(|id| words::entry_label(id, 1)).collect();
    let matching: Vec<usize> = match words_given {
        None => (0..ids.len()).collect(),
        Some(wanted) => {
            let wanted = wanted.to_lowercase();
            let exact: Vec<usize> =
                (0..ids.len()).filter(|at| labels[*at].to_lowercase() == wanted).collect();
            if exact.len() == 1 {
                exact
            } else {
                (0..ids.len()).filter(|at| labels[*at].to_lowercase().contains(&wanted)).collect()
            }
        }
    };
    match matching.as_slice() {
        [one] => Ok(ids[*one].clone()),
        _ => Err(Error::Usage(format!(
            "{}; the job's entries:\n  {}",
            match words_given {
                None => "--entry: name the entry to bisect".to_owned(),
                Some(wanted) if matching.is_empty() =>
                    format!("--entry {wanted:?}: no entry's label holds it"),
                Some(wanted) => format!("--entry {wanted:?}: {} entries' labels hold it", matching.len()),
            },
            labels.join("\n  ")
        ))),
    }
}

/// The median of the entry's ok runs at `commit`, measured on this host
/// with this job file.
fn median_of(rows: &[HistoryRow], commit: &Commit, entry: &EntryId, walker: &Walker) -> Option<f64> {
    let ok: Vec<f64> = rows
        .iter()
        .filter(|row| {
            row.commit.id == commit.id && row.run.host == walker.host.name && row.run.status == Status::Ok
        })
        .filter(|row| row.job_version == walker.job.source_hash)
        .filter(|row| EntryId::of(&row.run) == *entry)
        .map(|row| row.run.wall_s)
        .collect();
    crate::stats::median(&ok)
}
