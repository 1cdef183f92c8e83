//! Alert state by key (a probe, or an SLO tier), as JSON: a restart keeps what fires and what was told.

use super::db::args;
use super::{Store, StoreResult};
use serde::{Serialize, de::DeserializeOwned};
use std::collections::HashMap;

impl Store {
    /// Every stored state; entries that no longer parse as `T` are skipped with a warning.
    pub fn alert_states<T: DeserializeOwned>(&self) -> StoreResult<HashMap<String, T>> {
        let rows = self
            .db
            .query_map("SELECT key, state_json FROM alert_state", &[], |r| {
                Ok((r.get::<String>(0)?, r.get::<String>(1)?))
            })?;
        let mut states = HashMap::new();
        for (key, json) in rows {
            match serde_json::from_str(&json) {
                Ok(state) => {
                    states.insert(key, state);
                }
                Err(e) => {
                    tracing::warn!(%key, error = %e, "stored alert state unreadable; starting it fresh")
                }
            }
        }
        Ok(states)
    }

    /// Stores the given states in one transaction.
    pub fn save_alert_states<T: Serialize>(
        &self,
        states: &[(String, T)],
        now_ms: u64,
    ) -> StoreResult<()> {
        self.atomically(|store| {
            for (key, state) in states {
                store.db.execute(
                "INSERT INTO alert_state (key, state_json, updated_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET state_json = excluded.state_json, updated_at_ms = excluded.updated_at_ms",
                    args![key, serde_json::to_string(state)?, now_ms as i64],
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
    fn states_round_trip_and_update() {
        crate::store::for_each_backend(|store| {
            store
                .save_alert_states(
                    &[
                        ("health".to_string(), vec![1, 2]),
                        ("models".to_string(), vec![3]),
                    ],
                    1,
                )
                .expect("save");
            store
                .save_alert_states(&[("health".to_string(), vec![4])], 2)
                .expect("update");
            let states: HashMap<String, Vec<u32>> = store.alert_states().expect("read");
            assert_eq!(states.len(), 2);
            assert_eq!(states["health"], [4]);
            assert_eq!(states["models"], [3]);
            let unreadable: HashMap<String, String> = store.alert_states().expect("read");
            assert!(
                unreadable.is_empty(),
                "entries of another shape are skipped"
            );
        });
    }
}
