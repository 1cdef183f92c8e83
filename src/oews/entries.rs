//! Reading the execution trace (`data_sources`) of a query response, and rendering its paths and values for
//! findings. Shared by the trace and echo checks; borrows only, never clones the body.

use crate::assert::{excerpt, push_key};
use crate::probe::Finding;
use serde_json::{Map, Value};

/// The trace entries of a response body, when `data_sources` is an array.
pub(super) fn data_sources(body: &Value) -> Option<&[Value]> {
    body.get("data_sources")?.as_array().map(Vec::as_slice)
}

/// The first entry (an object) whose `type` is `entry_type`, with its index.
pub(super) fn first_of_type<'a>(
    entries: &'a [Value],
    entry_type: &str,
) -> Option<(usize, &'a Map<String, Value>)> {
    entries.iter().enumerate().find_map(|(i, entry)| {
        let map = entry.as_object()?;
        (map.get("type")?.as_str()? == entry_type).then_some((i, map))
    })
}

/// `data_sources[2]`.
pub(super) fn entry_path(index: usize) -> String {
    format!("data_sources[{index}]")
}

/// `data_sources[2].agent` (or `data_sources[2]["odd key"]`).
pub(super) fn field_path(index: usize, field: &str) -> String {
    let mut path = entry_path(index);
    push_key(&mut path, field);
    path
}

/// What a field holds, for after "got": `absent`, `null`, or the value as a JSON excerpt.
pub(super) fn got(value: Option<&Value>) -> String {
    value.map_or_else(|| "absent".to_string(), excerpt)
}

/// A finding of one OEWS check (`trace`, `echo`, `validation_error`) at a path without the `$.` prefix.
pub(super) fn finding(
    check: &str,
    path: impl Into<String>,
    expected: impl Into<String>,
    actual: impl Into<String>,
    note: Option<&str>,
) -> Finding {
    Finding::new(check, Some(path.into()), expected, actual, note)
}
