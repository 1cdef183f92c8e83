//! Load: the burst engine (closed and open arrival models) and its lean HTTP/1.1 and HTTP/2 transport (plain
//! or TLS, one kept-alive connection per worker), HDR statistics, and the query-budget guard.
//!
//! Depends on `probe` (prepared requests, the verdict function); `stats` and `budget` are pure.

mod budget;
mod connection;
mod dial;
mod endpoint;
mod engine;
mod http_version;
mod opened;
mod sender;
mod stats;
mod summary;
mod tls_connect;
#[cfg(test)]
mod tls_tests;
mod transport;

pub use budget::{BudgetCheck, check_budget, check_check_budget, is_loopback};
pub use engine::{LATE_AFTER, LoadRun, Progress, Shape, run_load};
pub use http_version::{HttpChoice, HttpVersion};
pub use opened::Opened;
pub use stats::{EXAMPLES, HISTOGRAM_MAX_MICROS, LoadStats, Sample};
pub use summary::{BURST_PERCENTILES, burst_record};
pub use transport::LoadTransport;
