//! `parbench merge`: the shards of a job into one set of results.

use std::path::{Path, PathBuf};

use super::EXIT_OK;
use crate::cluster;
use crate::error::Error;

pub fn merge(shards: &[PathBuf], out: Option<&Path>) -> Result<i32, Error> {
    let shards = super::per_run_csvs(shards);
    let merged = cluster::merge(&shards, out)?;
    eprintln!(
        "merged {} into {}",
        crate::vocab::count(shards.len() as u64, "shard", "shards"),
        merged.display()
    );
    Ok(EXIT_OK)
}
