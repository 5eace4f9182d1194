//! Every `parbench …` command the README and the pages it sends readers to
//! (docs/USAGE.md, docs/PERFORMANCE.md) show, run as shown on a copy of
//! the repository's files: those that name a file of the repository (or one
//! an earlier command wrote), in the README's order. `run` is scaled down to
//! one repetition without warm-up; commands that need a Slurm cluster
//! (`--submit`) are left to the Slurm tests. A command shown with an
//! `error:` under it must fail with exit status 2 and print that error;
//! every other must exit 0. Then every `results/…` and `docs/…` file the
//! pages name must exist, every relative link of theirs must lead to a
//! file, and the README must stay a user's page: at most 350 lines.

mod common;

use std::path::Path;

use common::{Workdir, repo, stderr, stdout};

/// A command as the README shows it, and the error line shown under it.
#[derive(Debug)]
struct Shown {
    args: Vec<String>,
    error: Option<String>,
    /// The section headings (`Warnings:`, `Recommendation:`) of the output
    /// the pages show for it: the block of output that follows it.
    headings: Vec<String>,
}

/// A line of shown output that heads a section: `Recommendation:`.
fn heading(line: &str) -> bool {
    line.ends_with(':')
        && line.len() < 40
        && line.chars().next().is_some_and(char::is_uppercase)
        && !line.contains("  ")
}

/// Splits a command line into words: whitespace, with '…' and "…" quoting.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut started = false;
    for character in line.chars() {
        match (quote, character) {
            (None, '\'' | '"') => {
                quote = Some(character);
                started = true;
            }
            (Some(open), _) if character == open => quote = None,
            (None, _) if character.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            _ => {
                word.push(character);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// parbench's arguments in a shown line, if it is a parbench command:
/// `parbench …`, `$ parbench …`, or `cargo run [--locked] --release -- …`.
fn parbench_args(line: &str) -> Option<Vec<String>> {
    let line = line.trim().trim_start_matches("$ ");
    // A shell comment ends the command.
    let line = line.split(" #").next().unwrap_or(line);
    let words = words(line);
    if words.first().map(String::as_str) == Some("parbench") {
        return Some(words[1..].to_vec());
    }
    let separator = words.iter().position(|word| word == "--")?;
    (words.starts_with(&["cargo".into(), "run".into()])
        && words[..separator].contains(&"--release".to_owned()))
    .then(|| words[separator + 1..].to_vec())
}

/// Every parbench command of the README, in order: lines of code blocks and
/// inline code spans (which may wrap across lines).
fn shown_commands(readme: &str) -> Vec<Shown> {
    let mut shown: Vec<Shown> = Vec::new();
    let mut in_block = false;
    let mut prose = String::new();
    let mut lines = readme.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            // A block of output (no language, no command in it) is what
            // the command shown last printed.
            if in_block && line.trim() == "```" {
                let block: Vec<&str> = lines.clone().take_while(|line| !line.starts_with("```")).collect();
                if !block.iter().any(|line| parbench_args(line).is_some())
                    && let Some(last) = shown.last_mut()
                {
                    last.headings =
                        block.iter().filter(|line| heading(line)).map(|line| line.to_string()).collect();
                }
            }
            continue;
        }
        if in_block {
            // `parbench run … && parbench report …`: each command in turn.
            let parts: Vec<&str> = line.split(" && ").collect();
            for (index, part) in parts.iter().enumerate() {
                if let Some(args) = parbench_args(part) {
                    let error = lines
                        .peek()
                        .filter(|next| index + 1 == parts.len() && next.starts_with("error:"))
                        .map(|next| next.to_string());
                    shown.push(Shown { args, error, headings: Vec::new() });
                }
            }
            continue;
        }
        prose.push_str(line);
        prose.push(' ');
        // Inline code spans, once a paragraph is complete.
        if line.trim().is_empty() || lines.peek().is_none() {
            for (index, span) in std::mem::take(&mut prose).split('`').enumerate() {
                if index % 2 == 1
                    && let Some(args) = parbench_args(span)
                {
                    shown.push(Shown { args, error: None, headings: Vec::new() });
                }
            }
        }
    }
    shown
}

/// Copies a folder of the repository, recursively.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Options whose value is a file or folder the command writes.
const OUTPUT_OPTIONS: &[&str] = &["--html", "--markdown", "--json", "--summary-csv", "--charts", "--out"];

/// The README and the pages holding what it once held, in reading order:
/// the commands of one may read files an earlier one wrote.
const PAGES: &[&str] = &["README.md", "docs/PERFORMANCE.md", "docs/USAGE.md"];

fn pages() -> String {
    PAGES
        .iter()
        .map(|page| std::fs::read_to_string(repo().join(page)).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_readme_is_a_users_page_and_its_links_lead_to_files() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(lines <= 350, "README.md has {lines} lines; measurements and guides belong in docs/");
    for heading in ["## For Python developers", "## From source with Cargo"] {
        assert!(readme.contains(&format!("\n{heading}\n")), "the README opens a door: {heading}");
    }
    for page in PAGES {
        let text = std::fs::read_to_string(repo().join(page)).unwrap();
        let folder = repo().join(page).parent().unwrap().to_path_buf();
        for link in text.split("](").skip(1) {
            let target = link.split(')').next().unwrap().split('#').next().unwrap();
            if target.is_empty() || target.contains("://") {
                continue;
            }
            assert!(folder.join(target).exists(), "{page} links to {target}, which is not there");
        }
    }
}

#[test]
fn every_command_the_readme_shows_runs_as_shown() {
    let readme = pages();
    let work = Workdir::new();
    for folder in ["jobs", "tests/fixtures", "docs"] {
        copy_tree(&repo().join(folder), &work.path().join(folder));
    }
    // The charts the README shows must be written by its commands.
    for entry in std::fs::read_dir(work.path().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|extension| extension == "svg") {
            std::fs::remove_file(path).unwrap();
        }
    }
    // The Python files the pages show, each headed by a `# NAME.py` line,
    // are written where the reader writes them: their commands run on them.
    for block in readme.split("```python\n").skip(1) {
        let code = block.split("```").next().unwrap_or_default();
        if let Some(name) = code.lines().next().and_then(|line| line.strip_prefix("# ")) {
            work.write(name, code);
        }
    }
    let shown = shown_commands(&readme);
    assert!(shown.len() >= 5, "the README shows parbench commands: {shown:?}");
    let mut ran = Vec::new();
    let mut headings_checked = 0;
    for Shown { args, error, headings } in shown {
        // Job files and result files it reads (not those it writes).
        let inputs: Vec<&String> = args
            .iter()
            .enumerate()
            .filter(|(index, arg)| {
                let written = *index > 0 && OUTPUT_OPTIONS.contains(&args[index - 1].as_str());
                !written && (arg.ends_with(".toml") || arg.ends_with(".csv"))
            })
            .map(|(_, arg)| arg)
            .collect();
        // A placeholder (`results/NAME.csv`, `JOB`) names no file; every
        // other input must be there: a repository file, or one an earlier
        // command of the pages wrote.
        let placeholder = |input: &str| {
            input.contains('*')
                || input
                    .split(['/', '.', '-'])
                    .any(|part| part.len() > 1 && part.chars().all(|c| c.is_ascii_uppercase()))
        };
        let inputs: Vec<&String> = inputs.into_iter().filter(|input| !placeholder(input)).collect();
        for input in &inputs {
            assert!(
                work.path().join(input).is_file(),
                "`parbench {}` reads {input}, which is neither in the repository nor written by an earlier \
                 command of the pages",
                args.join(" ")
            );
        }
        // `init` reads nothing and writes a job file later commands run.
        let runnable = (args.first().is_some_and(|command| command == "init")
            && !args.iter().any(|arg| arg.starts_with('[')))
            || !inputs.is_empty();
        if !runnable || args.iter().any(|arg| arg == "--submit") {
            continue;
        }
        let mut scaled = args.clone();
        if scaled[0] == "run" {
            scaled.splice(1..1, ["--repetitions", "1", "--warmup", "0"].map(str::to_owned));
        }
        let scaled: Vec<&str> = scaled.iter().map(String::as_str).collect();
        let output = work.parbench(&scaled);
        let command = format!("parbench {}", args.join(" "));
        match error {
            Some(error) => {
                assert_eq!(output.status.code(), Some(2), "{command}: {}", stdout(&output));
                assert_eq!(stderr(&output).trim_end(), error, "{command}");
            }
            None => assert_eq!(output.status.code(), Some(0), "{command}: {}", stderr(&output)),
        }
        // The sections the pages show it printing, it prints.
        headings_checked += headings.len();
        let printed = stdout(&output);
        for heading in &headings {
            assert!(printed.lines().any(|line| line == heading), "{command} prints no {heading}\n{printed}");
        }
        ran.push(command);
    }
    eprintln!("ran {} commands of the README:\n  {}", ran.len(), ran.join("\n  "));
    assert!(headings_checked >= 3, "the shown output's section headings were compared: {headings_checked}");
    for needed in [
        "parbench run jobs/seed.toml",
        "parbench check ",
        "parbench init my-job --python work.py:my_function",
        "parbench run my-job.toml",
    ] {
        assert!(ran.iter().any(|command| command.starts_with(needed)), "{needed} was not run: {ran:?}");
    }

    // The files the README says these commands write.
    for (index, span) in readme.split('`').enumerate() {
        let named = index % 2 == 1
            && (span.starts_with("results/") || span.starts_with("docs/"))
            && !span.contains(char::is_whitespace)
            && !span.contains(['*', '…'])
            && !span.chars().any(|character| character.is_ascii_uppercase());
        if named && !span.ends_with('/') {
            assert!(work.path().join(span).exists(), "the README names {span}, which no command wrote");
        }
    }
}

/// Every paragraph of the README's prose begins as a sentence does: a
/// fragment left by an edit ("{item}'` a program, …") begins with a
/// lowercase letter or a stray mark.
#[test]
fn every_readme_paragraph_begins_as_a_sentence() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut in_code = false;
    let mut after_blank = true;
    for (number, line) in readme.lines().enumerate() {
        if line.starts_with("```") {
            in_code = !in_code;
            after_blank = false;
            continue;
        }
        if in_code {
            continue;
        }
        if after_blank && let Some(first) = line.chars().next() {
            let sentence = line.starts_with("parbench")
                || first.is_uppercase()
                || first.is_ascii_digit()
                || matches!(first, '#' | '|' | '-' | '*' | '`' | '[' | '<' | '!' | '>' | '"' | '(');
            assert!(sentence, "README.md line {}: a paragraph begins \"{line}\"", number + 1);
        }
        after_blank = line.trim().is_empty();
    }
}
