//! Which rows answer a window (pure): whole days from day rows, whole hours at the edges from hour rows,
//! whole minutes at the edges from minute rows, and the partial minutes at the very edges from raw runs.
//! So a window's answer is exact, and costs at most 2 × 23 hour rows + 2 × 59 minute rows + the runs of two
//! minutes on top of its days.

use super::rollup::Level;
use crate::slo::Span;

/// The rows that answer one window: bucket ranges per level, and spans to read from raw runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cover {
    /// `(level, first bucket start, last bucket start)`, inclusive; each range holds whole buckets only.
    pub buckets: Vec<(Level, u64, u64)>,
    /// Spans shorter than a minute at the window's edges, read from raw runs.
    pub raw: Vec<Span>,
}

/// The cover of `span` (inclusive; empty when `from_ms > to_ms`): the largest whole buckets inside it.
pub fn cover(span: Span) -> Cover {
    let mut out = Cover::default();
    if span.from_ms <= span.to_ms {
        split(
            span.from_ms,
            span.to_ms.saturating_add(1),
            Level::ALL.len(),
            &mut out,
        );
    }
    out.buckets.sort();
    out.raw.sort_by_key(|s| s.from_ms);
    out
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
            let got = cover(window);
            assert_eq!((got.buckets, got.raw), (buckets, raw), "{window:?}");
        }
    }
}
