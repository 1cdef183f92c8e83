//! The pruned parse changes nothing: for random JSON bodies (trace-shaped, realistic, truncated and corrupted
//! ones too), `evaluate` — which parses only what the checks read — gives exactly the `Evaluation` of
//! `evaluate_full`, for every shipped probe and for extra probes covering every selector step and operator.

mod support;

use oewsprobe::config::Plan;
use oewsprobe::probe::{Asked, Caller, Evaluation, HttpResponse, evaluate, evaluate_full};
use proptest::prelude::*;
use serde_json::{Map, Number, Value, json};
use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

/// One `[[expect.json]]` table per extra probe, so that each selector's need is compared on its own (a `$`
/// assertion next to it would read everything); the combined probes below merge needs.
const ASSERTIONS: &[&str] = &[
    "path = '$'\ntype = 'object'",
    "path = '$.status'\nequals = 'healthy'",
    "path = '$.status'\nnot_equals = 'healthy'\ntype = 'string'",
    "path = '$.models'\ntype = 'object'\nnon_empty = true",
    "path = '$.models.gpt-4o'\nexists = true",
    "path = '$.models[\"a b\"]'\nexists = false",
    "path = '$.models[*]'\nexists = true",
    "path = '$.models[*]'\nexists = false",
    "path = '$.data_sources'\nlength = 3",
    "path = '$.data_sources'\nmin_length = 1\nmax_length = 4",
    "path = '$.data_sources[0].step'\nequals = 1",
    "path = '$.data_sources[-1].type'\none_of = ['synthesis', 'chart_generation', 1, {a = [true]}]",
    "path = '$.data_sources[-7]'\nexists = true",
    "path = '$.data_sources[2]'\ntype = 'object'",
    "path = '$.data_sources[*].agent'\nmatches = '^p'",
    "path = '$.data_sources[*].step'\ntype = 'integer'",
    "path = '$.data_sources[*].sample_data'\nexists = true",
    "path = '$.data_sources[?(@.type == \"planning\")].plan'\nnon_empty = true",
    "path = '$.data_sources[?(@.type == \"planning\")].plan'\nexists = true",
    "path = '$.data_sources[?(@.step != 1)][\"a b\"]'\nnot_equals = 'x'",
    "path = '$.data_sources[?(@.sample_data[0].A == 1)].sql'\ntype = 'string'",
    "path = '$.data_sources[?(@[\"a b\"][-1] == null)]'\nlength = 2",
    "path = '$.data_sources[?(@ == 1)]'\nexists = true",
    "path = '$.data_sources[?(@.type != \"planning\")].agent'\nexists = false",
    "path = '$.detail[0].loc[*]'\nnot_equals = 'query'\nmax_length = 6",
    "path = '$.detail[*].msg'\nmatches = 'field'",
    "path = '$[*][*].step'\ntype = 'integer'",
    "path = '$[*][*][*]'\ntype = 'string'",
    "path = '$[0]'\nexists = true",
    "path = '$.charts[*]'\nexists = true",
    "path = '$.charts[0].type'\nequals = 'bar'",
    "path = '$.charts'\nlength = 0",
    "path = '$.answer'\nmatches = '^Software'\nmin_length = 1",
    "path = '$.answer'\ntype = 'null'",
    "path = '$.metadata.execution_time_ms'\ntype = 'number'\nequals = 25000.0",
    "path = '$.metadata.models_used[*]'\none_of = ['deepseek-r1', 'deepseek-v3']",
];

/// Extra probes with several checks whose needs merge: (file stem, request body, `[expect]` tables).
const COMBINED: &[(&str, &str, &str)] = &[
    (
        "trace-fields",
        "{ query = 'q', enable_charts = false }",
        "[expect.trace]\n[[expect.trace.entries]]\ntype = 'planning'\nfields = ['plan', 'a b', 'step']\n\
         [[expect.trace.entries]]\ntype = 'oews_database'\nagent = 'cortex'\n\
         [[expect.json]]\npath = '$.data_sources[*].plan'\nexists = true",
    ),
    (
        "trace-charts-echo",
        "{ query = 'q', enable_charts = true, reasoning_model = 'deepseek-r1', implementation_model = 'gpt-4o' }",
        "[expect.trace]\n[[expect.echo]]\nentry = 'planning'\nfield = 'reasoning_model'\n\
         [[expect.echo]]\nentry = 'chart_generation'\nfield = 'implementation_model'\n\
         [[expect.json]]\npath = '$.charts[0]'\nexists = true\n\
         [[expect.json]]\npath = '$.data_sources[?(@.type == \"oews_database\")].sample_data[-1]'\ntype = 'object'",
    ),
    (
        "echo-other-field",
        "{ query = 'q', sent = [1, 2] }",
        "[[expect.echo]]\nentry = 'oews_database'\nfield = 'sample_data'\nrequest_field = 'sent'\n\
         [[expect.json]]\npath = '$.detail'\nexists = true",
    ),
    (
        "validation",
        "{ query = 'q', reasoning_model = 'x' }",
        "status = [200, 422]\n[expect.validation_error]\nfield = 'reasoning_model'\n\
         [[expect.json]]\npath = '$.detail[*].loc'\nexists = true",
    ),
];

fn write_probe(dir: &Path, name: &str, request_body: Option<&str>, expect: &str) {
    let (method, body) = match request_body {
        Some(body) => ("POST", format!("body = {body}\n")),
        None => ("GET", String::new()),
    };
    let text = format!(
        "queries = 0\n[request]\nmethod = '{method}'\npath = '/x'\n{body}\n[expect]\n{expect}\n"
    );
    std::fs::write(dir.join(format!("{name}.toml")), text).expect("write probe");
}

/// Every shipped probe and every extra probe, compiled as `check` compiles them.
static PLANS: LazyLock<Vec<Plan>> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, table) in ASSERTIONS.iter().enumerate() {
        let expect = format!("status = '2xx'\n[[expect.json]]\n{table}");
        write_probe(dir.path(), &format!("json-{i:02}"), None, &expect);
    }
    for (name, body, expect) in COMBINED {
        write_probe(dir.path(), name, Some(body), expect);
    }
    let target = "http://127.0.0.1:9";
    let plans = vec![
        support::plan(target, &support::shipped_probes()),
        support::plan(target, dir.path()),
    ];
    assert_eq!(plans[1].probes.len(), ASSERTIONS.len() + COMBINED.len());
    plans
});

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(vec![
            "data_sources", "step", "agent", "type", "charts", "detail", "loc", "msg", "models", "status",
            "answer", "plan", "sql", "row_count", "sample_data", "reasoning_model", "implementation_model",
            "gpt-4o", "a b", "A", "metadata", "models_used", "execution_time_ms", "",
        ])
        .prop_map(str::to_string),
        2 => "\\PC{0,6}",
        1 => Just("$serde_json::private::RawValue".to_string()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-3i64..8).prop_map(Value::from),
        (-3i64..8).prop_map(|n| json!(n as f64)),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop::sample::select(vec![
            "planning",
            "oews_database",
            "chart_generation",
            "synthesis",
            "planner",
            "cortex",
            "chart_generator",
            "healthy",
            "query",
            "reasoning_model",
            "deepseek-r1",
            "gpt-4o",
            "Software developers",
            "bar",
            "x",
            "field reasoning_model is invalid",
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

/// A trace entry: usually an object with step/agent/type (of random types) and some of the fields checks read.
fn entry() -> impl Strategy<Value = Value> {
    let fields = (
        prop_oneof![3 => (1i64..5).prop_map(Value::from), 1 => leaf()],
        leaf(),
        leaf(),
        prop::collection::vec((key(), arb_json()), 0..4),
    );
    prop_oneof![
        5 => fields.prop_map(|(step, agent, entry_type, rest)| {
            let mut map: Map<String, Value> = rest.into_iter().collect();
            map.insert("step".into(), step);
            map.insert("agent".into(), agent);
            map.insert("type".into(), entry_type);
            Value::Object(map)
        }),
        1 => arb_json(),
    ]
}

fn trace_like() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(entry(), 0..6),
        prop_oneof![arb_json(), prop::collection::vec(arb_json(), 0..3).prop_map(Value::Array)],
        arb_json(),
        arb_json(),
    )
        .prop_map(|(entries, charts, detail, answer)| {
            json!({"answer": answer, "charts": charts, "data_sources": entries, "detail": detail})
        })
}

/// Realistic bodies: the simulator's query responses, a health and a models answer, FastAPI 422s.
fn realistic() -> impl Strategy<Value = Value> {
    prop_oneof![
        (any::<bool>(), 0usize..4).prop_map(|(charts, rows)| {
            oewsprobe::sim::sample_query_response("Compare software salaries", charts, rows)
        }),
        Just(json!({"status": "healthy"})),
        Just(json!({"models": {"gpt-4o": {}, "deepseek-v3": {"a": 1}, "deepseek-r1": null}})),
        Just(json!({"detail": [{"loc": ["body", "reasoning_model"], "msg": "bad", "type": "x"}]})),
        Just(json!({"detail": "reasoning_model is not a model"})),
    ]
}

fn any_body() -> impl Strategy<Value = Vec<u8>> {
    let json = prop_oneof![arb_json(), trace_like(), realistic()];
    let bytes = json.prop_map(|v| serde_json::to_vec(&v).expect("serializes"));
    // Valid JSON mostly; else cut short, or one byte replaced (often still valid, often not).
    (bytes, 0u8..10, any::<prop::sample::Index>(), any::<u8>()).prop_map(
        |(mut bytes, mutation, at, byte)| {
            if !bytes.is_empty() {
                let at = at.index(bytes.len());
                match mutation {
                    0 => bytes.truncate(at),
                    1 => bytes[at] = byte,
                    2 => {
                        let syntax = b"[]{}\",:0-e.\\ ";
                        bytes[at] = syntax[usize::from(byte) % syntax.len()];
                    }
                    _ => {}
                }
            }
            bytes
        },
    )
}

fn judge(status: u16, body: &[u8]) -> Vec<(String, Evaluation, Evaluation)> {
    let outcome = Ok(HttpResponse {
        status,
        retry_after: None,
        body: body.to_vec(),
        over_cap: false,
    });
    let latency = Duration::from_millis(5);
    (PLANS.iter().flat_map(|plan| &plan.probes))
        .map(|probe| {
            let asked = Asked {
                request: "POST /api/v1/query",
                caller: Caller::OneShot,
            };
            let pruned = evaluate(&probe.expect, asked, &outcome, latency);
            let full = evaluate_full(&probe.expect, asked, &outcome, latency);
            (probe.name.clone(), pruned, full)
        })
        .collect()
}

fn assert_same(status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    for (probe, pruned, full) in judge(status, body) {
        prop_assert_eq!(
            &pruned,
            &full,
            "probe {} on {}",
            probe,
            String::from_utf8_lossy(body)
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn pruned_and_full_parses_judge_alike(status in prop_oneof![Just(200u16), Just(422u16)], body in any_body()) {
        assert_same(status, &body)?;
    }

    #[test]
    fn random_bytes_judge_alike(body in prop::collection::vec(any::<u8>(), 0..64)) {
        assert_same(200, &body)?;
    }
}

/// The comparison has teeth: the probes judge a realistic body differently, and malformed JSON where no check
/// looks is still invalid JSON for every probe that parses the body.
#[test]
fn the_extra_probes_pass_and_fail_and_malformed_parts_stay_invalid() {
    let body = serde_json::to_vec(&oewsprobe::sim::sample_query_response("q", true, 3))
        .expect("serializes");
    let results = judge(200, &body);
    assert!(results.iter().any(|(_, e, _)| e.findings.is_empty()));
    assert!(results.iter().any(|(_, e, _)| !e.findings.is_empty()));
    let malformed = br#"{"status": "healthy", "unread": [1, 2}"#;
    let parsing: Vec<&str> = (PLANS.iter().flat_map(|plan| &plan.probes))
        .filter(|p| p.expect.status.matches(200) && p.expect.needs_json())
        .map(|p| p.name.as_str())
        .collect();
    assert!(parsing.len() > ASSERTIONS.len());
    for (probe, pruned, full) in judge(200, malformed) {
        assert_eq!(pruned, full, "{probe}");
        if !parsing.contains(&probe.as_str()) {
            continue;
        }
        assert_eq!(pruned.findings.len(), 1, "{probe}");
        let finding = &pruned.findings[0];
        assert_eq!(finding.check, "body", "{probe}");
        assert!(
            finding
                .message
                .contains("invalid JSON (expected `,` or `]` at line 1 column 38)"),
            "{probe}: {}",
            finding.message
        );
    }
}
