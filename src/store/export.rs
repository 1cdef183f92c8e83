//! Reading runs back whole, oldest first, one row at a time (adapter): `store export` streams them out as
//! JSON Lines in constant memory, whatever the store's size.

use super::db::{Param as Sql, args};
use super::{Store, StoreError, StoreResult};
use crate::probe::ProbeRecord;
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
        let mut count = 0;
        // `each`'s own error stops the rows like a store error, and is the answer.
        let mut stopped = None;
        let read = self.db.each_row(&sql, &params, |row| {
            let (columns, json) = super::record_json::read(row)?;
            let full = super::record_json::full(&columns, &json)?;
            if let Err(e) = each(serde_json::from_value(full)?) {
                stopped = Some(e);
                return Err(StoreError::Interrupted);
            }
            count += 1;
            Ok(())
        });
        match (stopped, read) {
            (Some(e), _) => Err(e),
            (None, read) => {
                read?;
                Ok(count)
            }
        }
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
        let mut missing = Vec::new();
        for name in names {
            let held = self.db.query_row(
                "SELECT EXISTS (SELECT 1 FROM records WHERE probe = ?1)",
                args![name],
                |r| r.get::<bool>(0),
            )?;
            if !held {
                missing.push(name.clone());
            }
        }
        Ok(missing)
    }

    /// The probes the store holds runs of, by name.
    pub fn probes_with_runs(&self) -> StoreResult<Vec<String>> {
        self.db.query_map(
            "SELECT DISTINCT probe FROM records ORDER BY probe",
            &[],
            |r| r.get(0),
        )
    }
}

/// The query for `filter` and its parameters.
fn query(filter: &RunFilter) -> (String, Vec<Sql>) {
    let clamp = |ms: u64| Sql::Int(i64::try_from(ms).unwrap_or(i64::MAX));
    let mut sql = format!(
        "SELECT {} FROM records WHERE TRUE",
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
