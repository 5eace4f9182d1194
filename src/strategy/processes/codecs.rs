//! How items are written to a pool's workers and results read back: raw
//! numbers through the pipe (`BinaryCodec`), numbers through shared memory
//! (`SharedCodec`), or lines of text to a user's program (`LineCodec`).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::Range;

use super::IN_FLIGHT;
use crate::generator::Items;
use crate::vocab::format_number;
use crate::worker;

/// How items are written to a worker and results read back.
pub(super) trait Codec: Sync {
    /// Items are lines of text to a program of the user's, which may forget
    /// to flush its answers.
    const LINES: bool = false;
    type Out: Send;
    fn encode(&self, lane: Lane, range: Range<usize>, frame: &mut Vec<u8>);
    /// Fills `out` with the results of one chunk; `done` counts the items
    /// this worker answered before, for the error message.
    fn decode(
        &self,
        lane: Lane,
        reader: &mut BufReader<File>,
        out: &mut [Self::Out],
        done: usize,
    ) -> Result<(), String>;
    /// After the last chunk: the worker must have nothing more to say.
    fn finish(&self, reader: &mut BufReader<File>, done: usize) -> Result<(), String> {
        let mut extra = [0u8; 1];
        match reader.read(&mut extra) {
            Ok(0) => Ok(()),
            Ok(_) => Err(format!("sent more results than the {done} items it was given")),
            Err(error) => Err(format!("failed after {done} items: {error}")),
        }
    }
}

/// Numbers as raw little-endian f64 behind a u32 count, both ways.
pub(super) struct BinaryCodec<'a> {
    pub(super) items: &'a [f64],
}

impl Codec for BinaryCodec<'_> {
    type Out = f64;

    fn encode(&self, _: Lane, range: Range<usize>, frame: &mut Vec<u8>) {
        worker::encode_frame(&self.items[range], frame);
    }

    fn decode(
        &self,
        _: Lane,
        reader: &mut BufReader<File>,
        out: &mut [f64],
        done: usize,
    ) -> Result<(), String> {
        worker::read_frame(reader, out).map_err(|error| answer_error(&error, done))
    }
}

fn answer_error(error: &io::Error, done: usize) -> String {
    match error.kind() {
        io::ErrorKind::UnexpectedEof => format!("stopped answering after {done} items"),
        _ => format!("failed after {done} items: {error}"),
    }
}

/// Which worker a chunk goes to, and how many chunks it was sent before.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lane {
    pub(super) worker: usize,
    pub(super) chunk: usize,
}

/// Numbers through a [`worker::Arena`]: each worker has [`IN_FLIGHT`] slots
/// of `slot` items and as many results, used in turn. A frame carries only
/// the count and the slot's offset, an answer only the count. A slot is
/// written again only after its chunk was answered and read: the worker's
/// credits (see `drive`) come back one per answer read, in order.
pub(super) struct SharedCodec<'a> {
    pub(super) items: &'a [f64],
    pub(super) arena: &'a worker::Arena,
    pub(super) slot: usize,
}

impl SharedCodec<'_> {
    /// The byte offset of `lane`'s slot.
    fn offset(&self, lane: Lane) -> usize {
        (lane.worker * IN_FLIGHT + lane.chunk % IN_FLIGHT) * self.slot * 16
    }
}

impl Codec for SharedCodec<'_> {
    type Out = f64;

    fn encode(&self, lane: Lane, range: Range<usize>, frame: &mut Vec<u8>) {
        let offset = self.offset(lane);
        let count = range.len();
        // SAFETY: the slot is the runner's: its last chunk was answered and
        // read before this chunk's credit came back (see the type).
        unsafe { self.arena.put(offset, &self.items[range]) };
        frame.extend_from_slice(&(count as u32 | worker::IN_ARENA).to_le_bytes());
        frame.extend_from_slice(&(offset as u64).to_le_bytes());
    }

    fn decode(
        &self,
        lane: Lane,
        reader: &mut BufReader<File>,
        out: &mut [f64],
        done: usize,
    ) -> Result<(), String> {
        let mut answer = [0u8; 4];
        reader.read_exact(&mut answer).map_err(|error| answer_error(&error, done))?;
        let count = u32::from_le_bytes(answer);
        if count != out.len() as u32 | worker::IN_ARENA {
            return Err(format!(
                "failed after {done} items: answered {count:#x} for a chunk of {} in shared memory",
                out.len()
            ));
        }
        // SAFETY: the worker has answered for this chunk and touches its
        // slot no more; the writer reuses it only after this credit returns.
        unsafe { self.arena.get(self.offset(lane) + 8 * out.len(), out) };
        Ok(())
    }
}

/// One item per line to stdin, one result per line from stdout.
pub(super) struct LineCodec<'a> {
    pub(super) items: &'a Items,
}

impl Codec for LineCodec<'_> {
    const LINES: bool = true;
    type Out = String;

    fn encode(&self, _: Lane, range: Range<usize>, frame: &mut Vec<u8>) {
        match self.items {
            Items::Numbers(numbers) => {
                for number in &numbers[range] {
                    frame.extend_from_slice(format_number(*number).as_bytes());
                    frame.push(b'\n');
                }
            }
            Items::Text(lines) | Items::Parsed { lines, .. } => {
                for line in &lines[range] {
                    frame.extend_from_slice(line.as_bytes());
                    frame.push(b'\n');
                }
            }
        }
    }

    fn decode(
        &self,
        _: Lane,
        reader: &mut BufReader<File>,
        out: &mut [String],
        done: usize,
    ) -> Result<(), String> {
        let mut line = Vec::new();
        for (offset, slot) in out.iter_mut().enumerate() {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(|error| format!("failed after {} items: {error}", done + offset))?;
            if read == 0 {
                return Err(format!(
                    "printed a line too few: its output ended after {} result lines, before the result for item {}",
                    done + offset,
                    done + offset + 1
                ));
            }
            let text = std::str::from_utf8(&line)
                .map_err(|_| format!("printed a line that is not UTF-8 as result {}", done + offset + 1))?;
            *slot = text.trim_end().to_owned();
        }
        Ok(())
    }

    fn finish(&self, reader: &mut BufReader<File>, done: usize) -> Result<(), String> {
        let mut extra = Vec::new();
        match reader.read_until(b'\n', &mut extra) {
            Ok(0) => Ok(()),
            Ok(_) => Err(format!(
                "printed a line too many: {:?} after the {done} results for its {done} items",
                String::from_utf8_lossy(&extra).trim_end()
            )),
            Err(error) => Err(format!("failed after {done} items: {error}")),
        }
    }
}
