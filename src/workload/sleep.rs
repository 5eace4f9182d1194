//! I/O-bound work: the item waits without using the CPU, as a network call
//! or a disk read would. Threads overlap such waits even under Python's GIL.

use std::time::Duration;

use super::{BuiltinSpec, Kernel, ParamSpec, Params, param};

pub const SPEC: BuiltinSpec = BuiltinSpec {
    name: "sleep",
    summary: "waits `millis` per item using no CPU: I/O-bound work",
    cost: "millis of wall time per item, almost no CPU",
    ns_per_item: |params| param(params, "millis") * 1e6,
    params: &[ParamSpec {
        name: "millis",
        default: 10.0,
        integer: false,
        non_negative: true,
        // An hour per item; past that a typo is likelier, and a Duration of
        // 1e300 ms does not exist.
        max: 3_600_000.0,
        help: "milliseconds to wait per item",
    }],
    make,
    hidden: false,
};

struct Sleep {
    pause: Duration,
}

fn make(params: &Params) -> Box<dyn Kernel> {
    Box::new(Sleep { pause: Duration::from_secs_f64(param(params, "millis").max(0.0) / 1000.0) })
}

impl Kernel for Sleep {
    fn apply(&self, items: &[f64], out: &mut [f64]) {
        for (item, slot) in items.iter().zip(out.iter_mut()) {
            std::thread::sleep(self.pause);
            *slot = *item;
        }
    }
}
