//! The alert book (pure): every probe's alert state, the group of events waiting to be told, silencing, and
//! the thread an incident's emails share. The daemon feeds it runs and asks it, each tick, what is due.
//!
//! What is persisted (per probe, as [`ProbeAlert`]) is enough to carry on after a restart: an event still
//! waiting in the group is re-queued, a silenced firing is still silenced, the incident's thread is kept.

use super::{AlertEvent, AlertPolicy, AlertState, GroupPolicy, Grouper, step};
use crate::probe::{FailureClass, Finding, Verdict};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One probe's alert, as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeAlert {
    pub state: AlertState,
    /// The event waiting in the group, with its instant.
    #[serde(default)]
    pub pending: Option<(AlertEvent, u64)>,
    /// Its firing was silenced: its reminders and resolution are silenced too, and it is announced when the
    /// silence ends while it still fires.
    #[serde(default)]
    pub silenced: bool,
    /// The latest failing run's class and findings, for the email.
    #[serde(default)]
    pub class: Option<FailureClass>,
    #[serde(default)]
    pub findings: Vec<Finding>,
}

/// One probe's part of a due notification.
#[derive(Debug, Clone, PartialEq)]
pub struct DueItem {
    pub probe: String,
    pub event: AlertEvent,
    pub class: Option<FailureClass>,
    pub findings: Vec<Finding>,
}

/// What is due at one tick: the items to send together, and those silenced (recorded, not sent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Due {
    pub send: Vec<DueItem>,
    pub silenced: Vec<(DueItem, String)>,
}

#[derive(Debug, Clone)]
pub struct AlertBook {
    policy: AlertPolicy,
    group: GroupPolicy,
    probes: BTreeMap<String, ProbeAlert>,
    grouper: Grouper,
    /// The Message-ID of the open incident's first email.
    thread: Option<String>,
    dirty: BTreeSet<String>,
}

impl AlertBook {
    /// A book carrying on from stored state: waiting events go back into the group.
    pub fn restore(
        policy: AlertPolicy,
        group: GroupPolicy,
        probes: BTreeMap<String, ProbeAlert>,
        thread: Option<String>,
    ) -> AlertBook {
        let mut grouper = Grouper::default();
        for (name, alert) in &probes {
            if let Some((event, at)) = alert.pending {
                grouper.push(name, event, at);
            }
        }
        AlertBook {
            policy,
            group,
            probes,
            grouper,
            thread,
            dirty: BTreeSet::new(),
        }
    }

    /// Folds one run in.
    pub fn observe(
        &mut self,
        probe: &str,
        verdict: Verdict,
        class: Option<FailureClass>,
        findings: &[Finding],
        now_ms: u64,
    ) {
        let alert = self.probes.entry(probe.to_string()).or_default();
        let (state, event) = step(&self.policy, &alert.state, verdict, now_ms);
        if state == alert.state && event.is_none() {
            return;
        }
        alert.state = state;
        if verdict == Verdict::Fail {
            alert.class = class;
            alert.findings = findings.to_vec();
        }
        if let Some(event) = event {
            self.grouper.push(probe, event, now_ms);
            alert.pending = self
                .grouper
                .pending_event(probe)
                .map(|p| (p.event, p.at_ms));
        }
        self.dirty.insert(probe.to_string());
        if self.grouper.is_empty() && self.firing().next().is_none() {
            self.thread = None;
        }
    }

    /// What is due at `now_ms`, if anything; `silenced_by` says what silences a probe now.
    pub fn due(
        &mut self,
        now_ms: u64,
        silenced_by: impl Fn(&str) -> Option<String>,
    ) -> Option<Due> {
        self.announce_unsilenced(now_ms, &silenced_by);
        let group_open = self.probes.values().any(|a| a.state.is_firing());
        let events = self.grouper.due(&self.group, now_ms, group_open)?;
        let mut due = Due::default();
        for pending in events {
            let Some(alert) = self.probes.get_mut(&pending.probe) else {
                continue;
            };
            alert.pending = None;
            self.dirty.insert(pending.probe.clone());
            let resolved = pending.event == AlertEvent::Resolved;
            let item = DueItem {
                probe: pending.probe.clone(),
                event: pending.event,
                class: if resolved { None } else { alert.class },
                findings: if resolved {
                    Vec::new()
                } else {
                    alert.findings.clone()
                },
            };
            let reason = silenced_by(&pending.probe).or_else(|| {
                (alert.silenced && pending.event != AlertEvent::Firing)
                    .then(|| "its alert was silenced when it fired".to_string())
            });
            alert.silenced = reason.is_some() && !resolved;
            match reason {
                Some(reason) => due.silenced.push((item, reason)),
                None => due.send.push(item),
            }
        }
        Some(due)
    }

    /// A silenced alert that still fires when its silence ends is announced (after the group wait).
    fn announce_unsilenced(&mut self, now_ms: u64, silenced_by: &impl Fn(&str) -> Option<String>) {
        for (name, alert) in &mut self.probes {
            if alert.silenced
                && alert.state.is_firing()
                && alert.pending.is_none()
                && silenced_by(name).is_none()
            {
                alert.silenced = false;
                self.grouper.push(name, AlertEvent::Firing, now_ms);
                alert.pending = Some((AlertEvent::Firing, now_ms));
                self.dirty.insert(name.clone());
            }
        }
    }

    /// The thread a new email joins (`In-Reply-To`), if an incident is open.
    pub fn thread(&self) -> Option<&str> {
        self.thread.as_deref()
    }

    /// After an email with `message_id` was written: it opens the thread if none is open, and the thread
    /// closes when nothing fires any more.
    pub fn written(&mut self, message_id: &str) {
        if self.thread.is_none() {
            self.thread = Some(message_id.to_string());
        }
        if !self.probes.values().any(|a| a.state.is_firing()) {
            self.thread = None;
        }
    }

    /// Whether a tick can have anything to do.
    pub fn has_work(&self) -> bool {
        !self.grouper.is_empty() || self.probes.values().any(|a| a.silenced)
    }

    /// The probes changed since the last call, to persist.
    pub fn take_dirty(&mut self) -> Vec<(String, ProbeAlert)> {
        std::mem::take(&mut self.dirty)
            .into_iter()
            .filter_map(|name| self.probes.get(&name).map(|a| (name, a.clone())))
            .collect()
    }

    pub fn firing(&self) -> impl Iterator<Item = &str> {
        self.probes
            .iter()
            .filter(|(_, a)| a.state.is_firing())
            .map(|(name, _)| name.as_str())
    }
}

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;
