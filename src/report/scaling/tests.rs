use super::*;

fn fit(estimate: BreakEven, slower: Option<usize>, beats: Option<usize>) -> BreakEvenFit {
    BreakEvenFit {
        estimate,
        interval: Some((estimate.items() * 0.9, estimate.items() * 1.2)),
        measured: (100, 1_000_000),
        slower_up_to: slower,
        beats_from: beats,
    }
}

#[test]
fn a_break_even_is_said_with_its_interval_and_checked_against_the_points() {
    assert_eq!(
        break_even_text(&fit(BreakEven::From(33_000.0), Some(10_000), Some(100_000))),
        "pays from about 33,000 items (30,000–40,000)"
    );
    assert_eq!(
        break_even_text(&fit(BreakEven::From(9_000.0), Some(10_000), Some(100_000))),
        "pays from about 9,000 items (8,100–11,000), but the measured points beat serial from 100,000 items, \
         not at 10,000: the lines fit them loosely"
    );
    assert_eq!(
        break_even_text(&fit(BreakEven::Never, Some(1_000_000), None)),
        "never pays in the measured range (100–1,000,000 items): its cost per item is no lower than serial's"
    );
    assert!(break_even_text(&fit(BreakEven::Never, Some(10_000), Some(100_000))).ends_with(
        "but the measured points beat serial from 100,000 items, not at 10,000: the lines fit them loosely"
    ));
    assert_eq!(
        break_even_text(&fit(BreakEven::From(5e6), Some(1_000_000), None)),
        "never pays in the measured range (100–1,000,000 items); the lines would cross at about 5,000,000 items"
    );
    assert_eq!(
        break_even_text(&fit(BreakEven::Always, None, Some(100))),
        "pays at every measured size (100–1,000,000 items)"
    );
}

#[test]
fn numbers_for_people_and_cells_for_spreadsheets() {
    assert_eq!(items(33_456.0), "33,000");
    assert_eq!(items(1_940.0), "1,900");
    assert_eq!(number(0.00123456), "0.00123");
    assert_eq!(number(1e-12), "0");
    assert_eq!(cell(0.000000572196), "0.000000572196");
    assert_eq!(cell(f64::INFINITY), "inf");
    assert!(!cell(1e-15).contains('e'));
}

#[test]
fn an_interval_is_said_in_order_with_an_unbounded_end_as_such() {
    let said =
        |low, high| with_interval(&FittedParameter { value: 0.3, interval: Some((low, high)) }, words::ratio);
    assert_eq!(said(0.25, 0.35), "0.30× (0.25×–0.35×)");
    // A real 2-CPU run printed "∞–0.35×": a resample's peak speedup of
    // ∞/∞ (NaN, which sorts first) as its low end.
    assert_eq!(said(f64::NAN, 0.35), "0.30×");
    assert_eq!(said(0.35, 0.25), "0.30× (0.25×–0.35×)");
    assert_eq!(said(0.25, f64::INFINITY), "0.30× (≥ 0.25×)");
    assert_eq!(said(f64::INFINITY, 0.25), "0.30× (≥ 0.25×)");
    assert_eq!(said(f64::INFINITY, f64::INFINITY), "0.30× (∞)");
    // Where κ is so small that N* overflows, there is no peak, not NaN.
    let usl = crate::analysis::scaling::Usl { scale: 1.0, sigma: 0.5, kappa: 1e-320 };
    assert_eq!((usl.peak_workers(), usl.peak_speedup()), (None, None));
}
