//! One probe's loop: wait for its next firing, check the budget, run, record, back off when throttled.

use super::shared::{Shared, Shutdown, now_ms};
use crate::probe::{FailureClass, Finding, ProbeRecord, ProbeSpec, Scheduled, Timings, Verdict};
use crate::schedule::{admits, backoff, jitter};
use crate::store::BudgetSpend;
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
    let offset = jitter(&spec.name, max_jitter);
    let mut recorded = 0;
    let mut not_before_ms = 0;
    let mut streak = 0;
    while !shutdown.is_set() {
        let now = now_ms();
        let Some(fire_ms) = schedule
            .next_after(now)
            .map(|t| t + offset.as_millis() as u64)
        else {
            tracing::warn!(probe = %spec.name, "schedule has no further firing");
            break;
        };
        let wait = Duration::from_millis(fire_ms.saturating_sub(now));
        let due = Instant::now() + wait;
        tokio::select! {
            () = tokio::time::sleep_until(tokio::time::Instant::from_std(due)) => {}
            () = shutdown.requested() => break,
        }
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
        let record = match admit(&shared, &spec, fire_ms).await {
            Ok(true) => match shared.prober.run(&spec, scheduled).await {
                Some(record) => record,
                None => break,
            },
            Ok(false) => budget_skip_record(
                &spec,
                shared.prober.target().as_str(),
                fire_ms,
                shared.queries_per_hour,
            ),
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
        log_record(&record);
        if shared.writer.send(record.clone()).await.is_ok() {
            recorded += 1;
        } else {
            tracing::error!(probe = %spec.name, "the record writer is gone; record lost");
        }
        if let Some(tx) = &shared.records {
            let _ = tx.try_send(record);
        }
    }
    recorded
}

/// Reserves the run's valid queries in the rolling hour, atomically with respect to other probes.
async fn admit(
    shared: &Arc<Shared>,
    spec: &ProbeSpec,
    fire_ms: u64,
) -> Result<bool, crate::store::StoreError> {
    if spec.queries == 0 {
        return Ok(true);
    }
    let (probe, queries, budget) = (spec.name.clone(), spec.queries, shared.queries_per_hour);
    shared
        .with_store(move |store| {
            let spent = store.spent_since(fire_ms.saturating_sub(HOUR_MS))?;
            if !admits(spent, queries, budget) {
                return Ok(false);
            }
            store.record_spend(&BudgetSpend {
                at_ms: fire_ms,
                probe,
                queries,
            })?;
            Ok(true)
        })
        .await
}

/// The record of a run skipped because the budget was spent: inconclusive, class `budget`.
pub fn budget_skip_record(
    spec: &ProbeSpec,
    target: &str,
    fire_ms: u64,
    budget: u32,
) -> ProbeRecord {
    let finding = Finding::new(
        "budget",
        None,
        format!("at most {budget} valid queries per rolling hour"),
        format!("{budget} already spent; this run needs {}", spec.queries),
        FailureClass::Budget.hint(),
    );
    ProbeRecord {
        probe: spec.name.clone(),
        target: target.trim_end_matches('/').to_string(),
        scheduled_at_ms: fire_ms,
        verdict: Verdict::Inconclusive,
        class: Some(FailureClass::Budget),
        status: None,
        latency: Duration::ZERO,
        timings: Timings::default(),
        body_bytes: 0,
        queries: 0,
        findings: vec![finding],
        retry_after: None,
    }
}

fn log_record(record: &ProbeRecord) {
    let lateness = SystemTime::now()
        .duration_since(UNIX_EPOCH + Duration::from_millis(record.scheduled_at_ms))
        .unwrap_or_default();
    let span = tracing::info_span!("probe", probe = %record.probe, verdict = %record.verdict,
        class = record.class.map_or("-", |c| c.as_str()));
    let _entered = span.enter();
    match record.verdict {
        Verdict::Pass => tracing::info!(latency_ms = record.latency.as_millis() as u64, "pass"),
        _ => tracing::warn!(
            latency_ms = record.latency.as_millis() as u64,
            finished_after_ms = lateness.as_millis() as u64,
            findings = %record.findings.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; "),
            "{}", record.verdict
        ),
    }
}
