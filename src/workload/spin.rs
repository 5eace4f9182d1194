//! Pure CPU: a dependent chain of integer multiply-adds (a linear
//! congruential generator), no memory traffic and no allocation.

use std::hint::black_box;

use super::{BuiltinSpec, Kernel, ParamSpec, Params, param};

pub const SPEC: BuiltinSpec = BuiltinSpec {
    name: "spin",
    summary: "a dependent arithmetic loop, CPU only, no allocation",
    cost: "proportional to iterations: about 1 ns per iteration per item",
    ns_per_item: |params| param(params, "iterations"),
    params: &[ParamSpec {
        name: "iterations",
        default: 1_000_000.0,
        integer: true,
        non_negative: true,
        max: f64::MAX,
        help: "length of the dependent loop per item",
    }],
    make,
    hidden: false,
};

struct Spin {
    iterations: u64,
}

fn make(params: &Params) -> Box<dyn Kernel> {
    Box::new(Spin { iterations: param(params, "iterations") as u64 })
}

impl Kernel for Spin {
    fn apply(&self, items: &[f64], out: &mut [f64]) {
        for (item, slot) in items.iter().zip(out.iter_mut()) {
            let mut state = item.to_bits();
            for _ in 0..black_box(self.iterations) {
                state = black_box(
                    state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407),
                );
            }
            // The top 53 bits as a fraction in [0, 1), plus the item, so the
            // result depends on both the item and the whole chain.
            *slot = *item + (state >> 11) as f64 / (1u64 << 53) as f64;
        }
    }
}
