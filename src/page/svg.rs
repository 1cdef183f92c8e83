//! Inline SVG charts (pure): the uptime strip, the latency chart, the error-budget burn-down, the release
//! timeline and a burst's percentile plot (each of the latest bursts' own curve). Each chart has a `<title>` saying what it shows in words and
//! numbers, and each mark a `<title>` of its own (the browser's tooltip, no script).

use super::html::{at_text, esc, ms_text, percent_text};
use super::model::{Bar, BurstCurve, ReleaseView};

/// A coordinate to one decimal.
fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// An instant as `format` writes it in UTC (the milliseconds when out of the calendar).
fn utc(ms: u64, format: &str) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(|| ms.to_string(), |t| t.format(format).to_string())
}

/// The `<title>` of a bar, short (a strip has one per bar): its span in UTC (a whole day as its date), its
/// non-zero counts and the classes of the runs that did not pass,
/// `12-05 15:40–16:05: 24 passed, 1 failed; timeout 1`, `12-05: 1440 passed`.
pub fn bar_title(bar: &Bar) -> String {
    let end = bar.to_ms.saturating_add(1);
    let same_day = bar.from_ms / 86_400_000 == bar.to_ms / 86_400_000;
    let counts: Vec<String> = [
        (bar.pass, "passed"),
        (bar.fail, "failed"),
        (bar.inconclusive, "inconclusive"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    let classes = classes_text(bar);
    const DAY: u64 = 86_400_000;
    let span = if bar.from_ms % DAY == 0 && end - bar.from_ms == DAY {
        utc(bar.from_ms, "%m-%d")
    } else {
        format!(
            "{}–{}",
            utc(bar.from_ms, "%m-%d %H:%M"),
            utc(end, if same_day { "%H:%M" } else { "%m-%d %H:%M" })
        )
    };
    format!(
        "{span}: {}{}",
        if counts.is_empty() {
            "no runs".to_string()
        } else {
            counts.join(", ")
        },
        if classes.is_empty() {
            String::new()
        } else {
            format!("; {classes}")
        }
    )
}

/// The classes of a bar's runs that did not pass, `timeout 2, throttled 1` (empty when none).
pub fn classes_text(bar: &Bar) -> String {
    let mut classes: Vec<String> = bar
        .classes
        .iter()
        .map(|(class, n)| format!("{} {n}", class.as_str()))
        .collect();
    if bar.unclassified > 0 {
        classes.push(format!("class not kept {}", bar.unclassified));
    }
    classes.join(", ")
}

/// One rect per bar, coloured by its level, each with its counts as a tooltip (its size is the page's CSS:
/// a strip of 50 probes is most of the overview's bytes).
pub fn uptime_strip(name: &str, bars: &[Bar]) -> String {
    let (pass, fail): (u64, u64) = bars
        .iter()
        .fold((0, 0), |(p, f), b| (p + b.pass, f + b.fail));
    let down = bars
        .iter()
        .filter(|b| b.level != super::model::Level::Up && b.level != super::model::Level::None)
        .count();
    let mut out = format!(
        "<svg class=\"strip\" role=\"img\" width=\"{}\" height=\"20\" viewBox=\"0 0 {} 20\"><title>{}: {} bars, {} with failures; {} passed, {} failed</title>",
        bars.len() * 4,
        bars.len() * 4,
        esc(name),
        bars.len(),
        down,
        pass,
        fail
    );
    for (i, bar) in bars.iter().enumerate() {
        out.push_str(&format!(
            "<rect class=\"{}\" x=\"{}\"><title>{}</title></rect>",
            bar.level.as_str(),
            i * 4,
            esc(&bar_title(bar))
        ));
    }
    out.push_str("</svg>");
    out
}

const W: f64 = 720.0;
const H: f64 = 180.0;

/// A polyline of `points` (x, y in data units) scaled into the chart; `None` values are skipped.
fn polyline(
    class: &str,
    colour: &str,
    points: &[(f64, Option<f64>)],
    x: impl Fn(f64) -> f64,
    y: impl Fn(f64) -> f64,
) -> String {
    let pts: Vec<String> = points
        .iter()
        .filter_map(|(px, py)| py.map(|py| format!("{},{}", n(x(*px)), n(y(py)))))
        .collect();
    // A line of one point is invisible: a dot shows it.
    let dot = match pts.as_slice() {
        [one] => {
            let (cx, cy) = one.split_once(',').unwrap_or_default();
            format!(
                "<circle class=\"{class}\" cx=\"{cx}\" cy=\"{cy}\" r=\"2.5\" fill=\"{colour}\"/>"
            )
        }
        _ => String::new(),
    };
    format!(
        "<polyline class=\"{class}\" stroke=\"{colour}\" fill=\"none\" stroke-width=\"1.5\" points=\"{}\"/>{dot}",
        pts.join(" ")
    )
}

/// p50 / p95 / p99 lines over the bars, the latency objective as a dashed line, failures as red marks.
pub fn latency_chart(name: &str, bars: &[Bar], objective_ms: Option<f64>) -> String {
    let top = bars
        .iter()
        .filter_map(|b| b.p99_ms)
        .chain(objective_ms)
        .fold(1.0_f64, f64::max)
        * 1.1;
    let step = W / bars.len().max(1) as f64;
    let x = |i: f64| i * step + step / 2.0;
    let y = |v: f64| H - 20.0 - (v / top) * (H - 30.0);
    let series = |pick: fn(&Bar) -> Option<f64>| -> Vec<(f64, Option<f64>)> {
        bars.iter()
            .enumerate()
            .map(|(i, b)| (i as f64, pick(b)))
            .collect()
    };
    let failures: usize = bars.iter().filter(|b| b.fail > 0).count();
    let mut out = format!(
        "<svg class=\"latency\" role=\"img\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\"><title>{}: latency p50, p95, p99 over {} bars; objective {}; {} bars with failures</title>",
        esc(name),
        bars.len(),
        ms_text(objective_ms),
        failures
    );
    out.push_str(&format!(
        "<line x1=\"0\" y1=\"{0}\" x2=\"{W}\" y2=\"{0}\" stroke=\"#d0d7de\"/><text x=\"2\" y=\"12\" font-size=\"11\">{1}</text>",
        n(H - 20.0),
        esc(&ms_text(Some(top)))
    ));
    if let Some(objective) = objective_ms {
        out.push_str(&format!(
            "<line class=\"objective\" x1=\"0\" y1=\"{0}\" x2=\"{W}\" y2=\"{0}\" stroke=\"#8250df\" stroke-dasharray=\"6 4\"><title>objective {1}</title></line>",
            n(y(objective)),
            esc(&ms_text(Some(objective)))
        ));
    }
    out.push_str(&polyline("p50", "#0969da", &series(|b| b.p50_ms), x, y));
    out.push_str(&polyline("p95", "#bf8700", &series(|b| b.p95_ms), x, y));
    out.push_str(&polyline("p99", "#cf222e", &series(|b| b.p99_ms), x, y));
    for (i, bar) in bars.iter().enumerate().filter(|(_, b)| b.fail > 0) {
        out.push_str(&format!(
            "<circle class=\"failure\" cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"#cf222e\"><title>{}</title></circle>",
            n(x(i as f64)),
            n(H - 8.0),
            esc(&bar_title(bar))
        ));
    }
    out.push_str("<text x=\"2\" y=\"176\" font-size=\"11\">p50 blue · p95 amber · p99 red · objective dashed · failures dots</text></svg>");
    out
}

/// The error budget left across the period (1 = untouched, 0 = spent), below zero when overspent.
pub fn burn_down(name: &str, points: &[(u64, Option<f64>)]) -> String {
    let low = points
        .iter()
        .filter_map(|(_, v)| *v)
        .fold(0.0_f64, f64::min);
    let span = 1.0 - low;
    let step = W / points.len().max(1) as f64;
    let x = |i: f64| i * step + step / 2.0;
    let y = |v: f64| 10.0 + (1.0 - v) / span * (H - 40.0);
    let series: Vec<(f64, Option<f64>)> = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| (i as f64, *v))
        .collect();
    let last = points.last().and_then(|(_, v)| *v);
    let mut out = format!(
        "<svg class=\"burn-down\" role=\"img\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\"><title>{}: error budget left over the period, now {}</title>",
        esc(name),
        percent_text(last.map(|v| v * 100.0))
    );
    out.push_str(&format!(
        "<line x1=\"0\" y1=\"{0}\" x2=\"{W}\" y2=\"{0}\" stroke=\"#cf222e\" stroke-dasharray=\"4 4\"><title>budget spent</title></line><text x=\"2\" y=\"{1}\" font-size=\"11\">0 %</text><text x=\"2\" y=\"20\" font-size=\"11\">100 %</text>",
        n(y(0.0)),
        n(y(0.0) - 2.0)
    ));
    out.push_str(&polyline("budget", "#0969da", &series, x, y));
    out.push_str("</svg>");
    out
}

/// The release's timeline: the baseline window, the release marker, the warm-up, each decision, the
/// rollback and its recovery window, from the baseline's start to the watch's end (or now, or the recovery
/// window's end, when later).
pub fn timeline(r: &ReleaseView, now_ms: u64) -> String {
    let from = r.baseline_from_ms;
    let to = r
        .ended_at_ms
        .unwrap_or(r.watch_until_ms)
        .max(now_ms)
        .max(r.recovery_until_ms.unwrap_or(0))
        .max(from + 1);
    let x = |at: u64| 10.0 + (at.saturating_sub(from)) as f64 / (to - from) as f64 * (W - 20.0);
    let mut out = format!(
        "<svg class=\"timeline\" role=\"img\" width=\"{W}\" height=\"90\" viewBox=\"0 0 {W} 90\"><title>release {}: released {}, {} decisions</title>",
        esc(&r.version),
        at_text(r.started_at_ms),
        r.decisions.len()
    );
    out.push_str(&format!(
        "<line x1=\"10\" y1=\"50\" x2=\"{}\" y2=\"50\" stroke=\"#57606a\"/>",
        n(W - 10.0)
    ));
    out.push_str(&format!(
        "<rect class=\"baseline\" x=\"{}\" y=\"40\" width=\"{}\" height=\"20\" fill=\"#dafbe1\"><title>baseline {} – {}</title></rect>",
        n(x(r.baseline_from_ms)),
        n((x(r.baseline_to_ms) - x(r.baseline_from_ms)).max(1.0)),
        at_text(r.baseline_from_ms),
        at_text(r.baseline_to_ms)
    ));
    out.push_str(&format!(
        "<rect class=\"warmup\" x=\"{}\" y=\"40\" width=\"{}\" height=\"20\" fill=\"#fff1c2\"><title>warm-up until {}</title></rect>",
        n(x(r.started_at_ms)),
        n((x(r.warmup_end_ms) - x(r.started_at_ms)).max(1.0)),
        at_text(r.warmup_end_ms)
    ));
    out.push_str(&format!(
        "<line class=\"release\" x1=\"{0}\" y1=\"20\" x2=\"{0}\" y2=\"80\" stroke=\"#0969da\" stroke-width=\"2\"><title>release {1} at {2}</title></line><text x=\"{0}\" y=\"14\" font-size=\"11\">{1}</text>",
        n(x(r.started_at_ms)),
        esc(&r.version),
        at_text(r.started_at_ms)
    ));
    for d in &r.decisions {
        let colour = if d.outcome.contains("rollback") {
            "#cf222e"
        } else {
            "#57606a"
        };
        out.push_str(&format!(
            "<circle class=\"decision\" cx=\"{}\" cy=\"50\" r=\"5\" fill=\"{colour}\"><title>{} {}: {}</title></circle>",
            n(x(d.at_ms)),
            at_text(d.at_ms),
            esc(&d.outcome),
            esc(&d.reason)
        ));
    }
    if let (Some(from), Some(until), Some(text)) = (
        r.rollback_finished_at_ms,
        r.recovery_until_ms,
        r.recovery_text(),
    ) {
        let (end, colour) = match &r.recovery {
            Some((outcome, at)) if outcome == crate::release::RECOVERY_VERIFIED => (*at, "#aceebb"),
            Some((_, at)) => (*at, "#ffcecb"),
            None => (until, "#eaeef2"),
        };
        out.push_str(&format!(
            "<rect class=\"recovery\" x=\"{}\" y=\"40\" width=\"{}\" height=\"20\" fill=\"{colour}\"><title>{}</title></rect>",
            n(x(from)),
            n((x(end) - x(from)).max(1.0)),
            esc(&text)
        ));
    }
    if let Some(at) = r.rollback_claimed_at_ms {
        out.push_str(&format!(
            "<line class=\"rollback\" x1=\"{0}\" y1=\"30\" x2=\"{0}\" y2=\"70\" stroke=\"#cf222e\" stroke-width=\"2\"><title>rollback to {1} claimed at {2}</title></line>",
            n(x(at)),
            esc(&r.rollback_to),
            at_text(at)
        ));
    }
    out.push_str(&format!(
        "<line class=\"now\" x1=\"{0}\" y1=\"35\" x2=\"{0}\" y2=\"65\" stroke=\"#1b1f24\" stroke-dasharray=\"2 2\"><title>now</title></line></svg>",
        n(x(now_ms))
    ));
    out
}

/// Where quantile `q` sits on a percentile plot: a log scale of 1 / (1 − q), p50 … p100 (taken as p99.99).
fn percentile_x(q: f64) -> f64 {
    let position = |q: f64| (1.0 / (1.0 - q.min(0.9999))).log10();
    20.0 + position(q) / position(1.0) * (W - 40.0)
}

/// Where `v` ms sits on a percentile plot topped at `top` ms.
fn percentile_y(v: f64, top: f64) -> f64 {
    H - 20.0 - v / top * (H - 30.0)
}

/// The top of a percentile plot of `values`: 10 % over the largest, at least 1.1 ms.
fn percentile_top(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(1.0_f64, f64::max) * 1.1
}

/// A percentile plot's opening tag, `<title>` and axes, topped at `top` ms.
fn percentile_frame(title: &str, top: f64) -> String {
    format!(
        "<svg class=\"percentiles\" role=\"img\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\"><title>{}</title>\
<line x1=\"0\" y1=\"{1}\" x2=\"{W}\" y2=\"{1}\" stroke=\"#d0d7de\"/><text x=\"2\" y=\"12\" font-size=\"11\">{2}</text>\
<text x=\"2\" y=\"176\" font-size=\"11\">p50 … p100, a log scale of 1 / (1 − q)</text>",
        esc(title),
        n(H - 20.0),
        esc(&ms_text(Some(top)))
    )
}

/// A point of a percentile plot, with its value as a tooltip.
fn percentile_point(q: f64, v: f64, top: f64, colour: &str) -> String {
    format!(
        "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{colour}\"><title>{}: {}</title></circle>",
        n(percentile_x(q)),
        n(percentile_y(v, top)),
        percentile_label(q),
        esc(&ms_text(Some(v)))
    )
}

/// `p50`, `p99.9`, `p100`: quantile `q` as a percentile.
pub fn percentile_label(q: f64) -> String {
    format!("p{}", (q * 1000.0).round() / 10.0)
}

/// A burst's latency by percentile (x: the percentile on a log scale of 1 / (1 − q)).
pub fn percentile_plot(name: &str, percentiles: &[(f64, Option<f64>)]) -> String {
    let top = percentile_top(percentiles.iter().filter_map(|(_, v)| *v));
    let mut out = percentile_frame(&format!("{name}: latency by percentile"), top);
    out.push_str(&polyline(
        "percentiles",
        "#0969da",
        percentiles,
        percentile_x,
        |v| percentile_y(v, top),
    ));
    for (q, v) in percentiles {
        if let Some(v) = v {
            out.push_str(&percentile_point(*q, *v, top, "#0969da"));
        }
    }
    out.push_str("</svg>");
    out
}

/// The colour of a burst's curve: its verdict's.
fn verdict_colour(verdict: &str) -> &'static str {
    match verdict {
        "pass" => "#0969da",
        "fail" => "#cf222e",
        _ => "#9a6700",
    }
}

/// Each of the latest bursts' own latency by percentile, one line each (coloured by its verdict, the older
/// ones faded), each line's `<title>` its time, verdict and numbers.
pub fn burst_curves(name: &str, curves: &[BurstCurve]) -> String {
    let top = percentile_top(
        curves
            .iter()
            .flat_map(|c| c.percentiles_ms.iter().map(|(_, v)| *v)),
    );
    let mut out = percentile_frame(
        &format!(
            "{name}: latency by percentile of each of the {} latest bursts",
            curves.len()
        ),
        top,
    );
    for (i, c) in curves.iter().enumerate() {
        let colour = verdict_colour(&c.verdict);
        let numbers: Vec<String> = c
            .percentiles_ms
            .iter()
            .map(|(q, v)| format!("{} {}", percentile_label(*q), ms_text(Some(*v))))
            .collect();
        let points: Vec<(f64, Option<f64>)> = c
            .percentiles_ms
            .iter()
            .map(|(q, v)| (*q, Some(*v)))
            .collect();
        out.push_str(&format!(
            "<g class=\"burst {}\" opacity=\"{}\"><title>{}: {}, {}</title>{}",
            esc(&c.verdict),
            if i == 0 { "1" } else { "0.5" },
            at_text(c.at_ms),
            esc(&c.verdict),
            esc(&numbers.join(", ")),
            polyline("burst-curve", colour, &points, percentile_x, |v| {
                percentile_y(v, top)
            })
        ));
        for (q, v) in &c.percentiles_ms {
            out.push_str(&percentile_point(*q, *v, top, colour));
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::ClassCounts;
    use crate::page::model::Level;
    use crate::probe::FailureClass;

    fn bar(i: u64, pass: u64, fail: u64, p50: Option<f64>) -> Bar {
        Bar {
            from_ms: 1_796_083_200_000 + i * 60_000,
            to_ms: 1_796_083_200_000 + (i + 1) * 60_000 - 1,
            pass,
            fail,
            inconclusive: 0,
            level: Level::of(pass, fail),
            classes: ClassCounts::new(),
            unclassified: 0,
            p50_ms: p50,
            p95_ms: p50.map(|v| v * 2.0),
            p99_ms: p50.map(|v| v * 3.0),
        }
    }

    #[test]
    fn a_bar_says_its_span_and_counts() {
        assert_eq!(
            bar_title(&bar(0, 3, 1, None)),
            "12-01 00:00–00:01: 3 passed, 1 failed"
        );
    }

    #[test]
    fn a_whole_day_bar_is_named_by_its_date() {
        let mut b = bar(0, 1440, 0, None);
        b.to_ms = b.from_ms + 86_400_000 - 1;
        assert_eq!(bar_title(&b), "12-01: 1440 passed");
        b.to_ms -= 60_000;
        assert_eq!(bar_title(&b), "12-01 00:00–23:59: 1440 passed");
    }

    #[test]
    fn a_bar_with_failures_says_their_classes_and_those_not_kept() {
        let mut b = bar(0, 24, 3, None);
        b.inconclusive = 2;
        b.classes = ClassCounts::from([
            (FailureClass::Timeout, 2),
            (FailureClass::ProxyBadGateway, 1),
            (FailureClass::Throttled, 1),
        ]);
        b.unclassified = 1;
        assert_eq!(
            bar_title(&b),
            "12-01 00:00–00:01: 24 passed, 3 failed, 2 inconclusive; timeout 2, proxy_bad_gateway 1, throttled 1, class not kept 1"
        );
    }

    #[test]
    fn the_strip_has_one_rect_per_bar_coloured_and_titled() {
        let bars = [bar(0, 3, 0, None), bar(1, 1, 2, None), bar(2, 0, 0, None)];
        let svg = uptime_strip("<b>x</b>", &bars);
        assert_eq!(svg.matches("<rect ").count(), 3);
        assert!(svg.starts_with(
            "<svg class=\"strip\" role=\"img\" width=\"12\" height=\"20\" viewBox=\"0 0 12 20\"><title>&lt;b&gt;x&lt;/b&gt;: 3 bars, 1 with failures; 4 passed, 2 failed</title>"
        ));
        assert!(svg.contains(
            "<rect class=\"down\" x=\"4\"><title>12-01 00:01–00:02: 1 passed, 2 failed</title></rect>"
        ));
        assert!(svg.contains(
            "<rect class=\"none\" x=\"8\"><title>12-01 00:02–00:03: no runs</title></rect>"
        ));
    }

    #[test]
    fn the_latency_chart_has_a_point_per_bar_with_runs_and_marks_failures() {
        let bars = [
            bar(0, 3, 0, Some(10.0)),
            bar(1, 1, 2, Some(20.0)),
            bar(2, 0, 0, None),
        ];
        let svg = latency_chart("h", &bars, Some(100.0));
        let p50 = svg
            .split("class=\"p50\"")
            .nth(1)
            .and_then(|s| s.split("points=\"").nth(1))
            .and_then(|s| s.split('"').next())
            .unwrap_or_default();
        // 110 ms at the top: y = 160 − v / 110 × 150.
        assert_eq!(p50, "120.0,146.4 360.0,132.7");
        assert_eq!(svg.matches("<circle class=\"failure\"").count(), 1);
        assert!(svg.contains("<line class=\"objective\" x1=\"0\" y1=\"23.6\""));
        assert!(svg.contains("<title>h: latency p50, p95, p99 over 3 bars; objective 100 ms; 1 bars with failures</title>"));
    }

    #[test]
    fn a_quantile_is_named_as_its_percentile() {
        let labels: Vec<String> = crate::load::BURST_PERCENTILES
            .iter()
            .map(|&q| percentile_label(q))
            .collect();
        assert_eq!(labels, ["p50", "p75", "p90", "p95", "p99", "p99.9", "p100"]);
    }

    #[test]
    fn the_burn_down_goes_below_zero_when_overspent() {
        let svg = burn_down(
            "o",
            &[(1, Some(1.0)), (2, Some(0.5)), (3, None), (4, Some(-0.5))],
        );
        let points = svg
            .split("points=\"")
            .nth(1)
            .and_then(|s| s.split('"').next());
        // From 1 (y 10) down to −0.5 (y 150); the 0 line at y 103.3.
        assert_eq!(points, Some("90.0,10.0 270.0,56.7 630.0,150.0"));
        assert!(svg.contains("y1=\"103.3\""));
        assert!(svg.contains("now -50.00 %"));
    }
}
