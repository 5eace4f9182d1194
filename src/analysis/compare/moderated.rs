//! A moderated t-statistic for entries measured a few times, after limma
//! (Smyth 2004, "Linear models and empirical Bayes methods for assessing
//! differential expression in microarray experiments"): thousands of genes
//! measured 2–3 times each borrow the spread of the others. The entries of
//! one job on one machine share their noise the same way, so each entry's
//! spread of log times is shrunk towards the spread of all of them, with
//! as much weight as the entries agree with each other.
//!
//! Each entry has old runs `x` and new runs `y`; on log times, its change
//! is `mean(log y) - mean(log x)` and its spread the pooled variance `s²`
//! with `n_x + n_y - 2` degrees of freedom. The entries' `s²` are taken as
//! draws of `s0² · χ²(d0) / d0` scaled by their own degrees of freedom
//! (limma's `fitFDist`, by the moments of `log s²`), and each `s²` becomes
//! `(d0·s0² + d·s²) / (d0 + d)`, with `d0 + d` degrees of freedom for its
//! t-statistic. Where the entries disagree (`d0` near 0) that is the plain
//! two-sample t-test; where they agree (`d0` large), close to a z-test
//! with the common spread.

use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::function::gamma::digamma;

/// One entry's sample: its change in log time, its pooled variance of log
/// times, their degrees of freedom, and `1/n_x + 1/n_y`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub change: f64,
    pub variance: f64,
    pub df: f64,
    pub scale: f64,
}

impl Sample {
    /// The sample of old and new wall times (seconds, all positive); `None`
    /// with fewer than 2 runs on a side.
    pub fn of(old: &[f64], new: &[f64]) -> Option<Sample> {
        if old.len() < 2 || new.len() < 2 || old.iter().chain(new).any(|wall| wall.is_nan() || *wall <= 0.0) {
            return None;
        }
        let logs = |walls: &[f64]| walls.iter().map(|wall| wall.ln()).collect::<Vec<f64>>();
        let (x, y) = (logs(old), logs(new));
        let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
        let squares =
            |values: &[f64], mean: f64| values.iter().map(|value| (value - mean).powi(2)).sum::<f64>();
        let (mx, my) = (mean(&x), mean(&y));
        let df = (x.len() + y.len() - 2) as f64;
        Some(Sample {
            change: my - mx,
            variance: (squares(&x, mx) + squares(&y, my)) / df,
            df,
            scale: 1.0 / x.len() as f64 + 1.0 / y.len() as f64,
        })
    }
}

/// The prior the entries share: `d0` degrees of freedom around `s0²` (where
/// they all have one spread, as many as the others' runs give).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prior {
    pub df: f64,
    pub variance: f64,
}

/// limma's `fitFDist` without covariates: the prior from the entries'
/// variances by the moments of their logs. `None` without two entries of
/// positive variance.
pub fn prior(samples: &[Sample]) -> Option<Prior> {
    let usable: Vec<&Sample> =
        samples.iter().filter(|sample| sample.variance > 0.0 && sample.df > 0.0).collect();
    if usable.len() < 2 {
        return None;
    }
    let n = usable.len() as f64;
    let e: Vec<f64> = usable
        .iter()
        // log s² less its bias for d degrees of freedom: an estimate of
        // log σ² (limma's `e`).
        .map(|sample| sample.variance.ln() - digamma(sample.df / 2.0) + (sample.df / 2.0).ln())
        .collect();
    let mean = e.iter().sum::<f64>() / n;
    let spread = e.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let expected = usable.iter().map(|sample| trigamma(sample.df / 2.0)).sum::<f64>() / n;
    let excess = spread - expected;
    // The entries together know σ² to no more degrees of freedom than the
    // others beside the one judged have: limma's infinite prior, from a
    // handful of entries, would take their pooled variance as known.
    let total: f64 = usable.iter().map(|sample| sample.df).sum();
    let most = total - usable.iter().map(|sample| sample.df).fold(0.0, f64::max);
    if excess <= 0.0 {
        return Some(Prior { df: most, variance: mean.exp() });
    }
    let df = 2.0 * trigamma_inverse(excess);
    let variance = (mean + digamma(df / 2.0) - (df / 2.0).ln()).exp();
    Some(Prior { df: df.min(most), variance })
}

/// The one-sided p-value that the entry's change exceeds `shift` (in log
/// time), moderated by `prior` where there is one.
pub fn p_above(sample: &Sample, prior: Option<Prior>, shift: f64) -> f64 {
    let (variance, df) = match prior {
        Some(Prior { df: prior_df, variance: prior_variance }) if prior_df.is_infinite() => {
            (prior_variance, f64::INFINITY)
        }
        Some(Prior { df: prior_df, variance: prior_variance }) => (
            (prior_df * prior_variance + sample.df * sample.variance) / (prior_df + sample.df),
            prior_df + sample.df,
        ),
        None => (sample.variance, sample.df),
    };
    let error = (variance * sample.scale).sqrt();
    if error.is_nan() || error <= 0.0 {
        return if sample.change > shift { 0.0 } else { 1.0 };
    }
    let t = (sample.change - shift) / error;
    // Past a million degrees of freedom t is normal to well within 1e-6.
    let df = if df.is_finite() { df.min(1e6) } else { 1e6 };
    match StudentsT::new(0.0, 1.0, df) {
        Ok(distribution) => 1.0 - distribution.cdf(t),
        Err(_) => 1.0,
    }
}

/// ψ′(x) for x > 0: the recurrence up to 6, then the asymptotic series.
pub fn trigamma(x: f64) -> f64 {
    let (mut x, mut sum) = (x, 0.0);
    while x < 6.0 {
        sum += 1.0 / (x * x);
        x += 1.0;
    }
    let inverse = 1.0 / x;
    let square = inverse * inverse;
    sum + inverse
        + square / 2.0
        + inverse * square * (1.0 / 6.0 - square * (1.0 / 30.0 - square * (1.0 / 42.0 - square / 30.0)))
}

/// The x > 0 with ψ′(x) = y, by limma's Newton iteration (on 1/ψ′, which is
/// nearly linear).
pub fn trigamma_inverse(y: f64) -> f64 {
    if y > 1e7 {
        return 1.0 / y.sqrt();
    }
    if y < 1e-6 {
        return 1.0 / y;
    }
    let mut x = 0.5 + 1.0 / y;
    for _ in 0..50 {
        let value = trigamma(x);
        // ψ′′ by a central difference: smooth, and only a Newton step.
        let slope = (trigamma(x * (1.0 + 1e-5)) - trigamma(x * (1.0 - 1e-5))) / (2e-5 * x);
        let step = value * (1.0 - value / y) / slope;
        x += step;
        if x <= 0.0 {
            x = 1e-8;
        }
        if (-step / x).abs() < 1e-8 {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigamma_and_its_inverse_match_known_values() {
        // ψ′(1) = π²/6, ψ′(1/2) = π²/2.
        let pi2 = std::f64::consts::PI.powi(2);
        assert!((trigamma(1.0) - pi2 / 6.0).abs() < 1e-9, "{}", trigamma(1.0));
        assert!((trigamma(0.5) - pi2 / 2.0).abs() < 1e-9, "{}", trigamma(0.5));
        for x in [0.1, 0.7, 2.0, 13.0, 400.0] {
            assert!((trigamma_inverse(trigamma(x)) - x).abs() < 1e-6 * x, "{x}");
        }
    }

    #[test]
    fn entries_that_share_one_spread_get_an_infinite_prior_and_others_a_finite_one() {
        // Every entry's variance the same: nothing between them to explain.
        let same: Vec<Sample> =
            (0..50).map(|_| Sample { change: 0.0, variance: 0.01, df: 4.0, scale: 2.0 / 3.0 }).collect();
        let prior = prior(&same).unwrap();
        // As many degrees of freedom as the other 49 entries' runs give, and
        // σ² from log s² less its bias at 4 degrees of freedom.
        let unbiased = (0.01f64.ln() - digamma(2.0) + 2f64.ln()).exp();
        assert_eq!(prior.df, 49.0 * 4.0);
        assert!((prior.variance - unbiased).abs() < 1e-12, "{prior:?}");
        // Spreads that differ by a factor of a thousand: a weak prior.
        let apart: Vec<Sample> = (0..50)
            .map(|index| Sample {
                change: 0.0,
                variance: 10f64.powi(index % 4 - 3),
                df: 4.0,
                scale: 2.0 / 3.0,
            })
            .collect();
        let weak = super::prior(&apart).unwrap();
        assert!(weak.df < 2.0, "{weak:?}");
        assert_eq!(super::prior(&same[..1]), None);
    }

    #[test]
    fn a_sample_is_of_log_times_and_its_p_value_falls_with_the_change() {
        let sample = Sample::of(&[1.0, 1.1, 0.9], &[2.0, 2.2, 1.8]).unwrap();
        assert!((sample.change - 2f64.ln()).abs() < 1e-12);
        assert_eq!(sample.df, 4.0);
        assert!((sample.scale - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(Sample::of(&[1.0], &[1.0, 2.0]), None);
        let unmoderated = p_above(&sample, None, 0.1f64.ln_1p());
        let shared = Prior { df: 200.0, variance: sample.variance };
        let moderated = p_above(&sample, Some(shared), 0.1f64.ln_1p());
        assert!(moderated < unmoderated && moderated < 1e-6, "{moderated} {unmoderated}");
        assert!(p_above(&sample, None, 3.0) > 0.99);
    }
}
