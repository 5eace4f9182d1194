//! The child side of the `processes` strategy for builtins, and its wire
//! format. The runner starts `parbench __worker BUILTIN NAME=VALUE...`
//! directly (no shell); the worker answers [`READY`] once its kernel is
//! built, then reads frames of items and writes frames of results until its
//! stdin closes.
//!
//! A frame is a little-endian u32 count followed by that many little-endian
//! f64 values: 8 bytes an item, no parsing, read straight into the result
//! slice.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

use crate::vocab::format_number;
use crate::workload::{BuiltinSpec, Params, find_builtin};

pub const READY: &[u8; 4] = b"PBW1";

/// The worker's arguments for one builtin and its parameters.
pub fn args(spec: &BuiltinSpec, params: &Params) -> Vec<String> {
    let mut args = vec!["__worker".to_owned(), spec.name.to_owned()];
    args.extend(params.iter().map(|(name, value)| format!("{name}={}", format_number(*value))));
    args
}

pub fn read_ready(reader: &mut impl Read) -> io::Result<()> {
    let mut magic = [0u8; 4];
    reader.read_exact(&mut magic)?;
    if &magic != READY {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "it answered with something other than ready",
        ));
    }
    Ok(())
}

pub fn encode_frame(values: &[f64], frame: &mut Vec<u8>) {
    frame.extend_from_slice(&(values.len() as u32).to_le_bytes());
    if cfg!(target_endian = "little") {
        frame.extend_from_slice(bytemuck::cast_slice(values));
    } else {
        values.iter().for_each(|value| frame.extend_from_slice(&value.to_le_bytes()));
    }
}

/// Reads one frame into `out`, which must be exactly as long as the frame.
pub fn read_frame(reader: &mut impl Read, out: &mut [f64]) -> io::Result<()> {
    let mut count = [0u8; 4];
    reader.read_exact(&mut count)?;
    let count = u32::from_le_bytes(count) as usize;
    if count != out.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("sent {count} results for a chunk of {}", out.len()),
        ));
    }
    reader.read_exact(bytemuck::cast_slice_mut(out))?;
    if cfg!(target_endian = "big") {
        out.iter_mut().for_each(|value| *value = f64::from_bits(u64::from_le(value.to_bits())));
    }
    Ok(())
}

/// Reads the count of the next frame; `None` at a clean end of input.
fn read_count(reader: &mut impl BufRead) -> io::Result<Option<usize>> {
    if reader.fill_buf()?.is_empty() {
        return Ok(None);
    }
    let mut count = [0u8; 4];
    reader.read_exact(&mut count)?;
    Ok(Some(u32::from_le_bytes(count) as usize))
}

/// The environment variable that gives a worker its runner's process id.
pub const PARENT_ENV: &str = "PARBENCH_RUNNER_PID";

/// A worker dies with its runner, even a runner killed with -9: it asks for
/// SIGKILL when its parent dies, then checks the parent is still the runner
/// that started it (it may have died before the request). The runner
/// starts workers with posix_spawn, which has no hook to do this in the
/// child before exec, so the worker does it first thing.
fn die_with_parent() {
    let Some(runner) = std::env::var(PARENT_ENV).ok().and_then(|pid| pid.parse::<libc::pid_t>().ok()) else {
        return;
    };
    // SAFETY: prctl with integer arguments and getppid have no memory effects.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        if libc::getppid() != runner {
            std::process::exit(1);
        }
    }
}

/// `parbench __worker BUILTIN NAME=VALUE...`: serve until stdin closes.
pub fn serve(builtin: &str, params: &[String]) -> Result<(), String> {
    die_with_parent();
    crate::workload::enter_worker();
    let spec = find_builtin(builtin).ok_or_else(|| format!("unknown builtin \"{builtin}\""))?;
    let mut given = std::collections::BTreeMap::new();
    for param in params {
        let (name, value) = param.split_once('=').ok_or_else(|| format!("bad parameter \"{param}\""))?;
        let value: f64 = value.parse().map_err(|_| format!("bad parameter value \"{param}\""))?;
        given.insert(name.to_owned(), value);
    }
    let kernel = spec.kernel(&spec.resolve(&given));

    let mut reader = BufReader::with_capacity(1 << 16, io::stdin().lock());
    let mut writer = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let io_error = |error: io::Error| format!("worker i/o: {error}");
    writer.write_all(READY).map_err(io_error)?;
    writer.flush().map_err(io_error)?;

    let mut items: Vec<f64> = Vec::new();
    let mut results: Vec<f64> = Vec::new();
    let mut frame = Vec::new();
    while let Some(count) = read_count(&mut reader).map_err(io_error)? {
        items.resize(count, 0.0);
        results.resize(count, 0.0);
        reader.read_exact(bytemuck::cast_slice_mut(&mut items)).map_err(io_error)?;
        if cfg!(target_endian = "big") {
            items.iter_mut().for_each(|value| *value = f64::from_bits(u64::from_le(value.to_bits())));
        }
        kernel.apply(&items, &mut results);
        frame.clear();
        encode_frame(&results, &mut frame);
        writer.write_all(&frame).map_err(io_error)?;
        // Every result goes out as soon as it is computed, even when the
        // next chunk is already here: its arrival gives the runner the credit
        // to send the chunk after, which then overlaps with this worker's
        // next computation. Holding it back until the queued chunk was done
        // (as an earlier rule did) let the worker run dry after every pair.
        writer.flush().map_err(io_error)?;
    }
    writer.flush().map_err(io_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let values = [1.5, -0.0, f64::MAX, 42.0];
        let mut frame = Vec::new();
        encode_frame(&values, &mut frame);
        assert_eq!(frame.len(), 4 + 8 * values.len());
        let mut out = [0.0; 4];
        read_frame(&mut frame.as_slice(), &mut out).unwrap();
        assert_eq!(out.map(f64::to_bits), values.map(f64::to_bits));
    }

    #[test]
    fn a_frame_of_the_wrong_length_is_an_error() {
        let mut frame = Vec::new();
        encode_frame(&[1.0, 2.0], &mut frame);
        let mut out = [0.0; 3];
        let error = read_frame(&mut frame.as_slice(), &mut out).unwrap_err();
        assert!(error.to_string().contains("sent 2 results for a chunk of 3"));
    }

    #[test]
    fn a_truncated_frame_is_an_error() {
        let mut frame = Vec::new();
        encode_frame(&[1.0, 2.0], &mut frame);
        frame.truncate(10);
        let mut out = [0.0; 2];
        assert!(read_frame(&mut frame.as_slice(), &mut out).is_err());
    }
}
