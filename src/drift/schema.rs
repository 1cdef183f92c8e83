//! Walking a document's schemas the way FastAPI writes them: local `$ref`s followed, `allOf` members read
//! together, `anyOf`/`oneOf` with `{"type": "null"}` read as the other member (nullable); a `{}` schema
//! declares nothing. Each node keeps the JSON pointer where its schema lives (pure).

use super::Document;
use super::document::escape;
use serde_json::Value;

/// A schema and where it lives in the document.
#[derive(Debug, Clone)]
pub struct Node<'d> {
    pub pointer: String,
    pub schema: &'d Value,
}

/// What a schema says about one step into the values it describes.
#[derive(Debug, Clone)]
pub enum Step<'d> {
    /// The step leads to this schema.
    Declared(Node<'d>),
    /// An object model whose `properties` (at `properties`, the model titled `title`) lack the key.
    Undeclared { properties: String, title: String },
    /// A value of these types cannot be stepped into (a key into a string).
    Contradicted(Vec<String>),
    /// The schema declares nothing about it (`{}`, an open object, several alternatives).
    Open,
}

/// The most `$ref`s followed in a row: a cycle of references is read as declaring nothing.
const MAX_REFS: usize = 32;

impl<'d> Node<'d> {
    pub fn at(doc: &'d Document, pointer: &str) -> Option<Node<'d>> {
        let schema = doc.at(pointer)?;
        Some(Node {
            pointer: pointer.to_owned(),
            schema,
        })
    }

    fn child(&self, keys: &[&str]) -> Option<Node<'d>> {
        let mut node = self.clone();
        for key in keys {
            node.schema = node.schema.get(*key).or_else(|| {
                let index = key.parse::<usize>().ok()?;
                node.schema.get(index)
            })?;
            node.pointer = format!("{}/{}", node.pointer, escape(key));
        }
        Some(node)
    }

    /// The schemas this one amounts to, all holding at once: references followed, `allOf` flattened, a
    /// nullable `anyOf`/`oneOf` read as its non-null member. `None`: it declares nothing definite (several
    /// non-null alternatives, a reference that does not resolve or cycles).
    pub fn branches(&self, doc: &'d Document) -> Option<Vec<Node<'d>>> {
        self.branches_within(doc, MAX_REFS)
    }

    fn branches_within(&self, doc: &'d Document, refs_left: usize) -> Option<Vec<Node<'d>>> {
        if let Some(target) = self.schema.get("$ref").and_then(Value::as_str) {
            let next = refs_left.checked_sub(1)?;
            return Node::at(doc, target)?.branches_within(doc, next);
        }
        let mut branches = vec![self.clone()];
        if let Some(members) = self.schema.get("allOf").and_then(Value::as_array) {
            for i in 0..members.len() {
                let member = self.child(&["allOf", &i.to_string()])?;
                branches.extend(member.branches_within(doc, refs_left)?);
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(members) = self.schema.get(keyword).and_then(Value::as_array) {
                let non_null: Vec<usize> = (0..members.len())
                    .filter(|i| !is_null(&members[*i]))
                    .collect();
                let [only] = non_null[..] else { return None };
                let member = self.child(&[keyword, &only.to_string()])?;
                branches.extend(member.branches_within(doc, refs_left)?);
            }
        }
        Some(branches)
    }

    /// The JSON types the schema allows, `null` included when nullable; `None` when it does not say.
    pub fn types(&self, doc: &'d Document) -> Option<Vec<String>> {
        let mut types: Option<Vec<String>> = None;
        for branch in self.branches(doc)? {
            let declared: Vec<String> = match branch.schema.get("type") {
                Some(Value::String(t)) => vec![t.clone()],
                Some(Value::Array(ts)) => ts
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                _ => continue,
            };
            types = Some(match types {
                None => declared,
                Some(known) => known.into_iter().filter(|t| declared.contains(t)).collect(),
            });
        }
        let mut types = types?;
        if self.nullable() {
            types.push("null".to_owned());
        }
        Some(types)
    }

    /// Whether an `anyOf`/`oneOf` of this schema admits null.
    fn nullable(&self) -> bool {
        ["anyOf", "oneOf"].iter().any(|keyword| {
            (self.schema.get(*keyword).and_then(Value::as_array))
                .is_some_and(|members| members.iter().any(is_null))
        })
    }

    /// What the schema says of the member `key` of the objects it describes.
    pub fn key(&self, doc: &'d Document, key: &str) -> Step<'d> {
        let Some(branches) = self.branches(doc) else {
            return Step::Open;
        };
        if let Some(found) = branches.iter().find_map(|b| b.child(&["properties", key])) {
            return Step::Declared(found);
        }
        if let Some(step) = additional(&branches) {
            return step;
        }
        if let Some(model) = branches
            .iter()
            .find(|b| b.schema.get("properties").is_some())
        {
            let title = (model.schema.get("title").and_then(Value::as_str))
                .or_else(|| model.pointer.rsplit('/').next())
                .unwrap_or("the schema");
            return Step::Undeclared {
                properties: format!("{}/properties", model.pointer),
                title: title.to_owned(),
            };
        }
        self.contradicted_unless(doc, &["object"])
    }

    /// What the schema says of the elements of the arrays (or the values of the objects) it describes.
    pub fn each(&self, doc: &'d Document) -> Step<'d> {
        let Some(branches) = self.branches(doc) else {
            return Step::Open;
        };
        if let Some(items) = branches.iter().find_map(|b| b.child(&["items"])) {
            return Step::Declared(items);
        }
        if let Some(step) = additional(&branches) {
            return step;
        }
        self.contradicted_unless(doc, &["array", "object"])
    }

    /// `Contradicted` when the schema's types include none of `containers`, else `Open`.
    fn contradicted_unless(&self, doc: &'d Document, containers: &[&str]) -> Step<'d> {
        match self.types(doc) {
            Some(types) if !types.iter().any(|t| containers.contains(&t.as_str())) => {
                Step::Contradicted(types)
            }
            _ => Step::Open,
        }
    }

    /// How the schema reads in a finding: `string or null, no enum`, `integer`, `one of ["a","b"]`.
    pub fn summary(&self, doc: &'d Document) -> String {
        let enumerated = (self.branches(doc).unwrap_or_default().into_iter()).find_map(|b| {
            b.schema
                .get("enum")
                .or_else(|| b.schema.get("const"))
                .cloned()
        });
        let types = self
            .types(doc)
            .map_or_else(|| "any value".to_owned(), |t| t.join(" or "));
        match enumerated {
            Some(values) => format!("{types}, one of {values}"),
            None => format!("{types}, no enum"),
        }
    }

    /// Whether the schema is a string with no constraint on its value (no enum, const, pattern, format or
    /// length), nullable or not.
    pub fn is_plain_string(&self, doc: &'d Document) -> bool {
        const CONSTRAINTS: [&str; 6] = [
            "enum",
            "const",
            "pattern",
            "format",
            "minLength",
            "maxLength",
        ];
        let types = self.types(doc).unwrap_or_default();
        types.iter().any(|t| t == "string")
            && types.iter().all(|t| t == "string" || t == "null")
            && (self.branches(doc).unwrap_or_default().iter())
                .all(|b| CONSTRAINTS.iter().all(|c| b.schema.get(*c).is_none()))
    }
}

/// `additionalProperties` of a branch: a schema (`Dict[str, X]`) is declared; `true` declares nothing.
fn additional<'d>(branches: &[Node<'d>]) -> Option<Step<'d>> {
    branches
        .iter()
        .find_map(|b| match b.schema.get("additionalProperties")? {
            Value::Bool(true) => Some(Step::Open),
            Value::Object(_) => b.child(&["additionalProperties"]).map(Step::Declared),
            _ => None,
        })
}

fn is_null(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}
