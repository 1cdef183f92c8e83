//! The alert book's scenarios with a manual clock: grouping, threading, silences, restarts, flapping.

use super::*;
use crate::probe::{FailureClass, Finding, Verdict};

const S: u64 = 1_000;
const MIN: u64 = 60 * S;

fn book() -> AlertBook {
    AlertBook::restore(
        AlertPolicy::default(),
        GroupPolicy::default(),
        Default::default(),
        None,
    )
}

fn finding() -> Vec<Finding> {
    vec![Finding::new("status", None, "200", "502", None)]
}

fn fail(book: &mut AlertBook, probe: &str, at: u64) {
    book.observe(
        probe,
        Verdict::Fail,
        Some(FailureClass::ProxyBadGateway),
        &finding(),
        at,
    );
}

fn pass(book: &mut AlertBook, probe: &str, at: u64) {
    book.observe(probe, Verdict::Pass, None, &[], at);
}

fn never(_: &str) -> Option<String> {
    None
}

fn sent(due: &Due) -> Vec<(&str, AlertEvent)> {
    due.send
        .iter()
        .map(|i| (i.probe.as_str(), i.event))
        .collect()
}

const PROBES: [&str; 8] = [
    "health",
    "models",
    "query-trace",
    "query-charts-trace",
    "override-echo",
    "model-override",
    "reject-short-query",
    "reject-empty",
];

#[test]
fn health_down_is_one_notification_listing_every_probe() {
    let mut b = book();
    for minute in 0..3 {
        for (i, probe) in PROBES.iter().enumerate() {
            fail(&mut b, probe, minute * MIN + i as u64 * S);
        }
    }
    assert_eq!(
        b.due(2 * MIN + 29 * S, never),
        None,
        "waiting for the group"
    );
    let due = b.due(2 * MIN + 30 * S, never).expect("due");
    assert_eq!(due.send.len(), 8);
    assert!(
        due.send
            .iter()
            .all(|i| i.event == AlertEvent::Firing && i.findings == finding())
    );
    assert_eq!(b.due(3 * MIN, never), None, "told once");
}

#[test]
fn a_resolved_notice_threads_under_the_incident_then_the_thread_closes() {
    let mut b = book();
    for m in 0..3 {
        fail(&mut b, "health", m * MIN);
    }
    let due = b.due(2 * MIN + 30 * S, never).expect("firing");
    assert_eq!(sent(&due), [("health", AlertEvent::Firing)]);
    assert_eq!(b.thread(), None, "a new incident has no thread yet");
    b.written("<first>");
    assert_eq!(b.thread(), Some("<first>"));
    pass(&mut b, "health", 3 * MIN);
    pass(&mut b, "health", 4 * MIN);
    assert_eq!(b.due(4 * MIN + 29 * S, never), None);
    let due = b.due(7 * MIN + 30 * S, never).expect("resolved");
    assert_eq!(sent(&due), [("health", AlertEvent::Resolved)]);
    assert!(due.send[0].findings.is_empty());
    assert_eq!(
        b.thread(),
        Some("<first>"),
        "the resolved notice replies to the alert"
    );
    b.written("<second>");
    assert_eq!(
        b.thread(),
        None,
        "nothing fires: the next incident starts a new thread"
    );
}

#[test]
fn silenced_alerts_are_recorded_and_announced_when_the_silence_ends() {
    let mut b = book();
    let silence_until = 30 * MIN;
    let silenced = |_: &str| Some("silence #1".to_string());
    for m in 0..3 {
        fail(&mut b, "health", m * MIN);
    }
    let due = b.due(2 * MIN + 30 * S, silenced).expect("due");
    assert!(due.send.is_empty());
    assert_eq!(due.silenced.len(), 1);
    assert_eq!(due.silenced[0].1, "silence #1");
    assert_eq!(
        b.due(10 * MIN, silenced),
        None,
        "nothing more while silenced"
    );
    assert!(
        b.has_work(),
        "the silenced alert is watched for the silence's end"
    );
    let after = |now: u64| move |_: &str| (now < silence_until).then(|| "silence #1".to_string());
    assert_eq!(b.due(silence_until - 1, after(silence_until - 1)), None);
    // The group has been open for longer than the group interval: announced at once.
    let due = b
        .due(silence_until, after(silence_until))
        .expect("announced");
    assert_eq!(sent(&due), [("health", AlertEvent::Firing)]);
}

#[test]
fn the_resolution_of_a_silenced_alert_is_silenced_too() {
    let mut b = book();
    let silenced = |_: &str| Some("maintenance".to_string());
    for m in 0..3 {
        fail(&mut b, "health", m * MIN);
    }
    assert_eq!(b.due(3 * MIN, silenced).expect("due").silenced.len(), 1);
    pass(&mut b, "health", 4 * MIN);
    pass(&mut b, "health", 5 * MIN);
    assert_eq!(b.due(7 * MIN, never), None, "within the group interval");
    let due = b.due(8 * MIN, never).expect("resolved");
    assert!(due.send.is_empty(), "no one was told it fired");
    assert_eq!(due.silenced[0].1, "its alert was silenced when it fired");
}

#[test]
fn a_restart_requeues_what_was_waiting() {
    let mut b = book();
    for m in 0..3 {
        fail(&mut b, "health", m * MIN);
    }
    let stored: std::collections::BTreeMap<String, ProbeAlert> =
        b.take_dirty().into_iter().collect();
    assert!(b.take_dirty().is_empty(), "taken once");
    let json = serde_json::to_string(&stored).expect("json");
    let mut restarted = AlertBook::restore(
        AlertPolicy::default(),
        GroupPolicy::default(),
        serde_json::from_str(&json).expect("parse"),
        None,
    );
    let due = restarted
        .due(3 * MIN, never)
        .expect("due after the restart");
    assert_eq!(sent(&due), [("health", AlertEvent::Firing)]);
    pass(&mut restarted, "health", 4 * MIN);
    assert!(
        restarted.firing().eq(["health"]),
        "the alert state survived too"
    );
}

/// Emails sent while `health` alternates fail/pass once a minute for `minutes`.
fn emails_while_alternating(policy: AlertPolicy, minutes: u64) -> u64 {
    let mut b = AlertBook::restore(policy, GroupPolicy::default(), Default::default(), None);
    let mut emails = 0;
    for i in 0..minutes {
        let at = i * MIN;
        if i % 2 == 0 {
            fail(&mut b, "health", at)
        } else {
            pass(&mut b, "health", at)
        }
        if let Some(due) = b.due(at + 30 * S, never) {
            emails += u64::from(!due.send.is_empty());
        }
    }
    emails
}

#[test]
fn a_flapping_probe_sends_a_bounded_number_of_emails() {
    let minutes = 2000;
    // Alternating never gets 3 failures in a row: no email at all with the defaults.
    assert_eq!(emails_while_alternating(AlertPolicy::default(), minutes), 0);
    // 2 of 3 fires at once and never sees 2 passes in a row: one firing, then a reminder every 4 h.
    let policy = AlertPolicy {
        fire_after: 2,
        window: 3,
        ..AlertPolicy::default()
    };
    let emails = emails_while_alternating(policy, minutes);
    let bound = 1 + minutes * MIN / (4 * 60 * MIN);
    assert!(
        emails >= 1 && emails <= bound,
        "{emails} emails over {minutes} minutes; bound {bound}"
    );
}

#[test]
fn any_flapping_pattern_sends_at_most_one_email_per_group_interval() {
    let policy = AlertPolicy {
        fire_after: 2,
        window: 3,
        resolve_after: 1,
        ..AlertPolicy::default()
    };
    let mut b = AlertBook::restore(policy, GroupPolicy::default(), Default::default(), None);
    let mut seed = 0x9e37_79b9_u64;
    let (mut emails, mut events) = (0, 0);
    let minutes = 2_000;
    for i in 0..minutes {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let at = i * MIN;
        if seed % 10 < 7 {
            fail(&mut b, "health", at)
        } else {
            pass(&mut b, "health", at)
        }
        events += u64::from(b.has_work());
        for second in [0, 30] {
            if let Some(due) = b.due(at + second * S, never) {
                emails += u64::from(!due.send.is_empty());
            }
        }
    }
    let bound = 1 + minutes * MIN / (5 * MIN);
    assert!(
        events > bound,
        "the pattern flaps more often than the bound ({events} ticks with news)"
    );
    assert!(
        emails <= bound,
        "{emails} emails in {minutes} minutes; bound {bound}"
    );
}
