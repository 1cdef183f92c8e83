//! The rollup of one bucket of time (pure): counts of pass / fail / inconclusive runs, the latency
//! distribution of the conclusive ones, and, per latency threshold tracked, how many passed runs were slower.

use super::histogram::{Histogram, put_varint, take_varint};
use crate::probe::Verdict;
use crate::slo::{Counts, Sli};
use std::collections::BTreeMap;

/// The bucket sizes: a minute row per probe and minute, an hour row merged from its minutes, a day row
/// merged from its hours. Buckets are aligned on the Unix epoch (days are UTC days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Minute,
    Hour,
    Day,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Minute, Level::Hour, Level::Day];

    /// The bucket's length in milliseconds.
    pub fn millis(self) -> u64 {
        match self {
            Level::Minute => 60_000,
            Level::Hour => 3_600_000,
            Level::Day => 86_400_000,
        }
    }

    /// The start of the bucket holding `at_ms`.
    pub fn start_of(self, at_ms: u64) -> u64 {
        at_ms - at_ms % self.millis()
    }

    /// The name stored in the `level` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Minute => "minute",
            Level::Hour => "hour",
            Level::Day => "day",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == text)
    }
}

/// One run, as a rollup counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub at_ms: u64,
    pub verdict: Verdict,
    pub latency_us: u64,
}

/// The rollup of one probe's runs in one bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rollup {
    pub pass: u64,
    pub fail: u64,
    pub inconclusive: u64,
    /// The latency of passed and failed runs (as `status` reads percentiles).
    pub latency: Histogram,
    /// Per latency threshold tracked (µs): passed runs slower than it. A threshold is tracked by a rollup
    /// only when every run in it was counted against it; a threshold absent here is unknown, not zero.
    pub slow: BTreeMap<u64, u64>,
}

impl Rollup {
    /// An empty rollup tracking `thresholds_us`.
    pub fn tracking(thresholds_us: &[u64]) -> Rollup {
        Rollup {
            slow: thresholds_us.iter().map(|&t| (t, 0)).collect(),
            ..Rollup::default()
        }
    }

    /// The rollup of `runs` (all of one probe and bucket), tracking `thresholds_us`.
    pub fn of(runs: &[Run], thresholds_us: &[u64]) -> Rollup {
        let mut rollup = Rollup::tracking(thresholds_us);
        for run in runs {
            rollup.add(run);
        }
        rollup
    }

    pub fn add(&mut self, run: &Run) {
        match run.verdict {
            Verdict::Pass => self.pass += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::Inconclusive => {
                self.inconclusive += 1;
                return;
            }
        }
        self.latency.record(run.latency_us);
        if run.verdict == Verdict::Pass {
            for (&threshold, slow) in self.slow.iter_mut() {
                if run.latency_us > threshold {
                    *slow += 1;
                }
            }
        }
    }

    /// Adds `other`'s runs. A threshold stays tracked only when both tracked it.
    pub fn merge(&mut self, other: &Rollup) {
        self.pass += other.pass;
        self.fail += other.fail;
        self.inconclusive += other.inconclusive;
        self.latency.merge(&other.latency);
        if self.slow.keys().eq(other.slow.keys()) {
            // The usual case (both rows tracked the same thresholds): add in place.
            for (slow, more) in self.slow.values_mut().zip(other.slow.values()) {
                *slow += more;
            }
            return;
        }
        self.slow = std::mem::take(&mut self.slow)
            .into_iter()
            .filter_map(|(t, slow)| other.slow.get(&t).map(|more| (t, slow + more)))
            .collect();
    }

    /// How the rollup's runs count for `sli`; `None` for a latency SLI whose threshold it does not track.
    pub fn counts(&self, sli: Sli) -> Option<Counts> {
        let slow = match sli {
            Sli::Availability => 0,
            Sli::Latency { threshold } => *self.slow.get(&micros(threshold))?,
        };
        Some(Counts::new(
            self.pass - slow,
            self.fail + slow,
            self.inconclusive,
        ))
    }

    /// The `slow` column: per threshold, its distance from the previous one and the count (LEB128 varints).
    pub fn encode_slow(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut previous = 0;
        for (&threshold, &slow) in &self.slow {
            put_varint(&mut out, threshold - previous);
            put_varint(&mut out, slow);
            previous = threshold;
        }
        out
    }

    /// Reads [`Rollup::encode_slow`]'s bytes; `None` when they are not such bytes.
    pub fn decode_slow(bytes: &[u8]) -> Option<BTreeMap<u64, u64>> {
        let mut slow = BTreeMap::new();
        let mut rest = bytes;
        let mut threshold = 0u64;
        while !rest.is_empty() {
            let step = take_varint(&mut rest)?;
            threshold = threshold.checked_add(step)?;
            let count = take_varint(&mut rest)?;
            if (step == 0 && !slow.is_empty()) || slow.insert(threshold, count).is_some() {
                return None;
            }
        }
        Some(slow)
    }
}

/// Per probe, the latency thresholds (µs) its rollups count slow runs against.
pub type Thresholds = BTreeMap<String, Vec<u64>>;

/// A threshold in whole microseconds, as latencies are stored (saturating).
pub fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The rollups of `runs` (any order) at every level, keyed by (level, probe, bucket start). Each probe's
/// runs are counted against its `thresholds` entry (none when absent).
pub fn roll_up<'a>(
    runs: impl IntoIterator<Item = (&'a str, Run)>,
    thresholds: &Thresholds,
) -> BTreeMap<(Level, String, u64), Rollup> {
    let mut out: BTreeMap<(Level, String, u64), Rollup> = BTreeMap::new();
    for (probe, run) in runs {
        let tracked = thresholds.get(probe).map_or(&[][..], Vec::as_slice);
        for level in Level::ALL {
            out.entry((level, probe.to_string(), level.start_of(run.at_ms)))
                .or_insert_with(|| Rollup::tracking(tracked))
                .add(&run);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn run(at_ms: u64, verdict: Verdict, latency_ms: u64) -> Run {
        Run {
            at_ms,
            verdict,
            latency_us: latency_ms * 1000,
        }
    }

    const SECOND: u64 = 1_000_000;

    #[test]
    fn a_latency_threshold_counts_exactly_at_its_edge() {
        // 1 s exactly is good (the SLI's threshold is inclusive), 1 s + 1 µs is slow: both fall in one
        // histogram bucket, and only the per-threshold count tells them apart.
        let runs = [
            Run {
                at_ms: 0,
                verdict: Verdict::Pass,
                latency_us: SECOND,
            },
            Run {
                at_ms: 1,
                verdict: Verdict::Pass,
                latency_us: SECOND + 1,
            },
            run(2, Verdict::Fail, 10),
            run(3, Verdict::Inconclusive, 5_000),
            run(4, Verdict::Pass, 2_000),
        ];
        let rollup = Rollup::of(&runs, &[SECOND]);
        let latency = |ms| Sli::Latency {
            threshold: Duration::from_millis(ms),
        };
        for (sli, counts) in [
            (Sli::Availability, Some(Counts::new(3, 1, 1))),
            (latency(1_000), Some(Counts::new(1, 3, 1))),
            (latency(999), None),
        ] {
            assert_eq!(rollup.counts(sli), counts, "{sli:?}");
        }
        assert_eq!(
            rollup.latency.count(),
            4,
            "inconclusive runs have no latency here"
        );
    }

    #[test]
    fn merging_keeps_only_thresholds_both_sides_tracked() {
        let mut a = Rollup::of(&[run(0, Verdict::Pass, 3_000)], &[SECOND, 2 * SECOND]);
        let b = Rollup::of(&[run(1, Verdict::Pass, 3_000)], &[SECOND]);
        a.merge(&b);
        assert_eq!(a.slow, BTreeMap::from([(SECOND, 2)]));
        assert_eq!((a.pass, a.latency.count()), (2, 2));
    }

    #[test]
    fn the_slow_column_round_trips_and_refuses_bad_bytes() {
        let rollup = Rollup::of(&[run(0, Verdict::Pass, 3_000)], &[0, SECOND, 30 * SECOND]);
        let bytes = rollup.encode_slow();
        assert_eq!(Rollup::decode_slow(&bytes), Some(rollup.slow.clone()));
        assert_eq!(Rollup::decode_slow(&[]), Some(BTreeMap::new()));
        for bad in [&[0x80][..], &[5][..], &[5, 0, 0, 0][..]] {
            assert_eq!(Rollup::decode_slow(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn runs_roll_up_into_their_minute_hour_and_day() {
        let day = Level::Day.millis();
        let runs = [
            ("a", run(day + 59_999, Verdict::Pass, 1)),
            ("a", run(day + 60_000, Verdict::Fail, 1)),
            ("b", run(day + 3_600_000, Verdict::Pass, 1)),
        ];
        let rollups = roll_up(runs, &BTreeMap::new());
        let keys: Vec<(Level, &str, u64)> = rollups
            .keys()
            .map(|(l, p, s)| (*l, p.as_str(), *s))
            .collect();
        assert_eq!(
            keys,
            [
                (Level::Minute, "a", day),
                (Level::Minute, "a", day + 60_000),
                (Level::Minute, "b", day + 3_600_000),
                (Level::Hour, "a", day),
                (Level::Hour, "b", day + 3_600_000),
                (Level::Day, "a", day),
                (Level::Day, "b", day),
            ]
        );
        assert_eq!(rollups[&(Level::Day, "a".to_string(), day)].fail, 1);
    }
}
