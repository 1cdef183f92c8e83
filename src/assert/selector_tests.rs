//! Tables for selector parsing, canonical display, selection with concrete paths, and parse errors.

use super::{Selector, SelectorError};
use serde_json::{Value, json};

fn parse(text: &str) -> Selector {
    Selector::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

fn doc() -> Value {
    json!({
        "status": "healthy",
        "models": {"gpt-4o": {"provider": "openai"}, "deepseek-r1": {"provider": "azure"}},
        "data_sources": [
            {"step": 1, "agent": "planner", "type": "planning", "meta": {"ok": true}},
            {"step": 2, "agent": "cortex_researcher", "type": "oews_database", "row_count": 0},
            {"step": 3, "agent": "synthesizer", "type": "synthesis"}
        ],
        "weird keys": {"a\"b": 1, "": 2, "x.y": 3},
        "nums": [1, 2.0, 3]
    })
}

#[test]
fn selects_with_concrete_paths() {
    let doc = doc();
    let cases: &[(&str, &[(&str, Value)])] = &[
        ("$", &[("$", doc.clone())]),
        ("$.status", &[("$.status", json!("healthy"))]),
        (
            "$.models.gpt-4o.provider",
            &[("$.models.gpt-4o.provider", json!("openai"))],
        ),
        (
            "$[\"models\"][\"deepseek-r1\"].provider",
            &[("$.models.deepseek-r1.provider", json!("azure"))],
        ),
        (
            "$.data_sources[0].agent",
            &[("$.data_sources[0].agent", json!("planner"))],
        ),
        (
            "$.data_sources[-1].agent",
            &[("$.data_sources[2].agent", json!("synthesizer"))],
        ),
        (
            "$.data_sources[-3].step",
            &[("$.data_sources[0].step", json!(1))],
        ),
        ("$.data_sources[-4]", &[]),
        ("$.data_sources[3]", &[]),
        (
            "$.data_sources[*].agent",
            &[
                ("$.data_sources[0].agent", json!("planner")),
                ("$.data_sources[1].agent", json!("cortex_researcher")),
                ("$.data_sources[2].agent", json!("synthesizer")),
            ],
        ),
        (
            "$.models[*].provider",
            &[
                ("$.models.deepseek-r1.provider", json!("azure")),
                ("$.models.gpt-4o.provider", json!("openai")),
            ],
        ),
        (
            "$.data_sources[?(@.type == \"oews_database\")].row_count",
            &[("$.data_sources[1].row_count", json!(0))],
        ),
        (
            "$.data_sources[?(@.step == 3.0)].type",
            &[("$.data_sources[2].type", json!("synthesis"))],
        ),
        (
            "$.data_sources[?(@.meta.ok == true)].step",
            &[("$.data_sources[0].step", json!(1))],
        ),
        (
            "$.data_sources[?(@[\"meta\"][\"ok\"]==true)].step",
            &[("$.data_sources[0].step", json!(1))],
        ),
        (
            "$.data_sources[?(@.row_count != 0)].step",
            &[
                ("$.data_sources[0].step", json!(1)),
                ("$.data_sources[2].step", json!(3)),
            ],
        ),
        ("$.data_sources[?(@.row_count == null)]", &[]),
        (
            "$.models[?(@.provider == \"azure\")]",
            &[("$.models.deepseek-r1", json!({"provider": "azure"}))],
        ),
        ("$.nums[?(@ == 2)]", &[("$.nums[1]", json!(2.0))]),
        (
            "$[\"weird keys\"][\"a\\\"b\"]",
            &[("$[\"weird keys\"][\"a\\\"b\"]", json!(1))],
        ),
        (
            "$[\"weird keys\"][\"\"]",
            &[("$[\"weird keys\"][\"\"]", json!(2))],
        ),
        (
            "$[\"weird keys\"][\"x.y\"]",
            &[("$[\"weird keys\"][\"x.y\"]", json!(3))],
        ),
        ("$.status.length", &[]),
        ("$.status[0]", &[]),
        ("$.status[*]", &[]),
        ("$.models[0]", &[]),
        ("$.missing.deeper[*]", &[]),
    ];
    for (text, want) in cases {
        let got = parse(text).select(&doc);
        let got: Vec<(&str, &Value)> = got.iter().map(|(p, v)| (p.as_str(), *v)).collect();
        let want: Vec<(&str, &Value)> = want.iter().map(|(p, v)| (*p, v)).collect();
        assert_eq!(got, want, "selector {text}");
    }
}

#[test]
fn displays_canonical_text() {
    let cases = [
        ("$", "$"),
        ("$.models.gpt-4o", "$.models.gpt-4o"),
        ("$[\"models\"]", "$.models"),
        ("$[\"a b\"][\"\\u0041\"]", "$[\"a b\"].A"),
        ("$.a[-1][0][*]", "$.a[-1][0][*]"),
        ("$.a[?(@.b.c==\"x\")]", "$.a[?(@.b.c == \"x\")]"),
        (
            "$.a[?( @[\"b c\"][2] != 1.5 )]",
            "$.a[?(@[\"b c\"][2] != 1.5)]",
        ),
        ("$.a[?(@ == null)]", "$.a[?(@ == null)]"),
    ];
    for (text, canonical) in cases {
        assert_eq!(parse(text).to_string(), canonical, "selector {text}");
        assert_eq!(
            parse(canonical).to_string(),
            canonical,
            "round trip of {canonical}"
        );
    }
}

#[test]
fn parse_errors_say_what_and_where() {
    let cases = [
        ("", "expected \"$\" at position 1"),
        ("status", "expected \"$\" at position 1"),
        ("$.models[", "unclosed \"[\" at position 9"),
        ("$.models[0", "unclosed \"[\" at position 9"),
        ("$.models[\"gpt", "unclosed string at position 10"),
        ("$.", "expected a key after \".\" at position 3"),
        ("$.a.", "expected a key after \".\" at position 5"),
        ("$.a b", "unexpected \" \" at position 4"),
        (
            "$..a",
            "\"..\" (recursive descent) is not supported at position 2",
        ),
        ("$.a#", "unexpected \"#\" at position 4"),
        ("$x", "unexpected \"x\" at position 2"),
        (
            "$.a[]",
            "expected a quoted key, an index, \"*\" or \"?(\" after \"[\" at position 5",
        ),
        (
            "$.a['b']",
            "keys in brackets take double quotes at position 5",
        ),
        ("$.a[1x]", "invalid index \"1x\" at position 5"),
        ("$.a[--1]", "invalid index \"--1\" at position 5"),
        ("$.a[0}", "expected \"]\", got \"}\" at position 6"),
        ("$.a[*", "unclosed \"[\" at position 4"),
        ("$.a[\"b\\q\"]", "invalid escape \"\\q\" at position 7"),
        (
            "$.a[\"b\\u12\"]",
            "invalid escape \"\\u12\"]\" at position 7",
        ),
        ("$.a[?@.b == 1]", "expected \"(\" after \"?\" at position 6"),
        ("$.a[?(b == 1)]", "expected \"@\" at position 7"),
        (
            "$.a[?(@.b = 1)]",
            "expected \"==\" or \"!=\" at position 11",
        ),
        (
            "$.a[?(@.b == )]",
            "expected a JSON literal (string, number, true, false, null) at position 14",
        ),
        (
            "$.a[?(@.b == nope)]",
            "invalid literal nope (expected a JSON string, number, true, false or null) at position 14",
        ),
        (
            "$.a[?(@.b == [1])]",
            "arrays and objects cannot be compared; expected a JSON literal at position 14",
        ),
        (
            "$.a[?(@.b == 1]",
            "expected \")\", got \"]\" at position 15",
        ),
        ("$.a[?(@.b == 1)", "unclosed \"[\" at position 4"),
        ("$.a[?(@.b == 1", "unclosed \"(\" at position 6"),
        ("$.a[?(@.b", "unclosed \"[\" at position 4"),
        (
            "$.a[?(@[*] == 1)]",
            "expected a quoted key or an index after \"[\" at position 9",
        ),
        ("$.a[?(@.b == \"x)]", "unclosed string at position 14"),
    ];
    for (text, message) in cases {
        let err: SelectorError = Selector::parse(text).expect_err(text);
        assert_eq!(err.to_string(), message, "selector {text:?}");
    }
}

#[test]
fn index_extremes_do_not_overflow() {
    let doc = json!([1, 2]);
    for text in ["$[-9223372036854775808]", "$[9223372036854775807]"] {
        assert!(parse(text).select(&doc).is_empty(), "{text}");
    }
    assert_eq!(
        Selector::parse("$[9223372036854775808]")
            .expect_err("too big")
            .to_string(),
        "invalid index \"9223372036854775808\" at position 3"
    );
}

proptest::proptest! {
    /// Any text either parses or fails with a position inside it (or just past it); what parses displays as
    /// canonical text that parses to the same selector.
    #[test]
    fn parse_is_total_and_display_round_trips(
        text in proptest::prop_oneof![
            "\\PC{0,24}",
            "\\$[.\\[\\]\"?@()=!*0-9a-z \\\\-]{0,24}",
            "\\$(\\.[a-z]{1,3}|\\[(-?[0-9]|\\*|\"[a-z \\\\\"]{0,3}\"|\\?\\(@(\\.[a-z])? ?[=!]= ?(1|\"x\"|null)\\))\\]){0,4}",
        ]
    ) {
        match Selector::parse(&text) {
            Ok(selector) => {
                let canonical = selector.to_string();
                let again = Selector::parse(&canonical);
                proptest::prop_assert_eq!(again.as_ref(), Ok(&selector), "{} → {}", text, canonical);
                let _ = selector.select(&doc());
            }
            Err(e) => proptest::prop_assert!(e.position >= 1 && e.position <= text.chars().count() + 1, "{e}"),
        }
    }
}

#[test]
fn selectors_beyond_the_step_bounds_are_refused_where_the_bound_is_passed() {
    let wild = |n: usize| format!("${}", "[*]".repeat(n));
    let filters = |n: usize| format!("${}", "[?(@.t == 1)]".repeat(n));
    let keys = |n: usize| format!("${}", ".a".repeat(n));
    let deep_filters = "[?(@.a.b.c == 1)]".repeat(8);
    let too_complex = "selector too complex: more than 8 \"[*]\" and filter steps";
    let cases = [
        (wild(9), format!("{too_complex} at position 26")),
        (wild(26), format!("{too_complex} at position 26")),
        (filters(9), format!("{too_complex} at position 106")),
        (
            keys(65),
            "selector too long: more than 64 steps at position 130".to_string(),
        ),
        // Filter paths count as steps: 8 × 4 = 32, then the 33rd key is the 65th step.
        (
            format!("${deep_filters}{}", ".a".repeat(33)),
            "selector too long: more than 64 steps at position 202".to_string(),
        ),
    ];
    for (text, message) in cases {
        let err: SelectorError = Selector::parse(&text).expect_err(&text);
        assert_eq!(err.to_string(), message, "selector {text:?}");
    }
    let deepest = format!("${deep_filters}{}", ".a".repeat(32));
    for text in [wild(8), filters(8), keys(64), deepest] {
        assert!(Selector::parse(&text).is_ok(), "{text}");
    }
}
