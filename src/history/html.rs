//! `history report --html`: one chart per group, commits in order along x,
//! each entry's per-commit medians joined by a line with their intervals as
//! whiskers, and every change point marked at its commit. One
//! self-contained page, SVG written by hand.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::series::{Found, Timeline};
use crate::analysis::GroupId;

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 70.0;
const COLOURS: [&str; 8] =
    ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

/// The page. `titles` names each group, `labels` each series (by index),
/// `changes` says each change in words (by index into `found`).
pub fn page(
    name: &str,
    timeline: &Timeline,
    found: &[Found],
    titles: &dyn Fn(&GroupId) -> String,
    labels: &[String],
    changes: &[String],
) -> String {
    let mut groups: BTreeMap<&GroupId, Vec<usize>> = BTreeMap::new();
    for (at, series) in timeline.series.iter().enumerate() {
        groups.entry(&series.id.group).or_default().push(at);
    }
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{0} · history</title>\n<style>body{{font-family:sans-serif;margin:2em}}\
         svg{{display:block;margin-bottom:1em}}li{{margin:0.2em 0}}</style></head><body>\n<h1>{0}: history over {1} commits</h1>\n",
        escape(name),
        timeline.commits.len()
    );
    html.push_str("<p>Medians of each commit's ok runs (seconds), with their interval as a whisker (the order-statistic interval where a commit has six runs or more, else the lowest and highest run). Dashed lines mark change points; a red cross, a commit where runs failed.</p>\n");
    if !changes.is_empty() {
        html.push_str("<h2>Changes</h2>\n<ul>\n");
        for change in changes {
            let _ = writeln!(html, "<li>{}</li>", escape(change));
        }
        html.push_str("</ul>\n");
    }
    for (group, members) in groups {
        let _ = writeln!(html, "<h2>{}</h2>", escape(&titles(group)));
        html.push_str(&chart(timeline, found, &members, labels));
    }
    html.push_str("</body></html>\n");
    html
}

fn chart(timeline: &Timeline, found: &[Found], members: &[usize], labels: &[String]) -> String {
    let points = members.iter().flat_map(|at| &timeline.series[*at].points);
    let high = points.clone().map(|point| point.high).fold(0.0_f64, f64::max);
    let high = if high > 0.0 { high * 1.1 } else { 1.0 };
    let commits = timeline.commits.len().max(2);
    let x = |commit: usize| LEFT + (WIDTH - LEFT - RIGHT) * commit as f64 / (commits - 1) as f64;
    let y = |value: f64| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - value / high);
    let legend = 18.0 * members.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{}\" font-size=\"11\">\n",
        HEIGHT + legend
    );
    // Axes and ticks.
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#444\"/><line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{0}\" stroke=\"#444\"/>",
        HEIGHT - BOTTOM,
        WIDTH - RIGHT
    );
    for step in 0..=4 {
        let value = high * step as f64 / 4.0;
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT - 4.0,
            y(value) + 4.0,
            if value == 0.0 { "0".to_owned() } else { crate::report::human_seconds(value) }
        );
    }
    let every = commits.div_ceil(30).max(1);
    for (at, commit) in timeline.commits.iter().enumerate().filter(|(at, _)| at % every == 0) {
        let _ = writeln!(
            svg,
            "<text transform=\"translate({:.1},{}) rotate(-45)\" text-anchor=\"end\" font-family=\"monospace\">{}</text>",
            x(at) + 3.0,
            HEIGHT - BOTTOM + 12.0,
            escape(&commit.id[..commit.id.len().min(7)])
        );
    }
    // Change points of this group's entries.
    for change in found.iter().filter(|change| members.contains(&change.series)) {
        let at = x(change.commit);
        let commit = &timeline.commits[change.commit];
        let _ = writeln!(
            svg,
            "<line x1=\"{at:.1}\" y1=\"{TOP}\" x2=\"{at:.1}\" y2=\"{}\" stroke=\"#888\" stroke-dasharray=\"4 3\"><title>{} {}</title></line>\
             <text x=\"{:.1}\" y=\"{}\" font-family=\"monospace\">{}</text>",
            HEIGHT - BOTTOM,
            escape(commit.short()),
            escape(&commit.subject),
            at + 3.0,
            TOP + 10.0,
            escape(&commit.id[..commit.id.len().min(7)])
        );
    }
    // Commits where an entry of the group failed: a cross on the axis.
    let mut failed: Vec<usize> = Vec::new();
    for failure in &timeline.failures {
        if members.iter().any(|at| timeline.series[*at].id == failure.id) && !failed.contains(&failure.commit)
        {
            failed.push(failure.commit);
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#c00\">✕<title>{}: {}</title></text>",
                x(failure.commit),
                HEIGHT - BOTTOM - 3.0,
                escape(timeline.commits[failure.commit].short()),
                escape(&failure.error)
            );
        }
    }
    for (slot, &member) in members.iter().enumerate() {
        draw_series(&mut svg, timeline, member, slot, &labels[member], (&x, &y));
    }
    svg.push_str("</svg>\n");
    svg
}

/// One entry's medians over the commits, as a line with each median's
/// interval, and its legend line (`slot`: its place in the group).
fn draw_series(
    svg: &mut String,
    timeline: &Timeline,
    member: usize,
    slot: usize,
    label: &str,
    (x, y): (&dyn Fn(usize) -> f64, &dyn Fn(f64) -> f64),
) {
    let colour = COLOURS[slot % COLOURS.len()];
    let series = &timeline.series[member];
    let line: Vec<String> =
        series.points.iter().map(|point| format!("{:.1},{:.1}", x(point.commit), y(point.median))).collect();
    let _ = writeln!(svg, "<polyline fill=\"none\" stroke=\"{colour}\" points=\"{}\"/>", line.join(" "));
    for point in &series.points {
        let commit = &timeline.commits[point.commit];
        let _ = writeln!(
            svg,
            "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"{colour}\"/>\
             <circle cx=\"{0:.1}\" cy=\"{3:.1}\" r=\"2.5\" fill=\"{colour}\"><title>{4} {5}: {6} ({7} runs)</title></circle>",
            x(point.commit),
            y(point.low),
            y(point.high),
            y(point.median),
            escape(commit.short()),
            escape(&commit.subject),
            crate::report::human_seconds(point.median),
            point.runs
        );
    }
    let _ = writeln!(
        svg,
        "<rect x=\"{LEFT}\" y=\"{:.1}\" width=\"12\" height=\"3\" fill=\"{colour}\"/><text x=\"{}\" y=\"{:.1}\">{}</text>",
        HEIGHT + 18.0 * slot as f64 - 4.0,
        LEFT + 18.0,
        HEIGHT + 18.0 * slot as f64,
        escape(label)
    );
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::detect::Settings;
    use crate::history::file::HistoryRow;
    use crate::history::git::Commit;
    use crate::results::RunRow;
    use crate::vocab::Strategy;

    #[test]
    fn each_group_gets_a_chart_with_its_change_marked_at_its_commit() {
        let mut rows = Vec::new();
        for commit in 0..8 {
            for (workload, strategy) in
                [("a", Strategy::Serial), ("a", Strategy::Threads), ("b<x>", Strategy::Serial)]
            {
                let slow = workload == "a" && commit >= 4;
                rows.push(HistoryRow {
                    run: RunRow {
                        job: "j".into(),
                        workload: workload.into(),
                        host: "h".into(),
                        strategy,
                        wall_s: if slow { 0.03 } else { 0.02 } + 0.0001 * (commit % 3) as f64,
                        ..RunRow::blank()
                    },
                    commit: Commit {
                        id: format!("{commit:040}"),
                        time: format!("2026-01-01T00:00:0{commit}Z"),
                        subject: format!("commit {commit}"),
                    },
                    job_version: String::new(),
                });
            }
        }
        let timeline = Timeline::of(&rows);
        let found = timeline.changes(Settings { alpha: 0.05, min_change: 0.1 });
        assert_eq!(found.iter().map(|change| change.commit).collect::<Vec<_>>(), [4, 4]);
        let labels: Vec<String> =
            timeline.series.iter().map(|series| series.id.group.workload.clone()).collect();
        let page =
            page("j", &timeline, &found, &|group| group.workload.clone(), &labels, &["a change".into()]);
        assert_eq!(page.matches("<svg").count(), 2);
        assert_eq!(page.matches("stroke-dasharray").count(), 2, "a's two entries, none in b");
        assert!(page.contains("<h2>b&lt;x&gt;</h2>") && !page.contains("b<x>"));
        assert!(page.contains("<li>a change</li>"));
    }
}
