//! Compiled `[alert]` settings: the policies, SMTP delivery, outbox retries and maintenance windows.

use super::{AlertPolicy, GroupPolicy};
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct AlertSettings {
    pub policy: AlertPolicy,
    pub group: GroupPolicy,
    pub smtp: Option<()>,
    pub retry: RetryPolicy,
    pub maintenance: Vec<MaintenanceWindow>,
}

#[derive(Debug, Clone, PartialEq)]
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

#[derive(Debug, Clone)]
pub struct MaintenanceWindow {
    pub name: String,
    pub schedule: crate::schedule::CronSchedule,
    pub duration: Duration,
    pub probes: Vec<String>,
    pub reason: Option<String>,
}
