//! Counters of the traffic the simulator has served (admin traffic under `/__sim/` excluded).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A snapshot of the simulator's counters.
///
/// A *valid* query is one that passed request validation: it is counted when accepted, even if the
/// rate limit, the capacity limit or a fault then turns it into a 429, 503 or 500.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimStats {
    /// Requests per `"METHOD /path"` (query string excluded), e.g. `"POST /api/v1/query"`.
    pub requests: BTreeMap<String, u64>,
    /// Queries that passed validation.
    pub valid_queries: u64,
    /// Queries refused by validation (422, or 400 for an unreadable body).
    pub rejected_queries: u64,
    /// Valid queries answered 429.
    pub throttled: u64,
}

impl SimStats {
    pub(crate) fn record_request(&mut self, method: &str, path: &str) {
        *self.requests.entry(format!("{method} {path}")).or_default() += 1;
    }
}
