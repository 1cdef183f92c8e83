//! Why the watch holds, one variant per guard, each rendered as exact text for people.

use super::instant_text;
use super::prober::{MONITOR_SIDE_CLASSES, ProberHealth};
use crate::slo::{Counts, span_text};
use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// Why no rollback: the first guard that failed. Serialized with its name as `hold`, for the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "hold", rename_all = "snake_case")]
pub enum HoldReason {
    /// The idempotency key of this release exists: the hook runs at most once per release.
    AlreadyRolledBack,
    WatchEnded {
        until_ms: u64,
    },
    InWarmup {
        until_ms: u64,
    },
    ProberUnhealthy {
        health: ProberHealth,
    },
    /// No page tier is breached, and no run at all since the warm-up.
    NoData,
    /// No page tier is breached, and every run since the warm-up was inconclusive.
    OnlyInconclusive {
        inconclusive: u64,
    },
    NoBreach,
    BreachBeforeRelease {
        objective: String,
        tier: String,
        since_ms: u64,
    },
    BreachedAtRelease {
        objective: String,
    },
    BaselineMissing {
        objective: String,
    },
    BaselineTooThin {
        objective: String,
        probe: String,
        conclusive: u64,
        need: u32,
    },
    BaselineUnhealthy {
        objective: String,
        probe: String,
        counts: Counts,
    },
    /// The breach began after the release, but its short window still reaches into the warm-up.
    BreachInWarmup {
        objective: String,
        tier: String,
        #[serde(serialize_with = "crate::slo::serialize_span")]
        short: Duration,
        confirmable_at_ms: u64,
    },
    TooFewSamples {
        objective: String,
        conclusive: u64,
        need: u32,
    },
}

const NOT_A_REGRESSION: &str = "a monitor or config problem, not a regression";

impl fmt::Display for HoldReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HoldReason::AlreadyRolledBack => f.write_str(
                "a rollback was already recorded for this release; the hook runs at most once",
            ),
            HoldReason::WatchEnded { until_ms } => {
                write!(f, "the watch ended at {}", instant_text(*until_ms))
            }
            HoldReason::InWarmup { until_ms } => {
                write!(
                    f,
                    "in the warm-up after the release until {}",
                    instant_text(*until_ms)
                )
            }
            HoldReason::ProberUnhealthy { health } if health.runs == 0 => write!(
                f,
                "the prober itself looks unhealthy: no probe ran in the last {}",
                span_text(health.window)
            ),
            HoldReason::ProberUnhealthy { health } => write!(
                f,
                "the prober itself looks unhealthy: all {} runs in the last {} failed with monitor-side \
                 network errors ({}) — a monitor whose own network is down must not roll back",
                health.runs,
                span_text(health.window),
                MONITOR_SIDE_CLASSES.map(|c| c.as_str()).join(", ")
            ),
            HoldReason::NoData => f.write_str("no probe results since the warm-up ended"),
            HoldReason::OnlyInconclusive { inconclusive } => write!(
                f,
                "only inconclusive results since the warm-up ended ({inconclusive}: throttled, at capacity \
                 or skipped for budget) — they say nothing about the release"
            ),
            HoldReason::NoBreach => f.write_str("no page-level SLO breach"),
            HoldReason::BreachBeforeRelease {
                objective,
                since_ms,
                ..
            } => write!(
                f,
                "the breach of \"{objective}\" began before the release (at {}) — {NOT_A_REGRESSION}",
                instant_text(*since_ms)
            ),
            HoldReason::BreachedAtRelease { objective } => write!(
                f,
                "\"{objective}\" was breaching a page tier when the release started — {NOT_A_REGRESSION}"
            ),
            HoldReason::BaselineMissing { objective } => write!(
                f,
                "\"{objective}\" has no pre-release baseline to tell a regression from a standing problem"
            ),
            HoldReason::BaselineTooThin {
                objective,
                probe,
                conclusive,
                need,
            } => write!(
                f,
                "probe \"{probe}\" of \"{objective}\" had {conclusive} conclusive results before the \
                 release, fewer than the {need} needed to tell a regression from a standing problem"
            ),
            HoldReason::BaselineUnhealthy {
                objective,
                probe,
                counts,
            } => write!(
                f,
                "probe \"{probe}\" of \"{objective}\" was failing before the release ({} bad of {} \
                 conclusive results) — {NOT_A_REGRESSION}",
                counts.bad,
                counts.conclusive()
            ),
            HoldReason::BreachInWarmup {
                objective,
                tier,
                short,
                confirmable_at_ms,
            } => write!(
                f,
                "the breach of \"{objective}\" ({tier}) is not yet confirmed by data from after the \
                 warm-up: its {} short window clears the warm-up at {}",
                span_text(*short),
                instant_text(*confirmable_at_ms)
            ),
            HoldReason::TooFewSamples {
                objective,
                conclusive,
                need,
            } => write!(
                f,
                "\"{objective}\" has {conclusive} conclusive results since the warm-up ended, fewer than \
                 the {need} required"
            ),
        }
    }
}
