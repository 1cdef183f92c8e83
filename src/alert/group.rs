//! Grouping (pure): alert events that start together go out as one notification — when health is down and
//! every probe fails, that is one email, not eight — and later changes to an open group go out at most once
//! per group interval.

use super::AlertEvent;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct GroupPolicy {
    /// How long the first event of a new group waits for others to join it.
    pub group_wait: Duration,
    /// While a group is open (some of its alerts still fire), changes go out at most this often.
    pub group_interval: Duration,
}

impl Default for GroupPolicy {
    fn default() -> GroupPolicy {
        GroupPolicy {
            group_wait: Duration::from_secs(30),
            group_interval: Duration::from_secs(300),
        }
    }
}

/// One probe's event, waiting to be notified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEvent {
    pub probe: String,
    pub event: AlertEvent,
    pub at_ms: u64,
}

/// Events collected until their notification is due.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grouper {
    pending: Vec<PendingEvent>,
    last_sent_at: Option<u64>,
}

impl Grouper {
    /// Adds an event. A later event of the same probe replaces an earlier pending one — except that an unsent
    /// firing stays a firing (a reminder of it is news to no one), and an alert that fired and resolved before
    /// anyone was told is dropped altogether.
    pub fn push(&mut self, probe: &str, event: AlertEvent, at_ms: u64) {
        let unsent_firing = self
            .pending
            .iter()
            .any(|p| p.probe == probe && p.event == AlertEvent::Firing);
        if unsent_firing && event == AlertEvent::Reminder {
            return;
        }
        self.pending.retain(|p| p.probe != probe);
        if !(unsent_firing && event == AlertEvent::Resolved) {
            self.pending.push(PendingEvent {
                probe: probe.to_string(),
                event,
                at_ms,
            });
        }
    }

    /// The event of `probe` waiting to be notified, if any.
    pub fn pending_event(&self, probe: &str) -> Option<&PendingEvent> {
        self.pending.iter().find(|p| p.probe == probe)
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The events to notify together at `now_ms`, if their notification is due: a new group after its group
    /// wait, changes to an open group (`group_open`: some alert of it still fires) as soon as the group
    /// interval since the last notification is over — and never sooner than that, open or not.
    pub fn due(
        &mut self,
        policy: &GroupPolicy,
        now_ms: u64,
        group_open: bool,
    ) -> Option<Vec<PendingEvent>> {
        let first = self.pending.iter().map(|p| p.at_ms).min()?;
        // Never two notifications within a group interval, whatever the pattern of events: that bounds a
        // flapping probe's emails to one per group interval.
        let interval_over = self
            .last_sent_at
            .is_none_or(|sent| now_ms >= sent + policy.group_interval.as_millis() as u64);
        let waited = group_open && self.last_sent_at.is_some()
            || now_ms >= first + policy.group_wait.as_millis() as u64;
        let ready = interval_over && waited;
        if !ready {
            return None;
        }
        self.last_sent_at = Some(now_ms);
        Some(std::mem::take(&mut self.pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000;

    fn names(events: &[PendingEvent]) -> Vec<(&str, AlertEvent)> {
        events.iter().map(|e| (e.probe.as_str(), e.event)).collect()
    }

    #[test]
    fn alerts_that_start_together_are_one_notification() {
        let policy = GroupPolicy::default();
        let mut g = Grouper::default();
        for (i, probe) in ["health", "models", "query-trace", "reject-short-query"]
            .iter()
            .enumerate()
        {
            g.push(probe, AlertEvent::Firing, i as u64 * 5 * S);
        }
        assert_eq!(
            g.due(&policy, 29 * S, false),
            None,
            "the group waits 30 s for the rest of the outage"
        );
        let sent = g.due(&policy, 30 * S, false).expect("due");
        assert_eq!(sent.len(), 4);
        assert_eq!(g.due(&policy, 31 * S, true), None, "nothing left");
    }

    #[test]
    fn later_changes_to_an_open_group_wait_for_the_group_interval() {
        let policy = GroupPolicy::default();
        let mut g = Grouper::default();
        g.push("health", AlertEvent::Firing, 0);
        assert!(g.due(&policy, 30 * S, false).is_some());
        g.push("models", AlertEvent::Firing, 60 * S);
        g.push("health", AlertEvent::Resolved, 90 * S);
        assert_eq!(
            g.due(&policy, 200 * S, true),
            None,
            "within 5 min of the last notification"
        );
        let sent = g.due(&policy, 330 * S, true).expect("due");
        assert_eq!(
            names(&sent),
            [
                ("models", AlertEvent::Firing),
                ("health", AlertEvent::Resolved)
            ]
        );
    }

    #[test]
    fn an_alert_that_fires_and_resolves_before_anyone_is_told_is_not_sent() {
        let policy = GroupPolicy::default();
        let mut g = Grouper::default();
        g.push("health", AlertEvent::Firing, 0);
        g.push("health", AlertEvent::Resolved, 10 * S);
        assert_eq!(g.due(&policy, 40 * S, false), None);
        g.push("models", AlertEvent::Firing, 50 * S);
        g.push("models", AlertEvent::Reminder, 60 * S);
        let sent = g.due(&policy, 90 * S, false).expect("due");
        assert_eq!(
            names(&sent),
            [("models", AlertEvent::Firing)],
            "an unsent firing stays a firing"
        );
    }

    #[test]
    fn a_new_group_right_after_a_notification_waits_for_the_group_interval() {
        let policy = GroupPolicy::default();
        let mut g = Grouper::default();
        g.push("health", AlertEvent::Resolved, 0);
        assert!(g.due(&policy, 30 * S, false).is_some());
        g.push("health", AlertEvent::Firing, 40 * S);
        assert_eq!(
            g.due(&policy, 70 * S, false),
            None,
            "group wait over, group interval not"
        );
        assert!(g.due(&policy, 330 * S, false).is_some());
    }
}
