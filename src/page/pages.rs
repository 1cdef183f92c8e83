//! The pages (pure): the overview with its summary cards and bursts, a probe's page, the SLO page, the
//! release page — each the body of a [`shell`](super::html::shell), from the [`Page`] model (a probe run from
//! more than one location lists them on its page). Every chart has its numbers in a table beside it.

use super::html::{
    Links, Nav, ago_text, at_text, esc, ms_text, percent_text, rate_text, shell, state_badge,
};
use super::model::{BurstView, LocationView, PHASES, Page, ProbeView, RunView};
use super::svg;

fn card(label: &str, value: &str) -> String {
    format!("<div class=\"card\">{}<b>{}</b></div>", esc(label), value)
}

/// The summary cards.
pub fn cards(page: &Page) -> String {
    let s = &page.summary;
    let alerts = if s.open_alerts.is_empty() {
        "none".to_string()
    } else {
        esc(&s.open_alerts.join(", "))
    };
    let release = s
        .release_under_watch
        .as_deref()
        .map_or_else(|| "none".to_string(), esc);
    format!(
        "<section class=\"cards\" aria-label=\"summary\">{}{}{}{}</section>",
        card(
            "overall",
            &format!(
                "{} {} of {} failing",
                state_badge(s.state),
                s.failing,
                s.probes
            )
        ),
        card("open alerts", &alerts),
        card(
            "query budget left",
            &format!("{} of {} this hour", s.queries_left, s.queries_per_hour)
        ),
        card("release under watch", &release),
    )
}

/// The active silences, each with its probe, end and reason.
fn silences(page: &Page) -> String {
    if page.silences.is_empty() {
        return String::new();
    }
    let items: String = page
        .silences
        .iter()
        .map(|s| {
            format!(
                "<li>{} until {}: {}</li>",
                esc(s.probe.as_deref().unwrap_or("every probe")),
                at_text(s.until_ms),
                esc(&s.reason)
            )
        })
        .collect();
    format!("<h2>Silences</h2><ul class=\"silences\">{items}</ul>")
}

/// One row of the overview's table.
fn probe_row(page: &Page, p: &ProbeView, links: Links) -> String {
    let uptime: String = p
        .uptime
        .iter()
        .map(|u| format!("<td>{}</td>", percent_text(u.percent)))
        .collect();
    let last = p.last_at_ms.map_or_else(
        || "never".to_string(),
        |at| {
            format!(
                "<span title=\"{}\">{}</span>",
                at_text(at),
                ago_text(page.now_ms, at)
            )
        },
    );
    let findings: String = p
        .last_findings
        .iter()
        .map(|f| format!("<div class=\"finding\">{}</div>", esc(f)))
        .collect();
    format!(
        "<tr id=\"row-{}\"><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td>{uptime}<td>{}</td><td>{}</td><td>{last}{findings}</td></tr>\n",
        esc(&super::html::url_segment(&p.info.name)),
        esc(&links.probe(&p.info.name)),
        esc(&p.info.name),
        state_badge(p.state),
        svg::uptime_strip(&p.info.name, &p.bars),
        ms_text(p.p50_ms),
        ms_text(p.p95_ms),
    )
}

/// The overview's body: cards, one row per probe, the bursts.
pub fn overview_body(page: &Page, links: Links) -> String {
    let window = humantime::format_duration(std::time::Duration::from_millis(page.window_ms));
    let rows: String = page
        .probes
        .iter()
        .map(|p| probe_row(page, p, links))
        .collect();
    format!(
        "<h1>oewsprobe status</h1><p><small>at {} · window {window}</small></p>{}\
<h2>Probes</h2><table class=\"probes\"><thead><tr><th>probe</th><th>state</th><th>uptime over the window</th>\
<th>24 h</th><th>7 d</th><th>30 d</th><th>p50</th><th>p95</th><th>last run</th></tr></thead><tbody>\n{rows}</tbody></table>{}{}",
        at_text(page.now_ms),
        cards(page),
        silences(page),
        bursts(page)
    )
}

pub fn overview(page: &Page, links: Links, refresh: bool) -> String {
    shell(
        "Overview",
        Nav::Overview,
        links,
        &overview_body(page, links),
        refresh,
    )
}

/// The bursts: verdict counts, each of the latest bursts' own percentile curve with its table (or, when none
/// kept its distribution, the percentiles of the burst records over the window), the latest burst runs.
fn bursts(page: &Page) -> String {
    if page.bursts.is_empty() {
        return String::new();
    }
    let mut out = String::from("<h2>Bursts</h2>");
    for b in &page.bursts {
        out.push_str(&burst_section(b, page.now_ms));
    }
    out
}

/// One burst's section: its verdicts over the window, its plot and table, its latest runs.
fn burst_section(b: &BurstView, now_ms: u64) -> String {
    let (plot, table) = if b.latest.is_empty() {
        (
            svg::percentile_plot(&b.name, &b.percentiles_ms),
            window_percentiles_table(b),
        )
    } else {
        (svg::burst_curves(&b.name, &b.latest), curves_table(b))
    };
    format!(
        "<section class=\"burst\"><h3>{}</h3><p>{} passed, {} failed, {} inconclusive over the window</p>{plot}{table}{}</section>",
        esc(&b.name),
        b.passed,
        b.failed,
        b.inconclusive,
        runs_table("latest bursts", &b.recent, now_ms),
    )
}

/// The percentiles of a burst's records over the window (each a burst's slowest request).
fn window_percentiles_table(b: &BurstView) -> String {
    let rows: String = b
        .percentiles_ms
        .iter()
        .map(|&(q, v)| {
            let (label, value) = (svg::percentile_label(q), ms_text(v));
            format!("<tr><td>{label}</td><td>{value}</td></tr>")
        })
        .collect();
    format!("<table><caption>slowest request per burst, by percentile</caption>{rows}</table>")
}

/// Each of the latest bursts' latency by percentile: a row per burst, newest first, a column per percentile.
fn curves_table(b: &BurstView) -> String {
    let head: String = b.latest[0]
        .percentiles_ms
        .iter()
        .map(|(q, _)| format!("<th>{}</th>", svg::percentile_label(*q)))
        .collect();
    let rows: String = b
        .latest
        .iter()
        .map(|c| {
            let cells: String = c
                .percentiles_ms
                .iter()
                .map(|(_, v)| format!("<td>{}</td>", ms_text(Some(*v))))
                .collect();
            format!(
                "<tr><td>{}</td><td>{}</td>{cells}</tr>",
                at_text(c.at_ms),
                esc(&c.verdict)
            )
        })
        .collect();
    format!(
        "<table class=\"burst-percentiles\"><caption>latency by percentile, each of the {} latest bursts</caption>\
<thead><tr><th>burst</th><th>verdict</th>{head}</tr></thead><tbody>{rows}</tbody></table>",
        b.latest.len()
    )
}

/// A table of runs: when, verdict and class, status, latency, timing breakdown, findings with the hint.
pub fn runs_table(caption: &str, runs: &[RunView], now_ms: u64) -> String {
    if runs.is_empty() {
        return format!("<p>{}: none</p>", esc(caption));
    }
    let head: String = PHASES.iter().map(|p| format!("<th>{p}</th>")).collect();
    let rows: String = runs
        .iter()
        .map(|r| {
            let timings: String = r.timings.iter().map(|t| format!("<td>{}</td>", ms_text(*t))).collect();
            let findings: String = r
                .findings
                .iter()
                .map(|f| {
                    format!(
                        "<div class=\"finding\">{}<br><small>expected: {} · actual: {}</small></div>",
                        esc(&f.message),
                        esc(&f.expected),
                        esc(&f.actual)
                    )
                })
                .collect();
            let hint = r
                .hint
                .as_deref()
                .map_or_else(String::new, |h| format!("<div><small>hint: {}</small></div>", esc(h)));
            format!(
                "<tr><td title=\"{}\">{}</td><td>{}{}</td><td>{}</td><td>{}</td>{timings}<td>{findings}{hint}</td></tr>",
                at_text(r.at_ms),
                ago_text(now_ms, r.at_ms),
                esc(&r.verdict),
                r.class.as_deref().map_or_else(String::new, |c| format!(" ({})", esc(c))),
                r.status.map_or_else(|| "-".to_string(), |s| s.to_string()),
                ms_text(r.latency_ms),
            )
        })
        .collect();
    format!(
        "<table class=\"runs\"><caption>{}</caption><thead><tr><th>when</th><th>verdict</th><th>status</th><th>latency</th>{head}<th>findings</th></tr></thead><tbody>{rows}</tbody></table>",
        esc(caption)
    )
}

/// A probe's page body.
pub fn probe_body(page: &Page, p: &ProbeView) -> String {
    let i = &p.info;
    let objective = i.objective_latency_ms.or(i.expect_latency_ms);
    let bars: String = p
        .bars
        .iter()
        .map(|b| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                at_text(b.from_ms),
                b.pass,
                b.fail,
                b.inconclusive,
                match svg::classes_text(b) {
                    c if c.is_empty() => "-".to_string(),
                    c => esc(&c),
                },
                ms_text(b.p50_ms),
                ms_text(b.p95_ms),
                ms_text(b.p99_ms)
            )
        })
        .collect();
    let definition = format!(
        "<table class=\"definition\"><tr><th>request</th><td>{}</td></tr><tr><th>description</th><td>{}</td></tr>\
<tr><th>schedule</th><td>{}</td></tr><tr><th>timeout</th><td>{}</td></tr><tr><th>expected status</th><td>{}</td></tr>\
<tr><th>expected latency</th><td>{}</td></tr><tr><th>latency objective</th><td>{}</td></tr></table>",
        esc(&i.request),
        esc(i.description.as_deref().unwrap_or("-")),
        esc(i.schedule.as_deref().unwrap_or("not scheduled")),
        ms_text(Some(i.timeout_ms as f64)),
        esc(&i.expect_status),
        ms_text(i.expect_latency_ms),
        ms_text(i.objective_latency_ms),
    );
    let burst = page
        .bursts
        .iter()
        .find(|b| b.name == format!("{}-burst", i.name))
        .map_or_else(String::new, |b| {
            format!("<h2>Its bursts</h2>{}", burst_section(b, page.now_ms))
        });
    format!(
        "<h1>{} {}</h1><p>{} runs in the window · p50 {} · p95 {} · p99 {}</p>{}\
<h2>Latency</h2>{}<details><summary>the chart's numbers</summary><table><thead><tr><th>from</th><th>passed</th><th>failed</th>\
<th>inconclusive</th><th>classes</th><th>p50</th><th>p95</th><th>p99</th></tr></thead><tbody>{bars}</tbody></table></details>\
<h2>Recent runs</h2>{}<h2>Recent failures</h2>{}{burst}<h2>Definition</h2>{definition}",
        esc(&i.name),
        state_badge(p.state),
        p.runs,
        ms_text(p.p50_ms),
        ms_text(p.p95_ms),
        ms_text(p.p99_ms),
        locations_table(&p.locations, page.now_ms),
        svg::latency_chart(&i.name, &p.bars, objective),
        runs_table("latest runs, newest first", &p.recent, page.now_ms),
        runs_table("latest failures, newest first", &p.failures, page.now_ms),
    )
}

/// A probe's locations (when more than one ran it): each one's latest run and its uptime over 24 h.
fn locations_table(locations: &[LocationView], now_ms: u64) -> String {
    if locations.is_empty() {
        return String::new();
    }
    let rows: String = locations
        .iter()
        .map(|l| {
            let last = match (&l.last_verdict, &l.last_class) {
                (None, _) => "never".to_string(),
                (Some(v), None) => esc(v),
                (Some(v), Some(c)) => format!("{} ({})", esc(v), esc(c)),
            };
            let when = l.last_at_ms.map_or("-".to_string(), |at| {
                format!(
                    "<span title=\"{}\">{}</span>",
                    at_text(at),
                    ago_text(now_ms, at)
                )
            });
            format!(
                "<tr><td>{}</td><td>{last}</td><td>{when}</td><td>{} of {}</td></tr>",
                esc(&l.location),
                percent_text(l.uptime_24h),
                l.conclusive_24h
            )
        })
        .collect();
    format!(
        "<h2>Locations</h2><table class=\"locations\"><thead><tr><th>location</th><th>last</th>\
<th>last run</th><th>24h uptime</th></tr></thead><tbody>{rows}</tbody></table>"
    )
}

pub fn probe(page: &Page, p: &ProbeView, links: Links, refresh: bool) -> String {
    shell(
        &p.info.name,
        Nav::Probe,
        links,
        &probe_body(page, p),
        refresh,
    )
}

/// The SLO page's body: per objective the budget, its burn-down, each tier's burn rates and breach.
pub fn slo_body(page: &Page) -> String {
    let mut out = String::from("<h1>Service level objectives</h1>");
    if page.objectives.is_empty() {
        out.push_str("<p>No objective is configured ([[slo]]).</p>");
    }
    for o in &page.objectives {
        let tiers: String = o
            .tiers
            .iter()
            .map(|t| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} over {}</td><td>{} over {}</td><td>{}</td></tr>",
                    esc(&t.name),
                    esc(&t.severity),
                    rate_text(Some(t.burn)),
                    rate_text(t.long_burn_rate),
                    esc(&t.long_window),
                    rate_text(t.short_burn_rate),
                    esc(&t.short_window),
                    match t.breached_since_ms {
                        Some(at) => format!("<b>breached</b> since {}", at_text(at)),
                        None => "no".to_string(),
                    }
                )
            })
            .collect();
        let points: String = o
            .burn_down
            .iter()
            .map(|(at, v)| {
                format!(
                    "<tr><td>{}</td><td>{}</td></tr>",
                    at_text(*at),
                    percent_text(v.map(|v| v * 100.0))
                )
            })
            .collect();
        out.push_str(&format!(
            "<section class=\"objective\"><h2>{}</h2><p>error budget left: <b>{}</b> over {} ({} good, {} bad, {:.1} bad allowed{})</p>{}\
<details><summary>the burn-down's numbers</summary><table>{points}</table></details>\
<table class=\"tiers\"><thead><tr><th>tier</th><th>severity</th><th>threshold</th><th>long window</th><th>short window</th><th>breached</th></tr></thead><tbody>{tiers}</tbody></table></section>",
            esc(&o.name),
            percent_text(o.budget_remaining.map(|v| v * 100.0)),
            esc(&o.period),
            o.good,
            o.bad,
            o.allowed_bad,
            match o.location_problems {
                0 => String::new(),
                n => format!("; location problems: {n}"),
            },
            svg::burn_down(&o.name, &o.burn_down),
        ));
    }
    out
}

pub fn slo(page: &Page, links: Links, refresh: bool) -> String {
    shell("SLOs", Nav::Slo, links, &slo_body(page), refresh)
}

/// The release page's body: timeline, decisions with evidence, the hook's outcome, before and after.
pub fn release_body(page: &Page) -> String {
    let Some(r) = &page.release else {
        return "<h1>Release</h1><p>No release recorded (oewsprobe release start).</p>".to_string();
    };
    let decisions: String = r
        .decisions
        .iter()
        .map(|d| {
            let evidence = serde_json::to_string_pretty(&d.evidence).unwrap_or_default();
            format!(
                "<tr class=\"decision\"><td>{}</td><td><b>{}</b></td><td>{}<details><summary>evidence</summary><pre>{}</pre></details></td></tr>",
                at_text(d.at_ms),
                esc(&d.outcome),
                esc(&d.reason),
                esc(&evidence)
            )
        })
        .collect();
    let rollback = match (r.rollback_claimed_at_ms, &r.rollback_outcome) {
        (None, _) => "<p>No rollback claimed.</p>".to_string(),
        (Some(at), outcome) => format!(
            "<p>Rollback to {} claimed at {}; {}</p>{}",
            esc(&r.rollback_to),
            at_text(at),
            r.rollback_finished_at_ms.map_or_else(
                || "the hook has not finished".to_string(),
                |f| format!(
                    "the hook finished at {}{}",
                    at_text(f),
                    r.recovery_text()
                        .map_or_else(String::new, |t| format!("; {}", esc(&t)))
                )
            ),
            outcome.as_ref().map_or_else(String::new, |o| format!(
                "<pre class=\"hook\">{}</pre>",
                esc(&serde_json::to_string_pretty(o).unwrap_or_default())
            ))
        ),
    };
    let probes: String = r
        .probes
        .iter()
        .map(|b| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&b.probe),
                percent_text(b.before_uptime),
                ms_text(b.before_p95_ms),
                b.before_runs,
                percent_text(b.after_uptime),
                ms_text(b.after_p95_ms),
                b.after_runs
            )
        })
        .collect();
    format!(
        "<h1>Release {}</h1><p>{} · released {} · warm-up until {} · watch until {}{} · rollback target {}</p>{}\
<h2>Decisions</h2><table class=\"decisions\"><thead><tr><th>when</th><th>outcome</th><th>reason</th></tr></thead><tbody>{decisions}</tbody></table>\
<h2>Rollback</h2>{rollback}<h2>Before and after</h2><table class=\"before-after\"><thead><tr><th>probe</th><th>uptime before</th><th>p95 before</th>\
<th>runs before</th><th>uptime after warm-up</th><th>p95 after</th><th>runs after</th></tr></thead><tbody>{probes}</tbody></table>",
        esc(&r.version),
        if r.watching {
            "<b>watching</b>"
        } else {
            "watch closed"
        },
        at_text(r.started_at_ms),
        at_text(r.warmup_end_ms),
        at_text(r.watch_until_ms),
        r.ended_at_ms
            .map_or_else(String::new, |e| format!(" · ended {}", at_text(e))),
        esc(&r.rollback_to),
        svg::timeline(r, page.now_ms),
    )
}

pub fn release(page: &Page, links: Links, refresh: bool) -> String {
    shell("Release", Nav::Release, links, &release_body(page), refresh)
}

/// Every page in one self-contained file (`report --html`): sections linked by anchors.
pub fn report(page: &Page) -> String {
    let links = Links::OneFile;
    let mut body = format!(
        "<section id=\"overview\">{}</section>",
        overview_body(page, links)
    );
    for p in &page.probes {
        body.push_str(&format!(
            "<hr><section id=\"probe-{}\">{}</section>",
            esc(&super::html::url_segment(&p.info.name)),
            probe_body(page, p)
        ));
    }
    body.push_str(&format!(
        "<hr><section id=\"slo\">{}</section>",
        slo_body(page)
    ));
    body.push_str(&format!(
        "<hr><section id=\"release\">{}</section>",
        release_body(page)
    ));
    shell("Report", Nav::Overview, links, &body, false)
}
