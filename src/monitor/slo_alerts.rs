//! The SLO alert loop: evaluates every objective's burn-rate tiers at the watch's cadence, release or not,
//! and emails each breach when it begins and when it ends. What was told is stored with the alert states, so
//! a restart neither repeats nor forgets a breach.

use super::Lead;
use super::alerts::enqueue_notice;
use super::shared::{Shutdown, now_ms, report_leader_error, store_task};
use crate::alert::{EmailContext, MaintenanceWindow, silenced_by, tier_notices};
use crate::slo::Objective;
use crate::store::{Fence, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the SLO alert loop needs.
#[derive(Debug, Clone)]
pub struct SloAlerts {
    pub store: Arc<Mutex<Store>>,
    pub lead: Arc<Lead>,
    pub objectives: Vec<Objective>,
    pub target: String,
    pub windows: Vec<MaintenanceWindow>,
    pub every: Duration,
}

/// Runs until shutdown, evaluating only while this agent leads (what was told is read again at each new
/// leadership); returns how many notices it wrote.
pub async fn run_slo_alert_loop(alerts: SloAlerts, mut shutdown: Shutdown) -> u64 {
    if alerts.objectives.is_empty() {
        return 0;
    }
    let mut told = HashMap::new();
    let mut read_under: Option<u64> = None;
    let mut written = 0;
    let mut tick = tokio::time::interval(alerts.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shutdown.requested() => return written,
        }
        let Some(fence) = alerts.lead.fence() else {
            continue;
        };
        if read_under != Some(fence.generation) {
            told = super::shared::told_states(&alerts.store, "slo/", "SLO alerts").await;
            read_under = Some(fence.generation);
        }
        match evaluate_once(&alerts, &fence, &mut told).await {
            Ok(n) => written += n,
            Err(e) => report_leader_error(&alerts.lead, &e, "SLO alerts: evaluation failed"),
        }
    }
}

async fn evaluate_once(
    alerts: &SloAlerts,
    fence: &Fence,
    told: &mut HashMap<String, bool>,
) -> Result<u64, StoreError> {
    let now = now_ms();
    let objectives = alerts.objectives.clone();
    let (evaluations, silences, release) = store_task(&alerts.store, move |store| {
        Ok((
            crate::happened::evaluate_objectives(store, &objectives, &HashMap::new(), now)?,
            store.active_silences(now)?,
            store.open_release()?.map(|r| r.version),
        ))
    })
    .await?;
    let changes = tier_notices(&evaluations, told);
    if changes.is_empty() {
        return Ok(0);
    }
    let mut writes = Vec::new();
    for (key, breached, notice) in changes {
        let objective = alerts
            .objectives
            .iter()
            .find(|o| key.starts_with(&format!("slo/{}/", o.name)));
        // Silenced when every probe of the objective is.
        let silenced = objective.and_then(|o| {
            let reasons: Option<Vec<String>> = o
                .probes
                .iter()
                .map(|p| silenced_by(p, now, &silences, &alerts.windows))
                .collect();
            reasons.and_then(|r| r.into_iter().next())
        });
        let context = EmailContext {
            target: alerts.target.clone(),
            release: release.clone(),
            group_key: key.clone(),
            now_ms: now,
            in_reply_to: None,
        };
        writes.push((key, breached, notice, context, silenced));
    }
    let written = writes.len() as u64;
    let updates: Vec<(String, bool)> = writes.iter().map(|w| (w.0.clone(), w.1)).collect();
    let fence = fence.clone();
    store_task(&alerts.store, move |store| {
        store.as_leader(&fence, |store| {
            for (key, breached, notice, context, silenced) in writes {
                enqueue_notice(store, "slo", &key, &notice, context, silenced)?;
                store.save_alert_states(&[(key, breached)], now)?;
            }
            Ok(())
        })
    })
    .await?;
    told.extend(updates);
    Ok(written)
}
