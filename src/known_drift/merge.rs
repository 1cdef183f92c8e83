//! `drift accept`'s merge (pure): the baseline after the selected probes' runs — their entries replaced by
//! what their runs found, every other probe's entries kept, and an outage never taken for drift.

use super::KnownEntry;
use crate::probe::{FailureClass, ProbeRecord, Verdict};

/// The new baseline and how it differs from the old one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Merge {
    /// The entries to write (in the order found; the file sorts them).
    pub entries: Vec<KnownEntry>,
    pub added: Vec<KnownEntry>,
    /// Entries of the old file that the new one still holds (found again, or of a probe not run or skipped).
    pub kept: Vec<KnownEntry>,
    pub removed: Vec<KnownEntry>,
    /// Runs that were not judged on their response, `(probe, class)`: their probes' entries are kept as they
    /// were.
    pub skipped: Vec<(String, Option<FailureClass>)>,
}

/// Merges the findings of `runs` (not matched against any baseline) into `old`, dated `date`. An entry found
/// again keeps its date and note.
pub fn merge(old: &[KnownEntry], runs: &[ProbeRecord], date: &str) -> Merge {
    let mut out = Merge::default();
    let mut replaced: Vec<&str> = Vec::new();
    for run in runs {
        let found = match (run.verdict, run.class) {
            (Verdict::Pass, _) => Vec::new(),
            (Verdict::Fail, Some(FailureClass::Contract)) => run.findings.iter().collect(),
            (_, class) => {
                out.skipped.push((run.probe.clone(), class));
                continue;
            }
        };
        replaced.push(&run.probe);
        for finding in found {
            let fresh = KnownEntry::of(&run.probe, finding, date);
            if out.entries.iter().any(|e| e.same_finding(&fresh)) {
                continue;
            }
            match old.iter().find(|e| e.same_finding(&fresh)) {
                Some(again) => out.entries.push(again.clone()),
                None => {
                    out.added.push(fresh.clone());
                    out.entries.push(fresh);
                }
            }
        }
    }
    for entry in old {
        if !replaced.contains(&entry.probe.as_str()) {
            out.entries.push(entry.clone());
        }
        if out.entries.contains(entry) {
            out.kept.push(entry.clone());
        } else {
            out.removed.push(entry.clone());
        }
    }
    out
}

impl Merge {
    /// What `drift accept` prints: the target, a line per entry added, kept and removed, a line per skipped
    /// run, and what was written to `file`.
    pub fn report(&self, target: &str, file: &str) -> String {
        let mut out = format!("oewsprobe drift accept: {target}\n");
        for (word, entries) in [
            ("added", &self.added),
            ("kept", &self.kept),
            ("removed", &self.removed),
        ] {
            for entry in entries {
                out.push_str(&format!("{word:<8}{entry}\n"));
            }
        }
        for (probe, class) in &self.skipped {
            let class = class.map_or("-", FailureClass::as_str);
            out.push_str(&format!(
                "skipped {probe}: {class} is not contract drift (an outage or no verdict); its known entries are kept\n"
            ));
        }
        out.push_str(&format!(
            "wrote {file}: {} known findings ({} added, {} kept, {} removed)\n",
            self.entries.len(),
            self.added.len(),
            self.kept.len(),
            self.removed.len()
        ));
        out
    }
}
