//! Is the prober itself healthy? A monitor whose own network is down must not roll anything back.

use crate::probe::{FailureClass, Verdict};
use crate::slo::{Observation, Span};
use serde::Serialize;
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

fn is_monitor_side(observation: &Observation) -> bool {
    observation.verdict == Verdict::Fail
        && observation
            .class
            .is_some_and(|c| MONITOR_SIDE_CLASSES.contains(&c))
}
