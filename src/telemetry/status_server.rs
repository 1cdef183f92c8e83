//! The local status listener of `run`: `GET /metrics` (Prometheus text, from the same instruments the OTLP
//! export reads) and `GET /healthz` (200 while every monitor loop is alive, else 503), on loopback unless
//! configured otherwise.

use super::prometheus;
use super::provider::Scrape;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// How many monitor loops run, against how many the running plan started. Each loop holds a [`LoopGuard`].
#[derive(Debug, Default)]
pub struct Liveness {
    running: AtomicUsize,
    expected: AtomicUsize,
    /// Why the daemon cannot do its job although its loops run (records cannot be written), if it cannot.
    trouble: std::sync::Mutex<Option<String>>,
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

    /// The trouble set, if any.
    pub fn trouble(&self) -> Option<String> {
        self.trouble
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
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
/// served, with a warning: anyone who reaches it can read the metrics.
pub async fn serve(
    listen: SocketAddr,
    scrape: Scrape,
    liveness: Arc<Liveness>,
) -> std::io::Result<SocketAddr> {
    if let Some(warning) = exposure_warning(listen) {
        crate::telemetry::say(&warning);
    }
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(AppState {
            scrape,
            liveness,
            started: Instant::now(),
        });
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the status listener stopped");
        }
    });
    Ok(bound)
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
    let alive = expected > 0 && running >= expected && trouble.is_none();
    let body = serde_json::json!({
        "status": if alive { "ok" } else { "unhealthy" },
        "reason": trouble,
        "loops": {"running": running, "expected": expected},
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
