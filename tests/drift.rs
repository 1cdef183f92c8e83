//! `oewsprobe drift` against real simulators and small servers on loopback: the as-built simulator's
//! document names each difference the shipped probes run into (exact table and JSON), the runbook's names
//! none, and a target without a usable document exits 2 with the reason.

mod support;

use std::process::Output;
use support::process::{BIN, SimProcess};
use support::servers::{free_port, raw_server};

async fn drift(target: &str, extra: &[&str]) -> Output {
    tokio::process::Command::new(BIN)
        .args(["drift", "--target", target])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("OEWSPROBE_TARGET")
        .output()
        .await
        .expect("run oewsprobe drift")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn the_as_built_document_names_each_difference_and_exits_1() {
    let sim = SimProcess::start(&["--profile", "as-built"]);
    let out = drift(&sim.url, &[]).await;
    assert_eq!(text(&out.stderr), "");
    assert_eq!(
        text(&out.stdout),
        format!(
            "oewsprobe drift: {} — OEWS Data Agent API 1.0.0 (OpenAPI 3.1.0)\n\
             health\n    \
             - path-not-served #/paths: GET /api/v1/health is not served; the service's document lists GET /health\n\
             override-implementation\n    \
             - response-field-undeclared #/components/schemas/DataSource/properties: DataSource has no implementation_model, so the override echo can never pass\n\
             query-charts-trace\n    \
             - response-field-undeclared #/components/schemas/DataSource/properties: DataSource has no implementation_model, so the trace check can never pass\n\
             reject-invalid-model\n    \
             - constraint-missing #/components/schemas/QueryRequest/properties/reasoning_model: reasoning_model is a plain string with no enum, so \"invalid-model\" will be accepted and the 422 probe cannot pass\n\
             4 findings in 4 of 8 probes: DRIFT\n",
            sim.url
        )
    );
    assert_eq!(out.status.code(), Some(1));

    let out = drift(&sim.url, &["--format", "json"]).await;
    assert_eq!(out.status.code(), Some(1));
    let expected = r##"[
  {
    "check": "path-not-served",
    "probe": "health",
    "path": "#/paths",
    "expected": "GET /api/v1/health",
    "actual": "GET /health",
    "message": "GET /api/v1/health is not served; the service's document lists GET /health"
  },
  {
    "check": "response-field-undeclared",
    "probe": "override-implementation",
    "path": "#/components/schemas/DataSource/properties",
    "expected": "data_sources[*].implementation_model",
    "actual": "absent from DataSource",
    "message": "DataSource has no implementation_model, so the override echo can never pass"
  },
  {
    "check": "response-field-undeclared",
    "probe": "query-charts-trace",
    "path": "#/components/schemas/DataSource/properties",
    "expected": "data_sources[*].implementation_model",
    "actual": "absent from DataSource",
    "message": "DataSource has no implementation_model, so the trace check can never pass"
  },
  {
    "check": "constraint-missing",
    "probe": "reject-invalid-model",
    "path": "#/components/schemas/QueryRequest/properties/reasoning_model",
    "expected": "a constraint rejecting reasoning_model \"invalid-model\"",
    "actual": "string or null, no enum",
    "message": "reasoning_model is a plain string with no enum, so \"invalid-model\" will be accepted and the 422 probe cannot pass"
  }
]
"##;
    assert_eq!(text(&out.stdout), expected);
}

#[tokio::test]
async fn the_runbook_document_agrees_with_every_probe_and_exits_0() {
    let sim = SimProcess::start(&["--profile", "runbook"]);
    let out = drift(&sim.url, &[]).await;
    assert_eq!(
        text(&out.stdout),
        format!(
            "oewsprobe drift: {} — OEWS Data Agent API 1.0.0 (OpenAPI 3.1.0)\n\
             0 findings in 0 of 8 probes: OK\n",
            sim.url
        )
    );
    assert_eq!(out.status.code(), Some(0));
    let out = drift(&sim.url, &["--format", "json"]).await;
    assert_eq!(
        (text(&out.stdout), out.status.code()),
        ("[]\n".into(), Some(0))
    );
}

fn http(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn a_target_without_a_usable_document_exits_2_with_the_reason() {
    let closed = format!("http://127.0.0.1:{}", free_port());
    let not_found = raw_server(http(
        "404 Not Found",
        "application/json",
        r#"{"detail":"Not Found"}"#,
    ))
    .await;
    let html = raw_server(http(
        "200 OK",
        "text/html",
        "<!doctype html><title>hi</title>",
    ))
    .await;
    let swagger = raw_server(http(
        "200 OK",
        "application/json",
        r#"{"swagger":"2.0","paths":{}}"#,
    ))
    .await;
    let old = raw_server(http(
        "200 OK",
        "application/json",
        r#"{"openapi":"2.0","paths":{}}"#,
    ))
    .await;
    let cases = [
        (
            closed.clone(),
            format!(
                "oewsprobe drift: cannot fetch {closed}/openapi.json: connect_refused — nothing listens at the target address\n"
            ),
        ),
        (
            format!("http://{not_found}"),
            format!(
                "oewsprobe drift: http://{not_found}/openapi.json answered 404, not the OpenAPI document — body: {{\"detail\":\"Not Found\"}}\n"
            ),
        ),
        (
            format!("http://{html}"),
            format!(
                "oewsprobe drift: http://{html}/openapi.json is not JSON (expected value at line 1 column 1)\n"
            ),
        ),
        (
            format!("http://{swagger}"),
            format!(
                "oewsprobe drift: http://{swagger}/openapi.json is not an OpenAPI 3.x document (no \"openapi\" version)\n"
            ),
        ),
        (
            format!("http://{old}"),
            format!(
                "oewsprobe drift: http://{old}/openapi.json is not an OpenAPI 3.x document (its \"openapi\" is \"2.0\")\n"
            ),
        ),
    ];
    for (target, message) in cases {
        let out = drift(&target, &[]).await;
        assert_eq!(
            (text(&out.stderr), text(&out.stdout), out.status.code()),
            (message, String::new(), Some(2)),
            "{target}"
        );
    }
}
