//! A compiled objective: which probes it covers, what counts as good, the target, the period and its tiers.

use super::observation::{Observation, Sample};
use crate::probe::Verdict;
use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// The error-budget period when none is configured.
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(30 * 24 * 3600);

/// The minimum-failures guard when none is configured: a tier fires only once its long window holds at least
/// this many bad runs. 3 means a query probe running four times an hour needs three failures in the hour.
pub const DEFAULT_MIN_BAD: u32 = 3;

/// One objective, validated by [`compile`](super::compile).
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    pub name: String,
    /// The probes whose runs count towards this objective.
    pub probes: Vec<String>,
    pub sli: Sli,
    /// The share of conclusive runs that must be good, strictly between 0 and 1 (0.99 for 99 %).
    pub target: f64,
    /// The error-budget period.
    pub period: Duration,
    pub tiers: Vec<Tier>,
    /// The minimum-failures guard. 0 disables it (a single bad run may then breach a tier).
    pub min_bad: u32,
    /// How many locations must fail a bucket for its failed runs to be bad (`fleet.quorum`; availability
    /// objectives): fewer, and they are location problems (see [`crate::fleet::buckets`]).
    pub quorum: crate::fleet::Quorum,
}

impl Objective {
    /// Whether runs of `probe` count towards this objective.
    pub fn covers(&self, probe: &str) -> bool {
        self.probes.iter().any(|p| p == probe)
    }

    /// How an observation counts towards this objective; `None` when it is another probe's run.
    pub fn classify(&self, observation: &Observation) -> Option<Sample> {
        self.covers(&observation.probe)
            .then(|| self.sli.classify(observation))
    }
}

/// What makes a run good. Both SLIs count only conclusive runs (pass and fail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sli {
    /// Good: the run passed. Bad: it failed.
    Availability,
    /// Good: the run passed within `threshold` (inclusive). Bad: it failed, or passed slower than that.
    ///
    /// A failed run is bad here too rather than excluded: a user who got an error did not get a fast answer,
    /// and excluding failures would let a service that fails fast look perfectly quick. The price is that an
    /// outage burns both the availability and the latency objective of the same probes.
    Latency { threshold: Duration },
}

impl Sli {
    pub fn classify(self, observation: &Observation) -> Sample {
        match (observation.verdict, self) {
            (Verdict::Inconclusive, _) => Sample::Inconclusive,
            (Verdict::Fail, _) => Sample::Bad,
            (Verdict::Pass, Sli::Availability) => Sample::Good,
            (Verdict::Pass, Sli::Latency { threshold }) if observation.latency <= threshold => {
                Sample::Good
            }
            (Verdict::Pass, Sli::Latency { .. }) => Sample::Bad,
        }
    }
}

/// How loudly a breached tier alerts. Only page tiers can trigger a rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Page,
    Ticket,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One multi-window burn-rate alert: breached when both windows burn at or above `burn`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tier {
    pub name: String,
    pub severity: Severity,
    #[serde(serialize_with = "super::serialize_span")]
    pub long: Duration,
    /// Shorter than `long`: it makes the tier reset soon after the problem stops.
    #[serde(serialize_with = "super::serialize_span")]
    pub short: Duration,
    pub burn: f64,
}

impl Tier {
    pub fn new(name: &str, severity: Severity, long: Duration, short: Duration, burn: f64) -> Tier {
        Tier {
            name: name.to_string(),
            severity,
            long,
            short,
            burn,
        }
    }
}

/// The SRE workbook's tiers: page at 14.4× over 1 h (5 m short window), page at 6× over 6 h (30 m), ticket
/// at 1× over 3 days (6 h).
pub fn default_tiers() -> Vec<Tier> {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 3600;
    let d = Duration::from_secs;
    vec![
        Tier::new("page-1h", Severity::Page, d(HOUR), d(5 * MINUTE), 14.4),
        Tier::new("page-6h", Severity::Page, d(6 * HOUR), d(30 * MINUTE), 6.0),
        Tier::new(
            "ticket-3d",
            Severity::Ticket,
            d(72 * HOUR),
            d(6 * HOUR),
            1.0,
        ),
    ]
}
