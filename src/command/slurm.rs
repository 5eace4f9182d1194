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
    std::fs::write(&script_path, cluster::script(&job, &exe, &job_path, &options))
        .map_err(Error::output(&script_path))?;
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
