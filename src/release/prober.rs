//! Is the prober itself healthy? A monitor whose own network is down must not roll anything back.

use crate::probe::{FailureClass, Verdict};
use crate::slo::{Observation, Span};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Failure classes that a failure of the monitor's own network produces as readily as a target outage:
///
/// * `dns` — the monitor's resolver is unreachable (a release does not change DNS records);
/// * `connect_timeout` — no route from the monitor (or the target host is down: the two look the same);
/// * `network` — connections reset or cut before any response.
///
/// Not included, because they prove the monitor reached something: `connect_refused` (the target host
/// answered with a reset: nothing listens — a container that did not start is exactly what a rollback is
/// for), `tls` (a handshake took place; certificate problems are the target's), `timeout` (connected, no
/// answer in time), proxy and server errors, contract failures.
pub const MONITOR_SIDE_CLASSES: [FailureClass; 3] = [
    FailureClass::Dns,
    FailureClass::ConnectTimeout,
    FailureClass::Network,
];

/// The prober's own health over a recent window, across **all** probes (cheap ones like health included),
/// not only the probes of the objectives under watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProberHealth {
    #[serde(serialize_with = "crate::slo::serialize_span")]
    pub window: Duration,
    /// Every recorded run in the window, whatever its verdict (budget skips included).
    pub runs: u64,
    /// Failed runs whose class is one of [`MONITOR_SIDE_CLASSES`].
    pub monitor_side_failures: u64,
}

impl ProberHealth {
    /// Measures the window `(now − window, now]` over every probe's observations.
    pub fn measure(observations: &[Observation], now_ms: u64, window: Duration) -> ProberHealth {
        let span = Span::ending_at(now_ms, window);
        let recent = observations.iter().filter(|o| span.contains(o.at_ms));
        let (runs, monitor_side_failures) = recent.fold((0, 0), |(runs, failures), o| {
            (runs + 1, failures + u64::from(is_monitor_side(o)))
        });
        ProberHealth {
            window,
            runs,
            monitor_side_failures,
        }
    }

    /// Healthy unless nothing ran in the window (a stalled scheduler leaves only stale data) or every run
    /// failed with a monitor-side class. One probe that reaches the target is enough to trust the others.
    pub fn is_healthy(&self) -> bool {
        self.runs > 0 && self.monitor_side_failures < self.runs
    }
}

/// The prober's health per location (fleet mode): the guard judges the locations whose prober is healthy,
/// and leaves the others out of the location quorum (their failures are location problems, never a reason to
/// roll back, and never a quorum for the others) rather than letting one location's network block or trigger
/// a decision. One location: exactly [`ProberHealth::measure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetHealth {
    /// The health over the healthy locations' runs; over every run when no location is healthy (then the guard
    /// holds, as with one agent).
    pub overall: ProberHealth,
    /// The locations with runs in the window whose prober is unhealthy, when another one is healthy.
    pub left_out: BTreeSet<String>,
}

impl FleetHealth {
    /// Measures each location's window `(now − window, now]` over its own observations (`(location,
    /// observation)`).
    pub fn measure(
        observations: &[(&str, Observation)],
        now_ms: u64,
        window: Duration,
    ) -> FleetHealth {
        let mut by_location: BTreeMap<&str, Vec<Observation>> = BTreeMap::new();
        for (location, observation) in observations {
            by_location
                .entry(location)
                .or_default()
                .push(observation.clone());
        }
        let (healthy, unhealthy): (Vec<_>, Vec<_>) = by_location
            .into_iter()
            .partition(|(_, runs)| ProberHealth::measure(runs, now_ms, window).is_healthy());
        if healthy.is_empty() {
            let all: Vec<Observation> = observations.iter().map(|(_, o)| o.clone()).collect();
            return FleetHealth {
                overall: ProberHealth::measure(&all, now_ms, window),
                left_out: BTreeSet::new(),
            };
        }
        let kept: Vec<Observation> = healthy.into_iter().flat_map(|(_, runs)| runs).collect();
        FleetHealth {
            overall: ProberHealth::measure(&kept, now_ms, window),
            left_out: unhealthy
                .into_iter()
                .filter(|(_, runs)| ProberHealth::measure(runs, now_ms, window).runs > 0)
                .map(|(location, _)| location.to_string())
                .collect(),
        }
    }
}

fn is_monitor_side(observation: &Observation) -> bool {
    observation.verdict == Verdict::Fail
        && observation
            .class
            .is_some_and(|c| MONITOR_SIDE_CLASSES.contains(&c))
}
