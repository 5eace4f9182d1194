//! One self-contained HTML page (no network, no external scripts): the
//! tables, the crossover, the warnings, and SVG charts drawn with plotters:
//! for each group, speedup against workers per strategy beside the ideal
//! line; for a list-size axis, time per item against list size on log axes.

use crate::vocab::Strategy;
use std::collections::BTreeMap;
use std::ops::Range;

use plotters::prelude::*;

use super::human_seconds;
use super::runs_chart::{self, EntryRuns, RunPoint};
use super::summary::{self, Shown, Shows};
use super::words;
use crate::analysis::answers::{Answers, CostFit, WorkerScaling, WorkloadKey};
use crate::analysis::{Analysis, EntryStats, GroupId};

const PALETTE: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
];

pub fn render(analysis: &Analysis, answers: &Answers) -> String {
    let jobs: Vec<&str> = {
        let mut jobs: Vec<&str> = analysis.entries.iter().map(|entry| entry.id.group.job.as_str()).collect();
        jobs.dedup();
        jobs
    };
    let mut body = format!(
        "<h1>parbench report: {}</h1>\n<p>{} entries measured on {}.</p>\n",
        escape(&jobs.join(", ")),
        analysis.entries.len(),
        escape(&analysis.hosts.iter().cloned().collect::<Vec<_>>().join(", "))
    );
    body.push_str(&answer_first(analysis, answers));
    body.push_str(&sentence_list("Where parallelism pays", "crossover", words::crossover(analysis)));
    body.push_str(&sentence_list("Warnings", "warnings", words::warnings(analysis)));
    body.push_str(&groups(analysis, answers));
    body.push_str(&timelines(analysis));
    body.push_str(&costs(answers, analysis.hosts.len()));
    body.push_str(&sizes(analysis));
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>parbench report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}<script>{CHECK}</script>\n</body>\n</html>\n",
        escape(&jobs.join(", "))
    )
}

/// A heading and its sentences as a list; nothing where there are none.
fn sentence_list(heading: &str, class: &str, sentences: Vec<String>) -> String {
    if sentences.is_empty() {
        return String::new();
    }
    let mut html = format!("<h2>{heading}</h2>\n<ul class=\"{class}\">\n");
    for sentence in sentences {
        html.push_str(&format!("<li>{}</li>\n", escape(&sentence)));
    }
    html.push_str("</ul>\n");
    html
}

/// The recommendation for a workload, as a paragraph; nothing where there
/// is none.
fn recommendation(answers: &Answers, key: &WorkloadKey, hosts: usize) -> String {
    answers
        .recommendations
        .iter()
        .find(|recommendation| recommendation.key == *key)
        .map(|recommendation| {
            format!(
                "<p class=\"recommendation\">{}</p>\n",
                escape(&super::scaling::recommendation_sentence(recommendation, hosts))
            )
        })
        .unwrap_or_default()
}

/// A section per group: its workload's recommendation (the first time the
/// workload comes), its scaling fits, its table, its speedup chart and the
/// strip chart of its runs.
fn groups(analysis: &Analysis, answers: &Answers) -> String {
    let hosts = analysis.hosts.len();
    let mut html = "<h2>Groups</h2>\n".to_owned();
    let mut recommended: Vec<WorkloadKey> = Vec::new();
    for (group, entries) in analysis.groups() {
        html.push_str(&format!("<section>\n<h3>{}</h3>\n", escape(&words::title(&group, hosts))));
        let key = WorkloadKey::of(&group);
        if !recommended.contains(&key) {
            html.push_str(&recommendation(answers, &key, hosts));
            recommended.push(key);
        }
        let fits: Vec<&WorkerScaling> = answers.workers.iter().filter(|fit| fit.group == group).collect();
        for fit in &fits {
            html.push_str(&format!(
                "<p class=\"scaling\">{}</p>\n",
                escape(&super::scaling::worker_sentence(fit, hosts))
            ));
        }
        html.push_str(&table(&entries));
        if entries.iter().any(|entry| entry.id.strategy != Strategy::Serial && entry.speedup.is_some()) {
            html.push_str(&format!(
                "<figure class=\"chart\" data-kind=\"speedup\">{}<figcaption>Speedup over serial against workers (the best chunk size at each count); the grey line is ideal scaling{}</figcaption></figure>\n",
                speedup_chart(&group, &entries, &fits),
                curves_caption(&fits)
            ));
        }
        html.push_str(&runs_chart::strip_chart(&entry_runs(&entries)));
        html.push_str("</section>\n");
    }
    html
}

/// Time against list size: the cost fits, their break-even sentences and
/// charts, and what could not be fitted.
fn costs(answers: &Answers, hosts: usize) -> String {
    let cost_groups = cost_groups(answers);
    let mut html = String::new();
    if !cost_groups.is_empty() || !answers.costs_not_fitted.is_empty() {
        html.push_str("<h2>Time against list size: where a pool pays</h2>\n");
    }
    for unfitted in &answers.costs_not_fitted {
        html.push_str(&format!(
            "<p class=\"break-even\">{}</p>\n",
            escape(&super::scaling::cost_not_fitted_sentence(unfitted, hosts))
        ));
    }
    for (key, fits) in &cost_groups {
        html.push_str(&format!(
            "<section>\n<h3>{}</h3>\n",
            escape(&super::scaling::workload_title(key, hosts))
        ));
        html.push_str(&recommendation(answers, key, hosts));
        for fit in fits.iter().filter(|fit| fit.break_even.is_some() || !fit.left_out.is_empty()) {
            html.push_str(&format!(
                "<p class=\"break-even\">{}</p>\n",
                escape(&super::scaling::cost_sentence(fit, hosts))
            ));
        }
        html.push_str(&format!(
            "<figure class=\"chart\" data-kind=\"cost\">{}<figcaption>Median time (log) against list size (log), with the fitted lines t(n) = a + b·n; a dashed vertical line marks each break-even size inside the measured range.</figcaption></figure>\n</section>\n",
            cost_chart(&super::scaling::workload_title(key, hosts), fits)
        ));
    }
    html
}

/// Time per item against list size, a chart per workload.
fn sizes(analysis: &Analysis) -> String {
    let size_series = size_series(analysis);
    if size_series.is_empty() {
        return String::new();
    }
    let mut html = "<h2>Time per item against list size</h2>\n".to_owned();
    for (_, title, lines) in size_series {
        html.push_str(&format!(
            "<section>\n<h3>{}</h3>\n<figure class=\"chart\" data-kind=\"size\">{}<figcaption>Median time per item (log) against list size (log).</figcaption></figure>\n</section>\n",
            escape(&title),
            size_chart(&title, &lines)
        ));
    }
    html
}

const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; display: block; max-width: 100%; overflow-x: auto; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
ul.answer li { margin-bottom: 0.3em; }
th, td { padding: 0.2em 0.7em; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 0 0 1.5em; }
figcaption { font-size: 0.85em; color: #555; }
ul.warnings li { color: #8a4b00; }
";

/// Counts what the charts draw, so a browser (or a person with the console
/// open) can tell that they rendered: `data-points` on the body.
const CHECK: &str = "
const charts = document.querySelectorAll('figure.chart svg');
let points = 0;
charts.forEach(svg => { points += svg.querySelectorAll('circle').length; });
document.body.dataset.charts = String(charts.length);
document.body.dataset.points = String(points);
// Whether the page fits its window, and how many runs the charts drew.
document.body.dataset.scrollWidth = String(document.documentElement.scrollWidth);
document.body.dataset.clientWidth = String(document.documentElement.clientWidth);
document.body.dataset.runsDrawn = String(document.querySelectorAll('figure.chart svg circle.run').length);
";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

// ---------------------------------------------------------------- the answer first, every run

/// The recommendations, before anything else on the page.
fn answer_first(analysis: &Analysis, answers: &Answers) -> String {
    if answers.recommendations.is_empty() {
        return String::new();
    }
    let hosts = analysis.hosts.len();
    let mut html = String::from("<h2>The answer</h2>\n<ul class=\"answer\">\n");
    for recommendation in &answers.recommendations {
        html.push_str(&format!(
            "<li>{}</li>\n",
            escape(&super::scaling::recommendation_sentence(recommendation, hosts))
        ));
    }
    html.push_str("</ul>\n");
    html
}

/// The pages' columns by their `summary::Rank`: the entry's name, the
/// verdict, the speedup, then the rest, each in `summary::TABLE`'s order.
fn table(entries: &[&EntryStats]) -> String {
    let mut columns: Vec<&Shown> = summary::table(Shows::Pages).collect();
    columns.sort_by_key(|column| column.rank);
    let header: String = columns.iter().map(|column| format!("<th>{}</th>", column.heading)).collect();
    let mut html = format!("<table>\n<tr>{header}</tr>\n");
    for entry in entries {
        let cells: String =
            columns.iter().map(|column| format!("<td>{}</td>", escape(&column.cell(entry)))).collect();
        html.push_str(&format!("<tr>{cells}</tr>\n"));
    }
    html.push_str("</table>\n");
    html
}

/// The ok runs of each entry, the disturbed ones the statistics leave out
/// too.
fn entry_runs(entries: &[&EntryStats]) -> Vec<EntryRuns> {
    entries
        .iter()
        .filter_map(|entry| {
            let runs = entry
                .ok_runs
                .iter()
                .map(|run| RunPoint {
                    wall_s: run.wall_s,
                    started_s: run
                        .started_at
                        .and_then(|time| time.duration_since(std::time::SystemTime::UNIX_EPOCH).ok())
                        .map(|since| since.as_secs_f64()),
                    disturbed: run.disturbed,
                    process: run.process,
                })
                .collect();
            Some(EntryRuns {
                label: words::how(&entry.id),
                runs,
                median: entry.wall.as_ref()?.median,
                interval: entry.median_ci,
            })
        })
        .collect()
}

/// One timeline of every run per job.
fn timelines(analysis: &Analysis) -> String {
    let hosts = analysis.hosts.len();
    let mut jobs: Vec<(String, Vec<EntryRuns>)> = Vec::new();
    for (group, entries) in analysis.groups() {
        let mut runs = entry_runs(&entries);
        for entry in &mut runs {
            entry.label = format!("{} · {}", words::title(&group, hosts), entry.label);
        }
        match jobs.iter_mut().find(|(job, _)| *job == group.job) {
            Some((_, all)) => all.extend(runs),
            None => jobs.push((group.job.clone(), runs)),
        }
    }
    let mut html = String::new();
    for (job, entries) in &jobs {
        let chart = runs_chart::timeline_chart(entries);
        if !chart.is_empty() {
            html.push_str(&format!("<section>\n<h3>{}</h3>\n{chart}</section>\n", escape(job)));
        }
    }
    if html.is_empty() { html } else { format!("<h2>Every run in time order</h2>\n{html}") }
}

// ---------------------------------------------------------------- the speedup charts

/// The most labels on the workers axis of a speedup chart.
const MAX_X_LABELS: usize = 32;

/// Speedup against workers, one line per strategy (the best chunk size at
/// each worker count), and the ideal line.
/// What the speedup chart's caption says of its fitted curves: only those
/// it draws.
fn curves_caption(fits: &[&WorkerScaling]) -> &'static str {
    match (fits.iter().any(|fit| fit.usl.is_ok()), fits.iter().any(|fit| fit.amdahl.is_ok())) {
        (true, true) => "; the thin lines the fitted USL (solid) and Amdahl (dashed) curves.",
        (true, false) => "; the thin lines the fitted USL curves.",
        (false, true) => "; the dashed lines the fitted Amdahl curves.",
        (false, false) => ". No model is drawn: Amdahl's law needs 3 worker counts or more, the USL 4.",
    }
}

fn speedup_chart(group: &GroupId, entries: &[&EntryStats], fits: &[&WorkerScaling]) -> String {
    let mut lines: BTreeMap<String, BTreeMap<usize, f64>> = BTreeMap::new();
    for entry in entries.iter().filter(|entry| entry.id.strategy != Strategy::Serial) {
        if let Some(speedup) = entry.speedup {
            let line = lines.entry(entry.id.strategy.name().to_owned()).or_default();
            let best = line.entry(entry.id.workers).or_insert(speedup);
            *best = best.max(speedup);
        }
    }
    let max_workers = lines.values().flat_map(|line| line.keys()).copied().max().unwrap_or(1).max(2);
    let max_speedup =
        lines.values().flat_map(|line| line.values()).copied().fold(max_workers as f64, f64::max) * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 360)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let chart = ChartBuilder::on(&root)
            .caption(format!("{}: speedup", group.workload), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0.5f64..max_workers as f64 + 0.5, 0f64..max_speedup);
        let Ok(mut chart) = chart else { return svg_error() };
        let _ = chart
            .configure_mesh()
            .light_line_style(WHITE)
            // A label at every worker count, but never more than a chart
            // holds: a CSV may say 10^15 workers (plotters would make them all).
            .x_labels(max_workers.min(MAX_X_LABELS) + 2)
            .x_label_formatter(&|x| if x.fract() == 0.0 { format!("{x:.0}") } else { String::new() })
            .x_desc("workers")
            .y_desc("speedup over serial")
            .draw();
        let _ = chart
            .draw_series(LineSeries::new(
                [(1.0, 1.0), (max_workers as f64, max_workers as f64)],
                ShapeStyle::from(&BLACK.mix(0.35)).stroke_width(2),
            ))
            .map(|series| {
                series.label("ideal").legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK.mix(0.4)))
            });
        for (index, (strategy, points)) in lines.iter().enumerate() {
            let color = PALETTE[index % PALETTE.len()];
            let data: Vec<(f64, f64)> =
                points.iter().map(|(workers, speedup)| (*workers as f64, *speedup)).collect();
            let _ = chart.draw_series(LineSeries::new(data.clone(), color.stroke_width(2))).map(|series| {
                series
                    .label(strategy.clone())
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color))
            });
            let _ = chart.draw_series(data.iter().map(|point| Circle::new(*point, 4, color.filled())));
            for fit in fits.iter().filter(|fit| fit.strategy.name() == strategy.as_str()) {
                let curve = |speedup: &dyn Fn(f64) -> f64| -> Vec<(f64, f64)> {
                    (0..=200)
                        .map(|step| 1.0 + (max_workers as f64 - 1.0) * step as f64 / 200.0)
                        .map(|workers| (workers, speedup(workers).min(max_speedup)))
                        .collect()
                };
                if let Ok(usl) = &fit.usl {
                    let _ = chart
                        .draw_series(LineSeries::new(
                            curve(&|n| usl.model.speedup(n)),
                            color.mix(0.6).stroke_width(1),
                        ))
                        .map(|series| {
                            series
                                .label(format!("{strategy} USL"))
                                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.mix(0.6)))
                        });
                }
                if let Ok(amdahl) = &fit.amdahl {
                    let _ = chart
                        .draw_series(DashedLineSeries::new(
                            curve(&|n| amdahl.speedup(n)),
                            5,
                            4,
                            color.mix(0.6).stroke_width(1),
                        ))
                        .map(|series| {
                            series
                                .label(format!("{strategy} Amdahl"))
                                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.mix(0.6)))
                        });
                }
            }
        }
        let _ = chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw();
        let _ = root.present();
    }
    svg
}

/// The cost fits of each workload that has a break-even line to draw.
fn cost_groups(answers: &Answers) -> Vec<(WorkloadKey, Vec<&CostFit>)> {
    let mut groups: BTreeMap<WorkloadKey, Vec<&CostFit>> = BTreeMap::new();
    for fit in &answers.costs {
        groups.entry(fit.key.clone()).or_default().push(fit);
    }
    groups.into_iter().filter(|(_, fits)| fits.iter().any(|fit| fit.break_even.is_some())).collect()
}

/// Time against list size, log–log: the measured medians, the fitted line
/// of each way of running, and the break-even sizes.
fn cost_chart(title: &str, fits: &[&CostFit]) -> String {
    let ((min_x, max_x), (min_y, max_y)) =
        extent(fits.iter().flat_map(|fit| fit.points.iter().map(|(size, time)| (*size as f64, *time))));
    let (low_y, high_y) = (min_y / 2.0, max_y * 2.0);
    let (Some(x_range), Some(y_range)) = (log_range(min_x / 1.5, max_x * 1.5), log_range(low_y, high_y))
    else {
        return svg_error();
    };
    log_log_chart(format!("{title}: time against list size"), (x_range, y_range), "median time", |chart| {
        for (index, fit) in fits.iter().enumerate() {
            let color = PALETTE[index % PALETTE.len()];
            let name = if fit.strategy == Strategy::Serial {
                Strategy::Serial.name().to_owned()
            } else {
                format!("{} ×{}", fit.strategy, fit.workers)
            };
            let points: Vec<(f64, f64)> =
                fit.points.iter().map(|(size, time)| (*size as f64, *time)).collect();
            let _ = chart.draw_series(points.iter().map(|point| Circle::new(*point, 4, color.filled())));
            let line: Vec<(f64, f64)> = (0..=100)
                .map(|step| min_x * (max_x / min_x).powf(step as f64 / 100.0))
                .map(|size| (size, fit.line.seconds(size).clamp(low_y, high_y)))
                .collect();
            let _ = chart.draw_series(LineSeries::new(line, color.stroke_width(2))).map(|series| {
                series.label(name).legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color))
            });
            if let Some(from) =
                fit.break_even.as_ref().and_then(|fit| fit.pays_from()).filter(|from| *from >= min_x)
            {
                let _ = chart.draw_series(DashedLineSeries::new(
                    [(from, low_y), (from, high_y)],
                    6,
                    4,
                    color.stroke_width(1),
                ));
            }
        }
    })
}

type SizeLines = BTreeMap<String, Vec<(f64, f64)>>;
/// The best time per item at each list size.
type Points = BTreeMap<usize, f64>;
/// (job, workload, parameters).
type SeriesKey = (String, String, Vec<(String, String)>);

/// For every workload (and parameter set) measured at several list sizes:
/// time per item against size, one line per strategy and worker count.
/// (job, title, lines) of every time-per-item chart.
fn size_series(analysis: &Analysis) -> Vec<(String, String, SizeLines)> {
    let mut series: BTreeMap<SeriesKey, BTreeMap<String, Points>> = BTreeMap::new();
    for entry in &analysis.entries {
        let Some(wall) = &entry.wall else { continue };
        let id = &entry.id;
        let key = (
            id.group.job.clone(),
            format!("{}{}", id.group.workload, host(&id.group.host, analysis.hosts.len())),
            id.group.params.clone(),
        );
        let line = if id.strategy == Strategy::Serial {
            Strategy::Serial.name().to_owned()
        } else {
            format!("{} ×{}", id.strategy, id.workers)
        };
        let per_item = wall.median / id.group.list_size.max(1) as f64;
        let points = series.entry(key).or_default().entry(line).or_default();
        let best = points.entry(id.group.list_size).or_insert(per_item);
        *best = best.min(per_item);
    }
    series
        .into_iter()
        .filter(|(_, lines)| lines.values().any(|points| points.len() > 1))
        .map(|((job, workload, params), lines)| {
            let mut title = workload;
            for (name, value) in params {
                title.push_str(&format!(" · {name}={value}"));
            }
            let lines = lines
                .into_iter()
                .map(|(line, points)| {
                    (line, points.into_iter().map(|(size, time)| (size as f64, time)).collect())
                })
                .collect();
            (job, title, lines)
        })
        .collect()
}

fn host(host: &str, hosts: usize) -> String {
    if hosts > 1 { format!(" on {host}") } else { String::new() }
}

/// The smallest and largest x and y of some points.
fn extent(points: impl Iterator<Item = (f64, f64)>) -> ((f64, f64), (f64, f64)) {
    points.fold(((f64::MAX, f64::MIN), (f64::MAX, f64::MIN)), |((x0, x1), (y0, y1)), (x, y)| {
        ((x0.min(x), x1.max(x)), (y0.min(y), y1.max(y)))
    })
}

/// `low..high` where plotters can draw it as a log axis in finite time,
/// `None` where it cannot: it loops for ever on a list of 0 items or an infinite time, and
/// for about `usize::MAX` steps where `high / low` overflows (a garbled CSV:
/// 10^300 s against 10^18 items), or where `low` is subnormal (its first
/// power of ten rounds to 0, which never grows).
fn log_range(low: f64, high: f64) -> Option<Range<f64>> {
    (low >= f64::MIN_POSITIVE && low < high && (high / low).is_finite()).then_some(low..high)
}

fn size_chart(title: &str, lines: &SizeLines) -> String {
    let ((min_x, max_x), (min_y, max_y)) = extent(lines.values().flatten().copied());
    let (Some(x_range), Some(y_range)) =
        (log_range(min_x / 1.5, max_x * 1.5), log_range(min_y.max(1e-12) / 2.0, max_y * 2.0))
    else {
        return svg_error();
    };
    log_log_chart(format!("{title}: time per item"), (x_range, y_range), "seconds per item", |chart| {
        for (index, (name, points)) in lines.iter().enumerate() {
            let color = PALETTE[index % PALETTE.len()];
            let _ = chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2))).map(|series| {
                series
                    .label(name.clone())
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color))
            });
            let _ = chart.draw_series(points.iter().map(|point| Circle::new(*point, 4, color.filled())));
        }
    })
}

/// A chart over list size and time, both logarithmic: the frame, the axes
/// and the legend around what `draw` puts in.
fn log_log_chart(
    caption: String,
    (x_range, y_range): (Range<f64>, Range<f64>),
    y_desc: &str,
    draw: impl FnOnce(&mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<LogCoord<f64>, LogCoord<f64>>>),
) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 360)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(x_range.log_scale(), y_range.log_scale());
        let Ok(mut chart) = chart else { return svg_error() };
        let _ = chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_label_formatter(&|size| format!("{size:.0}"))
            .x_desc("list size (items)")
            .y_desc(y_desc)
            .y_label_formatter(&|value| human_seconds(*value))
            .draw();
        draw(&mut chart);
        let _ = chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw();
        let _ = root.present();
    }
    svg
}

fn svg_error() -> String {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"40\"><text x=\"10\" y=\"25\">no chart: nothing to draw</text></svg>".to_owned()
}

/// Every chart as a standalone SVG file, named after the job and what it
/// shows (`JOB-WORKLOAD-SIZE-speedup.svg`, `JOB-WORKLOAD-time-per-item.svg`,
/// `JOB-WORKLOAD-cost.svg`),
/// so that two jobs with the same workloads keep their own, for
/// `report --charts`.
pub fn charts(analysis: &Analysis, answers: &Answers) -> Vec<(String, String)> {
    let slug = |text: &str| -> String {
        let slug: String = text
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect();
        slug.split('-').filter(|part| !part.is_empty()).collect::<Vec<_>>().join("-")
    };
    // Two groups may slug alike (`a b` and `a-b`, `percent = -1` and `1`):
    // each chart gets a file of its own, and a name a file system accepts.
    let mut used = std::collections::HashSet::new();
    // The kind of chart ends the name, whatever is cut or counted before it.
    let mut unique = |name: String, kind: &str| -> String {
        let mut base = name;
        if base.len() > 120 {
            let digest = xxhash_rust::xxh3::xxh3_64(base.as_bytes());
            base.truncate(100);
            base = format!("{}-{digest:016x}", base.trim_end_matches('-'));
        }
        let mut candidate = format!("{base}-{kind}");
        let mut count = 1;
        while !used.insert(candidate.clone()) {
            count += 1;
            candidate = format!("{base}-{count}-{kind}");
        }
        format!("{candidate}.svg")
    };
    let mut files = Vec::new();
    for (group, entries) in analysis.groups() {
        if entries.iter().any(|entry| entry.id.strategy != Strategy::Serial && entry.speedup.is_some()) {
            let mut name = format!("{}-{}-{}", group.job, group.workload, group.list_size);
            for (param, value) in &group.params {
                name.push_str(&format!("-{param}-{value}"));
            }
            if analysis.hosts.len() > 1 {
                name.push_str(&format!("-{}", group.host));
            }
            let fits: Vec<&WorkerScaling> = answers.workers.iter().filter(|fit| fit.group == group).collect();
            files.push((unique(slug(&name), "speedup"), speedup_chart(&group, &entries, &fits)));
        }
    }
    for (job, title, lines) in size_series(analysis) {
        files.push((unique(slug(&format!("{job}-{title}")), "time-per-item"), size_chart(&title, &lines)));
    }
    for (key, fits) in cost_groups(answers) {
        let title = super::scaling::workload_title(&key, analysis.hosts.len());
        files.push((unique(slug(&format!("{}-{title}", key.job)), "cost"), cost_chart(&title, &fits)));
    }
    files
}
