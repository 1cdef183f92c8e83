//! What all requests share: active faults, counters, rate limit, capacity slots, randomness, shutdown.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::fault::{Fault, FaultSet};
use super::rate_limit::RateLimiter;
use super::rng::SplitMix64;
use super::{Profile, SimOptions, SimStats};

/// The limit the `rate_limited` fault quotes when no rate limit is configured.
const QUOTED_RATE_LIMIT: u32 = 10;

/// Shared state of one running simulator.
#[derive(Debug)]
pub(crate) struct SimState {
    pub profile: Profile,
    /// Extra time each valid query takes.
    pub latency: Duration,
    faults: Mutex<FaultSet>,
    stats: Mutex<SimStats>,
    rate_limiter: Option<RateLimiter>,
    workflow_slots: Arc<Semaphore>,
    rng: SplitMix64,
    stopped: watch::Receiver<bool>,
}

/// Why a valid query is not run.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// 429, quoting this many queries per hour.
    Throttled(u32),
    /// 503 with `Retry-After`.
    AtCapacity,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SimState {
    /// `stopped` turns true when the simulator shuts down.
    pub(crate) fn new(options: &SimOptions, stopped: watch::Receiver<bool>) -> Self {
        SimState {
            profile: options.profile,
            latency: options.latency,
            faults: Mutex::new(FaultSet::new(options.faults.clone())),
            stats: Mutex::new(SimStats::default()),
            rate_limiter: options
                .effective_rate_limit_per_hour()
                .map(RateLimiter::new),
            workflow_slots: Arc::new(Semaphore::new(options.max_concurrent)),
            rng: SplitMix64::new(options.seed),
            stopped,
        }
    }

    /// The faults active now.
    pub(crate) fn faults(&self) -> FaultSet {
        lock(&self.faults).clone()
    }

    pub(crate) fn set_faults(&self, faults: Vec<Fault>) {
        *lock(&self.faults) = FaultSet::new(faults);
    }

    pub(crate) fn stats(&self) -> SimStats {
        lock(&self.stats).clone()
    }

    pub(crate) fn update_stats(&self, update: impl FnOnce(&mut SimStats)) {
        update(&mut lock(&self.stats));
    }

    /// True with the given probability, from the seeded generator.
    pub(crate) fn chance(&self, probability: f64) -> bool {
        self.rng.chance(probability)
    }

    /// Admits a valid query from `client`: rate limit first (a refusal there is not counted), then a
    /// workflow slot (held by the returned permit while the query runs).
    pub(crate) fn admit_query(
        &self,
        faults: &FaultSet,
        client: IpAddr,
    ) -> Result<OwnedSemaphorePermit, Refusal> {
        let quoted_limit = self
            .rate_limiter
            .as_ref()
            .map_or(QUOTED_RATE_LIMIT, RateLimiter::per_hour);
        if faults.has(&Fault::RateLimited) {
            return Err(Refusal::Throttled(quoted_limit));
        }
        let within_limit = self
            .rate_limiter
            .as_ref()
            .is_none_or(|limiter| limiter.try_hit(client));
        if !within_limit {
            return Err(Refusal::Throttled(quoted_limit));
        }
        if faults.has(&Fault::AtCapacity) {
            return Err(Refusal::AtCapacity);
        }
        Arc::clone(&self.workflow_slots)
            .try_acquire_owned()
            .map_err(|_| Refusal::AtCapacity)
    }

    /// Sleeps for `duration`, or less if the simulator shuts down meanwhile.
    pub(crate) async fn pause(&self, duration: Duration) {
        if duration.is_zero() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(duration) => {}
            () = self.until_stopped() => {}
        }
    }

    /// Waits until the simulator shuts down.
    pub(crate) async fn until_stopped(&self) {
        let mut stopped = self.stopped.clone();
        // An error means the server handle is gone, which also means stop.
        let _ = stopped.wait_for(|stopped| *stopped).await;
    }
}
