//! The seed's heavy function. The blog post computed, for each price, a list
//! of 200,000 values of `p + p²` (after a 1000% increase), took the square
//! root twice of each, kept the minimum and returned `max(price, minimum)`.
//! The list is not kept here (the point is CPU work, not allocation), but every
//! iteration does the arithmetic on a value the optimiser cannot predict.

use std::hint::black_box;

use super::{BuiltinSpec, Kernel, ParamSpec, Params, param};

pub const SPEC: BuiltinSpec = BuiltinSpec {
    name: "price-crazy",
    summary: "the seed's heavy function: `iterations` values of p + p², square root twice each, then max(p, min)",
    cost: "proportional to iterations: about 4 ns per iteration per item (0.8 ms at the default)",
    ns_per_item: |params| 4.0 * param(params, "iterations"),
    params: &[
        ParamSpec {
            name: "iterations",
            default: 200_000.0,
            integer: true,
            non_negative: true,
            max: f64::MAX,
            help: "values computed per item",
        },
        ParamSpec {
            name: "percent",
            default: 1000.0,
            integer: false,
            non_negative: false,
            max: f64::MAX,
            help: "the increase applied first (the seed's p + p/10*100)",
        },
    ],
    make,
    hidden: false,
};

struct PriceCrazy {
    iterations: u64,
    factor: f64,
}

fn make(params: &Params) -> Box<dyn Kernel> {
    Box::new(PriceCrazy {
        iterations: param(params, "iterations") as u64,
        factor: 1.0 + param(params, "percent") / 100.0,
    })
}

impl PriceCrazy {
    fn one(&self, price: f64) -> f64 {
        let increased = price * self.factor;
        let mut minimum = f64::INFINITY;
        for _ in 0..self.iterations {
            // black_box on every iteration: without it the loop body is
            // loop-invariant and the compiler computes it once.
            let p = black_box(increased);
            let value = (p + p * p).sqrt().sqrt();
            minimum = minimum.min(value);
        }
        if self.iterations == 0 {
            return price;
        }
        price.max(minimum)
    }
}

impl Kernel for PriceCrazy {
    fn apply(&self, items: &[f64], out: &mut [f64]) {
        for (price, slot) in items.iter().zip(out.iter_mut()) {
            *slot = self.one(*price);
        }
    }
}
