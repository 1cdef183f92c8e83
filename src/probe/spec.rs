//! A compiled probe: what to send and what to expect. Built by `config::compile`, read by execution.

use crate::assert::{JsonAssertion, Need};
use crate::oews::{EchoExpectation, TraceExpectation, ValidationErrorExpectation};
use serde_json::Value;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ProbeSpec {
    /// The probe file's stem: `health` for `probes/health.toml`.
    pub name: String,
    pub description: Option<String>,
    pub file: PathBuf,
    /// Valid queries one run spends (LLM cost, rate limit).
    pub queries: u32,
    /// When `oewsprobe run` runs it; `None`: only `check` and `burst` do.
    pub schedule: Option<crate::schedule::CronSchedule>,
    pub request: RequestSpec,
    pub expect: Expectations,
    /// A scheduled burst of this probe's request (`oewsprobe run`).
    pub burst: Option<BurstSpec>,
}

/// `[burst]`, compiled: `requests` at once on `schedule`, every one passing within `slo`.
#[derive(Debug, Clone)]
pub struct BurstSpec {
    pub schedule: crate::schedule::CronSchedule,
    pub requests: u64,
    pub slo: Duration,
}

impl ProbeSpec {
    /// The name burst results are recorded under (and SLOs refer to): `NAME-burst`.
    pub fn burst_name(&self) -> String {
        format!("{}-burst", self.name)
    }
}

#[derive(Clone)]
pub struct RequestSpec {
    /// Upper-case HTTP method.
    pub method: String,
    /// Path and query, starting with `/`, appended to the target's base URL.
    pub path: String,
    pub body: Option<RequestBody>,
    /// Headers in send order: the config's, then the probe's (the probe's win on equal names).
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// How an HTTPS target is trusted: the main `[tls]` with the probe's own `[tls]` over it.
    pub tls: crate::tls::TlsSettings,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RequestBody {
    Json(Value),
    Text(String),
}

/// Header values may be credentials: `Debug` shows them redacted.
impl std::fmt::Debug for RequestSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestSpec")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("body", &self.body)
            .field("headers", &crate::telemetry::Redacted(&self.headers))
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("tls", &self.tls)
            .finish()
    }
}

impl RequestSpec {
    /// The JSON body, when the request has one (echo and trace checks compare against it).
    pub fn json_body(&self) -> Option<&Value> {
        match &self.body {
            Some(RequestBody::Json(v)) => Some(v),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Expectations {
    pub status: StatusMatcher,
    pub latency: Option<Duration>,
    pub max_body: u64,
    pub json: Vec<JsonAssertion>,
    pub trace: Option<TraceExpectation>,
    pub echo: Vec<EchoExpectation>,
    pub validation_error: Option<ValidationErrorExpectation>,
    /// `expect.openapi`: validate the body against the operation's response schema in the service's own
    /// OpenAPI document, for the status received.
    pub openapi: bool,
    /// `[expect.tls]`: certificate checks of every HTTPS run.
    pub tls: super::TlsExpect,
    /// What of the body the checks above read: set once by [`Expectations::with_need`] when the probe is
    /// compiled; the body is parsed keeping only that.
    pub need: Need,
}

impl Expectations {
    /// These expectations with [`need`](Expectations::need) set to the union of what their checks read.
    #[must_use]
    pub fn with_need(self) -> Expectations {
        let need = Need::union(
            (self.json.iter().map(JsonAssertion::need))
                .chain(self.trace.iter().map(TraceExpectation::need))
                .chain(self.echo.iter().map(EchoExpectation::need))
                .chain(self.validation_error.iter().map(|v| v.need())),
        );
        Expectations { need, ..self }
    }

    /// Whether any check needs the body parsed as JSON.
    pub fn needs_json(&self) -> bool {
        !self.json.is_empty()
            || self.trace.is_some()
            || !self.echo.is_empty()
            || self.validation_error.is_some()
    }
}

/// One accepted status: exact (`200`) or a class (`"2xx"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPattern {
    Exact(u16),
    Class(u8),
}

/// The accepted statuses: any pattern matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMatcher(pub Vec<StatusPattern>);

impl StatusMatcher {
    pub fn matches(&self, status: u16) -> bool {
        self.0.iter().any(|p| match p {
            StatusPattern::Exact(s) => *s == status,
            StatusPattern::Class(c) => status / 100 == u16::from(*c),
        })
    }
}

impl fmt::Display for StatusPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusPattern::Exact(s) => write!(f, "{s}"),
            StatusPattern::Class(c) => write!(f, "{c}xx"),
        }
    }
}

impl fmt::Display for StatusMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(if i + 1 == self.0.len() { " or " } else { ", " })?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_matcher_matches_and_renders() {
        let m = StatusMatcher(vec![StatusPattern::Exact(200), StatusPattern::Class(3)]);
        assert!(m.matches(200) && m.matches(302) && !m.matches(201) && !m.matches(404));
        assert_eq!(m.to_string(), "200 or 3xx");
        let three = StatusMatcher(vec![
            StatusPattern::Exact(200),
            StatusPattern::Exact(201),
            StatusPattern::Class(4),
        ]);
        assert_eq!(three.to_string(), "200, 201 or 4xx");
    }
}
