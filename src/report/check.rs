//! The `check` command's output: a table for people, one JSON document for machines.

use super::duration_text;
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

/// The table: a header line, one line per probe, its findings indented below it, and a summary line.
pub fn table(target: &str, records: &[ProbeRecord]) -> String {
    let name_width = records.iter().map(|r| r.probe.len()).max().unwrap_or(5).max(5);
    let mut out = format!("oewsprobe check: {target}\n");
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
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    target: &'a str,
    verdict: Verdict,
    passed: usize,
    failed: usize,
    inconclusive: usize,
    probes: Vec<JsonProbe<'a>>,
}

#[derive(Serialize)]
struct JsonProbe<'a> {
    name: &'a str,
    #[serde(flatten)]
    record: &'a ProbeRecord,
}

/// The JSON document (documented in README.md): totals, then each record under its probe name.
pub fn json(target: &str, records: &[ProbeRecord]) -> serde_json::Value {
    let tally = Tally::of(records);
    let report = JsonReport {
        target,
        verdict: tally.verdict(),
        passed: tally.passed,
        failed: tally.failed,
        inconclusive: tally.inconclusive,
        probes: records.iter().map(|record| JsonProbe { name: &record.probe, record }).collect(),
    };
    serde_json::to_value(report).unwrap_or_default()
}
