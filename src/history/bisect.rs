//! Bisection over commits whose ends are judged already: index 0 is good
//! (fast), the last is bad (slow). Each probe halves the commits left, so
//! `n` commits take at most ⌈log₂(n − 1)⌉ probes besides the two ends; a
//! commit that cannot be judged (its build failed) is skipped, as
//! `git bisect skip` does, and the probe moves to its nearest neighbour.

/// What a probed commit says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Good,
    Bad,
    /// Not measured: no ok runs of the entry.
    Unknown,
}

/// Where the change lies: the last good commit and the first bad one. Where
/// commits between them could not be judged, the change is one of them or
/// `first_bad`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bisection {
    pub last_good: usize,
    pub first_bad: usize,
    pub skipped: Vec<usize>,
}

/// Bisects `0..n` (n ≥ 2) with `judge` telling a commit's verdict.
pub fn bisect<E>(n: usize, mut judge: impl FnMut(usize) -> Result<Verdict, E>) -> Result<Bisection, E> {
    let (mut good, mut bad) = (0, n.saturating_sub(1));
    let mut skipped: Vec<usize> = Vec::new();
    while bad - good > 1 {
        let middle = (good + bad) / 2;
        let Some(probe) =
            (good + 1..bad).filter(|at| !skipped.contains(at)).min_by_key(|at| (at.abs_diff(middle), *at))
        else {
            break;
        };
        match judge(probe)? {
            Verdict::Good => good = probe,
            Verdict::Bad => bad = probe,
            Verdict::Unknown => skipped.push(probe),
        }
    }
    skipped.retain(|at| (good..bad).contains(at));
    skipped.sort_unstable();
    Ok(Bisection { last_good: good, first_bad: bad, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(n: usize, first_bad: usize, unknown: &[usize]) -> (Bisection, usize) {
        let mut probes = 0;
        let found = bisect::<()>(n, |at| {
            probes += 1;
            Ok(match at {
                _ if unknown.contains(&at) => Verdict::Unknown,
                _ if at >= first_bad => Verdict::Bad,
                _ => Verdict::Good,
            })
        })
        .unwrap();
        (found, probes)
    }

    #[test]
    fn every_first_bad_commit_is_found_within_log2_probes() {
        for n in 2usize..70 {
            let most = (usize::BITS - (n - 1).saturating_sub(1).leading_zeros()) as usize;
            for first_bad in 1..n {
                let (found, probes) = run(n, first_bad, &[]);
                assert_eq!((found.last_good, found.first_bad), (first_bad - 1, first_bad), "n {n}");
                assert!(probes <= most, "n {n}, first bad {first_bad}: {probes} probes, at most {most}");
            }
        }
    }

    #[test]
    fn a_commit_that_cannot_be_judged_is_stepped_around() {
        let (found, _) = run(12, 6, &[6]);
        assert_eq!((found.last_good, found.first_bad, found.skipped), (5, 7, vec![6]));
        let (found, _) = run(12, 6, &[4]);
        assert_eq!((found.last_good, found.first_bad), (5, 6));
        assert!(found.skipped.is_empty());
    }
}
