//! `#[needs(TOOL)]`, written above a test's `#[test]`: where this machine
//! lacks TOOL (build.rs looked when the tests were built), the test is
//! ignored with the reason below, so that `cargo test` counts it as ignored
//! rather than passed; where TOOL is here, or CI requires it, the test runs.

use proc_macro::TokenStream;

/// Each tool a test may need, and what an ignored test says it needs.
const TOOLS: &[(&str, &str)] = &[
    ("chromium", "needs chromium on PATH"),
    ("soffice", "needs soffice (LibreOffice Calc) on PATH"),
    ("slurm", "needs a Slurm cluster: .ci/slurm-up, then PARBENCH_SLURM=1"),
    ("bash", "needs bash on PATH"),
    ("man", "needs man on PATH"),
    ("python3", "needs python3 on PATH"),
    ("jsonschema", "needs python3 with the jsonschema package"),
    ("venv", "needs python3's venv and ensurepip (Debian: python3-venv)"),
    ("cc", "needs a C compiler (cc) to build the flock shim"),
    ("taskset_and_2_cpus", "needs taskset and at least 2 CPUs"),
    ("hard_open_files_2048", "needs a hard open-file limit (ulimit -Hn) of 2048 or more"),
];

#[proc_macro_attribute]
pub fn needs(tool: TokenStream, test: TokenStream) -> TokenStream {
    let tool = tool.to_string();
    let Some((_, reason)) = TOOLS.iter().find(|(name, _)| *name == tool) else {
        let known: Vec<&str> = TOOLS.iter().map(|(name, _)| *name).collect();
        let message = format!("#[needs({tool})]: no such tool; the tools are {}", known.join(", "));
        return format!("compile_error!({message:?});").parse().expect("a compile_error! call");
    };
    if env!("PARBENCH_TOOLS_HERE").split_whitespace().any(|here| here == tool) {
        return test;
    }
    let mut ignored: TokenStream = format!("#[ignore = {reason:?}]").parse().expect("an ignore attribute");
    ignored.extend(test);
    ignored
}
