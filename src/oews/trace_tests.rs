//! Tables for `[expect.trace]`: compile errors and the exact findings against runbook- and as-built-shaped bodies.

use super::fixtures::{as_built, runbook, with_entry, with_key};
use super::{RawTrace, TraceExpectation, check_trace, compile_trace};
use crate::config::FieldError;
use serde_json::{Value, json};

/// Expected finding messages of one case.
type Messages = &'static [&'static str];

/// Runbook Task 13: planner/planning and cortex/oews_database with their default fields.
const RUNBOOK_TRACES: &str = r#"
[[entries]]
type = "planning"
agent = "planner"
[[entries]]
type = "oews_database"
agent = "cortex"
"#;

/// Runbook Task 14: also chart_generator/chart_generation (implementation_model); charts from the request.
const RUNBOOK_CHARTS: &str = r#"
[[entries]]
type = "planning"
agent = "planner"
[[entries]]
type = "oews_database"
agent = "cortex"
[[entries]]
type = "chart_generation"
agent = "chart_generator"
"#;

/// What the as-built service satisfies, without charts.
const AS_BUILT_TRACES: &str = r#"
[[entries]]
type = "planning"
[[entries]]
type = "oews_database"
agent = "cortex_researcher"
"#;

/// What the as-built service satisfies, with charts.
const AS_BUILT_CHARTS: &str = r#"
charts = true
[[entries]]
type = "planning"
[[entries]]
type = "oews_database"
agent = "cortex_researcher"
[[entries]]
type = "chart_generation"
fields = []
"#;

fn raw(toml_text: &str) -> RawTrace {
    toml::from_str(toml_text).unwrap_or_else(|e| panic!("{toml_text:?} should deserialize: {e}"))
}

fn compile(toml_text: &str, request: Option<&Value>) -> TraceExpectation {
    compile_trace(&raw(toml_text), request)
        .unwrap_or_else(|e| panic!("{toml_text:?} should compile: {e:?}"))
}

fn messages(toml_text: &str, request: Option<Value>, body: &Value) -> Vec<String> {
    let mut findings = Vec::new();
    check_trace(&compile(toml_text, request.as_ref()), body, &mut findings);
    assert!(findings.iter().all(|f| f.check == "trace"), "{findings:?}");
    findings.into_iter().map(|f| f.message).collect()
}

fn charts_request() -> Option<Value> {
    Some(
        json!({"enable_charts": true, "query": "Compare software developer salaries in Seattle vs San Francisco with charts"}),
    )
}

fn no_charts_request() -> Option<Value> {
    Some(
        json!({"enable_charts": false, "query": "What is the average software developer salary in Seattle?"}),
    )
}

/// The as-built body without charts, minus its database entry, steps renumbered: the SQL layer failed silently.
fn without_database() -> Value {
    let mut body = as_built(false);
    if let Some(entries) = body["data_sources"].as_array_mut() {
        entries.remove(1);
        entries[1]["step"] = json!(2);
    }
    body
}

#[test]
fn runbook_and_as_built_bodies() {
    let cases: Vec<(&str, &str, Option<Value>, Value, Messages)> = vec![
        (
            "runbook 13 on runbook",
            RUNBOOK_TRACES,
            no_charts_request(),
            runbook(false),
            &[],
        ),
        (
            "runbook 14 on runbook",
            RUNBOOK_CHARTS,
            charts_request(),
            runbook(true),
            &[],
        ),
        (
            "as-built expectations on as-built",
            AS_BUILT_CHARTS,
            None,
            as_built(true),
            &[],
        ),
        (
            "runbook 13 on as-built",
            RUNBOOK_TRACES,
            no_charts_request(),
            as_built(false),
            &["data_sources[1].agent: expected \"cortex\", got \"cortex_researcher\""],
        ),
        (
            "runbook 14 on as-built",
            RUNBOOK_CHARTS,
            charts_request(),
            as_built(true),
            &[
                "data_sources[1].agent: expected \"cortex\", got \"cortex_researcher\"",
                "data_sources[3].implementation_model: expected present, got absent",
            ],
        ),
        (
            "silent SQL failure",
            RUNBOOK_TRACES,
            no_charts_request(),
            without_database(),
            &[
                "data_sources: expected an entry with type \"oews_database\", got none (types present: planning, synthesis)",
            ],
        ),
        (
            "charts asked for, none produced",
            RUNBOOK_TRACES,
            charts_request(),
            as_built(false),
            &[
                "charts: expected a non-empty array, got []",
                "data_sources[1].agent: expected \"cortex\", got \"cortex_researcher\"",
                "data_sources: expected an entry with type \"chart_generation\", got none (types present: planning, oews_database, synthesis)",
            ],
        ),
        (
            "charts missing altogether",
            "charts = true",
            None,
            with_key(runbook(true), "charts", None),
            &["charts: expected a non-empty array, got absent"],
        ),
        (
            "no entries listed, shape only",
            "",
            None,
            as_built(true),
            &[],
        ),
        (
            "charts = false overrides the request",
            "charts = false",
            charts_request(),
            as_built(false),
            &[],
        ),
        (
            "database entry with no rows is fine",
            RUNBOOK_CHARTS,
            None,
            with_entry(runbook(true), 1, |e| {
                e.insert("row_count".into(), json!(0));
                e.insert("sample_data".into(), json!([]));
            }),
            &[],
        ),
        (
            "null and absent required fields",
            RUNBOOK_TRACES,
            None,
            with_entry(
                with_entry(as_built(false), 0, |e| e["plan"] = Value::Null),
                1,
                |e| {
                    e.remove("sql");
                },
            ),
            &[
                "data_sources[0].plan: expected present, got null",
                "data_sources[1].agent: expected \"cortex\", got \"cortex_researcher\"",
                "data_sources[1].sql: expected present, got absent",
            ],
        ),
        (
            "explicit fields and odd keys",
            "[[entries]]\ntype = \"oews_database\"\nfields = [\"stats\", \"a b\"]",
            None,
            runbook(false),
            &[
                "data_sources[1].stats: expected present, got absent",
                "data_sources[1][\"a b\"]: expected present, got absent",
            ],
        ),
        (
            "unknown entry types are allowed",
            "[[entries]]\ntype = \"web_search\"",
            None,
            runbook(false),
            &[
                "data_sources: expected an entry with type \"web_search\", got none (types present: planning, oews_database)",
            ],
        ),
    ];
    for (name, expect, request, body, want) in cases {
        assert_eq!(messages(expect, request, &body), want, "case: {name}");
    }
}

#[test]
fn structure_of_data_sources() {
    let step =
        |index: usize, value: Value| with_entry(as_built(false), index, move |e| e["step"] = value);
    let cases: Vec<(&str, Value, Messages)> = vec![
        (
            "absent",
            json!({"answer": "x"}),
            &["data_sources: expected a non-empty array, got absent"],
        ),
        (
            "empty",
            json!({"data_sources": [], "charts": []}),
            &["data_sources: expected a non-empty array, got []"],
        ),
        (
            "null",
            json!({"data_sources": null}),
            &["data_sources: expected a non-empty array, got null"],
        ),
        (
            "object",
            json!({"data_sources": {"a": 1}}),
            &["data_sources: expected a non-empty array, got {\"a\":1}"],
        ),
        (
            "body not an object",
            json!([1, 2]),
            &["data_sources: expected a non-empty array, got absent"],
        ),
        (
            "step skipped",
            step(2, json!(4)),
            &["data_sources[2].step: expected 3, got 4 — steps are 1..N contiguous"],
        ),
        (
            "only the first broken step",
            step(1, json!(1)),
            &["data_sources[1].step: expected 2, got 1 — steps are 1..N contiguous"],
        ),
        (
            "step as string",
            step(0, json!("1")),
            &["data_sources[0].step: expected 1, got \"1\" — steps are 1..N contiguous"],
        ),
        (
            "step absent",
            with_entry(as_built(false), 0, |e| {
                e.remove("step");
            }),
            &["data_sources[0].step: expected 1, got absent — steps are 1..N contiguous"],
        ),
        (
            "agent and type missing",
            with_entry(as_built(false), 1, |e| {
                e.remove("agent");
                e["type"] = Value::Null;
            }),
            &[
                "data_sources[1].agent: expected a string, got absent",
                "data_sources[1].type: expected a string, got null",
                "data_sources: expected an entry with type \"oews_database\", got none (types present: planning, synthesis)",
            ],
        ),
        (
            "entry not an object",
            json!({"data_sources": [{"step": 1, "agent": "planner", "type": "planning", "plan": {}, "reasoning_model": "r"}, 5]}),
            &[
                "data_sources[1]: expected an object with agent and type, got number 5",
                "data_sources: expected an entry with type \"oews_database\", got none (types present: planning)",
            ],
        ),
        (
            "no types at all",
            json!({"data_sources": [{"step": 1}]}),
            &[
                "data_sources[0].agent: expected a string, got absent",
                "data_sources[0].type: expected a string, got absent",
                "data_sources: expected an entry with type \"planning\", got none (no entry has a type)",
                "data_sources: expected an entry with type \"oews_database\", got none (no entry has a type)",
            ],
        ),
    ];
    for (name, body, want) in cases {
        assert_eq!(messages(AS_BUILT_TRACES, None, &body), want, "case: {name}");
    }
}

#[test]
fn charts_default_comes_from_the_request() {
    let cases = [
        ("", Some(json!({"enable_charts": true})), true),
        ("", Some(json!({"enable_charts": false})), false),
        (
            "",
            Some(json!({"query": "as-built defaults to charts, the runbook sends it"})),
            false,
        ),
        ("", Some(json!({"enable_charts": "true"})), false),
        ("", None, false),
        (
            "charts = false",
            Some(json!({"enable_charts": true})),
            false,
        ),
        ("charts = true", None, true),
    ];
    for (toml_text, request, want) in cases {
        assert_eq!(
            compile(toml_text, request.as_ref()).charts(),
            want,
            "{toml_text:?} with {request:?}"
        );
    }
}

#[test]
fn compile_errors_are_keyed() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "[[entries]]\nagent = \"planner\"",
            &[(
                "entries[0].type",
                "missing: name the entry type, e.g. type = \"planning\"",
            )],
        ),
        (
            "[[entries]]\ntype = \"planning\"\n[[entries]]\ntype = \"\"\nagent = \"\"\nfields = [\"sql\", \"\"]\n[[entries]]\ntype = \"planning\"",
            &[
                ("entries[1].type", "must not be empty"),
                (
                    "entries[1].agent",
                    "must not be empty; leave agent out to accept any agent",
                ),
                ("entries[1].fields[1]", "must not be empty"),
                (
                    "entries[2].type",
                    "\"planning\" is already listed at entries[0]",
                ),
            ],
        ),
    ];
    for (toml_text, want) in cases {
        let errors = compile_trace(&raw(toml_text), None).expect_err(toml_text);
        let want: Vec<FieldError> = want.iter().map(|(k, m)| FieldError::new(*k, *m)).collect();
        assert_eq!(errors, want, "{toml_text:?}");
    }
    let err = toml::from_str::<RawTrace>("chart = true").expect_err("unknown key");
    assert!(err.to_string().contains("unknown field `chart`"), "{err}");
}
