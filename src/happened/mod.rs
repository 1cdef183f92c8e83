//! What happened in a window: the one read path for history. `status`, the metrics refresher, the SLO
//! alerts, the alert emails' latency figures, the release watch and the status page all ask here, and nowhere else.
//!
//! Windows are answered from the rollups (`Store::window_rollups`, `Store::objective_counts`): the rows read
//! depend on a window's length in buckets, not on the runs in it. Raw runs are read only where a reader needs
//! a run itself and the window is short and recent: a probe's latest run, the prober's own health over its
//! last minutes, the first passing run after a rollback.

mod page;
mod slo;
mod status;

pub use page::{
    BurstFacts, LocationFacts, MAX_BARS, ObjectiveFacts, PageFacts, PageQuery, ProbeFacts,
    ReleaseFacts, UPTIME_SPANS, bars, page_facts,
};
pub use slo::{LatencyFigures, evaluate_objectives, latency_percentiles, objective_watches};
pub use status::{budget, release_watch, status};

#[cfg(test)]
mod proptests;
