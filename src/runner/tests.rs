use super::measure::timed_window;
use super::*;
use crate::strategy::Finish;
use std::time::Duration;

fn finish(at: Instant, cpu_ms: u64) -> Finish {
    Finish { at, cpu: Duration::from_millis(cpu_ms), workers: None, helpers: None }
}

/// Answers each run from a script instead of running it: no process,
/// no clock.
struct Fake<F: FnMut(&Entry, u32) -> (Status, &'static str)> {
    answer: F,
    runs: Vec<u32>,
    /// How many runs (of every entry) had been made each time the runs
    /// were sent to fresh processes.
    renewed: Vec<u32>,
}

impl<F: FnMut(&Entry, u32) -> (Status, &'static str)> Executor for Fake<F> {
    fn run_once(&mut self, entry: &Entry, _: &mut [&mut dyn Reporter]) -> Ran {
        if self.runs.len() <= entry.index {
            self.runs.resize(entry.index + 1, 0);
        }
        self.runs[entry.index] += 1;
        let (status, checksum) = (self.answer)(entry, self.runs[entry.index]);
        let error = if status == Status::Ok { String::new() } else { "it broke".to_owned() };
        let row = RunRow { status, checksum: checksum.to_owned(), error, wall_s: 0.01, ..RunRow::blank() };
        Ran { row, stderr: Vec::new(), answers: None }
    }

    fn new_processes(&mut self) {
        self.renewed.push(self.runs.iter().sum());
    }
}

/// A fake whose every run is ok, with the same result.
fn all_ok() -> Fake<impl FnMut(&Entry, u32) -> (Status, &'static str)> {
    Fake { answer: |_: &Entry, _| (Status::Ok, "a"), runs: vec![], renewed: vec![] }
}

/// The events a run emitted, in order: `s` a run started, `w` a warm-up
/// ended, `m` a measured run ended (with its row), `f` an entry finished.
#[derive(Default)]
struct Seen {
    steps: Vec<String>,
    rows: Vec<(usize, RunRow)>,
}

impl Reporter for Seen {
    fn report(&mut self, event: &Event<'_>) -> Result<(), Error> {
        match event {
            Event::RunStarted { entry, .. } => self.steps.push(format!("s{}", entry.index)),
            Event::WarmupFinished { entry } => self.steps.push(format!("w{}", entry.index)),
            Event::RunFinished { entry, row, .. } => {
                self.steps.push(format!("m{}", entry.index));
                self.rows.push((entry.index, (*row).clone()));
            }
            Event::EntryFinished { entry, .. } => self.steps.push(format!("f{}", entry.index)),
            Event::Notice { .. } => {}
        }
        Ok(())
    }
}

fn job(run: &str) -> (Job, Plan) {
    let source = format!(
        "version = 1\n[list]\ngenerator = \"range\"\nsize = 4\n[run]\nstrategies = [\"serial\", \"threads\", \"processes\"]\nworkers = 2\n{run}\n[[workload]]\nname = \"a\"\nbuiltin = \"spin\"\n"
    );
    let job = crate::jobfile::parse(std::path::Path::new("f.toml"), &source).unwrap();
    let plan = crate::matrix::expand(&job, 2, crate::matrix::Overrides::default());
    (job, plan)
}

/// Runs the plan's one group on `fake`, kept runs `prior` first.
fn steps<F: FnMut(&Entry, u32) -> (Status, &'static str)>(
    (job, plan): &(Job, Plan),
    prior: &[KeptRun],
    fake: &mut Fake<F>,
) -> (Flow, Seen, Progress) {
    let mut seen = Seen::default();
    let mut progress = Progress::default();
    let group = &plan.groups[0];
    let entries = &plan.entries[group.entries.clone()];
    let flow =
        GroupRuns::new(job, group, entries, prior, 1, fake).run_all(&mut [&mut seen], &mut progress).unwrap();
    (flow, seen, progress)
}

fn statuses(seen: &Seen) -> Vec<(usize, Status)> {
    seen.rows.iter().map(|(entry, row)| (*entry, row.status)).collect()
}

#[test]
fn a_run_whose_results_differ_from_serials_is_a_mismatch_named_after_serial() {
    let plan = job("repetitions = 2\norder = \"grouped\"");
    let mut fake = Fake {
        answer: |entry: &Entry, _| (Status::Ok, if entry.index == 2 { "b" } else { "a" }),
        runs: vec![],
        renewed: vec![],
    };
    let (flow, seen, progress) = steps(&plan, &[], &mut fake);
    assert_eq!(flow, Flow::Went);
    assert_eq!(
        statuses(&seen),
        [
            (0, Status::Ok),
            (0, Status::Ok),
            (1, Status::Ok),
            (1, Status::Ok),
            (2, Status::Mismatch),
            (2, Status::Mismatch)
        ]
    );
    let mismatch = &seen.rows[4].1;
    assert!(mismatch.error.starts_with("results differ from those of a · "), "{}", mismatch.error);
    assert!(mismatch.error.contains("serial"), "{}", mismatch.error);
    assert_eq!((progress.measured, progress.totals.runs, progress.totals.not_ok), (6, 6, 2));
    assert_eq!(seen.rows.iter().map(|(_, row)| row.repetition).collect::<Vec<_>>(), [1, 2, 1, 2, 1, 2]);
}

#[test]
fn where_serials_reference_run_fails_nothing_else_is_judged_correct() {
    let plan = job("repetitions = 1\norder = \"grouped\"");
    let mut fake = Fake {
        answer: |entry: &Entry, _| {
            if entry.index == 0 { (Status::Failed, "") } else { (Status::Ok, "a") }
        },
        runs: vec![],
        renewed: vec![],
    };
    let (_, seen, _) = steps(&plan, &[], &mut fake);
    assert_eq!(statuses(&seen), [(0, Status::Failed), (1, Status::Unverified), (2, Status::Unverified)]);
    assert!(
        seen.rows[1].1.error.starts_with("results not checked: the reference run of a · "),
        "{}",
        seen.rows[1].1.error
    );
}

#[test]
fn a_kept_serial_run_is_the_reference_and_is_not_run_again() {
    let plan = job("repetitions = 1\norder = \"grouped\"");
    let kept =
        KeptRun { entry: 0, row: RunRow { repetition: 1, checksum: "a".to_owned(), ..RunRow::blank() } };
    let mut fake = Fake { answer: |_: &Entry, _| (Status::Ok, "b"), runs: vec![], renewed: vec![] };
    let (_, seen, progress) = steps(&plan, &[kept], &mut fake);
    assert_eq!(fake.runs.first().copied().unwrap_or(0), 0, "serial's kept run stands: {:?}", seen.steps);
    assert_eq!(statuses(&seen), [(1, Status::Mismatch), (2, Status::Mismatch)]);
    assert_eq!(progress.measured, 2);
}

#[test]
fn serials_reference_is_taken_first_where_its_kept_runs_failed() {
    // Grouped order with serial's kept run failed: its reference run
    // comes before anything else, shown as a warm-up, not recorded.
    let plan = job("repetitions = 1\norder = \"grouped\"");
    let failed = RunRow { repetition: 1, status: Status::Failed, ..RunRow::blank() };
    let kept = [KeptRun { entry: 0, row: failed }];
    let mut fake = Fake {
        answer: |entry: &Entry, _| (Status::Ok, if entry.index == 1 { "b" } else { "a" }),
        runs: vec![],
        renewed: vec![],
    };
    let (_, seen, _) = steps(&plan, &kept, &mut fake);
    assert_eq!(seen.steps[..3], ["f0", "s0", "w0"], "{:?}", seen.steps);
    assert_eq!(statuses(&seen), [(1, Status::Mismatch), (2, Status::Ok)]);
}

#[test]
fn an_interrupted_run_stops_the_group_and_is_not_recorded() {
    let plan = job("repetitions = 3\norder = \"grouped\"");
    let mut fake = Fake {
        answer: |entry: &Entry, run| {
            if entry.index == 1 && run == 2 { (Status::Interrupted, "") } else { (Status::Ok, "a") }
        },
        runs: vec![],
        renewed: vec![],
    };
    let (flow, seen, progress) = steps(&plan, &[], &mut fake);
    assert_eq!(flow, Flow::Stopped);
    // Entry 1's first run is its warm-up; its second, interrupted, its
    // warm-up again in the fresh processes of its first block.
    assert_eq!(statuses(&seen), [(0, Status::Ok), (0, Status::Ok), (0, Status::Ok)]);
    assert_eq!(progress.measured, 3);
    assert!(!seen.steps.contains(&"f1".to_owned()), "{:?}", seen.steps);
}

#[test]
fn the_timed_window_starts_at_the_start_or_where_the_pool_was_ready() {
    let started = Instant::now();
    let (ready, end) = (started + Duration::from_millis(5), started + Duration::from_millis(25));
    let cpu_before = Duration::from_millis(100);
    // Timed: from the strategy's start, the pool's start included.
    let (wall, cpu) = timed_window((started, cpu_before), None, &finish(end, 140));
    assert!((wall - 0.025).abs() < 1e-9 && (cpu - 0.040).abs() < 1e-9, "{wall} {cpu}");
    // Untimed: from the moment every worker was ready.
    let (wall, cpu) = timed_window((started, cpu_before), Some(&finish(ready, 110)), &finish(end, 140));
    assert!((wall - 0.020).abs() < 1e-9 && (cpu - 0.030).abs() < 1e-9, "{wall} {cpu}");
}

#[test]
fn fixed_repetitions_run_in_ten_blocks_of_fresh_processes() {
    // 20 rounds in blocks of 2: every entry's rows say blocks 1 to 10, and
    // the processes were made anew 9 times, each time at a round's start.
    // The fake's runs take 10 ms: long beside the least block of a job
    // without `min_span` (20 ms), so no entry warms up again.
    let plan = job("repetitions = 20\nwarmup = 1\nmin_span = \"0s\"");
    let mut fake = all_ok();
    let (flow, seen, _) = steps(&plan, &[], &mut fake);
    assert_eq!(flow, Flow::Went);
    for entry in 0..3 {
        let blocks: Vec<u32> = seen
            .rows
            .iter()
            .filter(|(index, _)| *index == entry)
            .map(|(_, row)| row.process.unwrap())
            .collect();
        assert_eq!(blocks, (1..=10).flat_map(|block| [block, block]).collect::<Vec<_>>());
    }
    // Three warm-ups first, then 6 runs a block of two rounds: no warm-up
    // again, as a warm-up would be half a block's runs.
    assert_eq!(fake.renewed, (1..10).map(|block| 3 + 6 * block).collect::<Vec<_>>());
    assert_eq!(seen.steps.iter().filter(|step| step.starts_with('w')).count(), 3);
    // With the default `min_span` (blocks of 100 ms at least), two 10 ms
    // warm-ups are short: each entry warms up again in each fresh block,
    // once more than `warmup` says (a fresh interpreter's first runs are
    // slower than a warm one's).
    let plan = job("repetitions = 20\nwarmup = 1");
    let mut fake = all_ok();
    let (_, seen, _) = steps(&plan, &[], &mut fake);
    // The first block: 3 warm-ups and 6 runs; each later one 6 and 6.
    assert_eq!(fake.renewed, (0..9).map(|block| 9 + 12 * block).collect::<Vec<_>>());
    assert_eq!(seen.steps.iter().filter(|step| step.starts_with('w')).count(), 3 + 9 * 3 * 2);
}

#[test]
fn long_blocks_warm_each_entry_up_again_in_its_fresh_processes() {
    // 50 rounds in blocks of 5: each entry's warm-up runs again, unrecorded
    // and once more, before its first run in each of the 9 later blocks.
    let plan = job("repetitions = 50\nwarmup = 1");
    let mut fake = all_ok();
    let (_, seen, progress) = steps(&plan, &[], &mut fake);
    assert_eq!(progress.measured, 150);
    assert_eq!(seen.steps.iter().filter(|step| step.starts_with('w')).count(), 3 + 9 * 3 * 2);
    assert_eq!(fake.renewed.len(), 9);
    let last = seen.rows.last().unwrap();
    assert_eq!((last.1.repetition, last.1.process), (50, Some(10)));
}

#[test]
fn a_resumed_groups_blocks_are_numbered_after_the_kept_ones() {
    let plan = job("repetitions = 4\norder = \"grouped\"");
    let kept: Vec<KeptRun> = (1..=2)
        .map(|repetition| KeptRun {
            entry: 0,
            row: RunRow { repetition, process: Some(7), checksum: "a".to_owned(), ..RunRow::blank() },
        })
        .collect();
    let mut fake = all_ok();
    let (_, seen, _) = steps(&plan, &kept, &mut fake);
    let serial: Vec<(u32, Option<u32>)> = seen
        .rows
        .iter()
        .filter(|(index, _)| *index == 0)
        .map(|(_, row)| (row.repetition, row.process))
        .collect();
    assert_eq!(serial, [(3, Some(10)), (4, Some(11))]);
}

#[test]
fn in_grouped_order_every_renewal_is_followed_by_a_warm_up() {
    // Each entry runs its 50 rounds in 10 blocks of 5 before the next
    // entry starts: the processes are renewed at each block, and at each
    // entry's start, and the entry whose run comes next warms up in the
    // fresh ones before it is measured.
    let plan = job("repetitions = 50\nwarmup = 1\norder = \"grouped\"");
    let mut fake = all_ok();
    let (_, seen, progress) = steps(&plan, &[], &mut fake);
    assert_eq!(progress.measured, 150);
    let runs: Vec<&String> = seen.steps.iter().filter(|step| step.starts_with(['w', 'm'])).collect();
    assert_eq!(fake.renewed.len(), 29, "9 within each entry, and at the second and third entry's start");
    for at in &fake.renewed {
        assert!(runs[*at as usize].starts_with('w'), "run {at} after a renewal: {:?}", &runs[*at as usize..]);
    }
    assert_eq!(runs.iter().filter(|step| step.starts_with('w')).count(), 3 + 29 * 2);
}
