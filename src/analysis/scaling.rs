//! Scaling laws fitted to measured points, as numbers: the Karp–Flatt
//! metric, Amdahl's serial fraction, Gunther's Universal Scalability Law,
//! the linear cost model t(n) = a + b·n and its break-even list size, each
//! with an interval: a bootstrap over rounds, or for the USL's σ and κ a
//! profile likelihood that holds at their bounds. Pure functions of plain numbers;
//! `report/` says what they mean.
//!
//! The fits are small (one to three parameters, a handful of points), and
//! the USL's parameters are bounded, which the crates for nonlinear least
//! squares do not offer; so the solver here is a grid search followed by a
//! Levenberg–Marquardt refinement clamped to the bounds, as the R `usl`
//! package does with `nls(algorithm = "port")` and its bounds.

use crate::stats::splitmix64;

mod profile;
pub use profile::usl_intervals;
use profile::{best_scale, kappa_grid, sigma_grid};

/// An interval at [`LEVEL`]: (low, high), low ≤ high.
pub type Interval = (f64, f64);

/// The level every interval here is made for: the bootstrap's percentiles
/// and the USL's profile test. Reports state it beside each interval.
pub const LEVEL: f64 = 0.95;

/// Bootstrap resamples for each interval.
pub const RESAMPLES: usize = 1000;
/// Fixed, so that the same rows give the same intervals, byte for byte.
const SEED: u64 = 0x05CA_1E5E_ED0F_F175;

// ---------------------------------------------------------------- Karp–Flatt

/// The experimentally determined serial fraction e(N) = (1/S − 1/N) /
/// (1 − 1/N) for a speedup S at N > 1 workers.
pub fn karp_flatt(workers: f64, speedup: f64) -> Option<f64> {
    (workers > 1.0 && speedup > 0.0 && speedup.is_finite())
        .then(|| (1.0 / speedup - 1.0 / workers) / (1.0 - 1.0 / workers))
}

/// How e(N) moves as workers are added: flat means a fixed serial fraction
/// (Amdahl); rising means an overhead that grows with the workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Flat,
    Rising,
    Falling,
}

/// How far e must move across the measured worker counts (by the
/// least-squares line through it) to be a trend rather than noise.
pub const TREND_CHANGE: f64 = 0.02;

/// How much e changes from the fewest to the most workers measured, along
/// the least-squares line through (workers, e) pairs; `None` for fewer
/// than two.
pub fn karp_flatt_change(values: &[(f64, f64)]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let (slope, _) = least_squares_line(values)?;
    let span = values.iter().map(|v| v.0).fold(f64::NEG_INFINITY, f64::max)
        - values.iter().map(|v| v.0).fold(f64::INFINITY, f64::min);
    Some(slope * span)
}

/// The trend of a change in e: beyond [`TREND_CHANGE`], and, given its
/// interval, clearly away from zero; flat otherwise.
pub fn trend(change: f64, interval: Option<Interval>) -> Trend {
    let (low, high) = interval.unwrap_or((change, change));
    if change > TREND_CHANGE && low > 0.0 {
        Trend::Rising
    } else if change < -TREND_CHANGE && high < 0.0 {
        Trend::Falling
    } else {
        Trend::Flat
    }
}

/// The trend of (workers, e) pairs, without an interval.
pub fn karp_flatt_trend(values: &[(f64, f64)]) -> Option<Trend> {
    karp_flatt_change(values).map(|change| trend(change, None))
}

/// Ordinary least squares y = slope·x + intercept.
fn least_squares_line(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let count = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / count;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / count;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (sxx > 0.0).then(|| (sxy / sxx, mean_y - sxy / sxx * mean_x))
}

// ---------------------------------------------------------------- Amdahl

/// Amdahl's law: S(N) = 1 / (f + (1 − f)/N).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Amdahl {
    pub serial_fraction: f64,
}

impl Amdahl {
    pub fn speedup(&self, workers: f64) -> f64 {
        1.0 / (self.serial_fraction + (1.0 - self.serial_fraction) / workers)
    }
}

/// Least squares over f ∈ [0, 1] on (workers, speedup) points: a grid, then
/// golden-section search around its best cell.
pub fn fit_amdahl(points: &[(f64, f64)]) -> Option<Amdahl> {
    if !usable(points) || !points.iter().any(|p| p.0 > 1.0) {
        return None;
    }
    let sse = |f: f64| squared_error(points, |n| Amdahl { serial_fraction: f }.speedup(n));
    let steps = 200;
    let best =
        (0..=steps).min_by(|a, b| sse(*a as f64 / steps as f64).total_cmp(&sse(*b as f64 / steps as f64)))?;
    let bracket = ((best.max(1) - 1) as f64 / steps as f64, ((best + 1).min(steps)) as f64 / steps as f64);
    Some(Amdahl { serial_fraction: golden_section(bracket, 60, sse) })
}

/// The minimum of `f` within `(low, high)`, where it has one, narrowed by
/// golden-section search over `rounds` steps: the middle of what is left.
pub(super) fn golden_section((mut low, mut high): (f64, f64), rounds: usize, f: impl Fn(f64) -> f64) -> f64 {
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..rounds {
        let left = high - ratio * (high - low);
        let right = low + ratio * (high - low);
        if f(left) <= f(right) {
            high = right;
        } else {
            low = left;
        }
    }
    (low + high) / 2.0
}

// ---------------------------------------------------------------- USL

/// Gunther's Universal Scalability Law for speedups:
/// S(N) = λN / (1 + σ(N − 1) + κN(N − 1)), where σ is contention (the
/// serial part) and κ coherency (the cost of keeping workers in step). λ,
/// the speedup of one worker, is fitted too, as the R `usl` package does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usl {
    pub scale: f64,
    pub sigma: f64,
    pub kappa: f64,
}

/// Distinct worker counts the USL needs: three parameters and one degree
/// of freedom to judge them by.
pub const USL_MIN_COUNTS: usize = 4;
/// Distinct worker counts Amdahl and Karp–Flatt need to show a shape.
pub const AMDAHL_MIN_COUNTS: usize = 3;

impl Usl {
    pub fn speedup(&self, workers: f64) -> f64 {
        self.scale * workers / self.denominator(workers)
    }

    fn denominator(&self, workers: f64) -> f64 {
        1.0 + self.sigma * (workers - 1.0) + self.kappa * workers * (workers - 1.0)
    }

    /// N* = √((1 − σ)/κ): more workers than this make it slower. `None`
    /// without coherency cost (κ = 0: the curve never turns down), and
    /// where κ is so small that N* is past any number (the speedup there
    /// would be ∞/∞, not a number).
    pub fn peak_workers(&self) -> Option<f64> {
        (self.kappa > 0.0).then(|| ((1.0 - self.sigma) / self.kappa).sqrt()).filter(|peak| peak.is_finite())
    }

    /// The speedup at N*, where there is one.
    pub fn peak_speedup(&self) -> Option<f64> {
        self.peak_workers().map(|workers| self.speedup(workers))
    }

    /// (∂S/∂λ, ∂S/∂σ, ∂S/∂κ) at N.
    fn gradient(&self, workers: f64) -> [f64; 3] {
        let denominator = self.denominator(workers);
        let top = self.scale * workers / (denominator * denominator);
        [workers / denominator, -top * (workers - 1.0), -top * workers * (workers - 1.0)]
    }

    fn clamped(self) -> Usl {
        Usl {
            scale: self.scale.max(1e-12),
            sigma: self.sigma.clamp(0.0, 1.0),
            kappa: self.kappa.clamp(0.0, 1.0),
        }
    }
}

/// Bounded least squares: σ, κ ∈ [0, 1], λ > 0. A grid over (σ, κ) with λ
/// solved exactly at each cell (the model is linear in λ) finds the basin;
/// Levenberg–Marquardt steps, clamped to the bounds, polish it.
pub fn fit_usl(points: &[(f64, f64)]) -> Option<Usl> {
    if !usable(points) || distinct_counts(points) < USL_MIN_COUNTS {
        return None;
    }
    let sse = |usl: &Usl| relative_squared_error(points, |n| usl.speedup(n));
    let kappas: Vec<f64> = kappa_grid().collect();
    let mut best = best_scale(points, 0.0, 0.0);
    let mut best_sse = sse(&best);
    for sigma in sigma_grid() {
        for &kappa in &kappas {
            let candidate = best_scale(points, sigma, kappa);
            let candidate_sse = sse(&candidate);
            if candidate_sse < best_sse {
                (best, best_sse) = (candidate, candidate_sse);
            }
        }
    }
    let mut damping = 1e-3;
    for _ in 0..200 {
        let mut normal = [[0.0; 3]; 3];
        let mut rhs = [0.0; 3];
        for (n, s) in points {
            let gradient = best.gradient(*n);
            let residual = s - best.speedup(*n);
            let weight = 1.0 / (s * s);
            for i in 0..3 {
                rhs[i] += weight * gradient[i] * residual;
                for j in 0..3 {
                    normal[i][j] += weight * gradient[i] * gradient[j];
                }
            }
        }
        for (i, row) in normal.iter_mut().enumerate() {
            row[i] += damping * row[i].max(1e-12);
        }
        let Some(step) = solve3(normal, rhs) else { break };
        let candidate =
            Usl { scale: best.scale + step[0], sigma: best.sigma + step[1], kappa: best.kappa + step[2] }
                .clamped();
        let candidate_sse = sse(&candidate);
        if candidate_sse < best_sse {
            let gain = best_sse - candidate_sse;
            (best, best_sse) = (candidate, candidate_sse);
            damping = (damping / 3.0).max(1e-12);
            if gain <= 1e-15 * best_sse.max(1e-300) {
                break;
            }
        } else {
            damping *= 4.0;
            if damping > 1e12 {
                break;
            }
        }
    }
    Some(best)
}

/// Gaussian elimination with partial pivoting for a 3×3 system.
fn solve3(mut matrix: [[f64; 3]; 3], mut rhs: [f64; 3]) -> Option<[f64; 3]> {
    for column in 0..3 {
        let pivot =
            (column..3).max_by(|a, b| matrix[*a][column].abs().total_cmp(&matrix[*b][column].abs()))?;
        if matrix[pivot][column].abs() < 1e-300 {
            return None;
        }
        matrix.swap(column, pivot);
        rhs.swap(column, pivot);
        for row in column + 1..3 {
            let factor = matrix[row][column] / matrix[column][column];
            let (upper, lower) = matrix.split_at_mut(row);
            for (target, source) in lower[0][column..].iter_mut().zip(&upper[column][column..]) {
                *target -= factor * source;
            }
            rhs[row] -= factor * rhs[column];
        }
    }
    let mut solution = [0.0; 3];
    for row in (0..3).rev() {
        let known: f64 = (row + 1..3).map(|k| matrix[row][k] * solution[k]).sum();
        solution[row] = (rhs[row] - known) / matrix[row][row];
    }
    solution.iter().all(|value| value.is_finite()).then_some(solution)
}

// ---------------------------------------------------------------- cost model

/// t(n) = a + b·n: a the fixed cost (starting a pool), b the cost per item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostLine {
    pub fixed_s: f64,
    pub per_item_s: f64,
}

/// List sizes the cost model needs: two parameters and one degree of
/// freedom.
pub const COST_MIN_SIZES: usize = 3;

impl CostLine {
    pub fn seconds(&self, items: f64) -> f64 {
        self.fixed_s + self.per_item_s * items
    }
}

/// Least squares on (list size, seconds) points, weighted by 1/t² so that
/// every point counts by its relative error (sizes span decades, and timing
/// noise grows with the time). a and b are kept ≥ 0.
pub fn fit_cost(points: &[(f64, f64)]) -> Option<CostLine> {
    if !usable(points) || distinct_counts(points) < COST_MIN_SIZES || points.iter().any(|p| p.1 <= 0.0) {
        return None;
    }
    let weight = |t: f64| 1.0 / (t * t);
    let (mut sw, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (n, t) in points {
        let w = weight(*t);
        sw += w;
        sx += w * n;
        sy += w * t;
        sxx += w * n * n;
        sxy += w * n * t;
    }
    let determinant = sw * sxx - sx * sx;
    if determinant <= 0.0 {
        return None;
    }
    let per_item = (sw * sxy - sx * sy) / determinant;
    let fixed = (sy - per_item * sx) / sw;
    // On a bound, the best line with that parameter at zero.
    Some(if fixed < 0.0 {
        CostLine { fixed_s: 0.0, per_item_s: (sxy / sxx).max(0.0) }
    } else if per_item < 0.0 {
        CostLine { fixed_s: sy / sw, per_item_s: 0.0 }
    } else {
        CostLine { fixed_s: fixed, per_item_s: per_item }
    })
}

/// Where a pool's line crosses serial's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BreakEven {
    /// Faster from this many items on.
    From(f64),
    /// Faster at every size.
    Always,
    /// Slower at every size: its cost per item is no lower.
    Never,
}

impl BreakEven {
    /// As a number for intervals: 0 for always, infinity for never.
    pub fn items(&self) -> f64 {
        match self {
            BreakEven::From(items) => *items,
            BreakEven::Always => 0.0,
            BreakEven::Never => f64::INFINITY,
        }
    }
}

pub fn break_even(serial: &CostLine, pool: &CostLine) -> BreakEven {
    let extra_fixed = pool.fixed_s - serial.fixed_s;
    let saved_per_item = serial.per_item_s - pool.per_item_s;
    match (extra_fixed <= 0.0, saved_per_item > 0.0) {
        (true, true) => BreakEven::Always,
        (false, true) => BreakEven::From(extra_fixed / saved_per_item),
        (true, false) if extra_fixed < 0.0 && saved_per_item == 0.0 => BreakEven::Always,
        _ => BreakEven::Never,
    }
}

// ---------------------------------------------------------------- fit quality

/// √(mean((measured − fitted)/measured)²): 0.05 means the curve is off by
/// 5% on a typical point.
pub fn relative_rms(points: &[(f64, f64)], model: impl Fn(f64) -> f64) -> f64 {
    let sum: f64 = points.iter().map(|(x, y)| ((y - model(*x)) / y).powi(2)).sum();
    (sum / points.len().max(1) as f64).sqrt()
}

fn squared_error(points: &[(f64, f64)], model: impl Fn(f64) -> f64) -> f64 {
    points.iter().map(|(x, y)| (y - model(*x)).powi(2)).sum()
}

/// Σ((measured − fitted)/measured)²: timing noise is relative, so a
/// speedup of 10 is off by ten times what a speedup of 1 is.
fn relative_squared_error(points: &[(f64, f64)], model: impl Fn(f64) -> f64) -> f64 {
    points.iter().map(|(x, y)| ((y - model(*x)) / y).powi(2)).sum()
}

fn usable(points: &[(f64, f64)]) -> bool {
    !points.is_empty() && points.iter().all(|(x, y)| x.is_finite() && y.is_finite() && *x > 0.0 && *y > 0.0)
}

fn distinct_counts(points: &[(f64, f64)]) -> usize {
    let mut xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    xs.len()
}

// ---------------------------------------------------------------- bootstrap

/// [`LEVEL`] percentile intervals of `statistic` over resamples of whole
/// rounds.
///
/// `series[k][r]` is series k's value in round r (NaN where it has none).
/// Each resample draws round numbers with replacement and takes the same
/// rounds from every series, so values measured side by side stay
/// together; `statistic` gets each series' median over the drawn rounds
/// and returns its numbers (infinite allowed), or `None` where the fit
/// fails; a resample with a number that is not one (NaN) counts as failed,
/// so that it cannot sort below every other and turn an interval upside
/// down. `None` when fewer than half the resamples give a value.
pub fn bootstrap_rounds(
    series: &[Vec<f64>],
    statistic: impl Fn(&[f64]) -> Option<Vec<f64>>,
) -> Option<Vec<Interval>> {
    let rounds = series.iter().map(Vec::len).max()?;
    if rounds == 0 {
        return None;
    }
    let mut state = SEED;
    let mut draws: Vec<Vec<f64>> = Vec::new();
    let mut drawn = vec![0; rounds];
    let mut scratch = Vec::with_capacity(rounds);
    let mut medians = vec![0.0; series.len()];
    'resample: for _ in 0..RESAMPLES {
        for slot in drawn.iter_mut() {
            *slot = (splitmix64(&mut state) % rounds as u64) as usize;
        }
        for (values, median) in series.iter().zip(medians.iter_mut()) {
            scratch.clear();
            scratch.extend(
                drawn.iter().filter_map(|round| values.get(*round)).filter(|value| value.is_finite()),
            );
            match median_of(&mut scratch) {
                Some(value) => *median = value,
                None => continue 'resample,
            }
        }
        if let Some(values) = statistic(&medians).filter(|values| !values.iter().any(|v| v.is_nan())) {
            if draws.is_empty() {
                draws = vec![Vec::with_capacity(RESAMPLES); values.len()];
            }
            for (column, value) in draws.iter_mut().zip(values) {
                column.push(value);
            }
        }
    }
    if draws.first().is_none_or(|column| column.len() < RESAMPLES / 2) {
        return None;
    }
    Some(draws.into_iter().map(percentiles).collect())
}

/// The median of each series over all its rounds.
pub fn medians(series: &[Vec<f64>]) -> Option<Vec<f64>> {
    series
        .iter()
        .map(|values| {
            median_of(&mut values.iter().copied().filter(|value| value.is_finite()).collect::<Vec<f64>>())
        })
        .collect()
}

fn median_of(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    })
}

fn percentiles(mut values: Vec<f64>) -> Interval {
    values.sort_by(f64::total_cmp);
    let at = |fraction: f64| values[((values.len() - 1) as f64 * fraction).round() as usize];
    (at((1.0 - LEVEL) / 2.0), at((1.0 + LEVEL) / 2.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Multiplicative noise, uniform in ±`spread`, reproducible.
    struct Noise(u64);

    impl Noise {
        fn factor(&mut self, spread: f64) -> f64 {
            let unit = (splitmix64(&mut self.0) >> 11) as f64 / (1u64 << 53) as f64;
            1.0 + spread * (2.0 * unit - 1.0)
        }
    }

    /// `rounds` noisy measurements of `truth` at each x.
    fn measure(
        xs: &[f64],
        truth: impl Fn(f64) -> f64,
        rounds: usize,
        spread: f64,
        seed: u64,
    ) -> Vec<Vec<f64>> {
        let mut noise = Noise(seed);
        xs.iter().map(|x| (0..rounds).map(|_| truth(*x) * noise.factor(spread)).collect()).collect()
    }

    fn pairs(xs: &[f64], values: &[f64]) -> Vec<(f64, f64)> {
        xs.iter().copied().zip(values.iter().copied()).collect()
    }

    fn within(value: f64, (low, high): Interval) -> bool {
        low - 1e-9 <= value && value <= high + 1e-9
    }

    const WORKERS: [f64; 6] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0];

    #[test]
    fn karp_flatt_is_the_serial_fraction_of_an_amdahl_speedup() {
        let amdahl = Amdahl { serial_fraction: 0.1 };
        for n in [2.0, 4.0, 16.0] {
            assert!((karp_flatt(n, amdahl.speedup(n)).unwrap() - 0.1).abs() < 1e-12);
        }
        assert_eq!(karp_flatt(1.0, 1.0), None);
        assert_eq!(karp_flatt(2.0, 0.0), None);
        let flat: Vec<(f64, f64)> = [2.0, 4.0, 8.0].iter().map(|n| (*n, 0.1)).collect();
        assert_eq!(karp_flatt_trend(&flat), Some(Trend::Flat));
        let usl = Usl { scale: 1.0, sigma: 0.02, kappa: 0.01 };
        let rising: Vec<(f64, f64)> =
            [2.0, 4.0, 8.0].iter().map(|n| (*n, karp_flatt(*n, usl.speedup(*n)).unwrap())).collect();
        assert_eq!(karp_flatt_trend(&rising), Some(Trend::Rising));
        assert_eq!(karp_flatt_trend(&rising[..1]), None);
        // A change that its interval does not separate from zero is noise.
        assert_eq!(trend(0.05, Some((-0.01, 0.1))), Trend::Flat);
        assert_eq!(trend(0.05, Some((0.01, 0.1))), Trend::Rising);
        assert_eq!(trend(-0.05, Some((-0.1, -0.01))), Trend::Falling);
    }

    #[test]
    fn amdahl_recovers_a_known_serial_fraction_within_its_interval() {
        for (truth, seed) in [(0.0, 1), (0.05, 2), (0.3, 3)] {
            let amdahl = Amdahl { serial_fraction: truth };
            let series = measure(&WORKERS, |n| amdahl.speedup(n), 10, 0.03, seed);
            let fit = fit_amdahl(&pairs(&WORKERS, &medians(&series).unwrap())).unwrap();
            let interval = bootstrap_rounds(&series, |medians| {
                fit_amdahl(&pairs(&WORKERS, medians)).map(|fit| vec![fit.serial_fraction])
            })
            .unwrap()[0];
            assert!(within(truth, interval), "f = {truth}: {interval:?}");
            assert!(within(fit.serial_fraction, interval), "{fit:?} {interval:?}");
            assert!((fit.serial_fraction - truth).abs() < 0.02, "{fit:?}");
        }
    }

    #[test]
    fn the_usl_recovers_known_contention_and_coherency_within_their_intervals() {
        for (truth, seed) in [
            (Usl { scale: 1.0, sigma: 0.05, kappa: 0.002 }, 11),
            (Usl { scale: 0.95, sigma: 0.2, kappa: 0.0 }, 12),
            (Usl { scale: 1.0, sigma: 0.01, kappa: 0.02 }, 13),
        ] {
            let series = measure(&WORKERS, |n| truth.speedup(n), 10, 0.02, seed);
            let fit = fit_usl(&pairs(&WORKERS, &medians(&series).unwrap())).unwrap();
            let intervals = bootstrap_rounds(&series, |medians| {
                fit_usl(&pairs(&WORKERS, medians)).map(|fit| vec![fit.sigma, fit.kappa])
            })
            .unwrap();
            assert!(within(truth.sigma, intervals[0]), "σ {truth:?}: {fit:?} {intervals:?}");
            assert!(within(truth.kappa, intervals[1]), "κ {truth:?}: {fit:?} {intervals:?}");
            assert!(within(fit.sigma, intervals[0]) && within(fit.kappa, intervals[1]));
            assert!((fit.sigma - truth.sigma).abs() < 0.05, "{truth:?} {fit:?}");
            assert!((fit.kappa - truth.kappa).abs() < 0.005, "{truth:?} {fit:?}");
            assert!(relative_rms(&pairs(&WORKERS, &medians(&series).unwrap()), |n| fit.speedup(n)) < 0.03);
        }
    }

    #[test]
    fn the_usl_peak_is_where_the_curve_turns() {
        let usl = Usl { scale: 1.0, sigma: 0.1, kappa: 0.01 };
        let peak = usl.peak_workers().unwrap();
        assert!((peak - 90f64.sqrt()).abs() < 1e-12);
        assert!(usl.speedup(peak) > usl.speedup(peak - 0.5) && usl.speedup(peak) > usl.speedup(peak + 0.5));
        assert_eq!(Usl { scale: 1.0, sigma: 0.1, kappa: 0.0 }.peak_workers(), None);
    }

    #[test]
    fn the_usl_needs_four_worker_counts_and_stays_in_bounds() {
        let three = [(1.0, 1.0), (2.0, 1.9), (4.0, 3.5)];
        assert_eq!(fit_usl(&three), None);
        // Superlinear points would want σ < 0: it stays at the bound.
        let superlinear = [(1.0, 1.0), (2.0, 2.2), (4.0, 4.8), (8.0, 10.0)];
        let fit = fit_usl(&superlinear).unwrap();
        assert!(fit.sigma == 0.0 && fit.kappa == 0.0, "{fit:?}");
        assert_eq!(fit_usl(&[(1.0, 1.0), (2.0, f64::NAN), (3.0, 2.0), (4.0, 2.0)]), None);
    }

    #[test]
    fn the_cost_model_recovers_fixed_and_per_item_costs_and_their_break_even() {
        let sizes = [100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0];
        let serial = CostLine { fixed_s: 2e-6, per_item_s: 1e-6 };
        let pool = CostLine { fixed_s: 5e-3, per_item_s: 0.55e-6 };
        let truth = break_even(&serial, &pool);
        assert!(matches!(truth, BreakEven::From(items) if (items - 11_106.7).abs() < 1.0), "{truth:?}");
        let fits = |medians: &[f64]| {
            let serial = fit_cost(&pairs(&sizes, &medians[..5]))?;
            let pool = fit_cost(&pairs(&sizes, &medians[5..]))?;
            Some(vec![pool.fixed_s, pool.per_item_s, break_even(&serial, &pool).items()])
        };
        // A 95% interval misses now and then: over 20 noisy experiments
        // each truth must be inside in most, and every estimate in its own.
        let mut covered = [0; 3];
        for seed in 0..20 {
            let mut series = measure(&sizes, |n| serial.seconds(n), 10, 0.03, 2 * seed);
            series.extend(measure(&sizes, |n| pool.seconds(n), 10, 0.03, 2 * seed + 1));
            let estimate = fits(&medians(&series).unwrap()).unwrap();
            let intervals = bootstrap_rounds(&series, fits).unwrap();
            for (index, value) in [pool.fixed_s, pool.per_item_s, truth.items()].into_iter().enumerate() {
                covered[index] += usize::from(within(value, intervals[index]));
                assert!(within(estimate[index], intervals[index]), "{estimate:?} {intervals:?}");
            }
            assert!((estimate[2] / truth.items() - 1.0).abs() < 0.2, "{estimate:?}");
        }
        assert!(covered.iter().all(|count| *count >= 16), "covered in {covered:?} of 20");
    }

    #[test]
    fn a_pool_that_costs_more_per_item_never_pays() {
        let serial = CostLine { fixed_s: 0.0, per_item_s: 4e-9 };
        assert_eq!(break_even(&serial, &CostLine { fixed_s: 3e-3, per_item_s: 30e-9 }), BreakEven::Never);
        assert_eq!(break_even(&serial, &CostLine { fixed_s: 0.0, per_item_s: 2e-9 }), BreakEven::Always);
        assert_eq!(fit_cost(&[(10.0, 1.0), (100.0, 2.0)]), None);
        // Times that fall with the size would need b < 0: b stays at 0.
        let flat = fit_cost(&[(10.0, 3.0), (100.0, 2.0), (1000.0, 1.0)]).unwrap();
        assert_eq!(flat.per_item_s, 0.0);
    }

    #[test]
    fn the_bootstrap_keeps_rounds_together_and_is_reproducible() {
        // Two series that drift together round by round: their ratio is
        // exact in every round, so its interval has no width.
        let drift = [1.0, 1.3, 0.8, 1.1, 0.9, 1.2];
        let series = vec![drift.to_vec(), drift.iter().map(|d| 2.0 * d).collect()];
        let ratio = |medians: &[f64]| Some(vec![medians[1] / medians[0]]);
        let intervals = bootstrap_rounds(&series, ratio).unwrap();
        assert_eq!(intervals, vec![(2.0, 2.0)]);
        assert_eq!(bootstrap_rounds(&series, ratio), Some(intervals));
        assert_eq!(bootstrap_rounds(&series, |_| None), None);
        // Not a number is no value (NaN would sort below every other and
        // turn an interval upside down): the resample counts as failed.
        assert_eq!(bootstrap_rounds(&series, |_| Some(vec![f64::NAN])), None);
        let some_nan = |medians: &[f64]| Some(vec![if medians[0] > 1.15 { f64::NAN } else { medians[0] }]);
        let (low, high) = bootstrap_rounds(&series, some_nan).unwrap()[0];
        assert!(!low.is_nan() && low <= high && high <= 1.15, "{low} {high}");
        assert_eq!(bootstrap_rounds(&[], ratio), None);
    }
}
