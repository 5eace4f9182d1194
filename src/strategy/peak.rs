//! The runner's own peak resident memory, reset before each run where Linux
//! allows it. (Its children's peaks are read as they are reaped, in
//! [`crate::child`].) Both happen before the clock starts or after it stops.

/// Resets this process's resident-memory high-water mark to what it holds
/// now (Linux: "5" into /proc/self/clear_refs). False where that is not
/// allowed; the mark then counts from the process's start.
pub fn reset_own_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// This process's resident-memory high-water mark, in bytes: VmHWM, which
/// [`reset_own_peak`] resets (getrusage's maxrss is never reset, so it is
/// only the fallback).
pub fn own_peak() -> u64 {
    let from_status = std::fs::read_to_string("/proc/self/status").ok().and_then(|status| {
        let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    });
    from_status.unwrap_or_else(|| {
        use nix::sys::resource::{UsageWho, getrusage};
        // Linux counts ru_maxrss in KiB.
        getrusage(UsageWho::RUSAGE_SELF).map_or(0, |usage| u64::try_from(usage.max_rss()).unwrap_or(0) * 1024)
    })
}
