//! `Prober`: one ready HTTP client per probe, built once, and at most one run of a probe at a time.

use super::exchange::PreparedRequest;
use super::timing_client::ProbeClient;
use super::{Caller, ProbeRecord, ProbeSpec, Scheduled, execute};
use std::collections::HashMap;

/// Runs probes of one plan against one target.
#[derive(Debug)]
pub struct Prober {
    target: url::Url,
    /// Who runs the probes: findings advise it.
    caller: Caller,
    slots: HashMap<String, Slot>,
}

#[derive(Debug)]
struct Slot {
    request: PreparedRequest,
    client: ProbeClient,
    /// Held for the whole run: a probe's runs never overlap, so its phase timings are its own.
    running: tokio::sync::Mutex<()>,
}

impl Prober {
    /// Builds a client for every probe (outside any timed section: building one costs milliseconds), for runs
    /// made by `caller`.
    pub fn new<'a>(
        target: &url::Url,
        caller: Caller,
        probes: impl IntoIterator<Item = &'a ProbeSpec>,
    ) -> Result<Prober, String> {
        let mut slots = HashMap::new();
        for spec in probes {
            let request = PreparedRequest::new(&spec.request, target)
                .map_err(|e| format!("probe {}: {e}", spec.name))?;
            let client = ProbeClient::new(
                spec.request.connect_timeout,
                &spec.request.tls,
                request.resolve(),
            )
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
            let running = tokio::sync::Mutex::new(());
            slots.insert(
                spec.name.clone(),
                Slot {
                    request,
                    client,
                    running,
                },
            );
        }
        Ok(Prober {
            target: target.clone(),
            caller,
            slots,
        })
    }

    pub fn target(&self) -> &url::Url {
        &self.target
    }

    /// The prepared request of probe `name`, if this prober was built for it.
    pub fn request(&self, name: &str) -> Option<&PreparedRequest> {
        self.slots.get(name).map(|slot| &slot.request)
    }

    /// Runs `spec` once. A run of the same probe still in flight is waited for (the wait counts as start delay).
    /// Returns `None` for a probe this prober was not built for.
    pub async fn run(&self, spec: &ProbeSpec, scheduled: Scheduled) -> Option<ProbeRecord> {
        let slot = self.slots.get(&spec.name)?;
        let _running = slot.running.lock().await;
        tracing::debug!(probe = %spec.name, method = %spec.request.method, path = %spec.request.path,
            headers = ?crate::telemetry::Redacted(&spec.request.headers), "sending the probe request");
        Some(
            execute(
                spec,
                &slot.request,
                &slot.client,
                &self.target,
                scheduled,
                self.caller,
            )
            .await,
        )
    }
}
