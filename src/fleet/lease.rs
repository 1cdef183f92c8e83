//! The leader's lease (pure): one row naming the agent that may act once for the whole fleet (evaluate the
//! release watch, call the rollback hook, deliver the outbox), until when, and its generation — a number
//! that grows with every change of holder, written with everything the leader does so that a write made
//! under a lost lease is refused (fencing).
//!
//! The store takes a claim with compare-and-set on the row it read, and sets the expiry by its own clock; the
//! agent acts only until its own monotonic clock, read *before* it sent the claim, passes the TTL less a
//! margin. The store's expiry is then never earlier than the agent's last instant of acting, whatever the
//! delays, so two agents never act at the same time (`no_two_holders_ever_act_at_once`).

/// The lease row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub holder: String,
    /// Grows by one with every change of holder; kept on renewal.
    pub generation: u64,
    /// By the store's clock.
    pub expires_at_ms: u64,
}

impl Lease {
    /// The row `me` writes to take or keep the lease at `now_ms` (the store's clock), or `None` while another
    /// agent holds it unexpired. Taking it from another (expired) holder, or when nobody held it, moves to
    /// the next generation; renewing one's own keeps it.
    pub fn claim(current: Option<&Lease>, me: &str, now_ms: u64, ttl_ms: u64) -> Option<Lease> {
        let generation = match current {
            None => 1,
            Some(l) if l.holder == me && l.expires_at_ms > now_ms => l.generation,
            Some(l) if l.expires_at_ms <= now_ms => l.generation + 1,
            Some(_) => return None,
        };
        Some(Lease {
            holder: me.to_string(),
            generation,
            expires_at_ms: now_ms.saturating_add(ttl_ms),
        })
    }
}

/// What a claim that succeeded lets its agent do, by the agent's own monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leadership {
    pub generation: u64,
    /// The agent acts before this instant only.
    pub acts_until: u64,
}

impl Leadership {
    /// The leadership a claim of `generation` gives when it was sent at `sent_at` (the agent's monotonic
    /// clock, read before sending): `ttl_ms` less `margin_ms` (for clocks that run at slightly different
    /// rates) from then.
    pub fn after_claim(generation: u64, sent_at: u64, ttl_ms: u64, margin_ms: u64) -> Leadership {
        Leadership {
            generation,
            acts_until: sent_at.saturating_add(ttl_ms.saturating_sub(margin_ms)),
        }
    }

    /// Whether the agent may still act at `now` (its monotonic clock).
    pub fn may_act(&self, now: u64) -> bool {
        now < self.acts_until
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TTL: u64 = 10_000;

    fn lease(holder: &str, generation: u64, expires_at_ms: u64) -> Lease {
        Lease {
            holder: holder.into(),
            generation,
            expires_at_ms,
        }
    }

    #[test]
    fn a_claim_takes_a_free_or_expired_lease_keeps_its_own_and_waits_for_another() {
        let cases = [
            (None, "a", 5, Some(lease("a", 1, 5 + TTL))),
            (
                Some(lease("a", 3, 100)),
                "a",
                50,
                Some(lease("a", 3, 50 + TTL)),
            ),
            (Some(lease("a", 3, 100)), "b", 99, None),
            (
                Some(lease("a", 3, 100)),
                "b",
                100,
                Some(lease("b", 4, 100 + TTL)),
            ),
            // Its own lease, expired: another may have taken it meanwhile, so a new generation.
            (
                Some(lease("a", 3, 100)),
                "a",
                100,
                Some(lease("a", 4, 100 + TTL)),
            ),
        ];
        for (current, me, now, expected) in cases {
            assert_eq!(
                Lease::claim(current.as_ref(), me, now, TTL),
                expected,
                "{current:?} {me} {now}"
            );
        }
    }

    #[test]
    fn a_leader_stops_acting_before_its_lease_could_be_taken() {
        let l = Leadership::after_claim(7, 1_000, TTL, 500);
        assert_eq!(l.acts_until, 10_500);
        assert!(l.may_act(10_499) && !l.may_act(10_500));
    }

    proptest! {
        /// Agents claim in turn with any delays to and from the store; each acts from when the answer
        /// arrives until its leadership ends. No two agents' acting spans overlap, and the generation grows
        /// with every change of holder.
        #[test]
        fn no_two_holders_ever_act_at_once(
            claims in proptest::collection::vec((0usize..3, 0u64..4_000, 0u64..800, 0u64..800), 1..60)
        ) {
            let mut row: Option<Lease> = None;
            let mut sent_at = 0u64;
            let mut store_now = 0u64;
            // (agent, generation, from, until) of every span an agent acted in.
            let mut spans: Vec<(usize, u64, u64, u64)> = Vec::new();
            for (agent, gap, to_store, back) in claims {
                sent_at += gap;
                // The store sees claims in the order sent, each after its delay (and never before the last).
                store_now = store_now.max(sent_at + to_store);
                let me = format!("agent-{agent}");
                if let Some(taken) = Lease::claim(row.as_ref(), &me, store_now, TTL) {
                    if let Some(old) = &row {
                        prop_assert!(taken.generation >= old.generation);
                        prop_assert_eq!(taken.generation > old.generation, taken.holder != old.holder || old.expires_at_ms <= store_now);
                    }
                    let leadership = Leadership::after_claim(taken.generation, sent_at, TTL, 0);
                    let from = store_now + back;
                    if leadership.may_act(from) {
                        spans.push((agent, taken.generation, from, leadership.acts_until));
                    }
                    row = Some(taken);
                }
            }
            for (i, a) in spans.iter().enumerate() {
                for b in &spans[i + 1..] {
                    let overlap = a.2 < b.3 && b.2 < a.3;
                    prop_assert!(a.0 == b.0 || !overlap, "{:?} and {:?} act at once", a, b);
                }
            }
        }
    }
}
