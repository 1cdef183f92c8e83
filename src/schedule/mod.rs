//! Scheduling: cron schedules, jitter, the query budget and backoff decisions (pure), used by the daemon.

mod cron_spec;
mod policy;

pub use cron_spec::CronSchedule;
pub use policy::{admits, backoff, jitter};
