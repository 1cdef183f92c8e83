//! The simulated service's HTTP routes per profile, and where each fault acts on them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Serialize;

use super::Profile;
use super::admin;
use super::fault::{Fault, FaultSet};
use super::models::ModelsBody;
use super::openapi;
use super::responses;
use super::state::{Refusal, SimState};
use super::trace::{QueryResponse, ResponseShape};
use super::validate::{QueryRules, validate_query};

type SharedState = Arc<SimState>;

/// The whole application: the profile's API routes, the admin routes, 404 and 405 fallbacks.
pub(crate) fn router(state: SharedState) -> Router {
    let health_routes = match state.profile {
        Profile::Runbook => Router::new()
            .route("/api/v1/health", get(health))
            .route("/health", get(health)),
        // As built, only `/health` exists, and it refuses HEAD.
        Profile::AsBuilt => Router::new().route("/health", get(health).head(head_not_allowed)),
    };
    health_routes
        .route("/api/v1/models", get(models))
        .route("/api/v1/query", post(query))
        .route("/openapi.json", get(openapi_document))
        .merge(admin::router())
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            in_front_of_app,
        ))
        .with_state(state)
}

/// Counts every non-admin request, then applies the faults that sit in front of the app (network, proxy):
/// `hang`, `slow`, `bad_gateway`, whatever the path.
async fn in_front_of_app(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with(admin::PREFIX) {
        return next.run(request).await;
    }
    state.update_stats(|stats| {
        stats.record_request(request.method().as_str(), request.uri().path())
    });
    let faults = state.faults();
    if faults.has(&Fault::Hang) {
        state.until_stopped().await;
        return responses::service_unavailable();
    }
    state.pause(faults.total_slowdown()).await;
    if faults.has(&Fault::BadGateway) {
        return responses::bad_gateway();
    }
    next.run(request).await
}

/// The faults that break any route the app serves: `error500`, `flaky`, `invalid_json`.
fn app_fault(state: &SimState, faults: &FaultSet) -> Option<Response> {
    if faults.has(&Fault::Error500) {
        return Some(responses::workflow_failed());
    }
    if faults
        .flaky_probabilities()
        .any(|probability| state.chance(probability))
    {
        return Some(responses::internal_error());
    }
    if faults.has(&Fault::InvalidJson) {
        return Some(responses::truncated_json());
    }
    None
}

#[derive(Debug, Serialize)]
struct HealthBody {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    workflow_loaded: Option<bool>,
}

async fn health(State(state): State<SharedState>) -> Response {
    let faults = state.faults();
    if let Some(failure) = app_fault(&state, &faults) {
        return failure;
    }
    if faults.has(&Fault::HealthDown) {
        return responses::service_unavailable();
    }
    let body = HealthBody {
        status: "healthy",
        workflow_loaded: (state.profile == Profile::AsBuilt).then_some(true),
    };
    responses::json(StatusCode::OK, &body)
}

async fn models(State(state): State<SharedState>) -> Response {
    let faults = state.faults();
    if let Some(failure) = app_fault(&state, &faults) {
        return failure;
    }
    responses::json(
        StatusCode::OK,
        &ModelsBody::new(state.profile, faults.has(&Fault::ModelsEmpty)),
    )
}

/// Validation (422, not counted by the rate limit), then rate limit (429), capacity (503), the configured
/// latency while holding a workflow slot, app faults, and finally the answer.
async fn query(
    State(state): State<SharedState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let faults = state.faults();
    let rules = QueryRules {
        charts_by_default: state.profile == Profile::AsBuilt,
        require_known_models: state.profile == Profile::Runbook
            && !faults.has(&Fault::AcceptInvalidModel),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let request = match validate_query(content_type, &body, rules) {
        Ok(request) => request,
        Err(rejection) => {
            state.update_stats(|stats| stats.rejected_queries += 1);
            return responses::rejection(&rejection);
        }
    };
    state.update_stats(|stats| stats.valid_queries += 1);
    let _workflow_slot = match state.admit_query(&faults, peer.ip()) {
        Ok(slot) => slot,
        Err(Refusal::Throttled(per_hour)) => {
            state.update_stats(|stats| stats.throttled += 1);
            return responses::rate_limited(per_hour);
        }
        Err(Refusal::AtCapacity) => return responses::at_capacity(),
    };
    state.pause(state.latency).await;
    if let Some(failure) = app_fault(&state, &faults) {
        return failure;
    }
    let shape = ResponseShape::new(state.profile, &faults);
    responses::json(
        StatusCode::OK,
        &QueryResponse::build(&request, shape, None, wall_time_ms(started)),
    )
}

/// The handler's wall time in whole milliseconds, rounded up: a real workflow never takes under 1 ms, and
/// a `0` would read as "not measured".
fn wall_time_ms(started: Instant) -> u64 {
    let ms = started.elapsed().as_micros().div_ceil(1000).max(1);
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// FastAPI serves its document without running the app: only the faults in front of the app reach it.
async fn openapi_document(State(state): State<SharedState>) -> Response {
    responses::json(StatusCode::OK, &openapi::document(state.profile))
}

async fn head_not_allowed() -> Response {
    let mut response = responses::method_not_allowed();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    response
}

async fn method_not_allowed() -> Response {
    responses::method_not_allowed()
}

async fn not_found() -> Response {
    responses::not_found()
}
