//! The spread between invocations (`analysis::invocations`).

use super::{analyze, row};
use crate::analysis::invocations::{self, Invocation, MOST, This};
use crate::analysis::{Analysis, Verdict};

/// An invocation of serial and threads ×2, 12 rounds, each its own block:
/// serial at `level` with a ±0.1% wobble, threads at `level / speedup`.
fn invocation(level: f64, speedup: f64) -> Analysis {
    let mut rows = Vec::new();
    for repetition in 1..=12 {
        let wobble = 1.0 + 0.001 * (f64::from(repetition % 3) - 1.0);
        rows.push(row("serial", 1, 10, repetition, level * wobble));
        rows.push(row("threads", 2, 10, repetition, level * wobble / speedup));
    }
    for row in &mut rows {
        let key = format!("x{}", row["strategy"]);
        row.insert("entry_key".to_owned(), key);
    }
    analyze(&rows).unwrap()
}

fn at(second: usize) -> String {
    format!("2026-12-05 11:{:02}:{:02}.000", second / 60, second % 60)
}

/// The invocation of `analysis` that started at `second`, from one job file.
fn this(second: usize) -> This {
    This { started_at: at(second), job_file_hash: "b2b2b40a08d9ba0c".to_owned() }
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
            let this = this(index);
            let alone = analysis.entries[0].median_ci.unwrap();
            invocations::widen(&mut analysis, &this, &recorded);
            let entries = invocations::of(&analysis, &this);
            recorded = invocations::read(&invocations::write(&recorded, &this, &entries)).unwrap();
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
    let earlier: Vec<Invocation> = [(0.97, 1), (1.05, 2)]
        .into_iter()
        .flat_map(|(speedup, second)| {
            let mut entries = invocations::of(&analysis, &this(second));
            entries[1].speedup = Some(speedup);
            entries
        })
        .collect();
    let third = this(3);
    invocations::widen(&mut analysis, &third, &earlier);
    let threads = &analysis.entries[1];
    assert_eq!(threads.verdict, Some(Verdict::NoClearDifference), "{:?}", threads.speedup_ci);
    assert_eq!(threads.invocations, 3);
    assert_eq!(threads.speedup, Some(1.02), "the speedup is this invocation's");
    // Serial's speedup is 1 by definition, and stays so.
    assert_eq!(analysis.entries[0].speedup_ci, Some((1.0, 1.0)));
    assert_eq!(analysis.entries[0].verdict, None);
}

#[test]
fn other_hosts_keys_job_files_interpreters_and_this_invocation_are_not_other_invocations() {
    let mut analysis = invocation(0.010, 2.0);
    let alone = analysis.entries[0].median_ci;
    let other = invocation(0.020, 2.0);
    let mut earlier = Vec::new();
    let changes: [fn(&mut Invocation); 4] = [
        |entry| entry.host = "another".to_owned(),
        |entry| entry.entry_key = "xchanged".to_owned(),
        |entry| entry.job_file_hash = "0000000000000000".to_owned(),
        |entry| entry.python = "CPython 3.13.1".to_owned(),
    ];
    for (second, change) in changes.iter().enumerate() {
        for mut entry in invocations::of(&other, &this(second)) {
            change(&mut entry);
            earlier.push(entry);
        }
    }
    // This invocation's own record, as --resume leaves it.
    let ninth = this(9);
    earlier.extend(invocations::of(&invocation(0.030, 2.0), &ninth));
    invocations::widen(&mut analysis, &ninth, &earlier);
    assert_eq!(analysis.entries[0].median_ci, alone);
    assert_eq!((analysis.entries[0].invocations, analysis.entries[1].invocations), (1, 1));
    // The same entries unchanged are other invocations.
    earlier.extend(invocations::of(&other, &this(5)));
    invocations::widen(&mut analysis, &ninth, &earlier);
    assert_eq!((analysis.entries[0].invocations, analysis.entries[1].invocations), (2, 2));
}

#[test]
fn the_record_keeps_the_newest_invocations_and_replaces_this_ones() {
    let analysis = invocation(0.010, 2.0);
    let mut recorded = Vec::new();
    for second in 0..MOST + 5 {
        let this = this(second);
        recorded =
            invocations::read(&invocations::write(&recorded, &this, &invocations::of(&analysis, &this)))
                .unwrap();
    }
    assert_eq!(recorded.len(), 2 * MOST, "the newest {MOST} of each entry");
    assert_eq!(recorded[0].invocation, at(5));
    // The same invocation written again (a resumed run) replaces its rows,
    // also where it now records none.
    let again = invocation(0.011, 2.0);
    let newest = this(MOST + 4);
    let rewritten =
        invocations::read(&invocations::write(&recorded, &newest, &invocations::of(&again, &newest)))
            .unwrap();
    assert_eq!(rewritten.len(), 2 * MOST);
    assert_eq!(rewritten.iter().filter(|entry| entry.median_s > 0.0105).count(), 1);
    assert_eq!(invocations::read(&invocations::write(&recorded, &newest, &[])).unwrap().len(), 2 * MOST - 2);
    // Round trip: the cells read back as written, numbers exactly.
    let last = rewritten.last().unwrap();
    assert_eq!((last.speedup, last.workers, last.job_file_hash.as_str()), (Some(2.0), 2, "b2b2b40a08d9ba0c"));
    assert_eq!(last.median_s, again.entries[1].wall.unwrap().median);
    // A run without an interval of its own (a smoke run of 3 runs) records nothing.
    let mut few = Vec::new();
    for repetition in 1..=3 {
        few.push(row("serial", 1, 10, repetition, 0.01));
    }
    let few = analyze(&few).unwrap();
    assert!(invocations::of(&few, &this(0)).is_empty());
    // A damaged cell is named.
    let first = this(0);
    let written = invocations::write(&[], &first, &invocations::of(&analysis, &first));
    let damaged = String::from_utf8(written).unwrap().replacen(",0.01,", ",-0.01,", 1);
    assert!(invocations::read(damaged.as_bytes()).unwrap_err().contains("row 2"), "{damaged}");
}
