//! Alerting: the pure per-probe alert state machine, grouping, silences and maintenance windows, email
//! rendering, and the compiled `[alert]` settings; and SMTP delivery (the one adapter here: lettre on tokio).
//! The daemon's wiring lives in `monitor::alerts` (the alert book and the outbox) and `monitor::outbox`
//! (delivery).

mod book;
mod email;
mod group;
mod notices;
mod settings;
mod silence;
mod smtp;
mod smtp_error;
#[cfg(test)]
mod smtp_tests;
mod state;

pub use book::{AlertBook, Due, DueItem, ProbeAlert};
pub use email::{
    AlertItem, EmailContext, Notice, RenderedEmail, order, render, render_notice, render_test,
};
pub use group::{GroupPolicy, Grouper, PendingEvent};
pub use notices::{decision_notice, tier_key, tier_notices};
pub use settings::{AlertSettings, MaintenanceWindow, RetryPolicy};
pub use silence::{Silence, silenced_by, window_open};
pub use smtp::{Mailer, SmtpSecurity, SmtpSettings, parse_mailbox};
pub use smtp_error::SmtpError;
pub use state::{AlertEvent, AlertPolicy, AlertState, step};
