//! `[alert]` compiled: when alerts fire and resolve, how they are grouped, where emails go, how undelivered
//! ones are retried, and the maintenance windows that silence them.

use super::{AlertPolicy, GroupPolicy, SmtpSettings};
use crate::schedule::CronSchedule;
use std::time::Duration;

/// Everything `[alert]` says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertSettings {
    pub policy: AlertPolicy,
    pub group: GroupPolicy,
    /// `None` without `[alert.smtp]`: alerts are still evaluated, but no email is sent.
    pub smtp: Option<SmtpSettings>,
    pub retry: RetryPolicy,
    pub maintenance: Vec<MaintenanceWindow>,
}

/// How the outbox retries an undelivered notification: the first retry after `initial`, each next one after
/// twice the last delay but at most `max`; after `give_up_after` the notification is marked failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial: Duration,
    pub max: Duration,
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            initial: Duration::from_secs(30),
            max: Duration::from_secs(30 * 60),
            give_up_after: Duration::from_secs(24 * 3600),
        }
    }
}

/// A recurring maintenance window: it opens at each firing of `schedule` and stays open for `duration`;
/// while it is open, alerts of `probes` (every probe when empty) are silenced.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceWindow {
    pub name: String,
    pub schedule: CronSchedule,
    pub duration: Duration,
    pub probes: Vec<String>,
    pub reason: Option<String>,
}
