//! Whole watches over a manual clock: probe runs every minute from six hours before a release, the daemon's
//! loop (observe, measure, decide, record the idempotency key) every minute, and faults at chosen times.

use super::decision_tests::{MINUTE, T0, at};
use super::*;
use crate::probe::{FailureClass, Verdict};
use crate::release::FleetHealth;
use crate::slo::{Objective, Observation, Sli, TierState, default_tiers};
use std::time::Duration;

struct Outcome {
    /// Minutes (after T0) at which the hook was called.
    hook_calls: Vec<i64>,
    /// Minutes at which a dry run would have rolled back.
    would: Vec<i64>,
    /// The decision's text at each minute from the release on.
    texts: Vec<(i64, String)>,
}

impl Outcome {
    fn text_at(&self, minute: i64) -> &str {
        &self
            .texts
            .iter()
            .find(|(m, _)| *m == minute)
            .expect("decided")
            .1
    }
}

fn objective() -> Objective {
    Objective {
        quorum: crate::fleet::Quorum::Majority,
        name: "queries".into(),
        probes: vec!["query-trace".into()],
        sli: Sli::Availability,
        target: 0.99,
        period: Duration::from_secs(30 * 24 * 3600),
        tiers: default_tiers(),
        min_bad: 3,
    }
}

/// Runs the watch from T0 − 6 h, `fault` giving what `query-trace` returns at each minute after the release
/// (`health` is hit too when the class is a monitor-side one), to T0 + `end` minutes; `restart_at`: the daemon loses its tier states then.
fn watch(
    fault: impl Fn(i64) -> Option<(Verdict, FailureClass)>,
    settings: WatchSettings,
    watch_minutes: i64,
    end: i64,
    restart_at: Option<i64>,
) -> Outcome {
    let objective = objective();
    let release = Release {
        version: "main-b2".into(),
        rollback_to: "main-a1".into(),
        started_at_ms: T0,
        until_ms: at(watch_minutes),
    };
    let mut observations = Vec::new();
    let mut states: Vec<TierState> = Vec::new();
    let mut key_written = false;
    let mut outcome = Outcome {
        hook_calls: vec![],
        would: vec![],
        texts: vec![],
    };
    for minute in -360..=end {
        let now = at(minute);
        for probe in ["query-trace", "health"] {
            let (verdict, class) =
                fault(minute).map_or((Verdict::Pass, None), |(v, c)| (v, Some(c)));
            let hit =
                probe == "query-trace" || class.is_some_and(|c| MONITOR_SIDE_CLASSES.contains(&c));
            observations.push(Observation {
                at_ms: now,
                probe: probe.into(),
                verdict: if hit { verdict } else { Verdict::Pass },
                class: if hit { class } else { None },
                latency: Duration::from_secs(2),
            });
        }
        if restart_at == Some(minute) {
            states.clear();
        }
        let view =
            ObjectiveWatch::observe(&objective, &observations, &states, &release, &settings, now);
        states = view.tiers.iter().map(|t| t.state).collect();
        if minute < 0 {
            continue;
        }
        let input = WatchInput {
            release: release.clone(),
            settings: settings.clone(),
            now_ms: now,
            objectives: vec![view],
            prober: ProberHealth::measure(&observations, now, settings.prober_window),
            already_rolled_back: key_written,
        };
        let decision = decide(&input);
        match &decision {
            Decision::Rollback { .. } => {
                key_written = true; // before the hook runs
                outcome.hook_calls.push(minute);
            }
            Decision::WouldRollback { .. } => outcome.would.push(minute),
            Decision::Hold { .. } => {}
        }
        outcome.texts.push((minute, decision.to_string()));
    }
    outcome
}

fn armed() -> WatchSettings {
    WatchSettings {
        dry_run: false,
        ..WatchSettings::default()
    }
}

fn server_error_from(start: i64) -> impl Fn(i64) -> Option<(Verdict, FailureClass)> {
    move |m| (m >= start).then_some((Verdict::Fail, FailureClass::ServerError))
}

#[test]
fn a_fault_after_the_release_calls_the_hook_exactly_once() {
    let outcome = watch(server_error_from(30), armed(), 24 * 60, 180, None);
    // Nine failures of sixty runs in the hour cross 14.4×: at minute 38.
    assert_eq!(outcome.hook_calls, [38]);
    assert_eq!(outcome.text_at(37), "hold: no page-level SLO breach");
    assert!(outcome.text_at(38).starts_with(
        "roll back main-b2 to main-a1: \"queries\" page-1h breached since 2027-01-15T08:38:00Z: 15× over 1h (9 bad of 60)"
    ));
    assert_eq!(
        outcome.text_at(39),
        "hold: a rollback was already recorded for this release; the hook runs at most once"
    );
}

#[test]
fn a_daemon_restart_after_the_rollback_does_not_repeat_it() {
    // The idempotency key is what prevents the repeat; losing the tier states must not matter.
    let outcome = watch(server_error_from(30), armed(), 24 * 60, 120, Some(60));
    assert_eq!(outcome.hook_calls, [38]);
}

#[test]
fn a_release_broken_from_the_start_rolls_back_once_the_warm_up_is_clear() {
    let outcome = watch(server_error_from(1), armed(), 24 * 60, 60, None);
    assert_eq!(
        outcome.text_at(12),
        "hold: the breach of \"queries\" (page-1h) is not yet confirmed by data from after the warm-up: its 5m \
         short window clears the warm-up at 2027-01-15T08:15:00Z"
    );
    assert_eq!(outcome.hook_calls, [15]);
}

#[test]
fn a_fault_already_there_before_the_release_never_rolls_back() {
    let outcome = watch(server_error_from(-40), armed(), 24 * 60, 180, None);
    assert_eq!(outcome.hook_calls, [] as [i64; 0]);
    assert_eq!(
        outcome.text_at(30),
        "hold: the breach of \"queries\" began before the release (at 2027-01-15T07:28:00Z) — a monitor or \
         config problem, not a regression"
    );
}

#[test]
fn a_restart_cannot_make_an_old_breach_look_new() {
    let outcome = watch(server_error_from(-40), armed(), 24 * 60, 120, Some(60));
    assert_eq!(outcome.hook_calls, [] as [i64; 0]);
    assert_eq!(
        outcome.text_at(60),
        "hold: \"queries\" was breaching a page tier when the release started — a monitor or config problem, \
         not a regression"
    );
}

#[test]
fn only_throttling_after_the_release_never_rolls_back() {
    let throttled = |m: i64| (m >= 30).then_some((Verdict::Inconclusive, FailureClass::Throttled));
    let outcome = watch(throttled, armed(), 24 * 60, 180, None);
    assert_eq!(outcome.hook_calls, [] as [i64; 0]);
    assert_eq!(outcome.text_at(180), "hold: no page-level SLO breach");
}

#[test]
fn the_monitors_own_network_down_never_rolls_back() {
    let dns = |m: i64| (m >= 30).then_some((Verdict::Fail, FailureClass::Dns));
    let outcome = watch(dns, armed(), 24 * 60, 180, None);
    assert_eq!(outcome.hook_calls, [] as [i64; 0]);
    assert!(
        outcome
            .text_at(60)
            .starts_with("hold: the prober itself looks unhealthy: all 10 runs in the last 5m")
    );
}

#[test]
fn a_stopped_container_is_not_the_monitors_network() {
    let refused = |m: i64| (m >= 30).then_some((Verdict::Fail, FailureClass::ConnectRefused));
    let outcome = watch(refused, armed(), 24 * 60, 60, None);
    assert_eq!(outcome.hook_calls, [38]);
}

#[test]
fn dry_run_records_instead_of_calling_the_hook() {
    let outcome = watch(
        server_error_from(30),
        WatchSettings::default(),
        24 * 60,
        60,
        None,
    );
    assert_eq!(outcome.hook_calls, [] as [i64; 0]);
    assert_eq!(outcome.would.first(), Some(&38));
    assert!(
        outcome
            .text_at(38)
            .starts_with("dry run: would roll back main-b2 to main-a1: ")
    );
}

#[test]
fn after_the_watch_window_nothing_rolls_back() {
    let outcome = watch(server_error_from(150), armed(), 120, 200, None);
    assert_eq!(outcome.hook_calls, [] as [i64; 0]);
    assert_eq!(
        outcome.text_at(200),
        "hold: the watch ended at 2027-01-15T10:00:00Z"
    );
}

#[test]
fn prober_health_counts_every_probe_and_only_monitor_side_classes() {
    let run = |at_ms: u64, verdict, class| Observation {
        at_ms,
        probe: "any".into(),
        verdict,
        class,
        latency: Duration::ZERO,
    };
    let observations = vec![
        run(T0 - 5 * MINUTE, Verdict::Fail, Some(FailureClass::Dns)), // outside (T0 − 5m, T0]
        run(T0 - MINUTE, Verdict::Fail, Some(FailureClass::Dns)),
        run(
            T0 - MINUTE,
            Verdict::Fail,
            Some(FailureClass::ConnectTimeout),
        ),
        run(T0 - MINUTE, Verdict::Fail, Some(FailureClass::Network)),
        run(T0, Verdict::Fail, Some(FailureClass::ConnectRefused)),
        run(T0, Verdict::Inconclusive, Some(FailureClass::Throttled)),
    ];
    let health = ProberHealth::measure(&observations, T0, Duration::from_secs(300));
    assert_eq!((health.runs, health.monitor_side_failures), (5, 3));
    assert!(health.is_healthy());
    let down = ProberHealth::measure(&observations[..4], T0, Duration::from_secs(300));
    assert_eq!((down.runs, down.monitor_side_failures), (3, 3));
    assert!(!down.is_healthy());
    assert!(!ProberHealth::measure(&[], T0, Duration::from_secs(300)).is_healthy());
}

#[test]
fn a_location_whose_prober_is_unhealthy_is_left_out_and_one_location_is_judged_as_before() {
    let run = |class: Option<FailureClass>| Observation {
        at_ms: T0 - MINUTE,
        probe: "health".into(),
        verdict: if class.is_some() {
            Verdict::Fail
        } else {
            Verdict::Pass
        },
        class,
        latency: Duration::ZERO,
    };
    let window = Duration::from_secs(300);
    let dns = Some(FailureClass::Dns);
    let fleet = [
        ("eu-west", run(dns)),
        ("eu-west", run(dns)),
        ("us-east", run(None)),
        ("us-east", run(Some(FailureClass::ServerError))),
    ];
    let health = FleetHealth::measure(&fleet, T0, window);
    assert_eq!(health.left_out, ["eu-west".to_string()].into());
    assert_eq!(
        (health.overall.runs, health.overall.monitor_side_failures),
        (2, 0)
    );
    assert!(health.overall.is_healthy());
    // Every location down: nobody is left out, and the guard holds as with one agent.
    let down = FleetHealth::measure(&fleet[..2], T0, window);
    assert!(down.left_out.is_empty());
    assert!(!down.overall.is_healthy());
    // One location: exactly the prober's health as before locations.
    let one: Vec<(&str, Observation)> = fleet.iter().map(|(_, o)| ("", o.clone())).collect();
    let all: Vec<Observation> = fleet.iter().map(|(_, o)| o.clone()).collect();
    let single = FleetHealth::measure(&one, T0, window);
    assert_eq!(single.overall, ProberHealth::measure(&all, T0, window));
    assert!(single.left_out.is_empty());
}
