//! What is emailed besides probe alerts (pure): SLO burn-rate tier breaches and recoveries, and every
//! release-watch decision that is not a hold.

use super::Notice;
use crate::slo::{Evaluation, Severity, TierEvaluation, number};
use std::collections::HashMap;

/// The alert-state key of an objective's tier.
pub fn tier_key(objective: &str, tier: &str) -> String {
    format!("slo/{objective}/{tier}")
}

/// The tiers whose breach began or ended since `was_breached` (by [`tier_key`]; absent: not breached), with
/// the notice to send and the new state.
pub fn tier_notices(
    evaluations: &[Evaluation],
    was_breached: &HashMap<String, bool>,
) -> Vec<(String, bool, Notice)> {
    let mut out = Vec::new();
    for evaluation in evaluations {
        for tier in &evaluation.tiers {
            let key = tier_key(&evaluation.objective, &tier.tier.name);
            let before = was_breached.get(&key).copied().unwrap_or(false);
            if tier.breached() != before {
                out.push((key, tier.breached(), tier_notice(evaluation, tier)));
            }
        }
    }
    out
}

fn tier_notice(evaluation: &Evaluation, tier: &TierEvaluation) -> Notice {
    let (severity, what) = match (tier.breached(), tier.tier.severity) {
        (true, Severity::Page) => ("critical", "burning its error budget"),
        (true, Severity::Ticket) => ("warning", "burning its error budget"),
        (false, _) => ("resolved", "no longer burning"),
    };
    let rate = |r: Option<f64>| r.map_or("no data".to_string(), number);
    let budget = evaluation
        .budget
        .remaining
        .map_or("unknown".to_string(), |r| format!("{}%", number(r * 100.0)));
    Notice {
        severity,
        title: format!(
            "SLO {} tier {} ({}) {what}",
            evaluation.objective, tier.tier.name, tier.tier.severity
        ),
        lines: vec![
            format!(
                "burn rate over {}: {} (threshold {})",
                crate::slo::span_text(tier.tier.long),
                rate(tier.long.burn_rate),
                number(tier.tier.burn)
            ),
            format!(
                "burn rate over {}: {}",
                crate::slo::span_text(tier.tier.short),
                rate(tier.short.burn_rate)
            ),
            format!(
                "bad runs over {}: {} of {}",
                crate::slo::span_text(tier.tier.long),
                tier.long.counts.bad,
                tier.long.counts.conclusive()
            ),
            format!("error budget remaining: {budget}"),
        ],
    }
}

/// The notice for a recorded watch decision; `None` for holds (they change often and decide nothing).
pub fn decision_notice(
    outcome: &str,
    version: &str,
    rollback_to: &str,
    reason: &str,
) -> Option<Notice> {
    let (severity, title) = match outcome {
        "rollback" => (
            "critical",
            format!("release {version}: rollback to {rollback_to} called"),
        ),
        "would_rollback" => (
            "warning",
            format!("release {version}: rollback to {rollback_to} would be called (dry run)"),
        ),
        "hook_succeeded" => (
            "info",
            format!("release {version}: rollback hook succeeded"),
        ),
        "hook_failed" => (
            "critical",
            format!("release {version}: rollback hook FAILED"),
        ),
        "hook_interrupted" => (
            "critical",
            format!("release {version}: rollback hook INTERRUPTED"),
        ),
        "hook_outcome_unknown" => (
            "critical",
            format!("release {version}: rollback hook outcome UNKNOWN"),
        ),
        "recovery_verified" => ("info", format!("release {version}: recovery verified")),
        "recovery_not_verified" => (
            "critical",
            format!("release {version}: recovery NOT verified"),
        ),
        _ => return None,
    };
    Some(Notice {
        severity,
        title,
        lines: vec![format!("{outcome}: {reason}")],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::{Counts, ErrorBudget, Tier, TierState, WindowStat};
    use std::time::Duration;

    fn evaluation(breached: bool) -> Evaluation {
        let tier = Tier::new(
            "fast",
            Severity::Page,
            Duration::from_secs(3600),
            Duration::from_secs(300),
            14.4,
        );
        let target = 0.99;
        let long = WindowStat::new(tier.long, Counts::new(40, 10, 1), target);
        let short = WindowStat::new(tier.short, Counts::new(2, 3, 0), target);
        Evaluation {
            objective: "availability".into(),
            now_ms: 10,
            tiers: vec![TierEvaluation {
                tier,
                long,
                short,
                state: TierState {
                    breached_since: breached.then_some(5),
                    last_evaluated: 10,
                },
            }],
            budget: ErrorBudget::new(
                Duration::from_secs(30 * 86400),
                Counts::new(995, 5, 0),
                target,
            ),
        }
    }

    #[test]
    fn a_tier_notice_is_sent_when_a_breach_begins_and_when_it_ends() {
        let none = HashMap::new();
        let breached = HashMap::from([("slo/availability/fast".to_string(), true)]);
        let begins = tier_notices(&[evaluation(true)], &none);
        assert_eq!(begins.len(), 1);
        let (key, now, notice) = &begins[0];
        assert_eq!((key.as_str(), *now), ("slo/availability/fast", true));
        assert_eq!(notice.severity, "critical");
        assert_eq!(
            notice.title,
            "SLO availability tier fast (page) burning its error budget"
        );
        assert_eq!(
            notice.lines,
            [
                "burn rate over 1h: 20 (threshold 14.4)",
                "burn rate over 5m: 60",
                "bad runs over 1h: 10 of 50",
                "error budget remaining: 50%",
            ]
        );
        assert!(
            tier_notices(&[evaluation(true)], &breached).is_empty(),
            "told once"
        );
        let ends = tier_notices(&[evaluation(false)], &breached);
        assert_eq!(
            ends[0].2.title,
            "SLO availability tier fast (page) no longer burning"
        );
        assert_eq!((ends[0].1, ends[0].2.severity), (false, "resolved"));
        assert!(tier_notices(&[evaluation(false)], &none).is_empty());
    }

    #[test]
    fn every_decision_but_a_hold_is_emailed() {
        let cases = [
            (
                "rollback",
                Some(("critical", "release v2: rollback to v1 called")),
            ),
            (
                "would_rollback",
                Some((
                    "warning",
                    "release v2: rollback to v1 would be called (dry run)",
                )),
            ),
            (
                "hook_succeeded",
                Some(("info", "release v2: rollback hook succeeded")),
            ),
            (
                "hook_failed",
                Some(("critical", "release v2: rollback hook FAILED")),
            ),
            (
                "recovery_verified",
                Some(("info", "release v2: recovery verified")),
            ),
            (
                "recovery_not_verified",
                Some(("critical", "release v2: recovery NOT verified")),
            ),
            (
                "hook_interrupted",
                Some(("critical", "release v2: rollback hook INTERRUPTED")),
            ),
            (
                "hook_outcome_unknown",
                Some(("critical", "release v2: rollback hook outcome UNKNOWN")),
            ),
            ("hold", None),
        ];
        for (outcome, expected) in cases {
            let notice = decision_notice(outcome, "v2", "v1", "why");
            assert_eq!(
                notice.as_ref().map(|n| (n.severity, n.title.as_str())),
                expected,
                "{outcome}"
            );
            if let Some(n) = notice {
                assert_eq!(n.lines, [format!("{outcome}: why")]);
            }
        }
    }
}
