//! Alerting (issue 5, in progress): the pure per-probe alert state machine, grouping and email rendering.
//! Silences, SMTP delivery with a durable outbox and the daemon's wiring are still to come.

mod email;
mod group;
mod state;

pub use email::{AlertItem, EmailContext, RenderedEmail, order, render};
pub use group::{GroupPolicy, Grouper, PendingEvent};
pub use state::{AlertEvent, AlertPolicy, AlertState, step};
