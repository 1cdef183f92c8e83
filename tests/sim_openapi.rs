//! The simulator's `GET /openapi.json` in both profiles: served the way FastAPI serves it, and consistent
//! with the simulator itself — every answer validates against the schema its own document declares for
//! that operation and status, and the shipped probes' bodies meet (or, for the 422 probes, break) the
//! request schema exactly as each contract says.

mod sim_support;
mod support;

use oewsprobe::sim::{Profile, openapi_document};
use reqwest::Method;
use serde_json::{Value, json};
use sim_support::{CHARTS_QUERY, Sim, TRACES_QUERY};

/// A JSON pointer segment: `/` and `~` escaped.
fn pointer_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A validator for the schema `doc` declares for `method path` answering `status` (draft 2020-12, with
/// the document's `#/components/...` references resolved).
fn response_validator(
    doc: &Value,
    method: &Method,
    path: &str,
    status: u16,
) -> jsonschema::Validator {
    let pointer = format!(
        "/paths/{}/{}/responses/{status}/content/application~1json/schema",
        pointer_segment(path),
        method.as_str().to_lowercase()
    );
    assert!(
        doc.pointer(&pointer).is_some(),
        "the document declares {method} {path} → {status}"
    );
    let root = json!({"$ref": format!("#{pointer}"), "paths": doc["paths"], "components": doc["components"]});
    jsonschema::draft202012::new(&root).expect("the declared schema compiles")
}

/// Every violation of `body` as `PATH: MESSAGE`.
fn violations(validator: &jsonschema::Validator, body: &Value) -> Vec<String> {
    validator
        .iter_errors(body)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect()
}

const LONG_QUERY: &str = "Compare the wages of software developers in every city the OEWS data knows about, year by year, with charts for each, and explain every difference you find between them in detail, including the reasons you think may explain them, what the trends were in the past ten years, how the numbers compare with the national averages, which occupations are closest to software developers in pay, how the cost of living changes the picture, and what a developer moving between these cities should expect, with all sources and all the SQL you ran, please.";

/// (method, path, raw body, status) — the answers both profiles give the same status.
fn shared_cases() -> Vec<(Method, &'static str, Option<String>, u16)> {
    let query = |body: Value, status| {
        (
            Method::POST,
            "/api/v1/query",
            Some(body.to_string()),
            status,
        )
    };
    let raw = |body: &str| (Method::POST, "/api/v1/query", Some(body.to_owned()), 422);
    assert!(LONG_QUERY.chars().count() > 500);
    vec![
        (Method::GET, "/health", None, 200),
        (Method::GET, "/api/v1/models", None, 200),
        query(json!({"query": TRACES_QUERY, "enable_charts": false}), 200),
        query(json!({"query": CHARTS_QUERY, "enable_charts": true}), 200),
        query(json!({"query": CHARTS_QUERY}), 200),
        query(
            json!({"query": "What are the top 5 highest paying occupations?", "reasoning_model": "deepseek-r1", "enable_charts": false}),
            200,
        ),
        query(
            json!({"query": "Compare software developer salaries across top 10 tech cities with charts", "implementation_model": "gpt-4o", "enable_charts": true}),
            200,
        ),
        query(json!({"query": "ab"}), 422),
        query(json!({"query": LONG_QUERY}), 422),
        query(json!({"enable_charts": false}), 422),
        query(json!({"query": 5, "enable_charts": "maybe"}), 422),
        raw(r#"{"query": "What are software salaries?""#),
        raw("[1]"),
    ]
}

#[tokio::test]
async fn every_answer_validates_against_the_schema_its_own_document_declares() {
    let invalid_model =
        json!({"query": "What are software salaries?", "reasoning_model": "invalid-model"})
            .to_string();
    for (profile, extra) in [
        (
            Profile::Runbook,
            vec![
                (Method::GET, "/api/v1/health", None, 200),
                (
                    Method::POST,
                    "/api/v1/query",
                    Some(invalid_model.clone()),
                    422,
                ),
            ],
        ),
        (
            Profile::AsBuilt,
            vec![(
                Method::POST,
                "/api/v1/query",
                Some(invalid_model.clone()),
                200,
            )],
        ),
    ] {
        let sim = Sim::start_with(profile, Vec::new()).await;
        let doc = sim.get("/openapi.json").await.json();
        for (method, path, body, status) in shared_cases().into_iter().chain(extra) {
            let case = format!(
                "{profile}: {method} {path} {}",
                body.as_deref().unwrap_or("")
            );
            let reply = sim.send(method.clone(), path, body.as_deref()).await;
            assert_eq!(reply.status, status, "{case}: {}", reply.text);
            let validator = response_validator(&doc, &method, path, status);
            assert_eq!(
                violations(&validator, &reply.json()),
                Vec::<String>::new(),
                "{case}"
            );
        }
    }
}

#[tokio::test]
async fn the_check_catches_a_body_that_breaks_the_declared_schema() {
    let sim = Sim::start_with(Profile::AsBuilt, Vec::new()).await;
    let doc = sim.get("/openapi.json").await.json();
    let mut body = sim
        .query(json!({"query": TRACES_QUERY, "enable_charts": false}))
        .await
        .json();
    body["metadata"]["execution_time_ms"] = json!("fast");
    body["data_sources"][1]["row_count"] = json!(1.5);
    body["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("models_used");
    let validator = response_validator(&doc, &Method::POST, "/api/v1/query", 200);
    let paths: Vec<String> = validator
        .iter_errors(&body)
        .map(|error| error.instance_path().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "/data_sources/1/row_count",
            "/metadata",
            "/metadata/execution_time_ms"
        ]
    );

    let runbook = openapi_document(Profile::Runbook);
    let models = response_validator(&runbook, &Method::GET, "/api/v1/models", 200);
    let old_cost = json!({"models": {"gpt-4o": {"provider": "openai", "model_name": "gpt-4o",
        "role": "reasoning", "cost_per_1m_tokens": {"input": 2.5, "output": 10.0}}}});
    assert_eq!(
        models
            .iter_errors(&old_cost)
            .map(|error| error.instance_path().to_string())
            .collect::<Vec<_>>(),
        ["/models/gpt-4o/cost_per_1m_tokens"]
    );
}

#[tokio::test]
async fn shipped_probe_bodies_meet_each_contracts_request_schema_except_the_422_probes() {
    // (probe, valid against the runbook's QueryRequest, valid against the as-built one)
    const EXPECTED: [(&str, bool, bool); 6] = [
        ("override-implementation", true, true),
        ("override-reasoning", true, true),
        ("query-charts-trace", true, true),
        ("query-trace", true, true),
        ("reject-invalid-model", false, true),
        ("reject-short-query", false, false),
    ];
    let plan = support::plan("http://127.0.0.1:9", &support::shipped_probes());
    let with_bodies: Vec<&str> = plan
        .probes
        .iter()
        .filter(|probe| probe.request.json_body().is_some())
        .map(|probe| probe.name.as_str())
        .collect();
    let names: Vec<&str> = EXPECTED.iter().map(|(name, ..)| *name).collect();
    assert_eq!(with_bodies, names);
    let request_validator = |profile| {
        let doc = openapi_document(profile);
        let root =
            json!({"$ref": "#/components/schemas/QueryRequest", "components": doc["components"]});
        jsonschema::draft202012::new(&root).expect("QueryRequest compiles")
    };
    let (runbook, as_built) = (
        request_validator(Profile::Runbook),
        request_validator(Profile::AsBuilt),
    );
    for (name, runbook_valid, as_built_valid) in EXPECTED {
        let probe = plan
            .probes
            .iter()
            .find(|probe| probe.name == name)
            .expect("shipped probe");
        let body = probe.request.json_body().expect("JSON body");
        assert_eq!(
            (runbook.is_valid(body), as_built.is_valid(body)),
            (runbook_valid, as_built_valid),
            "{name}: {body}"
        );
    }
}

#[tokio::test]
async fn the_document_is_served_past_app_faults_but_not_past_the_proxy() {
    for profile in [Profile::Runbook, Profile::AsBuilt] {
        let faults = ["error500", "flaky=1", "invalid_json"]
            .map(|fault| fault.parse().expect("fault parses"))
            .to_vec();
        let sim = Sim::start_with(profile, faults).await;
        let reply = sim.get("/openapi.json").await;
        assert_eq!(reply.status, 200, "{profile}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.json(), openapi_document(profile), "{profile}");
        assert_eq!(
            sim.send(Method::HEAD, "/openapi.json", None).await.status,
            200
        );
        assert_eq!(
            sim.get("/health").await.status,
            500,
            "{profile}: app faults act"
        );

        sim.server
            .set_faults(vec!["bad_gateway".parse().expect("fault parses")]);
        let proxied = sim.get("/openapi.json").await;
        assert_eq!((proxied.status, proxied.text.as_str()), (502, ""));
        assert_eq!(
            sim.server.stats().requests.get("GET /openapi.json"),
            Some(&2),
            "{profile}: counted like any request"
        );
    }
}
