//! A drift finding — one difference between a probe and the service's OpenAPI document — and its table and
//! JSON renderings (pure).

use serde::Serialize;

/// One difference, named: `check` (kebab name), the probe, the document `path` (a JSON pointer) where the
/// fact lives, what the probe expects, what the document says, and a one-line message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftFinding {
    pub check: &'static str,
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
        out.push_str(&format!(
            "    - {} {}: {}\n",
            finding.check, finding.path, finding.message
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
