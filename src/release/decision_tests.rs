//! `decide` as a table: one row per guard, the happy path, dry run, and combinations — each with the exact
//! text the operator reads. Times are minutes after a release started at 2027-01-15T08:00:00Z.

use super::*;
use crate::slo::{Counts, Severity, TierEvaluation, TierState, WindowStat, default_tiers};

pub(super) const T0: u64 = 1_800_000_000_000;
pub(super) const MINUTE: u64 = 60_000;

pub(super) fn at(minutes: i64) -> u64 {
    T0.checked_add_signed(minutes * MINUTE as i64)
        .expect("in range")
}

/// A tier of the default set (0: page-1h, 1: page-6h, 2: ticket-3d), breached since `since` or not.
pub(super) fn tier(
    index: usize,
    since: Option<u64>,
    long: Counts,
    short: Counts,
) -> TierEvaluation {
    let tier = default_tiers().remove(index);
    TierEvaluation {
        long: WindowStat::new(tier.long, long, 0.99),
        short: WindowStat::new(tier.short, short, 0.99),
        tier,
        state: TierState {
            breached_since: since,
            last_evaluated: 0,
        },
    }
}

/// An objective breached on its 1 h page tier since `since` (and its ticket tier, which never counts).
pub(super) fn breached(name: &str, since: Option<u64>) -> ObjectiveWatch {
    let quiet = Counts::new(60, 0, 0);
    ObjectiveWatch {
        objective: name.into(),
        tiers: vec![
            tier(0, since, Counts::new(40, 12, 0), Counts::new(0, 5, 0)),
            tier(1, None, quiet, quiet),
            tier(2, since, Counts::new(900, 12, 0), Counts::new(300, 12, 0)),
        ],
        since_warmup: Counts::new(15, 10, 2),
        baseline: ObjectiveBaseline {
            window: DEFAULT_BASELINE_WINDOW,
            breached_at_release: false,
            probes: vec![ProbeBaseline {
                probe: "query-trace".into(),
                counts: Counts::new(20, 0, 1),
            }],
        },
    }
}

/// Every guard holds: a real rollback at T0 + 30 m of a breach that began at T0 + 20 m.
pub(super) fn happy() -> WatchInput {
    WatchInput {
        release: Release {
            version: "main-b2".into(),
            rollback_to: "main-a1".into(),
            started_at_ms: T0,
            until_ms: at(24 * 60),
        },
        settings: WatchSettings {
            dry_run: false,
            ..WatchSettings::default()
        },
        now_ms: at(30),
        objectives: vec![breached("queries", Some(at(20)))],
        prober: ProberHealth {
            window: DEFAULT_PROBER_WINDOW,
            runs: 12,
            monitor_side_failures: 0,
        },
        already_rolled_back: false,
    }
}

const BREACH: &str = "\"queries\" page-1h breached since 2027-01-15T08:20:00Z: 23.077× over 1h (12 bad of 52), \
                      100× over 5m (5 bad of 5) after release main-b2 (started 2027-01-15T08:00:00Z)";

fn no_page_breach(o: &mut ObjectiveWatch) {
    o.tiers[0].state.breached_since = None;
}

#[test]
fn one_row_per_guard() {
    type Edit = fn(&mut WatchInput);
    let rollback = format!("roll back main-b2 to main-a1: {BREACH}");
    #[rustfmt::skip]
    let rows: Vec<(&str, Edit, String)> = vec![
        ("happy path", |_| {}, rollback.clone()),
        ("dry run", |i| i.settings.dry_run = true,
            format!("dry run: would roll back main-b2 to main-a1: {BREACH}")),
        ("already rolled back", |i| i.already_rolled_back = true,
            "hold: a rollback was already recorded for this release; the hook runs at most once".into()),
        ("dry run and already rolled back", |i| { i.settings.dry_run = true; i.already_rolled_back = true; },
            "hold: a rollback was already recorded for this release; the hook runs at most once".into()),
        ("watch ended", |i| i.now_ms = i.release.until_ms,
            "hold: the watch ended at 2027-01-16T08:00:00Z".into()),
        ("in warm-up", |i| i.now_ms = at(9),
            "hold: in the warm-up after the release until 2027-01-15T08:10:00Z".into()),
        ("before the release even started", |i| i.now_ms = at(-5),
            "hold: in the warm-up after the release until 2027-01-15T08:10:00Z".into()),
        ("prober's network down", |i| i.prober.monitor_side_failures = 12,
            "hold: the prober itself looks unhealthy: all 12 runs in the last 5m failed with monitor-side \
             network errors (dns, connect_timeout, network) — a monitor whose own network is down must not \
             roll back".into()),
        ("prober idle", |i| i.prober.runs = 0,
            "hold: the prober itself looks unhealthy: no probe ran in the last 5m".into()),
        ("one run reached the target: prober healthy", |i| i.prober.monitor_side_failures = 11, rollback.clone()),
        ("no breach", |i| no_page_breach(&mut i.objectives[0]), "hold: no page-level SLO breach".into()),
        ("only inconclusive since the warm-up", |i| {
            no_page_breach(&mut i.objectives[0]);
            i.objectives[0].since_warmup = Counts::new(0, 0, 7);
        }, "hold: only inconclusive results since the warm-up ended (7: throttled, at capacity or skipped for \
            budget) — they say nothing about the release".into()),
        ("no data since the warm-up", |i| {
            no_page_breach(&mut i.objectives[0]);
            i.objectives[0].since_warmup = Counts::default();
        }, "hold: no probe results since the warm-up ended".into()),
        ("breach began before the release", |i| i.objectives[0].tiers[0].state.breached_since = Some(at(-30)),
            "hold: the breach of \"queries\" began before the release (at 2027-01-15T07:30:00Z) — a monitor \
             or config problem, not a regression".into()),
        ("breached when the release started", |i| i.objectives[0].baseline.breached_at_release = true,
            "hold: \"queries\" was breaching a page tier when the release started — a monitor or config \
             problem, not a regression".into()),
        ("probe failing before the release", |i| i.objectives[0].baseline.probes[0].counts = Counts::new(3, 5, 0),
            "hold: probe \"query-trace\" of \"queries\" was failing before the release (5 bad of 8 conclusive \
             results) — a monitor or config problem, not a regression".into()),
        ("probe flaky but mostly passing before the release", |i| {
            i.objectives[0].baseline.probes[0].counts = Counts::new(5, 5, 0);
        }, rollback.clone()),
        ("baseline too thin", |i| i.objectives[0].baseline.probes[0].counts = Counts::new(2, 0, 9),
            "hold: probe \"query-trace\" of \"queries\" had 2 conclusive results before the release, fewer \
             than the 3 needed to tell a regression from a standing problem".into()),
        ("no baseline at all", |i| i.objectives[0].baseline.probes.clear(),
            "hold: \"queries\" has no pre-release baseline to tell a regression from a standing problem".into()),
        ("breach during warm-up, short window not yet clear of it", |i| {
            i.objectives[0].tiers[0].state.breached_since = Some(at(8));
            i.now_ms = at(12);
        }, "hold: the breach of \"queries\" (page-1h) is not yet confirmed by data from after the warm-up: \
            its 5m short window clears the warm-up at 2027-01-15T08:15:00Z".into()),
        ("two page tiers in warm-up: the sooner-confirmed one explains", |i| {
            i.objectives[0].tiers[0].state.breached_since = Some(at(9));
            i.objectives[0].tiers[1].state.breached_since = Some(at(8));
            i.now_ms = at(12);
        }, "hold: the breach of \"queries\" (page-1h) is not yet confirmed by data from after the warm-up: \
            its 5m short window clears the warm-up at 2027-01-15T08:15:00Z".into()),
        ("breach during warm-up, confirmed after it", |i| i.objectives[0].tiers[0].state.breached_since = Some(at(8)),
            rollback.replace("08:20:00Z", "08:08:00Z")),
        ("too few samples", |i| i.objectives[0].since_warmup = Counts::new(1, 3, 0),
            "hold: \"queries\" has 4 conclusive results since the warm-up ended, fewer than the 5 required".into()),
        ("inconclusive runs are not samples", |i| i.objectives[0].since_warmup = Counts::new(2, 2, 50),
            "hold: \"queries\" has 4 conclusive results since the warm-up ended, fewer than the 5 required".into()),
        ("watch ended outranks an unhealthy prober", |i| { i.now_ms = i.release.until_ms; i.prober.runs = 0; },
            "hold: the watch ended at 2027-01-16T08:00:00Z".into()),
        ("warm-up outranks a breach before the release", |i| {
            i.now_ms = at(5);
            i.objectives[0].tiers[0].state.breached_since = Some(at(-30));
        }, "hold: in the warm-up after the release until 2027-01-15T08:10:00Z".into()),
    ];
    for (label, edit, expected) in rows {
        let mut input = happy();
        edit(&mut input);
        let decision = decide(&input);
        assert_eq!(decision.to_string(), expected, "{label}");
        assert_eq!(
            decision.is_rollback(),
            expected.starts_with("roll back"),
            "{label}"
        );
    }
}

#[test]
fn only_the_ticket_tier_breached_is_no_breach() {
    let mut input = happy();
    no_page_breach(&mut input.objectives[0]);
    assert!(
        input.objectives[0].tiers[2].breached(),
        "the ticket tier is still breached"
    );
    assert_eq!(input.objectives[0].tiers[2].tier.severity, Severity::Ticket);
    assert_eq!(
        decide(&input),
        Decision::Hold {
            reason: HoldReason::NoBreach
        }
    );
}

#[test]
fn one_objective_broken_before_the_release_does_not_shield_a_regression_in_another() {
    let mut input = happy();
    input
        .objectives
        .insert(0, breached("health", Some(at(-90))));
    let Decision::Rollback { evidence, .. } = decide(&input) else {
        panic!("expected a rollback: {}", decide(&input));
    };
    let objectives: Vec<&str> = evidence
        .breaches
        .iter()
        .map(|b| b.objective.as_str())
        .collect();
    assert_eq!(objectives, ["queries"]);
}

#[test]
fn when_no_objective_qualifies_the_closest_one_explains() {
    let mut input = happy();
    input.objectives[0].since_warmup = Counts::new(1, 1, 0);
    input
        .objectives
        .insert(0, breached("health", Some(at(-90))));
    assert_eq!(
        decide(&input).to_string(),
        "hold: \"queries\" has 2 conclusive results since the warm-up ended, fewer than the 5 required"
    );
}

#[test]
fn evidence_is_the_json_the_hook_reads() {
    let Decision::Rollback { reason, evidence } = decide(&happy()) else {
        panic!("expected a rollback");
    };
    assert_eq!(reason, BREACH);
    let json = serde_json::to_value(&evidence).expect("serializes");
    let expected = serde_json::json!({
        "reason": BREACH,
        "dry_run": false,
        "decided_at_ms": at(30),
        "release": {"version": "main-b2", "rollback_to": "main-a1", "started_at_ms": T0, "until_ms": at(1440)},
        "warmup_ends_at_ms": at(10),
        "breaches": [{
            "objective": "queries",
            "tier": {"name": "page-1h", "severity": "page", "long": "1h", "short": "5m", "burn": 14.4},
            "breached_since_ms": at(20),
            "long": {"window": "1h", "counts": {"good": 40, "bad": 12, "inconclusive": 0},
                     "burn_rate": 12.0 / 52.0 / (1.0 - 0.99)},
            "short": {"window": "5m", "counts": {"good": 0, "bad": 5, "inconclusive": 0},
                      "burn_rate": 1.0 / (1.0 - 0.99)},
            "since_warmup": {"good": 15, "bad": 10, "inconclusive": 2},
            "baseline": [{"probe": "query-trace", "counts": {"good": 20, "bad": 0, "inconclusive": 1}}],
        }],
        "prober": {"window": "5m", "runs": 12, "monitor_side_failures": 0},
    });
    assert_eq!(json, expected);
}

#[test]
fn hold_reasons_serialize_with_their_name() {
    let json = serde_json::to_value(HoldReason::TooFewSamples {
        objective: "queries".into(),
        conclusive: 4,
        need: 5,
    })
    .expect("serializes");
    assert_eq!(
        json,
        serde_json::json!({"hold": "too_few_samples", "objective": "queries", "conclusive": 4, "need": 5})
    );
}

#[test]
fn dry_run_is_the_default() {
    assert!(WatchSettings::default().dry_run);
    let input = WatchInput {
        settings: WatchSettings::default(),
        ..happy()
    };
    assert!(matches!(decide(&input), Decision::WouldRollback { .. }));
}
