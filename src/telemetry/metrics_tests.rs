//! The metrics handle through the pull reader and the Prometheus rendering: what each API call shows.

use super::Telemetry;

fn scrape(telemetry: &Telemetry) -> String {
    let scrape = telemetry.scrape().expect("a scrape reader");
    super::render(&scrape.collect().expect("collect"))
}

/// The sample lines starting with `prefix`, sorted (collection order is the SDK's).
fn lines_of<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut lines: Vec<&str> = text.lines().filter(|l| l.starts_with(prefix)).collect();
    lines.sort();
    lines
}

#[test]
fn notification_decision_and_state_apis_show_in_the_exposition() {
    let target = url::Url::parse("http://127.0.0.1:9").expect("url");
    let telemetry = Telemetry::start(None, &target, true, "eu-west").expect("start");
    let metrics = telemetry.metrics();
    metrics.notification_sent();
    metrics.notification_sent();
    metrics.notification_failed();
    metrics.set_notifications_queued(3);
    metrics.rollback_decision("would_rollback");
    metrics.rollback_decision("hold");
    metrics.rollback_decision("hold");
    metrics.set_watch_active(true);
    metrics.set_leader(false);
    metrics.set_queries_remaining(2);
    let text = scrape(&telemetry);
    assert_eq!(
        lines_of(&text, "oewsprobe_leader"),
        ["oewsprobe_leader{oewsprobe_location=\"eu-west\"} 0"]
    );
    assert_eq!(
        lines_of(&text, "oewsprobe_notifications"),
        [
            "oewsprobe_notifications_failed_total{oewsprobe_location=\"eu-west\"} 1",
            "oewsprobe_notifications_queued{oewsprobe_location=\"eu-west\"} 3",
            "oewsprobe_notifications_sent_total{oewsprobe_location=\"eu-west\"} 2",
        ],
        "{text}"
    );
    assert_eq!(
        lines_of(&text, "oewsprobe_rollback_decisions_total"),
        [
            "oewsprobe_rollback_decisions_total{oewsprobe_location=\"eu-west\",oewsprobe_outcome=\"hold\"} 2",
            "oewsprobe_rollback_decisions_total{oewsprobe_location=\"eu-west\",oewsprobe_outcome=\"would_rollback\"} 1",
        ]
    );
    assert_eq!(
        lines_of(&text, "oewsprobe_release_watch_active"),
        ["oewsprobe_release_watch_active{oewsprobe_location=\"eu-west\"} 1"]
    );
    assert_eq!(
        lines_of(&text, "oewsprobe_budget_queries_remaining"),
        ["oewsprobe_budget_queries_remaining{oewsprobe_location=\"eu-west\"} 2"]
    );
    // An outbox that is asked wins over a pushed size.
    metrics.observe_notifications_queued(|| 7);
    assert_eq!(
        lines_of(&scrape(&telemetry), "oewsprobe_notifications_queued"),
        ["oewsprobe_notifications_queued{oewsprobe_location=\"eu-west\"} 7"]
    );
    // The writer's queue, read at each collection.
    metrics.observe_records(|| (12, 5));
    let text = scrape(&telemetry);
    assert_eq!(
        lines_of(&text, "oewsprobe_records_waiting"),
        ["oewsprobe_records_waiting{oewsprobe_location=\"eu-west\"} 12"]
    );
    assert_eq!(
        lines_of(&text, "oewsprobe_records_dropped_total"),
        ["oewsprobe_records_dropped_total{oewsprobe_location=\"eu-west\"} 5"]
    );
}
