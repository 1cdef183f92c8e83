//! Telemetry (adapters): structured logs, the OpenTelemetry meter provider with its OTLP export and the
//! `/metrics` scrape, the metric names in one place, and secret redaction. Depends on `config`, `probe`,
//! `load` and `slo` types; nothing depends on it but `cmd`, `monitor` and the redaction helpers.

mod logging;
mod metrics;
#[cfg(test)]
mod metrics_tests;
pub mod names;
mod prometheus;
mod provider;
mod redact;
mod status_server;

pub use logging::{LogFormat, init_logging, say};
pub use metrics::Metrics;
pub use prometheus::{
    CONTENT_TYPE as PROMETHEUS_CONTENT_TYPE, label_name, metric_name, number as sample_text, render,
};
pub use provider::{EXPORT_ERROR_LOG_INTERVAL, Scrape, Telemetry};
pub use redact::{Redacted, is_sensitive_header};
pub use status_server::{LeaderSeen, Liveness, LoopGuard, serve};
