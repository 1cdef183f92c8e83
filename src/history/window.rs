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
    cover_from(span, held, false)
}

/// The cover of `span` from the finest buckets held: each part of it from rows of the finest level held
/// there only (minute rows where they are held, hour rows beyond, day rows beyond those), the edges from raw
/// runs. What the location quorum judges bucket by bucket: as fine as the store still can.
pub fn fine_cover(span: Span, held: Held) -> Cover {
    cover_from(span, held, true)
}

/// [`cover`], or with `finest` [`fine_cover`].
fn cover_from(span: Span, held: Held, finest: bool) -> Cover {
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
    for (finest_level, region_from, region_end) in regions {
        let from = span.from_ms.max(region_from).max(cursor);
        let until = end.min(region_end);
        if from >= until {
            continue;
        }
        let (from, until) = match finest_level {
            None => (from, until),
            Some(level) => (level.start_of(from), round_up(until, level)),
        };
        // Aligned on the finest level held here: no finer level is needed.
        let levels = match (finest, finest_level) {
            (true, Some(level)) => Level::ALL
                .iter()
                .position(|l| *l == level)
                .map_or(1, |i| i + 1),
            (true, None) => 1,
            (false, _) => Level::ALL.len(),
        };
        split(from, until, levels, &mut out);
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

/// A window's rows with complements: where an edge's run of rows of one level fills more than half of the
/// bucket above it, the bigger row is read instead, less the rest of its rows (at most half of them): what is
/// added (`plus`), what is taken away from it (`minus`), the raw runs at the very edges (`raw`). Counts only:
/// a count is exact after the subtraction (a row is the sum of its finer rows, written together); a latency
/// distribution is not subtracted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedCover {
    pub plus: Vec<(Level, u64, u64)>,
    pub minus: Vec<(Level, u64, u64)>,
    pub raw: Vec<Span>,
}

/// [`cover`] with complements (see [`SignedCover`]): the same runs, in fewer rows. A complement is used only
/// where the finer level is held from the bigger bucket's start, so the bigger row is the sum of rows held.
pub fn signed_cover(span: Span, held: Held) -> SignedCover {
    let plain = cover(span, held);
    let held = held.nested();
    let mut out = SignedCover {
        raw: plain.raw,
        ..SignedCover::default()
    };
    for (level, first, last) in plain.buckets.into_iter().flat_map(by_parent) {
        match complement(level, first, last, held) {
            Some((parent, rest)) => {
                out.plus.push(parent);
                out.minus.extend(rest);
            }
            None => out.plus.push((level, first, last)),
        }
    }
    out.plus.sort_unstable();
    out.minus.sort_unstable();
    out
}

/// `range` split where the buckets of the level above start (a range of minutes crossing an hour, say).
fn by_parent((level, first, last): (Level, u64, u64)) -> Vec<(Level, u64, u64)> {
    let Some(parent) = parent_of(level) else {
        return vec![(level, first, last)];
    };
    let mut parts = Vec::with_capacity(2);
    let mut from = first;
    while parent.start_of(from) < parent.start_of(last) {
        let next = parent.start_of(from) + parent.millis();
        parts.push((level, from, next - level.millis()));
        from = next;
    }
    parts.push((level, from, last));
    parts
}

/// The level whose buckets hold `level`'s (`None` for days).
fn parent_of(level: Level) -> Option<Level> {
    match level {
        Level::Minute => Some(Level::Hour),
        Level::Hour => Some(Level::Day),
        Level::Day => None,
    }
}

/// The row above `[first, last]` at `level` and the rest of its rows at `level`, when the range lies in one
/// bucket above, its level is held from that bucket's start, and the two together are fewer rows.
type Complement = ((Level, u64, u64), Vec<(Level, u64, u64)>);

fn complement(level: Level, first: u64, last: u64, held: Held) -> Option<Complement> {
    let parent = parent_of(level)?;
    let start = parent.start_of(first);
    if parent.start_of(last) != start || held.from_ms(Some(level)) > start {
        return None;
    }
    let size = level.millis();
    let end = start + parent.millis();
    let rest: Vec<(Level, u64, u64)> = [(start, first), (last + size, end)]
        .into_iter()
        .filter(|(from, until)| from < until)
        .map(|(from, until)| (level, from, until - size))
        .collect();
    let rows = |(_, from, to): &(Level, u64, u64)| (to - from) / size + 1;
    let other: u64 = rest.iter().map(rows).sum();
    (1 + other < rows(&(level, first, last))).then_some(((parent, start, start), rest))
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
    fn the_fine_cover_uses_the_finest_level_held_in_each_part_and_covers_what_the_cover_covers() {
        use Level::*;
        let window = span(10 * D + 22 * H + 58 * M + 1, 40 * D + 2 * H + 3 * M + 7);
        // Every tier held: minutes all along, the partial minutes at the edges from raw runs.
        let all = fine_cover(window, Held::default());
        assert_eq!(
            all.buckets,
            [(Minute, 10 * D + 22 * H + 59 * M, 40 * D + 2 * H + 2 * M)]
        );
        assert_eq!(all.raw, cover(window, Held::default()).raw);
        // Minutes from day 30 (raw runs from day 35), hours from day 20, days before: each part from its finest
        // level held.
        let held = Held {
            raw_from_ms: 35 * D,
            minute_from_ms: 30 * D,
            hour_from_ms: 20 * D,
            day_from_ms: 0,
        };
        let fine = fine_cover(window, held);
        assert_eq!(
            fine.buckets,
            [
                (Minute, 30 * D, 35 * D - M),
                (Minute, 35 * D, 40 * D + 2 * H + 2 * M),
                (Hour, 20 * D, 30 * D - H),
                (Day, 10 * D, 19 * D),
            ]
        );
        assert_eq!(fine.covered, cover(window, held).covered);
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
    fn edges_longer_than_half_their_bucket_are_read_as_the_bucket_less_the_rest() {
        use Level::*;
        let recent = Held {
            raw_from_ms: 40 * D + 2 * H + 30 * M,
            minute_from_ms: 40 * D + 2 * H + 10 * M,
            ..Held::default()
        };
        for (window, held, plus, minus) in [
            // The last hour at 10:01:15: 58 minutes of 09:00 are that hour less two minutes; the minute
            // before now stays (one row).
            (
                span(10 * D + 9 * H + M + 15_001, 10 * D + 10 * H + M + 15_000),
                Held::default(),
                vec![
                    (Minute, 10 * D + 10 * H, 10 * D + 10 * H),
                    (Hour, 10 * D + 9 * H, 10 * D + 9 * H),
                ],
                vec![(Minute, 10 * D + 9 * H, 10 * D + 9 * H + M)],
            ),
            // Half an hour or less stays as it is.
            (
                span(10 * D + 9 * H + 30 * M, 10 * D + 10 * H - 1),
                Held::default(),
                vec![(Minute, 10 * D + 9 * H + 30 * M, 10 * D + 9 * H + 59 * M)],
                vec![],
            ),
            // Hours: 20 hours at the end of day 10 are the day less its first four; the window's last two
            // hours are hours, and its last minute of 40 days 2:00 a minute.
            (
                span(10 * D + 4 * H, 40 * D + 2 * H + M - 1),
                Held::default(),
                vec![
                    (Minute, 40 * D + 2 * H, 40 * D + 2 * H),
                    (Hour, 40 * D, 40 * D + H),
                    (Day, 10 * D, 10 * D),
                    (Day, 11 * D, 39 * D),
                ],
                vec![(Hour, 10 * D, 10 * D + 3 * H)],
            ),
            // A run of minutes inside an hour, with a few minutes of the hour on each side: both are taken away.
            (
                span(10 * D + 2 * M, 10 * D + 57 * M - 1),
                Held::default(),
                vec![(Hour, 10 * D, 10 * D)],
                vec![
                    (Minute, 10 * D, 10 * D + M),
                    (Minute, 10 * D + 57 * M, 10 * D + 59 * M),
                ],
            ),
            // Never where the minutes of that hour are not all held.
            (
                span(40 * D + 2 * H + 12 * M, 40 * D + 3 * H - 1),
                recent,
                vec![
                    (Minute, 40 * D + 2 * H + 12 * M, 40 * D + 2 * H + 29 * M),
                    (Minute, 40 * D + 2 * H + 30 * M, 40 * D + 2 * H + 59 * M),
                ],
                vec![],
            ),
        ] {
            let got = signed_cover(window, held);
            assert_eq!((got.plus, got.minus), (plus, minus), "{window:?}");
            assert_eq!(got.raw, cover(window, held).raw, "{window:?}");
        }
    }
}
