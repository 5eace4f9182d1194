use super::*;
use std::path::Path;

fn plan(source: &str, cpus: usize) -> Plan {
    let job = crate::jobfile::parse(Path::new("jobs/test.toml"), source).unwrap();
    expand(&job, cpus, Overrides::default())
}

fn labels(plan: &Plan) -> Vec<String> {
    plan.entries.iter().map(Entry::label).collect()
}

#[test]
fn expands_in_the_documented_order() {
    let plan = plan(
        r#"
version = 1
[list]
generator = "range"
size = [10, 20]
[run]
strategies = ["processes", "threads", "serial"]
workers = [1, 2]
chunk_size = ["auto", 3]
[[workload]]
name = "w"
builtin = "spin"
params = { iterations = [5, 6] }
"#,
        4,
    );
    let labels = labels(&plan);
    assert_eq!(plan.groups.len(), 4);
    // Per group: serial, processes ×(1,2) × chunks (auto, 3), threads ×(1,2).
    assert_eq!(plan.entries.len(), 4 * 7);
    assert_eq!(
        &labels[..7],
        &[
            "w iterations=5 · 10 items · serial",
            "w iterations=5 · 10 items · processes ×1 · chunk auto:guided",
            "w iterations=5 · 10 items · processes ×1 · chunk 3",
            "w iterations=5 · 10 items · processes ×2 · chunk auto:guided",
            "w iterations=5 · 10 items · processes ×2 · chunk 3",
            "w iterations=5 · 10 items · threads ×1",
            "w iterations=5 · 10 items · threads ×2",
        ]
    );
    assert_eq!(labels[7], "w iterations=5 · 20 items · serial");
    assert_eq!(labels[14], "w iterations=6 · 10 items · serial");
    for (index, group) in plan.groups.iter().enumerate() {
        assert!(plan.entries[group.entries.clone()].iter().all(|entry| entry.group == index));
    }
}

#[test]
fn resolves_cpus_and_measures_a_count_once() {
    let plan = plan(
        r#"
version = 1
[list]
generator = "squares"
size = 20
[run]
strategies = ["threads"]
workers = [1, 2, "cpus"]
[[workload]]
name = "w"
builtin = "price-increase"
"#,
        2,
    );
    assert_eq!(plan.entries.iter().map(|e| e.workers).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(plan.skipped.len(), 1);
    assert!(plan.skipped[0].reason.contains("resolves to 2 workers"), "{:?}", plan.skipped);
    // Builtin defaults are part of the entry's parameters.
    assert_eq!(plan.entries[0].params, vec![("percent".to_owned(), ParamValue::Number(10.0))]);
}

#[test]
fn skips_threads_for_commands_and_chunks_for_argv() {
    let plan = plan(
        r#"
version = 1
[list]
generator = "range"
size = 3
[run]
strategies = ["serial", "threads", "processes"]
workers = [2]
chunk_size = [1, 2]
[[workload]]
name = "echo"
command = ["echo", "{item}"]
"#,
        2,
    );
    assert_eq!(labels(&plan), vec!["echo · 3 items · serial", "echo · 3 items · processes ×2"]);
    assert_eq!(plan.skipped[0].what, "threads");
}

#[test]
fn a_lines_command_takes_chunk_sizes_and_skips_threads_with_the_descriptors_reason() {
    let plan = plan(
        r#"
version = 1
[list]
generator = "range"
size = 3
[run]
strategies = ["threads", "processes", "serial"]
workers = [2, "cpus"]
chunk_size = [1, "auto"]
[[workload]]
name = "cat"
command = ["cat"]
protocol = "lines"
"#,
        2,
    );
    assert_eq!(
        labels(&plan),
        vec![
            "cat · 3 items · serial",
            "cat · 3 items · processes ×2 · chunk 1",
            "cat · 3 items · processes ×2 · chunk auto:guided",
        ]
    );
    let skipped: Vec<(&str, &str)> =
        plan.skipped.iter().map(|skip| (skip.what.as_str(), skip.reason.as_str())).collect();
    assert_eq!(
        skipped,
        vec![
            ("threads", Strategy::Threads.refusal(crate::vocab::WorkKind::Lines).unwrap()),
            ("workers \"cpus\"", "resolves to 2 workers on this machine, already measured"),
        ]
    );
}

#[test]
fn overrides_replace_repetitions_and_warmup() {
    let job = crate::jobfile::parse(
        Path::new("x.toml"),
        "version = 1\n[list]\ngenerator = \"range\"\nsize = 3\n[run]\nstrategies = [\"serial\"]\n[[workload]]\nname = \"a\"\nbuiltin = \"spin\"\nrepetitions = 9\n",
    )
    .unwrap();
    let plan = expand(&job, 2, Overrides { repetitions: Some(Repetitions::Fixed(2)), warmup: Some(0) });
    assert_eq!((plan.entries[0].repetitions, plan.entries[0].warmup), (Repetitions::Fixed(2), 0));
    let plan = expand(&job, 2, Overrides::default());
    assert_eq!((plan.entries[0].repetitions, plan.entries[0].warmup), (Repetitions::Fixed(9), 1));
    assert_eq!(plan.total_runs(), 10);
}
