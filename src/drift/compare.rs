//! One probe held against the service's document: is its operation served, does the request schema accept
//! (or, for a 422 probe, reject) its body and declare what it sends, and can the response schema of the
//! status it expects hold what its checks require (pure).

use super::document::Violation;
use super::finding::DriftFinding;
use super::schema::{Node, Step};
use super::{Document, Operation};
use crate::assert::{Claim, ClaimKind, ClaimPath, ClaimStep};
use crate::probe::ProbeSpec;
use serde_json::Value;

/// Every difference between `probe` and the document, in a stable order, without repeats.
pub fn compare(doc: &Document, probe: &ProbeSpec) -> Vec<DriftFinding> {
    let request = &probe.request;
    let Some(op) = doc.find(&request.method, &request.path) else {
        return vec![not_served(doc, probe)];
    };
    let mut findings = Vec::new();
    if let (Some(body), Some(pointer)) = (request.json_body(), doc.request_schema(&op)) {
        request_findings(doc, probe, body, &pointer, &mut findings);
    }
    let expected = &probe.expect.status;
    if let Some((_, pointer)) = doc.response_schema(&op, |s| expected.matches(s)) {
        for claim in claims(probe) {
            if let Some(finding) = claim_finding(doc, probe, &pointer, &claim)
                && !findings.contains(&finding)
            {
                findings.push(finding);
            }
        }
    }
    findings
}

/// Everything the probe's response checks need of the response.
fn claims(probe: &ProbeSpec) -> Vec<Claim> {
    let expect = &probe.expect;
    (expect.json.iter().flat_map(|a| a.claims()))
        .chain(expect.trace.iter().flat_map(|t| t.claims()))
        .chain(expect.echo.iter().flat_map(|e| e.claims()))
        .collect()
}

fn finding(
    check: &'static str,
    probe: &ProbeSpec,
    path: String,
    expected: String,
    actual: String,
    message: String,
) -> DriftFinding {
    DriftFinding {
        check: check.to_owned(),
        probe: probe.name.clone(),
        path,
        expected,
        actual,
        message,
    }
}

/// `path-not-served`, naming the closest operation the document lists.
fn not_served(doc: &Document, probe: &ProbeSpec) -> DriftFinding {
    let asked = Operation {
        method: probe.request.method.clone(),
        path: probe.request.path.clone(),
    };
    let closest = doc.closest(&asked.method, &asked.path);
    let (actual, listed) = match closest {
        Some(op) => (op.to_string(), format!("the service's document lists {op}")),
        None => (
            "nothing".to_owned(),
            "the service's document lists no path".to_owned(),
        ),
    };
    let message = format!("{asked} is not served; {listed}");
    finding(
        "path-not-served",
        probe,
        "#/paths".into(),
        asked.to_string(),
        actual,
        message,
    )
}

/// The body against the request schema: fields it does not declare; a rejection a 2xx probe cannot pass;
/// an acceptance a 422 probe cannot pass.
fn request_findings(
    doc: &Document,
    probe: &ProbeSpec,
    body: &Value,
    pointer: &str,
    findings: &mut Vec<DriftFinding>,
) {
    let Some(schema) = Node::at(doc, pointer) else {
        return;
    };
    for key in body.as_object().into_iter().flat_map(|map| map.keys()) {
        if let Step::Undeclared { properties, title } = schema.key(doc, key) {
            let message = format!("the probe sends {key}, which {title} does not declare");
            let expected = format!("a field of {title}");
            findings.push(finding(
                "request-field-unknown",
                probe,
                properties,
                expected,
                key.clone(),
                message,
            ));
        }
    }
    let Ok(errors) = doc.violations(pointer, body) else {
        return;
    };
    let status = &probe.expect.status;
    let expects_success = (200..300).any(|s| status.matches(s));
    if expects_success {
        for Violation {
            instance,
            keyword,
            error,
        } in errors
        {
            let message = format!(
                "{instance}: {error}, so the service answers 422 and the probe cannot pass"
            );
            let expected = "a body the request schema accepts".to_owned();
            let check = "request-body-rejected";
            findings.push(finding(check, probe, keyword, expected, error, message));
        }
    } else if errors.is_empty() && status.matches(422) {
        findings.push(constraint_missing(doc, probe, body, &schema));
    }
}

/// `constraint-missing`: a 422 probe whose body the request schema accepts, named by the field its
/// validation error check names when the schema declares it.
fn constraint_missing(
    doc: &Document,
    probe: &ProbeSpec,
    body: &Value,
    schema: &Node,
) -> DriftFinding {
    let field = probe.expect.validation_error.as_ref().map(|v| v.field());
    let declared = field.and_then(|f| match schema.key(doc, f) {
        Step::Declared(node) => Some((f, node)),
        _ => None,
    });
    let Some((field, node)) = declared else {
        let message =
            "the request schema accepts the probe's body, so the 422 probe cannot pass".to_owned();
        let expected = "a schema rejecting the body".to_owned();
        return finding(
            "constraint-missing",
            probe,
            schema.pointer.clone(),
            expected,
            "accepted".into(),
            message,
        );
    };
    let sent = body
        .get(field)
        .map_or_else(|| "it".to_owned(), Value::to_string);
    let what = if node.is_plain_string(doc) {
        "a plain string with no enum".to_owned()
    } else {
        node.summary(doc)
    };
    let message =
        format!("{field} is {what}, so {sent} will be accepted and the 422 probe cannot pass");
    let expected = format!("a constraint rejecting {field} {sent}");
    finding(
        "constraint-missing",
        probe,
        node.pointer.clone(),
        expected,
        node.summary(doc),
        message,
    )
}

/// A claim held against the response schema at `pointer`: its path walked, then its type or values.
fn claim_finding(
    doc: &Document,
    probe: &ProbeSpec,
    pointer: &str,
    claim: &Claim,
) -> Option<DriftFinding> {
    let mut node = Node::at(doc, pointer)?;
    let path = ClaimPath(&claim.path).to_string();
    let never = |what: String| format!("{what}, so {} can never pass", claim.by);
    for step in &claim.path {
        let next = match step {
            ClaimStep::Key(key) => node.key(doc, key),
            ClaimStep::Each => node.each(doc),
        };
        match next {
            Step::Declared(child) => node = child,
            Step::Open => return None,
            Step::Undeclared { properties, title } => {
                let ClaimStep::Key(key) = step else {
                    return None;
                };
                let message = never(format!("{title} has no {key}"));
                let actual = format!("absent from {title}");
                return Some(finding(
                    "response-field-undeclared",
                    probe,
                    properties,
                    path,
                    actual,
                    message,
                ));
            }
            Step::Contradicted(types) => {
                let actual = types.join(" or ");
                let message = never(format!(
                    "{path}: the document makes {} a {actual}",
                    node.pointer
                ));
                let expected = "an object or array to step into".to_owned();
                return Some(contradicted(probe, node.pointer, expected, actual, message));
            }
        }
    }
    let expected = match &claim.kind {
        ClaimKind::Present => return None,
        ClaimKind::Type(t) => {
            let types = node.types(doc)?;
            if types.iter().any(|d| compatible(t, d)) {
                return None;
            }
            (*t).to_owned()
        }
        ClaimKind::OneOf(values) => {
            let validator = doc.validator(&node.pointer).ok()?;
            if values.iter().any(|v| validator.is_valid(v)) {
                return None;
            }
            let texts: Vec<String> = values.iter().map(Value::to_string).collect();
            texts.join(" or ")
        }
    };
    let actual = node.summary(doc);
    let message = never(format!(
        "{path}: the probe expects {expected}, the document declares {actual}"
    ));
    Some(contradicted(probe, node.pointer, expected, actual, message))
}

/// `response-type-contradicted` at the schema `pointer`.
fn contradicted(
    probe: &ProbeSpec,
    pointer: String,
    expected: String,
    actual: String,
    message: String,
) -> DriftFinding {
    let check = "response-type-contradicted";
    finding(check, probe, pointer, expected, actual, message)
}

/// Whether a value of the claimed type can have the declared type (integers are numbers).
fn compatible(claimed: &str, declared: &str) -> bool {
    claimed == declared
        || matches!(
            (claimed, declared),
            ("integer", "number") | ("number", "integer")
        )
}
