//! A probe run from several locations: its page lists them (latest verdict, last run, uptime over 24 h), the
//! JSON model carries them, and a probe run from one location shows no such table (its page as before).

use super::model::build;
use super::pages::probe_body;
use crate::happened::{PageQuery, page_facts};
use crate::probe::{ProbeRecord, Verdict};
use crate::store::Store;
use crate::store::test_runs::run;
use std::time::Duration;

const M: u64 = 60_000;
/// 2026-12-01T00:00:00Z.
const DEC_1: u64 = 1_796_083_200_000;

fn from(location: &str, probe: &str, at_ms: u64, verdict: Verdict) -> ProbeRecord {
    ProbeRecord {
        location: location.into(),
        ..run(probe, at_ms, verdict, Duration::from_millis(20))
    }
}

#[test]
fn a_probe_run_from_several_locations_lists_them_on_its_page_and_one_location_shows_none() {
    let now = DEC_1 + 10 * M + 500;
    let store = Store::in_memory().expect("store");
    let mut runs = Vec::new();
    for minute in 0..10 {
        let at = DEC_1 + minute * M;
        runs.push(from("eu-west", "health", at, Verdict::Fail));
        let verdict = if minute < 5 {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        runs.push(from("us-east", "health", at + 1_000, verdict));
        runs.push(from("us-east", "models", at, Verdict::Pass));
    }
    // A run from before locations were kept.
    runs.push(run(
        "health",
        DEC_1 - M,
        Verdict::Pass,
        Duration::from_millis(20),
    ));
    store.insert_records(&runs).expect("insert");
    let probes = vec!["health".to_string(), "models".to_string()];
    let watch = crate::release::WatchSettings::default();
    let query = PageQuery {
        probes: &probes,
        bursts: &[],
        objectives: &[],
        watch: &watch,
        recovery: Duration::from_secs(600),
        queries_per_hour: 10,
        window_ms: 3_600_000,
        detail: &[],
    };
    let page = build(&page_facts(&store, &query, now).expect("facts"), &[]);
    let health = &page.probes[0];
    let table = "<h2>Locations</h2><table class=\"locations\"><thead><tr><th>location</th><th>last</th>\
<th>last run</th><th>24h uptime</th></tr></thead><tbody>\
<tr><td>-</td><td>pass</td><td><span title=\"2026-11-30T23:59:00Z\">11m ago</span></td><td>100.00 % of 1</td></tr>\
<tr><td>eu-west</td><td>fail (server_error)</td><td><span title=\"2026-12-01T00:09:00Z\">1m ago</span></td><td>0.00 % of 10</td></tr>\
<tr><td>us-east</td><td>pass</td><td><span title=\"2026-12-01T00:09:01Z\">59s ago</span></td><td>50.00 % of 10</td></tr>\
</tbody></table>";
    let html = probe_body(&page, health);
    assert!(html.contains(table), "{html}");
    let json = serde_json::to_value(health).expect("json");
    assert_eq!(
        json["locations"][1],
        serde_json::json!({"location": "eu-west", "last_verdict": "fail", "last_class": "server_error",
            "last_at_ms": DEC_1 + 9 * M, "uptime_24h": 0.0, "conclusive_24h": 10})
    );
    let models = &page.probes[1];
    assert!(models.locations.is_empty());
    assert!(!probe_body(&page, models).contains("Locations"));
    assert!(
        serde_json::to_value(models)
            .expect("json")
            .get("locations")
            .is_none()
    );
}
