//! `store stats` and `store rebuild-rollups` output for people (pure).

use crate::store::{StoreStats, TierStats, count_text};
use std::time::{Duration, UNIX_EPOCH};

/// An instant of the store as RFC 3339 in UTC, to the second; `-` for none.
fn when(ms: Option<u64>) -> String {
    ms.map_or_else(
        || "-".to_string(),
        |ms| humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string(),
    )
}

/// The table: the file and its size, the newest run, then per tier (raw runs, then minute, hour and day
/// rollups) the rows and the oldest.
pub fn stats_table(stats: &StoreStats) -> String {
    let tiers: Vec<(&str, String, String)> =
        std::iter::once(("runs", stats.runs, stats.oldest_run_ms))
            .chain(stats.rollups.iter().map(|t| (t.level, t.rows, t.oldest_ms)))
            .map(|(name, rows, oldest)| (name, count_text(rows), when(oldest)))
            .collect();
    let width = tiers.iter().map(|t| t.1.len()).max().unwrap_or(0).max(4);
    let mut out = format!(
        "store         {}\nsize on disk  {} bytes (file {}, WAL {})\nnewest run    {}\n",
        stats.store,
        count_text(stats.file_bytes + stats.wal_bytes),
        count_text(stats.file_bytes),
        count_text(stats.wal_bytes),
        when(stats.newest_run_ms)
    );
    // Fleet mode: the agents' locations (one location: no line, as before).
    if stats.locations.len() > 1 {
        let names: Vec<&str> = stats
            .locations
            .iter()
            .map(|l| super::location_text(l))
            .collect();
        out.push_str(&format!("locations     {}\n", names.join(", ")));
    }
    out.push_str(&format!("{:<6}  {:>width$}  OLDEST\n", "TIER", "ROWS"));
    for (name, rows, oldest) in tiers {
        out.push_str(&format!("{name:<6}  {rows:>width$}  {oldest}\n"));
    }
    out
}

/// What `store rebuild-rollups` did.
pub fn rebuilt_text(runs: u64, tiers: &[TierStats], took: Duration) -> String {
    let rows: Vec<String> = tiers
        .iter()
        .map(|t| format!("{} {} rows", count_text(t.rows), t.level))
        .collect();
    format!(
        "rebuilt the rollups of {} runs in {:.1}s: {}\n",
        count_text(runs),
        took.as_secs_f64(),
        rows.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(level: &'static str, rows: u64, oldest_ms: Option<u64>) -> TierStats {
        TierStats {
            level,
            rows,
            oldest_ms,
        }
    }

    #[test]
    fn the_stats_table_is_exact() {
        const DEC_1: u64 = 1_796_083_200_000;
        let stats = StoreStats {
            store: "/var/lib/oewsprobe/oewsprobe.sqlite".into(),
            file_bytes: 951_123_456,
            wal_bytes: 4_128_512,
            runs: 2_160_000,
            oldest_run_ms: Some(DEC_1 + 1_234),
            newest_run_ms: Some(DEC_1 + 30 * 86_400_000 - 1),
            rollups: vec![
                tier("minute", 2_160_000, Some(DEC_1)),
                tier("hour", 36_000, Some(DEC_1)),
                tier("day", 1_500, Some(DEC_1)),
            ],
            locations: vec!["eu-west".into()],
        };
        assert_eq!(
            stats_table(&stats),
            "\
store         /var/lib/oewsprobe/oewsprobe.sqlite
size on disk  955,251,968 bytes (file 951,123,456, WAL 4,128,512)
newest run    2026-12-30T23:59:59Z
TIER         ROWS  OLDEST
runs    2,160,000  2026-12-01T00:00:01Z
minute  2,160,000  2026-12-01T00:00:00Z
hour       36,000  2026-12-01T00:00:00Z
day         1,500  2026-12-01T00:00:00Z
"
        );
        let empty = StoreStats {
            store: "s.sqlite".into(),
            file_bytes: 4_096,
            wal_bytes: 0,
            runs: 0,
            oldest_run_ms: None,
            newest_run_ms: None,
            rollups: vec![
                tier("minute", 0, None),
                tier("hour", 0, None),
                tier("day", 0, None),
            ],
            locations: Vec::new(),
        };
        let fleet = StoreStats {
            locations: vec!["".into(), "eu-west".into(), "us-east".into()],
            ..stats.clone()
        };
        assert!(
            stats_table(&fleet).contains(
                "newest run    2026-12-30T23:59:59Z\nlocations     -, eu-west, us-east\nTIER "
            ),
            "{}",
            stats_table(&fleet)
        );
        assert_eq!(
            stats_table(&empty),
            "\
store         s.sqlite
size on disk  4,096 bytes (file 4,096, WAL 0)
newest run    -
TIER    ROWS  OLDEST
runs       0  -
minute     0  -
hour       0  -
day        0  -
"
        );
    }

    #[test]
    fn the_rebuild_says_what_it_made_and_how_long_it_took() {
        assert_eq!(
            rebuilt_text(
                2_160_000,
                &[
                    tier("minute", 2_160_000, None),
                    tier("hour", 36_000, None),
                    tier("day", 1_500, None)
                ],
                Duration::from_millis(8_049)
            ),
            "rebuilt the rollups of 2,160,000 runs in 8.0s: 2,160,000 minute rows, 36,000 hour rows, 1,500 day rows\n"
        );
    }
}
