//! SLO tier states: when each objective's tier breach began, kept across restarts.

use super::db::args;
use super::{Store, StoreResult};
use crate::slo::TierState;
use std::collections::HashMap;

impl Store {
    /// Every stored tier state, by objective name then tier name.
    pub fn slo_states(&self) -> StoreResult<HashMap<String, HashMap<String, TierState>>> {
        let rows = self.db.query_map(
            "SELECT objective, tier, state_json FROM slo_state",
            &[],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<String>(2)?,
                ))
            },
        )?;
        let mut out: HashMap<String, HashMap<String, TierState>> = HashMap::new();
        for (objective, tier, json) in rows {
            out.entry(objective)
                .or_default()
                .insert(tier, serde_json::from_str(&json)?);
        }
        Ok(out)
    }

    /// Stores the states of `objective`'s tiers, as (tier name, state), in one transaction.
    pub fn save_slo_states(
        &self,
        objective: &str,
        states: &[(String, TierState)],
    ) -> StoreResult<()> {
        self.atomically_unnamed(|store| {
            for (tier, state) in states {
                store.db.execute(
                    "INSERT INTO slo_state (objective, tier, state_json) VALUES (?1, ?2, ?3)
                     ON CONFLICT (objective, tier) DO UPDATE SET state_json = excluded.state_json",
                    args![objective, tier, serde_json::to_string(state)?],
                )?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_states_round_trip_and_update() {
        crate::store::for_each_backend(|store| {
            assert_eq!(store.schema_version().expect("version"), 11);
            let breached = TierState {
                breached_since: Some(1_000),
                last_evaluated: 2_000,
            };
            store
                .save_slo_states(
                    "queries",
                    &[
                        ("page-1h".into(), breached),
                        ("page-6h".into(), TierState::default()),
                    ],
                )
                .expect("save");
            let cleared = TierState {
                breached_since: None,
                last_evaluated: 3_000,
            };
            store
                .save_slo_states("queries", &[("page-1h".into(), cleared)])
                .expect("update");
            let states = store.slo_states().expect("read");
            assert_eq!(states["queries"]["page-1h"], cleared);
            assert_eq!(states["queries"]["page-6h"], TierState::default());
        });
    }
}
