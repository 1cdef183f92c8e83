//! The evidence behind a rollback decision: written as a JSON file for the hook, stored, and emailed.

use super::instant_text;
use super::prober::ProberHealth;
use super::watch::{ProbeBaseline, Release};
use crate::slo::{Counts, Tier, WindowStat, number, span_text};
use serde::Serialize;

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
