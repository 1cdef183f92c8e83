//! `ProbeRecord`: the one result type every consumer (output, store, alerts, metrics, SLOs) reads.

use super::{FailureClass, Finding, Verdict};
use serde::Serialize;
use std::time::Duration;

/// Where the time of one run went. Phases the client could not observe are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timings {
    /// From the scheduled instant to the actual start (scheduler lateness).
    #[serde(serialize_with = "ms")]
    pub start_delay: Duration,
    /// Name resolution (absent for IP-literal targets and reused connections).
    #[serde(serialize_with = "opt_ms")]
    pub dns: Option<Duration>,
    /// TCP connect plus TLS handshake, after DNS.
    #[serde(serialize_with = "opt_ms")]
    pub connect: Option<Duration>,
    /// From the actual start to the response headers.
    #[serde(serialize_with = "opt_ms")]
    pub first_byte: Option<Duration>,
    /// From the actual start to the end of the body (or the failure).
    #[serde(serialize_with = "ms")]
    pub total: Duration,
}

/// One run of one probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeRecord {
    pub probe: String,
    pub target: String,
    /// Wall-clock time the run was scheduled for, in milliseconds since the Unix epoch.
    pub scheduled_at_ms: u64,
    pub verdict: Verdict,
    pub class: Option<FailureClass>,
    pub status: Option<u16>,
    /// From the scheduled instant to the end of the body: what a user waiting since then saw.
    #[serde(rename = "latency_ms", serialize_with = "ms")]
    pub latency: Duration,
    pub timings: Timings,
    pub body_bytes: u64,
    /// Valid queries this run spent.
    pub queries: u32,
    pub findings: Vec<Finding>,
    /// The `Retry-After` header of a throttled or at-capacity answer, verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<String>,
}

fn ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e3)
}

fn opt_ms<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => ms(d, s),
        None => s.serialize_none(),
    }
}
