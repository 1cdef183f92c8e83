//! `[expect.validation_error]`: an invalid request must be refused with 422 and an error naming the offending
//! field (runbook Task 16).

use super::entries::{finding, got};
use crate::assert::{Need, quote};
use crate::config::FieldError;
use crate::probe::Finding;
use serde::Deserialize;
use serde_json::Value;

const CHECK: &str = "validation_error";

/// `[expect.validation_error]` as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawValidationError {
    /// The request field the error must name, e.g. `reasoning_model`.
    pub field: Option<String>,
}

/// A compiled `[expect.validation_error]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationErrorExpectation {
    field: String,
}

impl ValidationErrorExpectation {
    /// The request field the error must name.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What of a body [`check_validation_error`] reads: `detail` (searched, and rendered when it does not name
    /// the field) and `msg`, whole.
    pub fn need(&self) -> Need {
        Need::key("detail", Need::All).merge(Need::key("msg", Need::All))
    }
}

/// Compiles `[expect.validation_error]`.
pub fn compile_validation_error(
    raw: &RawValidationError,
) -> Result<ValidationErrorExpectation, Vec<FieldError>> {
    match raw.field.as_deref() {
        None => Err(vec![FieldError::new(
            "field",
            "missing: name the request field the error must name, e.g. field = \"reasoning_model\"",
        )]),
        Some("") => Err(vec![FieldError::new("field", "must not be empty")]),
        Some(field) => Ok(ValidationErrorExpectation {
            field: field.to_string(),
        }),
    }
}

/// Checks for a 422 whose body names the field (check = `validation_error`). `body` is `None` when the
/// response body is not JSON. A wrong status is named by `request`, the request line as sent
/// (`POST /api/v1/query: expected 422 …`).
pub fn check_validation_error(
    expectation: &ValidationErrorExpectation,
    request: &str,
    status: u16,
    body: Option<&Value>,
    findings: &mut Vec<Finding>,
) {
    let field = expectation.field.as_str();
    if status != 422 {
        let expected = format!("422 (validation error naming {})", quote(field));
        let note = (200..300)
            .contains(&status)
            .then_some("the invalid value was accepted");
        findings.push(Finding::of_request(
            CHECK,
            request,
            expected,
            status.to_string(),
            note,
        ));
        return;
    }
    if body.is_some_and(|b| names_field(b, field)) {
        return;
    }
    let actual = match body {
        None => "a body that is not JSON".to_string(),
        Some(body) => got(body.get("detail")),
    };
    findings.push(finding(
        CHECK,
        "detail",
        format!("an error naming {}", quote(field)),
        actual,
        None,
    ));
}

/// FastAPI's `{"detail": [{"loc": [..., FIELD], "msg": ...}]}`, or a `detail`/`msg` string mentioning the field
/// (case-insensitive).
fn names_field(body: &Value, field: &str) -> bool {
    let mentions = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .is_some_and(|s| contains_ignore_case(s, field))
    };
    let item_names = |item: &Value| {
        let in_loc = item
            .get("loc")
            .and_then(Value::as_array)
            .is_some_and(|loc| {
                loc.iter()
                    .any(|part| part.as_str().is_some_and(|p| p.eq_ignore_ascii_case(field)))
            });
        in_loc || mentions(item.get("msg"))
    };
    let in_detail = match body.get("detail") {
        Some(Value::Array(items)) => items.iter().any(item_names),
        Some(detail @ Value::Object(_)) => item_names(detail),
        detail => mentions(detail),
    };
    in_detail || mentions(body.get("msg"))
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let needle = needle.as_bytes();
    needle.is_empty()
        || haystack
            .as_bytes()
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}
