//! Building blocks of the JSON schemas pydantic v2 writes for model fields: types, titled properties with
//! defaults, model objects with their `required` list.

use serde_json::{Map, Value, json};

/// Where FastAPI puts model schemas: `#/components/schemas/NAME`.
const COMPONENTS: &str = "#/components/schemas/";

pub(super) fn string() -> Value {
    json!({"type": "string"})
}

pub(super) fn integer() -> Value {
    json!({"type": "integer"})
}

pub(super) fn number() -> Value {
    json!({"type": "number"})
}

pub(super) fn boolean() -> Value {
    json!({"type": "boolean"})
}

/// `List[X]`.
pub(super) fn array(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

/// `Dict[str, Any]`.
pub(super) fn any_object() -> Value {
    object_of(Value::Bool(true))
}

/// `Dict[str, X]`.
pub(super) fn object_of(values: Value) -> Value {
    json!({"type": "object", "additionalProperties": values})
}

/// `Literal["a", "b", ...]` of strings.
pub(super) fn string_enum(values: impl IntoIterator<Item = &'static str>) -> Value {
    json!({"type": "string", "enum": values.into_iter().collect::<Vec<_>>()})
}

/// A reference to the model schema `name`.
pub(super) fn reference(name: &str) -> Value {
    json!({ "$ref": format!("{COMPONENTS}{name}") })
}

/// One field of a pydantic model.
#[derive(Debug)]
pub(super) struct Field {
    name: &'static str,
    schema: Value,
    default: Option<Value>,
}

impl Field {
    /// A field without a default: listed in `required`.
    pub(super) fn required(name: &'static str, schema: Value) -> Self {
        Field {
            name,
            schema,
            default: None,
        }
    }

    /// `name: X = default`.
    pub(super) fn with_default(name: &'static str, schema: Value, default: Value) -> Self {
        Field {
            name,
            schema,
            default: Some(default),
        }
    }

    /// `name: Optional[X] = None`: `anyOf` the type and null, default null.
    pub(super) fn optional(name: &'static str, schema: Value) -> Self {
        let nullable = json!({"anyOf": [schema, {"type": "null"}]});
        Field::with_default(name, nullable, Value::Null)
    }

    /// The property schema: the type with pydantic's `title` (not on a bare model reference) and `default`.
    fn property(self) -> Value {
        let mut property = self.schema;
        // Every schema built here is an object.
        if let Some(map) = property.as_object_mut() {
            if !map.contains_key("$ref") {
                map.insert("title".to_owned(), Value::String(python_title(self.name)));
            }
            if let Some(default) = self.default {
                map.insert("default".to_owned(), default);
            }
        }
        property
    }
}

/// A model's schema: its properties in declaration order, the fields without default in `required`
/// (left out when there are none, as pydantic does).
pub(super) fn model(title: &str, fields: Vec<Field>) -> Value {
    let required: Vec<&str> = fields
        .iter()
        .filter(|field| field.default.is_none())
        .map(|field| field.name)
        .collect();
    let properties: Map<String, Value> = fields
        .into_iter()
        .map(|field| (field.name.to_owned(), field.property()))
        .collect();
    let mut schema = json!({"properties": properties, "type": "object", "title": title});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// Python's `name.replace("_", " ").title()`, which pydantic uses for field titles and FastAPI for
/// summaries: a letter after a non-letter is upper case, any other letter lower case (`"1m"` → `"1M"`).
pub(crate) fn python_title(name: &str) -> String {
    let mut previous_is_letter = false;
    name.chars()
        .map(|c| {
            let c = if c == '_' { ' ' } else { c };
            let titled = if previous_is_letter {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            };
            previous_is_letter = c.is_ascii_alphabetic();
            titled
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_follow_python_str_title() {
        for (name, title) in [
            ("enable_charts", "Enable Charts"),
            ("cost_per_1m_tokens", "Cost Per 1M Tokens"),
            ("execution_time_ms", "Execution Time Ms"),
            ("health_check", "Health Check"),
            ("query", "Query"),
            ("HTTP_error", "Http Error"),
        ] {
            assert_eq!(python_title(name), title, "{name}");
        }
    }

    #[test]
    fn fields_become_titled_properties_and_required_names() {
        let schema = model(
            "Example",
            vec![
                Field::required("query", string()),
                Field::required("metadata", reference("Metadata")),
                Field::optional("sql", string()),
                Field::with_default("replans", integer(), json!(0)),
            ],
        );
        assert_eq!(
            schema,
            json!({"type": "object", "title": "Example", "required": ["query", "metadata"], "properties": {
                "query": {"type": "string", "title": "Query"},
                "metadata": {"$ref": "#/components/schemas/Metadata"},
                "sql": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Sql", "default": null},
                "replans": {"type": "integer", "title": "Replans", "default": 0}
            }})
        );
        let all_defaults = model("Empty", vec![Field::optional("sql", string())]);
        assert!(all_defaults.get("required").is_none(), "{all_defaults}");
    }
}
