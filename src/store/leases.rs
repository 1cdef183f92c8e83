//! Leases in the store (fleet mode): [`Store::claim_lease`] takes or renews one with compare-and-set under the
//! row's lock, by the pure rule of `fleet::Lease::claim` and the *store's* clock (PostgreSQL's
//! `clock_timestamp()`, SQLite's local clock), so agents whose clocks disagree still agree on who holds it.
//! [`Store::as_leader`] is the fence: a leader's write runs in a transaction that first finds the lease row
//! still naming this holder and generation, unexpired by the store's clock — and holds it shared meanwhile
//! (PostgreSQL `FOR SHARE`; SQLite's write lock), so no claim can take the lease over mid-write.

use super::db::{Begin, Dialect, Row, args};
use super::{Store, StoreError, StoreResult};
use crate::fleet::Lease;
use std::time::Duration;

/// The lease of the agent that acts once for the whole fleet (the watch, the hook, the outbox).
pub const LEADER: &str = "leader";

/// What a leader's write carries: the lease it was decided under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub holder: String,
    pub generation: u64,
}

const LEASE_COLUMNS: &str = "holder, generation, expires_at_ms";

fn lease_row(r: &Row<'_>) -> StoreResult<Lease> {
    Ok(Lease {
        holder: r.get(0)?,
        generation: r.get::<i64>(1)? as u64,
        expires_at_ms: r.get::<i64>(2)? as u64,
    })
}

/// The store's clock in milliseconds since the Unix epoch, as SQL.
fn store_now(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "CAST(unixepoch('subsec') * 1000 AS INTEGER)",
        Dialect::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    }
}

/// A row lock taken by a `SELECT` (PostgreSQL); SQLite's transaction holds the write lock already.
fn row_lock(dialect: Dialect, mode: &str) -> String {
    match dialect {
        Dialect::Sqlite => String::new(),
        Dialect::Postgres => format!(" FOR {mode}"),
    }
}

impl Store {
    /// The store's clock now (milliseconds since the Unix epoch).
    pub fn clock_ms(&self) -> StoreResult<u64> {
        let now: i64 = self.db.query_row(
            &format!("SELECT {}", store_now(self.db.dialect())),
            &[],
            |r| r.get(0),
        )?;
        Ok(now.max(0) as u64)
    }

    /// Takes the lease `name` for `holder` for `ttl` from now by the store's clock, or renews it; `None`
    /// while another holder's is unexpired. One transaction, the row locked: of agents claiming at once, one
    /// takes it and the others then see it taken.
    pub fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> StoreResult<Option<Lease>> {
        let dialect = self.db.dialect();
        self.naming_damage(|store| {
            store.db.atomically_as(Begin::Immediate, || {
                // A free lease is a row nobody holds, expired since the epoch: the first claim is generation 1.
                store.db.execute(
                    "INSERT INTO leases (name, holder, generation, expires_at_ms) VALUES (?1, '', 0, 0)
                     ON CONFLICT (name) DO NOTHING",
                    args![name],
                )?;
                let current = store.db.query_row(
                    &format!(
                        "SELECT {LEASE_COLUMNS} FROM leases WHERE name = ?1{}",
                        row_lock(dialect, "UPDATE")
                    ),
                    args![name],
                    lease_row,
                )?;
                // Read after the row's lock is held: a claim that waited for another sees the time it acts at.
                let now = store.clock_ms()?;
                let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
                let Some(next) = Lease::claim(Some(&current), holder, now, ttl_ms) else {
                    return Ok(None);
                };
                store.db.execute(
                    "UPDATE leases SET holder = ?2, generation = ?3, expires_at_ms = ?4 WHERE name = ?1",
                    args![
                        name,
                        holder,
                        next.generation as i64,
                        next.expires_at_ms.min(i64::MAX as u64) as i64
                    ],
                )?;
                Ok(Some(next))
            })
        })
    }

    /// Ends every lease now (their holders have ended: SQLite's run lock was free), keeping the generations.
    pub(super) fn end_leases(&self) -> StoreResult<()> {
        self.db
            .execute("UPDATE leases SET expires_at_ms = 0", &[])?;
        Ok(())
    }

    /// Ends `holder`'s hold on the lease `name`, if it has it (a graceful stop: another agent takes it at its
    /// next claim instead of after the TTL).
    pub fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        self.db.execute(
            "UPDATE leases SET expires_at_ms = 0 WHERE name = ?1 AND holder = ?2",
            args![name, holder],
        )?;
        Ok(())
    }

    /// The lease `name` as stored (expired or not); `None` when nobody ever held it.
    pub fn lease(&self, name: &str) -> StoreResult<Option<Lease>> {
        self.db.query_opt(
            &format!("SELECT {LEASE_COLUMNS} FROM leases WHERE name = ?1 AND generation > 0"),
            args![name],
            lease_row,
        )
    }

    /// Runs `work` as one transaction that first checks `fence`: the leader's lease still names its holder
    /// and generation and is unexpired by the store's clock, held shared until the commit. Otherwise nothing
    /// is written and the answer is [`StoreError::NotLeader`].
    pub fn as_leader<T>(
        &self,
        fence: &Fence,
        work: impl FnOnce(&Store) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let dialect = self.db.dialect();
        self.naming_damage(|store| {
            store.db.atomically_as(Begin::Immediate, || {
                let held = store.db.query_opt(
                    &format!(
                        "SELECT 1 FROM leases WHERE name = ?1 AND holder = ?2 AND generation = ?3
                         AND expires_at_ms > {}{}",
                        store_now(dialect),
                        row_lock(dialect, "SHARE")
                    ),
                    args![LEADER, &fence.holder, fence.generation as i64],
                    |_| Ok(()),
                )?;
                if held.is_none() {
                    return Err(StoreError::NotLeader {
                        generation: fence.generation,
                    });
                }
                work(store)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_postgres;
    use std::collections::BTreeMap;

    const LONG: Duration = Duration::from_secs(60);

    #[test]
    fn a_lease_is_taken_when_free_renewed_by_its_holder_and_refused_to_another() {
        crate::store::for_each_backend(|store| {
            assert_eq!(store.lease(LEADER).expect("read"), None);
            let before = store.clock_ms().expect("clock");
            let a = store
                .claim_lease(LEADER, "eu/1", LONG)
                .expect("claim")
                .expect("free: taken");
            assert_eq!((a.holder.as_str(), a.generation), ("eu/1", 1));
            assert!(a.expires_at_ms >= before + 60_000, "{a:?} from {before}");
            assert_eq!(
                store.claim_lease(LEADER, "us/2", LONG).expect("claim"),
                None
            );
            let renewed = store
                .claim_lease(LEADER, "eu/1", LONG)
                .expect("claim")
                .expect("renewed");
            assert_eq!(renewed.generation, 1);
            assert!(renewed.expires_at_ms >= a.expires_at_ms);
            assert_eq!(store.lease(LEADER).expect("read"), Some(renewed));
        });
    }

    #[test]
    fn an_expired_lease_goes_to_the_next_claimant_with_the_next_generation() {
        crate::store::for_each_backend(|store| {
            let short = Duration::from_millis(1);
            store.claim_lease(LEADER, "eu/1", short).expect("claim");
            std::thread::sleep(Duration::from_millis(20));
            let taken = store
                .claim_lease(LEADER, "us/2", LONG)
                .expect("claim")
                .expect("expired: taken");
            assert_eq!((taken.holder.as_str(), taken.generation), ("us/2", 2));
        });
    }

    /// SQLite's run lock is free only when no `run` holds the file: a lease still unexpired then belongs to a
    /// dead process, and the next `run` leads at once instead of a TTL later.
    #[test]
    fn opening_a_sqlite_store_for_run_ends_the_leases_of_the_dead() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("oewsprobe.sqlite");
        {
            let store = Store::open_for_run(&path).expect("first run");
            store.claim_lease(LEADER, "eu/1", LONG).expect("claim");
        } // killed: its lease has a minute left
        let store = Store::open_for_run(&path).expect("next run");
        let taken = store
            .claim_lease(LEADER, "eu/2", LONG)
            .expect("claim")
            .expect("taken at once");
        assert_eq!((taken.holder.as_str(), taken.generation), ("eu/2", 2));
    }

    fn count_outbox(store: &Store) -> i64 {
        store
            .db
            .query_row("SELECT COUNT(*) FROM outbox", &[], |r| r.get(0))
            .expect("count")
    }

    fn write_one(store: &Store) -> StoreResult<()> {
        store.db.execute(
            "INSERT INTO outbox (created_at_ms, kind, about, state, subject, text, html, message_id,
                                 next_attempt_at_ms)
             VALUES (1, 'alert', 'x', 'queued', 's', 't', 'h', ?1, 1)",
            args![format!("<{}@test>", count_outbox(store))],
        )?;
        Ok(())
    }

    #[test]
    fn a_write_under_a_stale_or_expired_or_foreign_lease_is_refused_and_changes_nothing() {
        crate::store::for_each_backend(|store| {
            let first = store
                .claim_lease(LEADER, "eu/1", Duration::from_millis(1))
                .expect("claim")
                .expect("taken");
            let stale = Fence {
                holder: "eu/1".into(),
                generation: first.generation,
            };
            std::thread::sleep(Duration::from_millis(20));
            // Expired, not yet taken: refused.
            let refused = store.as_leader(&stale, write_one);
            assert!(matches!(
                refused,
                Err(StoreError::NotLeader { generation: 1 })
            ));
            // Taken by another: the old holder's generation is refused, and so is another's name.
            let second = store
                .claim_lease(LEADER, "us/2", LONG)
                .expect("claim")
                .expect("taken");
            assert!(store.as_leader(&stale, write_one).is_err());
            let pretender = Fence {
                holder: "eu/1".into(),
                generation: second.generation,
            };
            assert!(store.as_leader(&pretender, write_one).is_err());
            assert_eq!(count_outbox(&store), 0, "nothing written");
            let current = Fence {
                holder: "us/2".into(),
                generation: second.generation,
            };
            store
                .as_leader(&current, write_one)
                .expect("the leader writes");
            assert_eq!(count_outbox(&store), 1);
            assert_eq!(
                refused.expect_err("refused").to_string(),
                "store: this agent's lease (generation 1) is no longer current; it wrote nothing and steps down"
            );
        });
    }

    /// Agents on their own connections claim one lease over and over with a TTL so short that it changes
    /// hands all the time: every generation has one holder, each agent sees generations only grow, and no
    /// generation is skipped.
    #[test]
    fn agents_claiming_at_once_on_postgresql_never_share_a_generation() {
        let url = test_postgres::database();
        let target = crate::store::PgTarget::parse(&url).expect("url");
        Store::open_url(&target, None).expect("migrate");
        let agents: Vec<_> = (0..4)
            .map(|agent| {
                let target = target.clone();
                std::thread::spawn(move || {
                    let store = Store::open_url(&target, None).expect("open");
                    let me = format!("agent-{agent}");
                    let mut taken = Vec::new();
                    for _ in 0..150 {
                        if let Some(lease) = store
                            .claim_lease(LEADER, &me, Duration::from_millis(2))
                            .expect("claim")
                        {
                            taken.push(lease.generation);
                        }
                    }
                    (me, taken)
                })
            })
            .collect();
        let mut holders: BTreeMap<u64, String> = BTreeMap::new();
        for agent in agents {
            let (me, taken) = agent.join().expect("agent");
            assert!(
                taken.windows(2).all(|w| w[0] <= w[1]),
                "{me}: generations went back: {taken:?}"
            );
            for generation in taken {
                let first = holders.entry(generation).or_insert_with(|| me.clone());
                assert_eq!(first, &me, "generation {generation} held by two agents");
            }
        }
        let generations: Vec<u64> = holders.keys().copied().collect();
        assert!(
            generations.len() > 4,
            "the lease changed hands: {generations:?}"
        );
        assert_eq!(
            generations,
            (1..=generations.len() as u64).collect::<Vec<_>>(),
            "no generation skipped"
        );
    }
}
