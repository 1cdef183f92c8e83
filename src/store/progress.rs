//! The progress line of a long rollup rebuild (the migration to schema 4 of a large store, `store
//! rebuild-rollups`): updated in place on stderr when stderr is a terminal, absent otherwise (logs, tests).
//! The text is made by pure functions.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// `n` with a comma between thousands: `2,160,000`.
pub fn count_text(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The line while `done` of `total` runs are rolled up: `oewsprobe: building rollups from 2,160,000 runs: 45%`.
pub fn progress_line(total: u64, done: u64) -> String {
    let percent = (done.min(total) * 100).checked_div(total).unwrap_or(100);
    format!(
        "oewsprobe: building rollups from {} runs: {percent}%",
        count_text(total)
    )
}

/// The last line, never shorter than a progress line (it overwrites one):
/// `oewsprobe: building rollups from 2,160,000 runs: 100%, done in 8.0s`.
pub fn done_line(total: u64, took: Duration) -> String {
    format!(
        "{}, done in {:.1}s",
        progress_line(total, total),
        took.as_secs_f64()
    )
}

/// Shows the progress of rolling up `total` runs on stderr, when stderr is a terminal.
#[derive(Debug)]
pub(super) struct Progress {
    total: u64,
    started: Instant,
    shown: Option<String>,
}

impl Progress {
    /// A progress line for `total` runs, or `None` when stderr is not a terminal or there is nothing to do.
    /// `total` is asked only when the line will be shown.
    pub(super) fn on_terminal(
        total: impl FnOnce() -> super::StoreResult<u64>,
    ) -> super::StoreResult<Option<Progress>> {
        if !std::io::stderr().is_terminal() {
            return Ok(None);
        }
        let total = total()?;
        Ok((total > 0).then(|| Progress {
            total,
            started: Instant::now(),
            shown: None,
        }))
    }

    /// `done` runs are rolled up: rewrites the line when its text changes.
    pub(super) fn update(&mut self, done: u64) {
        let line = progress_line(self.total, done);
        if self.shown.as_ref() != Some(&line) {
            show(&format!("\r{line}"));
            self.shown = Some(line);
        }
    }

    /// Ends the line with the time taken.
    pub(super) fn finish(self) {
        show(&format!(
            "\r{}\n",
            done_line(self.total, self.started.elapsed())
        ));
    }
}

fn show(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_thousands_separators() {
        let cases = [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (65_536, "65,536"),
            (2_160_000, "2,160,000"),
            (u64::MAX, "18,446,744,073,709,551,615"),
        ];
        for (n, text) in cases {
            assert_eq!(count_text(n), text);
        }
    }

    #[test]
    fn the_progress_line_says_how_far_in_whole_percent() {
        let cases = [
            (
                2_160_000,
                0,
                "oewsprobe: building rollups from 2,160,000 runs: 0%",
            ),
            (
                2_160_000,
                21_599,
                "oewsprobe: building rollups from 2,160,000 runs: 0%",
            ),
            (
                2_160_000,
                21_600,
                "oewsprobe: building rollups from 2,160,000 runs: 1%",
            ),
            (
                2_160_000,
                972_000,
                "oewsprobe: building rollups from 2,160,000 runs: 45%",
            ),
            (
                2_160_000,
                2_159_999,
                "oewsprobe: building rollups from 2,160,000 runs: 99%",
            ),
            (
                2_160_000,
                2_160_000,
                "oewsprobe: building rollups from 2,160,000 runs: 100%",
            ),
            (7, 9, "oewsprobe: building rollups from 7 runs: 100%"),
            (0, 0, "oewsprobe: building rollups from 0 runs: 100%"),
        ];
        for (total, done, line) in cases {
            assert_eq!(progress_line(total, done), line, "{done} of {total}");
        }
        assert_eq!(
            done_line(2_160_000, Duration::from_millis(8_049)),
            "oewsprobe: building rollups from 2,160,000 runs: 100%, done in 8.0s"
        );
        assert!(done_line(1, Duration::ZERO).len() > progress_line(1, 0).len());
    }
}
