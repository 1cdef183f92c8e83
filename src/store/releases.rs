//! Releases under watch, the rollback claim (the idempotency key, written before the hook runs), and every
//! watch decision with its evidence.

use super::db::{Row, args};
use super::{Store, StoreResult};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    pub id: i64,
    pub version: String,
    pub rollback_to: String,
    pub started_at_ms: u64,
    pub watch_until_ms: u64,
    pub ended_at_ms: Option<u64>,
}

impl Release {
    /// Whether the watch is open at `now_ms`: not ended, and the window not over.
    pub fn watching_at(&self, now_ms: u64) -> bool {
        self.ended_at_ms.is_none() && now_ms < self.watch_until_ms && now_ms >= self.started_at_ms
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredDecision {
    pub id: i64,
    pub release_id: i64,
    pub at_ms: u64,
    pub outcome: String,
    pub reason: String,
    pub evidence: serde_json::Value,
}

/// A claimed rollback as recorded: the claim, and the hook's outcome once it finished.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollbackRecord {
    pub claimed_at_ms: u64,
    pub finished_at_ms: Option<u64>,
    pub outcome: Option<serde_json::Value>,
}

const RELEASE_COLUMNS: &str =
    "id, version, rollback_to, started_at_ms, watch_until_ms, ended_at_ms";

impl Store {
    /// Records a release; a watch still open for an earlier release is ended at `started_at_ms`.
    pub fn start_release(
        &self,
        version: &str,
        rollback_to: &str,
        started_at_ms: u64,
        watch_until_ms: u64,
    ) -> StoreResult<Release> {
        let id = self.atomically_unnamed(|store| {
            store.db.execute(
                "UPDATE releases SET ended_at_ms = ?1 WHERE ended_at_ms IS NULL",
                args![started_at_ms as i64],
            )?;
            store.db.query_row(
                "INSERT INTO releases (version, rollback_to, started_at_ms, watch_until_ms) VALUES (?1, ?2, ?3, ?4)
                 RETURNING id",
                args![version, rollback_to, started_at_ms as i64, watch_until_ms as i64],
                |r| r.get(0),
            )
        })?;
        Ok(Release {
            id,
            version: version.to_string(),
            rollback_to: rollback_to.to_string(),
            started_at_ms,
            watch_until_ms,
            ended_at_ms: None,
        })
    }

    /// Every release, newest first.
    pub fn releases(&self) -> StoreResult<Vec<Release>> {
        self.db.query_map(
            &format!("SELECT {RELEASE_COLUMNS} FROM releases ORDER BY id DESC"),
            &[],
            row_to_release,
        )
    }

    /// The newest release that has not been ended (its window may be over: see [`Release::watching_at`]).
    pub fn open_release(&self) -> StoreResult<Option<Release>> {
        self.db.query_opt(
            &format!("SELECT {RELEASE_COLUMNS} FROM releases WHERE ended_at_ms IS NULL ORDER BY id DESC LIMIT 1"),
            &[],
            row_to_release,
        )
    }

    /// Ends the open watch, if any; returns the release that was ended.
    pub fn end_release(&self, at_ms: u64) -> StoreResult<Option<Release>> {
        let Some(mut release) = self.open_release()? else {
            return Ok(None);
        };
        self.db.execute(
            "UPDATE releases SET ended_at_ms = ?1 WHERE id = ?2",
            args![at_ms as i64, release.id],
        )?;
        release.ended_at_ms = Some(at_ms);
        Ok(Some(release))
    }

    /// Claims the one rollback of `release_id`. True when this call wrote the claim; false when a rollback
    /// was already claimed (by this process before a restart, or another). Call it before running the hook.
    pub fn claim_rollback(&self, release_id: i64, at_ms: u64) -> StoreResult<bool> {
        let inserted = self.db.execute(
            "INSERT INTO rollback_claims (release_id, claimed_at_ms) VALUES (?1, ?2)
             ON CONFLICT (release_id) DO NOTHING",
            args![release_id, at_ms as i64],
        )?;
        Ok(inserted == 1)
    }

    pub fn rollback_claimed(&self, release_id: i64) -> StoreResult<bool> {
        let n: i64 = self.db.query_row(
            "SELECT COUNT(*) FROM rollback_claims WHERE release_id = ?1",
            args![release_id],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// When the claimed rollback's hook finished, if it has.
    pub fn rollback_finished_at(&self, release_id: i64) -> StoreResult<Option<u64>> {
        let at: Option<Option<i64>> = self.db.query_opt(
            "SELECT finished_at_ms FROM rollback_claims WHERE release_id = ?1",
            args![release_id],
            |r| r.get(0),
        )?;
        Ok(at.flatten().map(|v| v as u64))
    }

    /// The claimed rollback of `release_id`: when it was claimed, when its hook finished and the outcome
    /// recorded then (`None` when no rollback was claimed).
    pub fn rollback_of(&self, release_id: i64) -> StoreResult<Option<RollbackRecord>> {
        let row: Option<(i64, Option<i64>, Option<String>)> = self.db.query_opt(
            "SELECT claimed_at_ms, finished_at_ms, outcome_json FROM rollback_claims WHERE release_id = ?1",
            args![release_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let Some((claimed, finished, outcome)) = row else {
            return Ok(None);
        };
        Ok(Some(RollbackRecord {
            claimed_at_ms: claimed as u64,
            finished_at_ms: finished.map(|v| v as u64),
            outcome: outcome.map(|o| serde_json::from_str(&o)).transpose()?,
        }))
    }

    /// The releases whose rollback was claimed but never given an outcome, with the claim's time.
    pub fn unfinished_rollbacks(&self) -> StoreResult<Vec<(Release, u64)>> {
        self.db.query_map(
            &format!(
                "SELECT {RELEASE_COLUMNS}, c.claimed_at_ms FROM releases
                 JOIN rollback_claims c ON c.release_id = releases.id
                 WHERE c.finished_at_ms IS NULL ORDER BY releases.id"
            ),
            &[],
            |r| Ok((row_to_release(r)?, r.get::<i64>(6)? as u64)),
        )
    }

    /// Records how the claimed rollback went (hook exit status, duration, output).
    pub fn finish_rollback(
        &self,
        release_id: i64,
        at_ms: u64,
        outcome: &serde_json::Value,
    ) -> StoreResult<()> {
        self.db.execute(
            "UPDATE rollback_claims SET finished_at_ms = ?1, outcome_json = ?2 WHERE release_id = ?3",
            args![at_ms as i64, serde_json::to_string(outcome)?, release_id],
        )?;
        Ok(())
    }

    pub fn record_decision(
        &self,
        release_id: i64,
        at_ms: u64,
        outcome: &str,
        reason: &str,
        evidence: &serde_json::Value,
    ) -> StoreResult<i64> {
        self.db.query_row(
            "INSERT INTO decisions (release_id, at_ms, outcome, reason, evidence_json) VALUES (?1, ?2, ?3, ?4, ?5)
             RETURNING id",
            args![release_id, at_ms as i64, outcome, reason, serde_json::to_string(evidence)?],
            |r| r.get(0),
        )
    }

    /// The decisions about `release_id`, oldest first.
    pub fn decisions(&self, release_id: i64) -> StoreResult<Vec<StoredDecision>> {
        self.db.query_map(
            "SELECT id, release_id, at_ms, outcome, reason, evidence_json FROM decisions
             WHERE release_id = ?1 ORDER BY at_ms, id",
            args![release_id],
            |r| {
                Ok(StoredDecision {
                    id: r.get(0)?,
                    release_id: r.get(1)?,
                    at_ms: r.get::<i64>(2)? as u64,
                    outcome: r.get(3)?,
                    reason: r.get(4)?,
                    evidence: serde_json::from_str(&r.get::<String>(5)?)?,
                })
            },
        )
    }
}

fn row_to_release(r: &Row<'_>) -> StoreResult<Release> {
    Ok(Release {
        id: r.get(0)?,
        version: r.get(1)?,
        rollback_to: r.get(2)?,
        started_at_ms: r.get::<i64>(3)? as u64,
        watch_until_ms: r.get::<i64>(4)? as u64,
        ended_at_ms: r.get::<Option<i64>>(5)?.map(|v| v as u64),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn releases_watch_windows_and_the_single_rollback_claim() {
        crate::store::for_each_backend(|store| {
            let first = store
                .start_release("main-aaa", "main-000", 1_000, 5_000)
                .expect("start");
            assert!(
                first.watching_at(1_000) && first.watching_at(4_999) && !first.watching_at(5_000)
            );
            let second = store
                .start_release("main-bbb", "main-aaa", 2_000, 9_000)
                .expect("start");
            let all = store.releases().expect("list");
            assert_eq!(all.len(), 2);
            assert_eq!(
                all[1].ended_at_ms,
                Some(2_000),
                "a new release ends the previous watch"
            );
            assert_eq!(store.open_release().expect("open"), Some(second.clone()));

            assert!(store.claim_rollback(second.id, 3_000).expect("claim"));
            assert!(
                !store.claim_rollback(second.id, 3_001).expect("claim again"),
                "one rollback per release"
            );
            assert!(store.rollback_claimed(second.id).expect("claimed"));
            assert!(!store.rollback_claimed(first.id).expect("not claimed"));
            assert_eq!(
                store.unfinished_rollbacks().expect("unfinished"),
                vec![(second.clone(), 3_000)],
                "a claim without an outcome"
            );
            store
                .finish_rollback(second.id, 3_500, &serde_json::json!({"exit": 0}))
                .expect("finish");
            assert_eq!(store.unfinished_rollbacks().expect("unfinished"), vec![]);

            store
                .record_decision(
                    second.id,
                    3_000,
                    "rollback",
                    "breach",
                    &serde_json::json!({"burn": 20.0}),
                )
                .expect("d");
            let decisions = store.decisions(second.id).expect("decisions");
            assert_eq!(decisions.len(), 1);
            assert_eq!(decisions[0].evidence["burn"], 20.0);

            let ended = store.end_release(4_000).expect("end").expect("was open");
            assert_eq!(ended.ended_at_ms, Some(4_000));
            assert_eq!(store.open_release().expect("open"), None);
            assert_eq!(store.end_release(4_001).expect("end"), None);
        });
    }
}
