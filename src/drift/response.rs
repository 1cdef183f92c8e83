//! A response held against the service's document (`expect.openapi`): its body validated against the
//! schema its operation declares for the status received, one finding per violation (pure).

use super::Document;
use crate::probe::Finding;

const CHECK: &str = "openapi";

/// The findings of the answer to `request` (`GET /api/v1/health`: the method, then the path as sent) with
/// `status` and `body`: none when the document declares no JSON schema for that status.
pub fn response_findings(doc: &Document, request: &str, status: u16, body: &[u8]) -> Vec<Finding> {
    let (method, path) = request.split_once(' ').unwrap_or(("GET", request));
    let Some(op) = doc.find(method, path) else {
        let expected = "an operation the service's document lists";
        return vec![Finding::of_request(CHECK, request, expected, "none", None)];
    };
    let Some((_, pointer)) = doc.response_schema(&op, |s| s == status) else {
        return Vec::new();
    };
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            let actual = format!("invalid JSON ({e})");
            let expected = format!("a JSON body (the document's {pointer})");
            return vec![Finding::of_request(CHECK, request, expected, actual, None)];
        }
    };
    let violations = match doc.violations(&pointer, &value) {
        Ok(violations) => violations,
        Err(error) => {
            let expected = "a schema that compiles";
            return vec![Finding::of_request(CHECK, request, expected, error, None)];
        }
    };
    (violations.into_iter())
        .map(|v| Finding {
            check: CHECK.to_owned(),
            message: format!("{}: {} — the document's {}", v.instance, v.error, v.keyword),
            path: Some(v.instance),
            expected: v.keyword,
            actual: v.error,
        })
        .collect()
}
