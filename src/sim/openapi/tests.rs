//! The documents' exact shape: paths, operations and the schemas the drift check reads.

use serde_json::{Value, json};

use super::{document, operation_id};
use crate::oews::fixtures::AS_BUILT_KEYS;
use crate::sim::Profile;

/// `["GET /health", ...]`: every operation of a document, in path order.
fn operations(doc: &Value) -> Vec<String> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let methods = item.as_object().expect("path item is an object");
            methods
                .keys()
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect()
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["components"]["schemas"][name]
}

fn property_names(doc: &Value, model: &str) -> Vec<String> {
    schema(doc, model)["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect()
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    names.sort();
    names
}

#[test]
fn as_built_document_has_exactly_the_services_paths_and_header() {
    let doc = document(Profile::AsBuilt);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["info"],
        json!({"title": "OEWS Data Agent API", "version": "1.0.0"})
    );
    assert_eq!(
        operations(&doc),
        ["GET /api/v1/models", "POST /api/v1/query", "GET /health"]
    );
    assert_eq!(
        doc["paths"]["/health"]["get"],
        json!({
            "summary": "Health Check",
            "operationId": "health_check_health_get",
            "responses": {"200": {"description": "Successful Response",
                                  "content": {"application/json": {"schema": {}}}}}
        })
    );
    assert_eq!(
        doc["paths"]["/api/v1/models"]["get"]["operationId"],
        "list_models_api_v1_models_get"
    );
    assert_eq!(
        doc["paths"]["/api/v1/query"]["post"],
        json!({
            "summary": "Query",
            "operationId": "query_api_v1_query_post",
            "requestBody": {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueryRequest"}}},
                "required": true
            },
            "responses": {
                "200": {"description": "Successful Response",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueryResponse"}}}},
                "422": {"description": "Validation Error",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}
            }
        })
    );
    let names: Vec<&String> = doc["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
        .collect();
    assert_eq!(
        names,
        [
            "ChartSpec",
            "DataSource",
            "HTTPValidationError",
            "Metadata",
            "QueryRequest",
            "QueryResponse",
            "ValidationError"
        ]
    );
}

#[test]
fn as_built_query_request_has_plain_optional_model_strings() {
    let doc = document(Profile::AsBuilt);
    assert_eq!(
        *schema(&doc, "QueryRequest"),
        json!({
            "properties": {
                "query": {"type": "string", "minLength": 3, "maxLength": 500, "title": "Query"},
                "enable_charts": {"type": "boolean", "title": "Enable Charts", "default": true},
                "reasoning_model": {"anyOf": [{"type": "string"}, {"type": "null"}],
                                    "title": "Reasoning Model", "default": null},
                "implementation_model": {"anyOf": [{"type": "string"}, {"type": "null"}],
                                         "title": "Implementation Model", "default": null}
            },
            "type": "object",
            "required": ["query"],
            "title": "QueryRequest"
        })
    );
}

#[test]
fn as_built_data_source_has_the_13_trace_keys_and_no_implementation_model() {
    let doc = document(Profile::AsBuilt);
    assert_eq!(property_names(&doc, "DataSource"), sorted(&AS_BUILT_KEYS));
    assert_eq!(
        schema(&doc, "DataSource")["required"],
        json!(["step", "agent", "type"])
    );
    assert_eq!(
        schema(&doc, "DataSource")["properties"]["sample_data"],
        json!({"anyOf": [{"type": "array", "items": {"type": "object", "additionalProperties": true}},
                         {"type": "null"}],
               "title": "Sample Data", "default": null})
    );
}

#[test]
fn as_built_response_models_follow_the_code() {
    let doc = document(Profile::AsBuilt);
    assert_eq!(
        *schema(&doc, "Metadata"),
        json!({
            "properties": {
                "models_used": {"type": "object", "additionalProperties": {"type": "string"},
                                "title": "Models Used"},
                "execution_time_ms": {"anyOf": [{"type": "integer"}, {"type": "null"}],
                                      "title": "Execution Time Ms", "default": null},
                "plan": {"anyOf": [{"type": "object", "additionalProperties": true}, {"type": "null"}],
                         "title": "Plan", "default": null},
                "replans": {"type": "integer", "title": "Replans", "default": 0}
            },
            "type": "object",
            "required": ["models_used"],
            "title": "Metadata"
        })
    );
    assert_eq!(
        schema(&doc, "QueryResponse")["required"],
        json!(["answer", "metadata"])
    );
    assert_eq!(
        schema(&doc, "QueryResponse")["properties"]["charts"],
        json!({"type": "array", "items": {"$ref": "#/components/schemas/ChartSpec"},
               "title": "Charts", "default": []})
    );
    assert_eq!(
        schema(&doc, "ChartSpec")["required"],
        json!(["type", "title", "data"])
    );
}

#[test]
fn runbook_document_adds_what_the_runbook_promises() {
    let doc = document(Profile::Runbook);
    assert_eq!(
        operations(&doc),
        [
            "GET /api/v1/health",
            "GET /api/v1/models",
            "POST /api/v1/query",
            "GET /health"
        ]
    );
    let ok_schema = |path: &str| {
        doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            .clone()
    };
    for path in ["/api/v1/health", "/health"] {
        assert_eq!(
            ok_schema(path),
            json!({"$ref": "#/components/schemas/HealthResponse"}),
            "{path}"
        );
    }
    assert_eq!(
        doc["paths"]["/api/v1/health"]["get"]["operationId"],
        "health_check_api_v1_health_get"
    );
    assert_eq!(
        ok_schema("/api/v1/models"),
        json!({"$ref": "#/components/schemas/ModelsResponse"})
    );
    assert_eq!(
        *schema(&doc, "ModelsResponse"),
        json!({
            "properties": {"models": {"type": "object", "title": "Models",
                                      "additionalProperties": {"$ref": "#/components/schemas/ModelInfo"}}},
            "type": "object", "required": ["models"], "title": "ModelsResponse"
        })
    );
    assert_eq!(
        schema(&doc, "ModelInfo")["properties"]["cost_per_1m_tokens"],
        json!({"type": "number", "title": "Cost Per 1M Tokens"})
    );
    assert_eq!(
        *schema(&doc, "HealthResponse"),
        json!({"properties": {"status": {"type": "string", "title": "Status"}},
               "type": "object", "required": ["status"], "title": "HealthResponse"})
    );
}

#[test]
fn runbook_query_request_refuses_unknown_models_and_its_trace_has_implementation_model() {
    let runbook = document(Profile::Runbook);
    let as_built = document(Profile::AsBuilt);
    let keys = json!([
        "deepseek-r1",
        "gpt-4o",
        "deepseek-v3",
        "gpt-4o-mini",
        "ollama-llama3"
    ]);
    for field in ["reasoning_model", "implementation_model"] {
        assert_eq!(
            schema(&runbook, "QueryRequest")["properties"][field]["anyOf"],
            json!([{"type": "string", "enum": keys}, {"type": "null"}]),
            "{field}"
        );
    }
    assert_eq!(
        schema(&runbook, "QueryRequest")["properties"]["enable_charts"]["default"],
        false
    );
    let mut with_implementation_model: Vec<&str> = AS_BUILT_KEYS.to_vec();
    with_implementation_model.push("implementation_model");
    assert_eq!(
        property_names(&runbook, "DataSource"),
        sorted(&with_implementation_model)
    );
    for shared in [
        "ChartSpec",
        "Metadata",
        "QueryResponse",
        "HTTPValidationError",
        "ValidationError",
    ] {
        assert_eq!(
            schema(&runbook, shared),
            schema(&as_built, shared),
            "{shared}"
        );
    }
}

#[test]
fn operation_ids_replace_non_word_characters() {
    for (function, path, method, id) in [
        ("health_check", "/health", "get", "health_check_health_get"),
        ("query", "/api/v1/query", "post", "query_api_v1_query_post"),
        (
            "read_item",
            "/items/{item-id}",
            "get",
            "read_item_items__item_id__get",
        ),
    ] {
        assert_eq!(operation_id(function, path, method), id);
    }
}
