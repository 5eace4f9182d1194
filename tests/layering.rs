//! The layering of `docs/ARCHITECTURE.md`, enforced: every reference from
//! one top-level module of `src/` to another (`crate::NAME`, or `super::`
//! paths that climb to the crate root), outside `#[cfg(test)]` items, must
//! be an arrow the page allows; neither the code nor the page may hold a
//! cycle; and the modules the page calls silent never print. Inside each
//! folder the parts (its files and subfolders, not the `mod.rs` that
//! declares them and holds what they share) refer to each other one way
//! only, too: no cycle among `jobfile/raw.rs`, `schema.rs` and `validate/`.
//!
//! The rules are read from the page itself (the fenced `arrows` and
//! `silent` blocks), so the page and this test cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

struct Rules {
    allowed: Graph,
    silent: BTreeSet<String>,
}

/// The lines of the fenced block whose info string is `info`.
fn fenced<'a>(doc: &'a str, info: &str) -> Result<Vec<&'a str>, String> {
    let mut lines = doc.lines().skip_while(|line| line.trim() != format!("```{info}"));
    if lines.next().is_none() {
        return Err(format!("no ```{info} block"));
    }
    Ok(lines.take_while(|line| line.trim() != "```").filter(|line| !line.trim().is_empty()).collect())
}

fn parse_rules(doc: &str) -> Result<Rules, String> {
    let mut allowed = Graph::new();
    for line in fenced(doc, "arrows")? {
        let (from, to) = line.split_once("->").ok_or_else(|| format!("not `module -> a, b`: {line:?}"))?;
        let targets = to.split(',').map(str::trim).filter(|name| !name.is_empty()).map(str::to_owned);
        if allowed.insert(from.trim().to_owned(), targets.collect()).is_some() {
            return Err(format!("{} has two arrows lines", from.trim()));
        }
    }
    for (from, targets) in &allowed {
        if let Some(unknown) = targets.iter().find(|target| !allowed.contains_key(*target)) {
            return Err(format!("{from} -> {unknown}: {unknown} has no line of its own"));
        }
    }
    let silent = fenced(doc, "silent")?.iter().map(|line| line.trim().to_owned()).collect();
    Ok(Rules { allowed, silent })
}

/// A cycle in `graph`, as the path that closes it, if there is one.
fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> bool {
        if let Some(start) = path.iter().position(|seen| seen == node) {
            path.drain(..start);
            path.push(node.to_owned());
            return true;
        }
        if done.contains(node) {
            return false;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if visit(next, graph, path, done) {
                return true;
            }
        }
        path.pop();
        done.insert(node.to_owned());
        false
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        let mut path = Vec::new();
        if visit(node, graph, &mut path, &mut done) {
            return Some(path);
        }
    }
    None
}

/// The source with comments, string and character literals blanked out
/// (newlines kept), so that only code is searched.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        if rest.starts_with(&['/', '/']) {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if rest.starts_with(&['/', '*']) {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i..].starts_with(&['/', '*']) {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i..].starts_with(&['*', '/']) {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if chars[i] == 'r'
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'))
            && matches!(rest.get(1), Some('"' | '#'))
        {
            // A raw string: r"…", r#"…"#.
            let hashes = rest[1..].iter().take_while(|c| **c == '#').count();
            if rest.get(1 + hashes) != Some(&'"') {
                out.push(chars[i]);
                i += 1;
                continue;
            }
            let close: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            i += 2 + hashes;
            out.push_str(&" ".repeat(2 + hashes));
            while i < chars.len() && !chars[i..].starts_with(&close) {
                out.push(blank(chars[i]));
                i += 1;
            }
            out.push_str(&" ".repeat(close.len()));
            i += close.len();
        } else if chars[i] == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if chars[i] == '\'' {
            // A character literal ('x', '\n', '\u{1F600}'), not a lifetime.
            let end = if rest.get(1) == Some(&'\\') {
                rest.iter().skip(2).position(|c| *c == '\'').map(|at| at + 2)
            } else if rest.get(2) == Some(&'\'') {
                Some(2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    out.push_str(&" ".repeat(end + 1));
                    i += end + 1;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Blanks every item marked `#[cfg(test)]` (a `mod x;`, or an item with a
/// body in braces) out of code from [`code_only`].
fn without_tests(code: &str) -> String {
    const MARK: &str = "#[cfg(test)]";
    let mut code: Vec<char> = code.chars().collect();
    let text: String = code.iter().collect();
    let starts: Vec<usize> = text.match_indices(MARK).map(|(at, _)| text[..at].chars().count()).collect();
    for start in starts.into_iter().rev() {
        let mut i = start + MARK.chars().count();
        let mut depth = 0usize;
        while i < code.len() {
            match code[i] {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ';' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
        let end = i.min(code.len() - 1);
        for c in &mut code[start..=end] {
            if *c != '\n' {
                *c = ' ';
            }
        }
    }
    code.into_iter().collect()
}

fn ident_at(code: &str) -> Option<&str> {
    let end = code.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(code.len());
    (end > 0).then(|| &code[..end])
}

/// The top-level modules a file's code refers to. `depth` is how deep the
/// file's module is: 1 for `src/x.rs` and `src/x/mod.rs`, 2 for `src/x/y.rs`.
fn references(code: &str, depth: usize) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut add_path = |rest: &str| {
        let rest = rest.trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c, d as e}`: the first name of each part.
            let mut level = 0usize;
            let mut part_start = true;
            for (at, c) in group.char_indices() {
                match c {
                    '{' => level += 1,
                    '}' if level == 0 => break,
                    '}' => level -= 1,
                    ',' if level == 0 => part_start = true,
                    c if part_start && !c.is_whitespace() => {
                        part_start = false;
                        if let Some(name) = ident_at(&group[at..]) {
                            found.insert(name.to_owned());
                        }
                    }
                    _ => {}
                }
            }
        } else if let Some(name) = ident_at(rest) {
            found.insert(name.to_owned());
        }
    };
    let boundary = |at: usize| at == 0 || !code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
    for (at, _) in code.match_indices("crate::") {
        if boundary(at) {
            add_path(&code[at + "crate::".len()..]);
        }
    }
    for (at, _) in code.match_indices("super::") {
        if !boundary(at) || code[..at].ends_with("super::") {
            continue;
        }
        let mut rest = &code[at..];
        let mut climbs = 0;
        while let Some(after) = rest.strip_prefix("super::") {
            climbs += 1;
            rest = after.trim_start();
        }
        if climbs >= depth {
            add_path(rest);
        }
    }
    found.remove("self");
    found
}

/// The paths a file's code names from `crate::`, `super::` or `self::`,
/// made absolute: `module` is the file's own module path (`["jobfile",
/// "validate", "run"]` for `src/jobfile/validate/run.rs`), and each path is
/// cut after its first name past what it climbed to, or past a `{` group's
/// names: enough to tell which sibling of an ancestor it reaches.
fn absolute_paths(code: &str, module: &[String]) -> BTreeSet<Vec<String>> {
    let mut found = BTreeSet::new();
    let boundary = |at: usize| at == 0 || !code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
    for (at, _) in code.match_indices("::") {
        let before = &code[..at];
        let start = before.trim_end_matches(|c: char| c.is_alphanumeric() || c == '_').len();
        let (head, previous) = (&before[start..], before[..start].trim_end());
        if !boundary(start) || previous.ends_with("::") {
            continue;
        }
        let mut base: Vec<String> = match head {
            "crate" => Vec::new(),
            "self" => module.to_vec(),
            "super" => module[..module.len().saturating_sub(1)].to_vec(),
            _ => continue,
        };
        let mut rest = code[at + 2..].trim_start();
        while let Some(after) = rest.strip_prefix("super::") {
            base.pop();
            rest = after.trim_start();
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut level = 0usize;
            for part in group.split_inclusive(['{', '}', ',']) {
                if level == 0
                    && let Some(name) = ident_at(part.trim_start())
                {
                    found.insert(base.iter().cloned().chain([name.to_owned()]).collect());
                }
                if part.ends_with('{') {
                    level += 1;
                } else if part.ends_with('}') {
                    if level == 0 {
                        break;
                    }
                    level -= 1;
                }
            }
        } else if let Some(name) = ident_at(rest) {
            found.insert(base.into_iter().chain([name.to_owned()]).collect());
        }
    }
    found
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

struct Crate {
    modules: BTreeSet<String>,
    /// (from, to) → the files that refer so.
    arrows: BTreeMap<(String, String), BTreeSet<String>>,
    /// Module → the files that print.
    printing: BTreeMap<String, BTreeSet<String>>,
    /// Folder (`jobfile`, `jobfile/validate`) → the references between
    /// its parts (files and subfolders, not its `mod.rs`, which declares
    /// them and holds what they share).
    inner: BTreeMap<String, Graph>,
}

/// The files of modules declared `#[cfg(test)] mod NAME;` in `code`, a file
/// of module folder `dir`: they are test code throughout.
fn test_module_files(code: &str, dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (at, _) in code.match_indices("#[cfg(test)]") {
        let rest = code[at + "#[cfg(test)]".len()..].trim_start();
        let rest = rest.strip_prefix("pub ").unwrap_or(rest).trim_start();
        if let Some(name) = rest.strip_prefix("mod ").and_then(|rest| ident_at(rest.trim_start()))
            && rest.trim_start_matches(|c: char| c != ';' && c != '{').starts_with(';')
        {
            files.push(dir.join(format!("{name}.rs")));
            files.push(dir.join(name).join("mod.rs"));
        }
    }
    files
}

fn read_crate(src: &Path) -> Crate {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut test_only = BTreeSet::new();
    for path in &files {
        let code = code_only(&std::fs::read_to_string(path).expect("a readable source file"));
        let is_folder_root = path.file_name().is_some_and(|name| name == "mod.rs" || name == "lib.rs");
        let dir = if is_folder_root { path.parent().unwrap().to_path_buf() } else { path.with_extension("") };
        test_only.extend(test_module_files(&code, &dir));
    }
    let sources: Vec<(PathBuf, String)> = files
        .into_iter()
        .filter(|path| !test_only.contains(path))
        .map(|path| {
            let code = std::fs::read_to_string(&path).expect("a readable source file");
            (path.strip_prefix(src).expect("under src/").to_path_buf(), code)
        })
        .collect();
    crate_of(&sources)
}

/// The crate made of these (path under `src/`, source) files.
fn crate_of(sources: &[(PathBuf, String)]) -> Crate {
    let mut krate = Crate {
        modules: BTreeSet::new(),
        arrows: BTreeMap::new(),
        printing: BTreeMap::new(),
        inner: BTreeMap::new(),
    };
    let mut module_paths = BTreeSet::new();
    let mut files = Vec::new();
    for (relative, source) in sources {
        let parts: Vec<String> = relative.iter().map(|part| part.to_string_lossy().into_owned()).collect();
        if parts.len() == 1 && (parts[0] == "lib.rs" || parts[0] == "main.rs") {
            continue;
        }
        let mut path: Vec<String> =
            parts.iter().map(|part| part.trim_end_matches(".rs").to_owned()).collect();
        if path.last().is_some_and(|last| last == "mod") {
            path.pop();
        }
        module_paths.insert(path.clone());
        files.push((relative, parts, path, source));
    }
    for (relative, parts, path, source) in files {
        let module = parts[0].trim_end_matches(".rs").to_owned();
        let depth =
            if parts.last().is_some_and(|last| last == "mod.rs") { parts.len() - 1 } else { parts.len() };
        let code = without_tests(&code_only(source));
        let file = relative.display().to_string();
        for target in references(&code, depth) {
            if target != module {
                krate.arrows.entry((module.clone(), target)).or_default().insert(file.clone());
            }
        }
        // Within each folder above the file: from the part holding it to
        // the other parts it names.
        for named in absolute_paths(&code, &path) {
            for level in 1..path.len() {
                let (folder, part) = (&path[..level], &path[level]);
                if named.len() > level
                    && named[..level] == *folder
                    && named[level] != *part
                    && module_paths.contains(&named[..=level])
                {
                    krate
                        .inner
                        .entry(folder.join("/"))
                        .or_default()
                        .entry(part.clone())
                        .or_default()
                        .insert(named[level].clone());
                }
            }
        }
        if ["print!(", "println!(", "eprint!(", "eprintln!("].iter().any(|mac| code.contains(mac)) {
            krate.printing.entry(module.clone()).or_default().insert(file.clone());
        }
        krate.modules.insert(module);
    }
    krate
}

/// Everything wrong with `krate` under `rules`, one line each.
fn violations(rules: &Rules, krate: &Crate) -> Vec<String> {
    let mut wrong = Vec::new();
    if let Some(path) = cycle(&rules.allowed) {
        wrong.push(format!("ARCHITECTURE.md allows a cycle: {}", path.join(" -> ")));
    }
    for module in &krate.modules {
        if !rules.allowed.contains_key(module) {
            wrong.push(format!("src/{module} has no line in ARCHITECTURE.md's arrows"));
        }
    }
    for module in rules.allowed.keys().chain(&rules.silent) {
        if !krate.modules.contains(module) {
            wrong.push(format!("ARCHITECTURE.md names {module}, which src/ does not have"));
        }
    }
    let mut actual = Graph::new();
    for ((from, to), files) in &krate.arrows {
        actual.entry(from.clone()).or_default().insert(to.clone());
        let allowed = rules.allowed.get(from).is_some_and(|targets| targets.contains(to));
        if !allowed && krate.modules.contains(to) {
            let files: Vec<&str> = files.iter().map(String::as_str).collect();
            wrong.push(format!("{from} -> {to} is not an allowed arrow (in {})", files.join(", ")));
        }
    }
    if let Some(path) = cycle(&actual) {
        wrong.push(format!("the modules refer to each other in a cycle: {}", path.join(" -> ")));
    }
    for (folder, graph) in &krate.inner {
        if let Some(path) = cycle(graph) {
            wrong.push(format!(
                "the parts of src/{folder}/ refer to each other in a cycle: {}",
                path.join(" -> ")
            ));
        }
    }
    for (module, files) in &krate.printing {
        if rules.silent.contains(module) {
            let files: Vec<&str> = files.iter().map(String::as_str).collect();
            wrong.push(format!("{module} must not print, and {} does", files.join(", ")));
        }
    }
    wrong
}

#[test]
fn src_follows_the_arrows_of_architecture_md() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc =
        std::fs::read_to_string(root.join("docs/ARCHITECTURE.md")).expect("docs/ARCHITECTURE.md exists");
    let rules = parse_rules(&doc).unwrap_or_else(|error| panic!("docs/ARCHITECTURE.md: {error}"));
    let krate = read_crate(&root.join("src"));
    assert!(krate.modules.len() > 10, "found only {:?} in src/", krate.modules);
    let wrong = violations(&rules, &krate);
    assert!(wrong.is_empty(), "the layering is broken:\n  {}", wrong.join("\n  "));
}

// ---------------------------------------------------------------- the checker itself

fn synthetic(arrows: &[(&str, &str)], modules: &[&str]) -> Crate {
    Crate {
        modules: modules.iter().map(|m| m.to_string()).collect(),
        arrows: arrows
            .iter()
            .map(|(from, to)| ((from.to_string(), to.to_string()), BTreeSet::from([format!("{from}.rs")])))
            .collect(),
        printing: BTreeMap::new(),
        inner: BTreeMap::new(),
    }
}

const DOC: &str = "text\n\n```arrows\nleaf ->\nmid -> leaf\ntop -> mid, leaf\n```\n\n```silent\nleaf\n```\n";

#[test]
fn the_checker_accepts_allowed_arrows_and_names_forbidden_ones() {
    let rules = parse_rules(DOC).unwrap();
    let fine = synthetic(&[("mid", "leaf"), ("top", "mid")], &["leaf", "mid", "top"]);
    assert_eq!(violations(&rules, &fine), Vec::<String>::new());
    let upward = synthetic(&[("leaf", "top")], &["leaf", "mid", "top"]);
    assert_eq!(violations(&rules, &upward), ["leaf -> top is not an allowed arrow (in leaf.rs)"]);
}

#[test]
fn the_checker_finds_cycles_in_code_and_in_the_page() {
    let rules = parse_rules(DOC).unwrap();
    let circle = synthetic(&[("mid", "leaf"), ("leaf", "top"), ("top", "mid")], &["leaf", "mid", "top"]);
    let wrong = violations(&rules, &circle);
    assert!(
        wrong.iter().any(|line| line.starts_with("the modules refer to each other in a cycle")),
        "{wrong:?}"
    );
    let circular_page = parse_rules("```arrows\na -> b\nb -> a\n```\n```silent\n```\n").unwrap();
    let wrong = violations(&circular_page, &synthetic(&[], &["a", "b"]));
    assert_eq!(wrong, ["ARCHITECTURE.md allows a cycle: a -> b -> a"]);
}

#[test]
fn the_checker_wants_every_module_placed_and_silent_ones_silent() {
    let rules = parse_rules(DOC).unwrap();
    let mut krate = synthetic(&[], &["leaf", "mid", "top", "stray"]);
    krate.printing.insert("leaf".to_owned(), BTreeSet::from(["leaf.rs".to_owned()]));
    krate.printing.insert("top".to_owned(), BTreeSet::from(["top.rs".to_owned()]));
    assert_eq!(
        violations(&rules, &krate),
        ["src/stray has no line in ARCHITECTURE.md's arrows", "leaf must not print, and leaf.rs does"]
    );
    assert!(parse_rules("```arrows\na -> ghost\n```\n```silent\n```\n").is_err());
}

#[test]
fn references_skip_comments_strings_and_tests_but_not_super_paths() {
    let source = r##"
use crate::{alpha, beta::Thing, gamma as g};
use crate::delta::{x, y};
// crate::comment
/* crate::block */
const S: &str = "crate::string";
const R: &str = r#"crate::raw "quoted""#;
const C: char = '{';
fn f<'a>(x: &'a str) -> &'a str { crate::epsilon::f(x) }
#[cfg(test)]
mod tests {
    use crate::in_test;
    fn g() { let _ = "}"; crate::also_in_test::h(); }
}
#[cfg(test)]
mod fuzz;
fn after() { super::zeta::z(); super::super::eta::e(); }
"##;
    let code = without_tests(&code_only(source));
    let at_top: Vec<String> = references(&code, 1).into_iter().collect();
    assert_eq!(at_top, ["alpha", "beta", "delta", "epsilon", "eta", "gamma", "zeta"]);
    let nested: Vec<String> = references(&code, 2).into_iter().collect();
    assert_eq!(nested, ["alpha", "beta", "delta", "epsilon", "eta", "gamma"]);
}

#[test]
fn the_checker_finds_cycles_among_the_files_of_a_folder() {
    let rules = parse_rules("```arrows\njobfile ->\n```\n```silent\n```\n").unwrap();
    let file = |path: &str, code: &str| (PathBuf::from(path), code.to_owned());
    let one_way = [
        file("jobfile/mod.rs", "mod raw; mod schema; mod validate; pub struct JobError;"),
        file("jobfile/bounds.rs", "pub const MAX: usize = 1;"),
        file("jobfile/schema.rs", "use super::bounds::MAX;"),
        file("jobfile/raw.rs", "use super::schema; use super::JobError;"),
        file("jobfile/validate/mod.rs", "mod run; use super::raw::RawJob; use super::{JobError, bounds};"),
        file(
            "jobfile/validate/run.rs",
            "use super::super::bounds::MAX; use super::values::x; use crate::jobfile::raw;",
        ),
        file("jobfile/validate/values.rs", "use super::super::JobError;"),
    ];
    let krate = crate_of(&one_way);
    assert_eq!(violations(&rules, &krate), Vec::<String>::new());
    let jobfile = &krate.inner["jobfile"];
    assert_eq!(jobfile["validate"], BTreeSet::from(["bounds".to_owned(), "raw".to_owned()]));
    assert_eq!(jobfile["raw"], BTreeSet::from(["schema".to_owned()]));
    assert_eq!(krate.inner["jobfile/validate"]["run"], BTreeSet::from(["values".to_owned()]));

    // The circle `jobfile/` had: raw names schema's functions, schema derives
    // from raw's types and takes validate's limits, validate reads raw.
    let circle = [
        file("jobfile/mod.rs", "mod raw; mod schema; mod validate;"),
        file("jobfile/raw.rs", "use super::schema;"),
        file(
            "jobfile/schema.rs",
            "use super::raw::RawJob;\nuse super::validate::{MAX_LIST_SIZE, MAX_WORKERS};",
        ),
        file("jobfile/validate/mod.rs", "use super::raw::{RawJob, RawWorkload};"),
        file("jobfile/validate/list.rs", "use crate::jobfile::{schema::x, raw};"),
    ];
    assert_eq!(
        violations(&rules, &crate_of(&circle)),
        ["the parts of src/jobfile/ refer to each other in a cycle: raw -> schema -> raw"]
    );
}
