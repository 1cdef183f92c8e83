//! One probe's loop: wait for its next firing, check the budget, run, record, back off when throttled.

use super::shared::{Shared, Shutdown, now_ms};
use crate::probe::{
    FailureClass, Finding, ProbeRecord, ProbeSpec, RequestLine, Scheduled, Timings, Verdict,
};
use crate::schedule::{admits, backoff, jitter};
use crate::store::{BudgetSpend, FinishedRun, Reservation};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const HOUR_MS: u64 = 3_600_000;

/// Runs `spec` on its schedule until shutdown. Returns how many runs it handed to the writer.
pub async fn run_probe_loop(
    shared: Arc<Shared>,
    spec: Arc<ProbeSpec>,
    max_jitter: Duration,
    mut shutdown: Shutdown,
) -> u64 {
    let Some(schedule) = spec.schedule.clone() else {
        return 0;
    };
    let Some(request) = shared.prober.request(&spec.name) else {
        return 0;
    };
    let request = request.request_line().clone();
    let offset = jitter(&spec.name, max_jitter);
    let mut recorded = 0;
    let mut not_before_ms = 0;
    let mut streak = 0;
    let mut resolved_told = std::collections::HashSet::new();
    while !shutdown.is_set() {
        let Some(Firing { fire_ms, due }) =
            next_firing(&schedule, offset, &mut shutdown, &spec.name).await
        else {
            break;
        };
        if fire_ms < not_before_ms {
            tracing::info!(probe = %spec.name, "skipped: backing off after throttling");
            continue;
        }
        let scheduled = Scheduled {
            at: due,
            wall: UNIX_EPOCH + Duration::from_millis(fire_ms),
        };
        let Ok(_permit) = shared.permits.acquire().await else {
            break;
        };
        let (record, reservation) = match admit(&shared, &spec.name, spec.queries, fire_ms).await {
            Ok(Ok(reservation)) => {
                let in_flight = InFlight::new(&shared, &spec.name, &request, fire_ms, spec.queries);
                test_fault(&spec.name);
                let ran = shared.prober.run(&spec, scheduled).await;
                in_flight.finished();
                match ran {
                    Some(mut record) => {
                        shared
                            .metrics
                            .record_http_request(&record, &spec.request.method);
                        shared.known_drift.apply(&mut record, true);
                        tell_resolved(&shared, &record, &mut resolved_told);
                        (record, reservation)
                    }
                    None => break,
                }
            }
            Ok(Err(spent)) => {
                let skipped =
                    budget_skip_record(&shared, &spec.name, &request, fire_ms, spent, spec.queries);
                (skipped, None)
            }
            Err(e) => {
                tracing::error!(probe = %spec.name, error = %e, "cannot read the query budget; run skipped");
                continue;
            }
        };
        if matches!(
            record.class,
            Some(FailureClass::Throttled | FailureClass::AtCapacity)
        ) {
            streak += 1;
            not_before_ms =
                now_ms() + backoff(record.retry_after.as_deref(), streak).as_millis() as u64;
        } else if record.verdict != Verdict::Inconclusive {
            streak = 0;
        }
        if hand_over(&shared, record, reservation).await {
            recorded += 1;
        }
    }
    recorded
}

/// Logs each known-drift entry of the run's probe that the run no longer found, once per entry for as long
/// as the loop runs (a reload that changes the probe's entries starts a new loop).
fn tell_resolved(
    shared: &Shared,
    record: &ProbeRecord,
    told: &mut std::collections::HashSet<crate::known_drift::KnownEntry>,
) {
    for entry in shared.known_drift.resolved(record) {
        if told.insert(entry.clone()) {
            tracing::warn!(probe = %record.probe, "{}", crate::known_drift::resolved_line(entry));
        }
    }
}

/// When a scheduled run is due.
#[derive(Debug, Clone, Copy)]
pub struct Firing {
    pub fire_ms: u64,
    pub due: Instant,
}

/// Sleeps until the next firing of `schedule` (plus `offset`) after now; `None` on shutdown or when the
/// schedule has no further firing. Computed from the clock after the previous run: missed firings are skipped.
pub async fn next_firing(
    schedule: &crate::schedule::CronSchedule,
    offset: Duration,
    shutdown: &mut Shutdown,
    name: &str,
) -> Option<Firing> {
    let now = now_ms();
    let Some(fire_ms) = schedule
        .next_after(now)
        .map(|t| t + offset.as_millis() as u64)
    else {
        tracing::warn!(probe = %name, "schedule has no further firing");
        return None;
    };
    let due = Instant::now() + Duration::from_millis(fire_ms.saturating_sub(now));
    tokio::select! {
        () = tokio::time::sleep_until(tokio::time::Instant::from_std(due)) => Some(Firing { fire_ms, due }),
        () = shutdown.requested() => None,
    }
}

/// Reserves `queries` valid queries in the rolling hour, atomically with respect to every other run: the
/// reservation (none for a free run) goes with the run's record to the writer, which lowers it to what the run
/// spent. `Err(spent)` when they do not fit: what the hour has already spent.
pub async fn admit(
    shared: &Arc<Shared>,
    name: &str,
    queries: u32,
    fire_ms: u64,
) -> Result<Result<Option<Reservation>, u32>, crate::store::StoreError> {
    if queries == 0 {
        return Ok(Ok(None));
    }
    let (probe, budget) = (name.to_string(), shared.queries_per_hour);
    shared
        .with_store(move |store| {
            let spent = store.spent_since(fire_ms.saturating_sub(HOUR_MS))?;
            if !admits(spent, queries, budget) {
                return Ok(Err(spent));
            }
            let reservation = store.record_spend(&BudgetSpend {
                at_ms: fire_ms,
                probe,
                queries,
            })?;
            Ok(Ok(Some(reservation)))
        })
        .await
}

/// Logs a finished run and queues it, with its budget reservation, for the writer; false if it was lost.
/// Every run of `run` passes here, and is given this agent's location here.
pub async fn hand_over(
    shared: &Arc<Shared>,
    mut record: ProbeRecord,
    reservation: Option<Reservation>,
) -> bool {
    record.location.clone_from(&shared.location);
    log_record(&record);
    shared.alerts.send(&record);
    shared.metrics.record_run(&record);
    let name = record.probe.clone();
    let run = FinishedRun {
        record,
        reservation,
    };
    let queued = shared.writer.send(run).await.is_ok();
    if !queued {
        tracing::error!(probe = %name, "the record writer is gone; record lost");
    }
    queued
}

/// The record of a run skipped because the budget was spent: inconclusive, class `budget`.
pub fn budget_skip_record(
    shared: &Shared,
    name: &str,
    request: &RequestLine,
    fire_ms: u64,
    spent: u32,
    needed: u32,
) -> ProbeRecord {
    let budget = shared.queries_per_hour;
    let finding = Finding::new(
        "budget",
        None,
        format!("at most {budget} valid queries per rolling hour"),
        format!("{spent} already spent; this run needs {needed}"),
        FailureClass::Budget.hint(),
    );
    let run = Unfinished {
        name,
        request,
        fire_ms,
        queries: 0,
    };
    inconclusive_record(shared, &run, FailureClass::Budget, finding)
}

/// A run in flight. Dropped before [`InFlight::finished`] (its loop abandoned at a stop past
/// `run.shutdown_grace`), it records the run as inconclusive, class `aborted`, with the queries it spent:
/// every spend has its record.
#[derive(Debug)]
pub struct InFlight {
    shared: Arc<Shared>,
    name: String,
    request: RequestLine,
    fire_ms: u64,
    queries: u32,
    armed: bool,
}

impl InFlight {
    pub fn new(
        shared: &Arc<Shared>,
        name: &str,
        request: &RequestLine,
        fire_ms: u64,
        queries: u32,
    ) -> InFlight {
        InFlight {
            shared: shared.clone(),
            name: name.to_string(),
            request: request.clone(),
            fire_ms,
            queries,
            armed: true,
        }
    }

    /// The run ended (with a record of its own, or none to make).
    pub fn finished(mut self) {
        self.armed = false;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let finding = Finding::new(
            "aborted",
            None,
            "the run to finish",
            "the daemon stopped before it finished",
            FailureClass::Aborted.hint(),
        );
        let run = Unfinished {
            name: &self.name,
            request: &self.request,
            fire_ms: self.fire_ms,
            queries: self.queries,
        };
        let record = inconclusive_record(&self.shared, &run, FailureClass::Aborted, finding);
        log_record(&record);
        self.shared.metrics.record_run(&record);
        // The writer outlives the loops: it commits this after they are gone. Its reservation stays whole.
        let run = FinishedRun {
            record,
            reservation: None,
        };
        if self.shared.writer.try_send(run).is_err() {
            tracing::error!(probe = %self.name, "cannot queue the aborted run's record; record lost");
        }
    }
}

/// A test-only fault (debug builds): `OEWSPROBE_TEST_PANIC_ONCE=NAME` makes the first run of probe NAME in
/// this process panic, so that tests can watch a loop die and be restarted.
fn test_fault(name: &str) {
    static FIRED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if cfg!(debug_assertions)
        && std::env::var("OEWSPROBE_TEST_PANIC_ONCE").is_ok_and(|v| v == name)
        && !FIRED.swap(true, std::sync::atomic::Ordering::SeqCst)
    {
        panic!("test fault: OEWSPROBE_TEST_PANIC_ONCE={name}");
    }
}

/// A run that did not produce its own record: its probe, request, firing and the queries it spent.
struct Unfinished<'a> {
    name: &'a str,
    request: &'a RequestLine,
    fire_ms: u64,
    queries: u32,
}

/// An inconclusive record of a run that did not produce one itself.
fn inconclusive_record(
    shared: &Shared,
    run: &Unfinished<'_>,
    class: FailureClass,
    finding: Finding,
) -> ProbeRecord {
    ProbeRecord {
        location: shared.location.clone(),
        latency_percentiles: None,
        probe: run.name.to_string(),
        target: shared
            .prober
            .target()
            .as_str()
            .trim_end_matches('/')
            .to_string(),
        request: Some(run.request.clone()),
        scheduled_at_ms: run.fire_ms,
        verdict: Verdict::Inconclusive,
        class: Some(class),
        status: None,
        latency: Duration::ZERO,
        timings: Timings::default(),
        body_bytes: 0,
        queries: run.queries,
        findings: vec![finding],
        retry_after: None,
        known_drift: Vec::new(),
        tls: None,
    }
}

/// The span of one finished run: its probe, verdict and class (`-` on pass).
pub fn probe_span(record: &ProbeRecord) -> tracing::Span {
    tracing::info_span!("probe", probe = %record.probe, verdict = %record.verdict,
        class = record.class.map_or("-", |c| c.as_str()))
}

/// Logs a finished run inside a `probe` span carrying its probe, verdict and class: `info` on pass, `warn`
/// with the findings otherwise.
pub fn log_record(record: &ProbeRecord) {
    let lateness = SystemTime::now()
        .duration_since(UNIX_EPOCH + Duration::from_millis(record.scheduled_at_ms))
        .unwrap_or_default();
    let span = probe_span(record);
    let _entered = span.enter();
    match record.verdict {
        Verdict::Pass if !record.known_drift.is_empty() => tracing::info!(
            latency_ms = record.latency.as_millis() as u64,
            known_drift = %record.known_drift.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; "),
            "pass (known drift: {})", record.known_drift.len()
        ),
        Verdict::Pass if !record.warnings().is_empty() => tracing::warn!(
            latency_ms = record.latency.as_millis() as u64,
            warnings = %record.warnings().iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; "),
            "pass with warnings"
        ),
        Verdict::Pass => tracing::info!(latency_ms = record.latency.as_millis() as u64, "pass"),
        _ => tracing::warn!(
            latency_ms = record.latency.as_millis() as u64,
            finished_after_ms = lateness.as_millis() as u64,
            findings = %record.findings.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; "),
            "{}", record.verdict
        ),
    }
}
