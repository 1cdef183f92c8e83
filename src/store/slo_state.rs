//! SLO tier states: when each objective's tier breach began, kept across restarts.

use super::{Store, StoreResult};
use crate::slo::TierState;
use rusqlite::params;
use std::collections::HashMap;

impl Store {
    /// Every stored tier state, by objective name then tier name.
    pub fn slo_states(&self) -> StoreResult<HashMap<String, HashMap<String, TierState>>> {
        let mut stmt = self
            .conn
            .prepare("SELECT objective, tier, state_json FROM slo_state")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out: HashMap<String, HashMap<String, TierState>> = HashMap::new();
        for row in rows {
            let (objective, tier, json) = row?;
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
        let tx = self.conn.unchecked_transaction()?;
        for (tier, state) in states {
            tx.execute(
                "INSERT INTO slo_state (objective, tier, state_json) VALUES (?1, ?2, ?3)
                 ON CONFLICT (objective, tier) DO UPDATE SET state_json = excluded.state_json",
                params![objective, tier, serde_json::to_string(state)?],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_states_round_trip_and_update() {
        let store = Store::in_memory().expect("store");
        assert_eq!(store.schema_version().expect("version"), 8);
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
    }
}
