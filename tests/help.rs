//! `parbench run --help` and `parbench report --help` say what each option
//! does and its default in at most three lines; history belongs in the docs.

use assert_cmd::Command;

const MOST_LINES: usize = 3;

/// The options of a `--help` text whose description spans more than
/// `MOST_LINES` lines (its default included), with the count. An entry
/// starts at a line whose text begins with `-` and runs to the next entry or
/// heading; blank lines inside it do not count.
fn long_entries(help: &str) -> Vec<(String, usize)> {
    let mut entries: Vec<(String, usize)> = Vec::new();
    let mut current: Option<(String, usize)> = None;
    for line in help.lines() {
        let text = line.trim_start();
        let indented = line.len() > text.len();
        if indented && text.is_empty() {
            continue;
        }
        if indented && text.starts_with('-') {
            entries.extend(current.take());
            // A flag alone on its line has its description on the next ones.
            let flag_only = !text.contains("  ");
            current = Some((text.to_string(), usize::from(!flag_only)));
        } else if indented {
            if let Some((_, lines)) = current.as_mut() {
                *lines += 1;
            }
        } else if !text.is_empty() {
            entries.extend(current.take());
        }
    }
    entries.extend(current);
    entries.into_iter().filter(|(_, lines)| *lines > MOST_LINES).collect()
}

fn help(command: &str, columns: Option<&str>) -> String {
    let mut cmd = Command::cargo_bin("parbench").unwrap();
    cmd.args([command, "--help"]);
    match columns {
        Some(columns) => cmd.env("COLUMNS", columns),
        None => cmd.env_remove("COLUMNS"),
    };
    let output = cmd.output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn no_option_of_run_or_report_takes_more_than_three_lines() {
    for command in ["run", "report"] {
        for columns in [None, Some("80")] {
            let text = help(command, columns);
            assert!(text.contains("--"), "{command} --help has no options:\n{text}");
            let long = long_entries(&text);
            assert!(long.is_empty(), "{command} --help (COLUMNS={columns:?}): {long:?}\n{text}");
        }
    }
}

#[test]
fn a_four_line_description_is_caught() {
    let text = "Options:\n      --a <A>  one\n               two\n          \n               three\n\n               [default: 4]\n  -b, --b  short\n";
    assert_eq!(long_entries(text), vec![("--a <A>  one".to_string(), 4)]);
}

/// Each command's help says its own options, its own exit status and
/// examples of itself, in at most 30 lines at 80 columns; the list of every
/// command's examples is said once, by `parbench --help`.
#[test]
fn run_and_report_help_fit_30_lines_and_speak_of_themselves() {
    for command in ["run", "report"] {
        for columns in [None, Some("80")] {
            let text = help(command, columns);
            let lines = text.lines().count();
            assert!(lines <= 30, "{command} --help (COLUMNS={columns:?}) has {lines} lines:\n{text}");
            if columns.is_some() {
                let wide = text.lines().find(|line| line.chars().count() > 80);
                assert!(wide.is_none(), "{command} --help at 80 columns: {wide:?}");
            }
            for other in ["parbench slurm", "parbench init", "parbench list", "parbench check"] {
                assert!(!text.contains(other), "{command} --help shows {other}:\n{text}");
            }
            assert!(text.contains(&format!("parbench {command} ")), "{command} --help has its own examples");
            assert!(text.contains("Exit status"), "{command} --help says its exit status");
        }
    }
    let mut top = Command::cargo_bin("parbench").unwrap();
    let top = String::from_utf8(top.arg("--help").output().unwrap().stdout).unwrap();
    assert!(top.contains("parbench slurm") && top.contains("parbench init"), "{top}");
}
