//! Alerting: the pure per-probe alert state machine, grouping, silences and maintenance windows, email
//! rendering, and the compiled `[alert]` settings. The daemon's wiring lives in `monitor::alerts`, delivery
//! through the store's outbox in `monitor::outbox`.

mod book;
mod email;
mod group;
mod notices;
mod settings;
mod silence;
mod state;

pub use book::{AlertBook, Due, DueItem, ProbeAlert};
pub use email::{AlertItem, EmailContext, Notice, RenderedEmail, order, render, render_notice};
pub use group::{GroupPolicy, Grouper, PendingEvent};
pub use notices::{decision_notice, tier_key, tier_notices};
pub use settings::{AlertSettings, MaintenanceWindow, RetryPolicy};
pub use silence::{Silence, silenced_by, window_open};
pub use state::{AlertEvent, AlertPolicy, AlertState, step};
