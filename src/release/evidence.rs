//! The evidence behind a rollback decision: written as a JSON file for the hook, stored, and emailed.

use super::instant_text;
use super::prober::ProberHealth;
use super::watch::{ProbeBaseline, Release};
use crate::slo::{Counts, Tier, WindowStat, number, span_text};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The evidence file's name for `version` at `at_ms`: every character but letters, digits, `.`, `_` and `-`
/// becomes `_`, so a version like `feature/x` or `registry:5000/api` never names a directory.
pub fn evidence_file_name(version: &str, at_ms: u64) -> String {
    let safe: String = version
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("rollback-{safe}-{at_ms}.json")
}

/// The evidence file in `dir`, as an absolute path (the hook may run in another directory).
pub fn evidence_path(dir: &Path, version: &str, at_ms: u64) -> PathBuf {
    std::path::absolute(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .join(evidence_file_name(version, at_ms))
}

/// Everything a rollback (or a dry-run's would-be rollback) rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The decision's text, as also given to the hook in `OEWSPROBE_REASON`.
    pub reason: String,
    pub dry_run: bool,
    pub decided_at_ms: u64,
    pub release: Release,
    pub warmup_ends_at_ms: u64,
    /// Every confirmed page-tier breach, at least one.
    pub breaches: Vec<BreachEvidence>,
    pub prober: ProberHealth,
}

/// One breached page tier of one objective, with the figures that passed every guard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreachEvidence {
    pub objective: String,
    pub tier: Tier,
    pub breached_since_ms: u64,
    pub long: WindowStat,
    pub short: WindowStat,
    /// The objective's runs since the warm-up ended.
    pub since_warmup: Counts,
    /// The objective's probes before the release.
    pub baseline: Vec<ProbeBaseline>,
}

impl BreachEvidence {
    /// `"queries" page-1h breached since T: 20× over 1h (12 bad of 60), 100× over 5m (5 bad of 5)`.
    pub fn summary(&self) -> String {
        format!(
            "\"{}\" {} breached since {}: {}, {}",
            self.objective,
            self.tier.name,
            instant_text(self.breached_since_ms),
            window_text(&self.long),
            window_text(&self.short)
        )
    }
}

fn window_text(w: &WindowStat) -> String {
    format!(
        "{}× over {} ({} bad of {})",
        w.burn_rate.map_or_else(|| "no burn".to_string(), number),
        span_text(w.window),
        w.counts.bad,
        w.counts.conclusive()
    )
}

/// The reason text of a rollback: every breach's summary, after the release it follows.
pub(crate) fn rollback_reason(release: &Release, breaches: &[BreachEvidence]) -> String {
    let summaries: Vec<String> = breaches.iter().map(BreachEvidence::summary).collect();
    format!(
        "{} after release {} (started {})",
        summaries.join("; "),
        release.version,
        instant_text(release.started_at_ms)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_evidence_file_name_never_names_a_directory() {
        let table = [
            ("main-1a2b3c4", "rollback-main-1a2b3c4-7.json"),
            ("feature/x", "rollback-feature_x-7.json"),
            ("../../etc/passwd", "rollback-.._.._etc_passwd-7.json"),
            (
                "reg:5000/api@sha256:ab+c",
                "rollback-reg_5000_api_sha256_ab_c-7.json",
            ),
        ];
        for (version, name) in table {
            assert_eq!(evidence_file_name(version, 7), name, "{version}");
        }
    }

    #[test]
    fn the_evidence_path_is_absolute() {
        let path = evidence_path(Path::new("relative/dir"), "feature/x", 7);
        assert!(path.is_absolute(), "{}", path.display());
        assert!(
            path.ends_with("relative/dir/rollback-feature_x-7.json"),
            "{}",
            path.display()
        );
        assert_eq!(
            evidence_path(Path::new("/var/lib/oewsprobe"), "a/b", 1),
            Path::new("/var/lib/oewsprobe/rollback-a_b-1.json")
        );
    }
}
