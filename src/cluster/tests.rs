use super::*;

#[test]
fn shard_files_are_recognised_by_name() {
    let shard = ShardFile::parse(Path::new("results/my.job.shard-2-of-5.csv")).unwrap();
    assert_eq!((shard.job.as_str(), shard.index, shard.count), ("my.job", 2, 5));
    assert!(ShardFile::parse(Path::new("results/job.csv")).is_none());
    assert!(ShardFile::parse(Path::new("results/job.shard-x-of-5.csv")).is_none());
}

#[test]
fn the_merged_env_json_is_the_first_shards_with_every_shards_checks_and_the_load_added_up() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/env-0.1/tiny.shard-1-of-2.env.json");
    let one = Env::read(Path::new(fixture)).expect("0.1.0's shard env.json reads");
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<ShardFile> = (0..2)
        .map(|index| {
            let csv = dir.path().join(format!("tiny.shard-{index}-of-2.csv"));
            let mut env = one.clone();
            env.shard.as_mut().unwrap().index = index;
            env.host = format!("node-{index}");
            env.other_load.runs = 2 + index;
            env.other_load.foreign_cpu_s = 0.25;
            std::fs::write(crate::report::env::beside(&csv), env.to_text()).unwrap();
            ShardFile::parse(&csv).unwrap()
        })
        .collect();
    let by_index: BTreeMap<usize, &ShardFile> = files.iter().map(|file| (file.index, file)).collect();
    let merged = merged_env(&by_index).expect("both shards have an env.json");
    assert_eq!((merged.host.as_str(), merged.shard.as_ref()), ("node-0", None));
    let shards = merged.merged_shards.as_ref().unwrap();
    let hosts: Vec<(Option<usize>, &str)> =
        shards.iter().map(|shard| (shard.index, shard.host.as_str())).collect();
    assert_eq!(hosts, [(Some(0), "node-0"), (Some(1), "node-1")]);
    assert_eq!(shards[1].machine_checks, one.machine_checks);
    assert_eq!(merged.other_load, OtherLoad { runs: 5, disturbed_runs: 0, foreign_cpu_s: 0.5, steal_s: 0.0 });
    let text = merged.to_text();
    assert!(!text.contains("\"shard\""), "{text}");
    assert_eq!(serde_json::from_str::<Env>(&text).unwrap(), merged);
}

fn entry(key: &str, repetitions: Repetitions) -> SliceEntry {
    SliceEntry {
        key: key.to_owned(),
        legacy_key: format!("{key}-legacy"),
        debug_key: Some(format!("{key}-debug")),
        label: format!("w · range 10 items · {key}"),
        repetitions,
    }
}

fn rows(runs: &[(&str, u32)]) -> Vec<RunRow> {
    runs.iter()
        .map(|(key, repetition)| RunRow {
            workload: "w".to_owned(),
            generator: "range".to_owned(),
            list_size: 10,
            entry_key: (*key).to_owned(),
            repetition: *repetition,
            ..RunRow::blank()
        })
        .collect()
}

fn lines(slice: Option<&[SliceEntry]>, runs: &[(&str, u32)]) -> Vec<String> {
    let shard = ShardFile::parse(Path::new("s/job.shard-1-of-2.csv")).unwrap();
    shortfalls(slice, &rows(runs)).iter().map(|short| shortfall_line(&shard, short, 0)).collect()
}

#[test]
fn a_fixed_entry_needs_every_repetition_and_may_hold_more() {
    let slice = [entry("a", Repetitions::Fixed(5)), entry("b", Repetitions::Fixed(2))];
    let whole = [("a", 1), ("a", 2), ("a", 3), ("a", 4), ("a", 5), ("b", 1), ("b", 2)];
    assert_eq!(lines(Some(&slice), &whole), Vec::<String>::new());
    let more = [&whole[..], &[("b", 3)]].concat();
    assert_eq!(lines(Some(&slice), &more), Vec::<String>::new(), "a larger --repetitions left one more");
    let legacy = [("a-legacy", 1), ("a", 2), ("a", 3), ("a", 4), ("a", 5), ("b", 1), ("b", 2)];
    assert_eq!(lines(Some(&slice), &legacy), Vec::<String>::new(), "rows kept from 0.1.0");
    let debug = [("a", 1), ("a-debug", 2), ("a", 3), ("a", 4), ("a", 5), ("b-debug", 1), ("b", 2)];
    assert_eq!(lines(Some(&slice), &debug), Vec::<String>::new(), "rows of 0.1.x keyed by Debug's quoting");

    let gap = [("a", 1), ("a", 2), ("a", 4), ("a", 5), ("b", 2)];
    assert_eq!(
        lines(Some(&slice), &gap),
        [
            "s/job.shard-1-of-2.csv: entry \"w · range 10 items · a\" has repetitions 1, 2, 4, 5 of 1..5: \
             repetition 3 is missing; rerun that shard with `--resume --shard 1/2`",
            "s/job.shard-1-of-2.csv: entry \"w · range 10 items · b\" has repetition 2 of 1..2: \
             repetition 1 is missing; rerun that shard with `--resume --shard 1/2`",
        ]
    );
    let none = [("b", 1), ("b", 2)];
    assert_eq!(
        lines(Some(&slice), &none),
        ["s/job.shard-1-of-2.csv: entry \"w · range 10 items · a\" has no rows: \
          repetitions 1..5 are missing; rerun that shard with `--resume --shard 1/2`"]
    );
}

#[test]
fn an_auto_entry_needs_one_run_and_no_gap() {
    let slice = [entry("a", Repetitions::Auto)];
    assert_eq!(lines(Some(&slice), &[("a", 1)]), Vec::<String>::new());
    assert_eq!(lines(Some(&slice), &[("a", 1), ("a", 2), ("a", 3)]), Vec::<String>::new());
    assert_eq!(
        lines(Some(&slice), &[("a", 1), ("a", 2), ("a", 3), ("a", 6)]),
        ["s/job.shard-1-of-2.csv: entry \"w · range 10 items · a\" has repetitions 1..3, 6: \
          repetitions 4, 5 are missing; rerun that shard with `--resume --shard 1/2`"]
    );
    assert_eq!(
        lines(Some(&slice), &[]),
        ["s/job.shard-1-of-2.csv: entry \"w · range 10 items · a\" has no rows: \
          repetition 1 is missing; rerun that shard with `--resume --shard 1/2`"]
    );
}

#[test]
fn without_a_slice_the_entries_the_rows_name_must_have_no_gap() {
    assert_eq!(lines(None, &[("a", 1), ("a", 2), ("b", 1)]), Vec::<String>::new());
    assert_eq!(
        lines(None, &[("a", 1), ("a", 3)]),
        ["s/job.shard-1-of-2.csv: entry \"w · range 10 items · serial\" has repetitions 1, 3: \
          repetition 2 is missing; rerun that shard with `--resume --shard 1/2`"]
    );
}
