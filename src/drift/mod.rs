//! Contract drift against the service's own OpenAPI document (pure): the document model (`document`), its
//! schemas walked as FastAPI writes them (`schema`), one probe compared with it (`compare`), findings and
//! their renderings (`finding`), and a response body validated against its operation's schema (`response`).
//! Depends on `assert`, `oews` and `probe` for what probes claim; no I/O.

mod compare;
mod document;
mod finding;
mod response;
mod schema;

pub use compare::compare;
pub use document::{Document, DocumentError, Operation, Violation, instance_path};
pub use finding::{DriftFinding, drift_json, drift_table, live_finding};
pub use response::response_findings;

#[cfg(test)]
mod tests;
