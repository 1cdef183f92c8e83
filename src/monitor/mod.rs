//! The always-on monitor: one loop per scheduled probe, a bound on concurrent runs, the rolling query
//! budget, backoff after throttling, and every run recorded in the store exactly once.
//!
//! Time: each loop computes its next firing from the wall clock *after* the previous run, so a run that
//! outlasts its interval, or a stalled process, skips the missed ticks instead of firing a backlog; a probe's
//! runs never overlap (one loop, one run at a time). Latency is measured from the scheduled instant.

mod alerts;
mod burst_loop;
mod hook_task;
mod lead;
mod location_alerts;
mod outbox;
mod probe_loop;
mod shared;
mod slo_alerts;
mod tls_warnings;
mod watch;
mod writer;

pub use alerts::run_alert_loop;
pub use burst_loop::run_burst_loop;
pub use hook_task::{
    HOOK_FAILED, HOOK_INTERRUPTED, HOOK_OUTCOME_UNKNOWN, HOOK_SUCCEEDED, Hooks, Recorder,
};
pub use lead::{Lead, holder_name, run_lease_loop};
pub use outbox::{next_attempt, run_delivery_loop};
pub use probe_loop::{
    Firing, InFlight, admit, budget_skip_record, hand_over, next_firing, probe_span, run_probe_loop,
};
pub use shared::{AlertFeed, Shared, Shutdown, now_ms, store_task};
pub use slo_alerts::{SloAlerts, run_slo_alert_loop};
pub use watch::{RECOVERY_NOT_VERIFIED, RECOVERY_VERIFIED, WatchContext, run_watch_loop};
pub use writer::spawn_writer;
