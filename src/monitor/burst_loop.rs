//! A probe's scheduled burst: N requests at once on the burst's own schedule, within the query budget,
//! recorded as one `NAME-burst` record.

use super::probe_loop::{Firing, InFlight, admit, budget_skip_record, hand_over, next_firing};
use super::shared::{Shared, Shutdown};
use crate::load::{HttpChoice, LoadTransport, Progress, Shape, burst_record, run_load};
use crate::probe::{Caller, PreparedRequest, ProbeSpec};
use crate::schedule::jitter;
use std::sync::Arc;
use std::time::Duration;

/// Runs `spec`'s burst on its schedule until shutdown; returns how many bursts it handed to the writer.
pub async fn run_burst_loop(
    shared: Arc<Shared>,
    spec: Arc<ProbeSpec>,
    max_jitter: Duration,
    mut shutdown: Shutdown,
) -> u64 {
    let Some(burst) = spec.burst.clone() else {
        return 0;
    };
    let name = spec.burst_name();
    let request = match PreparedRequest::new(&spec.request, shared.prober.target()) {
        Ok(request) => Arc::new(request),
        Err(e) => {
            tracing::error!(probe = %name, error = %e, "cannot prepare the burst request");
            return 0;
        }
    };
    let line = request.request_line().clone();
    let offset = jitter(&name, max_jitter);
    let queries = spec.queries.saturating_mul(burst.requests as u32);
    let mut recorded = 0;
    while let Some(Firing { fire_ms, .. }) =
        next_firing(&burst.schedule, offset, &mut shutdown, &name).await
    {
        let Ok(_permit) = shared.permits.acquire().await else {
            break;
        };
        let (record, reservation) = match admit(&shared, &name, queries, fire_ms).await {
            Ok(Ok(reservation)) => {
                let shape = Shape::Once { n: burst.requests };
                let in_flight = InFlight::new(&shared, &name, &line, fire_ms, queries);
                let ran = run_load(
                    spec.clone(),
                    request.clone(),
                    shape,
                    &LoadTransport::new(HttpChoice::Negotiate, spec.request.tls.clone()),
                    burst.slo,
                    Arc::new(Progress::default()),
                    Caller::Monitor,
                )
                .await;
                in_flight.finished();
                match ran {
                    Ok(run) => {
                        shared.metrics.record_burst(&spec.name, &run.stats);
                        let record = burst_record(
                            &name,
                            shared.prober.target().as_str(),
                            &line,
                            fire_ms,
                            &run,
                            burst.slo,
                        );
                        (record, reservation)
                    }
                    Err(e) => {
                        tracing::error!(probe = %name, error = %e, "burst failed to start");
                        continue;
                    }
                }
            }
            Ok(Err(spent)) => (
                budget_skip_record(&shared, &name, &line, fire_ms, spent, queries),
                None,
            ),
            Err(e) => {
                tracing::error!(probe = %name, error = %e, "cannot read the query budget; burst skipped");
                continue;
            }
        };
        if hand_over(&shared, record, reservation).await {
            recorded += 1;
        }
    }
    recorded
}
