//! A drift finding — one difference between a probe and the service's OpenAPI document — and its table and
//! JSON renderings (pure).

use crate::probe::Finding;
use serde::Serialize;

/// One difference, named: `check` (kebab name), the probe, the document `path` (a JSON pointer) where the
/// fact lives (empty for a live run's finding that no place in the document explains), what the probe
/// expects, what the document (or the live response) says, and a one-line message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftFinding {
    pub check: String,
    pub probe: String,
    pub path: String,
    pub expected: String,
    pub actual: String,
    pub message: String,
}

/// The report's table: a heading naming the target and its document, each probe with findings followed by
/// one line per finding, and a summary line over `compared` probes.
pub fn drift_table(
    target: &str,
    document: &str,
    compared: usize,
    findings: &[DriftFinding],
) -> String {
    let mut out = format!("oewsprobe drift: {target} — {document}\n");
    let mut probes: Vec<&str> = Vec::new();
    for finding in findings {
        if probes.last() != Some(&finding.probe.as_str()) {
            probes.push(&finding.probe);
            out.push_str(&finding.probe);
            out.push('\n');
        }
        let place = if finding.path.is_empty() {
            String::new()
        } else {
            format!(" {}", finding.path)
        };
        out.push_str(&format!(
            "    - {}{place}: {}\n",
            finding.check, finding.message
        ));
    }
    probes.dedup();
    let verdict = if findings.is_empty() { "OK" } else { "DRIFT" };
    out.push_str(&format!(
        "{} in {} of {compared} probes: {verdict}\n",
        plural(findings.len(), "finding"),
        probes.len()
    ));
    out
}

/// A live run's finding as drift: `live-CHECK` (kebab case); an `openapi` finding keeps the keyword's document pointer.
pub fn live_finding(probe: &str, finding: &Finding) -> DriftFinding {
    let path = if finding.check == "openapi" && finding.expected.starts_with("#/") {
        finding.expected.clone()
    } else {
        String::new()
    };
    DriftFinding {
        check: format!("live-{}", finding.check.replace('_', "-")),
        probe: probe.to_owned(),
        path,
        expected: finding.expected.clone(),
        actual: finding.actual.clone(),
        message: finding.message.clone(),
    }
}

/// The findings as a JSON array of objects with exactly the fields of [`DriftFinding`].
pub fn drift_json(findings: &[DriftFinding]) -> String {
    // Serialized from the structs, so each object's fields keep their declared order.
    let text = serde_json::to_string_pretty(findings).unwrap_or_default();
    format!("{text}\n")
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
