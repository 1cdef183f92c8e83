//! Reading runs back whole, oldest first, one row at a time (adapter): `store export` streams them out as
//! JSON Lines in constant memory, whatever the store's size.

use super::{Store, StoreError, StoreResult};
use crate::probe::ProbeRecord;
use rusqlite::types::Value as Sql;
use std::io::Write;

/// Which runs: of these probes (all when empty), scheduled in `[since_ms, until_ms)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    pub probes: Vec<String>,
    pub since_ms: Option<u64>,
    pub until_ms: Option<u64>,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
}

impl Store {
    /// Calls `each` with every run `filter` selects, oldest first (by scheduled time, then as stored), one
    /// row in memory at a time; stops at the first error `each` returns. Returns how many runs it read.
    pub fn for_each_run<E: From<StoreError>>(
        &self,
        filter: &RunFilter,
        mut each: impl FnMut(ProbeRecord) -> Result<(), E>,
    ) -> Result<u64, E> {
        let (sql, params) = query(filter);
        let mut stmt = self.conn.prepare(&sql).map_err(StoreError::from)?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params))
            .map_err(StoreError::from)?;
        let mut count = 0;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let (columns, json) = super::record_json::read(row).map_err(StoreError::from)?;
            let full = super::record_json::full(&columns, &json).map_err(StoreError::from)?;
            each(serde_json::from_value(full).map_err(StoreError::from)?)?;
            count += 1;
        }
        Ok(count)
    }

    /// Writes every run `filter` selects to `out` as JSON Lines ([`super::export_line`]), oldest first;
    /// returns how many.
    pub fn export(&self, filter: &RunFilter, out: &mut impl Write) -> Result<u64, ExportError> {
        let count = self.for_each_run(filter, |record| {
            out.write_all(super::export_line(&record).as_bytes())?;
            out.write_all(b"\n")?;
            Ok::<_, ExportError>(())
        })?;
        out.flush()?;
        Ok(count)
    }

    /// Those of `names` of which the store holds no run at all (a mistyped `--probe`).
    pub fn probes_without_runs(&self, names: &[String]) -> StoreResult<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM records WHERE probe = ?1)")?;
        let mut missing = Vec::new();
        for name in names {
            if !stmt.query_row([name], |r| r.get::<_, bool>(0))? {
                missing.push(name.clone());
            }
        }
        Ok(missing)
    }

    /// The probes the store holds runs of, by name.
    pub fn probes_with_runs(&self) -> StoreResult<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT probe FROM records ORDER BY probe")?;
        let names = stmt.query_map([], |r| r.get(0))?;
        Ok(names.collect::<Result<_, _>>()?)
    }
}

/// The query for `filter` and its parameters.
fn query(filter: &RunFilter) -> (String, Vec<Sql>) {
    let clamp = |ms: u64| Sql::Integer(i64::try_from(ms).unwrap_or(i64::MAX));
    let mut sql = format!(
        "SELECT {} FROM records WHERE 1",
        super::record_json::SELECTED
    );
    let mut params = Vec::new();
    if let Some(since) = filter.since_ms {
        params.push(clamp(since));
        sql.push_str(&format!(" AND scheduled_at_ms >= ?{}", params.len()));
    }
    if let Some(until) = filter.until_ms {
        params.push(clamp(until));
        sql.push_str(&format!(" AND scheduled_at_ms < ?{}", params.len()));
    }
    if !filter.probes.is_empty() {
        let first = params.len() + 1;
        params.extend(filter.probes.iter().map(|p| Sql::Text(p.clone())));
        let marks: Vec<String> = (first..=params.len()).map(|i| format!("?{i}")).collect();
        sql.push_str(&format!(" AND probe IN ({})", marks.join(", ")));
    }
    sql.push_str(" ORDER BY scheduled_at_ms, id");
    (sql, params)
}

#[cfg(test)]
#[path = "export_tests.rs"]
pub(super) mod tests;
