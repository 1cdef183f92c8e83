//! The `status` view (pure): per-probe figures over a window, the query budget, the release watch.

use super::micros_text;
use crate::history::Rollup;
use crate::probe::Verdict;
use crate::store::{Release, StoredDecision, StoredRecord};
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, Serialize)]
pub struct ProbeStatus {
    pub name: String,
    pub last_verdict: Option<Verdict>,
    pub last_class: Option<String>,
    /// The known-drift findings the last run noted (see `known-drift.toml`).
    pub last_known_drift: usize,
    /// The warnings the last run gave (a certificate close to expiry): shown, never failing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub last_warnings: Vec<String>,
    /// The last run had `tls.insecure` on: its server's certificate was not verified.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub last_insecure: bool,
    pub last_at_ms: Option<u64>,
    pub runs: u64,
    pub passed: u64,
    pub failed: u64,
    pub inconclusive: u64,
    /// pass / (pass + fail); `None` without conclusive runs.
    pub pass_rate: Option<f64>,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    /// When more than one location ran the probe in the window: its figures from each, by location (`name`
    /// is the location's, `-` for runs from before locations were kept), the same figures as above.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<ProbeStatus>,
}

/// A location as users see it: its name, or `-` for runs from before locations were kept.
pub fn location_text(location: &str) -> &str {
    if location.is_empty() { "-" } else { location }
}

#[derive(Debug, Clone, Serialize)]
pub struct BudgetStatus {
    pub queries_per_hour: u32,
    pub spent_last_hour: u32,
    pub left: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct WatchStatus {
    pub release: Release,
    pub watching: bool,
    pub rollback_claimed: bool,
    pub last_decision: Option<StoredDecision>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub now_ms: u64,
    pub window_ms: u64,
    pub probes: Vec<ProbeStatus>,
    /// Each objective evaluated now: burn rates per tier and window, error budget left.
    pub objectives: Vec<crate::slo::Evaluation>,
    pub budget: BudgetStatus,
    pub release: Option<WatchStatus>,
    pub alerts: AlertStatus,
}

/// Alerting: what fires, what is silenced, and how delivery goes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AlertStatus {
    /// Whether alert email is configured (`[alert.smtp]`).
    pub email: bool,
    /// The probes whose alert fires, by name.
    pub firing: Vec<String>,
    /// The active silences, one line each.
    pub silences: Vec<String>,
    pub outbox: crate::store::OutboxSummary,
}

fn alerts_text(a: &AlertStatus) -> String {
    let firing = if a.firing.is_empty() {
        "none firing".to_string()
    } else {
        format!("FIRING {}", a.firing.join(", "))
    };
    let mut out = format!("alerts: {firing}\n");
    for silence in &a.silences {
        out.push_str(&format!("  {silence}\n"));
    }
    if !a.email {
        out.push_str("alert email: off (no [alert.smtp])\n");
        return out;
    }
    let o = &a.outbox;
    out.push_str(&format!(
        "alert email: {} queued ({} retrying), {} sent, {} failed, {} silenced\n",
        o.queued, o.retrying, o.sent, o.failed, o.silenced
    ));
    if let Some(error) = &o.last_error {
        out.push_str(&format!("last delivery error: {error}\n"));
    }
    out
}

/// Figures for `name` over a window: its runs there rolled up, and its latest run there. Percentiles are
/// the rollup's (nearest rank, read as the middle of the latency bucket: within 0.4 % of the run's own).
pub fn probe_status(name: &str, window: &Rollup, last: Option<&StoredRecord>) -> ProbeStatus {
    let (passed, failed, inconclusive) = (window.pass, window.fail, window.inconclusive);
    let percentile = |q: f64| window.latency.quantile(q).map(|us| us as f64 / 1000.0);
    ProbeStatus {
        name: name.to_string(),
        last_verdict: last.map(|r| r.verdict),
        last_class: last.and_then(|r| r.class).map(|c| c.as_str().to_string()),
        last_known_drift: 0,
        last_warnings: Vec::new(),
        last_insecure: false,
        last_at_ms: last.map(|r| r.scheduled_at_ms),
        runs: passed + failed + inconclusive,
        passed,
        failed,
        inconclusive,
        pass_rate: (passed + failed > 0).then(|| passed as f64 / (passed + failed) as f64),
        latency_p50_ms: percentile(0.5),
        latency_p95_ms: percentile(0.95),
        latency_p99_ms: percentile(0.99),
        locations: Vec::new(),
    }
}

fn ms_text(ms: Option<f64>) -> String {
    ms.map_or_else(|| "-".to_string(), |ms| micros_text((ms * 1000.0) as u64))
}

fn ago(now_ms: u64, at_ms: u64) -> String {
    let d = Duration::from_secs(now_ms.saturating_sub(at_ms) / 1000);
    format!("{} ago", humantime::format_duration(d))
}

/// The LAST column: the last verdict, with the known drift it noted (`PASS (known drift: 2)`).
fn last_text(p: &ProbeStatus) -> String {
    let verdict = p
        .last_verdict
        .map_or("never".to_string(), |v| v.as_str().to_ascii_uppercase());
    match p.last_known_drift {
        0 => verdict,
        n => format!("{verdict} (known drift: {n})"),
    }
}

/// The lines under the probes: `tls.insecure` first (loud), then each warning of a probe's last run.
fn warnings_text(probes: &[ProbeStatus]) -> String {
    let mut out = String::new();
    for p in probes.iter().filter(|p| p.last_insecure) {
        out.push_str(&format!("{}: {}\n", p.name, crate::tls::INSECURE_WARNING));
    }
    for p in probes {
        for warning in &p.last_warnings {
            out.push_str(&format!("warn {}: {warning}\n", p.name));
        }
    }
    out
}

/// The table.
pub fn status_table(s: &Status) -> String {
    // A location's line is indented under its probe's.
    let rows: Vec<(String, &ProbeStatus)> = s
        .probes
        .iter()
        .flat_map(|p| {
            std::iter::once((p.name.clone(), p))
                .chain(p.locations.iter().map(|l| (format!("  {}", l.name), l)))
        })
        .collect();
    let width = rows
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let lasts: Vec<String> = rows.iter().map(|(_, p)| last_text(p)).collect();
    let last_width = lasts.iter().map(String::len).max().unwrap_or(0).max(12);
    let mut out = format!(
        "{:<width$}  {:<last_width$}  {:<17}  {:>7}  {:>9}  {:>9}  {:>5}  LAST RUN\n",
        "PROBE", "LAST", "CLASS", "PASS", "P50", "P95", "RUNS"
    );
    for ((name, p), last) in rows.iter().zip(lasts) {
        let rate = p
            .pass_rate
            .map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0));
        let when = p.last_at_ms.map_or("-".to_string(), |at| ago(s.now_ms, at));
        out.push_str(&format!(
            "{name:<width$}  {last:<last_width$}  {:<17}  {rate:>7}  {:>9}  {:>9}  {:>5}  {when}\n",
            p.last_class.as_deref().unwrap_or("-"),
            ms_text(p.latency_p50_ms),
            ms_text(p.latency_p95_ms),
            p.runs
        ));
    }
    out.push_str(&warnings_text(&s.probes));
    for o in &s.objectives {
        let budget = o
            .budget
            .remaining
            .map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0));
        let tiers: Vec<String> = o
            .tiers
            .iter()
            .map(|t| {
                let burn = |w: &crate::slo::WindowStat| {
                    w.burn_rate.map_or("-".to_string(), |b| format!("{b:.2}"))
                };
                let mark = if t.breached() { " BREACHED" } else { "" };
                format!(
                    "{} {}x/{}x{mark}",
                    t.tier.name,
                    burn(&t.long),
                    burn(&t.short)
                )
            })
            .collect();
        // Fleet mode: failed runs too few locations saw, spending no budget.
        let problems = match o.budget.counts.location_problems {
            0 => String::new(),
            n => format!("; location problems: {n}"),
        };
        out.push_str(&format!(
            "slo {}: error budget left {budget}; burn {}{problems}\n",
            o.objective,
            tiers.join(", ")
        ));
    }
    out.push_str(&format!(
        "window: the last {}\nquery budget: {} of {} valid queries spent in the last hour ({} left)\n",
        humantime::format_duration(Duration::from_secs(s.window_ms / 1000)),
        s.budget.spent_last_hour,
        s.budget.queries_per_hour,
        s.budget.left
    ));
    match &s.release {
        None => out.push_str("release watch: none\n"),
        Some(w) => {
            let state = if w.watching {
                let left = Duration::from_secs(
                    w.release.watch_until_ms.saturating_sub(s.now_ms) / 60_000 * 60,
                );
                format!("watching, {} left", humantime::format_duration(left))
            } else {
                "window over".to_string()
            };
            let claimed = if w.rollback_claimed {
                "; rollback claimed"
            } else {
                ""
            };
            out.push_str(&format!(
                "release watch: {} (rollback to {}): {state}{claimed}\n",
                w.release.version, w.release.rollback_to
            ));
            match &w.last_decision {
                Some(d) => out.push_str(&format!(
                    "last decision: {} — {} ({})\n",
                    d.outcome,
                    d.reason,
                    ago(s.now_ms, d.at_ms)
                )),
                None => out.push_str("last decision: none yet\n"),
            }
        }
    }
    out.push_str(&alerts_text(&s.alerts));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::FailureClass;

    fn rec(id: i64, at: u64, verdict: Verdict, ms: u64) -> StoredRecord {
        StoredRecord {
            id,
            probe: "health".into(),
            location: String::new(),
            scheduled_at_ms: at,
            verdict,
            class: (verdict != Verdict::Pass).then_some(FailureClass::ServerError),
            status: Some(200),
            latency: Duration::from_millis(ms),
        }
    }

    fn rolled(records: &[StoredRecord]) -> Rollup {
        let runs: Vec<crate::history::Run> = records
            .iter()
            .map(|r| crate::history::Run {
                at_ms: r.scheduled_at_ms,
                verdict: r.verdict,
                latency_us: r.latency.as_micros() as u64,
            })
            .collect();
        Rollup::of(&runs, &[])
    }

    #[test]
    fn the_last_column_says_how_much_known_drift_the_last_run_noted() {
        let records = [rec(1, 1_000, Verdict::Pass, 10)];
        let mut s = probe_status("health", &rolled(&records), records.last());
        let cases = [
            (0, Some(Verdict::Pass), "PASS"),
            (2, Some(Verdict::Pass), "PASS (known drift: 2)"),
            (1, Some(Verdict::Fail), "FAIL (known drift: 1)"),
            (0, None, "never"),
        ];
        for (known, verdict, wanted) in cases {
            (s.last_known_drift, s.last_verdict) = (known, verdict);
            assert_eq!(last_text(&s), wanted);
        }
    }

    #[test]
    fn probe_figures_exclude_inconclusive_runs() {
        let records = [
            rec(1, 1_000, Verdict::Pass, 10),
            rec(2, 2_000, Verdict::Fail, 30),
            rec(3, 3_000, Verdict::Inconclusive, 0),
            rec(4, 4_000, Verdict::Pass, 20),
        ];
        let s = probe_status("health", &rolled(&records), records.last());
        assert_eq!((s.runs, s.passed, s.failed, s.inconclusive), (4, 2, 1, 1));
        assert_eq!(s.pass_rate, Some(2.0 / 3.0));
        // 20 ms and 30 ms read back as the middles of their 128 µs buckets.
        assert_eq!(s.latency_p50_ms, Some(20.031));
        assert_eq!(s.latency_p95_ms, Some(30.015));
        assert_eq!(
            (s.last_verdict, s.last_at_ms),
            (Some(Verdict::Pass), Some(4_000))
        );
        let none = probe_status("models", &Rollup::default(), None);
        assert_eq!(
            (none.pass_rate, none.latency_p50_ms, none.last_verdict),
            (None, None, None)
        );
    }

    fn objective() -> crate::slo::Objective {
        crate::slo::Objective {
            quorum: crate::fleet::Quorum::Majority,
            name: "health".into(),
            probes: vec!["health".into()],
            sli: crate::slo::Sli::Availability,
            target: 0.99,
            period: crate::slo::DEFAULT_PERIOD,
            tiers: crate::slo::default_tiers(),
            min_bad: 3,
        }
    }

    fn observations(records: &[StoredRecord]) -> Vec<crate::slo::Observation> {
        records.iter().map(StoredRecord::observation).collect()
    }

    #[test]
    fn a_probe_run_from_several_locations_gets_a_line_per_location_under_it() {
        let at = |location: &str, records: &[StoredRecord]| {
            probe_status(location_text(location), &rolled(records), records.last())
        };
        let east = [rec(1, 50_000, Verdict::Pass, 12)];
        let west = [rec(2, 110_000, Verdict::Fail, 30)];
        let both = [east[0].clone(), west[0].clone()];
        let mut health = probe_status("health", &rolled(&both), both.last());
        health.locations = vec![at("", &[]), at("eu-west", &west), at("us-east", &east)];
        let mut status = Status {
            now_ms: 120_000,
            window_ms: 3_600_000,
            probes: vec![health, probe_status("models", &Rollup::default(), None)],
            objectives: vec![crate::slo::evaluate(&objective(), &[], &[], 120_000)],
            budget: BudgetStatus {
                queries_per_hour: 4,
                spent_last_hour: 0,
                left: 4,
            },
            release: None,
            alerts: AlertStatus::default(),
        };
        status.objectives[0].budget.counts.location_problems = 3;
        let expected = "\
PROBE      LAST          CLASS                 PASS        P50        P95   RUNS  LAST RUN
health     FAIL          server_error         50.0%    12.00ms    30.02ms      2  10s ago
  -        never         -                        -          -          -      0  -
  eu-west  FAIL          server_error          0.0%    30.02ms    30.02ms      1  10s ago
  us-east  PASS          -                   100.0%    12.00ms    12.00ms      1  1m 10s ago
models     never         -                        -          -          -      0  -
slo health: error budget left -; burn page-1h -x/-x, page-6h -x/-x, ticket-3d -x/-x; location problems: 3
window: the last 1h
query budget: 0 of 4 valid queries spent in the last hour (4 left)
release watch: none
alerts: none firing
alert email: off (no [alert.smtp])
";
        assert_eq!(status_table(&status), expected);
        let json = serde_json::to_value(&status).expect("json");
        assert_eq!(json["probes"][0]["locations"][1]["name"], "eu-west");
        assert_eq!(json["probes"][0]["locations"][1]["last_verdict"], "fail");
        assert!(
            json["probes"][1].get("locations").is_none(),
            "one location: none"
        );
    }

    #[test]
    fn table_is_exact() {
        let records = [
            rec(1, 50_000, Verdict::Pass, 12),
            rec(2, 110_000, Verdict::Fail, 30),
        ];
        let status = Status {
            now_ms: 120_000,
            window_ms: 86_400_000,
            probes: vec![
                probe_status("health", &rolled(&records), records.last()),
                probe_status("query-trace", &Rollup::default(), None),
            ],
            objectives: vec![crate::slo::evaluate(
                &objective(),
                &observations(&records),
                &[],
                120_000,
            )],
            budget: BudgetStatus {
                queries_per_hour: 4,
                spent_last_hour: 1,
                left: 3,
            },
            release: None,
            alerts: AlertStatus {
                email: true,
                firing: vec!["health".into()],
                silences: vec!["silence #2: models until 1970-01-01T01:00:00Z — deploying".into()],
                outbox: crate::store::OutboxSummary {
                    queued: 1,
                    retrying: 1,
                    sent: 3,
                    last_error: Some(
                        "SMTP 127.0.0.1:2525: cannot connect: Connection refused".into(),
                    ),
                    ..Default::default()
                },
            },
        };
        // One failure in two runs burns 50x a 99 % objective, but no tier is breached: the min_bad guard (3).
        let expected = "\
PROBE        LAST          CLASS                 PASS        P50        P95   RUNS  LAST RUN
health       FAIL          server_error         50.0%    12.00ms    30.02ms      2  10s ago
query-trace  never         -                        -          -          -      0  -
slo health: error budget left -4900.0%; burn page-1h 50.00x/50.00x, page-6h 50.00x/50.00x, ticket-3d 50.00x/50.00x
window: the last 1day
query budget: 1 of 4 valid queries spent in the last hour (3 left)
release watch: none
alerts: FIRING health
  silence #2: models until 1970-01-01T01:00:00Z — deploying
alert email: 1 queued (1 retrying), 3 sent, 0 failed, 0 silenced
last delivery error: SMTP 127.0.0.1:2525: cannot connect: Connection refused
";
        assert_eq!(status_table(&status), expected);
        let off = AlertStatus::default();
        assert_eq!(
            alerts_text(&off),
            "alerts: none firing\nalert email: off (no [alert.smtp])\n"
        );
    }
}
