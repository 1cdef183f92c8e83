//! A probe run for the store's tests: what a test varies is given, the rest is fixed (a failure is a 500 of
//! class `server_error`; the request is `GET /PROBE` on the target).

use crate::probe::{FailureClass, ProbeRecord, RequestLine, Timings, Verdict};
use std::time::Duration;

pub fn run(probe: &str, at_ms: u64, verdict: Verdict, latency: Duration) -> ProbeRecord {
    ProbeRecord {
        location: String::new(),
        latency_percentiles: None,
        probe: probe.into(),
        target: "http://127.0.0.1:8000".into(),
        request: Some(RequestLine {
            method: "GET".into(),
            url: format!("http://127.0.0.1:8000/{probe}"),
        }),
        scheduled_at_ms: at_ms,
        verdict,
        class: (verdict == Verdict::Fail).then_some(FailureClass::ServerError),
        status: Some(if verdict == Verdict::Fail { 500 } else { 200 }),
        latency,
        timings: Timings::default(),
        body_bytes: 10,
        queries: 0,
        findings: vec![],
        retry_after: None,
        known_drift: Vec::new(),
        tls: None,
    }
}
