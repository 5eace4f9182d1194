//! Intervals a person can state: distribution-free, from order statistics.
//!
//! The median's interval is the exact one of order statistics: with `n`
//! values sorted, the population median lies between the `k`-th smallest and
//! the `k`-th largest with probability `1 - 2·P(B ≤ k-1)`, `B ~ Bin(n, ½)`,
//! whatever the distribution of the times (Hollander & Wolfe, *Nonparametric
//! Statistical Methods*, §3.6). The narrowest such interval that reaches
//! [`LEVEL`] is taken, and its actual level is kept beside it: it is never
//! exactly 95% (at n = 10 it is 97.9%), and below n = 6 no interval reaches
//! 95% at all (min … max covers 93.75% at n = 5).
//!
//! A speedup comes from rounds: each round runs every entry of a group once,
//! in the same minutes, so the ratio of serial's time to an entry's time in
//! one round is free of the machine's drift between rounds. The speedup is
//! the median of those ratios, with the same order-statistic interval.
//!
//! Two separate runs (a baseline and a new one) cannot be paired; their
//! change is the ratio of their medians, with an interval built from the two
//! medians' own intervals.

use statrs::distribution::{Binomial, DiscreteCDF};

/// The level every interval aims for.
pub const LEVEL: f64 = 0.95;

/// A median and the interval of order statistics around it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub median: f64,
    /// The narrowest interval of order statistics that covers the true
    /// median with probability at least [`LEVEL`]; `None` when there are too
    /// few values for any (n ≤ 5).
    pub interval: Option<(f64, f64)>,
    /// The interval's actual level; where there is none, the level that
    /// min … max would have had, to say what could be had.
    pub level: f64,
}

impl Estimate {
    /// The larger distance from the median to an end of the interval, as a
    /// fraction of the median: 0.02 means "within ±2%".
    pub fn half_width(&self) -> Option<f64> {
        let (low, high) = self.interval?;
        (self.median > 0.0).then(|| (self.median - low).max(high - self.median) / self.median)
    }

    /// An estimate known exactly: serial's speedup over itself.
    pub fn exact(value: f64) -> Estimate {
        Estimate { median: value, interval: Some((value, value)), level: 1.0 }
    }
}

/// `1 - 2·P(B ≤ k-1)`, `B ~ Bin(n, ½)`: the probability that the `k`-th
/// smallest and the `k`-th largest of `n` values enclose the median.
pub fn coverage(n: usize, k: usize) -> f64 {
    if k == 0 || 2 * k > n + 1 || n == 0 {
        return 0.0;
    }
    (1.0 - 2.0 * lower_tail(n, k - 1)).max(0.0)
}

/// `P(B ≤ j)`, `B ~ Bin(n, ½)`: exact (integer counts over 2^n) up to
/// n = 100, where the counts fit in 128 bits; the incomplete beta function
/// beyond.
fn lower_tail(n: usize, j: usize) -> f64 {
    if n <= 100 {
        let (mut count, mut choose) = (0u128, 1u128);
        for i in 0..=j.min(n) {
            count += choose;
            choose = choose * (n - i) as u128 / (i + 1) as u128;
        }
        return count as f64 / 2f64.powi(n as i32);
    }
    Binomial::new(0.5, n as u64).expect("p = 1/2 is a probability").cdf(j as u64)
}

/// The 1-based rank `k` of the interval's low end (the high end is the
/// `n + 1 - k`-th) with its level; `None` and the level of min … max where no
/// interval reaches [`LEVEL`].
pub fn median_ranks(n: usize) -> (Option<usize>, f64) {
    median_ranks_at(n, LEVEL)
}

/// [`median_ranks`] for any `level`.
pub fn median_ranks_at(n: usize, level: f64) -> (Option<usize>, f64) {
    if coverage(n, 1) < level {
        return (None, coverage(n, 1));
    }
    // Coverage falls as k grows: the largest k that still reaches the level.
    let (mut reaches, mut fails) = (1, n.div_ceil(2) + 1);
    while fails - reaches > 1 {
        let middle = (reaches + fails) / 2;
        if coverage(n, middle) >= level {
            reaches = middle;
        } else {
            fails = middle;
        }
    }
    (Some(reaches), coverage(n, reaches))
}

/// The order-statistic interval of the median of `values` at `level` or
/// more; `None` where there are too few values for it.
pub fn median_interval_at(values: &[f64], level: f64) -> Option<(f64, f64)> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (ranks, _) = median_ranks_at(sorted.len(), level);
    ranks.map(|k| (sorted[k - 1], sorted[sorted.len() - k]))
}

/// The median of `values` and its order-statistic interval; `None` for no
/// values. NaNs sort last, as `f64::total_cmp` puts them.
pub fn estimate(values: &[f64]) -> Option<Estimate> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n.is_multiple_of(2) { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 } else { sorted[n / 2] };
    let (ranks, level) = median_ranks(n);
    Some(Estimate { median, interval: ranks.map(|k| (sorted[k - 1], sorted[n - k])), level })
}

/// The median of each block's values, from `runs` as (block, value): blocks
/// ascending. A block is a block of processes (see `runner::Blocks`); in
/// rows of older versions each round is one.
pub fn block_medians(runs: &[(u32, f64)]) -> Vec<(u32, f64)> {
    let mut blocks: std::collections::BTreeMap<u32, Vec<f64>> = std::collections::BTreeMap::new();
    for (block, value) in runs {
        blocks.entry(*block).or_default().push(*value);
    }
    blocks.into_iter().filter_map(|(block, values)| Some((block, estimate(&values)?.median))).collect()
}

/// The median of every value of `runs` (block, value) with the
/// order-statistic interval over the blocks' medians: each block of
/// processes has a level of its own, so the blocks are the units the
/// interval's level holds for.
pub fn over_blocks(runs: &[(u32, f64)]) -> Option<Estimate> {
    let medians: Vec<f64> = block_medians(runs).into_iter().map(|(_, median)| median).collect();
    let values: Vec<f64> = runs.iter().map(|(_, value)| *value).collect();
    Some(Estimate { median: estimate(&values)?.median, ..estimate(&medians)? })
}

/// Serial's time over the entry's time in every round both ran ok; rounds
/// are `(round, wall seconds)`. A round with a zero or unusable time is left
/// out.
pub fn round_ratios(reference: &[(u32, f64)], entry: &[(u32, f64)]) -> Vec<f64> {
    let by_round: std::collections::BTreeMap<u32, f64> = reference.iter().copied().collect();
    entry
        .iter()
        .filter_map(|(round, wall)| {
            let serial = by_round.get(round)?;
            let ratio = serial / wall;
            (ratio.is_finite() && ratio > 0.0).then_some(ratio)
        })
        .collect()
}

/// The paired speedup of `entry` over `reference`: the median of the
/// per-round ratios and its interval.
pub fn speedup(reference: &[(u32, f64)], entry: &[(u32, f64)]) -> Option<Estimate> {
    estimate(&round_ratios(reference, entry))
}

/// What an interval of a speedup says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// The whole interval lies above 1.
    Beats,
    /// The whole interval lies below 1.
    Slower,
    /// The interval holds 1, or there is none.
    NoClearDifference,
}

impl Verdict {
    pub fn of(interval: Option<(f64, f64)>) -> Verdict {
        match interval {
            Some((low, _)) if low > 1.0 => Verdict::Beats,
            Some((_, high)) if high < 1.0 => Verdict::Slower,
            _ => Verdict::NoClearDifference,
        }
    }
}

/// How `new` compares to `old`, two independent samples of times (a
/// baseline and a new run cannot be paired): the ratio of their medians,
/// and an interval that holds it with probability at least `level`, made
/// of the two medians' order-statistic intervals at `(1 + level) / 2` each
/// (new low / old high … new high / old low; Bonferroni: both hold
/// together at `level`). No assumption about the shape of either
/// distribution. The interval is `None` where either side has too few runs
/// for its level; the whole answer is `None` without a positive median.
pub fn ratio_of_medians(new: &[f64], old: &[f64], level: f64) -> Option<(f64, Option<(f64, f64)>)> {
    let (new_median, old_median) = (estimate(new)?.median, estimate(old)?.median);
    let ratio = new_median / old_median;
    if !(ratio.is_finite() && ratio > 0.0) {
        return None;
    }
    let each = (1.0 + level) / 2.0;
    let interval = match (median_interval_at(new, each), median_interval_at(old, each)) {
        (Some((new_low, new_high)), Some((old_low, old_high))) if old_low > 0.0 => {
            Some((new_low / old_high, new_high / old_low))
        }
        _ => None,
    };
    Some((ratio, interval))
}

/// The exact one-sided p-value of the Mann–Whitney rank test that `larger`
/// tends to exceed `smaller`: the probability, were both samples drawn
/// from one distribution, of at least as many pairs `(x, y)` with `y > x`
/// (ties counted half) as observed. Every assignment of the pooled ranks
/// to the two samples is equally likely under that hypothesis, so the
/// count is exact for any distribution of the times; with complete
/// separation it is `1 / C(n + m, n)`: 1/20 = 0.05 at 3 runs against 3,
/// 1/6 at 2 against 2. `None` without runs on either side or past 200 runs
/// in all (where the order-statistic intervals judge instead).
pub fn rank_test(smaller: &[f64], larger: &[f64]) -> Option<f64> {
    let (n, m) = (smaller.len(), larger.len());
    if n == 0 || m == 0 || n + m > 200 {
        return None;
    }
    // Twice the Mann–Whitney U, so that a tie's half stays a whole number.
    let doubled_u: usize = larger
        .iter()
        .map(|y| {
            smaller
                .iter()
                .map(|x| {
                    if y > x {
                        2
                    } else if y == x {
                        1
                    } else {
                        0
                    }
                })
                .sum::<usize>()
        })
        .sum();
    // ways[k][u]: orderings of k values of `larger` among the values so far
    // with U = u; built one pooled value at a time.
    let max_u = n * m;
    let mut ways = vec![vec![0.0f64; max_u + 1]; m + 1];
    ways[0][0] = 1.0;
    for placed in 1..=n + m {
        for k in (1..=m.min(placed)).rev() {
            // The newest value belongs to `larger`: it exceeds the
            // `placed - k` values of `smaller` placed so far.
            let below = placed - k;
            if below > n {
                continue;
            }
            for u in (below..=max_u).rev() {
                ways[k][u] += ways[k - 1][u - below];
            }
        }
    }
    let total: f64 = ways[m].iter().sum();
    let at_least: f64 = ways[m].iter().enumerate().filter(|(u, _)| 2 * u >= doubled_u).map(|(_, w)| w).sum();
    Some(at_least / total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Levels from the binomial distribution, as tables of the sign test
    /// give them (Hollander & Wolfe; exact fractions of 2^n).
    #[test]
    fn ranks_and_levels_match_the_binomial_tables() {
        // n = 6: only min … max reaches 95%, at 1 - 2/64.
        assert_eq!(median_ranks(6).0, Some(1));
        assert!(close(median_ranks(6).1, 1.0 - 2.0 / 64.0));
        // n = 10: the 2nd and 9th values, 1 - 2·11/1024 = 97.85%.
        assert_eq!(median_ranks(10).0, Some(2));
        assert!(close(median_ranks(10).1, 1.0 - 22.0 / 1024.0));
        // n = 20: the 6th and 15th, 1 - 2·21700/2^20 = 95.86%.
        assert_eq!(median_ranks(20).0, Some(6));
        assert!(close(median_ranks(20).1, 1.0 - 2.0 * 21700.0 / 1_048_576.0));
        // n = 100: the 40th and 61st, 96.48%; the 41st and 60th reach only 94.31%.
        assert_eq!(median_ranks(100).0, Some(40));
        assert!((median_ranks(100).1 - 0.9648).abs() < 5e-5, "{}", median_ranks(100).1);
        assert!((coverage(100, 41) - 0.9431).abs() < 5e-5, "{}", coverage(100, 41));
        // n = 5: nothing reaches 95%; min … max would cover 1 - 2/32.
        assert_eq!(median_ranks(5), (None, 1.0 - 2.0 / 32.0));
        assert_eq!(median_ranks(1).0, None);
        assert_eq!(median_ranks(0), (None, 0.0));
    }

    #[test]
    fn the_interval_is_made_of_the_right_order_statistics() {
        // 20 values 1..=20 shuffled: the 6th and 15th smallest are 6 and 15.
        let values: Vec<f64> = (0..20).map(|i| f64::from((i * 7) % 20 + 1)).collect();
        let estimate = estimate(&values).unwrap();
        assert_eq!(estimate.median, 10.5);
        assert_eq!(estimate.interval, Some((6.0, 15.0)));
        assert!((estimate.half_width().unwrap() - 4.5 / 10.5).abs() < 1e-12);
        // Five values claim no 95% interval, and say what min … max would cover.
        let five = super::estimate(&[5.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!((five.median, five.interval, five.level), (3.0, None, 0.9375));
        assert_eq!(five.half_width(), None);
        assert_eq!(super::estimate(&[]), None);
    }

    #[test]
    fn the_speedup_pairs_rounds() {
        // Serial drifts from 1 s to 2 s over ten rounds; the entry always
        // takes half of serial's time in the same round. Unpaired, the
        // medians would give 2 with a wide spread; paired, every round says 2.
        let serial: Vec<(u32, f64)> = (1..=10).map(|round| (round, 1.0 + f64::from(round) / 10.0)).collect();
        let entry: Vec<(u32, f64)> = serial.iter().map(|(round, wall)| (*round, wall / 2.0)).collect();
        let speedup = speedup(&serial, &entry).unwrap();
        assert!(close(speedup.median, 2.0));
        let (low, high) = speedup.interval.unwrap();
        assert!(close(low, 2.0) && close(high, 2.0));
        assert_eq!(Verdict::of(speedup.interval), Verdict::Beats);
        // Rounds only one side ran are left out; ratios are serial / entry.
        let ratios = round_ratios(&[(1, 3.0), (2, 4.0), (4, 1.0)], &[(1, 1.0), (2, 8.0), (3, 1.0)]);
        assert_eq!(ratios, [3.0, 0.5]);
        // Ratios 0.9 .. 1.1 around 1: the interval holds 1.
        let serial: Vec<(u32, f64)> = (1..=10).map(|round| (round, 1.0)).collect();
        let entry: Vec<(u32, f64)> = (1..=10).map(|round| (round, 0.9 + f64::from(round) / 50.0)).collect();
        let mixed = super::speedup(&serial, &entry).unwrap();
        let (low, high) = mixed.interval.unwrap();
        // Ratios sorted: 1/1.10, 1/1.08, ... 1/0.92; the 2nd and 9th.
        assert!(close(low, 1.0 / 1.08) && close(high, 1.0 / 0.94), "{low} {high}");
        assert_eq!(Verdict::of(mixed.interval), Verdict::NoClearDifference);
        assert_eq!(Verdict::of(Some((0.4, 0.6))), Verdict::Slower);
        assert_eq!(Verdict::of(None), Verdict::NoClearDifference);
    }

    #[test]
    fn serial_against_itself_is_exactly_one() {
        let serial: Vec<(u32, f64)> = (1..=3).map(|round| (round, 0.1 * f64::from(round))).collect();
        assert_eq!(speedup(&serial, &serial).unwrap().median, 1.0);
        assert_eq!(Estimate::exact(1.0).interval, Some((1.0, 1.0)));
    }

    #[test]
    fn the_ratio_of_two_runs_finds_a_shift_and_not_noise() {
        let old: Vec<f64> = (0..30).map(|i| 1.0 + f64::from((i * 11) % 30) / 300.0).collect();
        let slower: Vec<f64> = old.iter().map(|wall| wall * 1.3).collect();
        let (ratio, interval) = ratio_of_medians(&slower, &old, LEVEL).unwrap();
        let (low, high) = interval.unwrap();
        assert!((ratio - 1.3).abs() < 1e-9 && low > 1.24 && high < 1.36, "{ratio} {low} {high}");
        // Against itself: 1, with an interval around it.
        let (ratio, interval) = ratio_of_medians(&old, &old, LEVEL).unwrap();
        let (low, high) = interval.unwrap();
        assert!(close(ratio, 1.0) && low < 1.0 && high > 1.0 && low > 0.95, "{ratio} {low} {high}");
        // At 97.5% each side, n = 30 gives the 9th and 22nd values: 1 - 2·P(B ≤ 8).
        assert_eq!(median_ranks_at(30, 0.975).0, Some(9));
        assert!(coverage(30, 9) >= 0.975 && coverage(30, 10) < 0.975);
        // Seven runs cannot hold a 99% interval: a ratio, but no interval.
        assert_eq!(ratio_of_medians(&old[..7], &old[..7], 0.99).unwrap().1, None);
        assert_eq!(ratio_of_medians(&[0.0], &old, LEVEL), None);
        assert_eq!(ratio_of_medians(&[], &old, LEVEL), None);
    }

    #[test]
    fn the_rank_test_is_exact_for_small_samples() {
        // Complete separation: one ordering in C(n + m, n).
        assert!(close(rank_test(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).unwrap(), 1.0 / 20.0));
        assert!(close(rank_test(&[1.0, 2.0], &[4.0, 5.0]).unwrap(), 1.0 / 6.0));
        assert!(close(rank_test(&[1.0; 4], &[9.0; 5]).unwrap(), 1.0 / 126.0));
        // The other way round, every ordering is at least as extreme.
        assert!(close(rank_test(&[4.0, 5.0, 6.0], &[1.0, 2.0, 3.0]).unwrap(), 1.0));
        // One pair out of order at 3 against 3: U = 8 of 9, P(U >= 8) = 2/20.
        assert!(close(rank_test(&[1.0, 2.0, 4.5], &[4.0, 5.0, 6.0]).unwrap(), 2.0 / 20.0));
        assert_eq!(rank_test(&[], &[1.0]), None);
    }

    #[test]
    fn the_rank_test_agrees_with_counting_every_assignment() {
        // 4 against 3 over distinct values: enumerate all C(7, 3) = 35 splits.
        let smaller = [1.0, 3.0, 6.0, 7.0];
        let larger = [2.0, 4.0, 5.0];
        let u =
            |xs: &[f64], ys: &[f64]| ys.iter().map(|y| xs.iter().filter(|x| y > *x).count()).sum::<usize>();
        let observed = u(&smaller, &larger);
        let pooled: Vec<f64> = smaller.iter().chain(&larger).copied().collect();
        let mut extreme = 0;
        let mut all = 0;
        for mask in 0u32..128 {
            if mask.count_ones() != 3 {
                continue;
            }
            let (ys, xs): (Vec<_>, Vec<_>) =
                (0..7).map(|i| (mask >> i & 1 == 1, pooled[i])).partition(|(y, _)| *y);
            let ys: Vec<f64> = ys.into_iter().map(|(_, v)| v).collect();
            let xs: Vec<f64> = xs.into_iter().map(|(_, v)| v).collect();
            all += 1;
            if u(&xs, &ys) >= observed {
                extreme += 1;
            }
        }
        assert_eq!(all, 35);
        assert!(close(rank_test(&smaller, &larger).unwrap(), extreme as f64 / 35.0));
    }
}
