//! The post-release watch: the pure, table-tested decision whether to call the rollback hook.
//!
//! Depends on `slo` (tier evaluations, counts) and `probe` (failure classes) only: no tokio, rusqlite or
//! clock. The daemon gathers a [`WatchInput`] from its store every few seconds during a release's watch —
//! the helpers [`ObjectiveWatch::observe`] and [`ProberHealth::measure`] build its parts from stored
//! observations — calls [`decide`], records the [`Decision`] with its [`Evidence`], and calls the hook only
//! for [`Decision::Rollback`], after writing the release's idempotency key.
//!
//! A wrongful rollback is worse than none, so every guard of the watch must hold for a rollback:
//!
//! 1. no rollback was recorded for this release yet (the idempotency key);
//! 2. the watch window is still open;
//! 3. the warm-up after the release is over;
//! 4. the prober itself is healthy (it ran, and not every run failed with a monitor-side network class);
//! 5. a page tier of some objective is breached (ticket tiers never roll back), and for that objective:
//!    the breach began after the release, no page tier was breached when the release started, each of its
//!    probes had a healthy baseline before the release, the breach is confirmed by data from after the
//!    warm-up alone (the tier's short window lies after the warm-up), and enough conclusive runs exist
//!    since the warm-up;
//! 6. and `dry_run` is off — otherwise the same decision is [`Decision::WouldRollback`]: recorded and
//!    reported, no hook.
//!
//! Inconclusive runs (429, 503 with Retry-After, budget skips) are excluded from every SLI, so they can
//! neither breach a tier nor count as samples: by themselves they never roll back.

mod decision;
mod evidence;
mod prober;
mod reason;
mod version;
mod watch;

pub use decision::{Decision, WatchInput, WatchSettings, decide};
pub use evidence::{BreachEvidence, Evidence, evidence_file_name, evidence_path};
pub use prober::{FleetHealth, MONITOR_SIDE_CLASSES, ProberHealth};
pub use reason::HoldReason;
pub use version::{VERSION_MAX, WATCH_MAX, check_version, check_watch};
pub use watch::{
    DEFAULT_BASELINE_WINDOW, DEFAULT_PROBER_WINDOW, DEFAULT_WATCH, ObjectiveBaseline,
    ObjectiveWatch, ProbeBaseline, RECOVERY_NOT_VERIFIED, RECOVERY_VERIFIED, Release, WatchCounts,
    WatchSpans,
};

#[cfg(test)]
mod decision_proptests;
#[cfg(test)]
mod decision_tests;
#[cfg(test)]
mod watch_tests;

/// An instant for people and logs: RFC 3339 in UTC, to the second. Never panics: a year past 9999 is written
/// with its sign (`+10000-01-01T00:00:00Z`), an instant beyond any calendar date as milliseconds.
pub(crate) fn instant_text(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(
            || format!("{ms} ms after the Unix epoch"),
            |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
}

#[cfg(test)]
#[test]
fn instant_text_renders_every_instant() {
    let cases = [
        (0, "1970-01-01T00:00:00Z"),
        (1_764_381_600_999, "2025-11-29T02:00:00Z"),
        (253_402_300_800_000, "+10000-01-01T00:00:00Z"),
        (u64::MAX, "18446744073709551615 ms after the Unix epoch"),
    ];
    for (ms, text) in cases {
        assert_eq!(instant_text(ms), text, "{ms}");
    }
}
