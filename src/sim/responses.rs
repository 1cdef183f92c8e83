//! The canned HTTP responses of the simulated service, its proxy and its failure modes.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::validate::Rejection;

/// The first bytes of a 200 body cut off mid-string (the `invalid_json` fault).
pub(crate) const TRUNCATED_BODY: &str = r#"{"answer": "Software devel"#;

/// `status` with `body` serialized compactly as `application/json`.
pub(crate) fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    (status, Json(body)).into_response()
}

/// `{"detail": message}`, FastAPI's error shape.
pub(crate) fn detail(status: StatusCode, message: &str) -> Response {
    json(status, &json!({ "detail": message }))
}

pub(crate) fn not_found() -> Response {
    detail(StatusCode::NOT_FOUND, "Not Found")
}

pub(crate) fn method_not_allowed() -> Response {
    detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

/// 503 for a health route that is down (also what a hung request gets when the simulator stops).
pub(crate) fn service_unavailable() -> Response {
    detail(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
}

/// 500 from the `error500` fault.
pub(crate) fn workflow_failed() -> Response {
    detail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Workflow execution failed: simulated fault",
    )
}

/// 500 from the `flaky` fault: the service's generic message.
pub(crate) fn internal_error() -> Response {
    detail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "An internal error occurred during query processing.",
    )
}

/// 200 whose JSON body breaks off.
pub(crate) fn truncated_json() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        TRUNCATED_BODY,
    )
        .into_response()
}

/// 502 from the reverse proxy: empty body, `server: Caddy`.
pub(crate) fn bad_gateway() -> Response {
    (StatusCode::BAD_GATEWAY, [(header::SERVER, "Caddy")]).into_response()
}

/// 429 from slowapi: `{"error": ...}`, no `Retry-After`.
pub(crate) fn rate_limited(per_hour: u32) -> Response {
    json(
        StatusCode::TOO_MANY_REQUESTS,
        &json!({ "error": format!("Rate limit exceeded: {per_hour} per 1 hour") }),
    )
}

/// 503 when all workflow slots are busy, with `Retry-After: 60`.
pub(crate) fn at_capacity() -> Response {
    let mut response = detail(
        StatusCode::SERVICE_UNAVAILABLE,
        "System at capacity. Please retry in 1-2 minutes.",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    response
}

/// The response to a refused query body.
pub(crate) fn rejection(rejection: &Rejection) -> Response {
    match rejection {
        Rejection::Invalid(errors) => json(StatusCode::UNPROCESSABLE_ENTITY, errors),
        Rejection::Unreadable => detail(
            StatusCode::BAD_REQUEST,
            "There was an error parsing the body",
        ),
    }
}
