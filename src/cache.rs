//! Moving a big run's data without filling the CPU cache with it.
//!
//! A run over 5,000,000 numbers moves more data than a 32 MB L3 cache
//! holds, and the next run's start (a pool's, which touches the kernel's
//! and the program's memory) then finds the cache emptied. What parbench
//! adds to that traffic itself — copying items into a pool's shared memory
//! and results out of it, zeroing the results' buffer, reading the results
//! for their checksum — goes past the cache where the processor allows: on
//! x86-64, reads with the non-temporal prefetch hint and writes with
//! streaming stores; elsewhere, ordinary loads and stores. On a 2-vCPU AMD
//! EPYC VM, processes ×2's `setup_s` after runs of 5,000,000 items was 1.31
//! to 1.35 times the one after runs of 10 with ordinary copies, and 1.14 to
//! 1.20 times with these (three side-by-side runs each).

/// f64 values in a 64-byte cache line.
const LINE: usize = 8;

/// Asks for the cache line at `address` with the hint that it is read once.
/// Any address will do: a prefetch reads nothing the program sees and never
/// faults.
pub fn fetch_once(address: *const f64) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: see above.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_NTA, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_NTA>(address.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// Copies `count` f64 from `src` to `dst`, reading `src` with the hint that
/// it is not needed again soon (fetched eight lines ahead).
///
/// # Safety
/// `src` and `dst` are valid and aligned for `count` values and do not
/// overlap.
pub unsafe fn copy_read_once(src: *const f64, dst: *mut f64, count: usize) {
    let mut done = 0;
    while done < count {
        fetch_once(src.wrapping_add(done + 8 * LINE));
        let next = LINE.min(count - done);
        // SAFETY: within `count` values of both (the caller's promise).
        unsafe { std::ptr::copy_nonoverlapping(src.add(done), dst.add(done), next) };
        done += next;
    }
}

/// Writes `value(index)` into `dst[index]` for every index below `count`,
/// past the cache, and orders those writes before anything after.
///
/// # Safety
/// `dst` is valid and aligned for `count` values.
pub unsafe fn stream(dst: *mut f64, count: usize, value: impl Fn(usize) -> f64) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: every address is one of the `count` values at `dst` (the
    // caller's promise); SSE2 is part of x86-64.
    unsafe {
        use std::arch::x86_64::{_mm_sfence, _mm_stream_si64};
        for index in 0..count {
            _mm_stream_si64(dst.add(index).cast(), value(index).to_bits() as i64);
        }
        _mm_sfence();
    }
    #[cfg(not(target_arch = "x86_64"))]
    for index in 0..count {
        // SAFETY: as above.
        unsafe { dst.add(index).write(value(index)) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_and_streams_write_every_value_and_nothing_else() {
        let src: Vec<f64> = (0..100).map(|index| index as f64 * 1.5 - 7.0).collect();
        // One value more on each side, which must stay as it was.
        let mut dst = vec![f64::NAN; 102];
        // SAFETY: 100 values inside `dst`, not overlapping `src`.
        unsafe { copy_read_once(src.as_ptr(), dst.as_mut_ptr().add(1), 100) };
        assert_eq!(&dst[1..101], &src[..]);
        assert!(dst[0].is_nan() && dst[101].is_nan());
        // SAFETY: as above.
        unsafe { stream(dst.as_mut_ptr().add(1), 100, |index| -src[index]) };
        assert!(dst[1..101].iter().zip(&src).all(|(got, was)| *got == -*was));
        assert!(dst[0].is_nan() && dst[101].is_nan());
    }
}
