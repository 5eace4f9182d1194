use super::*;
use std::path::Path;

fn keys(source: &str) -> Vec<(String, String)> {
    let job = crate::jobfile::parse(Path::new("k.toml"), source).unwrap();
    expand(&job, 2, Overrides::default()).entries.iter().map(|e| (e.label(), e.key.clone())).collect()
}

#[test]
fn keys_cover_the_job_files_place_and_the_scripts_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let source = "version = 1\n[list]\ngenerator = \"range\"\nsize = 2\n[run]\nstrategies = [\"serial\"]\n[[workload]]\nname = \"s\"\ncommand = [\"sh\", \"w.sh\", \"{item}\"]\n";
    let script = |folder: &str, text: &str| {
        std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        std::fs::write(dir.path().join(folder).join("w.sh"), text).unwrap();
    };
    let key = |folder: &str| {
        let job = crate::jobfile::parse(&dir.path().join(folder).join("j.toml"), source).unwrap();
        let entry = &expand(&job, 2, Overrides::default()).entries[0];
        (entry.key.clone(), entry.legacy_key.clone())
    };
    script("a", "echo 1\n");
    script("b", "echo 1\n");
    let (a, legacy) = key("a");
    assert_eq!(key("a").0, a, "the same job, the same key");
    assert_ne!(key("b").0, a, "another folder");
    assert_eq!(key("b").1, legacy, "the key of 0.1.0 knew no folder");
    script("a", "echo 2\n");
    assert_ne!(key("a").0, a, "another script");
}

#[test]
fn keys_survive_reordering_and_ignore_repetitions_but_not_definitions() {
    let base = "version = 1\n[list]\ngenerator = \"range\"\nsize = 5\n[run]\nstrategies = [\"serial\", \"threads\"]\nworkers = 2\n";
    let a = "[[workload]]\nname = \"a\"\nbuiltin = \"spin\"\n";
    let b = "[[workload]]\nname = \"b\"\nbuiltin = \"sleep\"\n";
    let mut first = keys(&format!("{base}{a}{b}"));
    let mut reordered = keys(&format!("{base}repetitions = 9\n{b}{a}"));
    first.sort();
    reordered.sort();
    assert_eq!(first, reordered);
    let changed = keys(&format!("{base}{a}params = {{ iterations = 7 }}\n"));
    assert_ne!(changed[0].1, first.iter().find(|(label, _)| label.starts_with("a ")).unwrap().1);
    let scaled = keys(&format!("{}{a}", base.replace("size = 5", "size = 5\nstep = 2")));
    assert_ne!(scaled[0].1, first.iter().find(|(label, _)| label.starts_with("a ")).unwrap().1);
}
