//! The pure verdict function: one HTTP outcome and a probe's expectations in, verdict, class and findings out.

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

/// Longest body excerpt quoted in a finding.
const EXCERPT_CHARS: usize = 120;

/// Judges one run. `latency` is measured from the scheduled start to the end of the body. The body is parsed
/// keeping only what the checks read ([`Expectations::need`]).
pub fn evaluate(
    expect: &Expectations,
    outcome: &Result<HttpResponse, TransportFailure>,
    latency: Duration,
) -> Evaluation {
    judge(expect, outcome, latency, BodyParse::Pruned)
}

/// [`evaluate`] with the body parsed whole: the reference it must agree with, for tests and benchmarks.
pub fn evaluate_full(
    expect: &Expectations,
    outcome: &Result<HttpResponse, TransportFailure>,
    latency: Duration,
) -> Evaluation {
    judge(expect, outcome, latency, BodyParse::Full)
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
        return judge_unexpected_status(expect, response);
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
                let actual = format!("invalid JSON ({e}): {}", excerpt(&response.body));
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
/// failures of their own class, anything else breaks the contract.
fn judge_unexpected_status(expect: &Expectations, response: &HttpResponse) -> Evaluation {
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
            crate::oews::check_validation_error(validation, status, body.as_ref(), &mut findings);
        }
        _ => {
            let actual = match &response.retry_after {
                Some(after) => format!("{status} (Retry-After: {after})"),
                None => status.to_string(),
            };
            let body_note =
                (!response.body.is_empty()).then(|| format!("body: {}", excerpt(&response.body)));
            let note = class.hint().map(str::to_string).or(body_note);
            findings.push(Finding::new(
                "status",
                None,
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

/// The start of a body as text, on one line.
fn excerpt(body: &[u8]) -> String {
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
    #[test]
    fn body_excerpts_blank_out_control_and_bidi_characters() {
        let cases = [
            ("a\u{202E}b\u{2069}c\u{200E}d", "a b c d"),
            ("line\nbreak\u{0007}", "line break"),
            ("\u{061C}", "(empty)"),
        ];
        for (body, want) in cases {
            assert_eq!(super::excerpt(body.as_bytes()), want, "{body:?}");
        }
    }
}
