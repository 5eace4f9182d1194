//! Charts of every measured run, so that a reader sees why a verdict is sure
//! or unsure: a strip chart of each entry's runs with its median and
//! interval, and a timeline of a job's runs in the order they started, where
//! a drift or a burst of other load shows. Pure functions of plain numbers
//! in, SVG and HTML text out; each run drawn is one `<circle class="run">`
//! (`class="run disturbed"` for a run marked disturbed), so that a test or a
//! browser can count them.

use super::human_seconds;

/// The most runs an entry draws; beyond it, runs evenly spaced in rank.
pub const MAX_POINTS: usize = 500;

/// One measured run, as the charts need it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunPoint {
    pub wall_s: f64,
    /// Seconds since the Unix epoch; `None` where the row has no start time.
    pub started_s: Option<f64>,
    /// Other load ran beside it (the rows' `disturbed` column).
    pub disturbed: bool,
    /// The block of processes it ran in (the rows' `process` column), which
    /// its colour shows; `None` in rows of earlier versions.
    pub process: Option<u32>,
}

/// An entry's ok runs with what the page says of them.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRuns {
    pub label: String,
    pub runs: Vec<RunPoint>,
    pub median: f64,
    /// The median's interval, where there is one.
    pub interval: Option<(f64, f64)>,
}

const RUN_COLOUR: &str = "#1f77b4";
/// A run's colour by its block of processes, in turn, so that a level a
/// process has of its own shows as a band of one colour.
const PROCESS_COLOURS: [&str; 6] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf"];
const DISTURBED_COLOUR: &str = "#d62728";
const HEIGHT: f64 = 340.0;
/// The bottom of the plot; below it the entries' names and the legend.
const BOTTOM: f64 = HEIGHT - 62.0;
const TOP: f64 = 16.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;

/// The runs an entry draws: all of them, or [`MAX_POINTS`] evenly spaced in
/// rank (the fastest and the slowest always among them).
pub fn thinned(runs: &[RunPoint]) -> Vec<RunPoint> {
    if runs.len() <= MAX_POINTS {
        return runs.to_vec();
    }
    let mut ranked = runs.to_vec();
    ranked.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    let last = (ranked.len() - 1) as f64;
    (0..MAX_POINTS)
        .map(|step| ranked[(step as f64 * last / (MAX_POINTS - 1) as f64).round() as usize])
        .collect()
}

/// A vertical axis: linear, or logarithmic where the values span more than
/// a decade.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Axis {
    low: f64,
    high: f64,
    log: bool,
}

impl Axis {
    /// `None` where there is nothing finite and positive to draw.
    fn over(values: impl Iterator<Item = f64>) -> Option<Axis> {
        let (min, max) = values
            .filter(|value| value.is_finite() && *value > 0.0)
            .fold((f64::MAX, f64::MIN), |(min, max), value| (min.min(value), max.max(value)));
        if min > max {
            return None;
        }
        if max / min > 10.0 {
            let (low, high) = (min.log10().floor(), max.log10().ceil());
            return (high - low < 300.0).then_some(Axis {
                low: 10f64.powf(low),
                high: 10f64.powf(high),
                log: true,
            });
        }
        let pad = ((max - min) * 0.08).max(max * 0.02);
        Some(Axis { low: (min - pad).max(0.0), high: max + pad, log: false })
    }

    /// Where `value` sits, 0 at the bottom and 1 at the top.
    fn fraction(&self, value: f64) -> f64 {
        let fraction = if self.log {
            (value.log10() - self.low.log10()) / (self.high.log10() - self.low.log10())
        } else {
            (value - self.low) / (self.high - self.low)
        };
        fraction.clamp(0.0, 1.0)
    }

    fn y(&self, value: f64) -> f64 {
        TOP + (BOTTOM - TOP) * (1.0 - self.fraction(value))
    }

    /// Tick values: powers of ten (with 2 and 5 where there are few), or
    /// round steps.
    fn ticks(&self) -> Vec<f64> {
        if self.log {
            let decades = (self.high / self.low).log10().round() as i32;
            let steps: &[f64] = if decades <= 2 { &[1.0, 2.0, 5.0] } else { &[1.0] };
            let every = (decades / 8 + 1).max(1);
            (0..=decades)
                .filter(|decade| decade % every == 0)
                .flat_map(|decade| steps.iter().map(move |step| self.low * 10f64.powi(decade) * step))
                .filter(|tick| *tick <= self.high * 1.000001)
                .collect()
        } else {
            let raw = (self.high - self.low) / 5.0;
            let magnitude = 10f64.powf(raw.log10().floor());
            let step =
                [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|step| *step >= raw).unwrap_or(raw);
            let first = (self.low / step).ceil() as i64;
            let last = (self.high / step).floor() as i64;
            (first..=last).map(|index| index as f64 * step).collect()
        }
    }
}

/// Seconds since the first start, with as many decimals as the span needs.
fn seconds_label(seconds: f64, span: f64) -> String {
    let decimals = if span >= 20.0 {
        0
    } else if span >= 2.0 {
        1
    } else {
        2
    };
    format!("{seconds:.decimals$} s")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The frame, the grid and the tick labels of a chart `width` wide.
fn frame(width: f64, axis: &Axis, label: impl Fn(f64) -> String, y_desc: &str) -> String {
    let bottom = BOTTOM;
    let mut svg = format!(
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#999\"/>\n",
        width - LEFT - RIGHT,
        bottom - TOP
    );
    for tick in axis.ticks() {
        let y = axis.y(tick);
        svg.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\">{}</text>\n",
            width - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            escape(&label(tick))
        ));
    }
    svg.push_str(&format!(
        "<text transform=\"translate(12 {:.1}) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\">{}{}</text>\n",
        (TOP + bottom) / 2.0,
        escape(y_desc),
        if axis.log { " (log)" } else { "" }
    ));
    svg
}

fn svg(width: f64, kind: &str, body: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"{kind}\" width=\"{width:.0}\" height=\"{HEIGHT:.0}\" \
         viewBox=\"0 0 {width:.0} {HEIGHT:.0}\" font-family=\"sans-serif\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>"
    )
}

/// A run's dot; a disturbed one is hollow and red.
fn dot(x: f64, y: f64, run: &RunPoint, title: &str) -> String {
    let (class, style) = if run.disturbed {
        ("run disturbed", format!("fill=\"white\" stroke=\"{DISTURBED_COLOUR}\" stroke-width=\"1.5\""))
    } else {
        let colour = run.process.map_or(RUN_COLOUR, |process| {
            PROCESS_COLOURS[(process as usize).saturating_sub(1) % PROCESS_COLOURS.len()]
        });
        ("run", format!("fill=\"{colour}\" fill-opacity=\"0.55\""))
    };
    let process = run.process.map(|process| format!(" data-process=\"{process}\"")).unwrap_or_default();
    let title = match run.process {
        Some(process) => format!("{title} (processes of block {process})"),
        None => title.to_owned(),
    };
    format!(
        "<circle class=\"{class}\"{process} cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" {style}><title>{}</title></circle>\n",
        escape(&title)
    )
}

/// The key under a chart, drawn with squares so that circles stay runs.
fn legend(width: f64, any_disturbed: bool, extra: &str) -> String {
    let y = HEIGHT - 6.0;
    let mut svg = format!(
        "<g class=\"legend\" font-size=\"11\"><rect x=\"{LEFT}\" y=\"{:.1}\" width=\"8\" height=\"8\" fill=\"{RUN_COLOUR}\" fill-opacity=\"0.55\"/>\
         <text x=\"{:.1}\" y=\"{y:.1}\">run</text>",
        y - 8.0,
        LEFT + 12.0
    );
    let mut x = LEFT + 50.0;
    if any_disturbed {
        svg.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" fill=\"white\" stroke=\"{DISTURBED_COLOUR}\" stroke-width=\"1.5\"/>\
             <text x=\"{:.1}\" y=\"{y:.1}\">disturbed by other load</text>",
            y - 8.0,
            x + 12.0
        ));
        x += 170.0;
    }
    if !extra.is_empty() && x < width - 100.0 {
        svg.push_str(&format!("<text x=\"{x:.1}\" y=\"{y:.1}\" fill=\"#555\">{}</text>", escape(extra)));
    }
    svg.push_str("</g>\n");
    svg
}

/// A fixed spread of `count` dots across a column, so that equal times do
/// not hide each other and the picture is the same on every render.
fn jitter(index: usize) -> f64 {
    (index as f64 * 0.618_033_988_75).fract() - 0.5
}

/// Sentences for a caption: which entries drew a sample of their runs.
fn thinning_note(entries: &[EntryRuns]) -> String {
    let thinned: Vec<String> = entries
        .iter()
        .filter(|entry| entry.runs.len() > MAX_POINTS)
        .map(|entry| format!("{} ({} runs)", entry.label, entry.runs.len()))
        .collect();
    if thinned.is_empty() {
        String::new()
    } else {
        format!(
            " {} draw {MAX_POINTS} of their runs, evenly spaced in rank from the fastest to the slowest: {}.",
            if thinned.len() == 1 {
                "One entry has more runs than a chart holds and"
            } else {
                "Entries with more runs than a chart holds"
            },
            thinned.join(", ")
        )
    }
}

/// A figure of every entry's runs: one column per entry, a dot per run (red
/// and hollow, set to the right, where disturbed), the median as a black
/// bar and its interval as a grey box.
pub fn strip_chart(entries: &[EntryRuns]) -> String {
    let measured: usize = entries.iter().map(|entry| entry.runs.len()).sum();
    let drawn: Vec<Vec<RunPoint>> = entries.iter().map(|entry| thinned(&entry.runs)).collect();
    let values = entries.iter().flat_map(|entry| {
        entry
            .runs
            .iter()
            .map(|run| run.wall_s)
            .chain([entry.median])
            .chain(entry.interval.into_iter().flat_map(|(low, high)| [low, high]))
    });
    let Some(axis) = Axis::over(values) else { return String::new() };
    // A column as wide as its entry's name (within reason), so that names
    // stand level; a longer one is tilted.
    let label_width = |entry: &EntryRuns| entry.label.chars().count() as f64 * 6.2 + 12.0;
    let widest = entries.iter().map(label_width).fold(0.0, f64::max);
    let column = widest.clamp(64.0, 180.0);
    let width = (LEFT + RIGHT + column * entries.len() as f64).max(480.0);
    let column = (width - LEFT - RIGHT) / entries.len().max(1) as f64;
    let tilt = widest > column;
    let mut body = frame(width, &axis, human_seconds, "wall time");
    for (index, (entry, runs)) in entries.iter().zip(&drawn).enumerate() {
        let centre = LEFT + column * (index as f64 + 0.5);
        let half = column * 0.35;
        if let Some((low, high)) = entry.interval {
            let (top, bottom) = (axis.y(high), axis.y(low));
            body.push_str(&format!(
                "<rect class=\"interval\" x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#ccc\" fill-opacity=\"0.6\"><title>{}: median's 95% interval {} … {}</title></rect>\n",
                centre - half,
                half * 2.0,
                (bottom - top).max(1.0),
                escape(&entry.label),
                human_seconds(low),
                human_seconds(high)
            ));
        }
        let any_disturbed = runs.iter().any(|run| run.disturbed);
        for (rank, run) in runs.iter().enumerate() {
            // Disturbed runs stand apart, in the right third of the column.
            let (middle, spread) = match (run.disturbed, any_disturbed) {
                (true, _) => (centre + half * 0.7, half * 0.5),
                (false, true) => (centre - half * 0.3, half * 1.2),
                (false, false) => (centre, half * 1.6),
            };
            let title = format!("{}: {}", entry.label, human_seconds(run.wall_s));
            body.push_str(&dot(middle + jitter(rank) * spread, axis.y(run.wall_s), run, &title));
        }
        if entry.median.is_finite() && entry.median > 0.0 {
            let y = axis.y(entry.median);
            body.push_str(&format!(
                "<line class=\"median\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"black\" stroke-width=\"2\"><title>{}: median {}</title></line>\n",
                centre - half,
                centre + half,
                escape(&entry.label),
                human_seconds(entry.median)
            ));
        }
        let label_y = BOTTOM + 16.0;
        body.push_str(&if tilt {
            format!(
                "<text transform=\"translate({centre:.1} {label_y:.1}) rotate(-30)\" text-anchor=\"end\" font-size=\"11\">{}</text>\n",
                escape(&entry.label)
            )
        } else {
            format!("<text x=\"{centre:.1}\" y=\"{label_y:.1}\" text-anchor=\"middle\" font-size=\"11\">{}</text>\n", escape(&entry.label))
        });
    }
    let any_disturbed = drawn.iter().flatten().any(|run| run.disturbed);
    body.push_str(&legend(width, any_disturbed, "bar: median · grey box: its 95% interval"));
    let drawn_count: usize = drawn.iter().map(Vec::len).sum();
    format!(
        "<figure class=\"chart\" data-kind=\"runs\" data-runs=\"{measured}\" data-drawn=\"{drawn_count}\">{}<figcaption>Every run's wall time, one dot per run{}{}; the black bar is the median, the grey box its 95% interval{}.{}</figcaption></figure>\n",
        svg(width, "runs", &body),
        if axis.log { " (log scale: the entries span more than a decade)" } else { "" },
        if drawn.iter().flatten().any(|run| run.process.is_some()) {
            ", coloured by the block of fresh processes it ran in (the interval is over the blocks' medians)"
        } else {
            ""
        },
        if any_disturbed {
            ", and hollow red dots, set apart on the right, are runs disturbed by other load"
        } else {
            ""
        },
        thinning_note(entries)
    )
}

/// A figure of a job's runs in the order they started: each run's time as a
/// ratio to its entry's median, against seconds since the first start.
pub fn timeline_chart(entries: &[EntryRuns]) -> String {
    let drawn: Vec<(&EntryRuns, Vec<RunPoint>)> =
        entries.iter().map(|entry| (entry, thinned(&entry.runs))).collect();
    let points: Vec<(f64, f64, &RunPoint, &str)> = drawn
        .iter()
        .flat_map(|(entry, runs)| {
            runs.iter().filter_map(move |run| {
                let started = run.started_s.filter(|started| started.is_finite())?;
                let ratio = run.wall_s / entry.median;
                (ratio.is_finite() && ratio > 0.0).then_some((started, ratio, run, entry.label.as_str()))
            })
        })
        .collect();
    let measured: usize = entries.iter().map(|entry| entry.runs.len()).sum();
    let untimed: usize = drawn.iter().map(|(_, runs)| runs.len()).sum::<usize>() - points.len();
    if points.is_empty() {
        return String::new();
    }
    let Some(axis) = Axis::over(points.iter().map(|point| point.1).chain([1.0])) else {
        return String::new();
    };
    let first = points.iter().map(|point| point.0).fold(f64::MAX, f64::min);
    let span = points.iter().map(|point| point.0 - first).fold(0.0, f64::max).max(1e-3);
    let width = 720.0;
    let plot = width - LEFT - RIGHT;
    let x = |started: f64| LEFT + 6.0 + (plot - 12.0) * (started - first) / span;
    let mut body = frame(width, &axis, super::words::ratio, "time / entry's median");
    let one = axis.y(1.0);
    body.push_str(&format!(
        "<line x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{one:.1}\" y2=\"{one:.1}\" stroke=\"#777\" stroke-dasharray=\"4 3\"/>\n",
        width - RIGHT
    ));
    for step in 0..=4 {
        let at = first + span * step as f64 / 4.0;
        body.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\">{}</text>\n",
            x(at),
            BOTTOM + 16.0,
            seconds_label(at - first, span)
        ));
    }
    for (started, ratio, run, label) in &points {
        let title = format!("{label}: {} at +{:.3} s", human_seconds(run.wall_s), started - first);
        body.push_str(&dot(x(*started), axis.y(*ratio), run, &title));
    }
    let any_disturbed = points.iter().any(|point| point.2.disturbed);
    body.push_str(&legend(width, any_disturbed, "x: seconds since the first run started"));
    format!(
        "<figure class=\"chart\" data-kind=\"timeline\" data-runs=\"{measured}\" data-drawn=\"{}\">{}<figcaption>Every run in the order it started: its time as a ratio to its entry's median (1× on the dashed line{}), against seconds since the job's first run; a drift shows as a slope, a burst of other load as a cluster above the line{}.{}{}</figcaption></figure>\n",
        points.len(),
        svg(width, "timeline", &body),
        if axis.log { ", log scale" } else { "" },
        if any_disturbed { "; hollow red dots are runs disturbed by other load" } else { "" },
        thinning_note(entries),
        if untimed > 0 {
            format!(
                " Left out, without a start time in their rows: {}.",
                crate::vocab::count(untimed as u64, "run", "runs")
            )
        } else {
            String::new()
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(label: &str, walls: &[f64]) -> EntryRuns {
        let runs = walls
            .iter()
            .enumerate()
            .map(|(index, wall_s)| RunPoint {
                wall_s: *wall_s,
                started_s: Some(1000.0 + index as f64),
                disturbed: false,
                process: None,
            })
            .collect();
        let median = crate::stats::median(walls).unwrap_or(0.0);
        EntryRuns { label: label.to_owned(), runs, median, interval: Some((median * 0.9, median * 1.1)) }
    }

    fn count(html: &str, needle: &str) -> usize {
        html.matches(needle).count()
    }

    #[test]
    fn runs_are_coloured_by_their_block_of_processes() {
        let mut blocks = entry("serial", &[0.010, 0.011, 0.012, 0.013]);
        for (index, run) in blocks.runs.iter_mut().enumerate() {
            run.process = Some(index as u32 / 2 + 1);
        }
        let strip = strip_chart(&[blocks]);
        assert_eq!(count(&strip, "data-process=\"1\""), 2, "{strip}");
        assert_eq!(count(&strip, "data-process=\"2\""), 2, "{strip}");
        // Block 1 in the first colour, which the legend's square has too.
        assert_eq!(count(&strip, PROCESS_COLOURS[0]), 2 + 1, "block 1's colour on its two runs");
        assert_eq!(count(&strip, PROCESS_COLOURS[1]), 2, "block 2's colour on its two runs");
        assert!(strip.contains("coloured by the block of fresh processes"), "{strip}");
        let unblocked = strip_chart(&[entry("serial", &[0.010, 0.011])]);
        assert!(!unblocked.contains("data-process") && !unblocked.contains("coloured by"), "{unblocked}");
    }

    #[test]
    fn every_run_is_one_circle() {
        let entries = [entry("serial", &[0.010, 0.011, 0.012]), entry("threads ×2", &[0.006; 7])];
        let strip = strip_chart(&entries);
        assert_eq!(count(&strip, "<circle class=\"run"), 10);
        assert_eq!(count(&strip, "<circle"), 10, "no other circles");
        assert!(strip.contains("data-runs=\"10\" data-drawn=\"10\""));
        assert_eq!(count(&strip, "class=\"median\""), 2);
        assert_eq!(count(&strip, "class=\"interval\""), 2);
        let timeline = timeline_chart(&entries);
        assert_eq!(count(&timeline, "<circle class=\"run"), 10);
        assert!(!strip.contains("evenly spaced in rank"));
    }

    #[test]
    fn more_than_500_runs_draw_500_evenly_in_rank_and_say_so() {
        let walls: Vec<f64> = (0..1234).map(|index| 1.0 + (index * 7919 % 1234) as f64 / 1000.0).collect();
        let runs: Vec<RunPoint> = walls
            .iter()
            .map(|wall_s| RunPoint { wall_s: *wall_s, started_s: None, disturbed: false, process: None })
            .collect();
        let kept = thinned(&runs);
        assert_eq!(kept.len(), MAX_POINTS);
        let mut kept_walls: Vec<f64> = kept.iter().map(|run| run.wall_s).collect();
        kept_walls.sort_by(f64::total_cmp);
        assert_eq!(kept_walls[0], 1.0, "the fastest kept");
        assert_eq!(kept_walls[MAX_POINTS - 1], 2.233, "the slowest kept");
        // Evenly in rank: the walls are 1.000, 1.001, … so ranks are walls.
        let gaps: Vec<f64> = kept_walls.windows(2).map(|pair| pair[1] - pair[0]).collect();
        assert!(gaps.iter().all(|gap| (0.0015..0.0035).contains(gap)), "{gaps:?}");

        let entries = [entry("threads ×8", &walls), entry("serial", &[2.0; 3])];
        let strip = strip_chart(&entries);
        assert_eq!(count(&strip, "<circle class=\"run"), MAX_POINTS + 3);
        assert!(strip.contains("data-runs=\"1237\" data-drawn=\"503\""));
        assert!(strip.contains("draw 500 of their runs, evenly spaced in rank"), "{strip}");
        assert!(strip.contains("threads ×8 (1234 runs)"));
        assert_eq!(count(&timeline_chart(&entries), "<circle class=\"run"), MAX_POINTS + 3);
    }

    #[test]
    fn entries_spanning_more_than_a_decade_get_a_log_scale() {
        let close = strip_chart(&[entry("serial", &[1.0, 1.2]), entry("threads ×2", &[0.5, 0.6])]);
        assert!(!close.contains("(log)"));
        let apart = strip_chart(&[entry("serial", &[1.0, 1.2]), entry("processes ×2", &[0.05, 0.06])]);
        assert!(apart.contains("wall time (log)"));
        assert!(apart.contains("log scale"));
        let axis = Axis::over([0.05, 1.2].into_iter()).unwrap();
        assert!(axis.log && axis.low == 0.01 && axis.high == 10.0, "{axis:?}");
    }

    #[test]
    fn disturbed_runs_are_drawn_apart_with_a_legend() {
        let mut entries = [entry("serial", &[1.0, 1.0, 1.0, 3.0])];
        let plain = strip_chart(&entries);
        assert!(!plain.contains("disturbed"));
        entries[0].runs[3].disturbed = true;
        let strip = strip_chart(&entries);
        assert_eq!(count(&strip, "<circle class=\"run disturbed\""), 1);
        assert_eq!(count(&strip, "<circle class=\"run\""), 3);
        assert!(strip.contains("disturbed by other load"), "legend");
        let cx = |circle: &str| -> f64 {
            circle.split("cx=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap()
        };
        let calm: Vec<f64> = strip.split("<circle class=\"run\"").skip(1).map(cx).collect();
        let disturbed: Vec<f64> = strip.split("<circle class=\"run disturbed\"").skip(1).map(cx).collect();
        assert!(calm.iter().all(|x| *x < disturbed[0]), "set apart to the right: {calm:?} {disturbed:?}");
        let timeline = timeline_chart(&entries);
        assert_eq!(count(&timeline, "<circle class=\"run disturbed\""), 1);
        assert!(timeline.contains("disturbed by other load"));
    }

    #[test]
    fn runs_without_a_start_time_leave_the_timeline_and_say_so() {
        let mut entries = [entry("serial", &[1.0, 1.1, 0.9])];
        entries[0].runs[1].started_s = None;
        let timeline = timeline_chart(&entries);
        assert_eq!(count(&timeline, "<circle class=\"run"), 2);
        assert!(timeline.contains("Left out, without a start time in their rows: 1 run."), "{timeline}");
    }

    #[test]
    fn nothing_drawable_draws_nothing() {
        assert_eq!(strip_chart(&[]), "");
        assert_eq!(timeline_chart(&[entry("serial", &[])]), "");
        let bad = [EntryRuns {
            label: "x".into(),
            runs: vec![RunPoint {
                wall_s: f64::NAN,
                started_s: Some(f64::INFINITY),
                disturbed: false,
                process: None,
            }],
            median: 0.0,
            interval: None,
        }];
        assert_eq!(strip_chart(&bad), "");
        assert_eq!(timeline_chart(&bad), "");
    }
}
