//! `expect.openapi = true` against a small axum server on loopback that serves the as-built service's
//! document but a broken query answer: each violation is one `openapi` finding at its instance path, the run
//! fails as `contract`; a server without a document gives a finding of its own; once the document is here, a
//! GET's 404 names the path it lists.

mod support;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use oewsprobe::probe::{FailureClass, ProbeRecord, Verdict};
use oewsprobe::sim::{Profile, openapi_document};
use serde_json::json;
use support::{messages, plan, probe_dir, record, run_all};

/// Serves `app` on a free loopback port; its base URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// Serves the as-built service's document and `answer` to every query; its base URL.
async fn serve_as_built(answer: serde_json::Value) -> String {
    let document = || async { axum::Json(openapi_document(Profile::AsBuilt)) };
    let query = move || async move { axum::Json(answer) };
    serve(
        Router::new()
            .route("/openapi.json", get(document))
            .route("/api/v1/query", post(query)),
    )
    .await
}

/// A query answer the as-built schema rejects: `answer` a number, a trace entry without `step`, and
/// `metadata.models_used` holding a number.
fn broken_answer() -> serde_json::Value {
    json!({"answer": 42, "charts": [], "data_sources": [
        {"step": 1, "agent": "planner", "type": "planning"},
        {"agent": "cortex_researcher", "type": "oews_database"}
    ], "metadata": {"models_used": {"planner": 7}}})
}

/// Runs the probes of `dir` against `target`: the `query` probe's record, failed as `contract`.
async fn failed_query(target: &str, dir: &std::path::Path) -> ProbeRecord {
    let records = run_all(&plan(target, dir)).await;
    let query = record(&records, "query").clone();
    assert_eq!(
        (query.verdict, query.class),
        (Verdict::Fail, Some(FailureClass::Contract))
    );
    query
}

const QUERY_PROBE: &str = r#"
[request]
method = "POST"
path = "/api/v1/query"
body = { query = "What is the average software developer salary in Seattle?", enable_charts = false }
[expect]
status = 200
openapi = true
"#;

const HEALTH_PROBE: &str = "[request]\npath = \"/api/v1/health\"\n[expect]\nstatus = 200\n";

#[tokio::test]
async fn each_violation_of_the_declared_response_schema_is_a_finding_at_its_path() {
    let target = serve_as_built(broken_answer()).await;
    let dir = probe_dir(&[("query.toml", QUERY_PROBE), ("health.toml", HEALTH_PROBE)]);
    let query = failed_query(&target, dir.path()).await;
    assert_eq!(
        messages(&query),
        [
            "answer: 42 is not of type \"string\" — the document's #/components/schemas/QueryResponse/properties/answer/type",
            "data_sources[1]: \"step\" is a required property — the document's #/components/schemas/DataSource/required",
            "metadata.models_used.planner: 7 is not of type \"string\" — the document's #/components/schemas/Metadata/properties/models_used/additionalProperties/type",
        ]
    );
    let paths: Vec<_> = query
        .findings
        .iter()
        .map(|f| (f.check.as_str(), f.path.as_deref()))
        .collect();
    assert_eq!(
        paths,
        [
            ("openapi", Some("answer")),
            ("openapi", Some("data_sources[1]")),
            ("openapi", Some("metadata.models_used.planner"))
        ]
    );
    // The document is now held by this process: the health probe's 404 names the path it lists. (Both
    // probes ran at once, so run the health probe again.)
    let records = run_all(&plan(&target, dir.path())).await;
    assert_eq!(
        messages(record(&records, "health")),
        ["GET /api/v1/health: expected 200, got 404; the service's document lists GET /health"]
    );
}

#[tokio::test]
async fn a_valid_answer_passes_and_a_missing_document_is_a_contract_finding() {
    let valid =
        json!({"answer": "About $150k.", "data_sources": [], "metadata": {"models_used": {}}});
    let target = serve_as_built(valid).await;
    let dir = probe_dir(&[("query.toml", QUERY_PROBE)]);
    let records = run_all(&plan(&target, dir.path())).await;
    let query = record(&records, "query");
    assert_eq!(
        (query.verdict, messages(query)),
        (Verdict::Pass, Vec::<String>::new())
    );

    let app = Router::new()
        .route("/openapi.json", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/api/v1/query",
            post(|| async { axum::Json(broken_answer()) }),
        );
    let target = serve(app).await;
    let query = failed_query(&target, dir.path()).await;
    assert_eq!(
        messages(&query),
        [format!(
            "GET /openapi.json: expected the service's OpenAPI document, got {target}/openapi.json answered 404, not the OpenAPI document — body: (empty)"
        )]
    );
}
