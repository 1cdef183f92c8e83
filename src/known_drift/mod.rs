//! Known drift (pure): the reviewed baseline of contract findings (`known-drift.toml`) that must not page —
//! which findings of a run are known, what a run with only known findings becomes, and which known entries
//! no longer occur (resolved drift).

mod file;
mod merge;

pub use file::{DEFAULT_KNOWN_FILE, parse, render};
pub use merge::{Merge, merge};

use crate::probe::{FailureClass, Finding, ProbeRecord, Verdict};
use std::fmt;
use std::path::PathBuf;

/// One accepted finding: which probe, where (the finding's place: a path, or the request line of a status
/// finding), what was expected and what came back, when it was accepted and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KnownEntry {
    pub probe: String,
    pub check: String,
    pub expected: String,
    pub actual: String,
    /// `YYYY-MM-DD`.
    pub accepted: String,
    pub note: Option<String>,
}

impl KnownEntry {
    /// The entry of `finding` of `probe`, accepted on `date`.
    pub fn of(probe: &str, finding: &Finding, date: &str) -> KnownEntry {
        KnownEntry {
            probe: probe.to_string(),
            check: finding.place().to_string(),
            expected: finding.expected.clone(),
            actual: finding.actual.clone(),
            accepted: date.to_string(),
            note: None,
        }
    }

    /// Whether `finding` of `probe` is this entry's: probe, place, expected and actual all equal.
    pub fn matches(&self, probe: &str, finding: &Finding) -> bool {
        self.probe == probe
            && self.check == finding.place()
            && self.expected == finding.expected
            && self.actual == finding.actual
    }

    /// The identity of the finding (what [`KnownEntry::matches`] compares), without date and note.
    pub fn same_finding(&self, other: &KnownEntry) -> bool {
        (&self.probe, &self.check, &self.expected, &self.actual)
            == (&other.probe, &other.check, &other.expected, &other.actual)
    }
}

impl fmt::Display for KnownEntry {
    /// `PROBE: CHECK: expected E, got A`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: expected {}, got {}",
            self.probe, self.check, self.expected, self.actual
        )
    }
}

/// The baseline of a plan: the file it comes from (it may not exist: then it is empty) and its entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownDrift {
    pub file: PathBuf,
    pub entries: Vec<KnownEntry>,
}

impl KnownDrift {
    /// The entries of `probe`.
    pub fn of_probe<'a>(&'a self, probe: &'a str) -> impl Iterator<Item = &'a KnownEntry> + 'a {
        self.entries.iter().filter(move |e| e.probe == probe)
    }

    fn is_known(&self, probe: &str, finding: &Finding) -> bool {
        self.of_probe(probe).any(|e| e.matches(probe, finding))
    }

    /// Moves the known findings of a contract failure from `findings` to `known_drift`. When none is left
    /// and `accept` holds (`run`, `check --accept-known`), the run passes. Any other run is left as it is:
    /// an outage is never drift.
    pub fn apply(&self, record: &mut ProbeRecord, accept: bool) {
        if record.class != Some(FailureClass::Contract) {
            return;
        }
        let (known, other): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut record.findings)
            .into_iter()
            .partition(|f| self.is_known(&record.probe, f));
        record.findings = other;
        record.known_drift = known;
        if accept && record.findings.is_empty() {
            record.verdict = Verdict::Pass;
            record.class = None;
        }
    }

    /// The entries of `record`'s probe that its run, judged on the response (a pass or a contract failure),
    /// did not find: drift that is gone, whose entries can be removed.
    pub fn resolved<'a>(&'a self, record: &'a ProbeRecord) -> Vec<&'a KnownEntry> {
        let judged =
            record.verdict == Verdict::Pass || record.class == Some(FailureClass::Contract);
        if !judged {
            return Vec::new();
        }
        self.of_probe(&record.probe)
            .filter(|e| {
                !record
                    .findings
                    .iter()
                    .chain(&record.known_drift)
                    .any(|f| e.matches(&record.probe, f))
            })
            .collect()
    }
}

/// The line that reports a resolved entry.
pub fn resolved_line(entry: &KnownEntry) -> String {
    format!("resolved drift: {entry} — no longer seen: its known entry can be removed")
}

#[cfg(test)]
mod tests;
