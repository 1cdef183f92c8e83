//! Certificate warnings by email: each run of an HTTPS probe is checked against what was told (stored with the
//! alert states under `warn/PROBE`), and a change is written to the outbox as a notice — once when warnings
//! start, once when they end — so a restart neither repeats nor forgets one.

use super::alerts::enqueue_notice;
use super::shared::{now_ms, store_task};
use crate::alert::{AlertSettings, EmailContext, silenced_by, warning_key, warning_notice};
use crate::probe::ProbeRecord;
use crate::store::{Fence, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Which probes' warnings were told, by [`warning_key`].
#[derive(Debug, Default)]
pub struct Told(HashMap<String, bool>);

impl Told {
    /// What the store says was told.
    pub async fn restore(store: &Arc<Mutex<Store>>) -> Told {
        Told(super::shared::told_states(store, "warn/", "warnings").await)
    }

    /// Writes the notice `record` calls for (as leader, under `fence`), if its warnings started or ended; returns how many were written.
    pub async fn observe(
        &mut self,
        store: &Arc<Mutex<Store>>,
        fence: &Fence,
        settings: &AlertSettings,
        target: &str,
        record: &ProbeRecord,
    ) -> Result<u64, StoreError> {
        let key = warning_key(&record.probe);
        let was = self.0.get(&key).copied().unwrap_or(false);
        let Some((warned, notice)) = warning_notice(record, was) else {
            return Ok(0);
        };
        let now = now_ms();
        let probe = record.probe.clone();
        let windows = settings.maintenance.clone();
        let target = target.to_string();
        let saved = key.clone();
        let fence = fence.clone();
        store_task(store, move |store| {
            store.as_leader(&fence, |store| {
                let silenced = silenced_by(&probe, now, &store.active_silences(now)?, &windows);
                let context = EmailContext {
                    target,
                    release: store.open_release()?.map(|r| r.version),
                    group_key: saved.clone(),
                    now_ms: now,
                    in_reply_to: None,
                };
                enqueue_notice(store, "warning", &saved, &notice, context, silenced)?;
                store.save_alert_states(&[(saved.clone(), warned)], now)
            })
        })
        .await?;
        self.0.insert(key, warned);
        Ok(1)
    }
}
