//! The seed's light function: a price raised by a percentage.

use std::hint::black_box;

use super::{BuiltinSpec, Kernel, ParamSpec, Params, param};

pub const SPEC: BuiltinSpec = BuiltinSpec {
    name: "price-increase",
    summary: "item × (1 + percent/100): the seed's light function",
    cost: "a few nanoseconds per item, independent of the parameters",
    ns_per_item: |_| 3.0,
    params: &[ParamSpec {
        name: "percent",
        default: 10.0,
        integer: false,
        non_negative: false,
        max: f64::MAX,
        help: "the increase in percent",
    }],
    make,
    hidden: false,
};

struct PriceIncrease {
    factor: f64,
}

fn make(params: &Params) -> Box<dyn Kernel> {
    Box::new(PriceIncrease { factor: 1.0 + param(params, "percent") / 100.0 })
}

impl Kernel for PriceIncrease {
    fn apply(&self, items: &[f64], out: &mut [f64]) {
        let factor = black_box(self.factor);
        for (price, slot) in items.iter().zip(out.iter_mut()) {
            *slot = black_box(*price) * factor;
        }
    }
}
