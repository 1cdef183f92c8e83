//! The local status listener of `run`: `GET /metrics` (Prometheus text, from the same instruments the OTLP
//! export reads), `GET /healthz` (200 while every monitor loop is alive, else 503) and the routes it is given
//! (the status page's), on loopback unless configured otherwise.
//!
//! The listener never takes the descriptors probing needs: at most [`connection_cap`] connections are served
//! at once (more are closed as soon as they are accepted), a connection that has not sent its request headers
//! within [`HEADER_READ_TIMEOUT`] is closed, and none stays open longer than [`CONNECTION_LIFETIME`]. At start
//! the soft limit of open files is raised to the hard limit, and the cap is an eighth of it, at most
//! [`MAX_CONNECTIONS`].

use super::prometheus;
use super::provider::Scrape;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The most status connections served at once, whatever the limit of open files.
pub const MAX_CONNECTIONS: usize = 64;
/// A connection closes when its request headers have not all arrived this long after it opened (or after its
/// previous response): idle and slow clients cannot hold descriptors.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a status connection stays open, keep-alive included.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);

/// How many status connections are served at once with `open_files` descriptors allowed: an eighth of them,
/// from 1 to [`MAX_CONNECTIONS`], so the rest stay for probing, the store and alert delivery.
pub fn connection_cap(open_files: u64) -> usize {
    usize::try_from(open_files / 8).map_or(MAX_CONNECTIONS, |n| n.clamp(1, MAX_CONNECTIONS))
}

/// Raises the soft limit of open files to the hard limit; returns the soft limit now in force (`None`: unknown,
/// unlimited).
pub fn raise_open_files_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return limit.maximum;
        }
    }
    limit.current
}

/// How many monitor loops run, against how many the running plan started. Each loop holds a [`LoopGuard`].
#[derive(Debug, Default)]
pub struct Liveness {
    running: AtomicUsize,
    expected: AtomicUsize,
    /// Why the daemon cannot do its job although its loops run (records cannot be written), if it cannot.
    trouble: std::sync::Mutex<Option<String>>,
    /// Probe records waiting for the store now.
    records_waiting: AtomicU64,
    /// Probe records dropped since the start because too many were waiting (`run.max_waiting_records`).
    records_dropped: AtomicU64,
    /// Who leads the fleet, as this agent last saw the lease.
    leader: std::sync::Mutex<Option<LeaderSeen>>,
}

/// The leader's lease as an agent last saw it, for `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LeaderSeen {
    pub holder: String,
    pub generation: u64,
    /// When the lease ends unless renewed, by the store's clock (ms since the Unix epoch).
    pub until_ms: u64,
    /// Whether this agent holds it and may act on it.
    pub this_agent: bool,
}

impl Liveness {
    /// Says how many loops the current plan runs (0 while stopping).
    pub fn expect(&self, loops: usize) {
        self.expected.store(loops, Ordering::SeqCst);
    }

    /// Counts a loop as running until the guard drops (when it ends, or panics).
    pub fn guard(self: &Arc<Self>) -> LoopGuard {
        self.running.fetch_add(1, Ordering::SeqCst);
        LoopGuard(self.clone())
    }

    /// Sets (or, with `None`, clears) the trouble `/healthz` reports.
    pub fn set_trouble(&self, trouble: Option<String>) {
        *self.trouble.lock().unwrap_or_else(|p| p.into_inner()) = trouble;
    }

    /// Sets who leads the fleet, as last seen (`None`: not known yet).
    pub fn set_leader(&self, leader: Option<LeaderSeen>) {
        *self.leader.lock().unwrap_or_else(|p| p.into_inner()) = leader;
    }

    /// Who leads the fleet, as last seen.
    pub fn leader(&self) -> Option<LeaderSeen> {
        self.leader
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The trouble set, if any.
    pub fn trouble(&self) -> Option<String> {
        self.trouble
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Says how many probe records wait for the store and how many were dropped in all.
    pub fn set_records(&self, waiting: usize, dropped: u64) {
        self.records_waiting.store(waiting as u64, Ordering::SeqCst);
        self.records_dropped.store(dropped, Ordering::SeqCst);
    }

    /// (waiting, dropped): see [`Liveness::set_records`].
    pub fn records(&self) -> (u64, u64) {
        (
            self.records_waiting.load(Ordering::SeqCst),
            self.records_dropped.load(Ordering::SeqCst),
        )
    }

    /// (running, expected).
    pub fn counts(&self) -> (usize, usize) {
        (
            self.running.load(Ordering::SeqCst),
            self.expected.load(Ordering::SeqCst),
        )
    }
}

/// See [`Liveness::guard`].
#[derive(Debug)]
pub struct LoopGuard(Arc<Liveness>);

impl Drop for LoopGuard {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Clone)]
struct AppState {
    scrape: Scrape,
    liveness: Arc<Liveness>,
    started: Instant,
}

/// Binds `listen` and serves until the process ends; returns the bound address. A non-loopback address is
/// served, with a warning: anyone who reaches it can read the metrics. `pages` (the status page's routes)
/// are served beside `/metrics` and `/healthz`, within the same limits.
pub async fn serve(
    listen: SocketAddr,
    scrape: Scrape,
    liveness: Arc<Liveness>,
    pages: Router,
) -> std::io::Result<SocketAddr> {
    if let Some(warning) = exposure_warning(listen) {
        crate::telemetry::say(&warning);
    }
    let cap = raise_open_files_limit().map_or(MAX_CONNECTIONS, connection_cap);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(AppState {
            scrape,
            liveness,
            started: Instant::now(),
        })
        .merge(pages);
    tokio::spawn(accept_loop(listener, app, cap));
    Ok(bound)
}

/// Accepts connections for ever, serving at most `cap` at once; one over the cap is closed at once.
async fn accept_loop(listener: tokio::net::TcpListener, app: Router, cap: usize) {
    let permits = Arc::new(tokio::sync::Semaphore::new(cap));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors (or a connection reset before it was accepted): wait, never spin.
                tracing::warn!(error = %e, "the status listener cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        tokio::spawn(serve_connection(stream, app.clone(), permit));
    }
}

/// One connection, HTTP/1.1, within [`HEADER_READ_TIMEOUT`] and [`CONNECTION_LIFETIME`].
async fn serve_connection(
    stream: tokio::net::TcpStream,
    app: Router,
    _permit: tokio::sync::OwnedSemaphorePermit,
) {
    use tower_service::Service;
    let service = hyper::service::service_fn(move |request| app.clone().call(request));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    if let Ok(Err(e)) = tokio::time::timeout(CONNECTION_LIFETIME, connection).await {
        tracing::debug!(error = %e, "a status connection ended with an error");
    }
}

/// The warning for an address reachable from other machines; `None` on loopback.
pub fn exposure_warning(listen: SocketAddr) -> Option<String> {
    (!listen.ip().is_loopback()).then(|| {
        format!(
            "oewsprobe run: warning: [status] listen = \"{listen}\" is not a loopback address; anyone who can reach it can read /metrics"
        )
    })
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    match state.scrape.collect() {
        Ok(collected) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, prometheus::CONTENT_TYPE)],
            prometheus::render(&collected),
        ),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{e}\n"),
        ),
    }
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let (running, expected) = state.liveness.counts();
    let trouble = state.liveness.trouble();
    let (waiting, dropped) = state.liveness.records();
    let alive = expected > 0 && running >= expected && trouble.is_none();
    let body = serde_json::json!({
        "status": if alive { "ok" } else { "unhealthy" },
        "reason": trouble,
        "loops": {"running": running, "expected": expected},
        "leader": state.liveness.leader(),
        "records": {"waiting": waiting, "dropped": dropped},
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_s": state.started.elapsed().as_secs(),
    });
    let status = if alive {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_leaves_most_descriptors_to_probing() {
        let cases = [(0, 1), (8, 1), (64, 8), (1024, 64), (524_288, 64)];
        for (open_files, cap) in cases {
            assert_eq!(connection_cap(open_files), cap, "{open_files}");
        }
    }

    #[test]
    fn only_non_loopback_addresses_are_warned_about() {
        assert_eq!(exposure_warning(([127, 0, 0, 1], 9464).into()), None);
        assert_eq!(
            exposure_warning(([0, 0, 0, 0], 9464).into()).as_deref(),
            Some(
                "oewsprobe run: warning: [status] listen = \"0.0.0.0:9464\" is not a loopback address; anyone who can reach it can read /metrics"
            )
        );
    }
}
