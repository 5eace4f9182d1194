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
    let mut recommendations = Vec::new();
    for (key, groups) in by_workload {
        let mut choices = Vec::new();
        let mut not_judged: Vec<(EntryId, Busy)> = Vec::new();
        let mut undecided = Vec::new();
        let mut failed = Vec::new();
        let mut capped_at = None;
        for (group, measured) in &groups {
            not_judged.extend(measured.iter().filter_map(|entry| Some((entry.id.clone(), entry.busy?))));
            let serial = measured.iter().find(|entry| entry.id.strategy == Strategy::Serial);
            if let Some(serial_failed) = serial.and_then(|serial| Failed::of(serial)) {
                failed.push(serial_failed);
                continue;
            }
            // Nothing is compared with a serial not judged (busy).
            if serial.is_some_and(|serial| serial.busy.is_some()) {
                undecided.push(group.list_size);
                continue;
            }
            // What is not judged is neither chosen nor compared with.
            let entries: Vec<&EntryStats> =
                measured.iter().copied().filter(|entry| entry.busy.is_none()).collect();
            let capped: Vec<&WorkerScaling> =
                fits.iter().filter(|fit| fit.group == *group && fit.stops_at_cpus).collect();
            if let Some(fit) = capped.first() {
                capped_at = Some(fit.cpus);
            }
            let allowed = |entry: &EntryStats| {
                !capped
                    .iter()
                    .any(|fit| fit.strategy == entry.id.strategy.name() && entry.id.workers > fit.cpus)
            };
            // Without serial, the entries are compared among themselves,
            // against the one with the fewest workers (threads before
            // processes), round by round as speedups are.
            let reference = match serial {
                Some(_) => None,
                None => entries
                    .iter()
                    .filter(|entry| !entry.rounds.is_empty())
                    .min_by_key(|entry| (entry.id.workers, entry.id.strategy)),
            };
            // Without serial, and nothing to compare with: nothing ran ok,
            // or what did was not judged (busy).
            if serial.is_none() && reference.is_none() {
                let none_ok: Vec<Failed> = measured.iter().filter_map(|entry| Failed::of(entry)).collect();
                if none_ok.len() == measured.len() {
                    failed.extend(none_ok);
                } else {
                    undecided.push(group.list_size);
                }
                continue;
            }
            let against =
                |entry: &EntryStats| -> (Option<f64>, Option<Interval>, Option<crate::analysis::Verdict>) {
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
                };
            let is_reference = |entry: &EntryStats| {
                reference.is_some_and(|base| base.id == entry.id) || entry.id.strategy == Strategy::Serial
            };
            let measured_others =
                entries.iter().filter(|entry| !is_reference(entry) && entry.wall.is_some()).count();
            let candidates: Vec<(&&EntryStats, f64, Option<Interval>)> = entries
                .iter()
                .filter(|entry| !is_reference(entry) && allowed(entry))
                // A speedup past the CPUs the entry could use is no basis.
                .filter(|entry| crate::analysis::warnings::beyond_cpus(analysis, entry).is_none())
                .filter_map(|entry| {
                    let (speedup, interval, verdict) = against(entry);
                    let speedup = speedup.filter(|speedup| speedup.is_finite())?;
                    // Only what surely beats the reference, by its verdict.
                    (verdict == Some(crate::analysis::Verdict::Beats)).then_some((entry, speedup, interval))
                })
                .collect();
            let best = candidates.iter().map(|(_, speedup, _)| *speedup).fold(0.0, f64::max);
            let choice = candidates
                .iter()
                .filter(|(_, speedup, _)| best >= WORTH && speedup * WORTH >= best)
                .min_by(|(a, a_speedup, _), (b, b_speedup, _)| {
                    a.id.workers.cmp(&b.id.workers).then(b_speedup.total_cmp(a_speedup))
                });
            // Not judged against anything: no choice rests on nothing.
            if choice.is_none() && measured_others == 0 && entries.len() < measured.len() {
                undecided.push(group.list_size);
                continue;
            }
            let reference_cell = reference.map(|base| (base.id.strategy.name().to_owned(), base.id.workers));
            choices.push(match (choice, reference) {
                (Some((entry, speedup, interval)), _) => Choice {
                    list_size: group.list_size,
                    strategy: entry.id.strategy.name().to_owned(),
                    workers: entry.id.workers,
                    speedup: *speedup,
                    speedup_ci: *interval,
                    reference: reference_cell,
                    rest_within_noise: false,
                },
                (None, Some(base)) => Choice {
                    list_size: group.list_size,
                    strategy: base.id.strategy.name().to_owned(),
                    workers: base.id.workers,
                    speedup: 1.0,
                    speedup_ci: None,
                    reference: reference_cell,
                    rest_within_noise: measured_others > 0,
                },
                (None, None) => Choice {
                    list_size: group.list_size,
                    strategy: Strategy::Serial.name().to_owned(),
                    workers: 1,
                    speedup: 1.0,
                    speedup_ci: None,
                    reference: None,
                    rest_within_noise: measured_others > 0,
                },
            });
        }
        choices.sort_by_key(|choice| choice.list_size);
        // The largest size's choice, or any strategy fitted there.
        let fit = choices.last().and_then(|largest| {
            fits.iter()
                .filter(|fit| WorkloadKey::of(&fit.group) == key && fit.group.list_size == largest.list_size)
                .max_by_key(|fit| (fit.strategy == largest.strategy, fit.usl.is_ok()))
        });
        let prediction = predict.zip(fit).and_then(|(workers, fit)| {
            fit.predict(workers).map(|prediction| (fit.strategy.clone(), prediction))
        });
        let no_prediction = match (predict, &prediction, fit) {
            (Some(_), None, None) => Some(
                "no strategy was measured at 3 or more worker counts at the largest list size \
                 (Amdahl's law needs 3, the USL 4)",
            ),
            (Some(_), None, Some(_)) => Some("neither Amdahl's law nor the USL fits the measured speedups"),
            _ => None,
        };
        not_judged.sort_by_key(|(id, _)| id.group.list_size);
        undecided.sort_unstable();
        failed.sort_by_key(|failed: &Failed| failed.id.group.list_size);
        recommendations.push(Recommendation {
            key,
            choices,
            not_judged,
            undecided,
            failed,
            capped_at,
            prediction,
            no_prediction,
        });
    }
    recommendations
}
