//! The bursts section over a real (in-memory) store: each of the latest bursts' own latency distribution, in
//! the model, the JSON and the page; and what is shown when no burst kept one (runs recorded before).

use super::PageConfig;
use super::html::Links;
use super::model::{BurstCurve, build};
use crate::happened::page_facts;
use crate::probe::{LatencyPercentiles, Verdict};
use crate::store::Store;
use crate::store::test_runs::run;
use std::time::Duration;

const M: u64 = 60_000;
/// 2026-12-01T10:00:00Z.
const NOW: u64 = 1_796_083_200_000 + 10 * 3_600_000;

/// Seven `q-burst` runs a minute apart, the last a minute ago: the oldest without a distribution when
/// `with_percentiles`, the others with p50 10 + i, p90 20 + i and p100 30 + i ms; the last one failed.
fn page(with_percentiles: bool) -> super::Page {
    let store = Store::in_memory().expect("store");
    let runs: Vec<_> = (0..7u64)
        .map(|i| {
            let verdict = if i == 6 { Verdict::Fail } else { Verdict::Pass };
            let mut r = run(
                "q-burst",
                NOW - (7 - i) * M,
                verdict,
                Duration::from_millis(30 + i),
            );
            let v = i as f64;
            r.latency_percentiles = (with_percentiles && i > 0).then(|| {
                LatencyPercentiles(vec![(0.5, 10.0 + v), (0.9, 20.0 + v), (1.0, 30.0 + v)])
            });
            r
        })
        .collect();
    store.insert_records(&runs).expect("insert");
    let config = PageConfig {
        probes: Vec::new(),
        bursts: vec!["q-burst".into()],
        infos: Vec::new(),
        objectives: Vec::new(),
        watch: crate::release::WatchSettings::default(),
        recovery: std::time::Duration::from_secs(600),
        queries_per_hour: 10,
    };
    let facts = page_facts(&store, &config.query(3_600_000, &[]), NOW).expect("facts");
    build(&facts, &config.infos)
}

#[test]
fn the_bursts_section_plots_each_of_the_latest_bursts_own_distribution() {
    let page = page(true);
    let b = &page.bursts[0];
    let at: Vec<u64> = b.latest.iter().map(|c| c.at_ms).collect();
    assert_eq!(
        at,
        [NOW - M, NOW - 2 * M, NOW - 3 * M, NOW - 4 * M, NOW - 5 * M]
    );
    assert_eq!(
        b.latest[0],
        BurstCurve {
            at_ms: NOW - M,
            verdict: "fail".into(),
            percentiles_ms: vec![(0.5, 16.0), (0.9, 26.0), (1.0, 36.0)],
        }
    );
    let json = serde_json::to_value(&page).expect("json");
    assert_eq!(
        json["bursts"][0]["latest"][1],
        serde_json::json!({"at_ms": NOW - 2 * M, "verdict": "pass", "percentiles_ms": [[0.5, 15.0], [0.9, 25.0], [1.0, 35.0]]})
    );
    let html = super::pages::overview_body(&page, Links::Served);
    assert!(html.contains(
        "<svg class=\"percentiles\" role=\"img\" width=\"720\" height=\"180\" viewBox=\"0 0 720 180\"><title>q-burst: latency by percentile of each of the 5 latest bursts</title>"
    ));
    assert_eq!(html.matches("<g class=\"burst ").count(), 5);
    assert_eq!(
        html.matches("opacity=\"0.5\"").count(),
        4,
        "the older ones faded"
    );
    // The newest: red, 39.6 ms at the top (36 × 1.1); x on a log scale of 1 / (1 − q) up to 10⁴.
    assert!(html.contains(
        "<g class=\"burst fail\" opacity=\"1\"><title>2026-12-01T09:59:00Z: fail, p50 16 ms, p90 26 ms, p100 36 ms</title>\
<polyline class=\"burst-curve\" stroke=\"#cf222e\" fill=\"none\" stroke-width=\"1.5\" points=\"71.2,99.4 190.0,61.5 700.0,23.6\"/>\
<circle cx=\"71.2\" cy=\"99.4\" r=\"2.5\" fill=\"#cf222e\"><title>p50: 16 ms</title></circle>"
    ));
    assert!(html.contains(
        "<table class=\"burst-percentiles\"><caption>latency by percentile, each of the 5 latest bursts</caption>\
<thead><tr><th>burst</th><th>verdict</th><th>p50</th><th>p90</th><th>p100</th></tr></thead>\
<tbody><tr><td>2026-12-01T09:59:00Z</td><td>fail</td><td>16 ms</td><td>26 ms</td><td>36 ms</td></tr>\
<tr><td>2026-12-01T09:58:00Z</td><td>pass</td><td>15 ms</td><td>25 ms</td><td>35 ms</td></tr>"
    ));
    assert!(!html.contains("slowest request per burst"));
}

#[test]
fn bursts_recorded_without_their_distribution_show_the_records_percentiles() {
    let page = page(false);
    let b = &page.bursts[0];
    assert_eq!(b.latest, []);
    assert_eq!(b.percentiles_ms.len(), crate::load::BURST_PERCENTILES.len());
    let html = super::pages::overview_body(&page, Links::Served);
    assert!(html.contains("<title>q-burst: latency by percentile</title>"));
    assert!(html.contains(
        "<table><caption>slowest request per burst, by percentile</caption><tr><td>p50</td>"
    ));
    assert!(html.contains("<tr><td>p99.9</td>"));
    assert!(!html.contains("<g class=\"burst "));
}
