//! No function under `src/` is longer than 100 lines, from its `fn` line to
//! its closing brace (docs/ARCHITECTURE.md): a longer one is split into
//! steps a reader can name.

mod common;

use std::path::Path;

const LONGEST: usize = 100;

/// Every function of `text` longer than [`LONGEST`] lines: its name and
/// length. A function is a line that starts (after its indentation and
/// visibility) with `fn`, up to the first later line that is its
/// indentation and `}`; one-line and body-less declarations are skipped.
fn too_long(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let line = lines[at];
        let indent = &line[..line.len() - line.trim_start().len()];
        let Some(name) = fn_name(line.trim_start()) else {
            at += 1;
            continue;
        };
        // The signature may run over several lines, up to its `{` or `;`.
        let Some(open) = (at..lines.len()).find(|&i| {
            let end = lines[i].trim_end();
            end.ends_with('{') || end.ends_with(';') || end.ends_with('}')
        }) else {
            break;
        };
        if !lines[open].trim_end().ends_with('{') {
            at = open + 1;
            continue;
        }
        let close = (open + 1..lines.len()).find(|&i| lines[i] == format!("{indent}}}"));
        if let Some(close) = close
            && close - at + 1 > LONGEST
        {
            found.push((name, close - at + 1));
        }
        at = open + 1;
    }
    found
}

fn fn_name(line: &str) -> Option<String> {
    let mut rest = line;
    for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const ", "async ", "unsafe "] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

fn rust_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn no_function_under_src_is_longer_than_100_lines() {
    let mut files = Vec::new();
    rust_files(&common::repo().join("src"), &mut files);
    let mut long = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (name, length) in too_long(&text) {
            long.push(format!("{}: {name} is {length} lines", file.display()));
        }
    }
    assert!(long.is_empty(), "split these into steps a reader can name:\n{}", long.join("\n"));
}

#[test]
fn a_long_function_is_found_and_a_short_one_is_not() {
    let body = |lines: usize| "    let x = 1;\n".repeat(lines);
    let text = format!(
        "fn short() {{\n{}}}\n\npub(crate) fn long(\n    a: u32,\n) -> u32 {{\n{}    a\n}}\nfn declared();\n",
        body(10),
        body(LONGEST)
    );
    assert_eq!(too_long(&text), [("long".to_owned(), LONGEST + 5)]);
}
