//! The simulator's `GET /openapi.json`: the OpenAPI 3.1 document FastAPI (0.11x, pydantic v2) generates
//! for the service, per profile — the code's models as built, the runbook's promises in the runbook profile.
//!
//! Files: `schema` (pydantic's field schemas), `components` (one function per model schema).

mod components;
mod schema;

use serde_json::{Map, Value, json};

use self::schema::{python_title, reference};
use crate::sim::Profile;

/// One route of the app as FastAPI documents it.
#[derive(Debug)]
struct Route {
    /// The Python handler's name: FastAPI derives the summary and the operation id from it.
    function: &'static str,
    method: &'static str,
    path: &'static str,
    /// The model of the JSON request body, if any.
    body: Option<&'static str>,
    /// The 200 response's schema.
    response: Value,
}

/// The profile's routes in registration order.
fn routes(profile: Profile) -> Vec<Route> {
    let route = |function, method, path, body, response| Route {
        function,
        method,
        path,
        body,
        response,
    };
    let query = route(
        "query",
        "post",
        "/api/v1/query",
        Some("QueryRequest"),
        reference("QueryResponse"),
    );
    match profile {
        // `/health` and `/api/v1/models` return plain dicts (no response model): their schema is `{}`.
        Profile::AsBuilt => vec![
            route("health_check", "get", "/health", None, json!({})),
            query,
            route("list_models", "get", "/api/v1/models", None, json!({})),
        ],
        Profile::Runbook => vec![
            route(
                "health_check",
                "get",
                "/api/v1/health",
                None,
                reference("HealthResponse"),
            ),
            route(
                "health_check",
                "get",
                "/health",
                None,
                reference("HealthResponse"),
            ),
            query,
            route(
                "list_models",
                "get",
                "/api/v1/models",
                None,
                reference("ModelsResponse"),
            ),
        ],
    }
}

/// The whole document of the profile.
pub(crate) fn document(profile: Profile) -> Value {
    let mut paths = Map::new();
    for route in routes(profile) {
        let item = paths
            .entry(route.path)
            .or_insert_with(|| Value::Object(Map::new()));
        item[route.method] = operation(&route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "OEWS Data Agent API", "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": components::schemas(profile)}
    })
}

/// `{"application/json": {"schema": SCHEMA}}`.
fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

/// An operation: summary and id from the handler's name, the request body, the 200 response, and
/// FastAPI's 422 wherever input is validated.
fn operation(route: &Route) -> Value {
    let mut responses = json!({
        "200": {"description": "Successful Response", "content": json_content(route.response.clone())}
    });
    let mut operation = json!({
        "summary": python_title(route.function),
        "operationId": operation_id(route.function, route.path, route.method),
    });
    if let Some(body) = route.body {
        operation["requestBody"] = json!({
            "content": json_content(reference(body)),
            "required": true
        });
        responses["422"] = json!({
            "description": "Validation Error",
            "content": json_content(reference("HTTPValidationError"))
        });
    }
    operation["responses"] = responses;
    operation
}

/// FastAPI's `generate_unique_id`: the handler's name and the path with every non-word character as `_`,
/// then `_` and the method: `health_check_health_get`.
fn operation_id(function: &str, path: &str, method: &str) -> String {
    let words: String = format!("{function}{path}")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{words}_{method}")
}

#[cfg(test)]
mod tests;
