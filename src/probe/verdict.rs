//! The pure verdict function: one HTTP outcome and a probe's expectations in, verdict, class and findings out.

use super::throttled::{Caller, quoted_limit, throttled_note};
use super::{Expectations, FailureClass, Finding, Verdict};
use crate::report::duration_text;
use std::time::Duration;

/// What came back over HTTP, as far as the adapter got.
#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    pub status: u16,
    /// The `Retry-After` header, verbatim.
    pub retry_after: Option<String>,
    /// The body read (at most the cap plus one chunk).
    pub body: Vec<u8>,
    /// The body was longer than the cap; reading stopped.
    pub over_cap: bool,
}

impl HttpResponse {
    /// A response whose body is still to be read, given its declared length (`Content-Length`). One rule for
    /// both transports: a body declared longer than `cap` is over the cap at once, unread (so a server that
    /// declares more than it sends is `too_large` now, not a `timeout` later).
    pub fn headers_only(
        status: u16,
        retry_after: Option<String>,
        declared: Option<u64>,
        cap: u64,
    ) -> HttpResponse {
        HttpResponse {
            status,
            retry_after,
            body: Vec::new(),
            over_cap: declared.is_some_and(|len| len > cap),
        }
    }

    /// Appends a chunk of the body; true once the body exceeds `cap` (stop reading then).
    pub fn push_chunk(&mut self, chunk: &[u8], cap: u64) -> bool {
        self.body.extend_from_slice(chunk);
        self.over_cap = self.body.len() as u64 > cap;
        self.over_cap
    }
}

/// Why no response came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportFailure {
    pub class: FailureClass,
    /// What the client saw, for people: `connection refused (127.0.0.1:9)`.
    pub detail: String,
}

/// The verdict on one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub verdict: Verdict,
    pub class: Option<FailureClass>,
    pub findings: Vec<Finding>,
}

impl Evaluation {
    fn failed(class: FailureClass, findings: Vec<Finding>) -> Evaluation {
        Evaluation {
            verdict: Verdict::Fail,
            class: Some(class),
            findings,
        }
    }
}

/// What was asked, as findings name it: the request line as sent (`GET /api/v1/health`: the method, then the
/// path and query without the target's origin) and who asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asked<'a> {
    pub request: &'a str,
    pub caller: Caller,
}

/// Longest body excerpt quoted in a finding.
const EXCERPT_CHARS: usize = 120;

/// Judges one run. `latency` is measured from the scheduled start to the end of the body. The body is parsed
/// keeping only what the checks read ([`Expectations::need`]).
pub fn evaluate(
    expect: &Expectations,
    asked: Asked<'_>,
    outcome: &Result<HttpResponse, TransportFailure>,
    latency: Duration,
) -> Evaluation {
    judge(expect, asked, outcome, latency, BodyParse::Pruned)
}

/// [`evaluate`] with the body parsed whole: the reference it must agree with, for tests and benchmarks.
pub fn evaluate_full(
    expect: &Expectations,
    asked: Asked<'_>,
    outcome: &Result<HttpResponse, TransportFailure>,
    latency: Duration,
) -> Evaluation {
    judge(expect, asked, outcome, latency, BodyParse::Full)
}

/// How a body is parsed for the checks.
#[derive(Debug, Clone, Copy)]
enum BodyParse {
    /// Only what the checks read: [`crate::assert::parse_pruned`] with [`Expectations::need`].
    Pruned,
    /// The whole `Value`.
    Full,
}

fn judge(
    expect: &Expectations,
    asked: Asked<'_>,
    outcome: &Result<HttpResponse, TransportFailure>,
    latency: Duration,
    parse: BodyParse,
) -> Evaluation {
    let response = match outcome {
        Err(failure) => {
            let finding = Finding::new(
                "transport",
                None,
                "a response",
                failure.detail.clone(),
                failure.class.hint(),
            );
            return Evaluation::failed(failure.class, vec![finding]);
        }
        Ok(response) => response,
    };
    if !expect.status.matches(response.status) {
        return judge_unexpected_status(expect, asked, response);
    }
    if response.over_cap {
        let limit = format!("at most {} bytes", expect.max_body);
        let got = format!("more than {} bytes", expect.max_body);
        return Evaluation::failed(
            FailureClass::TooLarge,
            vec![Finding::new("size", None, limit, got, None)],
        );
    }
    let mut findings = Vec::new();
    if expect.needs_json() {
        let parsed = match parse {
            BodyParse::Pruned => crate::assert::parse_pruned(&response.body, &expect.need),
            BodyParse::Full => serde_json::from_slice(&response.body),
        };
        let body = match parsed {
            Ok(body) => body,
            Err(e) => {
                let actual = format!("invalid JSON ({e}): {}", body_excerpt(&response.body));
                let finding = Finding::new("body", None, "a JSON body", actual, None);
                return Evaluation::failed(FailureClass::InvalidBody, vec![finding]);
            }
        };
        for assertion in &expect.json {
            assertion.evaluate(&body, &mut findings);
        }
        if let Some(trace) = &expect.trace {
            crate::oews::check_trace(trace, &body, &mut findings);
        }
        for echo in &expect.echo {
            crate::oews::check_echo(echo, &body, &mut findings);
        }
        if let Some(validation) = &expect.validation_error {
            crate::oews::check_validation_error(
                validation,
                asked.request,
                response.status,
                Some(&body),
                &mut findings,
            );
        }
    }
    if let Some(bound) = expect.latency
        && latency > bound
    {
        let expected = format!("at most {}", duration_text(bound));
        findings.push(Finding::new(
            "latency",
            None,
            expected,
            duration_text(latency),
            None,
        ));
    }
    if findings.is_empty() {
        Evaluation {
            verdict: Verdict::Pass,
            class: None,
            findings,
        }
    } else {
        Evaluation::failed(FailureClass::Contract, findings)
    }
}

/// A status the probe does not accept: throttling and capacity are inconclusive, gateways and 5xx are
/// failures of their own class, anything else breaks the contract. The finding names the request; a 429's
/// quotes the body and advises [`Asked::caller`].
fn judge_unexpected_status(
    expect: &Expectations,
    asked: Asked<'_>,
    response: &HttpResponse,
) -> Evaluation {
    let status = response.status;
    let (verdict, class) = match status {
        429 => (Verdict::Inconclusive, FailureClass::Throttled),
        503 if response.retry_after.is_some() => (Verdict::Inconclusive, FailureClass::AtCapacity),
        502 | 504 => (Verdict::Fail, FailureClass::ProxyBadGateway),
        500..=599 => (Verdict::Fail, FailureClass::ServerError),
        _ => (Verdict::Fail, FailureClass::Contract),
    };
    let mut findings = Vec::new();
    match (&expect.validation_error, class) {
        (Some(validation), FailureClass::Contract) => {
            let body = serde_json::from_slice(&response.body).ok();
            crate::oews::check_validation_error(
                validation,
                asked.request,
                status,
                body.as_ref(),
                &mut findings,
            );
        }
        _ => {
            let actual = match &response.retry_after {
                Some(after) => format!("{status} (Retry-After: {after})"),
                None => status.to_string(),
            };
            let body_note = (!response.body.is_empty())
                .then(|| format!("body: {}", body_excerpt(&response.body)));
            let note = match class {
                FailureClass::Throttled => {
                    let advice = throttled_note(quoted_limit(&response.body), asked.caller);
                    Some(match body_note {
                        Some(body) => format!("{advice} — {body}"),
                        None => advice,
                    })
                }
                _ => class.hint().map(str::to_string).or(body_note),
            };
            findings.push(Finding::of_request(
                "status",
                asked.request,
                expect.status.to_string(),
                actual,
                note.as_deref(),
            ));
        }
    }
    Evaluation {
        verdict,
        class: Some(class),
        findings,
    }
}

/// The start of a body as text, on one line: control and bidirectional characters blanked, cut after
/// `EXCERPT_CHARS` characters with `…`.
pub fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let flat: String = text
        .chars()
        .map(|c| {
            if c.is_control() || crate::assert::is_bidi_control(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let flat = flat.trim();
    if flat.is_empty() {
        return "(empty)".to_string();
    }
    match flat.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{StatusMatcher, StatusPattern};

    fn expect_200() -> Expectations {
        Expectations {
            status: StatusMatcher(vec![StatusPattern::Exact(200)]),
            latency: None,
            max_body: 1 << 20,
            json: vec![],
            trace: None,
            echo: vec![],
            validation_error: None,
            openapi: false,
            need: crate::assert::Need::Presence,
            tls: crate::probe::TlsExpect::default(),
        }
    }

    fn answer(status: u16, retry_after: Option<&str>, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            retry_after: retry_after.map(str::to_string),
            body: body.as_bytes().to_vec(),
            over_cap: false,
        }
    }

    #[test]
    fn a_wrong_status_is_named_by_the_request_with_the_body_or_the_advice() {
        let limited = r#"{"error":"Rate limit exceeded: 2 per 1 hour"}"#;
        let long = format!(
            r#"{{"error":"Rate limit exceeded: 2 per 1 hour","pad":"{}"}}"#,
            "x".repeat(200)
        );
        let cases: [(&str, Caller, HttpResponse, &str); 8] = [
            (
                "GET /api/v1/health",
                Caller::OneShot,
                answer(404, None, r#"{"detail":"Not Found"}"#),
                r#"GET /api/v1/health: expected 200, got 404 — body: {"detail":"Not Found"}"#,
            ),
            (
                "POST /api/v1/query",
                Caller::OneShot,
                answer(500, None, "{\"detail\":\"Workflow\nfailed\"}"),
                r#"POST /api/v1/query: expected 200, got 500 — body: {"detail":"Workflow failed"}"#,
            ),
            (
                "POST /api/v1/query",
                Caller::OneShot,
                answer(429, None, limited),
                r#"POST /api/v1/query: expected 200, got 429 — rate limited (2 queries/hour per client): wait before trying again, or spend fewer queries — body: {"error":"Rate limit exceeded: 2 per 1 hour"}"#,
            ),
            (
                "POST /api/v1/query",
                Caller::Monitor,
                answer(429, None, limited),
                r#"POST /api/v1/query: expected 200, got 429 — rate limited (2 queries/hour per client): lower the query budget (budget.queries_per_hour) — body: {"error":"Rate limit exceeded: 2 per 1 hour"}"#,
            ),
            (
                "POST /api/v1/query",
                Caller::Monitor,
                answer(429, Some("60"), "Too Many Requests\u{202E}"),
                "POST /api/v1/query: expected 200, got 429 (Retry-After: 60) — rate limited: lower the query budget (budget.queries_per_hour) — body: Too Many Requests",
            ),
            (
                "POST /api/v1/query",
                Caller::OneShot,
                answer(429, None, ""),
                "POST /api/v1/query: expected 200, got 429 — rate limited: wait before trying again, or spend fewer queries",
            ),
            (
                "POST /api/v1/query",
                Caller::OneShot,
                answer(429, None, &long),
                &format!(
                    r#"POST /api/v1/query: expected 200, got 429 — rate limited (2 queries/hour per client): wait before trying again, or spend fewer queries — body: {{"error":"Rate limit exceeded: 2 per 1 hour","pad":"{}…"#,
                    "x".repeat(EXCERPT_CHARS - 52)
                ),
            ),
            (
                "GET /api/v1/models?full=1",
                Caller::OneShot,
                answer(502, None, "<html>bad gateway</html>"),
                "GET /api/v1/models?full=1: expected 200, got 502 — the reverse proxy cannot reach the container: is it running and on the proxy's network (oews_default)?",
            ),
        ];
        for (request, caller, response, message) in cases {
            let asked = Asked { request, caller };
            let evaluation = evaluate(&expect_200(), asked, &Ok(response), Duration::ZERO);
            let messages: Vec<&str> = evaluation
                .findings
                .iter()
                .map(|f| f.message.as_str())
                .collect();
            assert_eq!(messages, [message]);
            assert_eq!(evaluation.findings[0].path, None);
            assert_eq!(evaluation.findings[0].check, "status");
        }
    }

    #[test]
    fn body_excerpts_blank_out_control_and_bidi_characters() {
        let cases = [
            ("a\u{202E}b\u{2069}c\u{200E}d", "a b c d"),
            ("line\nbreak\u{0007}", "line break"),
            ("\u{061C}", "(empty)"),
        ];
        for (body, want) in cases {
            assert_eq!(body_excerpt(body.as_bytes()), want, "{body:?}");
        }
    }
}
