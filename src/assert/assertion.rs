//! JSON assertions: the raw `[[expect.json]]` table, its compilation (every error at once), and evaluation into
//! findings that read `PATH: expected E, got A`.

use super::claim::{Claim, ClaimKind};
use super::json::{describe, excerpt, json_eq, toml_to_json};
use super::need::Need;
use super::selector::Selector;
use crate::config::FieldError;
use crate::probe::Finding;
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

/// One `[[expect.json]]` table as written. Every field is optional so that compilation can report everything
/// that is missing or wrong at once.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJsonAssertion {
    pub path: Option<String>,
    pub exists: Option<bool>,
    pub r#type: Option<String>,
    pub non_empty: Option<bool>,
    pub length: Option<i64>,
    pub min_length: Option<i64>,
    pub max_length: Option<i64>,
    pub equals: Option<toml::Value>,
    pub not_equals: Option<toml::Value>,
    pub one_of: Option<Vec<toml::Value>>,
    pub matches: Option<String>,
}

/// A compiled assertion: a selector and one or more operators, each checked on its own.
#[derive(Debug, Clone)]
pub struct JsonAssertion {
    selector: Selector,
    checks: Vec<Check>,
}

#[derive(Debug, Clone)]
struct Check {
    op: Op,
    /// How the operator reads after "expected", rendered once at compile time.
    expected: String,
}

#[derive(Debug, Clone)]
enum Op {
    Exists(bool),
    Type(JsonType),
    NonEmpty,
    Length(Bound, usize),
    Equals(Value),
    NotEquals(Value),
    OneOf(Vec<Value>),
    Matches(Regex),
}

#[derive(Debug, Clone, Copy)]
enum Bound {
    Exactly,
    AtLeast,
    AtMost,
}

#[derive(Debug, Clone, Copy)]
enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Null,
    Array,
    Object,
}

const TYPES: &str = "string, number, integer, boolean, null, array, object";
const OPERATORS: &str =
    "exists, type, non_empty, length, min_length, max_length, equals, not_equals, one_of, matches";

/// Compiles a raw table; errors carry keys relative to it (`path`, `matches`, `one_of[2]`, or `""` for the
/// table as a whole).
pub fn compile(raw: &RawJsonAssertion) -> Result<JsonAssertion, Vec<FieldError>> {
    let mut errors = Vec::new();
    let selector = match raw.path.as_deref() {
        None => {
            errors.push(FieldError::new(
                "path",
                "missing: give a selector, e.g. path = \"$.status\"",
            ));
            None
        }
        Some(text) => Selector::parse(text)
            .map_err(|e| {
                errors.push(FieldError::new(
                    "path",
                    format!("invalid selector {text:?}: {e}"),
                ))
            })
            .ok(),
    };
    let checks = compile_checks(raw, &mut errors);
    if errors.is_empty() && checks.is_empty() {
        errors.push(FieldError::new(
            "",
            format!("no operator: give at least one of {OPERATORS}"),
        ));
    }
    match selector {
        Some(selector) if errors.is_empty() => Ok(JsonAssertion { selector, checks }),
        _ => Err(errors),
    }
}

impl JsonAssertion {
    /// The selector this assertion checks.
    pub fn selector(&self) -> &Selector {
        &self.selector
    }

    /// What of a document the assertion reads: what its selector walks, then each match whole — or only its
    /// presence when every operator is `exists = true`, which looks at whether there are matches and never at
    /// them (`exists = false` renders a match it finds).
    pub fn need(&self) -> Need {
        let presence_only = self.checks.iter().all(|c| matches!(c.op, Op::Exists(true)));
        let at_match = if presence_only {
            Need::Presence
        } else {
            Need::All
        };
        self.selector.need_then(at_match)
    }

    /// What the assertion needs of the response, one claim per operator that needs a value (`exists = false`
    /// needs none): `type` a type, `equals` and `one_of` values, `matches` a string, the others presence.
    pub fn claims(&self) -> Vec<Claim> {
        let path = self.selector.claim_steps();
        (self.checks.iter())
            .filter_map(|check| {
                let kind = match &check.op {
                    Op::Exists(false) => return None,
                    Op::Type(t) => ClaimKind::Type(t.name()),
                    Op::Matches(_) => ClaimKind::Type("string"),
                    Op::Equals(value) => ClaimKind::OneOf(vec![value.clone()]),
                    Op::OneOf(values) => ClaimKind::OneOf(values.clone()),
                    Op::Exists(true) | Op::NonEmpty | Op::Length(..) | Op::NotEquals(_) => {
                        ClaimKind::Present
                    }
                };
                let by = "the JSON assertion";
                Some(Claim {
                    path: path.clone(),
                    kind,
                    by,
                })
            })
            .collect()
    }

    /// Checks the assertion against a response body, pushing one finding per violation (check = `json`).
    pub fn evaluate(&self, root: &Value, findings: &mut Vec<Finding>) {
        let matches = self.selector.select(root);
        let mut unchecked = Vec::new();
        for check in &self.checks {
            match (&check.op, matches.is_empty()) {
                (Op::Exists(true), true) => {
                    let path = Some(self.selector.to_string());
                    findings.push(json_finding(path, &check.expected, "absent".into()));
                }
                (Op::Exists(false), true) => {}
                (_, true) => unchecked.push(check.expected.as_str()),
                (_, false) => {
                    for (path, value) in &matches {
                        if let Some(actual) = check.op.violation(value) {
                            findings.push(json_finding(
                                Some(path.clone()),
                                &check.expected,
                                actual,
                            ));
                        }
                    }
                }
            }
        }
        // `exists = true` already reported the absence; otherwise one finding names every operator left unchecked.
        let presence_required = self.checks.iter().any(|c| matches!(c.op, Op::Exists(true)));
        if !unchecked.is_empty() && !presence_required {
            let actual = format!("no value at {}", self.selector);
            findings.push(json_finding(None, &unchecked.join(" and "), actual));
        }
    }
}

fn json_finding(path: Option<String>, expected: &str, actual: String) -> Finding {
    Finding::new("json", path, expected, actual, None)
}

impl Op {
    /// What the offending value looks like after "got", or `None` when the value satisfies the operator.
    fn violation(&self, value: &Value) -> Option<String> {
        let ok = match self {
            Op::Exists(present) => *present,
            Op::Type(t) => t.admits(value),
            Op::NonEmpty => {
                return length(value).map_or_else(
                    || Some(describe(value)),
                    |n| (n == 0).then(|| excerpt(value)),
                );
            }
            Op::Length(bound, want) => {
                let Some(n) = length(value) else {
                    return Some(describe(value));
                };
                let ok = match bound {
                    Bound::Exactly => n == *want,
                    Bound::AtLeast => n >= *want,
                    Bound::AtMost => n <= *want,
                };
                return (!ok).then(|| format!("length {n}"));
            }
            Op::Equals(want) => json_eq(value, want),
            Op::NotEquals(unwanted) => !json_eq(value, unwanted),
            Op::OneOf(options) => options.iter().any(|o| json_eq(value, o)),
            Op::Matches(re) => match value {
                Value::String(s) => re.is_match(s),
                _ => return Some(describe(value)),
            },
        };
        match (ok, self) {
            (true, _) => None,
            (false, Op::Type(_)) => Some(describe(value)),
            (false, _) => Some(excerpt(value)),
        }
    }
}

/// Characters of a string, elements of an array, keys of an object; `None` for other types.
fn length(value: &Value) -> Option<usize> {
    match value {
        Value::String(s) => Some(s.chars().count()),
        Value::Array(items) => Some(items.len()),
        Value::Object(map) => Some(map.len()),
        _ => None,
    }
}

impl JsonType {
    fn name(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Integer => "integer",
            JsonType::Boolean => "boolean",
            JsonType::Null => "null",
            JsonType::Array => "array",
            JsonType::Object => "object",
        }
    }

    fn parse(name: &str) -> Option<JsonType> {
        Some(match name {
            "string" => JsonType::String,
            "number" => JsonType::Number,
            "integer" => JsonType::Integer,
            "boolean" => JsonType::Boolean,
            "null" => JsonType::Null,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            _ => return None,
        })
    }

    /// Integers are numbers without a fractional part (so `3.0` is one, as in JSON Schema).
    fn admits(self, value: &Value) -> bool {
        match (self, value) {
            (JsonType::Integer, Value::Number(n)) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            (JsonType::Integer, _) => false,
            (JsonType::Number, _) => value.is_number(),
            (JsonType::String, _) => value.is_string(),
            (JsonType::Boolean, _) => value.is_boolean(),
            (JsonType::Null, _) => value.is_null(),
            (JsonType::Array, _) => value.is_array(),
            (JsonType::Object, _) => value.is_object(),
        }
    }
}

/// Compiles the operators in a fixed order (the order of the table's documentation).
fn compile_checks(raw: &RawJsonAssertion, errors: &mut Vec<FieldError>) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut push = |op: Op, expected: String| checks.push(Check { op, expected });
    if let Some(exists) = raw.exists {
        push(
            Op::Exists(exists),
            if exists { "present" } else { "absent" }.into(),
        );
    }
    if let Some(name) = &raw.r#type {
        match JsonType::parse(name) {
            Some(t) => push(Op::Type(t), format!("type {name}")),
            None => errors.push(FieldError::new(
                "type",
                format!("unknown type {name:?}; expected one of {TYPES}"),
            )),
        }
    }
    match raw.non_empty {
        Some(true) => push(Op::NonEmpty, "non-empty".into()),
        Some(false) => errors.push(FieldError::new(
            "non_empty",
            "only non_empty = true is meaningful; to require an empty value, use length = 0",
        )),
        None => {}
    }
    let length = lengths(raw, errors);
    for (bound, n, text) in length {
        push(Op::Length(bound, n), format!("length {text}{n}"));
    }
    if let Some(v) = json_value(raw.equals.as_ref(), "equals", errors) {
        let expected = v.to_string();
        push(Op::Equals(v), expected);
    }
    if let Some(v) = json_value(raw.not_equals.as_ref(), "not_equals", errors) {
        let expected = format!("not {v}");
        push(Op::NotEquals(v), expected);
    }
    if let Some(items) = &raw.one_of {
        if items.is_empty() {
            errors.push(FieldError::new("one_of", "give at least one value"));
        }
        let values: Vec<Value> = (items.iter().enumerate())
            .filter_map(|(i, item)| json_value(Some(item), &format!("one_of[{i}]"), errors))
            .collect();
        if !items.is_empty() && values.len() == items.len() {
            let expected = format!(
                "one of {}",
                serde_json::to_string(&values).unwrap_or_default()
            );
            push(Op::OneOf(values), expected);
        }
    }
    if let Some(pattern) = &raw.matches {
        match Regex::new(pattern) {
            Ok(re) => push(Op::Matches(re), format!("to match /{pattern}/")),
            Err(e) => errors.push(FieldError::new("matches", format!("invalid regex: {e}"))),
        }
    }
    if raw.exists == Some(false) && checks.len() > 1 {
        errors.push(FieldError::new(
            "exists",
            "exists = false cannot be combined with other operators: they need a value to check",
        ));
    }
    checks
}

/// `length`, `min_length`, `max_length` as bounds with their rendering (`""`, `">= "`, `"<= "`).
fn lengths(
    raw: &RawJsonAssertion,
    errors: &mut Vec<FieldError>,
) -> Vec<(Bound, usize, &'static str)> {
    let fields = [
        ("length", raw.length, Bound::Exactly, ""),
        ("min_length", raw.min_length, Bound::AtLeast, ">= "),
        ("max_length", raw.max_length, Bound::AtMost, "<= "),
    ];
    let mut bounds = Vec::new();
    for (key, value, bound, text) in fields {
        let Some(value) = value else { continue };
        match usize::try_from(value) {
            Ok(n) => bounds.push((bound, n, text)),
            Err(_) => errors.push(FieldError::new(
                key,
                format!("must be 0 or more, got {value}"),
            )),
        }
    }
    if let (Some(min), Some(max)) = (raw.min_length, raw.max_length) {
        if min > max && max >= 0 {
            errors.push(FieldError::new(
                "min_length",
                format!("min_length ({min}) is greater than max_length ({max}): nothing can match"),
            ));
        }
    }
    bounds
}

fn json_value(
    value: Option<&toml::Value>,
    key: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Value> {
    toml_to_json(value?)
        .map_err(|message| errors.push(FieldError::new(key, message)))
        .ok()
}
