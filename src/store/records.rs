//! Probe records and the query-budget ledger.

use super::db::{Db, Param, Row, args};
use super::{Store, StoreError, StoreResult};
use crate::probe::{FailureClass, ProbeRecord, Verdict};
use std::time::Duration;

/// A record as read back for SLOs and status: the fields they use, plus the whole record.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub id: i64,
    pub probe: String,
    /// Where the run was made from (`""`: before locations were kept).
    pub location: String,
    pub scheduled_at_ms: u64,
    pub verdict: Verdict,
    pub class: Option<FailureClass>,
    pub status: Option<u16>,
    pub latency: Duration,
}

impl StoredRecord {
    /// The run as the SLO math sees it.
    pub fn observation(&self) -> crate::slo::Observation {
        crate::slo::Observation {
            at_ms: self.scheduled_at_ms,
            probe: self.probe.clone(),
            verdict: self.verdict,
            class: self.class,
            latency: self.latency,
        }
    }
}

/// One entry of the budget ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetSpend {
    pub at_ms: u64,
    pub probe: String,
    pub queries: u32,
}

/// What admission reserved in the budget ledger for one run (`run`): the ledger row and its queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    pub id: i64,
    pub queries: u32,
}

/// A finished run of `run`, with the reservation its admission made (none for free probes and skipped runs).
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedRun {
    pub record: ProbeRecord,
    pub reservation: Option<Reservation>,
}

impl Store {
    /// Stores one run and adds it to its rollups, in one transaction.
    pub fn insert_record(&self, record: &ProbeRecord) -> StoreResult<i64> {
        self.atomically_unnamed(|store| {
            let id = insert(&store.db, record)?;
            super::rollups::add(&store.db, std::slice::from_ref(record))?;
            Ok(id)
        })
    }

    /// Stores many runs and adds them to their rollups, in one transaction: all or none. Nests inside an
    /// enclosing transaction (`store import` holds one for a whole file).
    pub fn insert_records(&self, records: &[ProbeRecord]) -> StoreResult<()> {
        self.atomically_unnamed(|store| {
            insert_many(&store.db, records)?;
            super::rollups::add(&store.db, records)
        })
    }

    /// Stores finished runs of `run` and adds them to their rollups, in one transaction; a run that spent less
    /// than its reservation lowers the reservation to what it spent in that same transaction, so a run and its
    /// ledger entry never disagree (a reservation whose run was never stored stays whole: the safe side).
    pub fn insert_runs(&self, runs: &[FinishedRun]) -> StoreResult<()> {
        self.atomically_unnamed(|store| {
            insert_many(&store.db, runs.iter().map(|run| &run.record))?;
            for run in runs {
                if let Some(reservation) = run.reservation {
                    store.db.execute(
                        "UPDATE budget_spend SET queries = ?1 WHERE id = ?2 AND queries > ?1",
                        args![run.record.queries, reservation.id],
                    )?;
                }
            }
            super::rollups::add(&store.db, runs.iter().map(|run| &run.record))
        })
    }

    /// Reserves `queries` valid queries at `at_ms` in the ledger (before the run, so a crash mid-run still
    /// counts what may have reached the service); [`Store::insert_runs`] lowers it to what the run spent.
    pub fn record_spend(&self, spend: &BudgetSpend) -> StoreResult<Reservation> {
        let id = self.db.query_row(
            "INSERT INTO budget_spend (at_ms, probe, queries) VALUES (?1, ?2, ?3) RETURNING id",
            args![spend.at_ms as i64, &spend.probe, spend.queries],
            |r| r.get(0),
        )?;
        Ok(Reservation {
            id,
            queries: spend.queries,
        })
    }

    /// Valid queries spent in `(since_ms, ∞)`.
    pub fn spent_since(&self, since_ms: u64) -> StoreResult<u32> {
        let total: i64 = self.db.query_row(
            "SELECT CAST(COALESCE(SUM(queries), 0) AS BIGINT) FROM budget_spend WHERE at_ms > ?1",
            args![since_ms as i64],
            |r| r.get(0),
        )?;
        Ok(total as u32)
    }

    /// The ledger entries in `(since_ms, ∞)`, oldest first.
    pub fn spends_since(&self, since_ms: u64) -> StoreResult<Vec<BudgetSpend>> {
        self.db.query_map(
            "SELECT at_ms, probe, queries FROM budget_spend WHERE at_ms > ?1 ORDER BY at_ms, id",
            args![since_ms as i64],
            |r| {
                Ok(BudgetSpend {
                    at_ms: r.get::<i64>(0)? as u64,
                    probe: r.get(1)?,
                    queries: r.get(2)?,
                })
            },
        )
    }

    /// Records scheduled in `(since_ms, ∞)`, oldest first; never before the raw runs are complete (only
    /// failures are left there: counting them would bias toward failures).
    pub fn records_since(&self, since_ms: u64) -> StoreResult<Vec<StoredRecord>> {
        let raw_from = self.complete_from(super::Tier::Raw)?;
        let since_ms = since_ms.max(raw_from.saturating_sub(1));
        self.db.query_map(
            "SELECT id, probe, scheduled_at_ms, verdict, class, status, latency_us, location FROM records
             WHERE scheduled_at_ms > ?1 ORDER BY scheduled_at_ms, id",
            args![since_ms as i64],
            row_to_record,
        )
    }

    /// Records of `probe` scheduled in `span` (inclusive), oldest first; never before the raw runs are
    /// complete (as [`Store::records_since`]).
    pub fn probe_records_in(
        &self,
        probe: &str,
        span: crate::slo::Span,
    ) -> StoreResult<Vec<StoredRecord>> {
        let span = crate::slo::Span {
            from_ms: span.from_ms.max(self.complete_from(super::Tier::Raw)?),
            to_ms: span.to_ms,
        };
        let clamp = |ms: u64| i64::try_from(ms).unwrap_or(i64::MAX);
        self.db.query_map(
            "SELECT id, probe, scheduled_at_ms, verdict, class, status, latency_us, location FROM records
             WHERE probe = ?1 AND scheduled_at_ms BETWEEN ?2 AND ?3 ORDER BY scheduled_at_ms, id",
            args![probe, clamp(span.from_ms), clamp(span.to_ms)],
            row_to_record,
        )
    }

    /// The latest run of `probe` scheduled in `span` (inclusive), if any; never one from before the raw runs
    /// are complete (a failure left there is not the latest run).
    pub fn latest_run_in(
        &self,
        probe: &str,
        span: crate::slo::Span,
    ) -> StoreResult<Option<StoredRecord>> {
        self.latest_run_from(probe, None, span)
    }

    /// [`Store::latest_run_in`] of the runs from `location` only, or from anywhere (`None`).
    pub fn latest_run_from(
        &self,
        probe: &str,
        location: Option<&str>,
        span: crate::slo::Span,
    ) -> StoreResult<Option<StoredRecord>> {
        let clamp = |ms: u64| i64::try_from(ms).unwrap_or(i64::MAX);
        let from_ms = span.from_ms.max(self.complete_from(super::Tier::Raw)?);
        let mut params = vec![
            Param::from(probe),
            Param::from(clamp(from_ms)),
            Param::from(clamp(span.to_ms)),
        ];
        let only = match location {
            Some(location) => {
                params.push(Param::from(location));
                "AND location = ?4"
            }
            None => "",
        };
        self.db.query_opt(
            &format!(
                "SELECT id, probe, scheduled_at_ms, verdict, class, status, latency_us, location FROM records
                 WHERE probe = ?1 AND scheduled_at_ms BETWEEN ?2 AND ?3 {only}
                 ORDER BY scheduled_at_ms DESC, id DESC LIMIT 1"
            ),
            &params,
            row_to_record,
        )
    }

    /// The compact JSON of run `id`, parsed (`None`: no such run, or a row the store cannot read as JSON).
    fn record_json_of(&self, id: i64) -> StoreResult<Option<serde_json::Value>> {
        let json: Option<String> = self.db.query_opt(
            "SELECT record_json FROM records WHERE id = ?1",
            args![id],
            |r| r.get(0),
        )?;
        Ok(json.and_then(|text| serde_json::from_str(&text).ok()))
    }

    /// How many known-drift findings run `id` noted (0 for a run that noted none, or is not stored).
    pub fn known_drift_of(&self, id: i64) -> StoreResult<usize> {
        // The compact form keeps them as `k`; a row written before schema 5 holds the full record.
        Ok(self.record_json_of(id)?.map_or(0, |json| {
            ["k", "known_drift"]
                .iter()
                .find_map(|key| json.get(key).and_then(serde_json::Value::as_array))
                .map_or(0, Vec::len)
        }))
    }

    /// The TLS facts run `id` kept (its warnings and whether `tls.insecure` was on), if it was an HTTPS run.
    pub fn tls_of(&self, id: i64) -> StoreResult<Option<crate::tls::TlsFacts>> {
        // A row the store cannot read back as TLS facts shows none: status is a view, never a failure.
        Ok(self.record_json_of(id)?.and_then(|json| {
            ["s", "tls"]
                .iter()
                .find_map(|key| json.get(key).filter(|v| !v.is_null()))
                .and_then(|facts| serde_json::from_value(facts.clone()).ok())
        }))
    }

    /// The full latest record of `probe`, if any, as `check --format json` writes a record.
    pub fn latest_record(&self, probe: &str) -> StoreResult<Option<ProbeRecordJson>> {
        let row = self.db.query_opt(
            &format!(
                "SELECT {} FROM records WHERE probe = ?1 ORDER BY scheduled_at_ms DESC, id DESC LIMIT 1",
                super::record_json::SELECTED
            ),
            args![probe],
            super::record_json::read,
        )?;
        Ok(row
            .map(|(columns, json)| super::record_json::full(&columns, &json))
            .transpose()?)
    }

    /// The full records of `probe` (as [`Store::latest_record`] gives one), the newest first, at most
    /// `limit`; with `failed_only`, failed runs only. One indexed range read, however many runs are held.
    pub fn recent_records(
        &self,
        probe: &str,
        limit: u32,
        failed_only: bool,
    ) -> StoreResult<Vec<ProbeRecordJson>> {
        let filter = if failed_only {
            "AND verdict = 'fail'"
        } else {
            ""
        };
        let rows = self.db.query_map(
            &format!(
                "SELECT {} FROM records WHERE probe = ?1 {filter}
                 ORDER BY scheduled_at_ms DESC, id DESC LIMIT ?2",
                super::record_json::SELECTED
            ),
            args![probe, limit],
            super::record_json::read,
        )?;
        let mut out = Vec::new();
        for (columns, json) in rows {
            out.push(super::record_json::full(&columns, &json)?);
        }
        Ok(out)
    }

    /// How many records the store holds.
    pub fn record_count(&self) -> StoreResult<u64> {
        let n: i64 = self
            .db
            .query_row("SELECT COUNT(*) FROM records", &[], |r| r.get(0))?;
        Ok(n as u64)
    }
}

/// The columns a record is stored in, in the order [`row`] gives their values.
const COLUMNS: &str = "probe, target, scheduled_at_ms, verdict, class, status, latency_us, queries, record_json, \
                       request_line, location";
/// How many columns [`COLUMNS`] lists.
const WIDTH: usize = 11;
/// Rows one statement inserts ([`WIDTH`] parameters each: well within both databases' limits).
const ROWS_PER_INSERT: usize = 100;

/// The values of `record`'s columns, in [`COLUMNS`]' order.
fn row(record: &ProbeRecord, request_line: Option<i64>) -> StoreResult<[Param; WIDTH]> {
    Ok([
        Param::from(&record.probe),
        Param::from(&record.target),
        Param::from(record.scheduled_at_ms as i64),
        Param::from(record.verdict.as_str()),
        Param::from(record.class.map(|c| c.as_str())),
        Param::from(record.status),
        Param::from(record.latency.as_micros() as i64),
        Param::from(record.queries),
        Param::from(super::record_json::compact(record)?),
        Param::from(request_line),
        Param::from(&record.location),
    ])
}

/// Inserts one record inside the caller's transaction; returns its id.
fn insert(db: &Db, record: &ProbeRecord) -> StoreResult<i64> {
    super::rollups::lock_probes(db, [record.probe.as_str()])?;
    let request_line = super::record_json::stored_request(record)
        .map(|(method, url)| request_line_id(db, method, url))
        .transpose()?;
    db.query_row(
        &format!(
            "INSERT INTO records ({COLUMNS}) VALUES ({}) RETURNING id",
            marks(0)
        ),
        &row(record, request_line)?,
        |r| r.get(0),
    )
}

/// `?N` for the [`WIDTH`] values of the `index`th row of a statement.
fn marks(index: usize) -> String {
    (1..=WIDTH)
        .map(|n| format!("?{}", index * WIDTH + n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inserts `records` in order inside the caller's transaction, [`ROWS_PER_INSERT`] a statement, each request
/// line looked up once: a batch costs a few round trips to PostgreSQL, not two a run.
fn insert_many<'r>(db: &Db, records: impl IntoIterator<Item = &'r ProbeRecord>) -> StoreResult<()> {
    let records: Vec<&ProbeRecord> = records.into_iter().collect();
    // First the probes' lock, then the batch's new lines in order: agents writing one PostgreSQL store at
    // once never wait for each other in a circle.
    super::rollups::lock_probes(db, records.iter().map(|r| r.probe.as_str()))?;
    let wanted: std::collections::BTreeSet<(&str, &str)> = records
        .iter()
        .filter_map(|r| super::record_json::stored_request(r))
        .collect();
    let mut lines = std::collections::HashMap::new();
    for (method, url) in wanted {
        lines.insert((method, url), request_line_id(db, method, url)?);
    }
    for chunk in records.chunks(ROWS_PER_INSERT) {
        let mut params = Vec::with_capacity(chunk.len() * WIDTH);
        for record in chunk {
            let line = super::record_json::stored_request(record)
                .and_then(|line| lines.get(&line).copied());
            params.extend(row(record, line)?);
        }
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", marks(i)))
            .collect();
        db.execute(
            &format!(
                "INSERT INTO records ({COLUMNS}) VALUES {}",
                values.join(", ")
            ),
            &params,
        )?;
    }
    Ok(())
}

/// The number of a request line in `request_lines`, added there inside the caller's transaction when new.
/// The table holds each method and URL ever recorded once: a probe's line changes only with its definition.
/// Agents writing one PostgreSQL store may add the same line at once: the one that loses waits for the
/// other's commit, adds nothing, and reads the line the other added.
fn request_line_id(db: &Db, method: &str, url: &str) -> StoreResult<i64> {
    let known = || {
        db.query_opt(
            "SELECT id FROM request_lines WHERE method = ?1 AND url = ?2",
            args![method, url],
            |r| r.get(0),
        )
    };
    if let Some(id) = known()? {
        return Ok(id);
    }
    let added = db.query_opt(
        "INSERT INTO request_lines (method, url) VALUES (?1, ?2) ON CONFLICT (method, url) DO NOTHING
         RETURNING id",
        args![method, url],
        |r| r.get(0),
    )?;
    match added {
        Some(id) => Ok(id),
        None => known()?.ok_or(StoreError::Interrupted),
    }
}

/// A stored record's JSON, as `ProbeRecord` serialized it.
pub type ProbeRecordJson = serde_json::Value;

fn row_to_record(r: &Row<'_>) -> StoreResult<StoredRecord> {
    let verdict: String = r.get(3)?;
    let class: Option<String> = r.get(4)?;
    Ok(StoredRecord {
        id: r.get(0)?,
        probe: r.get(1)?,
        scheduled_at_ms: r.get::<i64>(2)? as u64,
        verdict: Verdict::parse(&verdict).unwrap_or(Verdict::Inconclusive),
        class: class.as_deref().and_then(FailureClass::parse),
        status: r.get(5)?,
        latency: Duration::from_micros(r.get::<i64>(6)? as u64),
        location: r.get(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Finding;

    fn record(probe: &str, at_ms: u64, verdict: Verdict, queries: u32) -> ProbeRecord {
        ProbeRecord {
            queries,
            findings: vec![Finding::new("status", None, "200", "500", None)],
            ..crate::store::test_runs::run(probe, at_ms, verdict, Duration::from_millis(120))
        }
    }

    #[test]
    fn each_request_line_is_kept_once_and_every_row_reads_its_own() {
        crate::store::for_each_backend(|store| {
            for (at_ms, probe) in [(1_000, "health"), (2_000, "models"), (3_000, "health")] {
                store
                    .insert_record(&record(probe, at_ms, Verdict::Pass, 0))
                    .expect("insert");
            }
            let lines: Vec<(String, String)> = store
                .db
                .query_map(
                    "SELECT method, url FROM request_lines ORDER BY id",
                    &[],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .expect("rows");
            assert_eq!(
                lines,
                [
                    ("GET".into(), "/health".into()),
                    ("GET".into(), "/models".into())
                ]
            );
            for probe in ["health", "models"] {
                assert_eq!(
                    store.latest_record(probe).expect("read").expect("some")["request"],
                    serde_json::json!({"method": "GET", "url": format!("http://127.0.0.1:8000/{probe}")})
                );
            }
        });
    }

    #[test]
    fn a_row_written_by_schema_6_reads_its_request_line_from_its_json() {
        crate::store::for_each_backend(|store| {
            store
            .db
            .execute(
                "INSERT INTO records (probe, target, scheduled_at_ms, verdict, class, status, latency_us, queries,
                                      record_json)
                 VALUES ('health', 'http://127.0.0.1:8000', 1000, 'pass', NULL, 200, 120000, 0,
                         '{\"b\":10,\"q\":[\"GET\",\"/health\"],\"t\":[0.0,null,null,null,0.0]}')",
                &[],
            )
            .expect("insert");
            let mut expected = crate::store::test_runs::run(
                "health",
                1_000,
                Verdict::Pass,
                Duration::from_millis(120),
            );
            expected.timings.total = Duration::ZERO;
            assert_eq!(
                store.latest_record("health").expect("read").expect("some"),
                serde_json::to_value(expected).expect("json")
            );
        });
    }

    #[test]
    fn records_round_trip() {
        crate::store::for_each_backend(|store| {
            assert_eq!(store.schema_version().expect("version"), 11);
            store
                .insert_record(&record("health", 1_000, Verdict::Pass, 0))
                .expect("insert");
            store
                .insert_record(&record("query-trace", 2_000, Verdict::Fail, 1))
                .expect("insert");
            store
                .insert_record(&record("health", 3_000, Verdict::Inconclusive, 0))
                .expect("insert");
            let all = store.records_since(0).expect("read");
            assert_eq!(all.len(), 3);
            assert_eq!(all[1].probe, "query-trace");
            assert_eq!(
                (all[1].verdict, all[1].class, all[1].status),
                (Verdict::Fail, Some(FailureClass::ServerError), Some(500))
            );
            assert_eq!(all[1].latency, Duration::from_millis(120));
            assert_eq!(
                store.records_since(1_000).expect("read").len(),
                2,
                "the lower bound is exclusive"
            );
            let latest = store.latest_record("health").expect("read").expect("some");
            assert_eq!(
                latest,
                serde_json::to_value(record("health", 3_000, Verdict::Inconclusive, 0))
                    .expect("json")
            );
        });
    }

    #[test]
    fn the_budget_ledger_sums_a_rolling_window() {
        crate::store::for_each_backend(|store| {
            for (at, q) in [(1_000, 1), (2_000, 2), (3_000, 1)] {
                store
                    .record_spend(&BudgetSpend {
                        at_ms: at,
                        probe: "query-trace".into(),
                        queries: q,
                    })
                    .expect("spend");
            }
            assert_eq!(store.spent_since(0).expect("sum"), 4);
            assert_eq!(store.spent_since(1_000).expect("sum"), 3);
            assert_eq!(store.spent_since(3_000).expect("sum"), 0);
            assert_eq!(store.spends_since(1_500).expect("list").len(), 2);
        });
    }

    #[test]
    fn a_run_that_spent_less_than_its_reservation_lowers_it_as_it_is_stored() {
        crate::store::for_each_backend(|store| {
            let reserve = |at_ms: u64, queries: u32| {
                store
                    .record_spend(&BudgetSpend {
                        at_ms,
                        probe: "query-trace".into(),
                        queries,
                    })
                    .expect("reserve")
            };
            // (reserved, spent by the run): a throttled run spent none, a run that may have reached the workflow all.
            let runs: Vec<FinishedRun> = [(1_000, 2, 0), (2_000, 2, 2), (3_000, 3, 1)]
                .into_iter()
                .map(|(at, reserved, spent)| FinishedRun {
                    record: record("query-trace", at, Verdict::Pass, spent),
                    reservation: Some(reserve(at, reserved)),
                })
                .collect();
            let never_stored = reserve(4_000, 2);
            assert_eq!(never_stored.queries, 2);
            assert_eq!(store.spent_since(0).expect("sum"), 9, "all reserved");
            store.insert_runs(&runs).expect("insert");
            let spends: Vec<(u64, u32)> = (store.spends_since(0).expect("list").into_iter())
                .map(|s| (s.at_ms, s.queries))
                .collect();
            assert_eq!(
                spends,
                [(1_000, 0), (2_000, 2), (3_000, 1), (4_000, 2)],
                "each run's reservation is what it spent; one without its run stays whole"
            );
            assert_eq!(store.record_count().expect("count"), 3);
        });
    }

    #[test]
    fn a_file_store_survives_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("oewsprobe.sqlite");
        {
            let store = Store::open(&path).expect("open");
            store
                .insert_record(&record("health", 1_000, Verdict::Pass, 0))
                .expect("insert");
        }
        let store = Store::open(&path).expect("reopen");
        assert_eq!(store.record_count().expect("count"), 1);
        assert_eq!(
            store.schema_version().expect("version"),
            11,
            "migrations are not re-applied"
        );
    }
}
