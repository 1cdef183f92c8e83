//! Runs one probe over HTTP and turns what happened into a `ProbeRecord` (the HTTP adapter).

use super::timing_client::{DnsFailure, Phases, ProbeClient};
use super::verdict::{HttpResponse, TransportFailure, evaluate};
use super::{FailureClass, ProbeRecord, ProbeSpec, RequestBody, Timings};
use crate::report::duration_text;
use std::error::Error as _;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The instant a run was due, on both clocks: latency is measured from it (no coordinated omission).
#[derive(Debug, Clone, Copy)]
pub struct Scheduled {
    pub at: Instant,
    pub wall: SystemTime,
}

impl Scheduled {
    pub fn now() -> Scheduled {
        Scheduled {
            at: Instant::now(),
            wall: SystemTime::now(),
        }
    }
}

/// Runs `spec` with `client` (built for this probe) against `target` and judges the outcome.
pub async fn execute(
    spec: &ProbeSpec,
    client: &ProbeClient,
    target: &url::Url,
    scheduled: Scheduled,
) -> ProbeRecord {
    let started = Instant::now();
    let http = client.start_run();
    let mut first_byte = None;
    let deadline = tokio::time::Instant::from_std(started + spec.request.timeout);
    let exchange = exchange(http, spec, target, started, &mut first_byte);
    let outcome = match tokio::time::timeout_at(deadline, exchange).await {
        Ok(outcome) => outcome,
        Err(_) => Err(timeout_failure(spec.request.timeout, first_byte.is_some())),
    };
    let finished = Instant::now();
    let latency = finished.saturating_duration_since(scheduled.at);
    let evaluation = evaluate(&spec.expect, &outcome, latency);
    let Phases {
        dns,
        dns_and_connect,
    } = client.phases();
    let (status, body_bytes) = match &outcome {
        Ok(r) => (Some(r.status), r.body.len() as u64),
        Err(_) => (None, 0),
    };
    ProbeRecord {
        probe: spec.name.clone(),
        target: target.as_str().trim_end_matches('/').to_string(),
        scheduled_at_ms: scheduled
            .wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        verdict: evaluation.verdict,
        class: evaluation.class,
        status,
        latency,
        timings: Timings {
            start_delay: started.saturating_duration_since(scheduled.at),
            dns,
            connect: dns_and_connect.map(|c| c.saturating_sub(dns.unwrap_or_default())),
            first_byte,
            total: finished.saturating_duration_since(started),
        },
        body_bytes,
        queries: spec.queries,
        findings: evaluation.findings,
    }
}

/// The URL of a probe's request: the target's base path joined with the probe's path.
pub fn request_url(target: &url::Url, path: &str) -> String {
    format!("{}{}", target.as_str().trim_end_matches('/'), path)
}

async fn exchange(
    client: &reqwest::Client,
    spec: &ProbeSpec,
    target: &url::Url,
    started: Instant,
    first_byte: &mut Option<Duration>,
) -> Result<HttpResponse, TransportFailure> {
    let method = reqwest::Method::from_bytes(spec.request.method.as_bytes()).map_err(|e| {
        TransportFailure {
            class: FailureClass::Network,
            detail: format!("bad method: {e}"),
        }
    })?;
    let mut request = client.request(method, request_url(target, &spec.request.path));
    let has_content_type = spec
        .request
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    if !has_content_type && spec.request.body.is_some() {
        request = request.header(reqwest::header::CONTENT_TYPE, "application/json");
    }
    for (name, value) in &spec.request.headers {
        request = request.header(name, value);
    }
    request = match &spec.request.body {
        Some(RequestBody::Json(value)) => {
            request.body(serde_json::to_vec(value).unwrap_or_default())
        }
        Some(RequestBody::Text(text)) => request.body(text.clone()),
        None => request,
    };
    let mut response = request
        .send()
        .await
        .map_err(|e| classify(&e, spec.request.connect_timeout))?;
    *first_byte = Some(started.elapsed());
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let cap = spec.expect.max_body;
    if response.content_length().is_some_and(|len| len > cap) {
        return Ok(HttpResponse {
            status,
            retry_after,
            body: Vec::new(),
            over_cap: true,
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| body_failure(&e, status))?
    {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > cap {
            return Ok(HttpResponse {
                status,
                retry_after,
                body,
                over_cap: true,
            });
        }
    }
    Ok(HttpResponse {
        status,
        retry_after,
        body,
        over_cap: false,
    })
}

fn timeout_failure(timeout: Duration, got_headers: bool) -> TransportFailure {
    let stage = if got_headers {
        "the body did not complete"
    } else {
        "no response headers"
    };
    TransportFailure {
        class: FailureClass::Timeout,
        detail: format!(
            "no complete response within {} ({stage})",
            duration_text(timeout)
        ),
    }
}

fn body_failure(e: &reqwest::Error, status: u16) -> TransportFailure {
    TransportFailure {
        class: FailureClass::InvalidBody,
        detail: format!(
            "status {status}, but the body was cut off: {}",
            chain_text(e)
        ),
    }
}

/// Maps a client error to a failure class by what its source chain says.
fn classify(e: &reqwest::Error, connect_timeout: Duration) -> TransportFailure {
    let text = chain_text(e);
    let has_dns_failure = {
        let mut source = e.source();
        let mut found = false;
        while let Some(s) = source {
            found |= s.downcast_ref::<DnsFailure>().is_some();
            source = s.source();
        }
        found
    };
    let io_kinds = io_error_kinds(e);
    let lower = text.to_ascii_lowercase();
    let (class, detail) = if has_dns_failure || lower.contains("dns error") {
        (FailureClass::Dns, text)
    } else if io_kinds.contains(&std::io::ErrorKind::ConnectionRefused) {
        (
            FailureClass::ConnectRefused,
            format!("connection refused: {text}"),
        )
    } else if e.is_connect() && e.is_timeout() {
        (
            FailureClass::ConnectTimeout,
            format!("no connection within {}", duration_text(connect_timeout)),
        )
    } else if (e.is_connect() && io_kinds.contains(&std::io::ErrorKind::InvalidData))
        || lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
    {
        // rustls reports handshake failures (bad certificate, not TLS at all) as InvalidData while connecting.
        (FailureClass::Tls, text)
    } else if e.is_timeout() {
        (FailureClass::Timeout, text)
    } else {
        (FailureClass::Network, text)
    };
    TransportFailure { class, detail }
}

/// The kinds of every I/O error in the chain, innermost last. `io::Error::source` skips the error it wraps,
/// so wrapped errors are entered through `get_ref`.
fn io_error_kinds(e: &reqwest::Error) -> Vec<std::io::ErrorKind> {
    let mut kinds = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        source = match s.downcast_ref::<std::io::Error>() {
            Some(io) => {
                kinds.push(io.kind());
                io.get_ref()
                    .map(|inner| inner as &(dyn std::error::Error + 'static))
            }
            None => s.source(),
        };
    }
    kinds
}

/// The error and its causes on one line, without repeats.
fn chain_text(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
