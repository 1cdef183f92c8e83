//! Tables over small documents built here: each probe shape against each schema shape, the findings exact.

use super::{Document, DocumentError, compare, instance_path};
use crate::config::{RawProbe, Settings, compile_probe};
use crate::probe::ProbeSpec;
use serde_json::{Value, json};

fn probe(toml_text: &str) -> ProbeSpec {
    let raw: RawProbe = toml::from_str(toml_text).expect("probe TOML parses");
    let settings = Settings::defaults("probes".into());
    compile_probe("p", "p.toml".as_ref(), &raw, &settings).expect("probe compiles")
}

/// A document with one operation `method path`, its request and 200 response schemas, and `schemas`.
fn document(
    method: &str,
    path: &str,
    request: Option<Value>,
    response: Value,
    schemas: Value,
) -> Document {
    let mut operation =
        json!({"responses": {"200": {"content": {"application/json": {"schema": response}}}}});
    if let Some(request) = request {
        operation["requestBody"] = json!({"content": {"application/json": {"schema": request}}});
    }
    let doc = json!({"openapi": "3.1.0", "info": {"title": "T", "version": "1"},
        "paths": {path: {method: operation}}, "components": {"schemas": schemas}});
    Document::from_value(doc).expect("an OpenAPI 3.1 document")
}

fn model_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// `check path: message` of every finding.
fn lines(doc: &Document, probe_text: &str) -> Vec<String> {
    (compare(doc, &probe(probe_text)).into_iter())
        .map(|f| format!("{} {}: {}", f.check, f.path, f.message))
        .collect()
}

const GET_ITEM: &str = "[request]\npath = \"/items/7\"\n[expect]\nstatus = 200\n";

#[test]
fn response_schemas_resolve_refs_nullable_any_of_and_all_of() {
    let item = json!({"title": "Item", "type": "object", "properties": {
        "name": {"type": "string"},
        "size": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        "owner": {"allOf": [model_ref("Owner")]},
        "tags": {"type": "array", "items": model_ref("Tag")},
        "extra": {"type": "object", "additionalProperties": {"type": "number"}}
    }});
    let schemas = json!({"Item": item,
        "Owner": {"title": "Owner", "type": "object", "properties": {"id": {"type": "integer"}}},
        "Tag": {"title": "Tag", "type": "object", "properties": {"label": {"type": "string"}}}});
    let doc = document("get", "/items/{id}", None, model_ref("Item"), schemas);
    let cases: [(&str, &[&str]); 9] = [
        ("path = \"$.name\"\nequals = \"x\"", &[]),
        ("path = \"$.size\"\ntype = \"number\"", &[]),
        ("path = \"$.owner.id\"\nexists = true", &[]),
        ("path = \"$.tags[*].label\"\nnon_empty = true", &[]),
        ("path = \"$.extra.anything\"\ntype = \"integer\"", &[]),
        ("path = \"$.missing\"\nexists = false", &[]),
        (
            "path = \"$.owner.name\"\nexists = true",
            &[
                "response-field-undeclared #/components/schemas/Owner/properties: Owner has no name, so the JSON assertion can never pass",
            ],
        ),
        (
            "path = \"$.size\"\ntype = \"string\"",
            &[
                "response-type-contradicted #/components/schemas/Item/properties/size: size: the probe expects string, the document declares integer or null, no enum, so the JSON assertion can never pass",
            ],
        ),
        (
            "path = \"$.tags[0].label\"\nequals = 3",
            &[
                "response-type-contradicted #/components/schemas/Tag/properties/label: tags[*].label: the probe expects 3, the document declares string, no enum, so the JSON assertion can never pass",
            ],
        ),
    ];
    for (assertion, want) in cases {
        let text = format!("{GET_ITEM}[[expect.json]]\n{assertion}\n");
        assert_eq!(lines(&doc, &text), want, "{assertion}");
    }
}

#[test]
fn an_empty_schema_declares_nothing_and_a_key_into_a_string_is_contradicted() {
    let open = document("get", "/items/{id}", None, json!({}), json!({}));
    let text = format!("{GET_ITEM}[[expect.json]]\npath = \"$.a.b[*].c\"\nequals = 1\n");
    assert_eq!(lines(&open, &text), Vec::<String>::new());
    let string = document(
        "get",
        "/items/{id}",
        None,
        json!({"type": "string"}),
        json!({}),
    );
    assert_eq!(
        lines(&string, &text),
        [
            "response-type-contradicted #/paths/~1items~1{id}/get/responses/200/content/application~1json/schema: a.b[*].c: the document makes #/paths/~1items~1{id}/get/responses/200/content/application~1json/schema a string, so the JSON assertion can never pass"
        ]
    );
}

#[test]
fn paths_not_served_name_the_closest_operation() {
    let schemas = json!({});
    let doc = Document::from_value(json!({"openapi": "3.0.3", "paths": {
        "/health": {"get": {}}, "/api/v1/models": {"get": {}}, "/api/v1/health": {"post": {}}
    }, "components": {"schemas": schemas}}))
    .expect("document");
    for (method, path, want) in [
        (
            "GET",
            "/api/v1/health",
            "GET /api/v1/health is not served; the service's document lists GET /health",
        ),
        (
            "GET",
            "/api/v1/model",
            "GET /api/v1/model is not served; the service's document lists GET /api/v1/models",
        ),
        (
            "DELETE",
            "/api/v1/health",
            "DELETE /api/v1/health is not served; the service's document lists POST /api/v1/health",
        ),
    ] {
        let text = format!("[request]\nmethod = \"{method}\"\npath = \"{path}\"\n");
        let findings = compare(&doc, &probe(&text));
        let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages, [want], "{method} {path}");
    }
    let served = "[request]\nmethod = \"GET\"\npath = \"/health?verbose=1\"\n";
    assert_eq!(compare(&doc, &probe(served)), []);
}

#[test]
fn request_bodies_are_held_against_the_request_schema() {
    let request = json!({"title": "Ask", "type": "object", "required": ["query"], "properties": {
        "query": {"type": "string", "minLength": 3},
        "model": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "mode": {"type": "string", "enum": ["a", "b"]}
    }});
    let doc = document(
        "post",
        "/ask",
        Some(model_ref("Ask")),
        json!({}),
        json!({"Ask": request}),
    );
    let post = |body: &str, status: u16, field: Option<&str>| {
        let validation = field.map_or_else(String::new, |f| {
            format!("[expect.validation_error]\nfield = \"{f}\"\n")
        });
        format!(
            "[request]\nmethod = \"POST\"\npath = \"/ask\"\nbody = {body}\n[expect]\nstatus = {status}\n{validation}"
        )
    };
    let cases: [(String, &[&str]); 6] = [
        (
            post("{ query = \"long enough\", model = \"m\" }", 200, None),
            &[],
        ),
        (post("{ query = \"ab\" }", 422, Some("query")), &[]),
        (
            post("{ query = \"okay\", mode = \"c\" }", 422, Some("mode")),
            &[],
        ),
        (
            post("{ query = \"okay\", colour = \"red\" }", 200, None),
            &[
                "request-field-unknown #/components/schemas/Ask/properties: the probe sends colour, which Ask does not declare",
            ],
        ),
        (
            post("{ query = \"ab\" }", 200, None),
            &[
                "request-body-rejected #/components/schemas/Ask/properties/query/minLength: query: \"ab\" is shorter than 3 characters, so the service answers 422 and the probe cannot pass",
            ],
        ),
        (
            post("{ query = \"okay\", model = \"nope\" }", 422, Some("model")),
            &[
                "constraint-missing #/components/schemas/Ask/properties/model: model is a plain string with no enum, so \"nope\" will be accepted and the 422 probe cannot pass",
            ],
        ),
    ];
    for (text, want) in cases {
        assert_eq!(lines(&doc, &text), want, "{text}");
    }
}

#[test]
fn documents_that_are_not_openapi_3_are_refused_with_the_reason() {
    for (body, want) in [
        (
            "<html>",
            DocumentError::NotJson("expected value at line 1 column 1".into()),
        ),
        (
            "[]",
            DocumentError::NotOpenApi("no \"openapi\" version".into()),
        ),
        (
            r#"{"openapi": "2.0", "paths": {}}"#,
            DocumentError::NotOpenApi("its \"openapi\" is \"2.0\"".into()),
        ),
        (
            r#"{"openapi": "3.1.0"}"#,
            DocumentError::NotOpenApi("no \"paths\" object".into()),
        ),
    ] {
        assert_eq!(Document::parse(body.as_bytes()).err(), Some(want), "{body}");
    }
}

#[test]
fn instance_locations_read_as_finding_paths() {
    for (pointer, path) in [
        ("", "body"),
        ("/data_sources/2", "data_sources[2]"),
        ("/data_sources/2/agent", "data_sources[2].agent"),
        ("/a~1b/0/0", "a/b[0][0]"),
    ] {
        assert_eq!(instance_path(pointer), path, "{pointer}");
    }
}
