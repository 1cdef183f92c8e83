//! Each location's latest conclusive run of a probe, recent enough: what a probe's alert judges a run against
//! when several locations probe (see [`crate::fleet::alerting`]).

use super::db::args;
use super::{Store, StoreResult};
use crate::fleet::LocationRun;
use crate::history::Level;
use crate::probe::{FailureClass, Verdict};

impl Store {
    /// The latest passed or failed run of `probe` at each location, among those scheduled at or after
    /// `since_ms`; in location order.
    pub fn latest_conclusive_by_location(
        &self,
        probe: &str,
        since_ms: u64,
    ) -> StoreResult<Vec<LocationRun>> {
        let rows = self.db.query_map(
            "SELECT location, verdict, class FROM records
             WHERE probe = ?1 AND scheduled_at_ms >= ?2 AND verdict IN ('pass', 'fail')
             ORDER BY location, scheduled_at_ms DESC",
            args![probe.to_string(), since_ms as i64],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<Option<String>>(2)?,
                ))
            },
        )?;
        let mut latest: Vec<LocationRun> = Vec::new();
        for (location, verdict, class) in rows {
            if latest.last().is_some_and(|run| run.location == location) {
                continue;
            }
            let Some(verdict) = Verdict::parse(&verdict) else {
                continue;
            };
            latest.push(LocationRun {
                location,
                verdict,
                class: class.as_deref().and_then(FailureClass::parse),
            });
        }
        Ok(latest)
    }

    /// How many locations made runs in the days (UTC) from `since_ms`'s to today's, read from the day rows:
    /// cheap enough to ask often, so one agent alone pays nothing for the quorum.
    pub fn locations_in_days_since(&self, since_ms: u64) -> StoreResult<u64> {
        let day = Level::Day.millis();
        let count: i64 = self.db.query_row(
            "SELECT COUNT(DISTINCT location) FROM rollups WHERE level = ?1 AND start_ms >= ?2",
            args![
                super::rollups::code(Level::Day),
                (since_ms / day * day) as i64
            ],
            |r| r.get(0),
        )?;
        Ok(count.max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use crate::fleet::LocationRun;
    use crate::probe::{FailureClass, ProbeRecord, Verdict};
    use crate::store::for_each_backend;
    use std::time::Duration;

    fn run(location: &str, at: u64, verdict: Verdict) -> ProbeRecord {
        let mut record =
            crate::store::test_runs::run("health", at, verdict, Duration::from_millis(5));
        record.location = location.into();
        if verdict == Verdict::Fail {
            record.class = Some(FailureClass::Timeout);
        }
        record
    }

    #[test]
    fn each_location_s_latest_conclusive_run_since_the_given_time_is_read() {
        for_each_backend(|store| {
            let runs = [
                run("a", 1_000, Verdict::Fail),
                run("a", 2_000, Verdict::Pass),
                run("a", 3_000, Verdict::Inconclusive),
                run("b", 2_500, Verdict::Fail),
                run("c", 500, Verdict::Fail),
                run("", 2_000, Verdict::Pass),
            ];
            store.insert_records(&runs).expect("runs");
            let latest = store
                .latest_conclusive_by_location("health", 1_000)
                .expect("read");
            let expected = |location: &str, verdict, class| LocationRun {
                location: location.into(),
                verdict,
                class,
            };
            assert_eq!(
                latest,
                [
                    expected("", Verdict::Pass, None),
                    expected("a", Verdict::Pass, None),
                    expected("b", Verdict::Fail, Some(FailureClass::Timeout)),
                ],
                "c's run is too old; a's inconclusive run does not count"
            );
            assert_eq!(store.locations_in_days_since(0).expect("count"), 4);
            assert_eq!(
                store
                    .locations_in_days_since(2 * 86_400_000)
                    .expect("count"),
                0,
                "none in the days since"
            );
            assert!(
                store
                    .latest_conclusive_by_location("other", 0)
                    .expect("read")
                    .is_empty()
            );
        });
    }
}
