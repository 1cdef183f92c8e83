//! History at constant cost (pure): the rollups of probe runs per minute, hour and day — counts and a
//! mergeable latency distribution, written with the runs — and how a window's answer is assembled from the
//! fewest rows, exactly as the raw runs would give it.
//!
//! No tokio, rusqlite or clock here: the store keeps the rows (`store::rollups`), this module decides what
//! they hold and which of them answer a window.

mod classes;
mod histogram;
mod rollup;
mod tiers;
mod window;

pub use classes::{ClassCounts, ClassedRun, roll_up_classes, unclassified};
pub use histogram::{Histogram, bucket_bounds, bucket_of};
pub use rollup::{Level, Rollup, Run, Thresholds, micros, roll_up};
pub use tiers::{BUDGET_KEPT, Cutoffs, Held, Retention};
pub use window::{Cover, SignedCover, cover, fine_cover, signed_cover, split_at_the_end};

use crate::slo::{Counts, Objective, Observation, Sli};

#[cfg(test)]
mod proptests;

/// The latency thresholds the rollups must track so that `objectives` are answered from them: per probe,
/// the thresholds of the latency objectives covering it, sorted, without duplicates.
pub fn latency_thresholds(objectives: &[Objective]) -> Thresholds {
    let mut out = Thresholds::new();
    for objective in objectives {
        if let Sli::Latency { threshold } = objective.sli {
            for probe in &objective.probes {
                out.entry(probe.clone())
                    .or_default()
                    .push(micros(threshold));
            }
        }
    }
    for list in out.values_mut() {
        list.sort_unstable();
        list.dedup();
    }
    out
}

/// How one probe's runs in a window count for `sli`: the window's rollup rows (from its [`cover`]) plus its
/// raw runs at the edges. `None` when a row does not track the latency SLI's threshold (the caller then
/// reads raw runs).
pub fn window_counts<'a>(
    sli: Sli,
    rows: impl IntoIterator<Item = &'a Rollup>,
    edge_runs: &[Observation],
) -> Option<Counts> {
    let mut counts = Counts::default();
    for row in rows {
        counts = counts + row.counts(sli)?;
    }
    for run in edge_runs {
        counts.add(sli.classify(run));
    }
    Some(counts)
}
