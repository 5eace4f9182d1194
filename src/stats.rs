//! Descriptive statistics of measured times, and the seeded random stream
//! that lists and the bootstrap share.

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub median: f64,
    pub mean: f64,
    /// Sample standard deviation (n - 1); 0 for a single value.
    pub stddev: f64,
    pub min: f64,
    pub max: f64,
}

/// `None` for no values.
pub fn summarize(values: &[f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let count = sorted.len();
    let mean = sorted.iter().sum::<f64>() / count as f64;
    let variance = if count > 1 {
        sorted.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / (count - 1) as f64
    } else {
        0.0
    };
    Some(Summary {
        count,
        median: median_of_sorted(&sorted),
        mean,
        stddev: variance.sqrt(),
        min: sorted[0],
        max: sorted[count - 1],
    })
}

pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(median_of_sorted(&sorted))
}

/// The quantiles at `low` and `high` (fractions, 0.25 and 0.75 for the
/// quartiles), by linear interpolation between order statistics as
/// spreadsheets and R's default compute them; `None` for no values.
pub fn quantiles(values: &[f64], low: f64, high: f64) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let quantile = |fraction: f64| {
        let position = (sorted.len() - 1) as f64 * fraction;
        let below = position.floor() as usize;
        let above = position.ceil() as usize;
        sorted[below] + (sorted[above] - sorted[below]) * (position - below as f64)
    };
    Some((quantile(low), quantile(high)))
}

fn median_of_sorted(sorted: &[f64]) -> f64 {
    let middle = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) { (sorted[middle - 1] + sorted[middle]) / 2.0 } else { sorted[middle] }
}

/// SplitMix64: the stream behind `random` lists and the bootstrap's resamples.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarizes_odd_and_even_counts() {
        let odd = summarize(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((odd.median, odd.mean, odd.min, odd.max), (2.0, 2.0, 1.0, 3.0));
        assert!((odd.stddev - 1.0).abs() < 1e-12);
        let even = summarize(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(even.median, 2.5);
        assert_eq!(summarize(&[5.0]).unwrap().stddev, 0.0);
        assert!(summarize(&[]).is_none());
    }
}
