//! The wire format between the runner and its workers: a little-endian
//! u32 count followed by that many little-endian f64 values.

use std::io::{self, BufRead, Read};

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
pub(super) fn read_count(reader: &mut impl BufRead) -> io::Result<Option<usize>> {
    if reader.fill_buf()?.is_empty() {
        return Ok(None);
    }
    let mut count = [0u8; 4];
    reader.read_exact(&mut count)?;
    Ok(Some(u32::from_le_bytes(count) as usize))
}
