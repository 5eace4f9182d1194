//! Names the git commit parbench is built from, for `--version`. A build
//! from a tarball (no .git, or no git) shows the package version alone.
//!
//! Also finds which of the tools some tests need (a browser, LibreOffice,
//! man, a Slurm cluster, ...) this machine has, as `has_*` cfgs: a test
//! whose tool is missing is ignored with its reason, so `cargo test` counts
//! it as ignored rather than passed.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    // Only this repository's own git, never one the source tree sits in by chance.
    let toplevel = git(&["-C", &manifest_dir, "rev-parse", "--show-toplevel"]);
    let ours = toplevel
        .as_deref()
        .is_some_and(|top| std::fs::canonicalize(top).ok() == std::fs::canonicalize(&manifest_dir).ok());
    let commit = ours.then(|| git(&["-C", &manifest_dir, "rev-parse", "--short=12", "HEAD"])).flatten();
    let long = match &commit {
        Some(commit) => {
            let date = git(&["-C", &manifest_dir, "log", "-1", "--format=%cs", "HEAD"]).unwrap_or_default();
            format!("{version} (commit {commit} {date})").replace(" )", ")")
        }
        None => version.to_owned(),
    };
    println!("cargo:rustc-env=PARBENCH_VERSION={long}");

    // Rebuild when HEAD moves: HEAD itself, the branch it names, packed refs.
    if ours {
        for path in [
            git(&["-C", &manifest_dir, "rev-parse", "--git-path", "HEAD"]),
            git(&["-C", &manifest_dir, "rev-parse", "--symbolic-full-name", "HEAD"])
                .and_then(|branch| git(&["-C", &manifest_dir, "rev-parse", "--git-path", &branch])),
            git(&["-C", &manifest_dir, "rev-parse", "--git-path", "packed-refs"]),
        ]
        .into_iter()
        .flatten()
        {
            let path = std::path::Path::new(&manifest_dir).join(path);
            // A path that does not exist would rerun this script on every build.
            if !path.exists() {
                continue;
            }
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    test_tools();
}

/// Emits `has_NAME` for each tool the tests may need that is here (or that
/// CI requires: then the test runs and fails loudly if the tool is
/// missing). Cheap: a look along PATH, and three short commands.
fn test_tools() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let on_path = |name: &str| std::env::split_paths(&path).any(|dir| dir.join(name).is_file());
    let set = |variable: &str| std::env::var_os(variable).is_some();
    let succeeds = |program: &str, args: &[&str]| {
        Command::new(program).args(args).output().is_ok_and(|output| output.status.success())
    };
    let python = |code: &str| succeeds("python3", &["-c", code]);
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
    for (name, here) in found {
        println!("cargo:rustc-check-cfg=cfg(has_{name})");
        if here {
            println!("cargo:rustc-cfg=has_{name}");
        }
    }
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
}
