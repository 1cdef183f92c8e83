//! Contract drift against the service's own OpenAPI document (pure): the document model (`document`), its
//! schemas walked as FastAPI writes them (`schema`), one probe compared with it (`compare`), findings and
//! their renderings (`finding`), and a response body validated against its operation's schema (`response`).
//! Depends on `assert`, `oews` and `probe` for what probes claim; no I/O.

mod compare;
mod document;
mod finding;
mod schema;

pub use compare::{compare, instance_path};
pub use document::{Document, DocumentError, Operation};
pub use finding::{DriftFinding, drift_json, drift_table};

#[cfg(test)]
mod tests;
