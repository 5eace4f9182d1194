//! Finds which of the tools some of parbench's tests need (a browser,
//! LibreOffice, man, a Slurm cluster, ...) this machine has, for
//! `#[needs(TOOL)]` (lib.rs). It runs when the tests are built, and again
//! when PATH or a variable below changes. Cheap: a look along PATH, and
//! three short commands.

use std::process::Command;

fn main() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let on_path = |name: &str| std::env::split_paths(&path).any(|dir| dir.join(name).is_file());
    let set = |variable: &str| std::env::var_os(variable).is_some();
    let succeeds = |program: &str, args: &[&str]| {
        Command::new(program).args(args).output().is_ok_and(|output| output.status.success())
    };
    let python = |code: &str| succeeds("python3", &["-c", code]);
    // Where CI requires a tool, its tests run, and fail loudly if it is missing.
    let tools = set("PARBENCH_REQUIRE_TOOLS");
    let hard_open_files = Command::new("sh")
        .args(["-c", "ulimit -Hn"])
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned());
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let found = [
        (
            "chromium",
            ["chromium", "chromium-browser", "google-chrome"].iter().any(|name| on_path(name))
                || set("PARBENCH_REQUIRE_BROWSER"),
        ),
        ("soffice", on_path("soffice") || set("PARBENCH_REQUIRE_SPREADSHEET")),
        ("slurm", std::env::var("PARBENCH_SLURM").is_ok_and(|value| value == "1")),
        ("bash", on_path("bash") || tools),
        ("man", on_path("man") || tools),
        ("python3", on_path("python3") || tools),
        ("jsonschema", python("import jsonschema") || tools),
        ("venv", python("import venv, ensurepip") || tools),
        ("cc", on_path("cc") || set("PARBENCH_REQUIRE_CC")),
        ("taskset_and_2_cpus", on_path("taskset") && cpus >= 2),
        (
            "hard_open_files_2048",
            hard_open_files
                .is_some_and(|limit| limit == "unlimited" || limit.parse().is_ok_and(|n: u64| n >= 2048)),
        ),
    ];
    let here: Vec<&str> = found.iter().filter(|(_, here)| *here).map(|(name, _)| *name).collect();
    println!("cargo:rustc-env=PARBENCH_TOOLS_HERE={}", here.join(" "));
    for variable in [
        "PATH",
        "PARBENCH_REQUIRE_TOOLS",
        "PARBENCH_REQUIRE_BROWSER",
        "PARBENCH_REQUIRE_SPREADSHEET",
        "PARBENCH_REQUIRE_CC",
        "PARBENCH_SLURM",
    ] {
        println!("cargo:rerun-if-env-changed={variable}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
