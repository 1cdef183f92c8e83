//! The response validator never panics: random bytes and random JSON through every shipped probe's checks.

mod support;

use oewsprobe::probe::{Asked, Caller, HttpResponse, evaluate};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::time::Duration;

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("planning"),
            Just("oews_database"),
            Just("chart_generation"),
            Just("planner")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("data_sources".to_string()),
                    Just("step".to_string()),
                    Just("type".to_string()),
                    Just("agent".to_string()),
                    Just("charts".to_string()),
                    Just("detail".to_string()),
                    Just("loc".to_string()),
                    Just("models".to_string()),
                    Just("status".to_string()),
                    ".{0,6}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Bodies shaped like query responses, with random entries in `data_sources`.
fn trace_like() -> impl Strategy<Value = Value> {
    (prop::collection::vec(any_json(), 0..6), any_json()).prop_map(
        |(entries, charts)| json!({"answer": "x", "charts": charts, "data_sources": entries}),
    )
}

fn check_all(status: u16, body: Vec<u8>) {
    let plan = support::plan("http://127.0.0.1:9", &support::shipped_probes());
    for probe in &plan.probes {
        let response = HttpResponse {
            status,
            retry_after: None,
            body: body.clone(),
            over_cap: false,
        };
        let asked = Asked {
            request: "POST /api/v1/query",
            caller: Caller::OneShot,
        };
        let evaluation = evaluate(
            &probe.expect,
            asked,
            &Ok(response),
            Duration::from_millis(5),
        );
        for finding in &evaluation.findings {
            assert!(!finding.message.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(status in prop_oneof![Just(200u16), Just(422u16), 100u16..600], body in prop::collection::vec(any::<u8>(), 0..512)) {
        check_all(status, body);
    }

    #[test]
    fn random_json_never_panics(status in prop_oneof![Just(200u16), Just(422u16)], body in any_json()) {
        check_all(status, serde_json::to_vec(&body).expect("serializes"));
    }

    #[test]
    fn random_traces_never_panic(body in trace_like()) {
        check_all(200, serde_json::to_vec(&body).expect("serializes"));
    }
}
