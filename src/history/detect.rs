//! Change points in a series of per-commit medians: E-divisive means
//! (Matteson & James 2014) proposes where a segment splits, a Welch t-test
//! decides whether the split is real, and a minimum magnitude decides
//! whether it is worth a line.
//!
//! - **Where.** In a segment of `m` values, the split `τ` (at least two
//!   values on each side) that maximises the energy statistic
//!   `Q(τ) = τ(m−τ)/m · (2·E|X−Y| − E|X−X'| − E|Y−Y'|)` (α = 1). Its sums
//!   are kept in Fenwick trees over the values' ranks, so a segment costs
//!   O(m log m) rather than O(m²).
//! - **Whether.** A Student t-test (pooled variance) between the two
//!   sides, at the series' level divided by the number of splits the
//!   series offers (`n − 3`, Bonferroni): the split tested is the best of
//!   many, so an unadjusted p-value would find a change in nearly every
//!   long series. This is what keeps the false alarms of a 1,000-commit
//!   series as rare as those of a 30-commit one, with no magnitude floor
//!   doing the work. A significant split splits its segment and both
//!   halves are searched again, at the same level (the family is the
//!   whole series, so a real change does not buy its neighbours a laxer
//!   test).
//! - **The newest commit.** A change at the last commit leaves one value on
//!   its side, which no split can test. The last value is tested on its own
//!   against the last segment (at least three values) with a prediction
//!   interval: `t = (x − mean)/(s·√(1 + 1/k))`, Student with `k − 1`
//!   degrees of freedom, at a fifth of the level (one position, but one
//!   tested in every series, so it must not add much to the false alarms).
//! - **Worth a line.** Each change is then tested again between its final
//!   neighbours (the segments either side of it), and the weakest change
//!   whose p-value is not below the level or whose relative change of
//!   median is under the floor is dropped and its segments joined, until
//!   every change left passes both.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// What counts as a change.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The family-wise level of one segment's test (0.05).
    pub alpha: f64,
    /// The smallest relative change of median reported (0.10 for 10%).
    pub min_change: f64,
}

/// A change: the values from `index` on differ from those before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The first value after the change.
    pub index: usize,
    /// The medians of the segments before and after.
    pub before: f64,
    pub after: f64,
    /// The test's p-value times the number of splits the series offers
    /// (Bonferroni; at most 1); for a change at the newest commit, its
    /// prediction interval's p-value.
    pub p_value: f64,
}

impl Change {
    /// `after / before − 1`: 0.5 for 50% slower.
    pub fn relative(&self) -> f64 {
        self.after / self.before - 1.0
    }
}

/// The newest value is tested at this share of `alpha`.
const NEWEST_SHARE: f64 = 0.2;

/// The change points of `values`, in order.
pub fn changes(values: &[f64], settings: Settings) -> Vec<Change> {
    let mut splits = Vec::new();
    let tests = values.len().saturating_sub(3) as f64;
    split(values, 0, values.len(), settings.alpha / tests, &mut splits);
    splits.sort_unstable();
    let n = values.len();
    let last_start = splits.last().copied().unwrap_or(0);
    if n >= 4 && n - 1 - last_start >= 3 && newest_p(&values[last_start..]) < settings.alpha * NEWEST_SHARE {
        splits.push(n - 1);
    }
    loop {
        let found = judged(values, &splits);
        let failing = found
            .iter()
            .enumerate()
            .filter(|(_, change)| {
                // NaN (an empty side) passes neither.
                let significant = change.p_value < alpha_at(change.index, n, settings.alpha);
                let large = change.relative().abs() >= settings.min_change;
                !(significant && large)
            })
            .max_by(|(_, a), (_, b)| a.p_value.total_cmp(&b.p_value));
        match failing {
            Some((at, _)) => {
                splits.remove(at);
            }
            None => return found,
        }
    }
}

fn alpha_at(index: usize, n: usize, alpha: f64) -> f64 {
    if index == n - 1 { alpha * NEWEST_SHARE } else { alpha }
}

/// Every split tested between its neighbours.
fn judged(values: &[f64], splits: &[usize]) -> Vec<Change> {
    let n = values.len();
    (0..splits.len())
        .map(|at| {
            let start = if at == 0 { 0 } else { splits[at - 1] };
            let end = splits.get(at + 1).copied().unwrap_or(n);
            let (left, right) = (&values[start..splits[at]], &values[splits[at]..end]);
            let p_value = if right.len() == 1 && end == n {
                newest_p(&values[start..end])
            } else if left.len() < 2 || right.len() < 2 {
                1.0
            } else {
                (student_p(left, right) * n.saturating_sub(3) as f64).min(1.0)
            };
            Change { index: splits[at], before: median(left), after: median(right), p_value }
        })
        .collect()
}

/// Binary segmentation of `values[start..end]`.
fn split(values: &[f64], start: usize, end: usize, alpha: f64, found: &mut Vec<usize>) {
    // `alpha` is the level of one split's test: the series' level over its candidate splits.
    let m = end - start;
    if m < 4 {
        return;
    }
    let segment = &values[start..end];
    let Some(tau) = best_split(segment) else { return };
    if student_p(&segment[..tau], &segment[tau..]) < alpha {
        found.push(start + tau);
        split(values, start, start + tau, alpha, found);
        split(values, start + tau, end, alpha, found);
    }
}

/// The split of `x` (two values at least on each side) with the largest
/// energy statistic.
pub fn best_split(x: &[f64]) -> Option<usize> {
    let m = x.len();
    if m < 4 {
        return None;
    }
    // within_left[τ]: Σ_{i<j<τ} |x_i − x_j|; within_right[τ]: Σ_{τ≤i<j} |x_i − x_j|.
    let ranks = ranks(x);
    let mut within_left = vec![0.0; m + 1];
    let mut tree = Fenwick::new(m);
    for t in 0..m {
        within_left[t + 1] = within_left[t] + tree.distance_sum(ranks[t], x[t]);
        tree.add(ranks[t], x[t]);
    }
    let mut within_right = vec![0.0; m + 1];
    let mut tree = Fenwick::new(m);
    for t in (0..m).rev() {
        within_right[t] = within_right[t + 1] + tree.distance_sum(ranks[t], x[t]);
        tree.add(ranks[t], x[t]);
    }
    let total = within_left[m];
    let mut best: Option<(usize, f64)> = None;
    for tau in 2..=m - 2 {
        let (left, right) = (tau as f64, (m - tau) as f64);
        let cross = total - within_left[tau] - within_right[tau];
        let between = 2.0 * cross / (left * right);
        let inside_left = 2.0 * within_left[tau] / (left * (left - 1.0));
        let inside_right = 2.0 * within_right[tau] / (right * (right - 1.0));
        let q = left * right / m as f64 * (between - inside_left - inside_right);
        if best.is_none_or(|(_, top)| q > top) {
            best = Some((tau, q));
        }
    }
    best.map(|(tau, _)| tau)
}

/// Each value's rank (ties broken by position), from 0.
fn ranks(x: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(a.cmp(&b)));
    let mut ranks = vec![0; x.len()];
    for (rank, index) in order.into_iter().enumerate() {
        ranks[index] = rank;
    }
    ranks
}

/// Counts and sums of the values added so far, by rank.
struct Fenwick {
    count: Vec<f64>,
    sum: Vec<f64>,
}

impl Fenwick {
    fn new(n: usize) -> Fenwick {
        Fenwick { count: vec![0.0; n + 1], sum: vec![0.0; n + 1] }
    }

    fn add(&mut self, rank: usize, value: f64) {
        let mut at = rank + 1;
        while at < self.count.len() {
            self.count[at] += 1.0;
            self.sum[at] += value;
            at += at & at.wrapping_neg();
        }
    }

    /// Count and sum of the values added with a rank below `rank`.
    fn below(&self, rank: usize) -> (f64, f64) {
        let (mut count, mut sum, mut at) = (0.0, 0.0, rank);
        while at > 0 {
            count += self.count[at];
            sum += self.sum[at];
            at -= at & at.wrapping_neg();
        }
        (count, sum)
    }

    /// Σ |v − value| over the values added so far.
    fn distance_sum(&self, rank: usize, value: f64) -> f64 {
        let (below_count, below_sum) = self.below(rank);
        let (all_count, all_sum) = self.below(self.count.len() - 1);
        let (above_count, above_sum) = (all_count - below_count, all_sum - below_sum);
        (below_count * value - below_sum) + (above_sum - above_count * value)
    }
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = if x.len() > 1 { x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (mean, var)
}

/// Two-sided p-value of Student's t-test (pooled variance) between `a` and
/// `b`, two values or more each. Pooled rather than Welch: a benchmark's
/// noise is much the same before and after a change, and with two values
/// on one side Welch's variance is too unsteady to test with.
pub fn student_p(a: &[f64], b: &[f64]) -> f64 {
    let ((mean_a, var_a), (mean_b, var_b)) = (mean_var(a), mean_var(b));
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let df = na + nb - 2.0;
    let pooled = ((na - 1.0) * var_a + (nb - 1.0) * var_b) / df;
    let se = (pooled * (1.0 / na + 1.0 / nb)).sqrt();
    if se == 0.0 || !se.is_finite() {
        return if mean_a == mean_b { 1.0 } else { 0.0 };
    }
    two_sided((mean_b - mean_a) / se, df)
}

/// Two-sided p-value of the last value of `x` against the others (three or
/// more), from their prediction interval.
pub fn newest_p(x: &[f64]) -> f64 {
    let (rest, last) = x.split_at(x.len() - 1);
    if rest.len() < 3 {
        return 1.0;
    }
    let (mean, var) = mean_var(rest);
    let spread = (var * (1.0 + 1.0 / rest.len() as f64)).sqrt();
    if spread == 0.0 {
        return if last[0] == mean { 1.0 } else { 0.0 };
    }
    two_sided((last[0] - mean) / spread, (rest.len() - 1) as f64)
}

fn two_sided(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return if t.is_nan() { 1.0 } else { 0.0 };
    }
    let student = StudentsT::new(0.0, 1.0, df).expect("degrees of freedom are positive");
    (2.0 * student.cdf(-t.abs())).min(1.0)
}

fn median(x: &[f64]) -> f64 {
    crate::stats::median(x).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: Settings = Settings { alpha: 0.05, min_change: 0.0 };

    /// A standard normal draw from a seeded stream.
    fn normal(state: &mut u64) -> f64 {
        let uniform = |state: &mut u64| (crate::stats::splitmix64(state) >> 11) as f64 / (1u64 << 53) as f64;
        let (u, v) = (uniform(state).max(1e-300), uniform(state));
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// `commits` per-commit medians of 3 runs with 5% normal noise, 10 ms
    /// before `step_at` and `10 ms × (1 + step)` from it.
    pub(crate) fn series(state: &mut u64, commits: usize, step_at: usize, step: f64) -> Vec<f64> {
        noisy_series(state, commits, step_at, step, normal)
    }

    /// A uniform draw within ±1.
    fn uniform(state: &mut u64) -> f64 {
        (crate::stats::splitmix64(state) >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    fn noisy_series(
        state: &mut u64,
        commits: usize,
        step_at: usize,
        step: f64,
        noise: fn(&mut u64) -> f64,
    ) -> Vec<f64> {
        (0..commits)
            .map(|commit| {
                let level = if commit >= step_at { 0.010 * (1.0 + step) } else { 0.010 };
                let runs: Vec<f64> = (0..3).map(|_| level * (1.0 + 0.05 * noise(state))).collect();
                median(&runs)
            })
            .collect()
    }

    /// Shares of series: unchanged ones with a change point (false
    /// alarms), stepped ones (the step placed at random in the middle 80%)
    /// with a change within one commit of it (found), and stepped ones with
    /// a change elsewhere too (extra).
    struct Rates {
        false_alarm: f64,
        found: f64,
        extra: f64,
    }

    fn simulate(commits: usize, trials: usize, seed: u64, step: f64) -> Rates {
        let mut state = seed;
        let (mut false_alarms, mut found, mut extra) = (0, 0, 0);
        for _ in 0..trials {
            let flat = series(&mut state, commits, usize::MAX, 0.0);
            false_alarms += usize::from(!changes(&flat, SETTINGS).is_empty());
            let at = commits / 10 + (crate::stats::splitmix64(&mut state) as usize) % (commits * 8 / 10);
            let stepped = changes(&series(&mut state, commits, at, step), SETTINGS);
            found += usize::from(stepped.iter().any(|change| change.index.abs_diff(at) <= 1));
            extra += usize::from(stepped.iter().any(|change| change.index.abs_diff(at) > 1));
        }
        let share = |count: usize| count as f64 / trials as f64;
        Rates { false_alarm: share(false_alarms), found: share(found), extra: share(extra) }
    }

    /// The figures of docs/HISTORY.md: `cargo test --lib history::detect -- --nocapture`.
    #[test]
    fn unchanged_series_rarely_alarm_and_ten_percent_steps_are_found_at_every_length() {
        for (commits, trials) in [(30, 400), (200, 200), (1000, 100)] {
            for step in [0.05, 0.10, 0.20, 0.50] {
                let rates = simulate(commits, trials, 35 + commits as u64, step);
                println!(
                    "{commits} commits, {trials} series, step +{:.0}%: false alarms {:.3}, found {:.3}, extra {:.3}",
                    step * 100.0,
                    rates.false_alarm,
                    rates.found,
                    rates.extra
                );
                assert!(
                    rates.false_alarm <= 0.05,
                    "{commits} commits: false alarms in {}",
                    rates.false_alarm
                );
                if step >= 0.10 {
                    assert!(rates.found >= 0.90, "{commits} commits: +{step} steps found in {}", rates.found);
                }
                if step >= 0.20 {
                    assert!(rates.found >= 0.99, "{commits} commits: +{step} steps found in {}", rates.found);
                }
            }
        }
    }

    /// The simulated series and this detector's change points, written as
    /// CSV for `bench/otava_compare.py` to run Apache Otava on the same
    /// series (docs/HISTORY.md): `PARBENCH_SIMULATION_OUT=DIR cargo test
    /// --lib history::detect -- --ignored`.
    #[test]
    #[ignore = "writes files for the comparison with Otava"]
    fn simulated_series_for_the_comparison_with_otava() {
        let Some(out) = std::env::var_os("PARBENCH_SIMULATION_OUT") else { return };
        let out = std::path::PathBuf::from(out);
        std::fs::create_dir_all(&out).unwrap();
        let (mut series_csv, mut found_csv) =
            (String::from("series,commits,step_at,index,value\n"), String::new());
        found_csv.push_str("series,commits,step_at,changes\n");
        let mut state = 2026;
        let mut id = 0;
        let uniform_noise = std::env::var("PARBENCH_SIMULATION_NOISE").is_ok_and(|noise| noise == "uniform");
        let noise: fn(&mut u64) -> f64 = if uniform_noise { uniform } else { normal };
        for commits in [30, 200, 1000] {
            for stepped in [false, true] {
                for _ in 0..100 {
                    let at =
                        commits / 10 + (crate::stats::splitmix64(&mut state) as usize) % (commits * 8 / 10);
                    let step_at = if stepped { at } else { usize::MAX };
                    let values = noisy_series(&mut state, commits, step_at, 0.10, noise);
                    let step = if stepped { at.to_string() } else { String::new() };
                    for (index, value) in values.iter().enumerate() {
                        series_csv.push_str(&format!("{id},{commits},{step},{index},{value}\n"));
                    }
                    let found: Vec<String> =
                        changes(&values, SETTINGS).iter().map(|c| c.index.to_string()).collect();
                    found_csv.push_str(&format!("{id},{commits},{step},{}\n", found.join(";")));
                    id += 1;
                }
            }
        }
        std::fs::write(out.join("series.csv"), series_csv).unwrap();
        std::fs::write(out.join("parbench.csv"), found_csv).unwrap();
    }

    #[test]
    fn a_step_is_found_where_it_is_with_its_size() {
        let mut values = vec![0.020; 6];
        values.extend([0.030; 6]);
        for (at, value) in values.iter_mut().enumerate() {
            *value *= 1.0 + 0.01 * ((at * 7 % 5) as f64 - 2.0);
        }
        let found = changes(&values, Settings { alpha: 0.05, min_change: 0.10 });
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].index, 6);
        assert!((found[0].relative() - 0.5).abs() < 0.05, "{found:?}");
        assert!(found[0].p_value < 0.001, "{found:?}");
    }

    #[test]
    fn a_change_smaller_than_the_floor_is_not_reported() {
        let mut state = 7;
        let values = series(&mut state, 60, 30, 0.10);
        assert!(!changes(&values, SETTINGS).is_empty());
        assert!(changes(&values, Settings { alpha: 0.05, min_change: 0.20 }).is_empty());
    }

    #[test]
    fn a_change_at_the_newest_commit_is_tested_against_the_spread_before_it() {
        let mut state = 11;
        let mut values = series(&mut state, 40, usize::MAX, 0.0);
        values.push(0.015);
        let found = changes(&values, SETTINGS);
        assert_eq!(found.iter().map(|change| change.index).collect::<Vec<_>>(), [40], "{found:?}");
        values.pop();
        values.push(0.0101);
        assert!(changes(&values, SETTINGS).is_empty());
    }

    #[test]
    fn two_steps_are_both_found() {
        let mut state = 3;
        let mut values = series(&mut state, 50, 20, 0.3);
        for value in &mut values[35..] {
            *value /= 1.6;
        }
        let found: Vec<usize> = changes(&values, SETTINGS).iter().map(|change| change.index).collect();
        assert_eq!(found, [20, 35]);
    }

    #[test]
    fn the_energy_split_matches_the_quadratic_definition() {
        let mut state = 5;
        let x = series(&mut state, 25, 9, 0.2);
        let quadratic = |tau: usize| {
            let (a, b) = x.split_at(tau);
            let pairs = |u: &[f64], v: &[f64]| {
                u.iter().flat_map(|p| v.iter().map(move |q| (p - q).abs())).sum::<f64>()
            };
            let (l, r) = (a.len() as f64, b.len() as f64);
            let q =
                2.0 * pairs(a, b) / (l * r) - pairs(a, a) / (l * (l - 1.0)) - pairs(b, b) / (r * (r - 1.0));
            l * r / (l + r) * q
        };
        let best = (2..=x.len() - 2).max_by(|a, b| quadratic(*a).total_cmp(&quadratic(*b))).unwrap();
        assert_eq!(best_split(&x), Some(best));
    }

    #[test]
    fn identical_values_have_no_change() {
        assert!(changes(&[1.0; 20], SETTINGS).is_empty());
        assert!(changes(&[1.0, 1.0, 1.0], SETTINGS).is_empty());
        assert!(changes(&[], SETTINGS).is_empty());
    }
}
