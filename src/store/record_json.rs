//! The `record_json` column, compact: only what the record's other columns do not hold (timings, body size,
//! findings, `Retry-After`, the TLS handshake's time, name, version, cipher and warnings — not its
//! certificates — and a burst's latency percentiles), so a passed run stores about its timings; the full record (as `check --format json` writes it)
//! is rebuilt on read. The request line is kept once in `request_lines`, each row naming its own (schema 7); a
//! row of schema 5 and 6 holds it in its compact JSON (`q`), and a row written before (schema 4 and earlier)
//! holds the full record, which has a `probe` member the compact form never has, and is read as it is.

use super::StoreResult;
use super::db::Row;
use crate::probe::ProbeRecord;
use serde_json::{Map, Value, json};

/// The phases of `timings`, in the order the compact form lists them.
const PHASES: [&str; 5] = ["start_delay", "dns", "connect", "first_byte", "total"];

/// What a full record is read from, for `SELECT {SELECTED} FROM records …`: the columns [`Columns::read`]
/// reads, in its order, then the compact JSON ([`read`]).
pub const SELECTED: &str =
    "probe, target, scheduled_at_ms, verdict, class, status, latency_us, queries,
    (SELECT method || ' ' || url FROM request_lines WHERE id = records.request_line), location, record_json";

/// The record's other columns, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    pub probe: String,
    pub target: String,
    pub scheduled_at_ms: i64,
    pub verdict: String,
    pub class: Option<String>,
    pub status: Option<i64>,
    pub latency_us: i64,
    pub queries: i64,
    /// The request line, `METHOD URL` as [`stored_request`] keeps it (`None`: none, or in the JSON).
    pub request: Option<String>,
    /// Where the run was made from (`''`: before locations were kept).
    pub location: String,
}

impl Columns {
    /// The columns of a row `SELECT`ed as [`SELECTED`] lists them.
    pub fn read(r: &Row<'_>) -> StoreResult<Columns> {
        Ok(Columns {
            probe: r.get(0)?,
            target: r.get(1)?,
            scheduled_at_ms: r.get(2)?,
            verdict: r.get(3)?,
            class: r.get(4)?,
            status: r.get(5)?,
            latency_us: r.get(6)?,
            queries: r.get(7)?,
            request: r.get(8)?,
            location: r.get(9)?,
        })
    }
}

/// The full record of a row `SELECT`ed as [`SELECTED`] lists them.
pub fn read(r: &Row<'_>) -> StoreResult<(Columns, String)> {
    Ok((Columns::read(r)?, r.get(10)?))
}

/// The request line of `record` as the store keeps it, method and URL, the URL written from its path on when
/// it starts with the target (the `target` column gives the rest back).
pub fn stored_request(record: &ProbeRecord) -> Option<(&str, &str)> {
    let request = record.request.as_ref()?;
    let url = request
        .url
        .strip_prefix(&record.target)
        .filter(|path| path.starts_with('/'))
        .unwrap_or(&request.url);
    Some((&request.method, url))
}

/// The compact JSON of `record`: `t` the timings (milliseconds, `null` for a phase not observed), `b` the
/// body size, `f` the findings, `k` the known drift, `r` the `Retry-After` header and `p` a burst's latency
/// percentiles when there are any, and `l` the latency in milliseconds only when it does not follow from the `latency_us` column (it is rounded,
/// the column is not).
pub fn compact(record: &ProbeRecord) -> serde_json::Result<String> {
    let full = serde_json::to_value(record)?;
    let mut out = Map::new();
    let timings = &full["timings"];
    out.insert(
        "t".into(),
        Value::Array(PHASES.iter().map(|p| timings[*p].clone()).collect()),
    );
    out.insert("b".into(), full["body_bytes"].clone());
    if !record.findings.is_empty() {
        out.insert("f".into(), full["findings"].clone());
    }
    if !record.known_drift.is_empty() {
        out.insert("k".into(), full["known_drift"].clone());
    }
    if let Some(retry_after) = &record.retry_after {
        out.insert("r".into(), Value::String(retry_after.clone()));
    }
    if !timings["tls"].is_null() {
        out.insert("h".into(), timings["tls"].clone());
    }
    if let Some(tls) = &record.tls {
        // The certificates stay out of the store: runs keep the name, version, cipher and warnings.
        let mut kept = serde_json::to_value(tls)?;
        if let Some(kept) = kept.as_object_mut() {
            kept.remove("certificates");
        }
        out.insert("s".into(), kept);
    }
    if record.latency_percentiles.is_some() {
        out.insert("p".into(), full["latency_percentiles_ms"].clone());
    }
    let column_ms = crate::history::micros(record.latency) as f64 / 1e3;
    if full["latency_ms"].as_f64() != Some(column_ms) {
        out.insert("l".into(), full["latency_ms"].clone());
    }
    serde_json::to_string(&out)
}

/// The full record of a row: its compact JSON completed from `columns`, or the full JSON of an older row.
pub fn full(columns: &Columns, stored: &str) -> serde_json::Result<Value> {
    let stored: Value = serde_json::from_str(stored)?;
    if stored.get("probe").is_some() {
        return Ok(stored);
    }
    let mut timings: Map<String, Value> = PHASES
        .iter()
        .zip(stored["t"].as_array().into_iter().flatten())
        .map(|(p, v)| (p.to_string(), v.clone()))
        .collect();
    if let Some(handshake) = stored.get("h") {
        timings.insert("tls".into(), handshake.clone());
    }
    let mut out = json!({
        "probe": columns.probe,
        "target": columns.target,
        "scheduled_at_ms": columns.scheduled_at_ms,
        "verdict": columns.verdict,
        "class": columns.class,
        "status": columns.status,
        "latency_ms": stored.get("l").cloned().unwrap_or(json!(columns.latency_us as f64 / 1e3)),
        "timings": timings,
        "body_bytes": stored["b"],
        "queries": columns.queries,
        "findings": stored.get("f").cloned().unwrap_or(json!([])),
    });
    let request = match &columns.request {
        Some(line) => line
            .split_once(' ')
            .map(|(method, url)| (json!(method), json!(url))),
        None => match stored.get("q").and_then(Value::as_array).map(Vec::as_slice) {
            Some([method, url]) => Some((method.clone(), url.clone())),
            _ => None,
        },
    };
    if let Some((method, url)) = request {
        let url = match url.as_str() {
            Some(path) if path.starts_with('/') => json!(format!("{}{path}", columns.target)),
            _ => url,
        };
        out["request"] = json!({"method": method, "url": url});
    }
    if !columns.location.is_empty() {
        out["location"] = json!(columns.location);
    }
    if let Some(known) = stored.get("k") {
        out["known_drift"] = known.clone();
    }
    if let Some(retry_after) = stored.get("r") {
        out["retry_after"] = retry_after.clone();
    }
    if let Some(tls) = stored.get("s") {
        out["tls"] = tls.clone();
    }
    if let Some(percentiles) = stored.get("p") {
        out["latency_percentiles_ms"] = percentiles.clone();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{FailureClass, Finding, RequestLine, Timings, Verdict};
    use std::time::Duration;

    fn record(verdict: Verdict, latency: Duration) -> ProbeRecord {
        ProbeRecord {
            latency_percentiles: None,
            probe: "query-trace".into(),
            target: "http://127.0.0.1:8000".into(),
            location: "eu-west".into(),
            request: Some(RequestLine {
                method: "POST".into(),
                url: "http://127.0.0.1:8000/api/v1/query".into(),
            }),
            scheduled_at_ms: 1_800_000_000_123,
            verdict,
            class: (verdict != Verdict::Pass).then_some(FailureClass::Throttled),
            status: (verdict != Verdict::Inconclusive).then_some(429),
            latency,
            timings: Timings {
                start_delay: Duration::from_micros(1_234),
                dns: None,
                connect: Some(Duration::from_nanos(2_345_678)),
                first_byte: Some(Duration::from_millis(40)),
                total: Duration::from_nanos(41_000_500),
                tls: None,
            },
            body_bytes: 1_234,
            queries: 1,
            findings: if verdict == Verdict::Pass {
                vec![]
            } else {
                vec![Finding::of_request(
                    "status",
                    "POST /api/v1/query",
                    "200",
                    "429",
                    Some("rate limited"),
                )]
            },
            retry_after: (verdict == Verdict::Fail).then(|| "120".to_string()),
            known_drift: Vec::new(),
            tls: None,
        }
    }

    fn columns(r: &ProbeRecord) -> Columns {
        Columns {
            probe: r.probe.clone(),
            target: r.target.clone(),
            scheduled_at_ms: r.scheduled_at_ms as i64,
            verdict: r.verdict.as_str().into(),
            class: r.class.map(|c| c.as_str().into()),
            status: r.status.map(i64::from),
            latency_us: crate::history::micros(r.latency) as i64,
            queries: i64::from(r.queries),
            request: stored_request(r).map(|(method, url)| format!("{method} {url}")),
            location: r.location.clone(),
        }
    }

    #[test]
    fn the_full_record_is_rebuilt_from_the_columns_and_the_compact_json() {
        for (verdict, latency, stored) in [
            (
                Verdict::Pass,
                Duration::from_micros(42_345),
                r#"{"b":1234,"t":[1.234,null,2.346,40.0,41.001]}"#,
            ),
            // 42.3455 ms is written 42.346: the column's 42345 µs does not give it.
            (
                Verdict::Fail,
                Duration::from_nanos(42_345_500),
                r#"{"b":1234,"f":[{"actual":"429","check":"status","expected":"200","message":"POST /api/v1/query: expected 200, got 429 — rate limited"}],"l":42.346,"r":"120","t":[1.234,null,2.346,40.0,41.001]}"#,
            ),
            (
                Verdict::Inconclusive,
                Duration::from_nanos(42_345_499),
                r#"{"b":1234,"f":[{"actual":"429","check":"status","expected":"200","message":"POST /api/v1/query: expected 200, got 429 — rate limited"}],"t":[1.234,null,2.346,40.0,41.001]}"#,
            ),
        ] {
            let r = record(verdict, latency);
            let compact = compact(&r).expect("compact");
            assert_eq!(compact, stored, "{verdict:?}");
            assert_eq!(
                full(&columns(&r), &compact).expect("full"),
                serde_json::to_value(&r).expect("json"),
                "{verdict:?}"
            );
        }
    }

    #[test]
    fn a_pass_with_known_drift_keeps_it() {
        let mut r = record(Verdict::Pass, Duration::from_micros(42_345));
        r.known_drift = vec![Finding::new("trace", Some("a".into()), "1", "2", None)];
        let compact = compact(&r).expect("compact");
        assert_eq!(
            compact,
            r#"{"b":1234,"k":[{"actual":"2","check":"trace","expected":"1","message":"a: expected 1, got 2","path":"a"}],"t":[1.234,null,2.346,40.0,41.001]}"#
        );
        let back: ProbeRecord =
            serde_json::from_value(full(&columns(&r), &compact).expect("full")).expect("a record");
        assert_eq!(back.known_drift, r.known_drift);
    }

    #[test]
    fn an_https_run_keeps_its_handshake_time_and_tls_facts_without_the_certificates() {
        let mut r = record(Verdict::Pass, Duration::from_micros(42_345));
        r.timings.tls = Some(Duration::from_micros(1_500));
        let warning = Finding {
            check: "tls".into(),
            path: None,
            expected: "at least 30 days left".into(),
            actual: "20 days left".into(),
            message: "tls: certificate for api.example expires in 20 days (2026-12-26T10:00:00Z), warning below 30".into(),
        };
        let facts = crate::tls::TlsFacts {
            name: "api.example".into(),
            version: Some("1.3".into()),
            cipher: Some("TLS13_AES_256_GCM_SHA384".into()),
            certificates: vec![crate::tls::CertificateFacts {
                subject: "CN=api.example".into(),
                issuer: "CN=Test CA".into(),
                not_before: 0,
                not_after: 1,
                names: vec!["api.example".into()],
            }],
            insecure: false,
            warnings: vec![warning],
        };
        r.tls = Some(facts.clone());
        let compact = compact(&r).expect("compact");
        assert_eq!(
            compact,
            r#"{"b":1234,"h":1.5,"s":{"cipher":"TLS13_AES_256_GCM_SHA384","name":"api.example","version":"1.3","warnings":[{"actual":"20 days left","check":"tls","expected":"at least 30 days left","message":"tls: certificate for api.example expires in 20 days (2026-12-26T10:00:00Z), warning below 30"}]},"t":[1.234,null,2.346,40.0,41.001]}"#
        );
        let back: ProbeRecord =
            serde_json::from_value(full(&columns(&r), &compact).expect("full")).expect("a record");
        assert_eq!(back.timings.tls, r.timings.tls);
        assert_eq!(
            back.tls,
            Some(crate::tls::TlsFacts {
                certificates: Vec::new(),
                ..facts
            })
        );
        assert_eq!(back.warnings(), r.warnings());
    }

    #[test]
    fn the_request_is_stored_from_its_path_when_the_target_gives_the_rest() {
        let cases = [
            (
                "http://127.0.0.1:8000",
                Some("http://127.0.0.1:8000/api/v1/health?x=1"),
                Some("GET /api/v1/health?x=1"),
            ),
            (
                "http://127.0.0.1:8000/base",
                Some("http://127.0.0.1:8000/base/health"),
                Some("GET /health"),
            ),
            (
                "http://127.0.0.1:8000/base",
                Some("http://127.0.0.1:8000/basement"),
                Some("GET http://127.0.0.1:8000/basement"),
            ),
            (
                "http://127.0.0.1:8000",
                Some("http://127.0.0.1:8000"),
                Some("GET http://127.0.0.1:8000"),
            ),
            (
                "http://127.0.0.1:8000",
                Some("http://127.0.0.2:9/health"),
                Some("GET http://127.0.0.2:9/health"),
            ),
            ("http://127.0.0.1:8000", None, None),
        ];
        for (target, url, stored) in cases {
            let mut r = record(Verdict::Pass, Duration::from_micros(42_345));
            r.target = target.into();
            r.request = url.map(|url| RequestLine {
                method: "GET".into(),
                url: url.into(),
            });
            let compact = compact(&r).expect("compact");
            assert!(!compact.contains("\"q\""), "{compact}");
            let columns = columns(&r);
            assert_eq!(columns.request.as_deref(), stored, "{target} {url:?}");
            assert_eq!(
                full(&columns, &compact).expect("full"),
                serde_json::to_value(&r).expect("json"),
                "{target} {url:?}"
            );
        }
    }

    #[test]
    fn a_schema_6_row_holding_its_request_line_in_its_json_is_read_with_it() {
        let r = record(Verdict::Pass, Duration::from_micros(42_345));
        let stored =
            r#"{"b":1234,"q":["POST","/api/v1/query"],"t":[1.234,null,2.346,40.0,41.001]}"#;
        let columns = Columns {
            request: None,
            ..columns(&r)
        };
        assert_eq!(
            full(&columns, stored).expect("full"),
            serde_json::to_value(&r).expect("json")
        );
    }

    #[test]
    fn a_burst_keeps_its_latency_percentiles_and_a_row_without_them_reads_as_none() {
        let mut r = record(Verdict::Pass, Duration::from_micros(42_345));
        r.latency_percentiles = Some(crate::probe::LatencyPercentiles(vec![
            (0.5, 10.007),
            (0.999, 42.345),
            (1.0, 42.345),
        ]));
        let compact = compact(&r).expect("compact");
        assert_eq!(
            compact,
            r#"{"b":1234,"p":[[0.5,10.007],[0.999,42.345],[1.0,42.345]],"t":[1.234,null,2.346,40.0,41.001]}"#
        );
        let back = full(&columns(&r), &compact).expect("full");
        assert_eq!(back, serde_json::to_value(&r).expect("json"));
        let back: ProbeRecord = serde_json::from_value(back).expect("a record");
        assert_eq!(back.latency_percentiles, r.latency_percentiles);
        // A row written before the percentiles were kept.
        let old = r#"{"b":1234,"t":[1.234,null,2.346,40.0,41.001]}"#;
        let back = full(&columns(&r), old).expect("full");
        let without = ProbeRecord {
            latency_percentiles: None,
            ..r
        };
        assert_eq!(back, serde_json::to_value(&without).expect("json"));
        let back: ProbeRecord = serde_json::from_value(back).expect("a record");
        assert_eq!(back.latency_percentiles, None);
    }

    #[test]
    fn an_older_row_holding_the_full_record_is_read_as_it_is() {
        let r = record(Verdict::Fail, Duration::from_millis(7));
        let old = serde_json::to_string(&r).expect("json");
        assert_eq!(
            full(&columns(&r), &old).expect("full"),
            serde_json::to_value(&r).expect("json")
        );
    }
}
