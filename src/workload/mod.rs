//! Workloads: the builtin functions compiled into parbench, and external
//! commands. A builtin is a [`Kernel`] that maps a slice of numbers to a slice
//! of numbers; the strategies call it a chunk at a time so that dynamic
//! dispatch costs once per chunk, never once per item.

mod command;
mod crash;
mod price_crazy;
mod price_increase;
pub mod python;
mod sleep;
mod spin;

use std::collections::BTreeMap;

pub use command::{CommandSpec, Protocol};

static IN_WORKER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Called once by a `parbench __worker` process before it builds a kernel.
pub fn enter_worker() {
    IN_WORKER.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// True inside a `parbench __worker` process (the test-only `crash` builtin
/// ends only there, never in the runner).
pub fn in_worker() -> bool {
    IN_WORKER.load(std::sync::atomic::Ordering::Relaxed)
}

/// Resolved numeric parameters of a builtin, defaults filled in.
pub type Params = BTreeMap<String, f64>;

/// The work a builtin does for each item.
pub trait Kernel: Send + Sync {
    /// Computes `out[i] = f(items[i])` for every `i`. Both slices have the same length.
    fn apply(&self, items: &[f64], out: &mut [f64]);
}

/// What a workload is, ready to run.
#[derive(Debug, Clone)]
pub enum Work {
    Builtin { spec: &'static BuiltinSpec, params: Params },
    Command(CommandSpec),
    Python(python::PythonWork),
}

/// One parameter of a builtin.
#[derive(Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub default: f64,
    /// Whether only whole numbers make sense (an iteration count).
    pub integer: bool,
    /// Whether negative values are refused (a duration, a count).
    pub non_negative: bool,
    /// The largest value accepted; validation refuses more.
    pub max: f64,
    pub help: &'static str,
}

/// A builtin: its name as job files write it, its parameters, and how to build it.
pub struct BuiltinSpec {
    pub name: &'static str,
    pub summary: &'static str,
    /// What one item costs, in words, for `parbench list`.
    pub cost: &'static str,
    /// The same cost as a number, nanoseconds per item, for the estimate
    /// `parbench check` prints.
    pub ns_per_item: fn(&Params) -> f64,
    pub params: &'static [ParamSpec],
    pub make: fn(&Params) -> Box<dyn Kernel>,
    /// Left out of `parbench list` and suggestions: for parbench's own tests.
    pub hidden: bool,
}

impl std::fmt::Debug for BuiltinSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinSpec").field("name", &self.name).finish()
    }
}

/// Every builtin, in the order `parbench list` shows them.
pub const BUILTINS: &[BuiltinSpec] =
    &[price_increase::SPEC, price_crazy::SPEC, spin::SPEC, sleep::SPEC, crash::SPEC];

pub fn find_builtin(name: &str) -> Option<&'static BuiltinSpec> {
    BUILTINS.iter().find(|spec| spec.name == name)
}

impl BuiltinSpec {
    /// Fills in defaults for the parameters not given.
    pub fn resolve(&self, given: &BTreeMap<String, f64>) -> Params {
        self.params
            .iter()
            .map(|param| {
                let value = given.get(param.name).copied().unwrap_or(param.default);
                (param.name.to_owned(), value)
            })
            .collect()
    }

    pub fn kernel(&self, params: &Params) -> Box<dyn Kernel> {
        (self.make)(params)
    }
}

/// Reads a parameter that `resolve` guarantees is present.
fn param(params: &Params, name: &str) -> f64 {
    params.get(name).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn run(name: &str, given: &[(&str, f64)], items: &[f64]) -> Vec<f64> {
        let spec = find_builtin(name).unwrap();
        let given = given.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let kernel = spec.kernel(&spec.resolve(&given));
        let mut out = vec![0.0; items.len()];
        kernel.apply(items, &mut out);
        out
    }

    #[test]
    fn price_increase_adds_the_percentage() {
        assert_eq!(run("price-increase", &[("percent", 10.0)], &[100.0, 0.0]), vec![110.00000000000001, 0.0]);
        assert_eq!(run("price-increase", &[("percent", 50.0)], &[2.0]), vec![3.0]);
    }

    #[test]
    fn price_crazy_matches_the_seed_arithmetic() {
        // p = 4: new = 4 + 4/10*100 = 44; sqrt(sqrt(44 + 44^2)) ~ 6.67; max(4, that).
        let expected = (44.0f64 + 44.0 * 44.0).sqrt().sqrt();
        let out = run("price-crazy", &[("iterations", 10.0)], &[4.0, 0.0]);
        assert!((out[0] - expected).abs() < 1e-12, "{out:?}");
        assert_eq!(out[1], 0.0);
    }

    #[test]
    fn spin_depends_on_its_item_and_iterations() {
        let a = run("spin", &[("iterations", 1000.0)], &[1.0, 2.0]);
        let b = run("spin", &[("iterations", 1001.0)], &[1.0]);
        assert_ne!(a[0], a[1]);
        assert_ne!(a[0], b[0]);
    }

    #[test]
    fn sleep_returns_its_item() {
        assert_eq!(run("sleep", &[("millis", 0.0)], &[3.5]), vec![3.5]);
    }

    /// Not a timing assertion: a sanity check that the work is not optimised
    /// away, with a margin wide enough for any noisy machine (a factor of
    /// 1000 in iterations must cost more than a factor of 5 in time). The
    /// small work is timed five times and the fastest kept: a preemption
    /// of a few microseconds' work must not pass for its cost.
    #[test]
    fn crazy_work_grows_with_iterations() {
        let time = |iterations: f64| {
            let start = Instant::now();
            run("price-crazy", &[("iterations", iterations)], &[7.0; 4]);
            start.elapsed()
        };
        let small = (0..5).map(|_| time(200.0)).min().unwrap();
        let large = time(200_000.0);
        assert!(large > small * 5, "200 iterations {small:?}, 200000 {large:?}");
    }
}
