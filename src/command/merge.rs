//! `parbench merge`: the shards of a job into one set of results.

use std::path::{Path, PathBuf};

use super::EXIT_OK;
use crate::cluster;
use crate::error::Error;

pub fn merge(shards: &[PathBuf], out: Option<&Path>) -> Result<i32, Error> {
    let merged = cluster::merge(shards, out)?;
    eprintln!("merged {} shards into {}", shards.len(), merged.display());
    Ok(EXIT_OK)
}
