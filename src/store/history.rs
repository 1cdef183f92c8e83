//! What happened in a window, read from the rollups: one probe's runs as one [`Rollup`] (the window's
//! [`cover`] rows merged, plus its raw runs at the edges), and an objective's counts per window. Rows read
//! depend on the window's length in buckets, not on its runs.

use super::{Store, StoreResult};
use crate::history::{Rollup, Run, cover, micros};
use crate::slo::{Counts, Objective, Span};
use std::collections::BTreeSet;

impl Store {
    /// `probe`'s runs in `span` (inclusive) as one rollup, tracking the thresholds every row it merges tracks.
    pub fn window_rollup(&self, probe: &str, span: Span) -> StoreResult<Rollup> {
        let cover = cover(span);
        let tracked = self.latency_thresholds()?.remove(probe).unwrap_or_default();
        let mut runs = Vec::new();
        for edge in &cover.raw {
            for record in self.probe_records_in(probe, *edge)? {
                runs.push(Run {
                    at_ms: record.scheduled_at_ms,
                    verdict: record.verdict,
                    latency_us: micros(record.latency),
                });
            }
        }
        let mut window = Rollup::of(&runs, &tracked);
        for &(level, first, last) in &cover.buckets {
            for (_, row) in self.rollup_rows(probe, level, first, last)? {
                window.merge(&row);
            }
        }
        Ok(window)
    }

    /// The counts of `objective` in each of `spans` (parallel to them), from the rollups; a latency
    /// objective whose threshold the rollups of a probe do not track counts that probe's raw runs instead.
    pub fn objective_counts(
        &self,
        objective: &Objective,
        spans: &[Span],
    ) -> StoreResult<Vec<Counts>> {
        let mut out = vec![Counts::default(); spans.len()];
        for (span, counts) in spans.iter().zip(out.iter_mut()) {
            for probe in objective.probes.iter().collect::<BTreeSet<_>>() {
                let rolled = self.window_rollup(probe, *span)?.counts(objective.sli);
                *counts = *counts
                    + match rolled {
                        Some(c) => c,
                        None => self
                            .probe_records_in(probe, *span)?
                            .iter()
                            .map(|r| {
                                let mut c = Counts::default();
                                c.add(objective.sli.classify(&r.observation()));
                                c
                            })
                            .sum(),
                    };
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
