//! Raw job → [`Job`]: every semantic check, each error at the value it is
//! about. Checks run in file order so the first error reported is the first
//! a reader meets. One file per part of the job file: `list.rs` the input
//! list, `run.rs` the `[run]` settings (strategies, workers, chunk sizes,
//! repetitions, durations), `workload.rs` a `[[workload]]` and its
//! parameters, `command.rs` what is particular to command workloads, and
//! `values.rs` the typed reading of single values they share.

mod command;
mod list;
mod run;
mod values;
mod workload;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::bounds::{MAX_ENTRIES, MAX_RUNS};
use super::raw::{RawJob, RawWorkload};
use super::{Job, JobError, Locator, Workload};
use crate::vocab::{PoolStart, Repetitions};

type Result<T> = std::result::Result<T, JobError>;

pub(super) fn validate(raw: RawJob, at: &Locator) -> Result<Job> {
    if *raw.version.get_ref() != 1 {
        return Err(at.error(
            raw.version.span().start,
            format!(
                "unsupported version {}; this parbench reads job files of version 1",
                raw.version.get_ref()
            ),
        ));
    }
    let name = match &raw.name {
        Some(name) => check_name(name, at)?,
        None => default_name(at)?,
    };
    let dir = at.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };

    let (generator, sizes) = list::list(&raw.list, &dir, at)?;
    let defaults = run::defaults(raw.run.get_ref(), at)?;
    let settings = run::settings(raw.run.get_ref(), at)?;

    let raw_workloads = match &raw.workload {
        Some(workloads) if !workloads.get_ref().is_empty() => workloads.get_ref(),
        other => {
            let offset = other.as_ref().map_or(at.source.len(), |workloads| workloads.span().start);
            return Err(at.error(
                offset,
                "no workload; add at least one [[workload]] with a name and a builtin or command",
            ));
        }
    };
    let mut seen = HashSet::new();
    let mut workloads = Vec::new();
    for raw_workload in raw_workloads {
        let workload_name = raw_workload.get_ref().name.get_ref();
        if !seen.insert(workload_name.clone()) {
            return Err(at.error(
                raw_workload.get_ref().name.span().start,
                format!("duplicate workload name \"{workload_name}\"; each workload needs its own name"),
            ));
        }
        workloads.push(workload::workload(raw_workload, &defaults, &generator, &dir, at)?);
    }

    caps(&workloads, raw_workloads, sizes.len(), settings.warmup, at)?;

    let warnings = spreadsheet_numbers(
        raw.name.as_ref().map(|raw_name| (&name, raw_name.span().start)),
        raw_workloads,
        at,
    );
    refuse_untimed_python(settings.pool_start, &workloads, at)?;

    Ok(Job {
        warnings,
        name,
        description: raw.description,
        path: at.path.to_path_buf(),
        dir,
        generator,
        sizes,
        warmup: settings.warmup,
        timeout: settings.timeout,
        order: settings.order,
        pin: settings.pin,
        pool_start: settings.pool_start.map_or(PoolStart::Timed, |(pool_start, _)| pool_start),
        precision: settings.precision,
        order_seed: settings.order_seed,
        workloads,
        source_hash: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(at.source.as_bytes())),
    })
}

/// Names a spreadsheet reads as a number ("0123" becomes 123): they lose
/// their form there; the CSV keeps it, so this is said, not refused.
/// `job`: the name the job file gave, and where.
fn spreadsheet_numbers(
    job: Option<(&String, usize)>,
    raw_workloads: &[Spanned<RawWorkload>],
    at: &Locator,
) -> Vec<String> {
    let named = raw_workloads.iter().map(|raw_workload| {
        let name = &raw_workload.get_ref().name;
        ("workload name", name.get_ref(), name.span().start)
    });
    job.map(|(name, offset)| ("job name", name, offset))
        .into_iter()
        .chain(named)
        .filter(|(_, text, _)| reads_as_number(text))
        .map(|(what, text, offset)| {
            at.error(
                offset,
                format!(
                    "{what} \"{text}\" reads as a number in a spreadsheet (LibreOffice and Excel show it as {}); \
                     a name with a letter keeps its form there",
                    crate::vocab::format_number(text.parse::<f64>().unwrap_or_default())
                ),
            )
            .to_string()
        })
        .collect()
}

/// `pool_start = "untimed"` is refused where a Python workload runs a pool:
/// Python's pools start their workers inside `map`.
fn refuse_untimed_python(
    pool_start: Option<(PoolStart, usize)>,
    workloads: &[Workload],
    at: &Locator,
) -> Result<()> {
    if let Some((PoolStart::Untimed, at_said)) = pool_start
        && let Some(python) = workloads.iter().find(|workload| {
            matches!(workload.kind, super::WorkloadKind::Python { .. })
                && workload.strategies.iter().any(|strategy| *strategy != crate::vocab::Strategy::Serial)
        })
    {
        return Err(at.error(
            at_said,
            format!(
                "pool_start = \"untimed\" cannot time workload \"{}\": Python's pools start their workers \
                 inside map, so no moment separates their start from the work; leave it out, or run that \
                 workload with strategies = [\"serial\"] only",
                python.name
            ),
        ));
    }
    Ok(())
}

/// Whether a spreadsheet would read `text` as a number: digits, with at
/// most a sign, a point and an exponent.
pub(crate) fn reads_as_number(text: &str) -> bool {
    text.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        && text.chars().any(|c| c.is_ascii_digit())
        && text.parse::<f64>().is_ok()
}

/// A typo in an axis can ask for more entries than any machine holds; the
/// caps hold per workload and for the whole job.
fn caps(
    workloads: &[Workload],
    raw_workloads: &[Spanned<RawWorkload>],
    sizes: usize,
    warmup: u32,
    at: &Locator,
) -> Result<()> {
    let (mut job_entries, mut job_runs) = (0usize, 0u64);
    for (workload, raw_workload) in workloads.iter().zip(raw_workloads) {
        let params: usize = workload.param_axes.iter().map(|(_, values)| values.len()).product();
        let entries = params.saturating_mul(sizes).saturating_mul(entries_per_list(workload));
        if entries > MAX_ENTRIES {
            return Err(at.error(
                raw_workload.get_ref().name.span().start,
                format!(
                    "workload \"{}\" expands to {entries} entries (parameters × sizes × strategies × workers × chunk sizes); at most {MAX_ENTRIES}",
                    workload.name
                ),
            ));
        }
        job_entries += entries;
        if job_entries > MAX_ENTRIES {
            return Err(at.error(
                raw_workload.get_ref().name.span().start,
                format!(
                    "the job expands to {job_entries} entries up to workload \"{}\"; at most {MAX_ENTRIES} in a job",
                    workload.name
                ),
            ));
        }
        let repetitions = match workload.repetitions {
            Repetitions::Fixed(count) => u64::from(count),
            Repetitions::Auto => 1,
        };
        job_runs = job_runs.saturating_add((entries as u64).saturating_mul(u64::from(warmup) + repetitions));
        if job_runs > MAX_RUNS {
            return Err(at.error(
                raw_workload.get_ref().name.span().start,
                format!(
                    "the job asks for {job_runs} runs up to workload \"{}\" (entries × (warm-up + repetitions)); \
                     at most {MAX_RUNS} in a job",
                    workload.name
                ),
            ));
        }
    }

    Ok(())
}

/// The entries of one parameter set and one list size, as the plan will
/// have them (before it drops worker counts that resolve alike): none for a
/// strategy that does not run the workload, and the `workers` and
/// `chunk_size` axes only where the strategy's descriptor takes them.
fn entries_per_list(workload: &Workload) -> usize {
    let kind = workload.kind.work_kind();
    workload
        .strategies
        .iter()
        .filter(|strategy| strategy.refusal(kind).is_none())
        .map(|strategy| {
            let workers = if strategy.takes_workers() { workload.workers.len() } else { 1 };
            let chunks = if strategy.takes_chunks(kind) { workload.chunk_sizes.len() } else { 1 };
            workers.saturating_mul(chunks)
        })
        .fold(0, usize::saturating_add)
}

fn valid_name(text: &str) -> bool {
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    !text.is_empty() && text.chars().all(valid) && !text.starts_with('.')
}

fn check_name(name: &Spanned<String>, at: &Locator) -> Result<String> {
    let text = name.get_ref();
    if !valid_name(text) {
        return Err(at.error(
            name.span().start,
            format!("invalid job name \"{text}\"; use ASCII letters, digits, '-', '_' and '.' (it names the result files)"),
        ));
    }
    Ok(text.clone())
}

/// The job's name from its file name, under the same rules as `name`.
fn default_name(at: &Locator) -> Result<String> {
    let path = at.path;
    let stem = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
    let cleaned: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect();
    if !valid_name(&cleaned) {
        return Err(at.error(
            0,
            format!(
                "the file name gives the job the name \"{cleaned}\", which cannot name result files \
                 (letters, digits, '-', '_' and '.', not first '.'); add a line such as name = \"my-job\""
            ),
        ));
    }
    Ok(cleaned)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// A job of `strategies` for `workload`, with 1,024 worker counts and
    /// 200 chunk sizes: 204,800 entries for a strategy that takes both.
    fn job(strategies: &str, workload: &str) -> String {
        let workers: Vec<String> = (1..=1024).map(|count| count.to_string()).collect();
        let chunks: Vec<String> = (1..=200).map(|size| size.to_string()).collect();
        format!(
            "version = 1\n[list]\ngenerator = \"range\"\nsize = 3\n[run]\nstrategies = {strategies}\n\
             workers = [{}]\nchunk_size = [{}]\nrepetitions = 1\n[[workload]]\nname = \"w\"\n{workload}\n",
            workers.join(", "),
            chunks.join(", ")
        )
    }

    #[test]
    fn the_entry_cap_counts_only_the_axes_a_strategy_takes() {
        let parse = |source: String| crate::jobfile::parse(Path::new("cap.toml"), &source);
        // Processes chunk a builtin: 1,024 × 200 entries, past the cap.
        let error = parse(job("[\"serial\", \"processes\"]", "builtin = \"spin\"")).unwrap_err();
        assert!(error.message.contains("expands to 204801 entries"), "{error}");
        // An argv command takes no chunk size, and threads do not run it:
        // serial's one entry and 1,024 processes entries.
        let command = "command = [\"echo\", \"{item}\"]";
        let job = parse(job("[\"serial\", \"threads\", \"processes\"]", command)).unwrap();
        assert_eq!(job.workloads[0].chunk_sizes.len(), 200);
    }
}
