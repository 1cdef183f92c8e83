//! The result vocabulary shared by every producer and consumer: verdicts, failure classes, findings.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How a probe run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// Neither pass nor fail: throttled, at capacity, skipped. Never counts against an SLO.
    Inconclusive,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

impl Verdict {
    /// The verdict named by [`Verdict::as_str`].
    pub fn parse(text: &str) -> Option<Verdict> {
        [Verdict::Pass, Verdict::Fail, Verdict::Inconclusive]
            .into_iter()
            .find(|v| v.as_str() == text)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a run did not pass. One per run: the most fundamental cause wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    Dns,
    ConnectRefused,
    ConnectTimeout,
    Tls,
    /// No complete response within the probe's total timeout.
    Timeout,
    /// Any other transport failure (connection reset, cut mid-response before headers).
    Network,
    /// 502 or 504: the reverse proxy answered but could not reach (or wait for) the container.
    ProxyBadGateway,
    /// Any other 5xx.
    ServerError,
    /// The service answered, but not as the contract says (status, shape, echo).
    Contract,
    /// The body is not the JSON it should be (not JSON, truncated).
    InvalidBody,
    /// The body exceeded the probe's size cap.
    TooLarge,
    /// 429: inconclusive.
    Throttled,
    /// 503 with Retry-After: inconclusive.
    AtCapacity,
    /// Not run: the query budget of the rolling hour was spent. Inconclusive.
    Budget,
    /// Not finished: `run` stopped past `run.shutdown_grace` while it was in flight. Inconclusive.
    Aborted,
}

impl FailureClass {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Dns => "dns",
            FailureClass::ConnectRefused => "connect_refused",
            FailureClass::ConnectTimeout => "connect_timeout",
            FailureClass::Tls => "tls",
            FailureClass::Timeout => "timeout",
            FailureClass::Network => "network",
            FailureClass::ProxyBadGateway => "proxy_bad_gateway",
            FailureClass::ServerError => "server_error",
            FailureClass::Contract => "contract",
            FailureClass::InvalidBody => "invalid_body",
            FailureClass::TooLarge => "too_large",
            FailureClass::Throttled => "throttled",
            FailureClass::AtCapacity => "at_capacity",
            FailureClass::Budget => "budget",
            FailureClass::Aborted => "aborted",
        }
    }

    /// What an operator should look at first. A throttled run's advice depends on what the 429 said and on
    /// who asked: see [`super::throttled_note`].
    pub fn hint(self) -> Option<&'static str> {
        Some(match self {
            FailureClass::Dns => "the target's host name does not resolve",
            FailureClass::ConnectRefused => "nothing listens at the target address",
            FailureClass::ConnectTimeout => {
                "the target address does not answer: host down or firewalled"
            }
            FailureClass::Tls => {
                "TLS handshake failed: certificate expired, wrong host name, or not TLS"
            }
            FailureClass::Timeout => "no answer in time: cold start, overload, or a hung workflow",
            FailureClass::ProxyBadGateway => {
                "the reverse proxy cannot reach the container: is it running and on the proxy's network (oews_default)?"
            }
            FailureClass::AtCapacity => {
                "the service is at capacity: retry after the Retry-After delay"
            }
            FailureClass::Budget => {
                "skipped: the query budget of the rolling hour is spent (budget.queries_per_hour)"
            }
            FailureClass::Aborted => {
                "not finished: the daemon stopped past run.shutdown_grace; its queries were spent"
            }
            _ => return None,
        })
    }

    /// The class named by [`FailureClass::as_str`].
    pub fn parse(text: &str) -> Option<FailureClass> {
        FailureClass::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// All classes, in declaration order (for documentation and exhaustive tests).
    pub const ALL: [FailureClass; 15] = [
        FailureClass::Dns,
        FailureClass::ConnectRefused,
        FailureClass::ConnectTimeout,
        FailureClass::Tls,
        FailureClass::Timeout,
        FailureClass::Network,
        FailureClass::ProxyBadGateway,
        FailureClass::ServerError,
        FailureClass::Contract,
        FailureClass::InvalidBody,
        FailureClass::TooLarge,
        FailureClass::Throttled,
        FailureClass::AtCapacity,
        FailureClass::Budget,
        FailureClass::Aborted,
    ];
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check that did not hold: what was checked, where, what was expected and what came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// The kind of check: `status`, `latency`, `size`, `body`, `json`, `trace`, `echo`, `validation_error`,
    /// `transport`.
    pub check: String,
    /// Where in the response, as a path (`$.status`, `data_sources[2].agent`); `None` for the response as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub expected: String,
    pub actual: String,
    /// The whole finding as one line for people.
    pub message: String,
}

impl Finding {
    /// A finding whose message is `PATH: expected E, got A` (or `CHECK: ...` without a path),
    /// followed by ` — NOTE` when a note is given.
    pub fn new(
        check: &str,
        path: Option<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
        note: Option<&str>,
    ) -> Finding {
        let place = path.clone().unwrap_or_else(|| check.to_string());
        Finding::placed(check, path, &place, expected.into(), actual.into(), note)
    }

    /// A finding about the response as a whole, named by the request that got it: `GET /api/v1/health:
    /// expected 200, got 404`, followed by ` — NOTE` when a note is given.
    pub fn of_request(
        check: &str,
        request: &str,
        expected: impl Into<String>,
        actual: impl Into<String>,
        note: Option<&str>,
    ) -> Finding {
        Finding::placed(check, None, request, expected.into(), actual.into(), note)
    }

    /// What the finding is about, as its message starts: the path, the request (a finding about the whole
    /// response made by [`Finding::of_request`]), or else the check.
    pub fn place(&self) -> &str {
        if let Some(path) = &self.path {
            return path;
        }
        let tail = format!(": expected {}, got {}", self.expected, self.actual);
        match self.message.find(&tail) {
            Some(end) => &self.message[..end],
            None => &self.check,
        }
    }

    fn placed(
        check: &str,
        path: Option<String>,
        place: &str,
        expected: String,
        actual: String,
        note: Option<&str>,
    ) -> Finding {
        let mut message = format!("{place}: expected {expected}, got {actual}");
        if let Some(note) = note {
            message.push_str(" — ");
            message.push_str(note);
        }
        Finding {
            check: check.to_string(),
            path,
            expected,
            actual,
            message,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_message_with_path_and_note() {
        let f = Finding::new(
            "trace",
            Some("data_sources[2].agent".into()),
            "\"cortex\"",
            "\"cortex_researcher\"",
            Some("agent renamed"),
        );
        assert_eq!(
            f.message,
            "data_sources[2].agent: expected \"cortex\", got \"cortex_researcher\" — agent renamed"
        );
    }

    #[test]
    fn finding_message_without_path_uses_check() {
        let f = Finding::new("status", None, "200", "404", None);
        assert_eq!(f.message, "status: expected 200, got 404");
    }

    #[test]
    fn a_finding_about_the_whole_response_names_the_request() {
        let f = Finding::of_request(
            "status",
            "GET /api/v1/health?x=1",
            "200",
            "404",
            Some("body: {}"),
        );
        assert_eq!(
            (f.path, f.message.as_str()),
            (
                None,
                "GET /api/v1/health?x=1: expected 200, got 404 — body: {}"
            )
        );
    }

    #[test]
    fn a_finding_says_what_it_is_about() {
        let cases = [
            (
                Finding::new("json", Some("$.status".into()), "1", "2", Some("x")),
                "$.status",
            ),
            (Finding::new("status", None, "200", "404", None), "status"),
            (
                Finding::of_request("status", "POST /api/v1/query", "200", "429", Some("n")),
                "POST /api/v1/query",
            ),
            (
                Finding {
                    check: "burst".into(),
                    path: None,
                    expected: String::new(),
                    actual: "x".into(),
                    message: "request #2 (server_error): x".into(),
                },
                "burst",
            ),
        ];
        for (finding, place) in cases {
            assert_eq!(finding.place(), place, "{finding:?}");
        }
    }

    #[test]
    fn class_names_are_snake_case_and_unique() {
        let names: std::collections::BTreeSet<_> =
            FailureClass::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), FailureClass::ALL.len());
        for c in FailureClass::ALL {
            assert_eq!(serde_json::to_value(c).expect("serializes"), c.as_str());
        }
    }
}
