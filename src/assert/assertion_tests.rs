//! Tables for `[[expect.json]]`: compile errors (all at once, with keys) and the exact finding texts of every
//! operator.

use super::{JsonAssertion, RawJsonAssertion, compile as compile_raw, excerpt, toml_to_json};
use crate::config::FieldError;
use serde_json::{Value, json};

fn raw(toml_text: &str) -> RawJsonAssertion {
    toml::from_str(toml_text).unwrap_or_else(|e| panic!("{toml_text:?} should deserialize: {e}"))
}

fn compile(toml_text: &str) -> JsonAssertion {
    compile_raw(&raw(toml_text)).unwrap_or_else(|e| panic!("{toml_text:?} should compile: {e:?}"))
}

fn messages(toml_text: &str, body: &Value) -> Vec<String> {
    let mut findings = Vec::new();
    compile(toml_text).evaluate(body, &mut findings);
    for f in &findings {
        assert_eq!(f.check, "json");
    }
    findings.into_iter().map(|f| f.message).collect()
}

#[test]
fn operators_render_natural_findings() {
    let body = json!({
        "status": "unhealthy",
        "code": 3,
        "ratio": 2.5,
        "models": {},
        "answer": "Hello",
        "charts": [],
        "tags": ["a", "b", "c"],
        "data_sources": [
            {"step": 1, "agent": "planner", "type": "planning"},
            {"step": 2, "agent": "cortex_researcher", "type": "oews_database"},
            {"step": 3, "agent": "synthesizer", "type": "synthesis"}
        ],
        "error": "boom",
        "long": "x".repeat(200),
        "nothing": null
    });
    let cases: &[(&str, &[&str])] = &[
        (
            "path = '$.status'\nequals = 'healthy'",
            &["$.status: expected \"healthy\", got \"unhealthy\""],
        ),
        ("path = '$.status'\nequals = 'unhealthy'", &[]),
        ("path = '$.code'\nequals = 3.0", &[]),
        (
            "path = '$.code'\nequals = {a = [1, true]}",
            &["$.code: expected {\"a\":[1,true]}, got 3"],
        ),
        (
            "path = '$.status'\nnot_equals = 'unhealthy'",
            &["$.status: expected not \"unhealthy\", got \"unhealthy\""],
        ),
        ("path = '$.status'\nnot_equals = 'healthy'", &[]),
        (
            "path = '$.status'\none_of = ['a', 'b']",
            &["$.status: expected one of [\"a\",\"b\"], got \"unhealthy\""],
        ),
        ("path = '$.code'\none_of = [1, 2, 3]", &[]),
        (
            "path = '$.models'\nnon_empty = true",
            &["$.models: expected non-empty, got {}"],
        ),
        (
            "path = '$.charts'\nnon_empty = true",
            &["$.charts: expected non-empty, got []"],
        ),
        (
            "path = '$.code'\nnon_empty = true",
            &["$.code: expected non-empty, got number 3"],
        ),
        (
            "path = '$.nothing'\nnon_empty = true",
            &["$.nothing: expected non-empty, got null"],
        ),
        ("path = '$.tags'\nnon_empty = true", &[]),
        (
            "path = '$.models.gpt-4o'\nexists = true",
            &["$.models.gpt-4o: expected present, got absent"],
        ),
        ("path = '$.status'\nexists = true", &[]),
        ("path = '$.nothing'\nexists = true", &[]),
        (
            "path = '$.error'\nexists = false",
            &["$.error: expected absent, got \"boom\""],
        ),
        ("path = '$.detail'\nexists = false", &[]),
        (
            "path = '$.answer'\nmatches = '^Software'",
            &["$.answer: expected to match /^Software/, got \"Hello\""],
        ),
        ("path = '$.answer'\nmatches = 'ell'", &[]),
        (
            "path = '$.code'\nmatches = '3'",
            &["$.code: expected to match /3/, got number 3"],
        ),
        (
            "path = '$.charts'\nmin_length = 1",
            &["$.charts: expected length >= 1, got length 0"],
        ),
        (
            "path = '$.tags'\nmax_length = 2",
            &["$.tags: expected length <= 2, got length 3"],
        ),
        (
            "path = '$.tags'\nlength = 2",
            &["$.tags: expected length 2, got length 3"],
        ),
        ("path = '$.answer'\nlength = 5", &[]),
        ("path = '$.models'\nlength = 0", &[]),
        (
            "path = '$.code'\nmin_length = 1",
            &["$.code: expected length >= 1, got number 3"],
        ),
        (
            "path = '$.code'\ntype = 'string'",
            &["$.code: expected type string, got number 3"],
        ),
        (
            "path = '$.status'\ntype = 'number'",
            &["$.status: expected type number, got string \"unhealthy\""],
        ),
        (
            "path = '$.ratio'\ntype = 'integer'",
            &["$.ratio: expected type integer, got number 2.5"],
        ),
        ("path = '$.code'\ntype = 'integer'", &[]),
        (
            "path = '$.nothing'\ntype = 'object'",
            &["$.nothing: expected type object, got null"],
        ),
        (
            "path = '$.models'\ntype = 'array'",
            &["$.models: expected type array, got object {}"],
        ),
        ("path = '$.tags'\ntype = 'array'", &[]),
        ("path = '$.nothing'\ntype = 'null'", &[]),
        (
            "path = '$.long'\nequals = 'short'",
            &[concat!(
                "$.long: expected \"short\", got \"",
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"
            )],
        ),
        // Every match must satisfy the operator: one finding per offending match.
        (
            "path = '$.data_sources[*].agent'\nequals = 'planner'",
            &[
                "$.data_sources[1].agent: expected \"planner\", got \"cortex_researcher\"",
                "$.data_sources[2].agent: expected \"planner\", got \"synthesizer\"",
            ],
        ),
        (
            "path = '$.data_sources[?(@.type == \"oews_database\")].agent'\nequals = 'cortex'",
            &["$.data_sources[1].agent: expected \"cortex\", got \"cortex_researcher\""],
        ),
        (
            "path = '$.data_sources[-1].type'\nequals = 'synthesis'",
            &[],
        ),
        // No match: one finding for all value operators, without a concrete path.
        (
            "path = '$.missing'\nequals = 'x'",
            &["json: expected \"x\", got no value at $.missing"],
        ),
        (
            "path = '$.missing[*]'\ntype = 'string'\nmin_length = 1",
            &["json: expected type string and length >= 1, got no value at $.missing[*]"],
        ),
        // exists = true reports the absence once.
        (
            "path = '$.missing'\nexists = true\nequals = 'x'",
            &["$.missing: expected present, got absent"],
        ),
        // Several operators in one table: each is checked on its own, in documentation order.
        (
            "path = '$.status'\nmatches = '^h'\ntype = 'string'\nequals = 'healthy'\nmax_length = 3",
            &[
                "$.status: expected length <= 3, got length 9",
                "$.status: expected \"healthy\", got \"unhealthy\"",
                "$.status: expected to match /^h/, got \"unhealthy\"",
            ],
        ),
    ];
    for (table, want) in cases {
        assert_eq!(messages(table, &body), *want, "assertion {table:?}");
    }
}

#[test]
fn findings_carry_structured_parts() {
    let mut findings = Vec::new();
    compile("path = '$.status'\nequals = 'healthy'")
        .evaluate(&json!({"status": "down"}), &mut findings);
    let f = &findings[0];
    assert_eq!(
        (
            f.check.as_str(),
            f.path.as_deref(),
            f.expected.as_str(),
            f.actual.as_str()
        ),
        ("json", Some("$.status"), "\"healthy\"", "\"down\"")
    );
    findings.clear();
    compile("path = '$.status'\nequals = 'healthy'").evaluate(&json!([]), &mut findings);
    assert_eq!(findings[0].path, None);
}

#[test]
fn compile_reports_every_error_with_its_key() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "equals = 1",
            &[("path", "missing: give a selector, e.g. path = \"$.status\"")],
        ),
        (
            "path = '$.models['\nequals = 1",
            &[(
                "path",
                "invalid selector \"$.models[\": unclosed \"[\" at position 9",
            )],
        ),
        (
            "path = '$.a'",
            &[(
                "",
                "no operator: give at least one of exists, type, non_empty, length, min_length, max_length, equals, not_equals, one_of, matches",
            )],
        ),
        (
            "path = '$.a'\nnon_empty = false",
            &[(
                "non_empty",
                "only non_empty = true is meaningful; to require an empty value, use length = 0",
            )],
        ),
        (
            "path = '$.a'\ntype = 'str'",
            &[(
                "type",
                "unknown type \"str\"; expected one of string, number, integer, boolean, null, array, object",
            )],
        ),
        (
            "path = '$.a'\nequals = 1979-05-27T07:32:00Z",
            &[(
                "equals",
                "1979-05-27T07:32:00Z is a TOML datetime, which is not a JSON value; quote it to compare with a string",
            )],
        ),
        (
            "path = '$.a'\none_of = ['x', 1979-05-27]",
            &[(
                "one_of[1]",
                "1979-05-27 is a TOML datetime, which is not a JSON value; quote it to compare with a string",
            )],
        ),
        (
            "path = '$.a'\nnot_equals = nan",
            &[(
                "not_equals",
                "NaN is not a JSON number (JSON has no NaN or infinity)",
            )],
        ),
        (
            "path = '$.a'\none_of = []",
            &[("one_of", "give at least one value")],
        ),
        (
            "path = '$.a'\nlength = -1",
            &[("length", "must be 0 or more, got -1")],
        ),
        (
            "path = '$.a'\nmin_length = 5\nmax_length = 2",
            &[(
                "min_length",
                "min_length (5) is greater than max_length (2): nothing can match",
            )],
        ),
        (
            "path = '$.a'\nexists = false\nequals = 1",
            &[(
                "exists",
                "exists = false cannot be combined with other operators: they need a value to check",
            )],
        ),
        (
            "path = 'models'\nmatches = '(unclosed'\nmin_length = -2\nnon_empty = false",
            &[
                (
                    "path",
                    "invalid selector \"models\": expected \"$\" at position 1",
                ),
                (
                    "non_empty",
                    "only non_empty = true is meaningful; to require an empty value, use length = 0",
                ),
                ("min_length", "must be 0 or more, got -2"),
                (
                    "matches",
                    "invalid regex: regex parse error:\n    (unclosed\n    ^\nerror: unclosed group",
                ),
            ],
        ),
    ];
    for (table, want) in cases {
        let errors = compile_raw(&raw(table)).expect_err(table);
        let want: Vec<FieldError> = want.iter().map(|(k, m)| FieldError::new(*k, *m)).collect();
        assert_eq!(errors, want, "assertion {table:?}");
    }
}

#[test]
fn raw_tables_reject_unknown_keys() {
    let err = toml::from_str::<RawJsonAssertion>("path = '$'\nequal = 1").expect_err("unknown key");
    assert!(err.to_string().contains("unknown field `equal`"), "{err}");
}

#[test]
fn toml_values_convert_to_json() {
    let table: toml::Table =
        toml::from_str("v = {s = 'x', i = -3, f = 1.5, b = true, a = [1, 'two', [3]]}")
            .expect("valid toml");
    let got = toml_to_json(&table["v"]).expect("convertible");
    assert_eq!(
        got,
        json!({"s": "x", "i": -3, "f": 1.5, "b": true, "a": [1, "two", [3]]})
    );
    let inf: toml::Table = toml::from_str("v = [1, -inf]").expect("valid toml");
    assert_eq!(
        toml_to_json(&inf["v"]).expect_err("infinity"),
        "-inf is not a JSON number (JSON has no NaN or infinity)"
    );
}

#[test]
fn excerpts_stop_early_and_cut_on_characters() {
    assert_eq!(excerpt(&json!("é".repeat(100))).chars().count(), 81);
    assert!(excerpt(&json!("é".repeat(100))).ends_with("éé…"));
    assert_eq!(
        excerpt(&json!("é".repeat(79))).chars().count(),
        81,
        "79 chars plus two quotes: cut"
    );
    assert_eq!(
        excerpt(&json!("é".repeat(78))),
        format!("\"{}\"", "é".repeat(78))
    );
    let big = Value::Array((0..100_000).map(Value::from).collect());
    assert_eq!(excerpt(&big).chars().count(), 81);
}

#[test]
fn bidi_controls_from_a_body_are_escaped_in_findings() {
    let body = json!({"status": "evil\u{202E}gnp.exe", "a\u{2066}b": 1, "m": "\u{200F}\u{061C}"});
    assert_eq!(
        messages("path = '$.status'\nequals = 'ok'", &body),
        ["$.status: expected \"ok\", got \"evil\\u202egnp.exe\""]
    );
    assert_eq!(
        messages("path = '$[*]'\ntype = 'string'", &body),
        ["$[\"a\\u2066b\"]: expected type string, got number 1"]
    );
    assert_eq!(
        messages("path = '$.m'\nequals = 'x'", &body),
        ["$.m: expected \"x\", got \"\\u200f\\u061c\""]
    );
}
