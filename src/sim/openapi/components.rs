//! The model schemas of the service's document, one function per model; the profiles share what they
//! share and differ where the runbook promises more than the code declares.

use serde_json::{Map, Value, json};

use super::schema::{
    Field, any_object, array, boolean, integer, model, number, object_of, reference, string,
    string_enum,
};
use crate::sim::Profile;
use crate::sim::models;

/// `components.schemas` of the profile's document, keyed by model name.
pub(super) fn schemas(profile: Profile) -> Map<String, Value> {
    let mut schemas = vec![
        ("ChartSpec", chart_spec()),
        ("DataSource", data_source(profile)),
        ("HTTPValidationError", http_validation_error()),
        ("Metadata", metadata()),
        ("QueryRequest", query_request(profile)),
        ("QueryResponse", query_response()),
        ("ValidationError", validation_error()),
    ];
    if profile == Profile::Runbook {
        schemas.extend([
            ("HealthResponse", health_response()),
            ("ModelInfo", model_info()),
            ("ModelsResponse", models_response()),
        ]);
    }
    schemas
        .into_iter()
        .map(|(name, schema)| (name.to_owned(), schema))
        .collect()
}

/// A model override: a plain optional string as built (the registry check never rejects anything); an
/// optional enum of the registry keys in the runbook (so an unknown model is a 422).
fn model_override(profile: Profile, name: &'static str) -> Field {
    match profile {
        Profile::AsBuilt => Field::optional(name, string()),
        Profile::Runbook => Field::optional(name, string_enum(models::keys())),
    }
}

fn query_request(profile: Profile) -> Value {
    let charts_by_default = profile == Profile::AsBuilt;
    model(
        "QueryRequest",
        vec![
            Field::required(
                "query",
                json!({"type": "string", "minLength": 3, "maxLength": 500}),
            ),
            Field::with_default("enable_charts", boolean(), json!(charts_by_default)),
            model_override(profile, "reasoning_model"),
            model_override(profile, "implementation_model"),
        ],
    )
}

fn query_response() -> Value {
    model(
        "QueryResponse",
        vec![
            Field::required("answer", string()),
            Field::with_default("charts", array(reference("ChartSpec")), json!([])),
            Field::with_default("data_sources", array(reference("DataSource")), json!([])),
            Field::required("metadata", reference("Metadata")),
        ],
    )
}

fn chart_spec() -> Value {
    model(
        "ChartSpec",
        vec![
            Field::required("type", string()),
            Field::required("title", string()),
            Field::required("data", any_object()),
            Field::optional("options", any_object()),
        ],
    )
}

/// One execution trace entry. The runbook's has `implementation_model`; the code's model has none, so it
/// can never appear on the wire.
fn data_source(profile: Profile) -> Value {
    let mut fields = vec![
        Field::required("step", integer()),
        Field::required("agent", string()),
        Field::required("type", string()),
        Field::optional("action", string()),
        Field::optional("plan", any_object()),
        Field::optional("reasoning_model", string()),
        Field::optional("sql", string()),
        Field::optional("params", array(json!({}))),
        Field::optional("row_count", integer()),
        Field::optional("sample_data", array(any_object())),
        Field::optional("stats", any_object()),
        Field::optional("search_query", string()),
        Field::optional("sources", array(any_object())),
    ];
    if profile == Profile::Runbook {
        fields.push(Field::optional("implementation_model", string()));
    }
    model("DataSource", fields)
}

fn metadata() -> Value {
    model(
        "Metadata",
        vec![
            Field::required("models_used", object_of(string())),
            Field::optional("execution_time_ms", integer()),
            Field::optional("plan", any_object()),
            Field::with_default("replans", integer(), json!(0)),
        ],
    )
}

/// The runbook's health answer, `{"status": "healthy"}` (as built, `/health` returns a plain dict).
fn health_response() -> Value {
    model("HealthResponse", vec![Field::required("status", string())])
}

/// The runbook's model registry answer (as built, `/api/v1/models` returns a plain dict).
fn models_response() -> Value {
    model(
        "ModelsResponse",
        vec![Field::required("models", object_of(reference("ModelInfo")))],
    )
}

fn model_info() -> Value {
    model(
        "ModelInfo",
        vec![
            Field::required("provider", string()),
            Field::required("model_name", string()),
            Field::required("role", string()),
            Field::required("cost_per_1m_tokens", number()),
        ],
    )
}

/// FastAPI's own 422 body schema (0.11x), added to every operation that validates input.
fn http_validation_error() -> Value {
    json!({
        "properties": {
            "detail": {"items": reference("ValidationError"), "type": "array", "title": "Detail"}
        },
        "type": "object",
        "title": "HTTPValidationError"
    })
}

fn validation_error() -> Value {
    json!({
        "properties": {
            "loc": {
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "type": "array",
                "title": "Location"
            },
            "msg": {"type": "string", "title": "Message"},
            "type": {"type": "string", "title": "Error Type"}
        },
        "type": "object",
        "required": ["loc", "msg", "type"],
        "title": "ValidationError"
    })
}
