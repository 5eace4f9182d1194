//! A hidden builtin for testing how parbench survives a worker that dies:
//! inside a `processes` worker it ends the worker when it meets the item
//! `at`, by `signal` (0: exit with status 3 instead). Anywhere else (serial,
//! threads) it returns its items, so it never takes the runner down.
//! `parbench list` does not show it.

use nix::sys::signal::{Signal, raise};

use super::{BuiltinSpec, Kernel, ParamSpec, Params, param};

pub const SPEC: BuiltinSpec = BuiltinSpec {
    name: "__crash",
    summary: "ends a processes worker at item `at` (testing only)",
    cost: "nothing",
    ns_per_item: |_| 0.0,
    params: &[
        ParamSpec {
            name: "at",
            default: 0.0,
            integer: false,
            non_negative: false,
            max: f64::MAX,
            help: "the item that ends the worker",
        },
        ParamSpec {
            name: "signal",
            default: 9.0,
            integer: true,
            non_negative: true,
            max: f64::MAX,
            help: "the signal to die of; 0 exits with status 3",
        },
    ],
    make,
    hidden: true,
};

struct Crash {
    at: f64,
    signal: i32,
}

fn make(params: &Params) -> Box<dyn Kernel> {
    Box::new(Crash { at: param(params, "at"), signal: param(params, "signal") as i32 })
}

impl Kernel for Crash {
    fn apply(&self, items: &[f64], out: &mut [f64]) {
        for (item, slot) in items.iter().zip(out.iter_mut()) {
            if *item == self.at && super::in_worker() {
                if self.signal == 0 {
                    std::process::exit(3);
                }
                match Signal::try_from(self.signal) {
                    Ok(signal) => {
                        let _ = raise(signal);
                    }
                    // A real-time signal, which nix's `Signal` does not name.
                    // SAFETY: raise(3) only sends a signal to this thread
                    // (its default action ends us); a number that is no
                    // signal is refused with EINVAL.
                    Err(_) => unsafe {
                        libc::raise(self.signal);
                    },
                }
            }
            *slot = *item;
        }
    }
}
