//! Validation of `POST /api/v1/query` bodies the way FastAPI and pydantic v2 do it, with their error bodies.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::models;

const MIN_QUERY_CHARS: usize = 3;
const MAX_QUERY_CHARS: usize = 500;

/// A query request that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueryRequest {
    pub query: String,
    pub enable_charts: bool,
    pub reasoning_model: Option<String>,
    pub implementation_model: Option<String>,
}

/// The profile-dependent parts of validation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryRules {
    /// `enable_charts` when the request leaves it out.
    pub charts_by_default: bool,
    /// Refuse model overrides that are not registry keys.
    pub require_known_models: bool,
}

/// Why a body was refused.
#[derive(Debug)]
pub(crate) enum Rejection {
    /// 422 with FastAPI's `{"detail":[...]}`.
    Invalid(ValidationErrorBody),
    /// 400 `{"detail":"There was an error parsing the body"}` (a body that is not text at all).
    Unreadable,
}

/// FastAPI's 422 body.
#[derive(Debug, Serialize)]
pub(crate) struct ValidationErrorBody {
    detail: Vec<ErrorDetail>,
}

/// One pydantic error, with FastAPI's key order: type, loc, msg, input, ctx.
#[derive(Debug, Serialize)]
struct ErrorDetail {
    #[serde(rename = "type")]
    kind: &'static str,
    loc: Vec<LocPart>,
    msg: String,
    input: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    ctx: Option<Context>,
}

/// pydantic's `ctx`: the constraint or the decoder message behind an error.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Context {
    MinLength { min_length: usize },
    MaxLength { max_length: usize },
    Error { error: &'static str },
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum LocPart {
    Name(&'static str),
    Index(usize),
}

impl ErrorDetail {
    fn new(kind: &'static str, loc: Vec<LocPart>, msg: impl Into<String>, input: Value) -> Self {
        ErrorDetail {
            kind,
            loc,
            msg: msg.into(),
            input,
            ctx: None,
        }
    }

    fn with_ctx(mut self, ctx: Context) -> Self {
        self.ctx = Some(ctx);
        self
    }

    fn at_field(field: &'static str) -> Vec<LocPart> {
        vec![LocPart::Name("body"), LocPart::Name(field)]
    }
}

fn invalid(details: Vec<ErrorDetail>) -> Rejection {
    Rejection::Invalid(ValidationErrorBody { detail: details })
}

/// Validates a query body. `content_type` is the request's header, if any.
pub(crate) fn validate_query(
    content_type: Option<&str>,
    body: &[u8],
    rules: QueryRules,
) -> Result<QueryRequest, Rejection> {
    if body.is_empty() {
        return Err(invalid(vec![missing_body()]));
    }
    if !is_json_content_type(content_type) {
        // FastAPI hands the raw bytes to pydantic, which wants an object.
        let text = String::from_utf8_lossy(body).into_owned();
        return Err(invalid(vec![not_an_object(Value::String(text))]));
    }
    let text = std::str::from_utf8(body).map_err(|_| Rejection::Unreadable)?;
    let value: Value =
        serde_json::from_str(text).map_err(|error| invalid(vec![json_invalid(text, &error)]))?;
    match value {
        Value::Null => Err(invalid(vec![missing_body()])),
        Value::Object(fields) => validate_fields(&fields, rules),
        other => Err(invalid(vec![not_an_object(other)])),
    }
}

/// FastAPI parses the body as JSON when the content type is absent, `application/json` or `application/*+json`.
fn is_json_content_type(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return true;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", subtype)) => subtype == "json" || subtype.ends_with("+json"),
        _ => false,
    }
}

fn missing_body() -> ErrorDetail {
    ErrorDetail::new(
        "missing",
        vec![LocPart::Name("body")],
        "Field required",
        Value::Null,
    )
}

fn not_an_object(input: Value) -> ErrorDetail {
    ErrorDetail::new(
        "model_attributes_type",
        vec![LocPart::Name("body")],
        "Input should be a valid dictionary or object to extract fields from",
        input,
    )
}

/// FastAPI's `json_invalid` error: `loc` holds Python's character position of the decode error.
fn json_invalid(text: &str, error: &serde_json::Error) -> ErrorDetail {
    let position = if error.is_eof() {
        text.chars().count()
    } else {
        char_position(text, error.line(), error.column())
    };
    ErrorDetail::new(
        "json_invalid",
        vec![LocPart::Name("body"), LocPart::Index(position)],
        "JSON decode error",
        json!({}),
    )
    .with_ctx(Context::Error {
        error: python_json_message(error),
    })
}

/// Character index of serde_json's 1-based line and (byte) column.
fn char_position(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut byte = (line_start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    text[..byte].chars().count()
}

/// An approximation of the message Python's `json` module gives for the same mistake.
fn python_json_message(error: &serde_json::Error) -> &'static str {
    const MESSAGES: [(&str, &str); 9] = [
        ("EOF while parsing a list", "Expecting ',' delimiter"),
        ("EOF while parsing an object", "Expecting ',' delimiter"),
        ("expected `,`", "Expecting ',' delimiter"),
        ("expected `:`", "Expecting ':' delimiter"),
        (
            "key must be a string",
            "Expecting property name enclosed in double quotes",
        ),
        (
            "EOF while parsing a string",
            "Unterminated string starting at",
        ),
        ("control character", "Invalid control character at"),
        ("invalid escape", "Invalid \\escape"),
        ("trailing characters", "Extra data"),
    ];
    let text = error.to_string();
    MESSAGES
        .iter()
        .find(|(serde_prefix, _)| text.starts_with(serde_prefix))
        .map_or("Expecting value", |(_, python)| python)
}

fn validate_fields(
    fields: &Map<String, Value>,
    rules: QueryRules,
) -> Result<QueryRequest, Rejection> {
    let mut errors = Vec::new();
    let query = validate_query_text(fields, &mut errors);
    let enable_charts = match fields.get("enable_charts") {
        None => Some(rules.charts_by_default),
        Some(value) => match lax_bool(value) {
            Ok(flag) => Some(flag),
            Err(error) => {
                errors.push(error);
                None
            }
        },
    };
    let reasoning_model = validate_model(fields, "reasoning_model", rules, &mut errors);
    let implementation_model = validate_model(fields, "implementation_model", rules, &mut errors);
    match (query, enable_charts, reasoning_model, implementation_model) {
        (Some(query), Some(enable_charts), Some(reasoning_model), Some(implementation_model)) => {
            Ok(QueryRequest {
                query,
                enable_charts,
                reasoning_model,
                implementation_model,
            })
        }
        _ => Err(invalid(errors)),
    }
}

fn validate_query_text(
    fields: &Map<String, Value>,
    errors: &mut Vec<ErrorDetail>,
) -> Option<String> {
    let loc = || ErrorDetail::at_field("query");
    let Some(value) = fields.get("query") else {
        errors.push(ErrorDetail::new(
            "missing",
            loc(),
            "Field required",
            Value::Object(fields.clone()),
        ));
        return None;
    };
    let Value::String(text) = value else {
        errors.push(string_type_error("query", value));
        return None;
    };
    let length = text.chars().count();
    if length < MIN_QUERY_CHARS {
        errors.push(
            ErrorDetail::new(
                "string_too_short",
                loc(),
                format!("String should have at least {MIN_QUERY_CHARS} characters"),
                value.clone(),
            )
            .with_ctx(Context::MinLength {
                min_length: MIN_QUERY_CHARS,
            }),
        );
        return None;
    }
    if length > MAX_QUERY_CHARS {
        errors.push(
            ErrorDetail::new(
                "string_too_long",
                loc(),
                format!("String should have at most {MAX_QUERY_CHARS} characters"),
                value.clone(),
            )
            .with_ctx(Context::MaxLength {
                max_length: MAX_QUERY_CHARS,
            }),
        );
        return None;
    }
    Some(text.clone())
}

fn string_type_error(field: &'static str, value: &Value) -> ErrorDetail {
    ErrorDetail::new(
        "string_type",
        ErrorDetail::at_field(field),
        "Input should be a valid string",
        value.clone(),
    )
}

/// An optional model override: `Some(None)` when absent or null, `None` when it produced an error.
fn validate_model(
    fields: &Map<String, Value>,
    field: &'static str,
    rules: QueryRules,
    errors: &mut Vec<ErrorDetail>,
) -> Option<Option<String>> {
    match fields.get(field) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(key)) if rules.require_known_models && !models::is_known(key) => {
            errors.push(ErrorDetail::new(
                "value_error",
                ErrorDetail::at_field(field),
                format!(
                    "Value error, unknown model '{key}'; known: {}",
                    models::known_keys()
                ),
                Value::String(key.clone()),
            ));
            None
        }
        Some(Value::String(key)) => Some(Some(key.clone())),
        Some(other) => {
            errors.push(string_type_error(field, other));
            None
        }
    }
}

/// pydantic's lax boolean: true/false, 0/1, and the usual words.
fn lax_bool(value: &Value) -> Result<bool, ErrorDetail> {
    let unable = || {
        ErrorDetail::new(
            "bool_parsing",
            ErrorDetail::at_field("enable_charts"),
            "Input should be a valid boolean, unable to interpret input",
            value.clone(),
        )
    };
    match value {
        Value::Bool(flag) => Ok(*flag),
        Value::Number(number) => match number.as_f64() {
            Some(0.0) => Ok(false),
            Some(1.0) => Ok(true),
            _ => Err(unable()),
        },
        Value::String(word) => match word.to_ascii_lowercase().as_str() {
            "0" | "off" | "f" | "false" | "n" | "no" => Ok(false),
            "1" | "on" | "t" | "true" | "y" | "yes" => Ok(true),
            _ => Err(unable()),
        },
        _ => Err(ErrorDetail::new(
            "bool_type",
            ErrorDetail::at_field("enable_charts"),
            "Input should be a valid boolean",
            value.clone(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNBOOK: QueryRules = QueryRules {
        charts_by_default: false,
        require_known_models: true,
    };
    const AS_BUILT: QueryRules = QueryRules {
        charts_by_default: true,
        require_known_models: false,
    };

    fn rejection_body(content_type: Option<&str>, body: &str, rules: QueryRules) -> String {
        match validate_query(content_type, body.as_bytes(), rules) {
            Err(Rejection::Invalid(errors)) => {
                serde_json::to_string(&errors).expect("serializable")
            }
            other => panic!("expected a 422 for {body:?}, got {other:?}"),
        }
    }

    #[test]
    fn accepts_a_valid_query_with_profile_defaults() {
        let body = br#"{"query":"What are software salaries?","extra":1}"#;
        let request = validate_query(None, body, AS_BUILT).expect("valid");
        assert_eq!(request.query, "What are software salaries?");
        assert!(request.enable_charts);
        let request = validate_query(Some("application/json"), body, RUNBOOK).expect("valid");
        assert!(!request.enable_charts);
    }

    #[test]
    fn error_bodies_match_fastapi_byte_for_byte() {
        let cases = [
            (
                r#"{"query": "ab"}"#,
                r#"{"detail":[{"type":"string_too_short","loc":["body","query"],"msg":"String should have at least 3 characters","input":"ab","ctx":{"min_length":3}}]}"#,
            ),
            (
                r#"{"query": }"#,
                r#"{"detail":[{"type":"json_invalid","loc":["body",10],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting value"}}]}"#,
            ),
            (
                r#"{"q": "abc"}"#,
                r#"{"detail":[{"type":"missing","loc":["body","query"],"msg":"Field required","input":{"q":"abc"}}]}"#,
            ),
            (
                r#"[1]"#,
                r#"{"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[1]}]}"#,
            ),
            (
                r#"{"query": 5, "enable_charts": "maybe"}"#,
                r#"{"detail":[{"type":"string_type","loc":["body","query"],"msg":"Input should be a valid string","input":5},{"type":"bool_parsing","loc":["body","enable_charts"],"msg":"Input should be a valid boolean, unable to interpret input","input":"maybe"}]}"#,
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(rejection_body(None, body, AS_BUILT), expected, "{body}");
        }
    }

    #[test]
    fn json_errors_report_python_positions() {
        assert!(
            rejection_body(None, "{\"query\": \"abc\"", AS_BUILT).contains(r#""loc":["body",15]"#)
        );
        assert!(
            rejection_body(None, "{\n \"query\": x}", AS_BUILT).contains(r#""loc":["body",12]"#)
        );
        assert!(rejection_body(None, "{} x", AS_BUILT).contains(r#""ctx":{"error":"Extra data"}"#));
    }

    #[test]
    fn unknown_models_are_refused_only_when_required() {
        let body = r#"{"query":"What are software salaries?","reasoning_model":"invalid-model"}"#;
        assert_eq!(
            rejection_body(None, body, RUNBOOK),
            r#"{"detail":[{"type":"value_error","loc":["body","reasoning_model"],"msg":"Value error, unknown model 'invalid-model'; known: deepseek-r1, gpt-4o, deepseek-v3, gpt-4o-mini, ollama-llama3","input":"invalid-model"}]}"#
        );
        let request = validate_query(None, body.as_bytes(), AS_BUILT).expect("accepted as built");
        assert_eq!(request.reasoning_model.as_deref(), Some("invalid-model"));
    }

    #[test]
    fn bodies_that_are_not_json_objects() {
        assert!(
            rejection_body(None, "", AS_BUILT).contains(
                r#"{"type":"missing","loc":["body"],"msg":"Field required","input":null}"#
            )
        );
        assert!(
            rejection_body(Some("text/plain"), "query=abc", AS_BUILT)
                .contains(r#""input":"query=abc""#)
        );
        assert!(matches!(
            validate_query(None, b"\xff\xfe", AS_BUILT),
            Err(Rejection::Unreadable)
        ));
        assert!(
            validate_query(
                Some("application/vnd.api+json; charset=utf-8"),
                br#"{"query":"abc"}"#,
                AS_BUILT
            )
            .is_ok()
        );
    }

    #[test]
    fn enable_charts_is_a_lax_boolean() {
        for (raw, expected) in [
            ("true", true),
            ("0", false),
            ("\"yes\"", true),
            ("\"off\"", false),
            ("1.0", true),
        ] {
            let body = format!(r#"{{"query":"abc","enable_charts":{raw}}}"#);
            let request = validate_query(None, body.as_bytes(), AS_BUILT).expect("valid");
            assert_eq!(request.enable_charts, expected, "{raw}");
        }
        assert!(
            rejection_body(None, r#"{"query":"abc","enable_charts":null}"#, AS_BUILT)
                .contains("bool_type")
        );
    }
}
