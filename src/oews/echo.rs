//! `[[expect.echo]]`: a model override sent in the request must come back in a trace entry (runbook Task 15).

use super::entries::{data_sources, field_path, finding, first_of_type, got};
use crate::assert::{Claim, ClaimKind, Need, excerpt, json_eq, quote};
use crate::config::FieldError;
use crate::probe::Finding;
use serde::Deserialize;
use serde_json::Value;

const CHECK: &str = "echo";

/// One `[[expect.echo]]` table as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEcho {
    /// The trace entry type whose field must echo the override (the first entry of that type).
    pub entry: Option<String>,
    /// The entry's field that must equal what was sent.
    pub field: Option<String>,
    /// The request body field holding the sent value; default: `field`.
    pub request_field: Option<String>,
}

/// A compiled `[[expect.echo]]`, with the sent value resolved from the request body.
#[derive(Debug, Clone, PartialEq)]
pub struct EchoExpectation {
    entry: String,
    field: String,
    sent: Value,
    /// `"gpt-4o" (sent as implementation_model)`, rendered once.
    expected: String,
}

impl EchoExpectation {
    /// What the echo needs of the response: an entry of its type whose field can hold the sent value.
    pub fn claims(&self) -> Vec<Claim> {
        let by = "the override echo";
        vec![
            Claim::at(
                &["data_sources", "[*]", "type"],
                super::trace::one(&self.entry),
                by,
            ),
            Claim::at(
                &["data_sources", "[*]", self.field.as_str()],
                ClaimKind::OneOf(vec![self.sent.clone()]),
                by,
            ),
        ]
    }

    /// What of a body [`check_echo`] reads: of each `data_sources` entry, `type` and the echoed field, whole.
    pub fn need(&self) -> Need {
        let entry = Need::key("type", Need::All).merge(Need::key(self.field.as_str(), Need::All));
        Need::key("data_sources", Need::elements(entry))
    }
}

/// Compiles `[[expect.echo]]`; `request` is the probe's JSON request body, which must hold the value to echo.
pub fn compile_echo(
    raw: &RawEcho,
    request: Option<&Value>,
) -> Result<EchoExpectation, Vec<FieldError>> {
    let mut errors = Vec::new();
    let entry = required(
        &raw.entry,
        "entry",
        "the trace entry type, e.g. entry = \"planning\"",
        &mut errors,
    );
    let field = required(
        &raw.field,
        "field",
        "the entry's field, e.g. field = \"reasoning_model\"",
        &mut errors,
    );
    if raw.request_field.as_deref() == Some("") {
        errors.push(FieldError::new(
            "request_field",
            "must not be empty; leave it out to use field",
        ));
    }
    let request_field = raw
        .request_field
        .as_deref()
        .filter(|f| !f.is_empty())
        .or(field);
    let sent = request_field.and_then(|name| {
        let sent = request.and_then(|r| r.get(name));
        if sent.is_none() {
            let message = format!("the request body has no {} to echo", quote(name));
            errors.push(FieldError::new("request_field", message));
        }
        sent
    });
    match (entry, field, request_field, sent) {
        (Some(entry), Some(field), Some(request_field), Some(sent)) if errors.is_empty() => {
            Ok(EchoExpectation {
                entry: entry.to_string(),
                field: field.to_string(),
                expected: format!("{} (sent as {request_field})", excerpt(sent)),
                sent: sent.clone(),
            })
        }
        _ => Err(errors),
    }
}

fn required<'a>(
    value: &'a Option<String>,
    key: &str,
    what: &str,
    errors: &mut Vec<FieldError>,
) -> Option<&'a str> {
    match value.as_deref() {
        None => errors.push(FieldError::new(key, format!("missing: name {what}"))),
        Some("") => errors.push(FieldError::new(key, "must not be empty")),
        Some(v) => return Some(v),
    }
    None
}

/// Checks that the first trace entry of the expected type echoes the sent value (check = `echo`).
pub fn check_echo(expectation: &EchoExpectation, body: &Value, findings: &mut Vec<Finding>) {
    let entries = data_sources(body).unwrap_or_default();
    let Some((i, entry)) = first_of_type(entries, &expectation.entry) else {
        let expected = format!(
            "an entry with type {} to echo {}",
            quote(&expectation.entry),
            expectation.field
        );
        findings.push(finding(CHECK, "data_sources", expected, "none", None));
        return;
    };
    match entry.get(&expectation.field) {
        Some(echoed) if json_eq(echoed, &expectation.sent) => {}
        other => findings.push(finding(
            CHECK,
            field_path(i, &expectation.field),
            expectation.expected.as_str(),
            got(other),
            Some("override not echoed"),
        )),
    }
}
