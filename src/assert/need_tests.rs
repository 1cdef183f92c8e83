//! Table tests: the need of each selector form and assertion, merging, and the pruned parse of small documents
//! (kept parts, placeholders, and errors identical to a full parse).

use super::{JsonAssertion, Need, RawJsonAssertion, Selector, compile, parse_pruned};
use serde_json::{Value, json};

fn selector_need(text: &str) -> Need {
    Selector::parse(text).expect("valid selector").need()
}

fn assertion(table: &str) -> JsonAssertion {
    let raw: RawJsonAssertion = toml::from_str(table).expect("valid table");
    compile(&raw).expect("compiles")
}

fn key(k: &str, need: Need) -> Need {
    Need::key(k, need)
}

#[test]
fn each_selector_form_has_its_need() {
    use Need::All;
    let cases: Vec<(&str, Need)> = vec![
        ("$", All),
        ("$.a", key("a", All)),
        ("$[\"a b\"]", key("a b", All)),
        ("$.a.b", key("a", key("b", All))),
        ("$.a[0]", key("a", Need::elements(All))),
        ("$.a[-1]", key("a", Need::elements(All))),
        ("$[2].a", Need::elements(key("a", All))),
        // Every element and every member value, whole: the whole value.
        ("$.a[*]", key("a", All)),
        ("$.a[*].b", key("a", Need::members(key("b", All)))),
        ("$[*][*].b", Need::members(Need::members(key("b", All)))),
        (
            "$.a[?(@.t == \"x\")].p",
            key("a", Need::members(key("t", All).merge(key("p", All)))),
        ),
        (
            "$.a[?(@.x[1] != 1)].b",
            key(
                "a",
                Need::members(key("x", Need::elements(All)).merge(key("b", All))),
            ),
        ),
        (
            "$.a[?(@[\"k k\"].y == null)][0]",
            key(
                "a",
                Need::members(key("k k", key("y", All)).merge(Need::elements(All))),
            ),
        ),
        // The filter's field path and the continuation are the whole element.
        ("$.a[?(@.x == 1)]", key("a", All)),
    ];
    for (text, want) in cases {
        assert_eq!(selector_need(text), want, "{text}");
    }
}

#[test]
fn assertions_read_matches_whole_unless_they_only_ask_for_presence() {
    let cases = [
        (
            "path = '$.m.k'\nexists = true",
            key("m", key("k", Need::Presence)),
        ),
        (
            "path = '$.m.k'\nexists = false",
            key("m", key("k", Need::All)),
        ),
        (
            "path = '$.m[*]'\nexists = true",
            key("m", Need::members(Need::Presence)),
        ),
        (
            "path = '$.m.k'\nexists = true\ntype = 'string'",
            key("m", key("k", Need::All)),
        ),
        ("path = '$.m'\nnon_empty = true", key("m", Need::All)),
        ("path = '$.m'\nequals = 1", key("m", Need::All)),
        ("path = '$.m'\nmatches = 'x'", key("m", Need::All)),
        ("path = '$.m'\nlength = 1", key("m", Need::All)),
        ("path = '$.m'\none_of = [1]", key("m", Need::All)),
        ("path = '$.m'\nnot_equals = 1", key("m", Need::All)),
    ];
    for (table, want) in cases {
        assert_eq!(assertion(table).need(), want, "{table}");
    }
}

#[test]
fn merge_is_a_union_with_presence_least_and_all_greatest() {
    let a = key("a", Need::All);
    let b = key("b", Need::Presence).merge(Need::elements(key("c", Need::All)));
    for n in [a.clone(), b.clone(), Need::All, Need::Presence] {
        assert_eq!(n.clone().merge(Need::Presence), n);
        assert_eq!(Need::Presence.merge(n.clone()), n);
        assert_eq!(n.clone().merge(Need::All), Need::All);
        assert_eq!(n.clone().merge(n.clone()), n);
    }
    assert_eq!(a.clone().merge(b.clone()), b.clone().merge(a.clone()));
    assert_eq!(
        key("a", key("x", Need::All)).merge(key("a", key("y", Need::Presence))),
        key(
            "a",
            Need::union([key("x", Need::All), key("y", Need::Presence)])
        )
    );
    // A named member also gets what every member gets; parts that read everything are `All`.
    assert_eq!(
        key("k", Need::Presence).merge(Need::values(key("x", Need::All))),
        Need::values(key("x", Need::All))
    );
    assert_eq!(
        key("k", key("y", Need::All)).merge(Need::values(key("x", Need::All))),
        Need::values(key("x", Need::All)).merge(key("k", key("y", Need::All)))
    );
    assert_eq!(
        Need::values(Need::All).merge(Need::elements(Need::All)),
        Need::All
    );
    assert_eq!(Need::union([]), Need::Presence);
}

fn pruned(body: &str, need: &Need) -> Value {
    parse_pruned(body.as_bytes(), need).expect("valid JSON")
}

#[test]
fn the_pruned_parse_keeps_what_is_needed() {
    let presence = Need::union(["s", "n", "a", "o", "f", "b", "z"].map(|k| key(k, Need::Presence)));
    let cases: Vec<(&str, Need, Value)> = vec![
        (
            r#"{"a": {"x": [1]}, "b": [1, 2, 3]}"#,
            key("a", Need::All),
            json!({"a": {"x": [1]}}),
        ),
        (
            r#"{"s": "long", "n": null, "a": [1], "o": {"x": 1}, "f": 3.5, "b": true, "z": -2, "q": 1}"#,
            presence,
            json!({"s": "", "n": null, "a": [], "o": {}, "f": 3.5, "b": true, "z": -2}),
        ),
        (
            r#"[{"a": 1, "b": 2}, 3, "s", null, [4, {"a": 5}]]"#,
            Need::elements(key("a", Need::All)),
            json!([{"a": 1}, 3, "s", null, [4, {}]]),
        ),
        (
            r#"{"a": [1, "x", {"b": 2}, [3], null]}"#,
            key("a", key("b", Need::All)),
            json!({"a": [1, "", {}, [], null]}),
        ),
        (
            r#"{"m": {"x": {"p": 1, "q": 2}, "y": {"p": 3}, "z": 7}}"#,
            key("m", Need::values(key("p", Need::All))),
            json!({"m": {"x": {"p": 1}, "y": {"p": 3}, "z": 7}}),
        ),
        (
            r#"{"m": {"k": {"p": 1, "q": 2}, "y": {"p": 3, "q": 4}}}"#,
            key(
                "m",
                Need::values(key("p", Need::All)).merge(key("k", key("q", Need::All))),
            ),
            json!({"m": {"k": {"p": 1, "q": 2}, "y": {"p": 3}}}),
        ),
        (r#""text""#, key("a", Need::All), json!("text")),
        (r#""text""#, Need::Presence, json!("")),
        (
            r#"{"a\u0062": 1, "b": {"c\n": 2}}"#,
            key("ab", Need::All).merge(key("b", key("c\n", Need::All))),
            json!({"ab": 1, "b": {"c\n": 2}}),
        ),
        (
            r#"{"big": 18446744073709551615, "neg": -9223372036854775808, "f": 1e300}"#,
            Need::union(["big", "neg", "f"].map(|k| key(k, Need::Presence))),
            json!({"big": 18_446_744_073_709_551_615_u64, "neg": i64::MIN, "f": 1e300}),
        ),
        // Duplicate keys: the last wins, as in a full parse.
        (
            r#"{"a": 1, "b": 0, "a": 2}"#,
            key("a", Need::All),
            json!({"a": 2}),
        ),
    ];
    for (body, need, want) in cases {
        assert_eq!(pruned(body, &need), want, "{body} with {need:?}");
    }
}

/// Bodies a full parse rejects, several of them only in parts no check reads.
const INVALID: &[&str] = &[
    r#"{"answer": "Software dev"#,
    r#"{"a": 1, "skip": [1, 2}"#,
    r#"{"a": 1, "skip": [1, 2,]}"#,
    r#"{"a": 1, "skip": {"x" 1}}"#,
    r#"{"a": 1, "skip": {1: 2}}"#,
    r#"{"a": 1, "skip": tru}"#,
    r#"{"a": 1, "skip": 01}"#,
    r#"{"a": 1, "skip": 1.}"#,
    r#"{"a": 1, "skip": 1e400}"#,
    r#"{"a": 1, "skip": -1e400}"#,
    r#"{"a": 1, "skip": "\ud800"}"#,
    r#"{"a": 1, "skip": "\udc00x"}"#,
    r#"{"a": 1, "skip": "\x"}"#,
    "{\"a\": 1, \"skip\": \"tab\there\"}",
    r#"{"a": 1, "skip": {"\ud800": 1}}"#,
    r#"{"a": 1} trailing"#,
    r#"{"a": 1},"#,
    "",
    "   ",
    "nul",
    r#"{"a": 1, "skip": {"$serde_json::private::RawValue": "{"}}"#,
    r#"{"$serde_json::private::RawValue": 5}"#,
];

fn needs() -> Vec<Need> {
    vec![
        Need::All,
        Need::Presence,
        key("a", Need::All),
        key("a", Need::Presence),
        key("skip", Need::Presence),
        key("skip", key("x", Need::All)),
        Need::values(Need::Presence),
        Need::elements(Need::All),
    ]
}

#[test]
fn invalid_json_fails_with_the_error_of_a_full_parse_even_where_nothing_is_read() {
    let deep = format!(
        r#"{{"a": 1, "skip": {}1{}}}"#,
        "[".repeat(200),
        "]".repeat(200)
    );
    let bad_utf8 = b"{\"a\": 1, \"skip\": \"\xff\"}".to_vec();
    let bad_utf8_key = b"{\"a\": 1, \"skip\": {\"\xc3\": 1}}".to_vec();
    let bodies = INVALID.iter().map(|b| b.as_bytes().to_vec()).chain([
        deep.into_bytes(),
        bad_utf8,
        bad_utf8_key,
    ]);
    for body in bodies {
        let full = serde_json::from_slice::<Value>(&body)
            .expect_err("a full parse rejects it")
            .to_string();
        for need in needs() {
            let text = String::from_utf8_lossy(&body);
            let error = parse_pruned(&body, &need).expect_err(&format!("{text} with {need:?}"));
            assert_eq!(error.to_string(), full, "{text} with {need:?}");
        }
    }
}

#[test]
fn the_error_names_the_place_as_a_full_parse_does() {
    let body = br#"{"answer": "Software dev"#;
    let error = parse_pruned(body, &key("data_sources", Need::All)).expect_err("truncated");
    assert_eq!(
        error.to_string(),
        "EOF while parsing a string at line 1 column 24"
    );
}

#[test]
fn the_raw_value_marker_key_parses_as_a_full_parse_does() {
    let bodies = [
        r#"{"$serde_json::private::RawValue": "[1, 2]"}"#,
        r#"{"a": {"$serde_json::private::RawValue": "{\"b\": 1}"}}"#,
        r#"{"a": 1, "skip": {"$serde_json::private::RawValue": "true"}}"#,
        r#"{"a": {"x": 1, "$serde_json::private::RawValue": "2"}}"#,
    ];
    for body in bodies {
        let full = serde_json::from_slice::<Value>(body.as_bytes()).map_err(|e| e.to_string());
        for need in needs() {
            let got = parse_pruned(body.as_bytes(), &need).map_err(|e| e.to_string());
            match (&full, &got) {
                (Err(a), Err(b)) => assert_eq!(a, b, "{body} with {need:?}"),
                (Ok(_), Ok(_)) => {}
                _ => panic!("{body} with {need:?}: full {full:?}, pruned {got:?}"),
            }
        }
        // With everything needed, the value itself is the same.
        let all = parse_pruned(body.as_bytes(), &Need::All).map_err(|e| e.to_string());
        assert_eq!(all, full, "{body}");
    }
}

/// Why skipped values are parsed with `deserialize_any` and not `IgnoredAny`: serde_json's fast skip accepts
/// these bodies, which a `Value` parse rejects.
#[test]
fn ignored_any_would_accept_bodies_a_full_parse_rejects() {
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let bodies: [&[u8]; 4] = [b"\"\xff\"", br#""\ud800""#, b"1e400", deep.as_bytes()];
    for body in bodies {
        let text = String::from_utf8_lossy(body);
        assert!(serde_json::from_slice::<Value>(body).is_err(), "{text}");
        assert!(
            serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok(),
            "{text}"
        );
        assert!(parse_pruned(body, &key("a", Need::All)).is_err(), "{text}");
    }
}

/// The nodes of a need tree: each need counts 1, plus what its parts hold.
fn nodes(need: &Need) -> usize {
    match need {
        Need::Presence | Need::All => 1,
        Need::Parts(parts) => {
            1 + parts.keys.values().map(|n| nodes(n)).sum::<usize>()
                + parts.values.as_deref().map_or(0, nodes)
                + nodes(&parts.elements)
        }
    }
}

/// The distinct needs held in memory: shared sub-needs count once.
fn held(need: &Need) -> usize {
    fn walk(need: &Need, seen: &mut std::collections::HashSet<*const Need>) -> usize {
        let Need::Parts(parts) = need else {
            return 1;
        };
        let children = parts.keys.values().chain(parts.values.iter());
        let children = children.chain(std::iter::once(&parts.elements));
        let mut count = 1;
        for child in children {
            if seen.insert(std::sync::Arc::as_ptr(child)) {
                count += walk(child, seen);
            }
        }
        count
    }
    walk(need, &mut std::collections::HashSet::new())
}

#[test]
fn each_fan_out_step_doubles_the_need_read_but_shares_what_it_holds() {
    // `[*]` reads every element and every member value alike: the need of the rest is read twice, held once.
    for k in 0..=8 {
        let text = format!("${}.b", "[*]".repeat(k));
        assert_eq!(nodes(&selector_need(&text)), (1 << (k + 2)) - 1, "{text}");
        assert_eq!(held(&selector_need(&text)), k + 3, "{text}");
    }
    let text = format!("${}.b", "[?(@.t == 1)]".repeat(8));
    assert_eq!(nodes(&selector_need(&text)), 3 * (1 << 9) - 3, "{text}");
    let refused = format!("${}.b", "[*]".repeat(9));
    assert!(Selector::parse(&refused).is_err(), "{refused}");
}

#[test]
fn a_union_holds_each_shared_need_once() {
    let deep = format!("${}{}", "[*]".repeat(8), ".a".repeat(56));
    let deep = Selector::parse(&deep)
        .expect("valid")
        .need_then(Need::Presence);
    // Read: 29183 parts; held: 121 (each of the 64 steps holds its part and an empty element need).
    assert_eq!((nodes(&deep), held(&deep)), (29_183, 121));
    // Keys the wildcard already reads add nothing; new ones add their own parts.
    let union = (0..1000).fold(deep.clone(), |u, i| {
        u.merge(
            Selector::parse(&format!("$.k{i}.x"))
                .expect("valid")
                .need_then(Need::Presence),
        )
    });
    assert_eq!(union, deep);
    // `$.k.x` reads `x` whole: the key `k` and its `x` are new, the rest is shared with the wildcard's need.
    let union = union.merge(selector_need("$.k.x"));
    assert_eq!(held(&union), 123);
}
