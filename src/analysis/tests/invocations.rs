//! The spread between invocations (`analysis::invocations`).

use std::collections::BTreeMap;

use super::{analyze, row};
use crate::analysis::invocations::{self, Invocation, MOST};
use crate::analysis::{Analysis, EntryId, Verdict};

/// An invocation of serial and threads ×2, 12 rounds, each its own block:
/// serial at `level` with a ±0.1% wobble, threads at `level / speedup`.
fn invocation(level: f64, speedup: f64) -> Analysis {
    let mut rows = Vec::new();
    for repetition in 1..=12 {
        let wobble = 1.0 + 0.001 * (f64::from(repetition % 3) - 1.0);
        rows.push(row("serial", 1, 10, repetition, level * wobble));
        rows.push(row("threads", 2, 10, repetition, level * wobble / speedup));
    }
    analyze(&rows).unwrap()
}

fn keys(analysis: &Analysis) -> BTreeMap<EntryId, String> {
    analysis
        .entries
        .iter()
        .map(|entry| (entry.id.clone(), format!("x{}", entry.id.strategy.name())))
        .collect()
}

fn at(second: usize) -> String {
    format!("2026-12-05 11:{:02}:{:02}.000", second / 60, second % 60)
}

/// A small deterministic generator (xorshift), and a normal draw from it.
struct Draw(u64);

impl Draw {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-12), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

#[test]
fn intervals_that_hold_the_spread_between_invocations_cover_the_true_level() {
    // Each invocation has a level of its own, 1% apart (sd) around the
    // true 10 ms; inside one invocation the runs are within ±0.1%, so its
    // own interval is a fraction of that wide. Ten invocations in a row,
    // each with the earlier ones recorded, 60 times over: the widened
    // intervals of the second to the tenth must cover the true level at
    // least 90% of the time; this invocation's own interval alone, under
    // half the time.
    let mut draw = Draw(0x9e37_79b9_7f4a_7c15);
    let (mut covered, mut covered_alone, mut trials) = (0, 0, 0);
    for _ in 0..60 {
        let mut recorded: Vec<Invocation> = Vec::new();
        for index in 0..10 {
            let level = 0.010 * (0.01 * draw.normal()).exp();
            let mut analysis = invocation(level, 2.0);
            let keys = keys(&analysis);
            let this = at(index);
            let alone = analysis.entries[0].median_ci.unwrap();
            invocations::widen(&mut analysis, &this, &keys, &recorded);
            recorded =
                invocations::read(&invocations::write(&recorded, &invocations::of(&analysis, &this, &keys)))
                    .unwrap();
            if index == 0 {
                assert_eq!(analysis.entries[0].invocations, 1, "no earlier invocation: its own interval");
                assert_eq!(analysis.entries[0].median_ci, Some(alone));
                continue;
            }
            let (low, high) = analysis.entries[0].median_ci.unwrap();
            assert!(low <= alone.0 && alone.1 <= high, "the widened interval holds its own");
            assert_eq!(analysis.entries[0].invocations, index + 1);
            trials += 1;
            covered += usize::from(low <= 0.010 && 0.010 <= high);
            covered_alone += usize::from(alone.0 <= 0.010 && 0.010 <= alone.1);
        }
    }
    let (rate, rate_alone) = (covered as f64 / trials as f64, covered_alone as f64 / trials as f64);
    println!(
        "coverage of the true level: {rate:.3} with the spread between invocations, {rate_alone:.3} alone"
    );
    assert!(rate >= 0.90, "{rate}");
    assert!(rate_alone < 0.5, "{rate_alone}");
}

#[test]
fn a_speedup_that_moved_between_invocations_gives_no_verdict_it_cannot_keep() {
    // This invocation: threads 1.02× serial, a tight interval, "beats".
    // Two earlier ones said 0.97× and 1.05×.
    let mut analysis = invocation(0.010, 1.02);
    assert_eq!(analysis.entries[1].verdict, Some(Verdict::Beats));
    let keys = keys(&analysis);
    let earlier: Vec<Invocation> = [(0.97, at(1)), (1.05, at(2))]
        .into_iter()
        .flat_map(|(speedup, when)| {
            let mut entries = invocations::of(&analysis, &when, &keys);
            entries[1].speedup = Some(speedup);
            entries
        })
        .collect();
    invocations::widen(&mut analysis, &at(3), &keys, &earlier);
    let threads = &analysis.entries[1];
    assert_eq!(threads.verdict, Some(Verdict::NoClearDifference), "{:?}", threads.speedup_ci);
    assert_eq!(threads.invocations, 3);
    assert_eq!(threads.speedup, Some(1.02), "the speedup is this invocation's");
    // Serial's speedup is 1 by definition, and stays so.
    assert_eq!(analysis.entries[0].speedup_ci, Some((1.0, 1.0)));
    assert_eq!(analysis.entries[0].verdict, None);
}

#[test]
fn other_hosts_other_keys_and_this_invocation_are_not_earlier_invocations() {
    let mut analysis = invocation(0.010, 2.0);
    let keys = keys(&analysis);
    let alone = analysis.entries[0].median_ci;
    let mut earlier = invocations::of(&invocation(0.020, 2.0), &at(1), &keys);
    earlier[0].host = "another".to_owned();
    earlier[1].entry_key = "xchanged".to_owned();
    // This invocation's own record, as --resume leaves it.
    earlier.extend(invocations::of(&invocation(0.030, 2.0), &at(2), &keys));
    invocations::widen(&mut analysis, &at(2), &keys, &earlier);
    assert_eq!(analysis.entries[0].median_ci, alone);
    assert_eq!((analysis.entries[0].invocations, analysis.entries[1].invocations), (1, 1));
}

#[test]
fn the_record_keeps_the_newest_invocations_and_replaces_this_ones() {
    let analysis = invocation(0.010, 2.0);
    let keys = keys(&analysis);
    let mut recorded = Vec::new();
    for second in 0..MOST + 5 {
        recorded = invocations::read(&invocations::write(
            &recorded,
            &invocations::of(&analysis, &at(second), &keys),
        ))
        .unwrap();
    }
    assert_eq!(recorded.len(), 2 * MOST, "the newest {MOST} of each entry");
    assert_eq!(recorded[0].invocation, at(5));
    // The same invocation written again (a resumed run) replaces its rows.
    let again = invocations::of(&invocation(0.011, 2.0), &at(MOST + 4), &keys);
    let rewritten = invocations::read(&invocations::write(&recorded, &again)).unwrap();
    assert_eq!(rewritten.len(), 2 * MOST);
    assert_eq!(rewritten.iter().filter(|entry| entry.median_s > 0.0105).count(), 1);
    // Round trip: the cells read back as written.
    assert_eq!(rewritten.last().unwrap().speedup.map(|speedup| (speedup * 1e6).round()), Some(2e6));
    assert_eq!(rewritten.last().unwrap().workers, 2);
    // A damaged cell is named.
    let written = invocations::write(&[], &invocations::of(&analysis, &at(0), &keys));
    let damaged = String::from_utf8(written).unwrap().replace("0.010000000", "-0.010000000");
    assert!(invocations::read(damaged.as_bytes()).unwrap_err().contains("row 2"));
}
