//! The scaling answers through the real binary: `parbench report` on
//! per-run CSVs made from known laws with noise, so that what it says can
//! be checked against the truth without timing anything here.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

mod common;

const HEADER: &str = "job,workload,generator,list_size,strategy,workers,chunk_size,repetition,status,wall_s,cpu_s,error,host,cpus";

/// Reproducible multiplicative noise within ±`spread` (SplitMix64).
struct Noise(u64);

impl Noise {
    fn factor(&mut self, spread: f64) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let unit = ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64;
        1.0 + spread * (2.0 * unit - 1.0)
    }
}

/// Rows of a job: (workload, list size, strategy, workers) → true seconds,
/// `rounds` noisy repetitions each, interleaved round by round.
fn rows(
    job: &str,
    cpus: usize,
    entries: &[(&str, usize, &str, usize, f64)],
    rounds: u32,
    spread: f64,
) -> String {
    let mut noise = Noise(42);
    let mut text = format!("{HEADER}\n");
    for round in 1..=rounds {
        for (workload, size, strategy, workers, seconds) in entries {
            let wall = seconds * noise.factor(spread);
            // A sleep keeps no CPU busy; spin work keeps its workers busy.
            let cpu = if workload.starts_with("sleep") { wall * 0.01 } else { wall };
            text.push_str(&format!(
                "{job},{workload},range,{size},{strategy},{workers},,{round},ok,{wall:.9},{cpu:.9},,host,{cpus}\n"
            ));
        }
    }
    text
}

fn parbench(dir: &Path, args: &[&str]) -> Output {
    // parbench runs take turns: one beside another would be other load.
    let _turn = common::measuring();
    Command::cargo_bin("parbench").unwrap().current_dir(dir).args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn number(row: &BTreeMap<String, String>, column: &str) -> f64 {
    row[column].parse().unwrap_or_else(|_| panic!("{column}: {:?}", row[column]))
}

/// Waiting work: each worker takes an equal share, plus 0.1 ms per worker
/// to start it.
fn sleep_job(dir: &Path) -> std::path::PathBuf {
    let serial = 0.128;
    let mut entries = vec![("sleep", 64, "serial", 1, serial)];
    for workers in [1, 2, 4, 8, 16] {
        entries.push(("sleep", 64, "threads", workers, serial / workers as f64 + 0.0001 * workers as f64));
    }
    let path = dir.join("sleep.csv");
    std::fs::write(&path, rows("sleep", 2, &entries, 7, 0.01)).unwrap();
    path
}

#[test]
fn waiting_work_scales_with_no_contention_and_a_flat_karp_flatt() {
    let dir = TempDir::new().unwrap();
    let csv = sleep_job(dir.path());
    let text = stdout(&parbench(dir.path(), &["report", "--scaling-csv", "s.csv", csv.to_str().unwrap()]));
    assert!(text.contains("flat: a fixed serial fraction"), "{text}");
    let fits = common::keyed_rows(&dir.path().join("s.csv"));
    let usl = fits.iter().find(|row| row["model"] == "usl").expect("a USL row");
    assert!(number(usl, "sigma") < 0.02 && number(usl, "kappa") < 0.02, "{usl:?}");
    assert!(
        number(usl, "sigma_low") <= number(usl, "sigma") && number(usl, "sigma") <= number(usl, "sigma_high")
    );
    assert_eq!((usl["sigma_level"].as_str(), usl["kappa_level"].as_str()), ("0.95", "0.95"), "{usl:?}");
    let amdahl = fits.iter().find(|row| row["model"] == "amdahl").expect("an Amdahl row");
    assert!(number(amdahl, "serial_fraction") < 0.03, "{amdahl:?}");
    // The summary carries e(N) per entry.
    let output = parbench(dir.path(), &["report", "--summary-csv", "summary.csv", csv.to_str().unwrap()]);
    assert!(output.status.success());
    let summary = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    assert!(summary.lines().next().unwrap().split(',').any(|column| column == "karp_flatt"), "{summary}");
}

#[test]
fn predict_gives_a_speedup_with_an_interval_and_warns_of_extrapolation() {
    let dir = TempDir::new().unwrap();
    let csv = sleep_job(dir.path());
    let text = stdout(&parbench(dir.path(), &["report", "--predict", "64", csv.to_str().unwrap()]));
    let line = text
        .lines()
        .find(|line| line.contains("on a machine with 64 CPUs"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("the USL predicts") && line.contains("for threads ×64"), "{line}");
    assert!(line.contains("× (") && line.contains("×–"), "an interval: {line}");
    assert!(
        line.contains("warning: an extrapolation, beyond twice the largest worker count measured, 16"),
        "{line}"
    );
    let quiet =
        stdout(&parbench(dir.path(), &["report", "--quiet", "--predict", "64", csv.to_str().unwrap()]));
    assert_eq!(quiet.lines().count(), 1, "{quiet}");
    // Within twice the measured range it is no extrapolation.
    let near = stdout(&parbench(dir.path(), &["report", "--predict", "32", csv.to_str().unwrap()]));
    assert!(near.contains("on a machine with 32 CPUs") && !near.contains("extrapolation"), "{near}");
    let output = parbench(dir.path(), &["report", "--predict", "0", csv.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn cpu_bound_work_past_the_cores_is_recommended_at_the_cpu_count() {
    let dir = TempDir::new().unwrap();
    // Two CPUs: past two workers, they only take turns.
    let serial = 0.064;
    let mut entries = vec![("spin", 64, "serial", 1, serial)];
    for workers in [1, 2, 3, 4, 6, 8] {
        entries.push(("spin", 64, "threads", workers, serial / (workers.min(2) as f64) * 1.005));
    }
    let csv = dir.path().join("spin.csv");
    std::fs::write(&csv, rows("spin", 2, &entries, 7, 0.01)).unwrap();
    let text = stdout(&parbench(
        dir.path(),
        &["report", "--json", "r.json", "--predict", "64", csv.to_str().unwrap()],
    ));
    let recommendation =
        text.lines().find(|line| line.starts_with("  spin: use")).unwrap_or_else(|| panic!("{text}"));
    assert!(recommendation.contains("use threads ×2 at 64 items"), "{recommendation}");
    assert!(text.contains("the measured points stop gaining at 2 workers, this host's CPU count"), "{text}");
    assert!(text.contains("not a worker count to use"), "{text}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let fit = &json["scaling"]["workers"][0];
    assert_eq!(fit["stops_at_cpus"], true);
    let peak = fit["usl"]["peak_speedup"]["value"].as_f64().unwrap();
    assert!(peak <= 2.2, "the USL curve tops out at {peak}");
    let peak_workers = fit["usl"]["peak_workers"]["value"].as_f64().unwrap();
    assert!(peak_workers > 2.0 && peak_workers < 8.0, "{peak_workers}");
    // Every interval states its level beside it, and its ends are in order
    // (null is infinity).
    for name in ["sigma", "kappa", "peak_workers", "peak_speedup"] {
        let estimate = &fit["usl"][name];
        assert_eq!(estimate["level"], 0.95, "{name}: {estimate}");
        let end = |index: usize| estimate["interval"][index].as_f64().unwrap_or(f64::INFINITY);
        assert!(end(0) <= end(1), "{name}: {estimate}");
    }
    assert_eq!(json["scaling"]["recommendations"][0]["choices"][0]["workers"], 2);
}

#[test]
fn a_pool_pays_from_a_break_even_size_between_the_measured_points_or_never() {
    let dir = TempDir::new().unwrap();
    let mut entries = Vec::new();
    for size in [100, 1_000, 10_000, 100_000, 1_000_000] {
        let n = size as f64;
        // increase: 4 ns per item serial; the pool ships each item for 7 ns.
        entries.push(("increase", size, "serial", 1, 1e-6 + 4e-9 * n));
        entries.push(("increase", size, "processes", 2, 3e-3 + 7e-9 * n));
        // spin: 0.3 µs per item, halved by two processes, after 4 ms.
        entries.push(("spin", size, "serial", 1, 1e-6 + 0.3e-6 * n));
        entries.push(("spin", size, "processes", 2, 4e-3 + 0.16e-6 * n));
    }
    let csv = dir.path().join("break-even.csv");
    std::fs::write(&csv, rows("break-even", 2, &entries, 7, 0.03)).unwrap();
    let text = stdout(&parbench(
        dir.path(),
        &["report", "--scaling-csv", "s.csv", "--html", "r.html", csv.to_str().unwrap()],
    ));
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    let section = &html[html.find("<h3>spin</h3>").expect("a cost section for spin")..];
    let break_even =
        section.find("<p class=\"break-even\">spin: processes ×2 pays from about").expect("said");
    assert!(break_even < section.find("data-kind=\"cost\"").expect("a time against size chart"));
    assert!(
        text.contains("increase: processes ×2 never pays in the measured range (100–1,000,000 items)"),
        "{text}"
    );
    let line = text
        .lines()
        .find(|line| line.contains("spin: processes ×2 pays from about"))
        .unwrap_or_else(|| panic!("{text}"));
    let fits = common::keyed_rows(&dir.path().join("s.csv"));
    let spin = fits.iter().find(|row| row["workload"] == "spin" && row["strategy"] == "processes").unwrap();
    let break_even = number(spin, "break_even_items");
    // Serial 10,000 items: 3.0 ms against 5.6 ms; 100,000: 30 ms against 20 ms.
    assert!((10_000.0..=100_000.0).contains(&break_even), "{break_even}: {line}");
    assert!(
        number(spin, "break_even_items_low") <= break_even
            && break_even <= number(spin, "break_even_items_high")
    );
    let increase =
        fits.iter().find(|row| row["workload"] == "increase" && row["strategy"] == "processes").unwrap();
    assert_eq!(increase["break_even_items"], "inf");
    let serial = fits.iter().find(|row| row["workload"] == "spin" && row["strategy"] == "serial").unwrap();
    assert!((number(serial, "per_item_s") / 0.3e-6 - 1.0).abs() < 0.05, "{serial:?}");
}

#[test]
fn too_few_worker_counts_say_what_the_usl_needs() {
    let dir = TempDir::new().unwrap();
    let entries = [
        ("w", 10, "serial", 1, 1.0),
        ("w", 10, "threads", 1, 1.0),
        ("w", 10, "threads", 2, 0.55),
        ("w", 10, "threads", 4, 0.3),
    ];
    let csv = dir.path().join("few.csv");
    std::fs::write(&csv, rows("few", 8, &entries, 5, 0.01)).unwrap();
    let text = stdout(&parbench(dir.path(), &["report", csv.to_str().unwrap()]));
    assert!(text.contains("USL: insufficient data: need ≥ 4 worker counts, have 3"), "{text}");
    assert!(text.contains("Amdahl serial fraction f = "), "{text}");
}

#[test]
fn the_html_report_draws_the_fits_and_puts_the_recommendation_first() {
    let dir = TempDir::new().unwrap();
    let csv = sleep_job(dir.path());
    stdout(&parbench(dir.path(), &["report", "--html", "r.html", csv.to_str().unwrap()]));
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    let recommendation =
        html.find("<p class=\"recommendation\">sleep: use threads ×16").expect("a recommendation");
    let chart = html.find("data-kind=\"speedup\"").expect("a speedup chart");
    assert!(recommendation < chart);
    assert!(html.contains("threads USL"), "the USL curve has a legend entry");
}

#[test]
fn run_writes_the_scaling_csv_with_the_documented_columns() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("job.toml"),
        "version = 1\nname = \"tiny\"\n[list]\ngenerator = \"range\"\nsize = 8\n\
         [run]\nstrategies = [\"serial\", \"threads\"]\nworkers = [1, 2, 3, 4]\nrepetitions = 5\nwarmup = 0\n\
         [[workload]]\nname = \"spin\"\nbuiltin = \"spin\"\nparams = { iterations = 1000 }\n",
    )
    .unwrap();
    let output = parbench(dir.path(), &["run", "--quiet", "job.toml"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = std::fs::read_to_string(dir.path().join("results/tiny.scaling.csv")).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "workload,generator,list_size,strategy,param_iterations,model,points,\
         serial_fraction,serial_fraction_low,serial_fraction_high,sigma,sigma_low,sigma_high,\
         kappa,kappa_low,kappa_high,peak_workers,peak_workers_low,peak_workers_high,\
         peak_speedup,peak_speedup_low,peak_speedup_high,fixed_s,fixed_s_low,fixed_s_high,\
         per_item_s,per_item_s_low,per_item_s_high,break_even_items,break_even_items_low,\
         break_even_items_high,rms,workers,host,job,\
         serial_fraction_level,sigma_level,kappa_level,peak_workers_level,peak_speedup_level,\
         fixed_s_level,per_item_s_level,break_even_items_level"
    );
    // Four worker counts: one Amdahl and one USL row, whatever was measured.
    let models: Vec<&str> = text.lines().skip(1).map(|line| line.split(',').nth(5).unwrap()).collect();
    assert_eq!(models, ["amdahl", "usl"], "{text}");
}
