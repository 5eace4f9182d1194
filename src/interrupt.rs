//! Ctrl-C, SIGTERM, SIGHUP (a closed SSH session) and SIGQUIT. The first
//! one asks parbench to stop: the run in progress is abandoned (its workers
//! killed), nothing new starts, and what was measured stays on disk. A
//! second one ends parbench at once, after killing the process group of
//! every worker still running, so that none is left behind.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// The exit status of a run stopped by a signal, as shells report Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Process groups of the workers alive now. A signal handler may only read
/// atomics and call async-signal-safe functions (killpg, _exit), so the
/// groups sit in a fixed table rather than a collection behind a lock.
/// 2048 is twice the most workers a job may ask for.
static GROUPS: [AtomicI32; 2048] = [const { AtomicI32::new(0) }; 2048];

/// Records a worker's process group, for the second signal to kill.
pub fn track_group(pgid: i32) {
    for slot in &GROUPS {
        if slot.compare_exchange(0, pgid, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            return;
        }
    }
}

/// Forgets a group whose worker has been waited for.
pub fn untrack_group(pgid: i32) {
    for slot in &GROUPS {
        if slot.compare_exchange(pgid, 0, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            return;
        }
    }
}

pub fn install() {
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGQUIT,
    ] {
        // SAFETY: the handler only swaps an atomic, reads the table, and
        // calls killpg (nix's wrapper adds no allocation or lock) and
        // _exit, all async-signal-safe.
        let _ = unsafe {
            signal_hook::low_level::register(signal, || {
                if REQUESTED.swap(true, Ordering::SeqCst) {
                    for slot in &GROUPS {
                        let pgid = slot.load(Ordering::Acquire);
                        if pgid > 0 {
                            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
                        }
                    }
                    // nix has no wrapper for _exit.
                    libc::_exit(EXIT_INTERRUPTED);
                }
            })
        };
    }
}

pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}
