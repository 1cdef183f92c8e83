//! Tables for `[[expect.echo]]` (runbook Task 15) and `[expect.validation_error]` (Task 16): compile errors and
//! exact findings against runbook- and as-built-shaped responses.

use super::fixtures::{as_built, runbook, with_entry};
use super::{
    RawEcho, RawValidationError, check_echo, check_validation_error, compile_echo,
    compile_validation_error,
};
use crate::config::FieldError;
use serde_json::{Value, json};

/// Expected finding messages of one case.
type Messages = &'static [&'static str];
/// Expected compile errors of one case, as (key, message).
type Errors = &'static [(&'static str, &'static str)];

const REASONING: &str = "entry = \"planning\"\nfield = \"reasoning_model\"";
const IMPLEMENTATION: &str = "entry = \"chart_generation\"\nfield = \"implementation_model\"";

fn reasoning_request() -> Value {
    json!({"enable_charts": false, "query": "What are the top 5 highest paying occupations?", "reasoning_model": "deepseek-r1"})
}

fn implementation_request() -> Value {
    json!({"enable_charts": true, "implementation_model": "gpt-4o",
           "query": "Compare software developer salaries across top 10 tech cities with charts"})
}

fn echo_messages(toml_text: &str, request: &Value, body: &Value) -> Vec<String> {
    let raw: RawEcho = toml::from_str(toml_text).expect("valid echo table");
    let echo = compile_echo(&raw, Some(request)).expect("compiles");
    let mut findings = Vec::new();
    check_echo(&echo, body, &mut findings);
    assert!(findings.iter().all(|f| f.check == "echo"), "{findings:?}");
    findings.into_iter().map(|f| f.message).collect()
}

#[test]
fn echo_findings() {
    let cases: Vec<(&str, &str, Value, Value, Messages)> = vec![
        (
            "15a on runbook",
            REASONING,
            reasoning_request(),
            runbook(false),
            &[],
        ),
        (
            "15b on runbook",
            IMPLEMENTATION,
            implementation_request(),
            runbook(true),
            &[],
        ),
        (
            "15a on as-built: provider name instead of the key",
            REASONING,
            reasoning_request(),
            as_built(false),
            &[
                "data_sources[0].reasoning_model: expected \"deepseek-r1\" (sent as reasoning_model), got \"DeepSeek-R1-0528\" — override not echoed",
            ],
        ),
        (
            "15b on as-built: no implementation_model on the wire",
            IMPLEMENTATION,
            implementation_request(),
            as_built(true),
            &[
                "data_sources[3].implementation_model: expected \"gpt-4o\" (sent as implementation_model), got absent — override not echoed",
            ],
        ),
        (
            "no chart entry",
            IMPLEMENTATION,
            implementation_request(),
            as_built(false),
            &[
                "data_sources: expected an entry with type \"chart_generation\" to echo implementation_model, got none",
            ],
        ),
        (
            "no trace at all",
            REASONING,
            reasoning_request(),
            json!({"detail": "Not Found"}),
            &[
                "data_sources: expected an entry with type \"planning\" to echo reasoning_model, got none",
            ],
        ),
        (
            "null echo",
            REASONING,
            reasoning_request(),
            with_entry(runbook(false), 0, |e| e["reasoning_model"] = Value::Null),
            &[
                "data_sources[0].reasoning_model: expected \"deepseek-r1\" (sent as reasoning_model), got null — override not echoed",
            ],
        ),
        (
            "request_field differs from the entry field",
            "entry = \"planning\"\nfield = \"model\"\nrequest_field = \"reasoning_model\"",
            reasoning_request(),
            with_entry(runbook(false), 0, |e| {
                e.insert("model".into(), json!("deepseek-v3"));
            }),
            &[
                "data_sources[0].model: expected \"deepseek-r1\" (sent as reasoning_model), got \"deepseek-v3\" — override not echoed",
            ],
        ),
        (
            "numbers compare by value",
            "entry = \"planning\"\nfield = \"temperature\"",
            json!({"temperature": 1}),
            with_entry(runbook(false), 0, |e| {
                e.insert("temperature".into(), json!(1.0));
            }),
            &[],
        ),
    ];
    for (name, toml_text, request, body, want) in cases {
        assert_eq!(
            echo_messages(toml_text, &request, &body),
            want,
            "case: {name}"
        );
    }
}

#[test]
fn echo_compile_errors() {
    let cases: Vec<(&str, Option<Value>, Errors)> = vec![
        (
            "",
            Some(reasoning_request()),
            &[
                (
                    "entry",
                    "missing: name the trace entry type, e.g. entry = \"planning\"",
                ),
                (
                    "field",
                    "missing: name the entry's field, e.g. field = \"reasoning_model\"",
                ),
            ],
        ),
        (
            IMPLEMENTATION,
            Some(reasoning_request()),
            &[(
                "request_field",
                "the request body has no \"implementation_model\" to echo",
            )],
        ),
        (
            REASONING,
            None,
            &[(
                "request_field",
                "the request body has no \"reasoning_model\" to echo",
            )],
        ),
        (
            "entry = \"\"\nfield = \"reasoning_model\"\nrequest_field = \"\"",
            Some(reasoning_request()),
            &[
                ("entry", "must not be empty"),
                (
                    "request_field",
                    "must not be empty; leave it out to use field",
                ),
            ],
        ),
    ];
    for (toml_text, request, want) in cases {
        let raw: RawEcho = toml::from_str(toml_text).expect("valid echo table");
        let errors = compile_echo(&raw, request.as_ref()).expect_err(toml_text);
        let want: Vec<FieldError> = want.iter().map(|(k, m)| FieldError::new(*k, *m)).collect();
        assert_eq!(errors, want, "{toml_text:?}");
    }
}

/// FastAPI's 422 for `{"query": "ab"}` (keys in alphabetical order, as serde_json keeps them).
fn too_short() -> Value {
    json!({"detail": [{"ctx": {"min_length": 3}, "input": "ab", "loc": ["body", "query"],
                       "msg": "String should have at least 3 characters", "type": "string_too_short"}]})
}

#[test]
fn validation_error_findings() {
    let bad_model = json!({"detail": [{"loc": ["body", "reasoning_model"], "msg": "Input should be a known model"}]});
    let cases: Vec<(&str, &str, u16, Option<Value>, Messages)> = vec![
        ("16a as expected", "query", 422, Some(too_short()), &[]),
        ("16b runbook", "reasoning_model", 422, Some(bad_model), &[]),
        (
            "loc is case-insensitive",
            "Query",
            422,
            Some(too_short()),
            &[],
        ),
        (
            "16b as-built: accepted and ignored",
            "reasoning_model",
            200,
            Some(as_built(false)),
            &[
                "POST /api/v1/query: expected 422 (validation error naming \"reasoning_model\"), got 200 — the invalid value was accepted",
            ],
        ),
        (
            "server error",
            "reasoning_model",
            500,
            Some(json!({"detail": "An internal error occurred during query processing."})),
            &[
                "POST /api/v1/query: expected 422 (validation error naming \"reasoning_model\"), got 500",
            ],
        ),
        (
            "422 about another field",
            "reasoning_model",
            422,
            Some(too_short()),
            &[
                "detail: expected an error naming \"reasoning_model\", got [{\"ctx\":{\"min_length\":3},\"input\":\"ab\",\"loc\":[\"body\",\"query\"],\"msg\":\"String shoul…",
            ],
        ),
        (
            "string detail",
            "reasoning_model",
            422,
            Some(json!({"detail": "Unknown Reasoning_Model: invalid-model"})),
            &[],
        ),
        (
            "item msg",
            "reasoning_model",
            422,
            Some(
                json!({"detail": [{"loc": ["body"], "msg": "reasoning_model must be a registry key"}]}),
            ),
            &[],
        ),
        (
            "top-level msg",
            "reasoning_model",
            422,
            Some(json!({"msg": "bad reasoning_model"})),
            &[],
        ),
        (
            "detail object",
            "reasoning_model",
            422,
            Some(json!({"detail": {"loc": ["body", "reasoning_model"]}})),
            &[],
        ),
        (
            "no detail",
            "reasoning_model",
            422,
            Some(json!({"error": "invalid"})),
            &["detail: expected an error naming \"reasoning_model\", got absent"],
        ),
        (
            "not JSON",
            "reasoning_model",
            422,
            None,
            &["detail: expected an error naming \"reasoning_model\", got a body that is not JSON"],
        ),
    ];
    for (name, field, status, body, want) in cases {
        let raw = RawValidationError {
            field: Some(field.to_string()),
        };
        let expectation = compile_validation_error(&raw).expect("compiles");
        let mut findings = Vec::new();
        check_validation_error(
            &expectation,
            "POST /api/v1/query",
            status,
            body.as_ref(),
            &mut findings,
        );
        assert!(
            findings.iter().all(|f| f.check == "validation_error"),
            "{findings:?}"
        );
        let got: Vec<String> = findings.into_iter().map(|f| f.message).collect();
        assert_eq!(got, want, "case: {name}");
    }
}

#[test]
fn validation_error_compile_errors() {
    let cases: [(&str, &str); 2] = [
        (
            "",
            "missing: name the request field the error must name, e.g. field = \"reasoning_model\"",
        ),
        ("field = \"\"", "must not be empty"),
    ];
    for (toml_text, message) in cases {
        let raw: RawValidationError = toml::from_str(toml_text).expect("valid table");
        let errors = compile_validation_error(&raw).expect_err(toml_text);
        assert_eq!(
            errors,
            vec![FieldError::new("field", message)],
            "{toml_text:?}"
        );
    }
    assert!(toml::from_str::<RawValidationError>("fields = \"x\"").is_err());
}
