//! Numbered schema migrations, the pending ones applied in order inside one transaction; `PRAGMA user_version` holds
//! how many have been applied (on PostgreSQL, the table `schema_version`). Never edit a released migration:
//! add the next one. PostgreSQL gets the same migrations, their types written its way ([`postgres_ddl`]).

use super::db::{Begin, Db, Dialect};
use super::{StoreError, StoreResult};

const MIGRATIONS: [&str; 11] = [
    // 1: probe records, the budget ledger, releases, rollback claims, decisions.
    "CREATE TABLE records (
        id INTEGER PRIMARY KEY,
        probe TEXT NOT NULL,
        target TEXT NOT NULL,
        scheduled_at_ms INTEGER NOT NULL,
        verdict TEXT NOT NULL,
        class TEXT,
        status INTEGER,
        latency_us INTEGER NOT NULL,
        queries INTEGER NOT NULL,
        record_json TEXT NOT NULL
    );
    CREATE INDEX records_by_time ON records (scheduled_at_ms);
    CREATE INDEX records_by_probe ON records (probe, scheduled_at_ms);
    CREATE TABLE budget_spend (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        probe TEXT NOT NULL,
        queries INTEGER NOT NULL
    );
    CREATE INDEX budget_by_time ON budget_spend (at_ms);
    CREATE TABLE releases (
        id INTEGER PRIMARY KEY,
        version TEXT NOT NULL,
        rollback_to TEXT NOT NULL,
        started_at_ms INTEGER NOT NULL,
        watch_until_ms INTEGER NOT NULL,
        ended_at_ms INTEGER
    );
    CREATE TABLE rollback_claims (
        release_id INTEGER PRIMARY KEY REFERENCES releases (id),
        claimed_at_ms INTEGER NOT NULL,
        finished_at_ms INTEGER,
        outcome_json TEXT
    );
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        release_id INTEGER NOT NULL REFERENCES releases (id),
        at_ms INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        reason TEXT NOT NULL,
        evidence_json TEXT NOT NULL
    );
    CREATE INDEX decisions_by_release ON decisions (release_id, at_ms);",
    // 2: SLO tier states (when each tier's breach began), so a restart keeps the breach history.
    "CREATE TABLE slo_state (
        objective TEXT NOT NULL,
        tier TEXT NOT NULL,
        state_json TEXT NOT NULL,
        PRIMARY KEY (objective, tier)
    );",
    // 3: alerting: per-probe alert state, the notification outbox, silences.
    "CREATE TABLE alert_state (
        key TEXT PRIMARY KEY,
        state_json TEXT NOT NULL,
        updated_at_ms INTEGER NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        created_at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        about TEXT NOT NULL,
        state TEXT NOT NULL,
        subject TEXT NOT NULL,
        text TEXT NOT NULL,
        html TEXT NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        in_reply_to TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at_ms INTEGER NOT NULL,
        last_error TEXT,
        finished_at_ms INTEGER,
        silenced_by TEXT
    );
    CREATE INDEX outbox_due ON outbox (state, next_attempt_at_ms);
    CREATE TABLE silences (
        id INTEGER PRIMARY KEY,
        probe TEXT,
        starts_at_ms INTEGER NOT NULL,
        ends_at_ms INTEGER NOT NULL,
        reason TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        removed_at_ms INTEGER
    );",
    // 4: rollups per probe and minute / hour / day (level 1 / 2 / 3; see `history`), and the latency
    // thresholds they count slow runs against. Filled from the raw runs as the migration is applied.
    "CREATE TABLE rollups (
        level INTEGER NOT NULL,
        probe TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        pass INTEGER NOT NULL,
        fail INTEGER NOT NULL,
        inconclusive INTEGER NOT NULL,
        latency BLOB NOT NULL,
        slow BLOB NOT NULL,
        PRIMARY KEY (level, probe, start_ms)
    ) WITHOUT ROWID;
    CREATE TABLE rollup_thresholds (
        probe TEXT NOT NULL,
        threshold_us INTEGER NOT NULL,
        PRIMARY KEY (probe, threshold_us)
    ) WITHOUT ROWID;",
    // 5: from when each tier of history is complete (see `tiers`), started from the data the store holds.
    "CREATE TABLE tiers (
        tier TEXT PRIMARY KEY,
        complete_from_ms INTEGER NOT NULL
    ) WITHOUT ROWID;",
    // 6: the counts of hour and day rows without their latency distributions, for count-only reads (SLO
    // windows): a tenth of the pages.
    "CREATE INDEX rollup_hour_counts ON rollups (probe, start_ms, pass, fail, inconclusive) WHERE level = 2;
    CREATE INDEX rollup_day_counts ON rollups (probe, start_ms, pass, fail, inconclusive) WHERE level = 3;",
    // 7: each distinct request line once (a probe sends the same one every run), rows naming theirs by
    // number; a row written before holds its line in its `record_json` (see `record_json`).
    "CREATE TABLE request_lines (
        id INTEGER PRIMARY KEY,
        method TEXT NOT NULL,
        url TEXT NOT NULL,
        UNIQUE (method, url)
    );
    ALTER TABLE records ADD COLUMN request_line INTEGER;",
    // 8: per bucket, how many runs failed or were inconclusive in each failure class (sparse: only
    // buckets with such runs have rows), counted from the raw runs the store holds as it is applied.
    "CREATE TABLE rollup_classes (
        level INTEGER NOT NULL,
        probe TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        class TEXT NOT NULL,
        runs INTEGER NOT NULL,
        PRIMARY KEY (level, probe, start_ms, class)
    ) WITHOUT ROWID;",
    // 9: where each run was made from (`run.location`), and the rollups and class counts per location too.
    // Runs and rows written before get the empty location: the one host the store had then (shown as `-`).
    // The rollup tables are made again with the location in their keys (SQLite cannot change a key), their
    // rows copied over; the count indexes go with the old table and are made again.
    "ALTER TABLE records ADD COLUMN location TEXT NOT NULL DEFAULT '';
    CREATE TABLE rollups_9 (
        level INTEGER NOT NULL,
        probe TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        location TEXT NOT NULL,
        pass INTEGER NOT NULL,
        fail INTEGER NOT NULL,
        inconclusive INTEGER NOT NULL,
        latency BLOB NOT NULL,
        slow BLOB NOT NULL,
        PRIMARY KEY (level, probe, start_ms, location)
    ) WITHOUT ROWID;
    INSERT INTO rollups_9 (level, probe, start_ms, location, pass, fail, inconclusive, latency, slow)
        SELECT level, probe, start_ms, '', pass, fail, inconclusive, latency, slow FROM rollups;
    DROP TABLE rollups;
    ALTER TABLE rollups_9 RENAME TO rollups;
    CREATE INDEX rollup_hour_counts ON rollups (probe, start_ms, pass, fail, inconclusive) WHERE level = 2;
    CREATE INDEX rollup_day_counts ON rollups (probe, start_ms, pass, fail, inconclusive) WHERE level = 3;
    CREATE TABLE rollup_classes_9 (
        level INTEGER NOT NULL,
        probe TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        location TEXT NOT NULL,
        class TEXT NOT NULL,
        runs INTEGER NOT NULL,
        PRIMARY KEY (level, probe, start_ms, location, class)
    ) WITHOUT ROWID;
    INSERT INTO rollup_classes_9 (level, probe, start_ms, location, class, runs)
        SELECT level, probe, start_ms, '', class, runs FROM rollup_classes;
    DROP TABLE rollup_classes;
    ALTER TABLE rollup_classes_9 RENAME TO rollup_classes;
    CREATE INDEX records_by_probe_location ON records (probe, location, scheduled_at_ms);",
    // 10: fleet mode's leases (who may act once for the whole fleet, until when by the store's clock, and the
    // generation that fences its writes), and the lease generation that took each notification to deliver it.
    "CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        generation INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL
    );
    ALTER TABLE outbox ADD COLUMN claimed_generation INTEGER;",
    // 11: the rollup rows with failures, indexed apart: the location quorum reads only their buckets.
    "CREATE INDEX rollup_failing ON rollups (level, probe, start_ms) WHERE fail > 0;",
];

/// The migration (0-based) that adds the rollups: applying it also computes them from the raw runs.
const ROLLUPS: usize = 3;
/// The migration (0-based) that adds the tiers' instants: applying it also starts them from the data held.
const TIERS: usize = 4;
/// The migration (0-based) that adds the failure-class counts: applying it also counts them from the raw runs.
const CLASSES: usize = 7;

/// The advisory lock PostgreSQL agents take to migrate a store (one at a time; the others then find it done).
const PG_MIGRATION_LOCK: i64 = 0x6f65_7773_6d69_6772; // "oewsmigr"

/// A migration written for PostgreSQL: the same tables and columns, SQLite's types as PostgreSQL's
/// (`INTEGER` as `BIGINT`, `BLOB` as `BYTEA`, a rowid `id` as an identity column; no `WITHOUT ROWID`).
pub(super) fn postgres_ddl(sqlite: &str) -> String {
    sqlite
        .replace(
            "id INTEGER PRIMARY KEY,",
            "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,",
        )
        .replace(" INTEGER", " BIGINT")
        .replace(" BLOB", " BYTEA")
        .replace(") WITHOUT ROWID", ")")
}

/// The schema version (how many migrations were applied).
pub(super) fn version(db: &Db) -> StoreResult<i64> {
    match db.dialect() {
        Dialect::Sqlite => db.query_row("PRAGMA user_version", &[], |r| r.get(0)),
        Dialect::Postgres => Ok(db
            .query_opt("SELECT MAX(version) FROM schema_version", &[], |r| {
                r.get::<Option<i64>>(0)
            })?
            .flatten()
            .unwrap_or(0)),
    }
}

fn set_version(db: &Db, version: i64) -> StoreResult<()> {
    match db.dialect() {
        Dialect::Sqlite => Ok(db.batch(&format!("PRAGMA user_version = {version}"))?),
        Dialect::Postgres => {
            db.execute("DELETE FROM schema_version", &[])?;
            db.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                super::db::args![version],
            )?;
            Ok(())
        }
    }
}

/// Applies every migration the store does not have yet.
pub fn migrate(db: &Db, shown: &str) -> StoreResult<()> {
    migrate_to(db, shown, MIGRATIONS.len())
}

/// Applies the migrations the store does not have yet, up to the first `upto` (tests build stores of an
/// earlier version with it).
pub fn migrate_to(db: &Db, shown: &str, upto: usize) -> StoreResult<()> {
    if db.dialect() == Dialect::Postgres {
        // Agents starting together: one creates the version table, under the lock; the others wait for it.
        db.atomically(|| {
            db.query_row(
                "SELECT pg_advisory_xact_lock(?1)::text",
                super::db::args![PG_MIGRATION_LOCK],
                |_| Ok(()),
            )?;
            db.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        })?;
    }
    let applied = version(db)?;
    let known = MIGRATIONS.len() as i64;
    if applied > known {
        return Err(StoreError::TooNew {
            path: shown.to_string(),
            found: applied,
            known,
        });
    }
    let upto = upto.min(MIGRATIONS.len());
    if applied as usize >= upto {
        return Ok(());
    }
    // All pending migrations in one transaction. IMMEDIATE takes the write lock first (PostgreSQL: the
    // advisory lock), and the version is read again under it: another process opening the same store at the
    // same moment (`status` while `run` starts, or a second agent) may have applied them.
    db.atomically_as(Begin::Immediate, || {
        if db.dialect() == Dialect::Postgres {
            db.query_row(
                "SELECT pg_advisory_xact_lock(?1)::text",
                super::db::args![PG_MIGRATION_LOCK],
                |_| Ok(()),
            )?;
        }
        let applied = version(db)? as usize;
        if applied >= upto {
            return Ok(());
        }
        for sql in &MIGRATIONS[applied..upto] {
            match db.dialect() {
                Dialect::Sqlite => db.batch(sql)?,
                Dialect::Postgres => db.batch(&postgres_ddl(sql))?,
            }
        }
        // The data steps (filling what a migration added) are this version's code: they write the tables as
        // the last migration leaves them, so they run after every table is made, in the order the migrations
        // have them. A chain stopping short of the last migration (tests making an older store) leaves them out.
        if upto == MIGRATIONS.len() {
            let pending = |step: usize| (applied..upto).contains(&step);
            if pending(ROLLUPS) {
                super::rollups::rebuild(db, 0, &super::rollups::NEVER)?;
            }
            if pending(TIERS) {
                super::tiers::start(db)?;
            }
            if pending(CLASSES) {
                super::rollup_classes::rebuild(
                    db,
                    super::tiers::complete_from(db, super::tiers::Tier::Raw)? as i64,
                )?;
            }
        }
        set_version(db, upto as i64)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::store::Store;
    use crate::store::db::PgTarget;

    #[test]
    fn agents_opening_a_new_postgresql_store_at_the_same_moment_migrate_it_once() {
        for _ in 0..5 {
            let url = crate::store::test_postgres::database();
            let target = PgTarget::parse(&url).expect("url");
            let opens: Vec<_> = (0..4)
                .map(|_| {
                    let target = target.clone();
                    std::thread::spawn(move || {
                        Store::open_url(&target, None).and_then(|s| s.schema_version())
                    })
                })
                .collect();
            for open in opens {
                let version = open.join().expect("thread").expect("open");
                assert_eq!(version, super::MIGRATIONS.len() as i64);
            }
            let store = Store::open_url(&target, None).expect("reopen");
            let rows: i64 = store
                .db
                .query_row("SELECT COUNT(*) FROM schema_version", &[], |r| r.get(0))
                .expect("count");
            assert_eq!(rows, 1, "one version row");
        }
    }

    #[test]
    fn every_migration_is_written_for_postgresql_with_its_types() {
        for sql in super::MIGRATIONS {
            let pg = super::postgres_ddl(sql);
            for sqlite_only in [" INTEGER", " BLOB", "WITHOUT ROWID"] {
                assert!(!pg.contains(sqlite_only), "{sqlite_only} left in {pg}");
            }
        }
        assert_eq!(
            super::postgres_ddl(
                "CREATE TABLE t (\n id INTEGER PRIMARY KEY,\n n INTEGER NOT NULL,\n b BLOB\n) WITHOUT ROWID;"
            ),
            "CREATE TABLE t (\n id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n n BIGINT NOT NULL,\n b BYTEA\n);"
        );
    }

    #[test]
    fn processes_opening_a_new_store_at_the_same_moment_both_succeed() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("oewsprobe.sqlite");
            let opens: Vec<_> = (0..4)
                .map(|_| {
                    let path = path.clone();
                    std::thread::spawn(move || Store::open(&path).and_then(|s| s.schema_version()))
                })
                .collect();
            for open in opens {
                let version = open.join().expect("thread").expect("open");
                assert_eq!(version, super::MIGRATIONS.len() as i64);
            }
        }
    }
}
