//! The store's one way to its database: SQLite (rusqlite) or PostgreSQL (the synchronous `postgres` client).
//! SQL is written once, with SQLite's `?N` placeholders ([`placeholders::to_dollars`] rewrites them for
//! PostgreSQL); parameters are [`Param`]s, cells are read through [`Row::get`]. The few fragments that differ
//! between the two are chosen by [`Dialect`], each in one place.
//!
//! The PostgreSQL client runs its own small runtime: it must only be called from blocking threads (the
//! daemon's store task runs in `spawn_blocking`), never from async code.

mod param;
mod pg;
mod pg_tls;
pub mod placeholders;
mod row;

pub(crate) use param::{Param, args};
pub use pg::PgTarget;
/// How many rows a PostgreSQL cursor hands over at a time (tests read more than that).
#[cfg(test)]
pub const FETCH_FOR_TESTS: usize = pg::FETCH;
pub use row::{Cell, Row, Value};

use super::StoreResult;
use std::cell::{Cell as Counter, RefCell};

/// Which SQL dialect a fragment is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// An open database.
#[derive(Debug)]
pub enum Db {
    Sqlite(rusqlite::Connection),
    /// Boxed: a PostgreSQL connection is several times a SQLite one.
    Postgres(Box<RefCell<pg::Pg>>),
}

impl Db {
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (PRAGMAs); `None` on PostgreSQL.
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Db::Sqlite(conn) => Some(conn),
            Db::Postgres(_) => None,
        }
    }

    /// Runs one statement; returns how many rows it changed.
    pub fn execute(&self, sql: &str, params: &[Param]) -> StoreResult<u64> {
        match self {
            Db::Sqlite(conn) => Ok(conn
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(params))?
                as u64),
            Db::Postgres(pg) => pg.borrow_mut().execute(sql, params),
        }
    }

    /// Runs statements without parameters, separated by `;` (schema changes).
    pub fn batch(&self, sql: &str) -> StoreResult<()> {
        match self {
            Db::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Db::Postgres(pg) => pg.borrow_mut().batch(sql),
        }
    }

    /// The one row `sql` answers, read by `read` (an error when there is none).
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: &[Param],
        read: impl FnOnce(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        match self.query_opt(sql, params, read)? {
            Some(value) => Ok(value),
            None => Err(rusqlite::Error::QueryReturnedNoRows.into()),
        }
    }

    /// The first row `sql` answers, if any, read by `read`.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[Param],
        read: impl FnOnce(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        match self {
            Db::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                match rows.next()? {
                    Some(r) => Ok(Some(read(&Row::Sqlite(r))?)),
                    None => Ok(None),
                }
            }
            Db::Postgres(pg) => {
                let rows = pg.borrow_mut().query(sql, params)?;
                rows.first().map(|r| read(&Row::Postgres(r))).transpose()
            }
        }
    }

    /// Every row `sql` answers, each read by `read`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: &[Param],
        mut read: impl FnMut(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let mut out = Vec::new();
        match self {
            Db::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                while let Some(r) = rows.next()? {
                    out.push(read(&Row::Sqlite(r))?);
                }
            }
            Db::Postgres(pg) => {
                let rows = pg.borrow_mut().query(sql, params)?;
                for r in &rows {
                    out.push(read(&Row::Postgres(r))?);
                }
            }
        }
        Ok(out)
    }

    /// Calls `each` with every row `sql` answers, a few at a time in memory however many there are;
    /// `each` may use the database meanwhile (on PostgreSQL the rows come through a cursor, inside a
    /// transaction: the caller's, or one of its own).
    pub fn each_row(
        &self,
        sql: &str,
        params: &[Param],
        mut each: impl FnMut(&Row<'_>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        match self {
            Db::Sqlite(conn) => {
                let mut stmt = conn.prepare(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                while let Some(r) = rows.next()? {
                    each(&Row::Sqlite(r))?;
                }
                Ok(())
            }
            Db::Postgres(pg) => self.atomically(|| {
                let cursor = pg.borrow_mut().declare(sql, params)?;
                loop {
                    let rows = pg.borrow_mut().fetch(&cursor)?;
                    for r in &rows {
                        each(&Row::Postgres(r))?;
                    }
                    if rows.len() < pg::FETCH {
                        return pg.borrow_mut().batch(&format!("CLOSE {cursor}"));
                    }
                }
            }),
        }
    }

    /// Whether no transaction is open.
    pub fn is_autocommit(&self) -> bool {
        match self {
            Db::Sqlite(conn) => conn.is_autocommit(),
            Db::Postgres(pg) => pg.borrow().depth() == 0,
        }
    }

    /// Runs `work` as one unit (nests: a savepoint each). The outermost unit is the transaction: a commit
    /// that fails (a full disk) does not leave it open, or every later write would join it and never commit.
    pub fn atomically<T>(&self, work: impl FnOnce() -> StoreResult<T>) -> StoreResult<T> {
        self.atomically_as(Begin::Deferred, work)
    }

    /// [`Db::atomically`], the outermost unit taking the write lock first on SQLite (`BEGIN IMMEDIATE`).
    pub fn atomically_as<T>(
        &self,
        begin: Begin,
        work: impl FnOnce() -> StoreResult<T>,
    ) -> StoreResult<T> {
        let outermost = self.is_autocommit();
        let (start, commit, undo) = match (self.dialect(), outermost) {
            (Dialect::Sqlite, true) if begin == Begin::Immediate => {
                ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
            }
            (Dialect::Sqlite, true) => ("SAVEPOINT atomically", "RELEASE atomically", "ROLLBACK"),
            (Dialect::Postgres, true) => ("BEGIN", "COMMIT", "ROLLBACK"),
            (_, false) => (
                "SAVEPOINT atomically",
                "RELEASE atomically",
                "ROLLBACK TO atomically; RELEASE atomically",
            ),
        };
        self.batch(start)?;
        let depth = self.enter(1);
        let done = work().and_then(|value| {
            self.batch(commit)?;
            Ok(value)
        });
        if done.is_err() {
            let _ = self.batch(undo);
        }
        self.enter(-1);
        debug_assert!(depth >= 1);
        done
    }

    /// Moves the PostgreSQL transaction depth by `step`; returns the new depth (SQLite keeps its own).
    fn enter(&self, step: i32) -> u32 {
        match self {
            Db::Sqlite(_) => 1,
            Db::Postgres(pg) => pg.borrow().enter(step),
        }
    }
}

/// How the outermost transaction starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    Deferred,
    /// SQLite takes the write lock at once (PostgreSQL locks row by row: the same as deferred).
    Immediate,
}

/// Keeps the depth of nested units on a PostgreSQL connection (it has no `is_autocommit`).
#[derive(Debug, Default)]
pub(super) struct Depth(Counter<u32>);

impl Depth {
    pub fn get(&self) -> u32 {
        self.0.get()
    }

    pub fn step(&self, step: i32) -> u32 {
        let now = self.0.get().saturating_add_signed(step);
        self.0.set(now);
        now
    }
}
