//! Alerting (issue 5, in progress): the pure per-probe alert state machine and grouping. Silences, rendering
//! and SMTP delivery with a durable outbox are still to come.

mod group;
mod state;

pub use group::{GroupPolicy, Grouper, PendingEvent};
pub use state::{AlertEvent, AlertPolicy, AlertState, step};
