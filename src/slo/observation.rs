//! The input of every SLO computation (one probe run) and the tally of good, bad and excluded runs.

use crate::probe::{FailureClass, ProbeRecord, Verdict};
use serde::Serialize;
use std::time::Duration;

/// One probe run, as the SLO math sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// When the run was scheduled, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    pub probe: String,
    pub verdict: Verdict,
    pub class: Option<FailureClass>,
    /// From the scheduled instant to the end of the response.
    pub latency: Duration,
}

impl From<&ProbeRecord> for Observation {
    fn from(record: &ProbeRecord) -> Observation {
        Observation {
            at_ms: record.scheduled_at_ms,
            probe: record.probe.clone(),
            verdict: record.verdict,
            class: record.class,
            latency: record.latency,
        }
    }
}

/// How one observation counts towards one objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sample {
    Good,
    Bad,
    /// Neither good nor bad: excluded from every SLI.
    Inconclusive,
}

/// Runs of an objective's probes in some span of time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub good: u64,
    pub bad: u64,
    /// Inconclusive runs: reported, never part of a ratio.
    pub inconclusive: u64,
    /// Of the inconclusive runs, failed runs that were a location problem (fleet mode: too few locations
    /// failed their bucket for the quorum); never bad.
    #[serde(skip_serializing_if = "is_zero")]
    pub location_problems: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Counts {
    pub fn new(good: u64, bad: u64, inconclusive: u64) -> Counts {
        Counts {
            good,
            bad,
            inconclusive,
            location_problems: 0,
        }
    }

    /// These counts without `other`'s, which they include (saturating at zero).
    pub fn less(self, other: Counts) -> Counts {
        Counts {
            location_problems: self
                .location_problems
                .saturating_sub(other.location_problems),
            ..Counts::new(
                self.good.saturating_sub(other.good),
                self.bad.saturating_sub(other.bad),
                self.inconclusive.saturating_sub(other.inconclusive),
            )
        }
    }

    /// These counts with `runs` of their failed runs judged location problems: inconclusive, not bad (at
    /// most as many as failed).
    pub fn with_location_problems(self, runs: u64) -> Counts {
        let runs = runs.min(self.bad);
        Counts {
            bad: self.bad - runs,
            inconclusive: self.inconclusive + runs,
            location_problems: self.location_problems + runs,
            ..self
        }
    }

    /// Good plus bad: the denominator of every SLI.
    pub fn conclusive(&self) -> u64 {
        self.good + self.bad
    }

    /// Bad among conclusive runs; `None` without a conclusive run.
    pub fn bad_fraction(&self) -> Option<f64> {
        match self.conclusive() {
            0 => None,
            n => Some(self.bad as f64 / n as f64),
        }
    }

    pub fn add(&mut self, sample: Sample) {
        match sample {
            Sample::Good => self.good += 1,
            Sample::Bad => self.bad += 1,
            Sample::Inconclusive => self.inconclusive += 1,
        }
    }
}

impl std::ops::Add for Counts {
    type Output = Counts;

    fn add(self, other: Counts) -> Counts {
        Counts {
            location_problems: self.location_problems + other.location_problems,
            ..Counts::new(
                self.good + other.good,
                self.bad + other.bad,
                self.inconclusive + other.inconclusive,
            )
        }
    }
}

impl std::iter::Sum for Counts {
    fn sum<I: Iterator<Item = Counts>>(iter: I) -> Counts {
        iter.fold(Counts::default(), |sum, c| sum + c)
    }
}
