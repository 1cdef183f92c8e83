//! The `check` command's output: a table for people, one JSON document for machines.

use super::duration_text;
use crate::known_drift::KnownEntry;
use crate::probe::{ProbeRecord, Verdict};
use serde::Serialize;

/// Counts of verdicts over a set of records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub inconclusive: usize,
}

impl Tally {
    pub fn of(records: &[ProbeRecord]) -> Tally {
        let count = |v: Verdict| records.iter().filter(|r| r.verdict == v).count();
        Tally {
            passed: count(Verdict::Pass),
            failed: count(Verdict::Fail),
            inconclusive: count(Verdict::Inconclusive),
        }
    }

    /// The overall verdict: any failure fails; otherwise any inconclusive run leaves it inconclusive.
    pub fn verdict(self) -> Verdict {
        if self.failed > 0 {
            Verdict::Fail
        } else if self.inconclusive > 0 {
            Verdict::Inconclusive
        } else {
            Verdict::Pass
        }
    }
}

/// The valid queries `records` spent, in all.
fn queries_spent(records: &[ProbeRecord]) -> u64 {
    records.iter().map(|r| u64::from(r.queries)).sum()
}

/// The table: a header line, one line per probe, its findings indented below it (known drift marked
/// `known:`), a summary line and the valid queries the check spent.
pub fn table(target: &str, records: &[ProbeRecord]) -> String {
    let name_width = records
        .iter()
        .map(|r| r.probe.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!("oewsprobe check: {target}\n");
    if let Some(warning) = insecure_warning(records) {
        out.push_str(&format!("{warning}\n"));
    }
    out.push_str(&format!(
        "{:<name_width$}  {:<12}  {:<17}  {:>6}  {:>9}\n",
        "PROBE", "VERDICT", "CLASS", "STATUS", "LATENCY"
    ));
    for r in records {
        let verdict = r.verdict.as_str().to_ascii_uppercase();
        let class = r.class.map_or("-", |c| c.as_str());
        let status = r.status.map_or_else(|| "-".to_string(), |s| s.to_string());
        out.push_str(&format!(
            "{:<name_width$}  {verdict:<12}  {class:<17}  {status:>6}  {:>9}\n",
            r.probe,
            duration_text(r.latency)
        ));
        for f in &r.findings {
            out.push_str(&format!("    - {}\n", f.message));
        }
        for f in &r.known_drift {
            out.push_str(&format!("    - known: {}\n", f.message));
        }
        for f in r.warnings() {
            out.push_str(&format!("    - warn: {}\n", f.message));
        }
        if let Some(tls) = &r.tls {
            out.push_str(&format!("    {}\n", tls_line(tls, &r.timings)));
        }
    }
    let tally = Tally::of(records);
    out.push_str(&format!(
        "{} of {} probes passed ({} failed, {} inconclusive): {}\n",
        tally.passed,
        records.len(),
        tally.failed,
        tally.inconclusive,
        tally.verdict().as_str().to_ascii_uppercase()
    ));
    out.push_str(&format!(
        "valid queries spent: {}\n",
        queries_spent(records)
    ));
    out
}

/// One line on an HTTPS run: the protocol, the leaf certificate's expiry and the handshake's time:
/// `tls 1.3 (TLS13_AES_256_GCM_SHA384), certificate for api.example until 2027-01-01T00:00:00Z; connect 0.2 ms, tls 1.1 ms`.
fn tls_line(tls: &crate::tls::TlsFacts, timings: &crate::probe::Timings) -> String {
    let version = tls.version.as_deref().unwrap_or("?");
    let cipher = tls
        .cipher
        .as_deref()
        .map_or_else(String::new, |c| format!(" ({c})"));
    let certificate = tls.certificates.first().map_or_else(String::new, |leaf| {
        format!(
            ", certificate for {} until {}",
            tls.name,
            crate::tls::utc_text(leaf.not_after)
        )
    });
    let phase = |name: &str, d: Option<std::time::Duration>| {
        d.map(|d| format!("{name} {}", super::micros_text(d.as_micros() as u64)))
    };
    let phases: Vec<String> = [phase("connect", timings.connect), phase("tls", timings.tls)]
        .into_iter()
        .flatten()
        .collect();
    format!("tls {version}{cipher}{certificate}; {}", phases.join(", "))
}

/// The loud line for runs made with `tls.insecure`, naming their probes; `None` when no run was.
pub fn insecure_warning(records: &[ProbeRecord]) -> Option<String> {
    let names: Vec<&str> = records
        .iter()
        .filter(|r| r.tls.as_ref().is_some_and(|t| t.insecure))
        .map(|r| r.probe.as_str())
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            "{} — probes: {}",
            crate::tls::INSECURE_WARNING,
            names.join(", ")
        )
    })
}

#[derive(Serialize)]
struct JsonReport<'a> {
    target: &'a str,
    /// [`insecure_warning`], when any run used `tls.insecure`.
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
    verdict: Verdict,
    passed: usize,
    failed: usize,
    inconclusive: usize,
    /// Valid queries the check spent.
    queries: u64,
    probes: Vec<ProbeEntry<'a>>,
}

/// One probe's entry in the JSON document: its name, then the record's fields (`store export` writes the same).
#[derive(Debug, Serialize)]
pub struct ProbeEntry<'a> {
    name: &'a str,
    #[serde(flatten)]
    record: &'a ProbeRecord,
}

impl<'a> ProbeEntry<'a> {
    pub fn of(record: &'a ProbeRecord) -> ProbeEntry<'a> {
        ProbeEntry {
            name: &record.probe,
            record,
        }
    }
}

/// The JSON document (documented in README.md): totals, then each record under its probe name.
pub fn json(target: &str, records: &[ProbeRecord]) -> serde_json::Value {
    let tally = Tally::of(records);
    let report = JsonReport {
        target,
        warning: insecure_warning(records),
        verdict: tally.verdict(),
        passed: tally.passed,
        failed: tally.failed,
        inconclusive: tally.inconclusive,
        queries: queries_spent(records),
        probes: records.iter().map(ProbeEntry::of).collect(),
    };
    serde_json::to_value(report).unwrap_or_default()
}

/// The lines after the table for known-drift entries whose probes ran without their findings.
pub fn resolved_table(resolved: &[&KnownEntry]) -> String {
    resolved
        .iter()
        .map(|e| format!("{}\n", crate::known_drift::resolved_line(e)))
        .collect()
}

/// The JSON of those entries (the check document's `resolved_drift`).
pub fn resolved_json(resolved: &[&KnownEntry]) -> serde_json::Value {
    resolved
        .iter()
        .map(|e| {
            serde_json::json!({
                "probe": e.probe, "check": e.check, "expected": e.expected, "actual": e.actual,
                "accepted": e.accepted,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{FailureClass, Finding, RequestLine, Timings};
    use std::time::Duration;

    fn record(
        probe: &str,
        verdict: Verdict,
        class: Option<FailureClass>,
        status: Option<u16>,
        ms: u64,
        findings: Vec<Finding>,
    ) -> ProbeRecord {
        ProbeRecord {
            location: String::new(),
            latency_percentiles: None,
            probe: probe.into(),
            target: "http://127.0.0.1:8000".into(),
            request: None,
            scheduled_at_ms: 1_790_000_000_000,
            verdict,
            class,
            status,
            latency: Duration::from_millis(ms),
            timings: Timings {
                total: Duration::from_millis(ms),
                ..Timings::default()
            },
            body_bytes: 0,
            queries: 0,
            findings,
            retry_after: None,
            known_drift: Vec::new(),
            tls: None,
        }
    }

    fn sample() -> Vec<ProbeRecord> {
        vec![
            record("health", Verdict::Pass, None, Some(200), 3, vec![]),
            ProbeRecord {
                request: Some(RequestLine {
                    method: "POST".into(),
                    url: "http://127.0.0.1:8000/api/v1/query".into(),
                }),
                queries: 1,
                ..record(
                    "query-trace",
                    Verdict::Fail,
                    Some(FailureClass::Contract),
                    Some(200),
                    24_310,
                    vec![Finding::new(
                        "trace",
                        Some("data_sources[1].agent".into()),
                        "\"cortex\"",
                        "\"cortex_researcher\"",
                        None,
                    )],
                )
            },
            record(
                "override-reasoning",
                Verdict::Inconclusive,
                Some(FailureClass::Throttled),
                Some(429),
                41,
                vec![Finding::of_request(
                    "status",
                    "POST /api/v1/query",
                    "200",
                    "429",
                    Some(
                        "rate limited (10 queries/hour per client): wait before trying again, or spend fewer \
                         queries — body: {\"error\":\"Rate limit exceeded: 10 per 1 hour\"}",
                    ),
                )],
            ),
        ]
    }

    #[test]
    fn table_is_exact() {
        let expected = "\
oewsprobe check: http://127.0.0.1:8000
PROBE               VERDICT       CLASS              STATUS    LATENCY
health              PASS          -                     200        3ms
query-trace         FAIL          contract              200     24.31s
    - data_sources[1].agent: expected \"cortex\", got \"cortex_researcher\"
override-reasoning  INCONCLUSIVE  throttled             429       41ms
    - POST /api/v1/query: expected 200, got 429 — rate limited (10 queries/hour per client): wait before trying again, or spend fewer queries — body: {\"error\":\"Rate limit exceeded: 10 per 1 hour\"}
1 of 3 probes passed (1 failed, 1 inconclusive): FAIL
valid queries spent: 1
";
        assert_eq!(table("http://127.0.0.1:8000", &sample()), expected);
    }

    #[test]
    fn known_findings_are_marked_and_resolved_entries_follow() {
        let mut passed = record("health", Verdict::Pass, None, Some(404), 3, vec![]);
        passed.known_drift = vec![Finding::of_request("status", "GET /h", "200", "404", None)];
        let table = table("http://t", &[passed]);
        assert_eq!(
            table.lines().nth(3),
            Some("    - known: GET /h: expected 200, got 404")
        );
        let gone = crate::known_drift::KnownEntry {
            probe: "models".into(),
            check: "models".into(),
            expected: "present".into(),
            actual: "absent".into(),
            accepted: "2026-11-30".into(),
            note: Some("not shown".into()),
        };
        assert_eq!(
            resolved_table(&[&gone]),
            "resolved drift: models: models: expected present, got absent — no longer seen: its known entry can be removed\n"
        );
        assert_eq!(
            resolved_json(&[&gone]),
            serde_json::json!([{"probe": "models", "check": "models", "expected": "present",
                                "actual": "absent", "accepted": "2026-11-30"}])
        );
    }

    #[test]
    fn json_has_the_documented_fields() {
        let doc = json("http://127.0.0.1:8000", &sample());
        assert_eq!(doc["target"], "http://127.0.0.1:8000");
        assert_eq!(
            (
                doc["passed"].as_u64(),
                doc["failed"].as_u64(),
                doc["inconclusive"].as_u64()
            ),
            (Some(1), Some(1), Some(1))
        );
        assert_eq!(doc["verdict"], "fail");
        assert_eq!(doc["queries"], 1);
        let probe = &doc["probes"][1];
        assert_eq!(
            probe["request"],
            serde_json::json!({"method": "POST", "url": "http://127.0.0.1:8000/api/v1/query"})
        );
        assert_eq!(probe["queries"], 1);
        assert_eq!(probe["name"], "query-trace");
        assert_eq!(probe["verdict"], "fail");
        assert_eq!(probe["class"], "contract");
        assert_eq!(probe["status"], 200);
        assert_eq!(probe["latency_ms"], 24310.0);
        assert_eq!(
            probe["findings"][0],
            serde_json::json!({
                "check": "trace",
                "path": "data_sources[1].agent",
                "expected": "\"cortex\"",
                "actual": "\"cortex_researcher\"",
                "message": "data_sources[1].agent: expected \"cortex\", got \"cortex_researcher\""
            })
        );
        assert_eq!(doc["probes"][0]["class"], serde_json::Value::Null);
    }
}
