//! The child side of the `processes` strategy for builtins, and its wire
//! format. The runner starts `parbench __worker BUILTIN NAME=VALUE...`
//! directly (no shell); the worker answers [`READY`] once its kernel is
//! built, then reads frames of items and writes frames of results until its
//! stdin closes.
//!
//! A frame is a little-endian u32 count followed by that many little-endian
//! f64 values: 8 bytes an item, no parsing, read straight into the result
//! slice.
//!
//! A worker given an [`Arena`] (shared memory, see there) also takes frames
//! whose count has [`IN_ARENA`] set: the count is followed by a
//! little-endian u64 byte offset into the arena, where the chunk's items
//! lie; the worker writes the results right after them and answers with
//! the count alone.

//!
//! One room per concern: `frames.rs` (the wire format), `arena.rs` (the
//! shared memory) and `fork_server.rs` (the start of a whole pool for one
//! exec).

mod arena;
mod fork_server;
mod frames;

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

use crate::vocab::format_number;
use crate::workload::{BuiltinSpec, Kernel, Params, find_builtin};

pub use crate::child::PARENT_ENV;
pub use arena::{Arena, IN_ARENA};
pub use fork_server::{FORK_SERVER, FORK_SERVER_CLONES, NOT_STARTED, STARTED, WORKER_FDS, fork_workers};
use frames::read_count;
pub use frames::{encode_frame, read_frame};

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

/// `parbench __worker BUILTIN NAME=VALUE...`: serve until stdin closes.
pub fn serve(builtin: &str, params: &[String]) -> Result<(), String> {
    // The runner starts workers with posix_spawn, which has no hook to tie
    // them to it before exec, so the worker does it first thing.
    crate::child::tie_itself();
    crate::workload::enter_worker();
    let kernel = build_kernel(builtin, params)?;
    serve_kernel(kernel.as_ref(), None)
}

fn build_kernel(builtin: &str, params: &[String]) -> Result<Box<dyn Kernel>, String> {
    let spec = find_builtin(builtin).ok_or_else(|| format!("unknown builtin \"{builtin}\""))?;
    let mut given = std::collections::BTreeMap::new();
    for param in params {
        let (name, value) = param.split_once('=').ok_or_else(|| format!("bad parameter \"{param}\""))?;
        let value: f64 = value.parse().map_err(|_| format!("bad parameter value \"{param}\""))?;
        given.insert(name.to_owned(), value);
    }
    Ok(spec.kernel(&spec.resolve(&given)))
}

/// Says [`READY`], then computes every frame that comes in on stdin until
/// it closes.
fn serve_kernel(kernel: &dyn Kernel, arena: Option<&mut Arena>) -> Result<(), String> {
    let reader = BufReader::with_capacity(1 << 16, io::stdin().lock());
    let writer = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    serve_frames(kernel, arena, reader, writer).map_err(|error| format!("worker i/o: {error}"))
}

/// The worker's loop over any pair of streams: [`READY`], then a frame of
/// results (or, for a chunk in the arena, its count) for each frame of items.
fn serve_frames(
    kernel: &dyn Kernel,
    mut arena: Option<&mut Arena>,
    mut reader: impl BufRead,
    mut writer: impl Write,
) -> io::Result<()> {
    writer.write_all(READY)?;
    writer.flush()?;

    let mut items: Vec<f64> = Vec::new();
    let mut results: Vec<f64> = Vec::new();
    let mut frame = Vec::new();
    while let Some(count) = read_count(&mut reader)? {
        if count & IN_ARENA as usize != 0 {
            let mut offset = [0u8; 8];
            reader.read_exact(&mut offset)?;
            let offset = u64::from_le_bytes(offset);
            let count = count & !(IN_ARENA as usize);
            let arena = arena
                .as_deref_mut()
                .ok_or_else(|| invalid("a chunk in shared memory came, but there is none"))?;
            // SAFETY: between a frame and its answer the chunk is this
            // worker's alone: the runner neither writes its items nor
            // reads its results until the answer (its credits, see
            // `strategy::processes::codecs::SharedCodec`), no other worker
            // is sent the same slot, and this loop serves one frame at a
            // time, the references ending before the answer is written.
            let (items, results) = unsafe { arena.chunk(offset, count) }.map_err(invalid)?;
            kernel.apply(items, results);
            writer.write_all(&(count as u32 | IN_ARENA).to_le_bytes())?;
        } else {
            items.resize(count, 0.0);
            results.resize(count, 0.0);
            reader.read_exact(bytemuck::cast_slice_mut(&mut items))?;
            if cfg!(target_endian = "big") {
                items.iter_mut().for_each(|value| *value = f64::from_bits(u64::from_le(value.to_bits())));
            }
            kernel.apply(&items, &mut results);
            frame.clear();
            encode_frame(&results, &mut frame);
            writer.write_all(&frame)?;
        }
        // Every result goes out as soon as it is computed, even when the
        // next chunk is already here: its arrival gives the runner the credit
        // to send the chunk after, which then overlaps with this worker's
        // next computation. Holding it back until the queued chunk was done
        // (as an earlier rule did) let the worker run dry after every pair.
        writer.flush()?;
    }
    writer.flush()
}

fn invalid(why: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why.into())
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

    /// A serve loop's whole output for `input`, and its end.
    fn serve_bytes(arena: Option<&mut Arena>, input: &[u8]) -> (Vec<u8>, io::Result<()>) {
        let kernel = build_kernel("price-increase", &["percent=10".to_owned()]).unwrap();
        let mut output = Vec::new();
        let result = serve_frames(kernel.as_ref(), arena, input, &mut output);
        (output, result)
    }

    #[test]
    fn pipe_and_arena_frames_mix_and_each_gets_its_answer() {
        let mut arena = Arena::create(64).unwrap();
        // SAFETY: nothing else uses the arena.
        unsafe { arena.put(16, &[10.0, 20.0]) };
        let mut input = Vec::new();
        encode_frame(&[1.0], &mut input);
        input.extend_from_slice(&(2 | IN_ARENA).to_le_bytes());
        input.extend_from_slice(&16u64.to_le_bytes());
        let (output, result) = serve_bytes(Some(&mut arena), &input);
        result.unwrap();
        let mut expected = READY.to_vec();
        encode_frame(&[1.0 * 1.1], &mut expected);
        expected.extend_from_slice(&(2 | IN_ARENA).to_le_bytes());
        assert_eq!(output, expected);
        let mut results = [0.0; 2];
        // SAFETY: the serve loop has ended.
        unsafe { arena.get(32, &mut results) };
        assert_eq!(results, [10.0 * 1.1, 20.0 * 1.1]);
    }

    #[test]
    fn an_arena_frame_without_an_arena_or_out_of_line_is_an_error() {
        let mut input = (1 | IN_ARENA).to_le_bytes().to_vec();
        input.extend_from_slice(&0u64.to_le_bytes());
        let error = serve_bytes(None, &input).1.unwrap_err();
        assert!(error.to_string().contains("there is none"), "{error}");
        let mut arena = Arena::create(64).unwrap();
        // Misaligned: the items would not be f64s.
        let mut input = (1 | IN_ARENA).to_le_bytes().to_vec();
        input.extend_from_slice(&4u64.to_le_bytes());
        let error = serve_bytes(Some(&mut arena), &input).1.unwrap_err();
        assert!(
            error.to_string().contains("is not an aligned part of the 64 bytes of shared memory"),
            "{error}"
        );
        // An offset past the end, where the end would overflow.
        let mut input = (1 | IN_ARENA).to_le_bytes().to_vec();
        input.extend_from_slice(&(u64::MAX - 7).to_le_bytes());
        let error = serve_bytes(Some(&mut arena), &input).1.unwrap_err();
        assert!(error.to_string().contains("is not an aligned part of the 64 bytes"), "{error}");
    }
}
