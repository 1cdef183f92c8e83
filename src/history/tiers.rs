//! How long each tier of history is kept and from when each is complete (pure): the retention per tier
//! (`run.retention_*`), the instants a pruning at `now` cuts each tier at, and [`Held`], from when each
//! tier holds every run, which decides how a window is covered (`history::cover`).

use super::rollup::Level;
use std::time::Duration;

/// How long each tier is kept (`run.retention_raw`, `_failures`, `_minute`, `_hour`, `_day`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Raw runs of every verdict.
    pub raw: Duration,
    /// Raw runs whose verdict is not pass (their findings with them); at least `raw`.
    pub failures: Duration,
    pub minute: Duration,
    pub hour: Duration,
    /// `None`: day rows are kept for ever.
    pub day: Option<Duration>,
}

const DAY: u64 = 24 * 3600;

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            raw: Duration::from_secs(7 * DAY),
            failures: Duration::from_secs(90 * DAY),
            minute: Duration::from_secs(30 * DAY),
            hour: Duration::from_secs(400 * DAY),
            day: None,
        }
    }
}

/// Where a pruning at one instant cuts each tier: what lies before an instant goes. Every cut is aligned on
/// its tier's bucket (raw runs on minutes), so a tier is complete from a bucket's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    /// Passed runs before this go.
    pub raw_ms: u64,
    /// Every run before this goes.
    pub failures_ms: u64,
    pub minute_ms: u64,
    pub hour_ms: u64,
    /// `None`: no day row goes.
    pub day_ms: Option<u64>,
    /// Budget ledger entries before this go: the budget reads only the last hour; one more is kept.
    pub budget_ms: u64,
}

/// How much of the budget ledger is kept: the rolling hour it is read for, and an hour's margin.
pub const BUDGET_KEPT: Duration = Duration::from_secs(2 * 3600);

impl Retention {
    /// The cuts of a pruning at `now_ms`.
    pub fn cutoffs(&self, now_ms: u64) -> Cutoffs {
        let before = |kept: Duration, level: Level| {
            level.start_of(
                now_ms.saturating_sub(u64::try_from(kept.as_millis()).unwrap_or(u64::MAX)),
            )
        };
        Cutoffs {
            raw_ms: before(self.raw, Level::Minute),
            failures_ms: before(self.failures, Level::Minute),
            minute_ms: before(self.minute, Level::Minute),
            hour_ms: before(self.hour, Level::Hour),
            day_ms: self.day.map(|d| before(d, Level::Day)),
            budget_ms: now_ms.saturating_sub(BUDGET_KEPT.as_millis() as u64),
        }
    }
}

/// From when each tier holds every run: raw runs of every verdict, minute, hour and day rows. Before
/// `raw_from_ms` only failed and inconclusive runs may be left (so they never answer a count); before a
/// level's instant its rows are gone. `Held::default()`: everything, from the epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    pub raw_from_ms: u64,
    pub minute_from_ms: u64,
    pub hour_from_ms: u64,
    pub day_from_ms: u64,
}

impl Held {
    /// The same, each level's instant rounded up to its bucket and made no earlier than a coarser level's:
    /// a finer tier only counts where every coarser one is held too (so a window's edge answered by a
    /// level can always be completed by the coarser ones inside it). Raw runs by the minute as pruned.
    pub fn nested(self) -> Held {
        let up = |ms: u64, level: Level| ms.div_ceil(level.millis()).saturating_mul(level.millis());
        let day = up(self.day_from_ms, Level::Day);
        let hour = up(self.hour_from_ms, Level::Hour).max(day);
        let minute = up(self.minute_from_ms, Level::Minute).max(hour);
        Held {
            raw_from_ms: self.raw_from_ms.max(minute),
            minute_from_ms: minute,
            hour_from_ms: hour,
            day_from_ms: day,
        }
    }

    /// The instant from which `level` (`None`: raw runs) is held.
    pub fn from_ms(&self, level: Option<Level>) -> u64 {
        match level {
            None => self.raw_from_ms,
            Some(Level::Minute) => self.minute_from_ms,
            Some(Level::Hour) => self.hour_from_ms,
            Some(Level::Day) => self.day_from_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: u64 = 60_000;
    const H: u64 = 3_600_000;
    const D: u64 = 86_400_000;

    #[test]
    fn cuts_fall_on_bucket_starts() {
        let now = 1_000 * D + 5 * H + 7 * M + 1_234;
        let days = |n: u64| Duration::from_secs(n * DAY);
        let retention = Retention {
            day: Some(days(800)),
            ..Retention::default()
        };
        assert_eq!(
            retention.cutoffs(now),
            Cutoffs {
                raw_ms: 993 * D + 5 * H + 7 * M,
                failures_ms: 910 * D + 5 * H + 7 * M,
                minute_ms: 970 * D + 5 * H + 7 * M,
                hour_ms: 600 * D + 5 * H,
                day_ms: Some(200 * D),
                budget_ms: now - 2 * H,
            }
        );
        let early = Retention::default().cutoffs(3 * D);
        assert_eq!(
            (early.raw_ms, early.hour_ms, early.day_ms, early.budget_ms),
            (0, 0, None, 3 * D - 2 * H),
            "nothing before the epoch"
        );
    }

    #[test]
    fn held_instants_nest_and_round_up_to_their_buckets() {
        for (held, nested) in [
            (Held::default(), Held::default()),
            (
                Held {
                    raw_from_ms: 50 * D + 7 * M + 5,
                    minute_from_ms: 40 * D + 3 * M + 1,
                    hour_from_ms: 10 * D + 2 * H + 1,
                    day_from_ms: 1,
                },
                Held {
                    raw_from_ms: 50 * D + 7 * M + 5,
                    minute_from_ms: 40 * D + 4 * M,
                    hour_from_ms: 10 * D + 3 * H,
                    day_from_ms: D,
                },
            ),
            // Raw runs kept longer than minute rows, and hour rows pruned past the minute rows' start.
            (
                Held {
                    raw_from_ms: 5 * D,
                    minute_from_ms: 20 * D + M,
                    hour_from_ms: 30 * D + H,
                    day_from_ms: 0,
                },
                Held {
                    raw_from_ms: 30 * D + H,
                    minute_from_ms: 30 * D + H,
                    hour_from_ms: 30 * D + H,
                    day_from_ms: 0,
                },
            ),
        ] {
            assert_eq!(held.nested(), nested, "{held:?}");
        }
    }
}
