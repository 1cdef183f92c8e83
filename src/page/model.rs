//! The page model (pure): what every page and the JSON API show, built from what `happened` read
//! ([`PageFacts`]) and what the config says of each probe ([`ProbeInfo`]). No I/O and no clock: `now_ms` is in
//! the facts. Serialized as it is for `/api/v1/…`.

use crate::happened::{PageFacts, UPTIME_SPANS};
use crate::history::{ClassCounts, Rollup, unclassified};
use crate::probe::FailureClass;
use crate::slo::Counts;
use serde::Serialize;
use serde_json::Value;

/// What the config says of one probe, shown on its page.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProbeInfo {
    pub name: String,
    pub description: Option<String>,
    /// `METHOD /path`.
    pub request: String,
    /// The cron schedule, if `run` runs it.
    pub schedule: Option<String>,
    pub timeout_ms: u64,
    /// The expected status, as the probe file says it.
    pub expect_status: String,
    /// `expect.latency`, in ms.
    pub expect_latency_ms: Option<f64>,
    /// The smallest threshold of the latency objectives covering the probe, in ms: drawn on its chart.
    pub objective_latency_ms: Option<f64>,
}

/// A probe's state now, from its last run and its alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Pass,
    Fail,
    Inconclusive,
    /// Its alert is silenced (whatever the last run said).
    Silenced,
    /// Its alert fires.
    Firing,
    /// No run in the window.
    Unknown,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pass => "pass",
            State::Fail => "fail",
            State::Inconclusive => "inconclusive",
            State::Silenced => "silenced",
            State::Firing => "firing",
            State::Unknown => "unknown",
        }
    }

    /// Whether the state is bad news (drawn red).
    pub fn is_bad(self) -> bool {
        matches!(self, State::Fail | State::Firing)
    }
}

/// How a bar is coloured: by its share of failed conclusive runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// No conclusive run.
    None,
    /// Every conclusive run passed.
    Up,
    /// Some failed, at most half.
    Degraded,
    /// More than half failed.
    Down,
}

impl Level {
    pub fn of(pass: u64, fail: u64) -> Level {
        match (pass, fail) {
            (0, 0) => Level::None,
            (_, 0) => Level::Up,
            (p, f) if f <= p => Level::Degraded,
            _ => Level::Down,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Up => "up",
            Level::Degraded => "degraded",
            Level::Down => "down",
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One bar of a strip or chart: the runs of a bucket of the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bar {
    pub from_ms: u64,
    pub to_ms: u64,
    pub pass: u64,
    pub fail: u64,
    pub inconclusive: u64,
    pub level: Level,
    /// Per failure class, how many of the failed and inconclusive runs fell in it (none when every run
    /// passed).
    #[serde(skip_serializing_if = "ClassCounts::is_empty")]
    pub classes: ClassCounts,
    /// Failed and inconclusive runs whose class was not kept (rolled up before schema 8, runs pruned since).
    #[serde(skip_serializing_if = "is_zero")]
    pub unclassified: u64,
    /// Present only where the latency distribution was read (the per-probe page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
}

/// Uptime over one span: passed / conclusive runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Uptime {
    pub span: &'static str,
    pub percent: Option<f64>,
    pub conclusive: u64,
}

/// One finding of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingView {
    pub message: String,
    pub expected: String,
    pub actual: String,
}

/// One run as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunView {
    pub at_ms: u64,
    pub verdict: String,
    pub class: Option<String>,
    /// What to look at first for the class.
    pub hint: Option<String>,
    pub status: Option<u64>,
    pub latency_ms: Option<f64>,
    /// DNS, connect, TLS, first byte, total (ms; `None` where not observed).
    pub timings: [Option<f64>; 5],
    pub findings: Vec<FindingView>,
}

/// The timing phases of [`RunView::timings`], in order.
pub const PHASES: [&str; 5] = ["dns", "connect", "tls", "first_byte", "total"];

/// One probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeView {
    pub info: ProbeInfo,
    pub state: State,
    pub bars: Vec<Bar>,
    pub uptime: Vec<Uptime>,
    pub runs: u64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub last_at_ms: Option<u64>,
    /// The last run's findings when it failed.
    pub last_findings: Vec<String>,
    pub recent: Vec<RunView>,
    pub failures: Vec<RunView>,
    /// When more than one location ran the probe in the last 24 h: each, by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<LocationView>,
}

/// A probe from one location.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationView {
    /// The location's name, `-` for runs from before locations were kept.
    pub location: String,
    /// The verdict of its latest run in the window (`None`: no run there).
    pub last_verdict: Option<String>,
    pub last_class: Option<String>,
    pub last_at_ms: Option<u64>,
    /// Its uptime over the last 24 h (passed / conclusive runs, in percent).
    pub uptime_24h: Option<f64>,
    pub conclusive_24h: u64,
}

/// One tier of an objective now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierView {
    pub name: String,
    pub severity: String,
    pub burn: f64,
    pub long_window: String,
    pub long_burn_rate: Option<f64>,
    pub short_window: String,
    pub short_burn_rate: Option<f64>,
    pub breached: bool,
    pub breached_since_ms: Option<u64>,
}

/// One objective.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectiveView {
    pub name: String,
    pub period: String,
    pub good: u64,
    pub bad: u64,
    /// Failed runs too few locations saw (fleet mode): not bad, spending no budget.
    #[serde(skip_serializing_if = "is_zero")]
    pub location_problems: u64,
    pub allowed_bad: f64,
    /// The share of the error budget left (negative when overspent; `None` without conclusive runs).
    pub budget_remaining: Option<f64>,
    /// (instant, the budget left then), oldest first.
    pub burn_down: Vec<(u64, Option<f64>)>,
    pub tiers: Vec<TierView>,
}

/// One decision of the watch, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionView {
    pub at_ms: u64,
    pub outcome: String,
    pub reason: String,
    pub evidence: Value,
}

/// A probe before and after the release.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BeforeAfter {
    pub probe: String,
    pub before_uptime: Option<f64>,
    pub before_p95_ms: Option<f64>,
    pub before_runs: u64,
    pub after_uptime: Option<f64>,
    pub after_p95_ms: Option<f64>,
    pub after_runs: u64,
}

/// The release shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseView {
    pub version: String,
    pub rollback_to: String,
    pub started_at_ms: u64,
    pub warmup_end_ms: u64,
    pub watch_until_ms: u64,
    pub ended_at_ms: Option<u64>,
    pub watching: bool,
    pub baseline_from_ms: u64,
    pub baseline_to_ms: u64,
    pub decisions: Vec<DecisionView>,
    pub rollback_claimed_at_ms: Option<u64>,
    pub rollback_finished_at_ms: Option<u64>,
    /// The hook's outcome as recorded (exit status, output, …).
    pub rollback_outcome: Option<Value>,
    /// When the recovery window ends: `rollback.recovery` after the hook finished (none before it did).
    pub recovery_until_ms: Option<u64>,
    /// The recovery check's recorded outcome, `recovery_verified` or `recovery_not_verified`, and when.
    pub recovery: Option<(String, u64)>,
    pub probes: Vec<BeforeAfter>,
}

impl ReleaseView {
    /// The recovery window in words (none before the hook finished): until when a watched probe must pass,
    /// and whether one did.
    pub fn recovery_text(&self) -> Option<String> {
        let until = super::html::at_text(self.recovery_until_ms?);
        Some(match &self.recovery {
            Some((outcome, at)) if outcome == crate::release::RECOVERY_VERIFIED => format!(
                "recovery: a watched probe had to pass by {until}; verified at {}",
                super::html::at_text(*at)
            ),
            Some((_, at)) => format!(
                "recovery: a watched probe had to pass by {until}; NOT verified (checked at {})",
                super::html::at_text(*at)
            ),
            None => format!("recovery: a watched probe must pass by {until}; waiting"),
        })
    }
}

/// A scheduled burst.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BurstView {
    pub name: String,
    pub passed: u64,
    pub failed: u64,
    pub inconclusive: u64,
    /// Latency percentiles of the burst records (each a burst's slowest request) over the window: what the
    /// page plots when no recent burst kept its own distribution (runs recorded before it was kept).
    pub percentiles_ms: Vec<(f64, Option<f64>)>,
    /// The latest bursts that kept their latency distribution, newest first, at most [`LATEST_BURSTS`].
    pub latest: Vec<BurstCurve>,
    pub recent: Vec<RunView>,
}

/// One scheduled burst's own latency distribution, from its requests' HDR histogram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BurstCurve {
    pub at_ms: u64,
    pub verdict: String,
    /// `[q, ms]` pairs, as the record keeps them ([`crate::load::BURST_PERCENTILES`]).
    pub percentiles_ms: Vec<(f64, f64)>,
}

/// How many of the latest bursts the page plots.
pub const LATEST_BURSTS: usize = 5;

/// The curves of the `recent` burst records (newest first) that kept their distribution, at most
/// [`LATEST_BURSTS`].
pub fn burst_curves(recent: &[Value]) -> Vec<BurstCurve> {
    recent
        .iter()
        .filter_map(|r| {
            let percentiles_ms = r["latency_percentiles_ms"]
                .as_array()?
                .iter()
                .filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64()?)))
                .collect();
            Some(BurstCurve {
                at_ms: r["scheduled_at_ms"].as_u64().unwrap_or(0),
                verdict: r["verdict"].as_str().unwrap_or("?").to_string(),
                percentiles_ms,
            })
        })
        .take(LATEST_BURSTS)
        .collect()
}

/// An active silence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SilenceView {
    /// `None`: every probe.
    pub probe: Option<String>,
    pub until_ms: u64,
    pub reason: String,
}

/// The summary cards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub state: State,
    pub probes: usize,
    pub failing: usize,
    pub open_alerts: Vec<String>,
    pub queries_left: u32,
    pub queries_per_hour: u32,
    /// The version under watch, if a watch is open.
    pub release_under_watch: Option<String>,
}

/// Everything the pages show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page {
    pub now_ms: u64,
    pub window_ms: u64,
    pub summary: Summary,
    pub probes: Vec<ProbeView>,
    pub objectives: Vec<ObjectiveView>,
    pub release: Option<ReleaseView>,
    pub bursts: Vec<BurstView>,
    pub silences: Vec<SilenceView>,
}

fn ms(us: Option<u64>) -> Option<f64> {
    us.map(|us| us as f64 / 1000.0)
}

fn uptime_of(r: &Rollup) -> Option<f64> {
    (r.pass + r.fail > 0).then(|| 100.0 * r.pass as f64 / (r.pass + r.fail) as f64)
}

/// A location's facts as the page shows them.
fn location_view(l: &crate::happened::LocationFacts) -> LocationView {
    LocationView {
        location: crate::report::location_text(&l.location).to_string(),
        last_verdict: l.last.as_ref().map(|r| r.verdict.as_str().to_string()),
        last_class: l
            .last
            .as_ref()
            .and_then(|r| r.class)
            .map(|c| c.as_str().to_string()),
        last_at_ms: l.last.as_ref().map(|r| r.scheduled_at_ms),
        uptime_24h: uptime_of(&l.day),
        conclusive_24h: l.day.pass + l.day.fail,
    }
}

/// One stored run (as `check --format json` writes a record) as the page shows it.
pub fn run_view(record: &Value) -> RunView {
    let f = |v: &Value| v.as_f64();
    let timings = &record["timings"];
    let class = record["class"].as_str().map(str::to_string);
    RunView {
        at_ms: record["scheduled_at_ms"].as_u64().unwrap_or(0),
        verdict: record["verdict"].as_str().unwrap_or("?").to_string(),
        hint: class
            .as_deref()
            .and_then(FailureClass::parse)
            .and_then(FailureClass::hint)
            .map(str::to_string),
        class,
        status: record["status"].as_u64(),
        latency_ms: f(&record["latency_ms"]),
        timings: [
            f(&timings["dns"]),
            f(&timings["connect"]),
            f(&timings["tls"]),
            f(&timings["first_byte"]),
            f(&timings["total"]),
        ],
        findings: record["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| FindingView {
                message: f["message"].as_str().unwrap_or_default().to_string(),
                expected: f["expected"].as_str().unwrap_or_default().to_string(),
                actual: f["actual"].as_str().unwrap_or_default().to_string(),
            })
            .collect(),
    }
}

/// The page model of `facts`, with each probe's `infos` (a probe without one shows its name only).
pub fn build(facts: &PageFacts, infos: &[ProbeInfo]) -> Page {
    let silenced = |name: &str| facts.silences.iter().any(|s| s.covers(name, facts.now_ms));
    let probes: Vec<ProbeView> = facts
        .probes
        .iter()
        .map(|(name, p)| {
            let info = infos
                .iter()
                .find(|i| &i.name == name)
                .cloned()
                .unwrap_or_else(|| ProbeInfo {
                    name: name.clone(),
                    ..ProbeInfo::default()
                });
            let state = if silenced(name) {
                State::Silenced
            } else if facts.alerts.firing.iter().any(|f| f == name) {
                State::Firing
            } else {
                match p.last.as_ref().map(|r| r.verdict) {
                    None => State::Unknown,
                    Some(crate::probe::Verdict::Pass) => State::Pass,
                    Some(crate::probe::Verdict::Fail) => State::Fail,
                    Some(crate::probe::Verdict::Inconclusive) => State::Inconclusive,
                }
            };
            let recent: Vec<RunView> = p.recent.iter().map(run_view).collect();
            let last_failed = p
                .last
                .as_ref()
                .is_some_and(|r| r.verdict == crate::probe::Verdict::Fail);
            let last_findings = match (last_failed, p.failures.first()) {
                (true, Some(run)) => run_view(run)
                    .findings
                    .into_iter()
                    .map(|f| f.message)
                    .collect(),
                _ => Vec::new(),
            };
            ProbeView {
                state,
                bars: facts
                    .bars
                    .iter()
                    .zip(&p.bars)
                    .zip(
                        p.bar_classes
                            .iter()
                            .chain(std::iter::repeat(&ClassCounts::new())),
                    )
                    .map(|((span, r), classes)| Bar {
                        from_ms: span.from_ms,
                        to_ms: span.to_ms,
                        pass: r.pass,
                        fail: r.fail,
                        inconclusive: r.inconclusive,
                        level: Level::of(r.pass, r.fail),
                        classes: classes.clone(),
                        unclassified: unclassified(r.fail + r.inconclusive, classes),
                        p50_ms: ms(r.latency.quantile(0.5)),
                        p95_ms: ms(r.latency.quantile(0.95)),
                        p99_ms: ms(r.latency.quantile(0.99)),
                    })
                    .collect(),
                uptime: UPTIME_SPANS
                    .iter()
                    .zip(&p.uptime)
                    .map(|((span, _), r)| Uptime {
                        span,
                        percent: uptime_of(r),
                        conclusive: r.pass + r.fail,
                    })
                    .collect(),
                runs: p.window.pass + p.window.fail + p.window.inconclusive,
                p50_ms: ms(p.window.latency.quantile(0.5)),
                p95_ms: ms(p.window.latency.quantile(0.95)),
                p99_ms: ms(p.window.latency.quantile(0.99)),
                last_at_ms: p.last.as_ref().map(|r| r.scheduled_at_ms),
                last_findings,
                recent,
                failures: p.failures.iter().map(run_view).collect(),
                locations: p.locations.iter().map(location_view).collect(),
                info,
            }
        })
        .collect();
    let failing = probes.iter().filter(|p| p.state.is_bad()).count();
    let release = facts.release.as_ref().map(release_view);
    Page {
        now_ms: facts.now_ms,
        window_ms: facts.window_ms,
        summary: Summary {
            state: if failing > 0 || !facts.alerts.firing.is_empty() {
                State::Fail
            } else if probes.iter().all(|p| p.state == State::Unknown) {
                State::Unknown
            } else {
                State::Pass
            },
            probes: probes.len(),
            failing,
            open_alerts: facts.alerts.firing.clone(),
            queries_left: facts.budget.left,
            queries_per_hour: facts.budget.queries_per_hour,
            release_under_watch: release
                .as_ref()
                .filter(|r| r.watching)
                .map(|r| r.version.clone()),
        },
        objectives: facts.objectives.iter().map(objective_view).collect(),
        silences: facts
            .silences
            .iter()
            .map(|s| SilenceView {
                probe: s.probe.clone(),
                until_ms: s.ends_at_ms,
                reason: s.reason.clone(),
            })
            .collect(),
        release,
        bursts: facts
            .bursts
            .iter()
            .map(|b| BurstView {
                name: b.name.clone(),
                passed: b.window.pass,
                failed: b.window.fail,
                inconclusive: b.window.inconclusive,
                percentiles_ms: crate::load::BURST_PERCENTILES
                    .iter()
                    .map(|&q| (q, ms(b.window.latency.quantile(q))))
                    .collect(),
                latest: burst_curves(&b.recent),
                recent: b.recent.iter().map(run_view).collect(),
            })
            .collect(),
        probes,
    }
}

fn duration(d: std::time::Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn objective_view(o: &crate::happened::ObjectiveFacts) -> ObjectiveView {
    let e = &o.evaluation;
    let left = |c: &Counts| crate::slo::ErrorBudget::new(e.budget.period, *c, o.target).remaining;
    ObjectiveView {
        name: e.objective.clone(),
        period: duration(e.budget.period),
        good: e.budget.counts.good,
        bad: e.budget.counts.bad,
        location_problems: e.budget.counts.location_problems,
        allowed_bad: e.budget.allowed_bad,
        budget_remaining: e.budget.remaining,
        burn_down: o.burn_down.iter().map(|(at, c)| (*at, left(c))).collect(),
        tiers: e
            .tiers
            .iter()
            .map(|t| TierView {
                name: t.tier.name.clone(),
                severity: t.tier.severity.as_str().to_string(),
                burn: t.tier.burn,
                long_window: duration(t.long.window),
                long_burn_rate: t.long.burn_rate,
                short_window: duration(t.short.window),
                short_burn_rate: t.short.burn_rate,
                breached: t.breached(),
                breached_since_ms: t.state.breached_since,
            })
            .collect(),
    }
}

fn release_view(r: &crate::happened::ReleaseFacts) -> ReleaseView {
    let p95 = |x: &Rollup| ms(x.latency.quantile(0.95));
    ReleaseView {
        version: r.release.version.clone(),
        rollback_to: r.release.rollback_to.clone(),
        started_at_ms: r.release.started_at_ms,
        warmup_end_ms: r.warmup_end_ms,
        watch_until_ms: r.release.watch_until_ms,
        ended_at_ms: r.release.ended_at_ms,
        watching: r.watching,
        baseline_from_ms: r.baseline.from_ms,
        baseline_to_ms: r.baseline.to_ms,
        decisions: r
            .decisions
            .iter()
            .map(|d| DecisionView {
                at_ms: d.at_ms,
                outcome: d.outcome.clone(),
                reason: d.reason.clone(),
                evidence: d.evidence.clone(),
            })
            .collect(),
        rollback_claimed_at_ms: r.rollback.as_ref().map(|x| x.claimed_at_ms),
        rollback_finished_at_ms: r.rollback.as_ref().and_then(|x| x.finished_at_ms),
        rollback_outcome: r.rollback.as_ref().and_then(|x| x.outcome.clone()),
        recovery_until_ms: r.recovery_until_ms,
        recovery: r
            .decisions
            .iter()
            .find(|d| {
                d.outcome == crate::release::RECOVERY_VERIFIED
                    || d.outcome == crate::release::RECOVERY_NOT_VERIFIED
            })
            .map(|d| (d.outcome.clone(), d.at_ms)),
        probes: r
            .probes
            .iter()
            .map(|(name, (before, after))| BeforeAfter {
                probe: name.clone(),
                before_uptime: uptime_of(before),
                before_p95_ms: p95(before),
                before_runs: before.pass + before.fail + before.inconclusive,
                after_uptime: uptime_of(after),
                after_p95_ms: p95(after),
                after_runs: after.pass + after.fail + after.inconclusive,
            })
            .collect(),
    }
}
