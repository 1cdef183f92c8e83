//! Alerting (issue 5, in progress): the pure per-probe alert state machine. Grouping, silences, rendering
//! and SMTP delivery with a durable outbox are still to come.

mod state;

pub use state::{AlertEvent, AlertPolicy, AlertState, step};
