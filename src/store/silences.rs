//! Silences added from the command line; the daemon reads them when a notification is due, so a silence
//! added while it runs takes effect without a reload.

use super::db::{Row, args};
use super::{Store, StoreResult};
use crate::alert::Silence;

fn silence(r: &Row<'_>) -> StoreResult<Silence> {
    Ok(Silence {
        id: r.get(0)?,
        probe: r.get(1)?,
        starts_at_ms: r.get::<i64>(2)? as u64,
        ends_at_ms: r.get::<i64>(3)? as u64,
        reason: r.get(4)?,
    })
}

impl Store {
    /// Adds a silence of `probe` (`None`: every probe) over `[starts, ends)`; returns it with its id.
    pub fn add_silence(
        &self,
        probe: Option<&str>,
        starts_at_ms: u64,
        ends_at_ms: u64,
        reason: &str,
    ) -> StoreResult<Silence> {
        let id = self.db.query_row(
            "INSERT INTO silences (probe, starts_at_ms, ends_at_ms, reason, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?2)
             RETURNING id",
            args![probe, starts_at_ms as i64, ends_at_ms as i64, reason],
            |r| r.get(0),
        )?;
        Ok(Silence {
            id,
            probe: probe.map(str::to_string),
            starts_at_ms,
            ends_at_ms,
            reason: reason.to_string(),
        })
    }

    /// The silences not removed and not yet expired at `now_ms`, by id.
    pub fn active_silences(&self, now_ms: u64) -> StoreResult<Vec<Silence>> {
        self.db.query_map(
            "SELECT id, probe, starts_at_ms, ends_at_ms, reason FROM silences
             WHERE removed_at_ms IS NULL AND ends_at_ms > ?1 ORDER BY id",
            args![now_ms as i64],
            silence,
        )
    }

    /// Ends silence `id` now; false if there is no such active silence.
    pub fn remove_silence(&self, id: i64, now_ms: u64) -> StoreResult<bool> {
        let changed = self.db.execute(
            "UPDATE silences SET removed_at_ms = ?2 WHERE id = ?1 AND removed_at_ms IS NULL AND ends_at_ms > ?2",
            args![id, now_ms as i64],
        )?;
        Ok(changed == 1)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn silences_expire_by_themselves_and_can_be_removed() {
        crate::store::for_each_backend(|store| {
            let health = store
                .add_silence(Some("health"), 1_000, 5_000, "deploying")
                .expect("add");
            let all = store
                .add_silence(None, 1_000, 9_000, "maintenance")
                .expect("add");
            assert_eq!(
                store.active_silences(4_999).expect("list"),
                [health.clone(), all.clone()]
            );
            assert_eq!(
                store.active_silences(5_000).expect("list"),
                std::slice::from_ref(&all),
                "expired at its end"
            );
            assert!(
                !store.remove_silence(health.id, 5_000).expect("remove"),
                "already expired"
            );
            assert!(store.remove_silence(all.id, 6_000).expect("remove"));
            assert!(
                !store.remove_silence(all.id, 6_000).expect("remove"),
                "removed once"
            );
            assert!(store.active_silences(6_000).expect("list").is_empty());
        });
    }
}
