//! Rendering for people and machines: durations, the `check` table, the `check` JSON document, `status`,
//! `store stats`.

mod burst;
mod check;
mod status;
mod store;

pub use burst::{BurstReport, burst_json, burst_table, hgrm, micros_text};
pub use check::{
    ProbeEntry, Tally, json as check_json, resolved_json, resolved_table, table as check_table,
};
pub use status::{
    AlertStatus, BudgetStatus, ProbeStatus, Status, WatchStatus, location_text, probe_status,
    status_table,
};
pub use store::{rebuilt_text, stats_table};

use std::time::Duration;

/// A duration as people read it in findings and tables: `850ms`, `1.204s`, `31s`.
pub fn duration_text(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        let text = format!("{:.3}", d.as_secs_f64());
        format!("{}s", text.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        let cases = [
            (0, "0ms"),
            (850, "850ms"),
            (1000, "1s"),
            (1204, "1.204s"),
            (31_500, "31.5s"),
            (30_000, "30s"),
        ];
        for (ms, text) in cases {
            assert_eq!(duration_text(Duration::from_millis(ms)), text);
        }
    }
}
