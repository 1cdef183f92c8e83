//! The load engine: workers that each own a connection and their statistics, in three arrival models, spread
//! over single-threaded runtimes (lanes), by default one per core but one.
//!
//! * `Once { n }` — n requests started together (the runbook's "3 concurrent queries").
//! * `Closed { concurrency, duration }` — each worker sends its next request when the previous one ends.
//! * `Open { rate, duration, max_in_flight }` — request *i* is due at `t0 + i / rate` whatever happened
//!   before; latency counts from that intended instant, so a stall of the target shows in the percentiles
//!   instead of silently thinning the schedule (no coordinated omission). At most `max_in_flight` requests
//!   run at once; a due request that finds none free starts late, and that lag is counted.

use super::connection::Connection;
use super::stats::{LoadStats, Sample};
use super::transport::LoadTransport;
use crate::probe::{Asked, Caller, PreparedRequest, ProbeSpec, evaluate, spent_queries};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How requests arrive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    Once {
        n: u64,
    },
    Closed {
        concurrency: u64,
        duration: Duration,
    },
    Open {
        rate: f64,
        duration: Duration,
        max_in_flight: u64,
    },
}

impl Shape {
    /// How many requests the shape will send, when that is known in advance.
    pub fn planned_requests(&self) -> Option<u64> {
        match *self {
            Shape::Once { n } => Some(n),
            Shape::Closed { .. } => None,
            Shape::Open { rate, duration, .. } => {
                Some((rate * duration.as_secs_f64()).ceil() as u64)
            }
        }
    }

    fn workers(&self) -> u64 {
        match *self {
            Shape::Once { n } => n,
            Shape::Closed { concurrency, .. } => concurrency,
            Shape::Open { max_in_flight, .. } => max_in_flight,
        }
    }
}

/// Live counters for a progress display; updated with relaxed atomics, read by anyone.
#[derive(Debug, Default)]
pub struct Progress {
    pub started: AtomicU64,
    pub finished: AtomicU64,
}

/// A start later than this after its intended instant counts as late (open model).
pub const LATE_AFTER: Duration = Duration::from_millis(10);

/// The result of a run: merged statistics and the wall time it took.
#[derive(Debug)]
pub struct LoadRun {
    pub stats: LoadStats,
    pub elapsed: Duration,
}

/// Runs `spec`'s checks on every response of `request`, sent in `shape` over `transport`, judged against
/// `slo` for `caller`.
pub async fn run_load(
    spec: Arc<ProbeSpec>,
    request: Arc<PreparedRequest>,
    shape: Shape,
    transport: &LoadTransport,
    slo: Duration,
    progress: Arc<Progress>,
    caller: Caller,
) -> Result<LoadRun, String> {
    let workers = shape.workers().max(1);
    let tls = match request.url().scheme() {
        "https" => Some(transport.tls()?),
        _ => None,
    };
    let mut clients = Vec::with_capacity(workers as usize);
    for _ in 0..workers {
        clients.push(Connection::for_request(
            &request,
            tls.clone(),
            transport.http,
        )?);
    }
    let next = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let workers: Vec<Worker> = clients
        .into_iter()
        .map(|client| Worker {
            spec: spec.clone(),
            request: request.clone(),
            client,
            shape,
            slo,
            t0,
            next: next.clone(),
            progress: progress.clone(),
            caller,
        })
        .collect();
    let stats = run_on_lanes(workers, transport.lanes()).await?;
    Ok(LoadRun {
        stats,
        elapsed: t0.elapsed(),
    })
}

/// How many lanes (threads, each with its own single-threaded runtime) a run on `cores` cores uses by
/// default: all but one, at least one. The core left over serves the rest of the host — the monitor's own
/// probes and store when `run` schedules a burst, a target on the same machine — so that a lane is not
/// descheduled with its connections' responses waiting (which shows as a tail in the latency).
pub fn default_lanes(cores: usize) -> usize {
    cores.saturating_sub(1).max(1)
}

/// Runs the workers spread over `lanes` single-threaded runtimes (at most one per worker), each on its own
/// thread: a worker and its connection's driver then always run on the same thread, with no cross-thread
/// wake-ups or work stealing between them. The workers of a lane record into one set of statistics; the
/// lanes' sets are merged at the end.
async fn run_on_lanes(workers: Vec<Worker>, lanes: usize) -> Result<LoadStats, String> {
    let lanes = lanes.min(workers.len()).max(1);
    let mut groups: Vec<Vec<Worker>> = (0..lanes).map(|_| Vec::new()).collect();
    for (i, worker) in workers.into_iter().enumerate() {
        groups[i % lanes].push(worker);
    }
    let mut threads = tokio::task::JoinSet::new();
    for group in groups {
        threads.spawn_blocking(move || run_lane(group));
    }
    let mut stats = LoadStats::new();
    while let Some(joined) = threads.join_next().await {
        let lane = joined.map_err(|e| format!("a load worker failed: {e}"))??;
        stats.merge(&lane);
    }
    Ok(stats)
}

fn run_lane(group: Vec<Worker>) -> Result<LoadStats, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a load thread: {e}"))?;
    let stats = Arc::new(Mutex::new(LoadStats::new()));
    runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for worker in group {
            tasks.spawn(worker.run(stats.clone()));
        }
        while let Some(joined) = tasks.join_next().await {
            joined.map_err(|e| format!("a load worker failed: {e}"))?;
        }
        Ok::<(), String>(())
    })?;
    let stats = std::mem::take(&mut *lock(&stats));
    Ok(stats)
}

/// The lane's statistics; only its own thread takes the lock, so it is never contended.
fn lock(stats: &Mutex<LoadStats>) -> std::sync::MutexGuard<'_, LoadStats> {
    stats
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Worker {
    spec: Arc<ProbeSpec>,
    request: Arc<PreparedRequest>,
    client: Connection,
    shape: Shape,
    slo: Duration,
    t0: Instant,
    next: Arc<AtomicU64>,
    progress: Arc<Progress>,
    caller: Caller,
}

impl Worker {
    async fn run(mut self, stats: Arc<Mutex<LoadStats>>) {
        while let Some((number, intended)) = self.next_slot().await {
            let sample = self.one(number, intended).await;
            lock(&stats).record(&sample, self.slo, LATE_AFTER);
        }
        lock(&stats).opened.merge(self.client.opened());
    }

    /// The next request's number (from 1) and intended start, or `None` when the run is over.
    async fn next_slot(&self) -> Option<(u64, Instant)> {
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        match self.shape {
            Shape::Once { n } => (index < n).then_some((index + 1, self.t0)),
            Shape::Closed { duration, .. } => {
                let now = Instant::now();
                let running = now.saturating_duration_since(self.t0) < duration;
                running.then_some((index + 1, now))
            }
            Shape::Open { rate, duration, .. } => {
                let offset = Duration::try_from_secs_f64(index as f64 / rate).ok()?;
                if offset >= duration {
                    return None;
                }
                let intended = self.t0.checked_add(offset)?;
                tokio::time::sleep_until(tokio::time::Instant::from_std(intended)).await;
                Some((index + 1, intended))
            }
        }
    }

    async fn one(&mut self, number: u64, intended: Instant) -> Sample {
        let started = Instant::now();
        self.progress.started.fetch_add(1, Ordering::Relaxed);
        let exchanged = self
            .client
            .send(&self.request, self.spec.expect.max_body)
            .await;
        let finished = Instant::now();
        let latency = finished.saturating_duration_since(intended);
        let asked = Asked {
            request: self.request.line(),
            caller: self.caller,
        };
        let evaluation = evaluate(&self.spec.expect, asked, &exchanged.outcome, latency);
        let status = exchanged.outcome.as_ref().ok().map(|r| r.status);
        self.progress.finished.fetch_add(1, Ordering::Relaxed);
        Sample {
            number,
            latency,
            service_time: finished.saturating_duration_since(started),
            start_lag: started.saturating_duration_since(intended),
            queries: spent_queries(self.spec.queries, status, evaluation.class),
            verdict: evaluation.verdict,
            class: evaluation.class,
            finding: evaluation.findings.first().map(|f| f.message.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::default_lanes;

    #[test]
    fn a_run_leaves_one_core_for_the_rest_of_the_host() {
        let lanes: Vec<(usize, usize)> = [0, 1, 2, 4, 16]
            .iter()
            .map(|&c| (c, default_lanes(c)))
            .collect();
        assert_eq!(lanes, [(0, 1), (1, 1), (2, 1), (4, 3), (16, 15)]);
    }
}
