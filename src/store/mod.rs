//! The durable store (SQLite, WAL): probe records and their rollups, the query-budget ledger, releases, rollback claims and
//! decisions. Numbered migrations; every write is one transaction, so a `kill -9` loses nothing committed.
//!
//! Synchronous by design (rusqlite): the daemon calls it from a blocking task; `status` opens the same file
//! read-only while the daemon runs (WAL lets readers and the writer proceed together).

mod alert_state;
mod bars;
pub mod db;
mod export;
mod history;
mod import;
mod latest_by_location;
mod leases;
mod lines;
mod location;
mod lock;
mod migrations;
mod outbox;
mod progress;
mod prune;
mod quorum;
mod record_json;
mod records;
mod releases;
mod rollup_classes;
mod rollups;
mod silences;
mod slo_state;
mod stats;
#[cfg(test)]
pub(crate) mod test_postgres;
#[cfg(test)]
pub(crate) mod test_runs;
mod tiers;

pub use db::PgTarget;
pub use export::{ExportError, RunFilter};
pub use history::ByLocation;
pub use import::{ImportError, Imported};
pub use leases::{Fence, LEADER};
pub use lines::{MAX_LINE, line as export_line, parse as import_line};
pub use location::Location;
pub use lock::{LockError, lock_path};
pub use outbox::{NewNotification, Notification, NotificationState, OutboxSummary};
pub use progress::{count_text, done_line, progress_line};
pub use prune::{BATCH, PruneSummary, Pruning, VACUUM_PAGES, prune};
pub use records::{BudgetSpend, FinishedRun, Reservation, StoredRecord};
pub use releases::{Release, RollbackRecord, StoredDecision};
pub use stats::{StoreStats, TierStats};
pub use tiers::Tier;

use db::Db;
use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("store {store}: {}", with_causes(source))]
    PgOpen {
        store: String,
        source: postgres::Error,
    },
    #[error("store: {}", with_causes(.0))]
    Pg(#[from] postgres::Error),
    #[error("store: column {index} is unreadable: {detail}")]
    Column { index: usize, detail: String },
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error("store {path}: {source}; {DAMAGE_ADVICE}")]
    Damaged {
        path: String,
        source: rusqlite::Error,
    },
    #[error("store {path} failed PRAGMA quick_check: {detail}; {DAMAGE_ADVICE}")]
    QuickCheck { path: String, detail: String },
    #[error(
        "store: this agent's lease (generation {generation}) is no longer current; it wrote nothing and steps down"
    )]
    NotLeader { generation: u64 },
    #[error("store: the store task failed: {0}")]
    Task(String),
    #[error("store: stored JSON is unreadable: {0}")]
    Json(#[from] serde_json::Error),
    #[error("store: a rollup row is unreadable; rebuild the rollups from the raw runs")]
    RollupUnreadable,
    #[error("store: the rollup rebuild was interrupted; nothing changed")]
    Interrupted,
    #[error(
        "store {path} has schema version {found}, newer than this oewsprobe knows ({known}); upgrade oewsprobe"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How much of the file the store keeps in memory (KiB): an SLO evaluation of 80 probes over 30 days reads
/// about 6 MiB of rollup pages, and finds them there at its next round (with SQLite's default of 2,000 KiB it
/// read them all from the file each time: 8 ms instead of 4.5). The cache holds only pages read.
pub(crate) const CACHE_KIB: i64 = 8 * 1024;
/// SQLite's default cache: for work that passes over many pages once (the quick check at `run`'s start, a
/// pruning). The pages such work read are freed after it, but the memory they held stays with the process
/// (the allocator keeps it for later use): with [`CACHE_KIB`] the first pruning of an imported 30-day store
/// left `run` 6 MiB larger for good.
pub(crate) const SCAN_CACHE_KIB: i64 = 2_000;

/// What to do about a damaged store, in its errors.
const DAMAGE_ADVICE: &str = "restore it from a backup, or move it aside to start a new store";

/// `e`, naming the store file when SQLite found it damaged or not a database at all.
fn name_damage(path: &str, e: StoreError) -> StoreError {
    match e {
        StoreError::Sql(source) if is_damage(&source) => StoreError::Damaged {
            path: path.to_string(),
            source,
        },
        other => other,
    }
}

/// "file is not a database" or "database disk image is malformed".
fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

/// Switches to WAL. Another process switching the same new file at the same moment makes SQLite answer
/// "database is locked" without waiting on the busy timeout: try again for a while.
fn wal(conn: &Connection) -> StoreResult<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return Ok(other?),
        }
    }
}

/// Makes a store made before incremental vacuum give pages back too: one `VACUUM`, which rewrites the file
/// (about as long as copying it; see README "History and rollups"), once.
fn incremental_vacuum(conn: &Connection) -> StoreResult<()> {
    let mode: i64 = conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
    if mode != prune::INCREMENTAL {
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        conn.execute_batch("VACUUM")?;
    }
    Ok(())
}

/// An open store.
#[derive(Debug)]
pub struct Store {
    db: Db,
    /// The file (or the PostgreSQL URL, without password), as shown in errors.
    path: String,
    /// `run`'s hold on the store (see [`Store::open_for_run`]); released with the store.
    _lock: Option<lock::RunLock>,
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> StoreResult<Store> {
        let shown = path.display().to_string();
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: shown.clone(),
            source,
        })?;
        let store = Store::prepare(conn, &shown)?;
        store.cache_pages(CACHE_KIB)?;
        Ok(store)
    }

    /// Opens the PostgreSQL store at `target` (with `password` when the server asks for one) and brings its
    /// schema up to date: agents starting together migrate it once (see `migrations`).
    pub fn open_url(target: &PgTarget, password: Option<&str>) -> StoreResult<Store> {
        let shown = target.to_string();
        let db = Db::Postgres(Box::new(std::cell::RefCell::new(target.connect(password)?)));
        migrations::migrate(&db, &shown).map_err(|e| match e {
            StoreError::Pg(source) => StoreError::PgOpen {
                store: shown.clone(),
                source,
            },
            other => other,
        })?;
        Ok(Store {
            db,
            path: shown,
            _lock: None,
        })
    }

    /// Opens the store for `run`, the one process that writes probe records: first takes the store's run
    /// lock (a second `run` on the same store is refused, naming the pid that holds it), then opens it.
    /// A store that fails `PRAGMA quick_check` is refused, naming the file.
    pub fn open_for_run(path: &Path) -> StoreResult<Store> {
        let lock = lock::lock_for_run(path)?;
        let mut store = Store::open(path)?;
        // The check reads every page once: through SQLite's default cache, so that memory holds the pages
        // read again, not the whole file.
        store.cache_pages(SCAN_CACHE_KIB)?;
        store.quick_check()?;
        store.cache_pages(CACHE_KIB)?;
        // The run lock was free: whoever held a lease on this file has ended. This `run` takes it at once.
        store.end_leases()?;
        store._lock = Some(lock);
        Ok(store)
    }

    /// Opens the store at `path` for reading beside `run` (the status pages): brought up to date like
    /// [`Store::open`], through SQLite's default page cache (2,000 KiB), so that this second connection adds
    /// at most that to the daemon's memory.
    pub fn open_for_reading(path: &Path) -> StoreResult<Store> {
        let store = Store::open(path)?;
        store.cache_pages(SCAN_CACHE_KIB)?;
        Ok(store)
    }

    /// At most `kib` KiB of the file's pages kept in memory. (PostgreSQL keeps its own cache: nothing to do.)
    pub(crate) fn cache_pages(&self, kib: i64) -> StoreResult<()> {
        match self.db.sqlite() {
            Some(conn) => Ok(conn.pragma_update(None, "cache_size", -kib)?),
            None => Ok(()),
        }
    }

    /// `PRAGMA quick_check`: the file's pages and indexes are consistent (without comparing index contents).
    /// Not applicable to PostgreSQL (the server checks its own pages).
    fn quick_check(&self) -> StoreResult<()> {
        let Some(conn) = self.db.sqlite() else {
            return Ok(());
        };
        let result: String = conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| self.named(e.into()))?;
        if result == "ok" {
            return Ok(());
        }
        // SQLite's report: "*** in database main ***", then one line per problem.
        let detail: Vec<&str> = result
            .lines()
            .filter(|line| !line.starts_with("*** "))
            .collect();
        Err(StoreError::QuickCheck {
            path: self.path.clone(),
            detail: detail.join("; "),
        })
    }

    /// `e`, naming the store file when it says the file is damaged (see [`StoreError::Damaged`]).
    pub fn named(&self, e: StoreError) -> StoreError {
        name_damage(&self.path, e)
    }

    /// Runs `work` on the store; an error saying the file is damaged names the file.
    pub fn naming_damage<T>(&self, work: impl FnOnce(&Store) -> StoreResult<T>) -> StoreResult<T> {
        work(self).map_err(|e| self.named(e))
    }

    /// A private in-memory store (tests, dry runs).
    pub fn in_memory() -> StoreResult<Store> {
        Store::prepare(Connection::open_in_memory()?, ":memory:")
    }

    /// Every error here names the file.
    fn prepare(conn: Connection, shown: &str) -> StoreResult<Store> {
        let set_up = |conn: &Connection| -> StoreResult<()> {
            conn.busy_timeout(Duration::from_secs(5))?;
            // Before WAL, which writes the header: a new file is made to give pages back (see `prune`). Only
            // for a new file: setting it on an existing one writes its header, even to the same value (so
            // `status` or `store stats` would write to the store they only read).
            let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            if pages == 0 {
                conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
            }
            // WAL: readers (oewsprobe status) never block the daemon. FULL: a committed transaction survives
            // a power cut, not only a killed process; probe traffic is a few writes a minute.
            wal(conn)?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            Ok(())
        };
        let db = Db::Sqlite(conn);
        let done = db
            .sqlite()
            .map_or(Ok(()), set_up)
            .and_then(|()| migrations::migrate(&db, shown))
            .and_then(|()| db.sqlite().map_or(Ok(()), incremental_vacuum));
        match done.map_err(|e| name_damage(shown, e)) {
            Ok(()) => Ok(Store {
                db,
                path: shown.to_string(),
                _lock: None,
            }),
            Err(StoreError::Sql(source)) => Err(StoreError::Open {
                path: shown.to_string(),
                source,
            }),
            Err(e) => Err(e),
        }
    }

    /// Runs `work` as one unit: all of its writes commit, or none do. Nests (a savepoint each).
    /// An error saying the file is damaged names the file.
    pub fn atomically<T>(&self, work: impl FnOnce(&Store) -> StoreResult<T>) -> StoreResult<T> {
        self.naming_damage(|store| store.atomically_unnamed(work))
    }

    fn atomically_unnamed<T>(&self, work: impl FnOnce(&Store) -> StoreResult<T>) -> StoreResult<T> {
        self.db.atomically(|| work(self))
    }

    /// The schema version (the number of applied migrations).
    pub fn schema_version(&self) -> StoreResult<i64> {
        migrations::version(&self.db)
    }

    /// The SQLite connection, for tests of what only SQLite has.
    #[cfg(test)]
    pub(crate) fn conn(&self) -> &Connection {
        self.db.sqlite().expect("a SQLite store")
    }
}

/// `e` and what caused it, each after a colon: the PostgreSQL client's own text stops at "error performing TLS
/// handshake" or "error connecting to server", and the cause (a certificate from an unknown issuer, a refused
/// connection) is what a user needs.
fn with_causes(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.ends_with(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

/// Runs `test` on a new in-memory SQLite store, then on a new PostgreSQL store (a database of its own on the
/// test server); a failure says which.
#[cfg(test)]
pub(crate) fn for_each_backend(test: impl Fn(Store)) {
    let sqlite = Store::in_memory().expect("a SQLite store");
    test(sqlite);
    let url = test_postgres::database();
    let target = PgTarget::parse(&url).expect("the test URL");
    let pg = Store::open_url(&target, None).expect("a PostgreSQL store");
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(pg))) {
        eprintln!("(the failure above is on PostgreSQL: {url})");
        std::panic::resume_unwind(panic);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_that_fails_leaves_no_transaction_open() {
        let store = Store::in_memory().expect("store");
        // A deferred foreign-key violation makes the commit (the outermost RELEASE) fail, as a full disk can.
        let failed = store.atomically(|s| {
            s.db.batch(
                "PRAGMA defer_foreign_keys = ON;
                 INSERT INTO rollback_claims (release_id, claimed_at_ms) VALUES (999, 0);",
            )?;
            Ok(())
        });
        assert_eq!(
            failed.expect_err("the commit fails").to_string(),
            "store: FOREIGN KEY constraint failed"
        );
        assert!(store.db.is_autocommit(), "no transaction left open");
    }

    #[test]
    fn an_inner_unit_goes_with_the_outer_one_on_both_backends() {
        for_each_backend(|store| {
            let nested = store.atomically(|s| {
                s.atomically(|s| s.db.batch("INSERT INTO slo_state VALUES ('o', 't', '{}')"))?;
                Err::<(), _>(StoreError::RollupUnreadable)
            });
            assert!(nested.is_err());
            assert!(store.db.is_autocommit());
            let rows: i64 = store
                .db
                .query_row("SELECT COUNT(*) FROM slo_state", &[], |r| r.get(0))
                .expect("count");
            assert_eq!(rows, 0, "the inner unit went with the outer one");
            let kept = store.atomically(|s| {
                let inner = s.atomically(|s| {
                    s.db.batch("INSERT INTO slo_state VALUES ('o', 'a', '{}')")?;
                    Err::<(), _>(StoreError::RollupUnreadable)
                });
                assert!(inner.is_err());
                s.db.batch("INSERT INTO slo_state VALUES ('o', 'b', '{}')")
            });
            assert!(kept.is_ok(), "{kept:?}");
            let tiers = store
                .db
                .query_map("SELECT tier FROM slo_state", &[], |r| r.get::<String>(0))
                .expect("tiers");
            assert_eq!(tiers, ["b"], "only the inner unit was undone");
            assert!(store.db.is_autocommit());
        });
    }

    /// The PostgreSQL client blocks on a runtime of its own: from async code (a command) it must not panic.
    #[test]
    fn a_postgresql_store_opens_reads_and_closes_from_async_code_on_either_runtime() {
        let url = test_postgres::database();
        let target = PgTarget::parse(&url).expect("url");
        let use_it = move || {
            let store = Store::open_url(&target, None).expect("open");
            store.record_count().expect("count")
        };
        let current = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let again = use_it.clone();
        assert_eq!(current.block_on(async { again() }), 0);
        let multi = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("runtime");
        let again = use_it.clone();
        assert_eq!(multi.block_on(async { again() }), 0);
        let spawned = multi.block_on(async move { tokio::spawn(async move { use_it() }).await });
        assert_eq!(spawned.expect("task"), 0);
    }

    /// The server ends the store's session (as a restart does): a write outside a transaction connects
    /// again and succeeds; a unit that was under way fails whole, and the next one connects again.
    #[test]
    fn a_postgresql_store_connects_again_when_its_connection_is_lost() {
        let url = test_postgres::database();
        let database = url.rsplit('/').next().expect("database").to_string();
        let store = Store::open_url(&PgTarget::parse(&url).expect("url"), None).expect("open");
        let end_sessions = || {
            let mut admin = test_postgres::server().connect("postgres").expect("admin");
            let ended = admin
                .query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                    &[&database],
                )
                .expect("terminate");
            assert_eq!(ended.len(), 1, "the store's one session");
        };
        let silence = |at: u64| store.add_silence(None, at, at + 1, "test").map(|s| s.id);
        silence(1).expect("a write");
        end_sessions();
        silence(2).expect("a write after the session ended");
        let failed = store.atomically(|s| {
            s.add_silence(None, 3, 4, "in a unit")?;
            end_sessions();
            s.add_silence(None, 5, 6, "in a unit")
        });
        assert!(failed.is_err(), "the unit's connection is gone: {failed:?}");
        assert!(store.db.is_autocommit());
        silence(7).expect("the next write connects again");
        let reasons: Vec<String> = store
            .db
            .query_map("SELECT reason FROM silences ORDER BY id", &[], |r| r.get(0))
            .expect("silences");
        assert_eq!(
            reasons,
            ["test", "test", "test"],
            "nothing of the failed unit"
        );
    }

    /// Another agent changes the schema under a prepared statement (as a newer agent's migration does): the
    /// next read prepares it again instead of failing with "cached plan must not change result type"; inside
    /// a unit the unit fails whole and the next one works.
    #[test]
    fn a_postgresql_store_prepares_again_after_another_agent_changes_the_schema() {
        let url = test_postgres::database();
        let target = PgTarget::parse(&url).expect("url");
        let (store, other) = (
            Store::open_url(&target, None).expect("open"),
            Store::open_url(&target, None).expect("open a second"),
        );
        let columns = |store: &Store| {
            store
                .db
                .query_row("SELECT * FROM silences LIMIT 1", &[], |r| {
                    Ok((0..).take_while(|&i| r.get::<db::Value>(i).is_ok()).count())
                })
        };
        store.add_silence(None, 1, 2, "one").expect("a silence");
        let before = columns(&store).expect("read");
        other
            .db
            .batch("ALTER TABLE silences ADD COLUMN added_by_a_newer_agent BIGINT")
            .expect("alter");
        assert_eq!(columns(&store).expect("read again"), before + 1);
        other
            .db
            .batch("ALTER TABLE silences DROP COLUMN added_by_a_newer_agent")
            .expect("alter back");
        let in_unit = store.atomically(|s| columns(s));
        assert!(
            in_unit.is_err(),
            "the unit's statement was stale: {in_unit:?}"
        );
        assert!(store.db.is_autocommit());
        assert_eq!(
            store.atomically(|s| columns(s)).expect("the next unit"),
            before
        );
    }

    #[test]
    fn rows_are_read_a_few_at_a_time_while_the_reader_writes() {
        for_each_backend(|store| {
            let n = db::FETCH_FOR_TESTS * 2 + 7;
            store
                .atomically(|s| {
                    for i in 0..n {
                        s.db.execute(
                            "INSERT INTO alert_state (key, state_json, updated_at_ms) VALUES (?1, '{}', ?2)",
                            db::args![format!("k{i:05}"), i as i64],
                        )?;
                    }
                    Ok(())
                })
                .expect("insert");
            let mut seen = 0;
            store
                .db
                .each_row(
                    "SELECT key, updated_at_ms FROM alert_state WHERE updated_at_ms >= ?1 ORDER BY key",
                    db::args![0],
                    |r| {
                        assert_eq!(r.get::<String>(0)?, format!("k{seen:05}"));
                        store.db.execute(
                            "UPDATE alert_state SET state_json = '[]' WHERE key = ?1",
                            db::args![r.get::<String>(0)?],
                        )?;
                        seen += 1;
                        Ok(())
                    },
                )
                .expect("each row");
            assert_eq!(seen, n);
            let changed: i64 = store
                .db
                .query_row(
                    "SELECT COUNT(*) FROM alert_state WHERE state_json = '[]'",
                    &[],
                    |r| r.get(0),
                )
                .expect("count");
            assert_eq!(changed as usize, n);
        });
    }
}
