//! How a simulator instance is configured when it starts.

use std::time::Duration;

use super::{Fault, Profile};

/// Start-up settings of a [`super::SimServer`].
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// Which contract to play.
    pub profile: Profile,
    /// Faults active from the start (replaceable at run time).
    pub faults: Vec<Fault>,
    /// Extra time every valid query takes before it is answered (it holds a capacity slot meanwhile).
    pub latency: Duration,
    /// Seed of the pseudo-random generator behind `flaky`.
    pub seed: u64,
    /// Valid queries allowed per client address and hour; `None` takes the profile's default
    /// (as-built: 10, runbook: unlimited).
    pub rate_limit_per_hour: Option<u32>,
    /// Workflows allowed in flight at once; more answer 503 "System at capacity".
    pub max_concurrent: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            profile: Profile::Runbook,
            faults: Vec::new(),
            latency: Duration::ZERO,
            seed: 1,
            rate_limit_per_hour: None,
            max_concurrent: 8,
        }
    }
}

impl SimOptions {
    /// The rate limit in force: the explicit one, else the profile's default.
    pub fn effective_rate_limit_per_hour(&self) -> Option<u32> {
        self.rate_limit_per_hour
            .or_else(|| self.profile.default_rate_limit_per_hour())
    }
}
