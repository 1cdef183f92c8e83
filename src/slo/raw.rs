//! Raw serde structs for `[[slo]]` tables, key for key. Types only: every value is checked by `compile`.
//!
//! ```toml
//! [[slo]]
//! name = "queries"
//! probes = ["query-trace"]
//! sli = "availability"      # or "latency", with threshold = "30s"
//! target = 0.99
//! period = "30d"            # optional, the error-budget period
//! min_bad = 3               # optional, the minimum-failures guard (0 turns it off)
//!
//! [[slo.tiers]]             # optional: without any, the SRE workbook's three tiers
//! name = "page-1h"          # optional, defaults to "SEVERITY-LONG"
//! severity = "page"
//! long = "1h"
//! short = "5m"
//! burn = 14.4
//! ```

use serde::Deserialize;

/// One `[[slo]]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawObjective {
    pub name: Option<String>,
    pub probes: Option<Vec<String>>,
    /// `"availability"` (the default) or `"latency"`.
    pub sli: Option<String>,
    /// The latency SLI's threshold, a duration (`"30s"`).
    pub threshold: Option<String>,
    pub target: Option<f64>,
    pub period: Option<String>,
    pub min_bad: Option<i64>,
    /// `None` (no `[[slo.tiers]]`) means the default tiers; an explicit empty list is an error.
    pub tiers: Option<Vec<RawTier>>,
}

/// One `[[slo.tiers]]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTier {
    pub name: Option<String>,
    /// `"page"` or `"ticket"`.
    pub severity: Option<String>,
    pub long: Option<String>,
    pub short: Option<String>,
    pub burn: Option<f64>,
}
