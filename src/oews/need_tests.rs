//! Tables for what each OEWS check reads of a body (its `Need`), and that the checks give the same findings on
//! a body parsed with only that need as on the full body.

use super::fixtures::{as_built, runbook};
use super::{
    RawEcho, RawTrace, RawValidationError, check_echo, check_trace, check_validation_error,
    compile_echo, compile_trace, compile_validation_error,
};
use crate::assert::{Need, parse_pruned};
use crate::probe::Finding;
use serde_json::{Value, json};

fn key(k: &str, need: Need) -> Need {
    Need::key(k, need)
}

/// `data_sources` whole unless an array; of each entry `step`, `agent`, `type` whole, `fields` present, and the
/// entry whole unless an object.
fn data_sources(fields: &[&str]) -> Need {
    let entry = Need::union(
        (["step", "agent", "type"]
            .map(|k| key(k, Need::All))
            .into_iter())
        .chain(fields.iter().map(|f| key(f, Need::Presence)))
        .chain([Need::elements(Need::All)]),
    );
    key(
        "data_sources",
        Need::values(Need::All).merge(Need::elements(entry)),
    )
}

/// `charts` whole unless an array; of an array only its elements' presence.
fn charts() -> Need {
    key(
        "charts",
        Need::values(Need::All).merge(Need::elements(Need::Presence)),
    )
}

fn trace(toml_text: &str, request: &Value) -> super::TraceExpectation {
    let raw: RawTrace = toml::from_str(toml_text).expect("valid trace table");
    compile_trace(&raw, Some(request)).expect("compiles")
}

#[test]
fn the_trace_check_reads_the_entries_shape_their_required_fields_and_charts() {
    let no_charts = json!({"enable_charts": false});
    let with_charts = json!({"enable_charts": true});
    let cases: Vec<(&str, &Value, Need)> = vec![
        ("", &no_charts, data_sources(&[])),
        (
            "[[entries]]\ntype = 'planning'\nagent = 'planner'",
            &no_charts,
            data_sources(&["plan", "reasoning_model"]),
        ),
        (
            "[[entries]]\ntype = 'oews_database'",
            &no_charts,
            data_sources(&["sql", "row_count", "sample_data"]),
        ),
        (
            // The implied chart_generation entry has no fields.
            "",
            &with_charts,
            data_sources(&[]).merge(charts()),
        ),
        (
            "[[entries]]\ntype = 'chart_generation'",
            &with_charts,
            data_sources(&["implementation_model"]).merge(charts()),
        ),
        (
            // A required field that is also read whole stays whole.
            "charts = false\n[[entries]]\ntype = 'x'\nfields = ['step', 'a b']",
            &with_charts,
            data_sources(&["a b"]),
        ),
    ];
    for (table, request, want) in cases {
        assert_eq!(trace(table, request).need(), want, "{table}");
    }
}

#[test]
fn the_echo_check_reads_each_entrys_type_and_the_echoed_field() {
    let raw = RawEcho {
        entry: Some("planning".into()),
        field: Some("reasoning_model".into()),
        request_field: None,
    };
    let echo = compile_echo(&raw, Some(&json!({"reasoning_model": "x"}))).expect("compiles");
    let entry = key("type", Need::All).merge(key("reasoning_model", Need::All));
    assert_eq!(echo.need(), key("data_sources", Need::elements(entry)));
}

#[test]
fn the_validation_error_check_reads_detail_and_msg() {
    let raw = RawValidationError {
        field: Some("reasoning_model".into()),
    };
    let validation = compile_validation_error(&raw).expect("compiles");
    assert_eq!(
        validation.need(),
        key("detail", Need::All).merge(key("msg", Need::All))
    );
}

/// Runs one check on the full body and on the body pruned to `need`.
fn both(body: &Value, need: &Need, check: impl Fn(&Value, &mut Vec<Finding>)) {
    let text = serde_json::to_vec(body).expect("serializes");
    let pruned = parse_pruned(&text, need).expect("valid JSON");
    let (mut full_findings, mut pruned_findings) = (Vec::new(), Vec::new());
    check(body, &mut full_findings);
    check(&pruned, &mut pruned_findings);
    assert_eq!(pruned_findings, full_findings, "{body}");
}

#[test]
fn the_checks_find_the_same_on_pruned_fixtures() {
    let request = json!({"enable_charts": true, "reasoning_model": "deepseek-r1"});
    let bodies = [
        runbook(true),
        runbook(false),
        as_built(true),
        as_built(false),
        json!({"data_sources": {"a": [1, 2]}, "charts": "none"}),
        json!({"data_sources": [[1, 2], "x", {"step": "1", "type": 3}], "charts": {"a": 1}}),
        json!({"detail": [{"loc": ["body", "reasoning_model"], "msg": "bad"}], "msg": "x"}),
        json!({"detail": {"loc": ["body", "query"], "msg": "bad"}}),
        json!([1, 2]),
    ];
    let tables = [
        "",
        "[[entries]]\ntype = 'planning'\nagent = 'planner'\n[[entries]]\ntype = 'oews_database'",
        "charts = true\n[[entries]]\ntype = 'chart_generation'\nagent = 'chart_generator'",
    ];
    let raw_echo = RawEcho {
        entry: Some("planning".into()),
        field: Some("reasoning_model".into()),
        request_field: None,
    };
    let echo = compile_echo(&raw_echo, Some(&request)).expect("compiles");
    let raw_validation = RawValidationError {
        field: Some("reasoning_model".into()),
    };
    let validation = compile_validation_error(&raw_validation).expect("compiles");
    for body in &bodies {
        for table in tables {
            let expectation = trace(table, &request);
            both(body, &expectation.need(), |b, f| {
                check_trace(&expectation, b, f)
            });
        }
        both(body, &echo.need(), |b, f| check_echo(&echo, b, f));
        both(body, &validation.need(), |b, f| {
            check_validation_error(&validation, "POST /api/v1/query", 422, Some(b), f)
        });
    }
}
