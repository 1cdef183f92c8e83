//! Scheduling policy (pure): per-probe jitter, the rolling query budget, and backoff after throttling.

use std::time::Duration;

/// A stable offset in `[0, max)` for `probe`: the same on every start, different between probes, so that
/// probes sharing a schedule are spread out and a restart keeps the spread.
pub fn jitter(probe: &str, max: Duration) -> Duration {
    let max_ms = max.as_millis() as u64;
    if max_ms == 0 {
        return Duration::ZERO;
    }
    // FNV-1a: tiny, stable across releases and platforms (unlike std's hasher).
    let hash = probe.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    Duration::from_millis(hash % max_ms)
}

/// Whether a run spending `queries` fits in the budget, given what the rolling window already spent.
pub fn admits(spent_in_window: u32, queries: u32, budget: u32) -> bool {
    queries == 0 || spent_in_window.saturating_add(queries) <= budget
}

/// After a throttled (429) or at-capacity (503 + Retry-After) run, the earliest time the probe may run again:
/// the server's `Retry-After` when it gave seconds, else 1 min doubling with each consecutive throttled run
/// (`streak` counts them, from 1), at most 1 h.
pub fn backoff(retry_after: Option<&str>, streak: u32) -> Duration {
    const CAP: Duration = Duration::from_secs(3600);
    if let Some(seconds) = retry_after.and_then(|v| v.trim().parse::<u64>().ok()) {
        return Duration::from_secs(seconds).min(CAP);
    }
    let doublings = streak.saturating_sub(1).min(6);
    (Duration::from_secs(60) * 2u32.pow(doublings)).min(CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_stable_bounded_and_spread() {
        let max = Duration::from_secs(10);
        assert_eq!(jitter("health", max), jitter("health", max));
        let offsets: std::collections::BTreeSet<_> =
            ["health", "models", "query-trace", "query-charts-trace"]
                .iter()
                .map(|p| jitter(p, max))
                .collect();
        assert_eq!(offsets.len(), 4, "distinct probes get distinct offsets");
        assert!(offsets.iter().all(|d| *d < max));
        assert_eq!(jitter("health", Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn budget_admission() {
        let cases = [
            (0, 1, 4, true),
            (3, 1, 4, true),
            (4, 1, 4, false),
            (4, 0, 4, true),
            (0, 5, 4, false),
            (0, 1, 0, false),
        ];
        for (spent, queries, budget, expected) in cases {
            assert_eq!(
                admits(spent, queries, budget),
                expected,
                "{spent}+{queries} of {budget}"
            );
        }
    }

    #[test]
    fn backoff_honours_retry_after_then_doubles() {
        assert_eq!(backoff(Some("60"), 1), Duration::from_secs(60));
        assert_eq!(backoff(Some(" 120 "), 5), Duration::from_secs(120));
        assert_eq!(backoff(Some("99999"), 1), Duration::from_secs(3600));
        assert_eq!(backoff(None, 1), Duration::from_secs(60));
        assert_eq!(backoff(None, 3), Duration::from_secs(240));
        assert_eq!(
            backoff(Some("Wed, 21 Oct 2026 07:28:00 GMT"), 2),
            Duration::from_secs(120)
        );
        assert_eq!(backoff(None, 40), Duration::from_secs(3600));
    }
}
