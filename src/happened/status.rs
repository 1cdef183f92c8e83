//! What `status` shows (and the metrics refresher reads): per-probe figures over a window (across locations,
//! and per location when more than one ran the probe), the query budget, the release watch, the alerts.

use crate::report::{AlertStatus, BudgetStatus, Status, WatchStatus, location_text, probe_status};
use crate::slo::Span;
use crate::store::{Store, StoreResult};
use std::time::Duration;

/// The span the query budget counts: the last hour.
const BUDGET_WINDOW: Duration = Duration::from_secs(3600);

/// Everything `status` shows at `now` over the window `(now − window_ms, now]`, but the objectives (see
/// [`super::evaluate_objectives`]). Read in one snapshot.
pub fn status(
    store: &Store,
    probes: &[String],
    queries_per_hour: u32,
    window_ms: u64,
    now: u64,
) -> StoreResult<Status> {
    store.atomically(|store| {
        let span = Span::ending_at(now, Duration::from_millis(window_ms));
        let (mut windows, mut by_location) =
            store.window_rollups_and_locations(probes, span, true)?;
        let probes = probes
            .iter()
            .map(|name| {
                let window = windows.remove(name).unwrap_or_default();
                let last = store.latest_run_in(name, span)?;
                let mut status = probe_status(name, &window, last.as_ref());
                let locations = by_location.remove(name).unwrap_or_default();
                if locations.len() > 1 {
                    for (location, window) in &locations {
                        let last = store.latest_run_from(name, Some(location), span)?;
                        let shown = location_text(location);
                        status
                            .locations
                            .push(probe_status(shown, window, last.as_ref()));
                    }
                }
                if let Some(last) = &last {
                    status.last_known_drift = store.known_drift_of(last.id)?;
                    if let Some(tls) = store.tls_of(last.id)? {
                        status.last_insecure = tls.insecure;
                        status.last_warnings =
                            tls.warnings.into_iter().map(|w| w.message).collect();
                    }
                }
                Ok(status)
            })
            .collect::<StoreResult<_>>()?;
        Ok(Status {
            now_ms: now,
            window_ms,
            probes,
            objectives: Vec::new(),
            budget: budget(store, queries_per_hour, now)?,
            release: release_watch(store, now)?,
            alerts: alert_status(store, now)?,
        })
    })
}

/// The query budget at `now`: what the last hour spent of `queries_per_hour`.
pub fn budget(store: &Store, queries_per_hour: u32, now: u64) -> StoreResult<BudgetStatus> {
    let since = now.saturating_sub(crate::slo::millis(BUDGET_WINDOW));
    let spent = store.spent_since(since)?;
    Ok(BudgetStatus {
        queries_per_hour,
        spent_last_hour: spent,
        left: queries_per_hour.saturating_sub(spent),
    })
}

/// The open release, else the latest one, with its watch state at `now`.
pub fn release_watch(store: &Store, now: u64) -> StoreResult<Option<WatchStatus>> {
    let Some(release) = store
        .open_release()?
        .or(store.releases()?.into_iter().next())
    else {
        return Ok(None);
    };
    Ok(Some(WatchStatus {
        watching: release.watching_at(now),
        rollback_claimed: store.rollback_claimed(release.id)?,
        last_decision: store.decisions(release.id)?.pop(),
        release,
    }))
}

/// What fires (probes, and SLO tiers as `slo OBJECTIVE/TIER`), the active silences, the outbox. Whether
/// email is configured is the caller's to say.
pub(super) fn alert_status(store: &Store, now: u64) -> StoreResult<AlertStatus> {
    let mut firing: Vec<String> = store
        .alert_states::<serde_json::Value>()?
        .into_iter()
        .filter_map(|(key, value)| match key.strip_prefix("slo/") {
            Some(tier) => (value == true).then(|| format!("slo {tier}")),
            None => (!value["state"]["firing_since"].is_null()).then_some(key),
        })
        .collect();
    firing.sort();
    Ok(AlertStatus {
        email: false,
        firing,
        silences: store
            .active_silences(now)?
            .iter()
            .map(crate::alert::Silence::describe)
            .collect(),
        outbox: store.outbox_summary()?,
    })
}
