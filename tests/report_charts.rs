//! The HTML report shows every run: a strip chart per group with one dot
//! per run (at most 500 an entry), one timeline per job, and a page that
//! fits a 1400 and an 800 pixel wide window, checked in headless Chromium
//! where it is installed.

use std::path::{Path, PathBuf};

mod common;
use common::Workdir;

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The figures of one kind (`runs`, `timeline`) as (runs measured, runs
/// drawn, `<circle class="run` count inside).
fn figures(html: &str, kind: &str) -> Vec<(usize, usize, usize)> {
    let attribute = |figure: &str, name: &str| -> usize {
        let start = figure.find(&format!("{name}=\"")).unwrap_or_else(|| panic!("{name} in {figure}"))
            + name.len()
            + 2;
        figure[start..].split('"').next().unwrap().parse().unwrap()
    };
    html.split("<figure ")
        .skip(1)
        .filter(|figure| figure.contains(&format!("data-kind=\"{kind}\"")))
        .map(|figure| {
            let figure = figure.split("</figure>").next().unwrap();
            (
                attribute(figure, "data-runs"),
                attribute(figure, "data-drawn"),
                figure.matches("<circle class=\"run").count(),
            )
        })
        .collect()
}

fn run_seed(work: &Workdir) {
    work.write(
        "seed.toml",
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("jobs/seed.toml")).unwrap(),
    );
    let output = work.parbench(&[
        "run",
        "--quiet",
        "--repetitions",
        "4",
        "--warmup",
        "0",
        "--html",
        "seed.html",
        "seed.toml",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn the_seed_report_draws_every_run_per_group_and_one_timeline() {
    let work = Workdir::new();
    run_seed(&work);
    let rows = work.rows("results/seed-prices.csv");
    let ok = rows.iter().filter(|row| row["status"] == "ok").count();
    let html = work.read("seed.html");
    let strips = figures(&html, "runs");
    assert_eq!(strips.len(), 2, "one strip chart per group (increase, crazy)");
    for (measured, drawn, circles) in &strips {
        assert_eq!((measured, drawn), (&(ok / 2), &(ok / 2)), "every run of the group drawn");
        assert_eq!(circles, drawn);
    }
    assert_eq!(figures(&html, "timeline"), vec![(ok, ok, ok)], "one timeline per job, every run on it");
    let answer = html.find("<h2>The answer</h2>").expect("the answer");
    assert!(answer < html.find("<h2>Groups</h2>").unwrap(), "the answer comes before the groups");

    // `report` draws the same from the CSV.
    let output = work.parbench(&["report", "--quiet", "--html", "again.html", "results/seed-prices.csv"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let again = work.read("again.html");
    assert_eq!(figures(&again, "runs"), strips);
    assert_eq!(figures(&again, "timeline"), vec![(ok, ok, ok)]);
}

const HEADER: &str = "job,workload,generator,list_size,strategy,workers,chunk_size,repetition,status,wall_s,cpu_s,error,host,cpus,started_at,disturbed";

/// An entry with 1234 runs, one with 20 of which 3 were disturbed.
fn many_runs_csv() -> String {
    let mut csv = format!("{HEADER}\n");
    let mut second = 0u64;
    let mut row = |strategy: &str, workers: usize, repetition: usize, wall: f64, disturbed: bool| {
        second += 1;
        let started = format!("2026-12-01 10:{:02}:{:02}.000", second / 60 % 60, second % 60);
        csv.push_str(&format!(
            "many,spin,range,64,{strategy},{workers},,{repetition},ok,{wall:.6},{wall:.6},,host,2,{started},{disturbed}\n"
        ));
    };
    for repetition in 1..=20 {
        row("serial", 1, repetition, 0.100 + repetition as f64 * 0.001, repetition % 7 == 0);
    }
    for repetition in 1..=1234 {
        row("threads", 2, repetition, 0.050 + (repetition * 37 % 101) as f64 * 0.0001, false);
    }
    csv
}

#[test]
fn an_entry_of_more_than_500_runs_draws_500_and_disturbed_runs_stand_apart() {
    let work = Workdir::new();
    work.write("many.csv", &many_runs_csv());
    let output = work.parbench(&["report", "--quiet", "--html", "many.html", "many.csv"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let html = work.read("many.html");
    assert_eq!(figures(&html, "runs"), vec![(1254, 520, 520)]);
    assert_eq!(figures(&html, "timeline"), vec![(1254, 520, 520)]);
    assert!(html.contains("draw 500 of their runs, evenly spaced in rank"), "the caption says so");
    assert!(html.contains("threads ×2 (1234 runs)"));
    assert_eq!(
        html.matches("<circle class=\"run disturbed\"").count(),
        2 * 2,
        "2 disturbed runs on 2 charts"
    );
    assert!(html.contains("disturbed by other load"), "a legend");
}

fn chromium() -> PathBuf {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|path| {
                std::env::split_paths(&path).map(|dir| dir.join(name)).find(|path| path.is_file())
            })
        })
        .expect("PARBENCH_REQUIRE_BROWSER is set but there is no chromium on PATH")
}

/// The `data-NAME` attributes the page's script sets on the body.
fn measured(chromium: &Path, work: &Workdir, page: &str, width: u32) -> (usize, usize, usize) {
    // Chromium keeps CPUs busy: not beside another test's run.
    let _turn = common::measuring();
    let output = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--dump-dom",
        ])
        .arg(format!("--window-size={width},1000"))
        .arg(format!("--user-data-dir={}", work.path().join("profile").display()))
        .arg(format!("file://{}", work.path().join(page).display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&output.stdout);
    let attribute = |name: &str| -> usize {
        let start = dom
            .find(&format!("{name}=\""))
            .unwrap_or_else(|| panic!("{name} set by the page's script at {width} px: {}", stderr(&output)))
            + name.len()
            + 2;
        dom[start..].split('"').next().unwrap().parse().unwrap()
    };
    (attribute("data-scroll-width"), attribute("data-client-width"), attribute("data-runs-drawn"))
}

#[parbench_test_tools::needs(chromium)]
#[test]
fn the_report_fits_1400_and_800_pixel_windows_in_chromium() {
    let chromium = chromium();
    let work = Workdir::new();
    run_seed(&work);
    work.write("many.csv", &many_runs_csv());
    let output = work.parbench(&["report", "--quiet", "--html", "many.html", "many.csv"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let ok = work.rows("results/seed-prices.csv").iter().filter(|row| row["status"] == "ok").count();
    for (page, drawn) in [("seed.html", 2 * ok), ("many.html", 2 * 520)] {
        for width in [1400, 800] {
            let (scroll, client, runs) = measured(&chromium, &work, page, width);
            assert_eq!(scroll, client, "{page} at {width} px: the page is wider than its window");
            assert_eq!(client, width as usize, "{page}: the window is {width} px wide");
            assert_eq!(runs, drawn, "{page} at {width} px: runs drawn");
        }
    }
}
