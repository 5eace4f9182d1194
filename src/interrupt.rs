//! Ctrl-C, SIGTERM, SIGHUP (a closed SSH session) and SIGQUIT. The first
//! one asks parbench to stop: the run in progress is abandoned (its workers
//! killed), nothing new starts, and what was measured stays on disk. A
//! second one ends parbench at once, after killing the process group of
//! every child still running, so that none is left behind.
//!
//! The groups are tracked by their owner, [`crate::child::ProcessGroup`],
//! through a [`Tracked`] it holds from the child's start until the group is
//! killed, and gives up before the leader is reaped.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Set by the handler on the second signal, before it reads the table: from
/// then on the process is ending, and no tracked group may be reaped.
static KILLING: AtomicBool = AtomicBool::new(false);

/// The exit status of a run stopped by a signal, as shells report Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Process groups of the children alive now. A signal handler may only read
/// atomics and call async-signal-safe functions (killpg, _exit), so the
/// groups sit in a fixed table rather than a collection behind a lock.
/// 2048 is twice the most workers a job may ask for.
static GROUPS: [AtomicI32; 2048] = [const { AtomicI32::new(0) }; 2048];

/// A process group's place in the handler's table, for the second signal to
/// kill; given up when dropped.
///
/// The handler may signal a group only while its leader is unreaped (see
/// [`crate::child`]), and it reads the table without a lock, so clearing a
/// slot is not enough: the handler may have read the pgid just before.
/// Both sides therefore write first and read second, all sequentially
/// consistent: the handler sets [`KILLING`] and then reads the slots; a
/// drop clears its slot and then reads [`KILLING`]. Either the handler
/// sees the slot cleared (and never signals that group), or the drop sees
/// [`KILLING`] set, and then never returns, so its owner never reaps the
/// leader: the handler ends the process with `_exit` in a moment. The same
/// holds for a group tracked while the handler runs: it kills that group
/// itself.
#[derive(Debug)]
pub struct Tracked {
    slot: Option<&'static AtomicI32>,
}

impl Tracked {
    /// Tracks the group led by `pgid`, which must be unreaped until this is
    /// dropped. A full table (which a job's limits rule out) leaves it
    /// untracked: it is then killed by its tether and the leftover sweep
    /// only.
    pub fn new(pgid: i32) -> Tracked {
        let slot = (pgid > 0)
            .then(|| {
                GROUPS
                    .iter()
                    .find(|slot| slot.compare_exchange(0, pgid, Ordering::SeqCst, Ordering::Relaxed).is_ok())
            })
            .flatten();
        if slot.is_some() && KILLING.load(Ordering::SeqCst) {
            // The handler may have read the table before this slot was set.
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
            wait_for_the_end();
        }
        Tracked { slot }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            slot.store(0, Ordering::SeqCst);
            if KILLING.load(Ordering::SeqCst) {
                wait_for_the_end();
            }
        }
    }
}

/// Parks the calling thread while the handler ends the process.
fn wait_for_the_end() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// Whether the group led by `pgid` is in the handler's table.
#[cfg(test)]
pub(crate) fn tracks(pgid: i32) -> bool {
    GROUPS.iter().any(|slot| slot.load(Ordering::SeqCst) == pgid)
}

pub fn install() {
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGQUIT,
    ] {
        // SAFETY: the handler only swaps and stores atomics, reads the
        // table, and calls killpg (nix's wrapper adds no allocation or lock)
        // and _exit, all async-signal-safe.
        let _ = unsafe {
            signal_hook::low_level::register(signal, || {
                if REQUESTED.swap(true, Ordering::SeqCst) {
                    KILLING.store(true, Ordering::SeqCst);
                    for slot in &GROUPS {
                        let pgid = slot.load(Ordering::SeqCst);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_in_the_table_exactly_while_it_is_tracked() {
        // Not a real group: no signal is sent here, the table is only read.
        let pgid = i32::MAX - 7;
        let tracked = Tracked::new(pgid);
        assert!(tracks(pgid));
        drop(tracked);
        assert!(!tracks(pgid));
        let nothing = Tracked::new(0);
        assert!(nothing.slot.is_none(), "no group 0: killpg(0) would be parbench's own group");
    }
}
