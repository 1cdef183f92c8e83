//! Alerting (issue 5, in progress): the pure per-probe alert state machine, grouping and email rendering;
//! the compiled `[alert]` settings; and SMTP delivery (the one adapter here: lettre on tokio).
//! Silences, the durable outbox and the daemon's wiring are still to come.

mod email;
mod group;
mod settings;
mod smtp;
mod smtp_error;
#[cfg(test)]
mod smtp_tests;
mod state;

pub use email::{AlertItem, EmailContext, RenderedEmail, order, render, render_test};
pub use group::{GroupPolicy, Grouper, PendingEvent};
pub use settings::{AlertSettings, MaintenanceWindow, RetryPolicy};
pub use smtp::{Mailer, SmtpSecurity, SmtpSettings, parse_mailbox, read_ca_file};
pub use smtp_error::SmtpError;
pub use state::{AlertEvent, AlertPolicy, AlertState, step};
