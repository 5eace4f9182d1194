//! Ctrl-C and SIGTERM. The first one asks parbench to stop: the run in
//! progress is abandoned (its workers killed), nothing new starts, and what
//! was measured stays on disk. A second one ends parbench at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

static REQUESTED: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// The exit status of a run stopped by a signal, as shells report Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;

pub fn install() {
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // The order matters: the conditional shutdown sees the flag as it
        // was before this signal, so only a second signal exits.
        let _ = signal_hook::flag::register_conditional_shutdown(
            signal,
            EXIT_INTERRUPTED,
            Arc::clone(&REQUESTED),
        );
        let _ = signal_hook::flag::register(signal, Arc::clone(&REQUESTED));
    }
}

pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}
