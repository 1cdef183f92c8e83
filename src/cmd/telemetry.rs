//! Telemetry wiring for the commands: start the provider (and, for `run`, the status listener), keep the
//! store-derived gauges (SLO burn rates and budgets, query budget, release watch) fresh, flush at exit.

use crate::config::Settings;
use crate::monitor::{Shutdown, now_ms};
use crate::slo::Objective;
use crate::store::Store;
use crate::telemetry::{Liveness, Metrics, Telemetry};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often `run` recomputes the store-derived gauges, at most (more often with a shorter export interval).
pub const REFRESH_EVERY: Duration = Duration::from_secs(15);

/// For `check` and `burst`: metrics only when an OTLP endpoint is configured.
pub fn start_one_shot(settings: &Settings) -> Result<Option<Telemetry>, String> {
    settings
        .telemetry
        .as_ref()
        .map(|otlp| Telemetry::start(Some(otlp), &settings.target, false, &settings.run.location))
        .transpose()
}

/// For `run`: always a provider (the monitor records into it), exporting when configured, and the status
/// listener when `[status] listen` is set.
pub async fn start_daemon(
    settings: &Settings,
    liveness: Arc<Liveness>,
    pages: axum::Router,
) -> Result<Telemetry, String> {
    let telemetry = Telemetry::start(
        settings.telemetry.as_ref(),
        &settings.target,
        settings.status_listen.is_some(),
        &settings.run.location,
    )?;
    if let (Some(listen), Some(scrape)) = (settings.status_listen, telemetry.scrape()) {
        match crate::telemetry::serve(listen, scrape, liveness, pages).await {
            Ok(bound) => crate::telemetry::say(&format!(
                "oewsprobe run: status listener on http://{bound} (/metrics, /healthz)"
            )),
            Err(e) => {
                telemetry.shutdown().await;
                return Err(format!(
                    "[status] listen = \"{listen}\": cannot listen: {e}"
                ));
            }
        }
    }
    Ok(telemetry)
}

/// How often the store-derived gauges are refreshed for these settings.
pub fn refresh_every(settings: &Settings) -> Duration {
    settings
        .telemetry
        .as_ref()
        .map_or(REFRESH_EVERY, |t| t.export_interval.min(REFRESH_EVERY))
}

/// Refreshes the store-derived gauges every `every` until shutdown, and once more at shutdown so the final
/// export carries current figures.
pub async fn refresh_loop(
    store: Arc<Mutex<Store>>,
    metrics: Metrics,
    objectives: Vec<Objective>,
    queries_per_hour: u32,
    every: Duration,
    mut shutdown: Shutdown,
) -> u64 {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            () = shutdown.requested() => true,
        };
        refresh(&store, &metrics, &objectives, queries_per_hour).await;
        if stopping {
            return 0;
        }
    }
}

/// Reads what `status` shows (the same read path, [`crate::happened`]) and sets the gauges from it.
async fn refresh(
    store: &Arc<Mutex<Store>>,
    metrics: &Metrics,
    objectives: &[Objective],
    queries_per_hour: u32,
) {
    let (store, objectives) = (store.clone(), objectives.to_vec());
    let read = tokio::task::spawn_blocking(move || {
        let store = store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = now_ms();
        store.atomically(|store| {
            Ok((
                crate::happened::budget(store, queries_per_hour, now)?,
                crate::happened::release_watch(store, now)?,
                crate::happened::evaluate_objectives(store, &objectives, &HashMap::new(), now)?,
            ))
        })
    })
    .await;
    match read {
        Ok(Ok((budget, release, evaluations))) => {
            metrics.set_objectives(&evaluations);
            metrics.set_queries_remaining(budget.left);
            metrics.set_watch_active(release.as_ref().is_some_and(|w| w.watching));
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "metrics: cannot read the store"),
        Err(e) => tracing::warn!(error = %e, "metrics: the store read failed"),
    }
}
