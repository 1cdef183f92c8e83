//! `[expect.trace]`: the shape of a query response's execution trace (`data_sources`) — every entry typed and
//! attributed, steps 1..N, the required entries with their fields, and charts when they were asked for.

use super::entries::{data_sources, entry_path, field_path, finding, first_of_type, got};
use crate::assert::{Claim, ClaimKind, Need, describe, quote};
use crate::config::FieldError;
use crate::probe::Finding;
use serde::Deserialize;
use serde_json::Value;

const CHECK: &str = "trace";
const CHART_TYPE: &str = "chart_generation";
const NON_EMPTY_ARRAY: &str = "a non-empty array";

/// The claim that a string field can hold `text`.
pub(super) fn one(text: &str) -> ClaimKind {
    ClaimKind::OneOf(vec![Value::String(text.to_owned())])
}

/// `[expect.trace]` as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrace {
    /// Require a non-empty `charts` array and a `chart_generation` entry. Default: the request body's
    /// `enable_charts == true`.
    pub charts: Option<bool>,
    /// `[[expect.trace.entries]]`: entries that must be present.
    #[serde(default)]
    pub entries: Vec<RawTraceEntry>,
}

/// One `[[expect.trace.entries]]` table as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTraceEntry {
    /// The entry type to find (the first entry of that type is checked). Unknown types are allowed.
    pub r#type: Option<String>,
    /// If given, the entry's `agent` must equal it.
    pub agent: Option<String>,
    /// Fields that must be present and not null; default by type (see [`default_fields`]).
    pub fields: Option<Vec<String>>,
}

/// A compiled `[expect.trace]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceExpectation {
    charts: bool,
    entries: Vec<TraceEntry>,
}

#[derive(Debug, Clone, PartialEq)]
struct TraceEntry {
    entry_type: String,
    agent: Option<String>,
    fields: Vec<String>,
}

impl TraceExpectation {
    /// Whether charts are required (given, or resolved from the request body's `enable_charts`).
    pub fn charts(&self) -> bool {
        self.charts
    }

    /// What the trace check needs of the response: `data_sources` an array of entries with integer `step` and
    /// string `agent` and `type`; each listed entry's type and agent possible, its fields present; `charts` an
    /// array when charts are required.
    pub fn claims(&self) -> Vec<Claim> {
        let by = "the trace check";
        let each = |field: &str, kind| Claim::at(&["data_sources", "[*]", field], kind, by);
        let mut claims = vec![
            Claim::at(&["data_sources"], ClaimKind::Type("array"), by),
            each("step", ClaimKind::Type("integer")),
            each("agent", ClaimKind::Type("string")),
            each("type", ClaimKind::Type("string")),
        ];
        for entry in &self.entries {
            claims.push(each("type", one(&entry.entry_type)));
            claims.extend(entry.agent.iter().map(|agent| each("agent", one(agent))));
            claims.extend(entry.fields.iter().map(|f| each(f, ClaimKind::Present)));
        }
        if self.charts {
            claims.push(Claim::at(&["charts"], ClaimKind::Type("array"), by));
        }
        claims
    }

    /// What of a body [`check_trace`] reads: `data_sources` whole unless it is an array (it is rendered); of each
    /// entry `step`, `agent` and `type` whole, the required fields' presence, and the whole entry unless it is an
    /// object (it is rendered); with charts required, `charts` whole unless it is an array, and of an array only
    /// its length (an empty one renders as `[]`).
    pub fn need(&self) -> Need {
        let required = (self.entries.iter())
            .flat_map(|e| &e.fields)
            .map(|field| Need::key(field.as_str(), Need::Presence));
        let shape = ["step", "agent", "type"].map(|key| Need::key(key, Need::All));
        let entry = Need::union(shape.into_iter().chain(required)).merge(Need::elements(Need::All));
        let data_sources = Need::values(Need::All).merge(Need::elements(entry));
        let mut need = Need::key("data_sources", data_sources);
        if self.charts {
            let charts = Need::values(Need::All).merge(Need::elements(Need::Presence));
            need = need.merge(Need::key("charts", charts));
        }
        need
    }
}

/// The fields an entry type must carry when `fields` is not given: what the runbook checks.
pub fn default_fields(entry_type: &str) -> &'static [&'static str] {
    match entry_type {
        "planning" => &["plan", "reasoning_model"],
        "oews_database" => &["sql", "row_count", "sample_data"],
        CHART_TYPE => &["implementation_model"],
        _ => &[],
    }
}

/// Compiles `[expect.trace]`; `request` is the probe's JSON request body, which decides the `charts` default.
/// When charts are required and no `chart_generation` entry is listed, one is required (without fields).
pub fn compile_trace(
    raw: &RawTrace,
    request: Option<&Value>,
) -> Result<TraceExpectation, Vec<FieldError>> {
    let charts = raw.charts.unwrap_or_else(|| {
        request
            .and_then(|r| r.get("enable_charts"))
            .and_then(Value::as_bool)
            == Some(true)
    });
    let mut errors = Vec::new();
    let mut entries: Vec<TraceEntry> = Vec::new();
    for (i, raw_entry) in raw.entries.iter().enumerate() {
        let prefix = format!("entries[{i}]");
        match compile_entry(raw_entry, &raw.entries[..i]) {
            Ok(entry) => entries.push(entry),
            Err(es) => errors.extend(es.into_iter().map(|e| e.prefixed(&prefix))),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if charts && !entries.iter().any(|e| e.entry_type == CHART_TYPE) {
        entries.push(TraceEntry {
            entry_type: CHART_TYPE.to_string(),
            agent: None,
            fields: Vec::new(),
        });
    }
    Ok(TraceExpectation { charts, entries })
}

fn compile_entry(
    raw: &RawTraceEntry,
    earlier: &[RawTraceEntry],
) -> Result<TraceEntry, Vec<FieldError>> {
    let mut errors = Vec::new();
    match raw.r#type.as_deref() {
        None => errors.push(FieldError::new(
            "type",
            "missing: name the entry type, e.g. type = \"planning\"",
        )),
        Some("") => errors.push(FieldError::new("type", "must not be empty")),
        Some(t) => {
            if let Some(j) = earlier.iter().position(|e| e.r#type.as_deref() == Some(t)) {
                errors.push(FieldError::new(
                    "type",
                    format!("{} is already listed at entries[{j}]", quote(t)),
                ));
            }
        }
    }
    if raw.agent.as_deref() == Some("") {
        errors.push(FieldError::new(
            "agent",
            "must not be empty; leave agent out to accept any agent",
        ));
    }
    for (i, field) in raw.fields.iter().flatten().enumerate() {
        if field.is_empty() {
            errors.push(FieldError::new(format!("fields[{i}]"), "must not be empty"));
        }
    }
    match (&raw.r#type, errors.is_empty()) {
        (Some(entry_type), true) => Ok(TraceEntry {
            entry_type: entry_type.clone(),
            agent: raw.agent.clone(),
            fields: match &raw.fields {
                Some(fields) => fields.clone(),
                None => default_fields(entry_type)
                    .iter()
                    .map(|f| f.to_string())
                    .collect(),
            },
        }),
        _ => Err(errors),
    }
}

/// Checks the trace of a query response body, pushing findings (check = `trace`) at paths like
/// `data_sources[2].agent`. A missing, non-array or empty `data_sources` is one finding and ends the check.
/// Order: entry shapes, steps, the `charts` array, then the required entries in the order listed.
pub fn check_trace(expectation: &TraceExpectation, body: &Value, findings: &mut Vec<Finding>) {
    let entries = match data_sources(body) {
        Some(entries) if !entries.is_empty() => entries,
        _ => {
            findings.push(finding(
                CHECK,
                "data_sources",
                NON_EMPTY_ARRAY,
                got(body.get("data_sources")),
                None,
            ));
            return;
        }
    };
    check_shape(entries, findings);
    check_steps(entries, findings);
    if expectation.charts {
        match body.get("charts") {
            Some(Value::Array(charts)) if !charts.is_empty() => {}
            other => findings.push(finding(CHECK, "charts", NON_EMPTY_ARRAY, got(other), None)),
        }
    }
    for required in &expectation.entries {
        check_entry(required, entries, findings);
    }
}

/// Every entry is an object with a string `agent` and `type`.
fn check_shape(entries: &[Value], findings: &mut Vec<Finding>) {
    for (i, entry) in entries.iter().enumerate() {
        let Some(map) = entry.as_object() else {
            findings.push(finding(
                CHECK,
                entry_path(i),
                "an object with agent and type",
                describe(entry),
                None,
            ));
            continue;
        };
        for key in ["agent", "type"] {
            match map.get(key) {
                Some(Value::String(_)) => {}
                other => findings.push(finding(
                    CHECK,
                    field_path(i, key),
                    "a string",
                    got(other),
                    None,
                )),
            }
        }
    }
}

/// Steps count 1..N in order; the first entry that breaks the count is the finding. Entries that are not objects
/// were reported by [`check_shape`] and are skipped.
fn check_steps(entries: &[Value], findings: &mut Vec<Finding>) {
    for (i, entry) in entries.iter().enumerate() {
        let Some(map) = entry.as_object() else {
            continue;
        };
        let step = map.get("step");
        if step
            .and_then(Value::as_u64)
            .and_then(|s| usize::try_from(s).ok())
            != Some(i + 1)
        {
            let note = Some("steps are 1..N contiguous");
            findings.push(finding(
                CHECK,
                field_path(i, "step"),
                (i + 1).to_string(),
                got(step),
                note,
            ));
            return;
        }
    }
}

fn check_entry(required: &TraceEntry, entries: &[Value], findings: &mut Vec<Finding>) {
    let Some((i, entry)) = first_of_type(entries, &required.entry_type) else {
        let expected = format!("an entry with type {}", quote(&required.entry_type));
        let actual = format!("none ({})", types_present(entries));
        findings.push(finding(CHECK, "data_sources", expected, actual, None));
        return;
    };
    // A missing or non-string agent was reported by `check_shape`.
    if let (Some(want), Some(Value::String(agent))) = (&required.agent, entry.get("agent")) {
        if want != agent {
            findings.push(finding(
                CHECK,
                field_path(i, "agent"),
                quote(want),
                quote(agent),
                None,
            ));
        }
    }
    for field in &required.fields {
        match entry.get(field) {
            Some(value) if !value.is_null() => {}
            other => findings.push(finding(
                CHECK,
                field_path(i, field),
                "present",
                got(other),
                None,
            )),
        }
    }
}

/// `types present: planning, synthesis` (each once, in order of appearance).
fn types_present(entries: &[Value]) -> String {
    let mut types: Vec<&str> = Vec::new();
    for t in entries.iter().filter_map(|e| e.get("type")?.as_str()) {
        if !types.contains(&t) {
            types.push(t);
        }
    }
    if types.is_empty() {
        "no entry has a type".to_string()
    } else {
        format!("types present: {}", types.join(", "))
    }
}
