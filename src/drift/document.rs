//! The service's OpenAPI document: checked to be OpenAPI 3.x, its operations found by method and path
//! (a templated segment `{id}` matches any segment), the closest listed operation, the JSON pointers of an
//! operation's request and response schemas, and validators for any schema in it (pure).

use serde_json::Value;
use std::fmt;

/// A parsed OpenAPI 3.x document.
#[derive(Debug, Clone)]
pub struct Document {
    root: Value,
}

/// Why a body is not a usable OpenAPI document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("not JSON ({0})")]
    NotJson(String),
    #[error("not an OpenAPI 3.x document ({0})")]
    NotOpenApi(String),
}

/// One operation the document lists: the upper-case method and the path as written (`/items/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub method: String,
    pub path: String,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

impl Document {
    /// Parses a body: JSON, an object whose `openapi` is a `3.x` version and whose `paths` is an object.
    pub fn parse(body: &[u8]) -> Result<Document, DocumentError> {
        let root: Value =
            serde_json::from_slice(body).map_err(|e| DocumentError::NotJson(e.to_string()))?;
        Document::from_value(root)
    }

    pub fn from_value(root: Value) -> Result<Document, DocumentError> {
        let not = |why: String| Err(DocumentError::NotOpenApi(why));
        match root.get("openapi") {
            None => return not("no \"openapi\" version".into()),
            Some(Value::String(v)) if v.starts_with("3.") => {}
            Some(other) => return not(format!("its \"openapi\" is {other}")),
        }
        if !root.get("paths").is_some_and(Value::is_object) {
            return not("no \"paths\" object".into());
        }
        Ok(Document { root })
    }

    /// `OEWS Data Agent API 1.0.0 (OpenAPI 3.1.0)`, from `info` and `openapi`.
    pub fn describe(&self) -> String {
        let text = |pointer| self.root.pointer(pointer).and_then(Value::as_str);
        let title = text("/info/title").unwrap_or("untitled");
        let version = text("/info/version").unwrap_or("?");
        let openapi = text("/openapi").unwrap_or("3");
        format!("{title} {version} (OpenAPI {openapi})")
    }

    /// The schema or other value at a document pointer (`#/components/schemas/DataSource`).
    pub fn at(&self, pointer: &str) -> Option<&Value> {
        self.root
            .pointer(pointer.strip_prefix('#').unwrap_or(pointer))
    }

    /// Every operation, in document order.
    pub fn operations(&self) -> Vec<Operation> {
        let Some(paths) = self.root.get("paths").and_then(Value::as_object) else {
            return Vec::new();
        };
        let mut operations = Vec::new();
        for (path, item) in paths {
            for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
                operations.push(Operation {
                    method: method.to_uppercase(),
                    path: path.clone(),
                });
            }
        }
        operations
    }

    /// The operation serving `method path` (the query of `path` ignored).
    pub fn find(&self, method: &str, path: &str) -> Option<Operation> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        (self.operations().into_iter())
            .find(|op| op.method.eq_ignore_ascii_case(method) && template_matches(&op.path, path))
    }

    /// The listed operation closest to `method path`: the same method first, then the path ending in the
    /// most of the same segments (`/health` for `/api/v1/health`), then the fewest character edits.
    pub fn closest(&self, method: &str, path: &str) -> Option<Operation> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        (self.operations().into_iter()).min_by_key(|op| {
            let other_method = !op.method.eq_ignore_ascii_case(method);
            let same_tail = (op.path.rsplit('/').zip(path.rsplit('/')))
                .take_while(|(a, b)| a == b && !a.is_empty())
                .count();
            let edits = crate::config::edit_distance(&op.path, path);
            (other_method, std::cmp::Reverse(same_tail), edits)
        })
    }

    /// The pointer of the operation's JSON request body schema, when it declares one.
    pub fn request_schema(&self, op: &Operation) -> Option<String> {
        let pointer = format!(
            "{}/requestBody/content/application~1json/schema",
            operation_pointer(op)
        );
        self.at(&pointer).map(|_| pointer)
    }

    /// The declared response for a status `accepts`: an exact code first (`"200"`), then a range (`"2XX"`);
    /// its status key and the pointer of its JSON schema, when it declares one.
    pub fn response_schema(
        &self,
        op: &Operation,
        accepts: impl Fn(u16) -> bool,
    ) -> Option<(String, String)> {
        let responses = format!("{}/responses", operation_pointer(op));
        let declared = self.at(&responses)?.as_object()?;
        let exact = declared
            .keys()
            .find(|key| key.parse::<u16>().is_ok_and(&accepts));
        let range = || {
            declared.keys().find(|key| {
                let digit = key.strip_suffix("XX").and_then(|d| d.parse::<u16>().ok());
                digit.is_some_and(|d| (d * 100..d * 100 + 100).any(&accepts))
            })
        };
        let key = exact.or_else(range)?;
        let pointer = format!(
            "{responses}/{key}/content/application~1json/schema",
            key = escape(key)
        );
        self.at(&pointer).map(|_| (key.clone(), pointer))
    }

    /// A JSON Schema (2020-12) validator for the schema at `pointer`, the document's own references
    /// resolved within it.
    pub fn validator(&self, pointer: &str) -> Result<jsonschema::Validator, String> {
        let mut root = self.root.clone();
        if let Some(map) = root.as_object_mut() {
            map.insert("$ref".to_owned(), Value::String(pointer.to_owned()));
        }
        jsonschema::draft202012::new(&root).map_err(|e| format!("{pointer}: {e}"))
    }
}

/// One way a value breaks a schema: where in the value (`data_sources[2].agent`, `body` for the root),
/// the document pointer of the keyword that failed, and the validator's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub instance: String,
    pub keyword: String,
    pub error: String,
}

impl Document {
    /// Every way `value` breaks the schema at `pointer`; `Err` when that schema does not compile.
    pub fn violations(&self, pointer: &str, value: &Value) -> Result<Vec<Violation>, String> {
        let validator = self.validator(pointer)?;
        let violations = (validator.iter_errors(value))
            .map(|error| {
                // The keyword location within the document, whose root the validator started from.
                let keyword = format!("#{}", error.schema_path());
                let known = keyword != "#" && self.at(&keyword).is_some();
                Violation {
                    instance: instance_path(&error.instance_path().to_string()),
                    keyword: if known { keyword } else { pointer.to_owned() },
                    error: error.to_string(),
                }
            })
            .collect();
        Ok(violations)
    }
}

/// A validator's instance location (`/data_sources/2/agent`) as findings write paths: `data_sources[2].agent`
/// (`body` for the root).
pub fn instance_path(pointer: &str) -> String {
    let mut path = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.parse::<usize>().is_ok() {
            path.push_str(&format!("[{segment}]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&segment);
        }
    }
    if path.is_empty() {
        "body".to_owned()
    } else {
        path
    }
}

/// The pointer of an operation: `#/paths/~1api~1v1~1query/post`.
fn operation_pointer(op: &Operation) -> String {
    format!(
        "#/paths/{}/{}",
        escape(&op.path),
        op.method.to_ascii_lowercase()
    )
}

/// A JSON pointer segment: `~` and `/` escaped.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Whether a path template (`/items/{id}`) matches a concrete path (`/items/42`).
fn template_matches(template: &str, path: &str) -> bool {
    let (template, path): (Vec<&str>, Vec<&str>) =
        (template.split('/').collect(), path.split('/').collect());
    template.len() == path.len()
        && template.iter().zip(&path).all(|(t, p)| {
            t == p || (t.starts_with('{') && t.ends_with('}') && t.len() > 2 && !p.is_empty())
        })
}
