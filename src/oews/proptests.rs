//! Property tests: the OEWS checks and JSON assertions never panic, whatever JSON comes back — including traces
//! whose `step`, `agent` and `type` have the wrong types.

use super::{
    RawEcho, RawTrace, RawValidationError, check_echo, check_trace, check_validation_error,
    compile_echo, compile_trace, compile_validation_error,
};
use crate::assert::{JsonAssertion, RawJsonAssertion, compile};
use proptest::prelude::*;
use serde_json::{Map, Number, Value, json};

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "step",
            "agent",
            "type",
            "plan",
            "reasoning_model",
            "implementation_model",
            "sql",
            "row_count",
            "sample_data",
            "data_sources",
            "charts",
            "detail",
            "loc",
            "msg",
            "status",
            "models",
            "gpt-4o",
            "a b",
            "",
        ])
        .prop_map(str::to_string),
        "[a-z_]{1,6}",
        "\\PC{0,4}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-5i64..10).prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop::sample::select(vec![
            "planning",
            "oews_database",
            "chart_generation",
            "planner",
            "cortex",
            "query"
        ])
        .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A trace entry: usually an object whose step/agent/type (and a few fields) hold values of random types.
fn entry() -> impl Strategy<Value = Value> {
    let fields = (
        leaf(),
        leaf(),
        leaf(),
        prop::collection::vec((key(), arb_json()), 0..4),
    );
    prop_oneof![
        4 => fields.prop_map(|(step, agent, entry_type, rest)| {
            let mut map: Map<String, Value> = rest.into_iter().collect();
            map.insert("step".into(), step);
            map.insert("agent".into(), agent);
            map.insert("type".into(), entry_type);
            Value::Object(map)
        }),
        1 => arb_json(),
    ]
}

fn body() -> impl Strategy<Value = Value> {
    prop_oneof![
        arb_json(),
        (prop::collection::vec(entry(), 0..8), arb_json(), arb_json()).prop_map(
            |(entries, charts, detail)| {
                json!({"data_sources": entries, "charts": charts, "detail": detail})
            }
        ),
    ]
}

fn assertions() -> Vec<JsonAssertion> {
    let tables = [
        "path = '$'\ntype = 'object'\nnon_empty = true",
        "path = '$.data_sources[*].agent'\nequals = 'planner'\nmatches = '^p'",
        "path = '$.data_sources[-1].step'\nexists = true\ntype = 'integer'\nmin_length = 1",
        "path = '$.data_sources[?(@.type == \"planning\")].plan'\nnon_empty = true\nmax_length = 3",
        "path = '$.data_sources[?(@.step != 1)][\"a b\"]'\none_of = [1, 'x', {a = [true]}]",
        "path = '$.detail[0].loc[*]'\nnot_equals = 'query'\nlength = 2",
        "path = '$.models[*]'\nexists = false",
        "path = '$[*][*][*]'\ntype = 'string'",
    ];
    tables
        .iter()
        .map(|t| {
            let raw: RawJsonAssertion = toml::from_str(t).expect("valid assertion table");
            compile(&raw).expect("assertion compiles")
        })
        .collect()
}

proptest! {
    #[test]
    fn checks_never_panic(body in body(), request in arb_json(), status in prop_oneof![Just(422u16), any::<u16>()]) {
        let mut findings = Vec::new();
        for charts in [None, Some(true), Some(false)] {
            let raw: RawTrace = toml::from_str(
                "[[entries]]\ntype = 'planning'\nagent = 'planner'\n[[entries]]\ntype = 'oews_database'\n\
                 [[entries]]\ntype = 'web_search'\nfields = ['a b', 'step']",
            ).expect("valid trace table");
            let raw = RawTrace { charts, ..raw };
            if let Ok(trace) = compile_trace(&raw, Some(&request)) {
                check_trace(&trace, &body, &mut findings);
            }
        }
        for (entry, field) in [("planning", "reasoning_model"), ("chart_generation", "implementation_model")] {
            let raw = RawEcho { entry: Some(entry.into()), field: Some(field.into()), request_field: Some("sent".into()) };
            let request = json!({"sent": request.clone()});
            let echo = compile_echo(&raw, Some(&request)).expect("the request holds the sent value");
            check_echo(&echo, &body, &mut findings);
        }
        let raw = RawValidationError { field: Some("reasoning_model".into()) };
        let validation = compile_validation_error(&raw).expect("compiles");
        check_validation_error(&validation, "POST /q", status, Some(&body), &mut findings);
        check_validation_error(&validation, "POST /q", status, None, &mut findings);
        for assertion in assertions() {
            assertion.evaluate(&body, &mut findings);
        }
        for finding in &findings {
            prop_assert!(finding.message.contains(": expected "), "{}", finding.message);
        }
    }
}
