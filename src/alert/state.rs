//! Per-probe alert state (pure): when a probe's alert fires, reminds and resolves, from its verdicts and a
//! clock. Inconclusive runs neither fire nor resolve; a flapping probe cannot produce more than a bounded
//! number of notifications (it stays firing until `resolve_after` passes in a row, and reminds at most every
//! `remind_every`).

use crate::probe::Verdict;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::Duration;

/// When to fire and resolve.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertPolicy {
    /// Fire when this many of the last `window` conclusive runs failed (`window == fire_after`: in a row).
    pub fire_after: u32,
    pub window: u32,
    /// Resolve after this many passes in a row.
    pub resolve_after: u32,
    /// While firing, remind at most this often.
    pub remind_every: Duration,
    /// Notify when the alert resolves.
    pub send_resolved: bool,
}

impl Default for AlertPolicy {
    fn default() -> AlertPolicy {
        AlertPolicy {
            fire_after: 3,
            window: 3,
            resolve_after: 2,
            remind_every: Duration::from_secs(4 * 3600),
            send_resolved: true,
        }
    }
}

/// What a step asks to notify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertEvent {
    Firing,
    Reminder,
    Resolved,
}

/// One probe's alert state; serializable so it survives a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertState {
    /// The last `window` conclusive runs, oldest first: `true` for a failure.
    pub recent: VecDeque<bool>,
    /// Since when the alert fires, if it does.
    pub firing_since: Option<u64>,
    pub last_notified_at: Option<u64>,
    pub passes_in_a_row: u32,
}

impl AlertState {
    pub fn is_firing(&self) -> bool {
        self.firing_since.is_some()
    }
}

/// Folds one run's verdict at `now_ms` into `state`; returns the new state and what to notify, if anything.
pub fn step(
    policy: &AlertPolicy,
    state: &AlertState,
    verdict: Verdict,
    now_ms: u64,
) -> (AlertState, Option<AlertEvent>) {
    let mut next = state.clone();
    let failed = match verdict {
        Verdict::Inconclusive => return (next, None),
        Verdict::Fail => true,
        Verdict::Pass => false,
    };
    next.recent.push_back(failed);
    while next.recent.len() > policy.window.max(policy.fire_after) as usize {
        next.recent.pop_front();
    }
    next.passes_in_a_row = if failed { 0 } else { next.passes_in_a_row + 1 };
    if !next.is_firing() {
        let failures = next.recent.iter().filter(|f| **f).count() as u32;
        if failed && failures >= policy.fire_after {
            next.firing_since = Some(now_ms);
            next.last_notified_at = Some(now_ms);
            return (next, Some(AlertEvent::Firing));
        }
        return (next, None);
    }
    if !failed && next.passes_in_a_row >= policy.resolve_after {
        next.firing_since = None;
        next.recent.clear();
        if policy.send_resolved {
            next.last_notified_at = Some(now_ms);
            return (next, Some(AlertEvent::Resolved));
        }
        return (next, None);
    }
    let due = next
        .last_notified_at
        .is_none_or(|at| now_ms.saturating_sub(at) >= policy.remind_every.as_millis() as u64);
    if failed && due {
        next.last_notified_at = Some(now_ms);
        return (next, Some(AlertEvent::Reminder));
    }
    (next, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::{Fail as F, Inconclusive as I, Pass as P};

    const MINUTE: u64 = 60_000;

    /// Runs `verdicts` one a minute; returns the events with their minute.
    fn run(policy: &AlertPolicy, verdicts: &[Verdict]) -> Vec<(u64, AlertEvent)> {
        let mut state = AlertState::default();
        let mut events = Vec::new();
        for (minute, verdict) in verdicts.iter().enumerate() {
            let (next, event) = step(policy, &state, *verdict, minute as u64 * MINUTE);
            state = next;
            if let Some(e) = event {
                events.push((minute as u64, e));
            }
        }
        events
    }

    /// (name, policy, verdicts one a minute, expected events with their minute)
    type Case<'a> = (
        &'a str,
        &'a AlertPolicy,
        Vec<Verdict>,
        Vec<(u64, AlertEvent)>,
    );

    #[test]
    fn table() {
        let default = AlertPolicy::default();
        let three_of_five = AlertPolicy {
            window: 5,
            ..AlertPolicy::default()
        };
        let quiet = AlertPolicy {
            send_resolved: false,
            ..AlertPolicy::default()
        };
        let cases: [Case<'_>; 8] = [
            ("two failures do not fire", &default, vec![F, F, P], vec![]),
            (
                "three in a row fire once",
                &default,
                vec![F, F, F, F, F],
                vec![(2, AlertEvent::Firing)],
            ),
            (
                "inconclusive runs neither count nor break a streak",
                &default,
                vec![F, I, F, I, F],
                vec![(4, AlertEvent::Firing)],
            ),
            (
                "a pass breaks the streak",
                &default,
                vec![F, F, P, F, F],
                vec![],
            ),
            (
                "two passes resolve",
                &default,
                vec![F, F, F, P, P, P],
                vec![(2, AlertEvent::Firing), (4, AlertEvent::Resolved)],
            ),
            (
                "inconclusive runs never resolve",
                &default,
                vec![F, F, F, I, I, I, I],
                vec![(2, AlertEvent::Firing)],
            ),
            (
                "three of five",
                &three_of_five,
                vec![F, P, F, P, F],
                vec![(4, AlertEvent::Firing)],
            ),
            (
                "no resolved notice when off",
                &quiet,
                vec![F, F, F, P, P],
                vec![(2, AlertEvent::Firing)],
            ),
        ];
        for (name, policy, verdicts, expected) in cases {
            assert_eq!(run(policy, &verdicts), expected, "{name}");
        }
    }

    #[test]
    fn reminders_come_at_most_every_interval_while_firing() {
        let policy = AlertPolicy {
            remind_every: Duration::from_secs(600),
            ..AlertPolicy::default()
        };
        let events = run(&policy, &[F; 25]);
        assert_eq!(
            events,
            [
                (2, AlertEvent::Firing),
                (12, AlertEvent::Reminder),
                (22, AlertEvent::Reminder)
            ]
        );
    }

    #[test]
    fn a_flapping_probe_sends_a_bounded_number_of_notifications() {
        // 1000 minutes of pass/fail alternation, and of two fails then a pass.
        let alternating: Vec<Verdict> = (0..1000).map(|i| if i % 2 == 0 { F } else { P }).collect();
        assert!(
            run(&AlertPolicy::default(), &alternating).is_empty(),
            "never three in a row"
        );
        let three_of_five = AlertPolicy {
            window: 5,
            ..AlertPolicy::default()
        };
        let events = run(&three_of_five, &alternating);
        // It fires once and stays firing (never two passes in a row): a reminder every 4 h at most.
        assert_eq!(events.len(), 1 + 1000 / 240, "{events:?}");
        let two_fails_a_pass: Vec<Verdict> =
            (0..1000).map(|i| if i % 3 == 2 { P } else { F }).collect();
        assert_eq!(run(&three_of_five, &two_fails_a_pass).len(), 1 + 1000 / 240);
    }
}
