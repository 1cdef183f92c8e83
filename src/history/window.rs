//! Which rows answer a window (pure): whole days from day rows, whole hours at the edges from hour rows,
//! whole minutes at the edges from minute rows, and the partial minutes at the very edges from raw runs.
//! So a window's answer is exact, and costs at most 2 × 23 hour rows + 2 × 59 minute rows + the runs of two
//! minutes on top of its days.
//!
//! Where a tier is pruned ([`Held`]), a part of the window is answered from the finest level still held
//! there, rounded outward to that level's bucket (the bucket counts whole); never from raw runs before
//! they are complete (only failures are left there: they would bias a count toward failures), and
//! nothing before the day rows start.

use super::rollup::Level;
use super::tiers::Held;
use crate::slo::Span;

/// The rows that answer one window: bucket ranges per level, and spans to read from raw runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cover {
    /// `(level, first bucket start, last bucket start)`, inclusive; each range holds whole buckets only.
    pub buckets: Vec<(Level, u64, u64)>,
    /// Spans shorter than a minute at the window's edges, read from raw runs.
    pub raw: Vec<Span>,
    /// What the rows and runs cover together, when anything: the window itself when every tier is held
    /// over it, else the window rounded outward where its parts are answered from coarser buckets, and
    /// clipped to where the day rows start.
    pub covered: Option<Span>,
}

/// The cover of `span` (inclusive; empty when `from_ms > to_ms`) from the tiers as `held`: the largest
/// whole buckets inside it, each part of it from the finest level held there.
pub fn cover(span: Span, held: Held) -> Cover {
    let mut out = Cover::default();
    if span.from_ms > span.to_ms {
        return out;
    }
    let held = held.nested();
    let end = span.to_ms.saturating_add(1);
    // The regions where each level (None: raw runs) is the finest held, in time order.
    let regions = [
        (Some(Level::Day), held.day_from_ms, held.hour_from_ms),
        (Some(Level::Hour), held.hour_from_ms, held.minute_from_ms),
        (Some(Level::Minute), held.minute_from_ms, held.raw_from_ms),
        (None, held.raw_from_ms, u64::MAX),
    ];
    // Covered up to here: a region's part rounded up to its bucket covers the start of the next region.
    let mut cursor = 0;
    for (finest, region_from, region_end) in regions {
        let from = span.from_ms.max(region_from).max(cursor);
        let until = end.min(region_end);
        if from >= until {
            continue;
        }
        let (from, until) = match finest {
            None => (from, until),
            Some(level) => (level.start_of(from), round_up(until, level)),
        };
        // Aligned on the finest level held here: no finer level is needed.
        split(from, until, Level::ALL.len(), &mut out);
        out.covered = Some(Span {
            from_ms: out.covered.map_or(from, |c| c.from_ms),
            to_ms: until - 1,
        });
        cursor = until;
    }
    out.buckets.sort();
    out.raw.sort_by_key(|s| s.from_ms);
    out
}

/// The start of the bucket after the one holding `ms - 1` (`ms` itself when on a bucket's start).
fn round_up(ms: u64, level: Level) -> u64 {
    ms.div_ceil(level.millis()).saturating_mul(level.millis())
}

/// Covers `[from, end)` with levels `Level::ALL[..levels]`, the coarsest first; what no level covers is raw.
fn split(from: u64, end: u64, levels: usize, out: &mut Cover) {
    if from >= end {
        return;
    }
    let Some(level) = levels.checked_sub(1).map(|i| Level::ALL[i]) else {
        out.raw.push(Span {
            from_ms: from,
            to_ms: end - 1,
        });
        return;
    };
    let size = level.millis();
    let first = from.div_ceil(size).saturating_mul(size);
    let end_whole = level.start_of(end);
    if first >= end_whole {
        return split(from, end, levels - 1, out);
    }
    out.buckets.push((level, first, end_whole - size));
    split(from, first, levels - 1, out);
    split(end_whole, end, levels - 1, out);
}

/// `span` split at the start of its last day and of its last hour (where they fall inside it and all of
/// the split part is fully held), so that windows ending at the same instant share their right-hand parts
/// and their rows are read once. The parts are disjoint and together exactly `span`: their covers count what
/// its cover counts.
pub fn split_at_the_end(span: Span, held: Held) -> Vec<Span> {
    let mut parts = Vec::with_capacity(3);
    let mut from = span.from_ms;
    if span.from_ms <= span.to_ms {
        for level in [Level::Day, Level::Hour] {
            let at = level.start_of(span.to_ms);
            if at > from && at >= held.nested().raw_from_ms {
                parts.push(Span {
                    from_ms: from,
                    to_ms: at - 1,
                });
                from = at;
            }
        }
    }
    parts.push(Span {
        from_ms: from,
        to_ms: span.to_ms,
    });
    parts
}

/// The bucket ranges of `ranges` merged, per level, where they overlap or touch: the fewest range reads
/// that read each row they name once. Sorted by level, then start.
pub fn merged(ranges: impl IntoIterator<Item = (Level, u64, u64)>) -> Vec<(Level, u64, u64)> {
    let mut all: Vec<(Level, u64, u64)> = ranges.into_iter().collect();
    all.sort_unstable();
    let mut out: Vec<(Level, u64, u64)> = Vec::with_capacity(all.len());
    for (level, first, last) in all {
        match out.last_mut() {
            Some((at, _, end)) if *at == level && first <= end.saturating_add(level.millis()) => {
                *end = (*end).max(last);
            }
            _ => out.push((level, first, last)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: u64 = 60_000;
    const H: u64 = 3_600_000;
    const D: u64 = 86_400_000;

    fn span(from_ms: u64, to_ms: u64) -> Span {
        Span { from_ms, to_ms }
    }

    #[test]
    fn windows_are_covered_by_the_largest_whole_buckets() {
        use Level::*;
        for (window, buckets, raw) in [
            (span(10 * D, 10 * D - 1), vec![], vec![]),
            (
                span(10 * D, 10 * D + 999),
                vec![],
                vec![span(10 * D, 10 * D + 999)],
            ),
            (
                span(10 * D, 11 * D - 1),
                vec![(Day, 10 * D, 10 * D)],
                vec![],
            ),
            (
                span(10 * D, 10 * D + M - 1),
                vec![(Minute, 10 * D, 10 * D)],
                vec![],
            ),
            // The last hour at 10:30:15.5 (`Span::ending_at`): 09:30:15.501 … 10:30:15.500.
            (
                span(
                    10 * D + 9 * H + 30 * M + 15_501,
                    10 * D + 10 * H + 30 * M + 15_500,
                ),
                vec![(Minute, 10 * D + 9 * H + 31 * M, 10 * D + 10 * H + 29 * M)],
                vec![
                    span(
                        10 * D + 9 * H + 30 * M + 15_501,
                        10 * D + 9 * H + 31 * M - 1,
                    ),
                    span(10 * D + 10 * H + 30 * M, 10 * D + 10 * H + 30 * M + 15_500),
                ],
            ),
            // Thirty days and a bit: minutes, hours, days, hours, minutes, and two partial minutes.
            (
                span(10 * D + 22 * H + 58 * M + 1, 40 * D + 2 * H + 3 * M + 7),
                vec![
                    (Minute, 10 * D + 22 * H + 59 * M, 10 * D + 22 * H + 59 * M),
                    (Minute, 40 * D + 2 * H, 40 * D + 2 * H + 2 * M),
                    (Hour, 10 * D + 23 * H, 10 * D + 23 * H),
                    (Hour, 40 * D, 40 * D + H),
                    (Day, 11 * D, 39 * D),
                ],
                vec![
                    span(10 * D + 22 * H + 58 * M + 1, 10 * D + 22 * H + 59 * M - 1),
                    span(40 * D + 2 * H + 3 * M, 40 * D + 2 * H + 3 * M + 7),
                ],
            ),
        ] {
            let got = cover(window, Held::default());
            assert_eq!((got.buckets, got.raw), (buckets, raw), "{window:?}");
            let covered = (window.from_ms <= window.to_ms).then_some(window);
            assert_eq!(got.covered, covered, "{window:?}");
        }
    }

    #[test]
    fn pruned_tiers_answer_from_the_finest_level_held_rounded_outward() {
        use Level::*;
        let held = Held {
            raw_from_ms: 100 * D + 10 * H + 30 * M,
            minute_from_ms: 80 * D + 5 * M,
            hour_from_ms: 20 * D + 3 * H,
            day_from_ms: 5 * D,
        };
        // Where minute rows start inside the window's last hour.
        let late_minutes = Held {
            raw_from_ms: 40 * D + 12 * H + 20 * M,
            minute_from_ms: 40 * D + 12 * H + 10 * M,
            ..Held::default()
        };
        for (window, held, buckets, raw, covered) in [
            // From where only minute rows are left to now: the first minute counts whole.
            (
                span(90 * D + 12 * H + 30 * M + 15_000, 100 * D + 11 * H + 7),
                held,
                vec![
                    (Minute, 90 * D + 12 * H + 30 * M, 90 * D + 12 * H + 59 * M),
                    (Minute, 100 * D + 10 * H, 100 * D + 10 * H + 29 * M),
                    (Minute, 100 * D + 10 * H + 30 * M, 100 * D + 10 * H + 59 * M),
                    (Hour, 90 * D + 13 * H, 90 * D + 23 * H),
                    (Hour, 100 * D, 100 * D + 9 * H),
                    (Day, 91 * D, 99 * D),
                ],
                vec![span(100 * D + 11 * H, 100 * D + 11 * H + 7)],
                Some(span(90 * D + 12 * H + 30 * M, 100 * D + 11 * H + 7)),
            ),
            // From where only day rows are left to where hour rows are: whole days, then whole hours.
            (
                span(10 * D + 4 * H + 20 * M, 50 * D + H + M),
                held,
                vec![
                    (Hour, 50 * D, 50 * D + H),
                    (Day, 10 * D, 20 * D),
                    (Day, 21 * D, 49 * D),
                ],
                vec![],
                Some(span(10 * D, 50 * D + 2 * H - 1)),
            ),
            // Before the day rows start nothing is held; a window reaching past it is clipped there.
            (span(D, 3 * D), held, vec![], vec![], None),
            (
                span(2 * D, 6 * D + 5),
                held,
                vec![(Day, 5 * D, 6 * D)],
                vec![],
                Some(span(5 * D, 7 * D - 1)),
            ),
            // The hour holding the minute rows' start counts whole, and the minutes after it with it.
            (
                span(40 * D + 10 * H, 40 * D + 12 * H + 30 * M + 30_000),
                late_minutes,
                vec![(Hour, 40 * D + 10 * H, 40 * D + 12 * H)],
                vec![],
                Some(span(40 * D + 10 * H, 40 * D + 13 * H - 1)),
            ),
        ] {
            let got = cover(window, held);
            assert_eq!(
                (got.buckets, got.raw, got.covered),
                (buckets, raw, covered),
                "{window:?}"
            );
        }
    }

    #[test]
    fn windows_ending_together_split_at_their_last_day_and_hour() {
        let held_all = Held::default();
        let recent = Held {
            raw_from_ms: 40 * D + 2 * H + 30 * M,
            ..Held::default()
        };
        let end = 40 * D + 2 * H + 3 * M + 7;
        for (window, held, parts) in [
            // Thirty days: up to the last day, the last day up to the last hour, the last hour.
            (
                span(10 * D + 5, end),
                held_all,
                vec![
                    span(10 * D + 5, 40 * D - 1),
                    span(40 * D, 40 * D + 2 * H - 1),
                    span(40 * D + 2 * H, end),
                ],
            ),
            // Within the last day: the last hour apart.
            (
                span(40 * D + H, end),
                held_all,
                vec![
                    span(40 * D + H, 40 * D + 2 * H - 1),
                    span(40 * D + 2 * H, end),
                ],
            ),
            // Within the last hour, or starting on its first instant: one part.
            (
                span(40 * D + 2 * H + M, end),
                held_all,
                vec![span(40 * D + 2 * H + M, end)],
            ),
            (
                span(40 * D + 2 * H, end),
                held_all,
                vec![span(40 * D + 2 * H, end)],
            ),
            // Never split where raw runs are not all held (the cover rounds there).
            (span(10 * D + 5, end), recent, vec![span(10 * D + 5, end)]),
            // Empty stays empty.
            (span(end, end - 1), held_all, vec![span(end, end - 1)]),
        ] {
            assert_eq!(split_at_the_end(window, held), parts, "{window:?}");
        }
    }

    #[test]
    fn ranges_that_overlap_or_touch_are_read_as_one() {
        use Level::*;
        for (ranges, reads) in [
            (vec![], vec![]),
            // Overlapping, nested and touching minutes merge; a gap of one minute does not.
            (
                vec![
                    (Minute, 10 * M, 29 * M),
                    (Minute, 0, 9 * M),
                    (Minute, 12 * M, 20 * M),
                    (Minute, 31 * M, 40 * M),
                    (Minute, 25 * M, 29 * M),
                ],
                vec![(Minute, 0, 29 * M), (Minute, 31 * M, 40 * M)],
            ),
            // Levels never merge with each other, even on the same instants.
            (
                vec![
                    (Day, 0, 3 * D),
                    (Hour, 0, 23 * H),
                    (Hour, D, 2 * D),
                    (Day, 4 * D, 4 * D),
                ],
                vec![(Hour, 0, 2 * D), (Day, 0, 4 * D)],
            ),
            // The same range twice is read once.
            (
                vec![(Hour, 5 * H, 9 * H), (Hour, 5 * H, 9 * H)],
                vec![(Hour, 5 * H, 9 * H)],
            ),
        ] {
            assert_eq!(merged(ranges.clone()), reads, "{ranges:?}");
        }
    }
}
