//! What to use, per workload: the recommendation of `analysis::answers`.

use super::*;

/// Per workload: at each measured size, the strategy and the fewest workers
/// within [`WORTH`] of the best speedup there (past the host's CPUs only
/// when the work gained there), or serial when nothing beats it by that;
/// an entry with a speedup interval must beat serial by its verdict. An
/// entry without an ok run is never chosen nor compared with: where it is
/// serial, nothing is chosen at its size.
pub(super) fn recommendations(
    analysis: &Analysis,
    fits: &[WorkerScaling],
    predict: Option<usize>,
) -> Vec<Recommendation> {
    let mut by_workload: BTreeMap<WorkloadKey, Vec<(GroupId, Vec<&EntryStats>)>> = BTreeMap::new();
    for (group, entries) in analysis.groups() {
        by_workload.entry(WorkloadKey::of(&group)).or_default().push((group, entries));
    }
    by_workload.into_iter().map(|(key, groups)| recommend(analysis, fits, predict, key, &groups)).collect()
}

/// One workload's recommendation: what each of its groups (list sizes)
/// chooses or leaves undecided, then the prediction at the largest size.
fn recommend(
    analysis: &Analysis,
    fits: &[WorkerScaling],
    predict: Option<usize>,
    key: WorkloadKey,
    groups: &[(GroupId, Vec<&EntryStats>)],
) -> Recommendation {
    let mut found = Recommendation {
        key,
        choices: Vec::new(),
        not_judged: Vec::new(),
        undecided: Vec::new(),
        failed: Vec::new(),
        capped_at: None,
        prediction: None,
        no_prediction: None,
    };
    for (group, measured) in groups {
        judge_group(analysis, fits, group, measured, &mut found);
    }
    found.choices.sort_by_key(|choice| choice.list_size);
    (found.prediction, found.no_prediction) = predicted(&found.key, &found.choices, fits, predict);
    found.not_judged.sort_by_key(|(id, _)| id.group.list_size);
    found.undecided.sort_unstable();
    found.failed.sort_by_key(|failed: &Failed| failed.id.group.list_size);
    found
}

/// Adds to `found` what one group says: its choice, or why there is none
/// (its serial failed or was not judged, nothing ran ok, nothing was
/// judged against anything), the entries not judged, and the CPUs past
/// which more workers gained nothing.
fn judge_group(
    analysis: &Analysis,
    fits: &[WorkerScaling],
    group: &GroupId,
    measured: &[&EntryStats],
    found: &mut Recommendation,
) {
    found.not_judged.extend(measured.iter().filter_map(|entry| Some((entry.id.clone(), entry.busy?))));
    let serial = measured.iter().copied().find(|entry| entry.id.strategy == Strategy::Serial);
    if let Some(serial_failed) = serial.and_then(Failed::of) {
        found.failed.push(serial_failed);
        return;
    }
    // Nothing is compared with a serial not judged (busy).
    if serial.is_some_and(|serial| serial.busy.is_some()) {
        found.undecided.push(group.list_size);
        return;
    }
    // What is not judged is neither chosen nor compared with.
    let entries: Vec<&EntryStats> = measured.iter().copied().filter(|entry| entry.busy.is_none()).collect();
    let capped: Vec<&WorkerScaling> =
        fits.iter().filter(|fit| fit.group == *group && fit.stops_at_cpus).collect();
    if let Some(fit) = capped.first() {
        found.capped_at = Some(fit.cpus);
    }
    // Without serial, the entries are compared among themselves, against
    // the one with the fewest workers (threads before processes), round by
    // round as speedups are.
    let reference = match serial {
        Some(_) => None,
        None => entries
            .iter()
            .copied()
            .filter(|entry| !entry.rounds.is_empty())
            .min_by_key(|entry| (entry.id.workers, entry.id.strategy)),
    };
    // Without serial, and nothing to compare with: nothing ran ok, or what
    // did was not judged (busy).
    if serial.is_none() && reference.is_none() {
        let none_ok: Vec<Failed> = measured.iter().filter_map(|entry| Failed::of(entry)).collect();
        if none_ok.len() == measured.len() {
            found.failed.extend(none_ok);
        } else {
            found.undecided.push(group.list_size);
        }
        return;
    }
    let measured_others =
        entries.iter().filter(|entry| !is_reference(entry, reference) && entry.wall.is_some()).count();
    let choice = best_choice(analysis, &entries, reference, &capped);
    // Not judged against anything: no choice rests on nothing.
    if choice.is_none() && measured_others == 0 && entries.len() < measured.len() {
        found.undecided.push(group.list_size);
        return;
    }
    found.choices.push(choice_at(group.list_size, choice, reference, measured_others));
}

/// Whether `entry` is what the others are compared with: serial, or the
/// reference of a group without serial.
fn is_reference(entry: &EntryStats, reference: Option<&EntryStats>) -> bool {
    reference.is_some_and(|base| base.id == entry.id) || entry.id.strategy == Strategy::Serial
}

/// `entry`'s speedup, its interval and its verdict: against serial as the
/// analysis has them, or against `reference`, round by round.
fn against(
    entry: &EntryStats,
    reference: Option<&EntryStats>,
) -> (Option<f64>, Option<Interval>, Option<crate::analysis::Verdict>) {
    match reference {
        None => (entry.speedup, entry.speedup_ci, entry.verdict),
        Some(base) => match crate::precision::speedup(&base.rounds, &entry.rounds) {
            Some(estimate) => (
                Some(estimate.median),
                estimate.interval,
                Some(crate::analysis::Verdict::of(estimate.interval)),
            ),
            None => (None, None, None),
        },
    }
}

/// Of the entries that surely beat the reference (no more workers than
/// the CPUs where the fit says more gain nothing, and no speedup past the
/// CPUs the entry could use), the one with the fewest workers within
/// [`WORTH`] of the best speedup, where the best is worth it; with its
/// speedup and interval.
fn best_choice<'a>(
    analysis: &Analysis,
    entries: &[&'a EntryStats],
    reference: Option<&EntryStats>,
    capped: &[&WorkerScaling],
) -> Option<(&'a EntryStats, f64, Option<Interval>)> {
    let allowed = |entry: &EntryStats| {
        !capped.iter().any(|fit| fit.strategy == entry.id.strategy && entry.id.workers > fit.cpus)
    };
    let candidates: Vec<(&EntryStats, f64, Option<Interval>)> = entries
        .iter()
        .copied()
        .filter(|entry| !is_reference(entry, reference) && allowed(entry))
        // A speedup past the CPUs the entry could use is no basis.
        .filter(|entry| crate::analysis::warnings::beyond_cpus(analysis, entry).is_none())
        .filter_map(|entry| {
            let (speedup, interval, verdict) = against(entry, reference);
            let speedup = speedup.filter(|speedup| speedup.is_finite())?;
            // Only what surely beats the reference, by its verdict.
            (verdict == Some(crate::analysis::Verdict::Beats)).then_some((entry, speedup, interval))
        })
        .collect();
    let best = candidates.iter().map(|(_, speedup, _)| *speedup).fold(0.0, f64::max);
    candidates.into_iter().filter(|(_, speedup, _)| best >= WORTH && speedup * WORTH >= best).min_by(
        |(a, a_speedup, _), (b, b_speedup, _)| {
            a.id.workers.cmp(&b.id.workers).then(b_speedup.total_cmp(a_speedup))
        },
    )
}

/// The choice at `list_size`: the entry chosen, or else the reference (or
/// serial), which the rest did not clearly beat.
fn choice_at(
    list_size: usize,
    choice: Option<(&EntryStats, f64, Option<Interval>)>,
    reference: Option<&EntryStats>,
    measured_others: usize,
) -> Choice {
    let reference_cell = reference.map(|base| (base.id.strategy, base.id.workers));
    match (choice, reference) {
        (Some((entry, speedup, interval)), _) => Choice {
            list_size,
            strategy: entry.id.strategy,
            workers: entry.id.workers,
            speedup,
            speedup_ci: interval,
            reference: reference_cell,
            rest_within_noise: false,
        },
        (None, Some(base)) => Choice {
            list_size,
            strategy: base.id.strategy,
            workers: base.id.workers,
            speedup: 1.0,
            speedup_ci: None,
            reference: reference_cell,
            rest_within_noise: measured_others > 0,
        },
        (None, None) => Choice {
            list_size,
            strategy: Strategy::Serial,
            workers: 1,
            speedup: 1.0,
            speedup_ci: None,
            reference: None,
            rest_within_noise: measured_others > 0,
        },
    }
}

/// With `--predict N`: the prediction of the fit at the largest size (the
/// choice's strategy, or any fitted there), or why there is none.
fn predicted(
    key: &WorkloadKey,
    choices: &[Choice],
    fits: &[WorkerScaling],
    predict: Option<usize>,
) -> (Option<(Strategy, Prediction)>, Option<&'static str>) {
    let fit = choices.last().and_then(|largest| {
        fits.iter()
            .filter(|fit| WorkloadKey::of(&fit.group) == *key && fit.group.list_size == largest.list_size)
            // The chosen strategy's fit, else one that can predict (the
            // USL, else Amdahl's law); among equals, the last in strategy
            // order, so that the choice never rests on how names sort.
            .max_by_key(|fit| {
                (fit.strategy == largest.strategy, fit.usl.is_ok(), fit.amdahl.is_ok(), fit.strategy)
            })
    });
    let prediction = predict
        .zip(fit)
        .and_then(|(workers, fit)| fit.predict(workers).map(|prediction| (fit.strategy, prediction)));
    let no_prediction = match (predict, &prediction, fit) {
        (Some(_), None, None) => Some(
            "no strategy was measured at 3 or more worker counts at the largest list size \
             (Amdahl's law needs 3, the USL 4)",
        ),
        (Some(_), None, Some(_)) => Some("neither Amdahl's law nor the USL fits the measured speedups"),
        _ => None,
    };
    (prediction, no_prediction)
}
