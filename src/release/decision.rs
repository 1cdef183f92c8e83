//! `decide`: rollback, would-rollback (dry run) or hold, from a snapshot of the watch. Pure.

use super::evidence::{BreachEvidence, Evidence, rollback_reason};
use super::prober::ProberHealth;
use super::reason::HoldReason;
use super::watch::{DEFAULT_BASELINE_WINDOW, DEFAULT_PROBER_WINDOW, ObjectiveWatch, Release};
use crate::slo::{Counts, millis};
use std::fmt;
use std::time::Duration;

/// How the watch judges a release. The defaults are cautious: dry run, a 10-minute warm-up.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchSettings {
    /// After the release starts, data from this long is discounted: the deploy's own restart and cold
    /// starts must not confirm a breach.
    pub warmup: Duration,
    /// Conclusive runs of a breached objective's probes since the warm-up, at least.
    pub min_samples: u32,
    /// The span before the release that forms the baseline.
    pub baseline_window: Duration,
    /// Conclusive runs of each probe in the baseline window, at least (and at least one whatever is set:
    /// a probe never seen before the release has no baseline to be healthy in).
    pub baseline_min_samples: u32,
    /// A probe whose baseline has a larger share of bad runs than this was broken before the release.
    pub baseline_max_bad_fraction: f64,
    /// The span over which the prober's own health is measured (see [`ProberHealth::measure`]).
    pub prober_window: Duration,
    /// Decide and record, but never call the hook. The default, until configured otherwise.
    pub dry_run: bool,
}

impl Default for WatchSettings {
    fn default() -> WatchSettings {
        WatchSettings {
            warmup: Duration::from_secs(10 * 60),
            min_samples: 5,
            baseline_window: DEFAULT_BASELINE_WINDOW,
            baseline_min_samples: 3,
            baseline_max_bad_fraction: 0.5,
            prober_window: DEFAULT_PROBER_WINDOW,
            dry_run: true,
        }
    }
}

/// A snapshot of one release's watch at `now_ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchInput {
    pub release: Release,
    pub settings: WatchSettings,
    pub now_ms: u64,
    /// The objectives covering the release's probes (see [`ObjectiveWatch::observe`]).
    pub objectives: Vec<ObjectiveWatch>,
    /// Measured across every probe over `settings.prober_window`.
    pub prober: ProberHealth,
    /// Whether this release's rollback idempotency key exists. Only a real rollback sets it: a dry run's
    /// would-rollback must not block a rollback once dry run is turned off.
    pub already_rolled_back: bool,
}

/// What the daemon does now.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Write the idempotency key, then call the hook with this reason and evidence.
    Rollback {
        reason: String,
        evidence: Evidence,
    },
    /// Dry run: record and report the decision and its evidence; do not call the hook.
    WouldRollback {
        reason: String,
        evidence: Evidence,
    },
    Hold {
        reason: HoldReason,
    },
}

impl Decision {
    pub fn is_rollback(&self) -> bool {
        matches!(self, Decision::Rollback { .. })
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Rollback { reason, evidence } => write!(
                f,
                "roll back {} to {}: {reason}",
                evidence.release.version, evidence.release.rollback_to
            ),
            Decision::WouldRollback { reason, evidence } => write!(
                f,
                "dry run: would roll back {} to {}: {reason}",
                evidence.release.version, evidence.release.rollback_to
            ),
            Decision::Hold { reason } => write!(f, "hold: {reason}"),
        }
    }
}

/// Decides, checking the guards in a fixed order so that the reported reason is the most fundamental one:
/// already rolled back, watch ended, warm-up, prober health, then each objective's own guards. A
/// rollback needs one objective that passes every guard; when none does, the reason reported is that of
/// the objective that came closest (the latest guard reached; the first such objective on a tie).
pub fn decide(input: &WatchInput) -> Decision {
    let hold = |reason| Decision::Hold { reason };
    let release = &input.release;
    let now = input.now_ms;
    let warmup_end = release.warmup_end_ms(input.settings.warmup);
    if input.already_rolled_back {
        return hold(HoldReason::AlreadyRolledBack);
    }
    if now >= release.until_ms {
        return hold(HoldReason::WatchEnded {
            until_ms: release.until_ms,
        });
    }
    if now < warmup_end {
        return hold(HoldReason::InWarmup {
            until_ms: warmup_end,
        });
    }
    if !input.prober.is_healthy() {
        return hold(HoldReason::ProberUnhealthy {
            health: input.prober,
        });
    }
    let mut breaches = Vec::new();
    let mut closest: Option<(Stage, HoldReason)> = None;
    for objective in &input.objectives {
        match assess(objective, input, warmup_end) {
            Assessment::Quiet => {}
            Assessment::Confirmed(found) => breaches.extend(found),
            Assessment::Held(stage, reason) => {
                if closest.as_ref().is_none_or(|(best, _)| stage > *best) {
                    closest = Some((stage, reason));
                }
            }
        }
    }
    if !breaches.is_empty() {
        let reason = rollback_reason(release, &breaches);
        let evidence = Evidence {
            reason: reason.clone(),
            dry_run: input.settings.dry_run,
            decided_at_ms: now,
            release: release.clone(),
            warmup_ends_at_ms: warmup_end,
            breaches,
            prober: input.prober,
        };
        return if input.settings.dry_run {
            Decision::WouldRollback { reason, evidence }
        } else {
            Decision::Rollback { reason, evidence }
        };
    }
    if let Some((_, reason)) = closest {
        return hold(reason);
    }
    let since_warmup: Counts = input.objectives.iter().map(|o| o.since_warmup).sum();
    hold(
        match (since_warmup.conclusive(), since_warmup.inconclusive) {
            (0, 0) => HoldReason::NoData,
            (0, inconclusive) => HoldReason::OnlyInconclusive { inconclusive },
            _ => HoldReason::NoBreach,
        },
    )
}

/// How far an objective got through the guards; a later stage is closer to a rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    BreachTiming,
    Baseline,
    Confirmation,
    Samples,
}

#[derive(Debug)]
enum Assessment {
    /// No page tier breached.
    Quiet,
    Held(Stage, HoldReason),
    Confirmed(Vec<BreachEvidence>),
}

/// The per-objective guards, in order: the breach began after the release; no page tier was breached at
/// release time; every probe's baseline is healthy; some breached page tier's short window lies after the
/// warm-up (post-warm-up data alone sustains it); enough conclusive runs since the warm-up.
///
/// The warm-up rule deliberately does not require the breach itself to begin after the warm-up: a release
/// broken from its first second breaches during the warm-up and stays breached, and must still roll back
/// once data from after the warm-up confirms it. Requiring the short window to clear the warm-up is what
/// keeps the deploy's own restart from being the evidence.
fn assess(objective: &ObjectiveWatch, input: &WatchInput, warmup_end: u64) -> Assessment {
    let name = || objective.objective.clone();
    let settings = &input.settings;
    let breached: Vec<_> = objective.page_breaches().collect();
    // The breached page tier whose short window clears the warm-up soonest.
    let Some(soonest) = breached.iter().copied().min_by_key(|t| t.tier.short) else {
        return Assessment::Quiet;
    };
    let earliest = breached
        .iter()
        .filter_map(|t| t.state.breached_since.map(|since| (since, t)))
        .min_by_key(|(since, _)| *since);
    if let Some((since, tier)) = earliest
        && since < input.release.started_at_ms
    {
        return Assessment::Held(
            Stage::BreachTiming,
            HoldReason::BreachBeforeRelease {
                objective: name(),
                tier: tier.tier.name.clone(),
                since_ms: since,
            },
        );
    }
    if objective.baseline.breached_at_release {
        return Assessment::Held(
            Stage::BreachTiming,
            HoldReason::BreachedAtRelease { objective: name() },
        );
    }
    if let Some(reason) = baseline_problem(objective, settings) {
        return Assessment::Held(Stage::Baseline, reason);
    }
    let confirmed: Vec<_> = breached
        .iter()
        .filter(|t| input.now_ms.saturating_sub(millis(t.tier.short)) >= warmup_end)
        .collect();
    if confirmed.is_empty() {
        return Assessment::Held(
            Stage::Confirmation,
            HoldReason::BreachInWarmup {
                objective: name(),
                tier: soonest.tier.name.clone(),
                short: soonest.tier.short,
                confirmable_at_ms: warmup_end.saturating_add(millis(soonest.tier.short)),
            },
        );
    }
    let conclusive = objective.since_warmup.conclusive();
    if conclusive < u64::from(settings.min_samples) {
        return Assessment::Held(
            Stage::Samples,
            HoldReason::TooFewSamples {
                objective: name(),
                conclusive,
                need: settings.min_samples,
            },
        );
    }
    Assessment::Confirmed(
        confirmed
            .into_iter()
            .map(|t| BreachEvidence {
                objective: name(),
                tier: t.tier.clone(),
                breached_since_ms: t.state.breached_since.unwrap_or(input.now_ms),
                long: t.long,
                short: t.short,
                since_warmup: objective.since_warmup,
                baseline: objective.baseline.probes.clone(),
            })
            .collect(),
    )
}

/// The first probe whose baseline is missing, too thin, or failing.
fn baseline_problem(objective: &ObjectiveWatch, settings: &WatchSettings) -> Option<HoldReason> {
    let baseline = &objective.baseline;
    if baseline.probes.is_empty() {
        return Some(HoldReason::BaselineMissing {
            objective: objective.objective.clone(),
        });
    }
    let need = settings.baseline_min_samples.max(1);
    baseline.probes.iter().find_map(|p| {
        let conclusive = p.counts.conclusive();
        if conclusive < u64::from(need) {
            Some(HoldReason::BaselineTooThin {
                objective: objective.objective.clone(),
                probe: p.probe.clone(),
                conclusive,
                need,
            })
        } else if p.counts.bad_fraction().unwrap_or(1.0) > settings.baseline_max_bad_fraction {
            Some(HoldReason::BaselineUnhealthy {
                objective: objective.objective.clone(),
                probe: p.probe.clone(),
                counts: p.counts,
            })
        } else {
            None
        }
    })
}
