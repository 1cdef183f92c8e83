//! `ProbeRecord`: the one result type every consumer (output, store, alerts, metrics, SLOs) reads. Read back
//! (`store import`, the stored JSON) from exactly the JSON it is written as: unknown fields are refused, and
//! durations are milliseconds with microsecond precision both ways.

use super::{FailureClass, Finding, Verdict};
use serde::{Deserialize, Deserializer, Serialize};
use std::time::Duration;

/// Where the time of one run went. Phases the client could not observe are `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timings {
    /// From the scheduled instant to the actual start (scheduler lateness).
    #[serde(serialize_with = "ms", deserialize_with = "de_ms")]
    pub start_delay: Duration,
    /// Name resolution (absent for IP-literal targets and reused connections).
    #[serde(serialize_with = "opt_ms", deserialize_with = "de_opt_ms")]
    pub dns: Option<Duration>,
    /// TCP connect, after DNS (runs recorded before the `tls` phase was split off include the handshake).
    #[serde(serialize_with = "opt_ms", deserialize_with = "de_opt_ms")]
    pub connect: Option<Duration>,
    /// The TLS handshake, after TCP connect (absent for plain HTTP).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_ms",
        deserialize_with = "de_opt_ms"
    )]
    pub tls: Option<Duration>,
    /// From the actual start to the response headers.
    #[serde(serialize_with = "opt_ms", deserialize_with = "de_opt_ms")]
    pub first_byte: Option<Duration>,
    /// From the actual start to the end of the body (or the failure).
    #[serde(serialize_with = "ms", deserialize_with = "de_ms")]
    pub total: Duration,
}

/// The request a run sent: its method and URL, without user information or fragment. Secret headers are never
/// part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestLine {
    pub method: String,
    pub url: String,
}

/// One run of one probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeRecord {
    pub probe: String,
    pub target: String,
    /// Where the run was made from (`run.location`); empty in runs recorded before locations were kept (an
    /// older store or export), shown as `-`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub location: String,
    /// What the run sent. Absent only in runs recorded before it was kept (an older store or export).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestLine>,
    /// Wall-clock time the run was scheduled for, in milliseconds since the Unix epoch.
    pub scheduled_at_ms: u64,
    pub verdict: Verdict,
    pub class: Option<FailureClass>,
    pub status: Option<u16>,
    /// From the scheduled instant to the end of the body: what a user waiting since then saw.
    #[serde(
        rename = "latency_ms",
        serialize_with = "ms",
        deserialize_with = "de_ms"
    )]
    pub latency: Duration,
    pub timings: Timings,
    pub body_bytes: u64,
    /// Valid queries this run spent.
    pub queries: u32,
    pub findings: Vec<Finding>,
    /// The findings known drift (`known-drift.toml`) accepted: a run whose only failures were known passes
    /// with them listed here (`run`, `check --accept-known`); beside other findings they are listed apart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_drift: Vec<Finding>,
    /// The `Retry-After` header of a throttled or at-capacity answer, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<String>,
    /// What the TLS handshake showed, and the certificate checks' warnings (HTTPS runs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::tls::TlsFacts>,
    /// A scheduled burst's latency distribution: `[quantile, ms]` pairs from its requests' HDR histogram
    /// (burst records only; absent in runs recorded before it was kept).
    #[serde(
        default,
        rename = "latency_percentiles_ms",
        skip_serializing_if = "Option::is_none"
    )]
    pub latency_percentiles: Option<LatencyPercentiles>,
}

/// Latency at each quantile of a burst's requests, `(quantile, ms)`, lowest quantile first. Quantiles and
/// latencies are finite numbers (JSON has no NaN), so equality is total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyPercentiles(pub Vec<(f64, f64)>);

impl Eq for LatencyPercentiles {}

impl ProbeRecord {
    /// Findings at warning level: shown in outputs and emails, never failing the run.
    pub fn warnings(&self) -> &[Finding] {
        self.tls.as_ref().map_or(&[], |tls| &tls.warnings)
    }
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

/// The longest duration a record holds: the store keeps microseconds as a signed 64-bit integer.
const MAX_MS: f64 = i64::MAX as f64 / 1e3;

/// Milliseconds (as [`ms`] writes them) back to a duration, rounded to the microsecond.
fn millis(value: f64) -> Result<Duration, String> {
    if !(0.0..=MAX_MS).contains(&value) {
        return Err(format!(
            "{value} is not a duration in milliseconds (0 to {MAX_MS:.0})"
        ));
    }
    Ok(Duration::from_micros((value * 1e3).round() as u64))
}

fn de_ms<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    millis(f64::deserialize(d)?).map_err(serde::de::Error::custom)
}

fn de_opt_ms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    Option::<f64>::deserialize(d)?
        .map(millis)
        .transpose()
        .map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> ProbeRecord {
        ProbeRecord {
            location: String::new(),
            latency_percentiles: None,
            probe: "health".into(),
            target: "http://127.0.0.1:8000".into(),
            request: Some(RequestLine {
                method: "GET".into(),
                url: "http://127.0.0.1:8000/api/v1/health".into(),
            }),
            scheduled_at_ms: 1_790_000_000_123,
            verdict: Verdict::Fail,
            class: Some(FailureClass::Timeout),
            status: None,
            latency: Duration::from_micros(30_000_001),
            timings: Timings {
                start_delay: Duration::from_micros(1_250),
                dns: None,
                connect: Some(Duration::from_micros(999)),
                first_byte: None,
                total: Duration::from_micros(29_998_751),
                tls: None,
            },
            body_bytes: 0,
            queries: 1,
            findings: vec![Finding::new(
                "transport",
                None,
                "a response",
                "timeout",
                None,
            )],
            retry_after: Some("120".into()),
            known_drift: Vec::new(),
            tls: None,
        }
    }

    #[test]
    fn a_record_reads_back_from_its_json_unchanged() {
        let text = serde_json::to_string(&record()).expect("json");
        let back: ProbeRecord = serde_json::from_str(&text).expect("read back");
        assert_eq!(back, record());
        assert_eq!(serde_json::to_string(&back).expect("json"), text);
        let mut quiet = record();
        quiet.retry_after = None;
        quiet.request = None;
        let text = serde_json::to_string(&quiet).expect("json");
        assert!(!text.contains("retry_after") && !text.contains("request"));
        assert_eq!(
            serde_json::from_str::<ProbeRecord>(&text).expect("read"),
            quiet
        );
    }

    #[test]
    fn latencies_round_trip_at_microsecond_precision_for_any_value() {
        for us in [0, 1, 999, 1_000, 123_456_789, 3_600_000_000, 1 << 40] {
            let mut r = record();
            r.latency = Duration::from_micros(us);
            let text = serde_json::to_string(&r).expect("json");
            let back: ProbeRecord = serde_json::from_str(&text).expect("read back");
            assert_eq!(back.latency, r.latency, "{us} µs: {text}");
        }
    }

    #[test]
    fn what_a_record_is_not_is_refused_by_name() {
        let text = serde_json::to_string(&record()).expect("json");
        let cases = [
            (
                text.replace("\"latency_ms\":30000.001", "\"latency_ms\":-1"),
                "-1 is not a duration in milliseconds (0 to 9223372036854776)",
            ),
            (
                text.replace("\"verdict\":\"fail\"", "\"verdict\":\"failed\""),
                "unknown variant `failed`, expected one of `pass`, `fail`, `inconclusive`",
            ),
            (
                text.replace("\"queries\":1", "\"queries\":1,\"extra\":true"),
                "unknown field `extra`",
            ),
        ];
        for (input, wanted) in cases {
            let error = serde_json::from_str::<ProbeRecord>(&input)
                .expect_err("refused")
                .to_string();
            assert!(error.starts_with(wanted), "{input}: {error}");
        }
    }
}
