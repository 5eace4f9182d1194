//! Names the git commit parbench is built from, for `--version`. A build
//! from a tarball (no .git, or no git) shows the package version alone.
//! Nothing else: which tools the tests find is looked for by the tests'
//! own dev-dependency (`tests/support/tools`), when the tests are built.

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
}
