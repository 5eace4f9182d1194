//! `parbench slurm`: an sbatch script for a job's shards, and with
//! `--submit`/`--wait` the array job and the merge of its results.

use std::path::Path;

use super::{EXIT_OK, EXIT_RUN_FAILED, prepare_out_dir};
use crate::cli::SlurmArgs;
use crate::error::Error;
use crate::matrix::{self, Overrides};
use crate::runner::Host;
use crate::vocab::io_reason;
use crate::{cluster, jobfile, shard};

pub fn slurm(args: &SlurmArgs) -> Result<i32, Error> {
    script_safe(&[
        ("--out folder", &args.out.display().to_string()),
        ("job file", &args.job.display().to_string()),
    ])?;
    let job = jobfile::load(&args.job)?;
    prepare_out_dir(&args.out)?;
    let absolute = |path: &Path| {
        std::fs::canonicalize(path).map_err(|error| {
            Error::Usage(format!("cannot resolve {}: {}", path.display(), io_reason(&error)))
        })
    };
    let out = absolute(&args.out)?;
    let job_path = absolute(&args.job)?;
    let exe = std::env::current_exe()
        .map_err(|error| Error::Usage(format!("cannot find parbench's own executable: {error}")))?;
    let mut written: Vec<(&str, String)> = vec![
        ("--out folder", out.display().to_string()),
        ("job file", job_path.display().to_string()),
        ("parbench executable", exe.display().to_string()),
    ];
    for (what, value) in
        [("--partition", &args.partition), ("--time", &args.time), ("--account", &args.account)]
    {
        written.extend(value.iter().map(|value| (what, value.clone())));
    }
    written.extend(args.sbatch_args.iter().map(|value| ("--sbatch-arg", value.clone())));
    script_safe(&written.iter().map(|(what, value)| (*what, value.as_str())).collect::<Vec<_>>())?;
    let plan = matrix::expand(&job, Host::detect().cpus, Overrides::default());
    let options = cluster::SlurmOptions {
        shards: args.shards.map_or_else(|| cluster::default_shards(&plan), |shards| shards as usize),
        partition: args.partition.clone(),
        time: args.time.clone(),
        account: args.account.clone(),
        extra: args.sbatch_args.clone(),
        shared: args.shared,
        out: out.clone(),
    };
    let script_path = out.join(format!("{}.sbatch", job.name));
    crate::report::csv::refuse_links(std::slice::from_ref(&script_path))?;
    crate::report::csv::write_atomically(
        &script_path,
        cluster::script(&job, &exe, &job_path, &options).as_bytes(),
    )?;
    eprintln!("wrote {} ({} tasks)", script_path.display(), options.shards);
    if !args.submit && !args.wait {
        return Ok(EXIT_OK);
    }
    let (id, failed) = cluster::submit(&script_path, &job.name, &options, args.wait)?;
    println!("{id}");
    if !args.wait {
        return Ok(EXIT_OK);
    }
    for (task, why) in &failed {
        eprintln!("error: task {task} of array job {id} failed: {why}");
    }
    let shards: Vec<std::path::PathBuf> = (0..options.shards)
        .map(|index| {
            out.join(format!("{}.csv", shard::Shard { index, count: options.shards }.base_name(&job.name)))
        })
        .collect();
    match cluster::merge(&shards, Some(&out)) {
        Ok(merged) => eprintln!("merged {} shards into {}", shards.len(), merged.display()),
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(EXIT_RUN_FAILED);
        }
    }
    Ok(if failed.is_empty() { EXIT_OK } else { EXIT_RUN_FAILED })
}

/// Every value written into the script must stay on its line: a newline in
/// a path would start a line of its own, run as a command; a double quote
/// would end the quoted `#SBATCH --output` value.
fn script_safe(values: &[(&str, &str)]) -> Result<(), Error> {
    for (what, value) in values {
        if value.contains(['\n', '\r', '\0']) {
            return Err(Error::Usage(format!(
                "the {what} {value:?} holds a newline or NUL, which a line of an sbatch script cannot hold; \
                 rename it"
            )));
        }
        if value.contains('"') && !what.starts_with("--") {
            return Err(Error::Usage(format!(
                "the {what} {value:?} holds a double quote, which an #SBATCH line cannot hold; rename it"
            )));
        }
    }
    Ok(())
}
