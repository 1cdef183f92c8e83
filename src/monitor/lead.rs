//! The leader's lease inside the daemon: every agent claims the store's `leader` lease every third of
//! `fleet.lease_ttl` (renewing it while it holds it); the one that holds it may act — evaluate the release
//! watch, run the rollback hook, write alert and SLO notices, deliver the outbox — only while
//! `fleet::Leadership::may_act` says so by its own monotonic clock, read before the claim was sent. Every
//! write it makes as leader carries a [`Fence`] and is refused by the store once the lease moved on; a
//! refusal makes the agent step down at once (logged once). On SQLite (one `run` per store, by the run lock)
//! the same code runs, and the one agent always leads.

use super::shared::{Shutdown, store_task};
use crate::fleet::{Leadership, Lease};
use crate::store::{Fence, LEADER, Store, StoreError};
use crate::telemetry::{LeaderSeen, Liveness, Metrics};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The agent's side of the lease.
#[derive(Debug)]
pub struct Lead {
    holder: String,
    ttl: Duration,
    epoch: Instant,
    state: Mutex<State>,
    metrics: Metrics,
    liveness: Arc<Liveness>,
}

#[derive(Debug, Default)]
struct State {
    /// The leadership the last successful claim gave, if the last claim succeeded.
    leadership: Option<Leadership>,
    /// The generation this agent last led under, to tell a change of leadership once.
    told: Option<u64>,
}

/// The holder name of this process: its location, pid and start time, so a restarted agent is a new holder.
pub fn holder_name(location: &str, pid: u32, started_ms: u64) -> String {
    format!("{location}/{pid}-{started_ms}")
}

impl Lead {
    pub fn new(holder: String, ttl: Duration, metrics: Metrics, liveness: Arc<Liveness>) -> Lead {
        metrics.set_leader(false);
        Lead {
            holder,
            ttl,
            epoch: Instant::now(),
            state: Mutex::new(State::default()),
            metrics,
            liveness,
        }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The agent's monotonic clock, in milliseconds.
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The margin kept from the end of the lease: a fifth of it, for clocks running at slightly different rates
    /// and for the write in flight.
    fn margin(&self) -> Duration {
        self.ttl / 5
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The fence for a write made now as leader; `None` while this agent may not act.
    pub fn fence(&self) -> Option<Fence> {
        let now = self.now();
        let state = self.state();
        state.leadership.filter(|l| l.may_act(now)).map(|l| Fence {
            holder: self.holder.clone(),
            generation: l.generation,
        })
    }

    /// Claims or renews the lease once; returns whether this agent now leads.
    pub async fn claim(&self, store: &Arc<Mutex<Store>>) -> bool {
        let sent_at = self.now();
        let (holder, ttl) = (self.holder.clone(), self.ttl);
        let claimed = store_task(store, move |store| {
            let taken = store.claim_lease(LEADER, &holder, ttl)?;
            let seen = match &taken {
                Some(lease) => Some(lease.clone()),
                None => store.lease(LEADER)?,
            };
            Ok((taken, seen))
        })
        .await;
        match claimed {
            Ok((taken, seen)) => {
                let leadership = taken.map(|lease| {
                    Leadership::after_claim(
                        lease.generation,
                        sent_at,
                        millis(self.ttl),
                        millis(self.margin()),
                    )
                });
                self.liveness
                    .set_leader(seen.map(|lease| self.seen(&lease)));
                self.settle(leadership)
            }
            Err(e) => {
                // Keep what the last claim gave: it runs out by itself (`may_act`).
                tracing::warn!(error = %e, "leader lease: cannot claim");
                self.fence().is_some()
            }
        }
    }

    /// Gives the lease up (a graceful stop, once nothing acts any more): another agent takes it at its next
    /// claim.
    pub async fn release(&self, store: &Arc<Mutex<Store>>) {
        let was = self.state().leadership.take();
        let holder = self.holder.clone();
        if let Err(e) = store_task(store, move |store| store.release_lease(LEADER, &holder)).await {
            tracing::warn!(error = %e, "leader lease: cannot give it up; it ends by itself");
        }
        if was.is_some() {
            self.metrics.set_leader(false);
        }
    }

    fn seen(&self, lease: &Lease) -> LeaderSeen {
        LeaderSeen {
            holder: lease.holder.clone(),
            generation: lease.generation,
            until_ms: lease.expires_at_ms,
            this_agent: lease.holder == self.holder,
        }
    }

    /// Takes the claim's answer, telling a change of leadership once.
    fn settle(&self, leadership: Option<Leadership>) -> bool {
        let mut state = self.state();
        state.leadership = leadership;
        let leads = leadership.is_some();
        match (leadership.map(|l| l.generation), state.told) {
            (Some(now), told) if told != Some(now) => {
                crate::telemetry::say(&format!(
                    "oewsprobe run: this agent ({}) leads the fleet (lease generation {now}): it runs the release watch, the rollback hook and alert delivery",
                    self.holder
                ));
                state.told = Some(now);
            }
            (None, Some(was)) => {
                crate::telemetry::say(&format!(
                    "oewsprobe run: this agent ({}) no longer leads (lease generation {was} ended); another agent acts",
                    self.holder
                ));
                state.told = None;
            }
            _ => {}
        }
        self.metrics.set_leader(leads);
        leads
    }

    /// After a write as leader: when the store refused it (the lease moved on), steps down at once.
    /// Returns whether it was such a refusal.
    pub fn refused(&self, error: &StoreError) -> bool {
        let StoreError::NotLeader { generation } = error else {
            return false;
        };
        let current = self.state().leadership.map(|l| l.generation);
        if current == Some(*generation) {
            self.settle(None);
        }
        true
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Claims the lease every third of its TTL until shutdown; returns how many claims succeeded.
pub async fn run_lease_loop(
    lead: Arc<Lead>,
    store: Arc<Mutex<Store>>,
    mut shutdown: Shutdown,
) -> u64 {
    let mut tick = tokio::time::interval(lead.ttl / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut led = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shutdown.requested() => return led,
        }
        led += u64::from(lead.claim(&store).await);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(holder: &str, ttl: Duration) -> Lead {
        let meter = opentelemetry::global::meter("test");
        Lead::new(
            holder.to_string(),
            ttl,
            Metrics::new(&meter, "eu-west"),
            Arc::new(Liveness::default()),
        )
    }

    #[test]
    fn a_holder_is_the_location_the_pid_and_the_start() {
        assert_eq!(
            holder_name("eu-west", 4242, 1_700_000_000_000),
            "eu-west/4242-1700000000000"
        );
    }

    #[tokio::test]
    async fn one_agent_leads_another_waits_and_a_refused_write_steps_the_leader_down() {
        let store = Arc::new(Mutex::new(Store::in_memory().expect("store")));
        let ttl = Duration::from_secs(30);
        let (a, b) = (lead("a/1-1", ttl), lead("b/2-2", ttl));
        assert!(a.claim(&store).await);
        assert!(!b.claim(&store).await);
        let fence = a.fence().expect("the leader may act");
        assert_eq!((fence.holder.as_str(), fence.generation), ("a/1-1", 1));
        assert_eq!(b.fence(), None);
        let seen = b.liveness.leader().expect("seen");
        assert_eq!(
            (seen.holder.as_str(), seen.generation, seen.this_agent),
            ("a/1-1", 1, false)
        );
        // A refusal for an older generation changes nothing; one for the current one steps down.
        assert!(a.refused(&StoreError::NotLeader { generation: 0 }));
        assert!(a.fence().is_some());
        assert!(a.refused(&StoreError::NotLeader { generation: 1 }));
        assert_eq!(a.fence(), None);
        assert!(!a.refused(&StoreError::Interrupted));
    }
}
