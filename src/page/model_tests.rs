//! The page model over a real (in-memory) store at a fixed instant: states, bars, uptime figures, findings,
//! the release and its decisions; and the pages rendered from it escape what the runs and names hold.

use super::model::{Level, State, build};
use super::{PageConfig, ProbeInfo};
use crate::happened::{PageQuery, page_facts};
use crate::probe::{Finding, Verdict};
use crate::store::Store;
use crate::store::test_runs::run;
use std::time::Duration;

const M: u64 = 60_000;
const H: u64 = 3_600_000;
/// 2026-12-01T00:00:00Z.
const DEC_1: u64 = 1_796_083_200_000;
const HOSTILE: &str = "<script>alert(1)</script>";

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// `ok` passes every minute for 2 h; `flaky` fails at :30 of every hour; `<b>bold</b>` failed last, with a
/// finding quoting a hostile body; `silent` is silenced; `never` has no run.
fn store(now: u64) -> Store {
    let store = Store::in_memory().expect("store");
    let mut runs = Vec::new();
    for minute in 0..120 {
        let at = now - 2 * H + minute * M;
        runs.push(run("ok", at, Verdict::Pass, ms(100 + minute)));
        let verdict = if minute % 60 == 30 {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        runs.push(run("flaky", at, verdict, ms(200)));
        runs.push(run("silent", at, Verdict::Fail, ms(50)));
    }
    let mut hostile = run("<b>bold</b>", now - M, Verdict::Fail, ms(30));
    hostile.status = Some(502);
    hostile.findings = vec![Finding::new(
        "status",
        None,
        "200",
        "502",
        Some(&format!("body: {HOSTILE}")),
    )];
    runs.push(hostile);
    store.insert_records(&runs).expect("insert");
    store
        .add_silence(Some("silent"), now - H, now + H, "maintenance")
        .expect("silence");
    store
}

fn names() -> Vec<String> {
    ["ok", "flaky", "silent", "<b>bold</b>", "never"]
        .map(String::from)
        .to_vec()
}

/// Two hours of `probes` with 10 queries an hour, latency per bar for `detail`.
fn query<'a>(
    probes: &'a [String],
    watch: &'a crate::release::WatchSettings,
    detail: &'a [String],
) -> PageQuery<'a> {
    PageQuery {
        probes,
        bursts: &[],
        objectives: &[],
        watch,
        recovery: Duration::from_secs(600),
        queries_per_hour: 10,
        window_ms: 2 * H,
        detail,
    }
}

#[test]
fn the_model_says_each_probes_state_bars_uptime_and_last_findings() {
    let now = DEC_1 + 10 * H + 5 * M + 500;
    let store = store(now);
    let probes = names();
    let watch = crate::release::WatchSettings::default();
    let query = query(&probes, &watch, &probes[..1]);
    let facts = page_facts(&store, &query, now).expect("facts");
    let infos = vec![ProbeInfo {
        name: "ok".into(),
        request: "GET /api/v1/health".into(),
        ..ProbeInfo::default()
    }];
    let page = build(&facts, &infos);
    let by = |name: &str| {
        page.probes
            .iter()
            .find(|p| p.info.name == name)
            .expect("probe")
    };
    let states: Vec<(&str, State)> = page
        .probes
        .iter()
        .map(|p| (p.info.name.as_str(), p.state))
        .collect();
    assert_eq!(
        states,
        vec![
            ("<b>bold</b>", State::Fail),
            ("flaky", State::Pass),
            ("never", State::Unknown),
            ("ok", State::Pass),
            ("silent", State::Silenced),
        ]
    );
    // Two hours in 3-minute bars: 40 whole and the current one.
    let ok = by("ok");
    assert_eq!(ok.bars.len(), 41);
    assert_eq!(ok.info.request, "GET /api/v1/health");
    // The first bar starts on its boundary, before the window: it holds the run 2 h ago too.
    assert_eq!(ok.bars.iter().map(|b| b.pass).sum::<u64>(), 120);
    assert_eq!(ok.runs, 119);
    assert!(ok.bars.iter().all(|b| b.fail == 0));
    assert!(ok.bars[1].p50_ms.is_some(), "latency per bar where asked");
    let flaky = by("flaky");
    assert!(flaky.bars.iter().all(|b| b.p50_ms.is_none()), "counts only");
    let down: Vec<Level> = flaky
        .bars
        .iter()
        .map(|b| b.level)
        .filter(|l| *l != Level::Up)
        .collect();
    assert_eq!(down, vec![Level::Degraded, Level::Degraded]);
    assert_eq!(flaky.uptime[0].span, "24h");
    assert_eq!(flaky.uptime[0].conclusive, 120);
    let percent = flaky.uptime[0].percent.expect("uptime");
    assert!((percent - 118.0 / 1.2).abs() < 1e-9, "{percent}");
    assert_eq!(by("never").uptime[0].percent, None);
    let bold = by("<b>bold</b>");
    assert_eq!(
        bold.last_findings,
        vec![format!("status: expected 200, got 502 — body: {HOSTILE}")]
    );
    assert_eq!(bold.failures[0].status, Some(502));
    assert!(
        bold.recent.is_empty(),
        "runs are read for the probes shown in detail"
    );
    assert_eq!(page.summary.failing, 1);
    assert_eq!(page.summary.state, State::Fail);
    assert_eq!(page.summary.queries_left, 10);
}

#[test]
fn bars_summed_by_sqlite_count_what_each_bars_window_counts() {
    let now = DEC_1 + 10 * H + 5 * M + 500;
    let store = store(now);
    let probes = names();
    let watch = crate::release::WatchSettings::default();
    let counts = |detail: &[String]| {
        let facts = page_facts(&store, &query(&probes, &watch, detail), now).expect("facts");
        facts
            .probes
            .into_iter()
            .map(|(name, p)| {
                let bars: Vec<(u64, u64, u64)> = p
                    .bars
                    .iter()
                    .map(|b| (b.pass, b.fail, b.inconclusive))
                    .collect();
                (name, bars)
            })
            .collect::<Vec<_>>()
    };
    let summed = counts(&[]);
    assert_eq!(summed, counts(&probes));
    let flaky = &summed.iter().find(|(n, _)| n == "flaky").expect("flaky").1;
    assert_eq!(flaky.iter().map(|b| b.1).sum::<u64>(), 2);
}

#[test]
fn every_page_shows_hostile_names_and_findings_as_text() {
    let now = DEC_1 + 10 * H + 5 * M + 500;
    let store = store(now);
    let probes = names();
    let config = PageConfig {
        probes: probes.clone(),
        bursts: Vec::new(),
        infos: Vec::new(),
        objectives: Vec::new(),
        watch: crate::release::WatchSettings::default(),
        recovery: Duration::from_secs(600),
        queries_per_hour: 10,
    };
    let facts = page_facts(&store, &config.query(2 * H, &probes), now).expect("facts");
    let page = build(&facts, &config.infos);
    let report = super::pages::report(&page);
    let hostile_probe = page
        .probes
        .iter()
        .find(|p| p.info.name.starts_with('<'))
        .expect("probe");
    let probe_page = super::pages::probe(&page, hostile_probe, super::html::Links::Served, true);
    for html in [&report, &probe_page] {
        assert!(!html.contains("<script"), "a script tag got through");
        assert!(!html.contains("<b>bold"), "markup in a name got through");
        assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;"));
    }
    assert!(probe_page.contains("body: &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(report.contains("href=\"#probe-%3Cb%3Ebold%3C%2Fb%3E\""));
    // No asset from anywhere else.
    assert!(!report.contains("src=") && !report.contains("href=\"http"));
}

#[test]
fn the_release_shows_its_decisions_and_each_probe_before_and_after() {
    let now = DEC_1 + 10 * H;
    let store = store(now);
    let started = now - H;
    let release = store
        .start_release("v2<i>", "v1", started, started + 24 * H)
        .expect("release");
    store
        .record_decision(
            release.id,
            now - 10 * M,
            "hold",
            "baseline <unhealthy>",
            &serde_json::json!({"x": 1}),
        )
        .expect("decision");
    let probes = vec!["flaky".to_string()];
    let watch = crate::release::WatchSettings {
        warmup: Duration::from_secs(600),
        baseline_window: Duration::from_secs(3600),
        ..crate::release::WatchSettings::default()
    };
    let query = query(&probes, &watch, &[]);
    let page = build(&page_facts(&store, &query, now).expect("facts"), &[]);
    let r = page.release.as_ref().expect("release");
    assert_eq!(r.version, "v2<i>");
    assert!(r.watching);
    assert_eq!(page.summary.release_under_watch.as_deref(), Some("v2<i>"));
    assert_eq!(r.warmup_end_ms, started + 10 * M);
    assert_eq!(
        (r.baseline_from_ms, r.baseline_to_ms),
        (started - H, started - 1)
    );
    assert_eq!(r.decisions.len(), 1);
    assert_eq!(r.decisions[0].outcome, "hold");
    let flaky = &r.probes[0];
    // The hour before: 60 runs, one failed (at :30); after the warm-up: 50 runs, one failed.
    assert_eq!((flaky.before_runs, flaky.after_runs), (60, 50));
    assert!((flaky.before_uptime.expect("before") - 59.0 / 0.6).abs() < 1e-9);
    let html = super::pages::release_body(&page);
    assert!(html.contains("<h1>Release v2&lt;i&gt;</h1>"));
    assert!(html.contains("baseline &lt;unhealthy&gt;"));
    assert_eq!(html.matches("<circle class=\"decision\"").count(), 1);
    assert_eq!((r.recovery_until_ms, &r.recovery), (None, &None));
    assert!(
        !html.contains("class=\"recovery\""),
        "no hook, no recovery window"
    );
}

#[test]
fn the_release_timeline_draws_the_recovery_window_and_its_outcome() {
    let now = DEC_1 + 10 * H;
    let store = store(now);
    let release = store
        .start_release("v2", "v1", now - H, now + 23 * H)
        .expect("release");
    let finished = now - 30 * M;
    store
        .claim_rollback(release.id, now - 32 * M)
        .expect("claim");
    store
        .finish_rollback(release.id, finished, &serde_json::json!({"exit": 0}))
        .expect("finish");
    let probes = vec!["flaky".to_string()];
    let watch = crate::release::WatchSettings::default();
    let page_at = |now| {
        build(
            &page_facts(&store, &query(&probes, &watch, &[]), now).expect("facts"),
            &[],
        )
    };
    // While no probe has been seen to pass: the window, waiting.
    let waiting = page_at(now);
    let r = waiting.release.as_ref().expect("release");
    assert_eq!(r.recovery_until_ms, Some(finished + 10 * M));
    assert_eq!(
        r.recovery_text().as_deref(),
        Some("recovery: a watched probe must pass by 2026-12-01T09:40:00Z; waiting")
    );
    let svg = super::svg::timeline(r, now);
    assert!(svg.contains("<rect class=\"recovery\""), "{svg}");
    assert!(svg.contains("fill=\"#eaeef2\"><title>recovery: a watched probe must pass by 2026-12-01T09:40:00Z; waiting</title>"));
    // Verified two minutes after the hook: the window ends there, green, and the page says so.
    store
        .record_decision(
            release.id,
            finished + 2 * M,
            crate::release::RECOVERY_VERIFIED,
            "flaky passed 120000 ms after the hook finished",
            &serde_json::json!({}),
        )
        .expect("decision");
    let verified = page_at(now);
    let r = verified.release.as_ref().expect("release");
    assert_eq!(
        r.recovery,
        Some((
            crate::release::RECOVERY_VERIFIED.to_string(),
            finished + 2 * M
        ))
    );
    let text = "recovery: a watched probe had to pass by 2026-12-01T09:40:00Z; verified at 2026-12-01T09:32:00Z";
    assert_eq!(r.recovery_text().as_deref(), Some(text));
    let html = super::pages::release_body(&verified);
    assert!(
        html.contains(&format!(
            "the hook finished at 2026-12-01T09:30:00Z; {text}"
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!("fill=\"#aceebb\"><title>{text}</title>")),
        "{html}"
    );
}
