//! Runs one probe over HTTP and turns what happened into a `ProbeRecord` (the probe-run adapter).

use super::exchange::PreparedRequest;
use super::openapi::with_document;
use super::timing_client::{Phases, ProbeClient};
use super::verdict::{Asked, Evaluation, HttpResponse, TransportFailure, evaluate};
use super::{
    Caller, FailureClass, ProbeRecord, ProbeSpec, Timings, Verdict, handshake_finding, judge_tls,
    spent_queries,
};
use crate::tls::TlsFacts;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

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

/// Runs `spec` (prepared as `request`) with `client` (built for this probe) and judges the outcome for
/// `caller`. The record's `queries` is what the run spent ([`spent_queries`]).
pub async fn execute(
    spec: &ProbeSpec,
    request: &PreparedRequest,
    client: &ProbeClient,
    target: &url::Url,
    scheduled: Scheduled,
    caller: Caller,
) -> ProbeRecord {
    let started = Instant::now();
    let exchanged = request.send(client.start_run(), spec.expect.max_body).await;
    let finished = Instant::now();
    let latency = finished.saturating_duration_since(scheduled.at);
    let outcome = exchanged.outcome;
    let first_byte = exchanged.first_byte;
    let asked = Asked {
        request: request.line(),
        caller,
    };
    let evaluation = evaluate(&spec.expect, asked, &outcome, latency);
    let evaluation = with_document(spec, request.line(), target, &outcome, evaluation).await;
    let phases = client.phases();
    let (evaluation, tls) = with_tls(spec, &outcome, &phases, evaluation);
    let (status, body_bytes) = match &outcome {
        Ok(r) => (Some(r.status), r.body.len() as u64),
        Err(_) => (None, 0),
    };
    ProbeRecord {
        location: String::new(),
        latency_percentiles: None,
        probe: spec.name.clone(),
        target: target.as_str().trim_end_matches('/').to_string(),
        request: Some(request.request_line().clone()),
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
            dns: phases.dns,
            connect: phases.connect(),
            tls: phases.tls_handshake(),
            first_byte,
            total: finished.saturating_duration_since(started),
        },
        body_bytes,
        queries: spent_queries(spec.queries, status, evaluation.class),
        findings: evaluation.findings,
        retry_after: outcome.as_ref().ok().and_then(|r| r.retry_after.clone()),
        known_drift: Vec::new(),
        tls,
    }
}

/// The TLS facts of the run and the verdict with the certificate checks: a refused certificate replaces the
/// transport finding with its own; an answered run fails (class `tls`) or warns by `expect.tls`.
fn with_tls(
    spec: &ProbeSpec,
    outcome: &Result<HttpResponse, TransportFailure>,
    phases: &Phases,
    mut evaluation: Evaluation,
) -> (Evaluation, Option<TlsFacts>) {
    let Some(seen) = &phases.tls else {
        return (evaluation, None);
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut facts = TlsFacts {
        name: seen.name.clone(),
        version: seen.version.map(str::to_string),
        cipher: seen.cipher.clone(),
        certificates: seen
            .chain
            .iter()
            .enumerate()
            .filter_map(|(i, der)| crate::tls::certificate_facts(der, i == 0))
            .collect(),
        insecure: spec.request.tls.insecure,
        warnings: Vec::new(),
    };
    if let (Some(error), Err(_)) = (&seen.error, outcome) {
        evaluation.verdict = Verdict::Fail;
        evaluation.class = Some(FailureClass::Tls);
        evaluation.findings = vec![handshake_finding(error, &facts, now)];
        return (evaluation, Some(facts));
    }
    let judgement = judge_tls(&facts, &spec.expect.tls, now);
    if !judgement.failures.is_empty() && evaluation.verdict != Verdict::Inconclusive {
        if evaluation.verdict == Verdict::Pass {
            evaluation.class = Some(FailureClass::Tls);
        }
        evaluation.verdict = Verdict::Fail;
        evaluation.findings.extend(judgement.failures);
    }
    facts.warnings = judgement.warnings;
    (evaluation, Some(facts))
}
