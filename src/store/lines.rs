//! The JSON Lines format of `store export` and `store import` (pure): one run a line, written as `check
//! --format json` writes a probe's entry (its `name`, then the record's fields, its `location` among them),
//! or with `location` null for a run from before locations were kept; read back strictly, so an import takes
//! exactly what an export gives.

use crate::probe::{ProbeRecord, RequestLine};
use crate::report::ProbeEntry;
use serde::Serialize;
use serde_json::{Map, Value};

/// The longest line `store import` reads, in bytes (without its newline).
pub const MAX_LINE: usize = 1 << 20;

#[derive(Serialize)]
struct Line<'a> {
    #[serde(flatten)]
    entry: ProbeEntry<'a>,
    /// `null` (last) for a run from before locations were kept; a run's location is the record's own
    /// `location` (after `target`).
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<()>,
}

/// The line of one run, without its newline.
pub fn line(record: &ProbeRecord) -> String {
    let line = Line {
        entry: ProbeEntry::of(record),
        location: record.location.is_empty().then_some(()),
    };
    serde_json::to_string(&line).unwrap_or_default()
}

/// The run a line holds, or what is wrong with it.
pub fn parse(line: &[u8]) -> Result<ProbeRecord, String> {
    if line.len() > MAX_LINE {
        return Err(format!("the line is longer than {MAX_LINE} bytes (1 MiB)"));
    }
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err("the line is empty; every line is one run".into());
    }
    let mut object: Map<String, Value> =
        serde_json::from_slice(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let name = match object.remove("name") {
        Some(Value::String(name)) => name,
        Some(other) => return Err(format!("name: expected a string, got {other}")),
        None => return Err("missing field `name`".into()),
    };
    let location = match object.remove("location") {
        Some(Value::Null) => String::new(),
        Some(Value::String(name)) if crate::config::is_location(&name) => name,
        Some(other) => {
            return Err(format!(
                "location: {other} is not a location name (1 to 64 lower-case letters, digits, \".\", \"-\" \
                 and \"_\", starting with a letter or a digit) or null (a run from before locations were kept)"
            ));
        }
        None => return Err("missing field `location`".into()),
    };
    let mut record: ProbeRecord =
        serde_path_to_error::deserialize(Value::Object(object)).map_err(|e| {
            let path = e.path().to_string();
            match path.as_str() {
                "." => e.into_inner().to_string(),
                _ => format!("{path}: {}", e.into_inner()),
            }
        })?;
    record.location = location;
    if record.probe.is_empty() {
        return Err("probe is empty".into());
    }
    if name != record.probe {
        return Err(format!(
            "name \"{name}\" and probe \"{}\" differ; they are the same run's probe",
            record.probe
        ));
    }
    if let Some(request) = &record.request {
        check_request(request)?;
    }
    if i64::try_from(record.scheduled_at_ms).is_err() {
        return Err(format!(
            "scheduled_at_ms: {} is later than the store can hold ({})",
            record.scheduled_at_ms,
            i64::MAX
        ));
    }
    Ok(record)
}

/// A request line as a run sends it: an HTTP method and an absolute `http`/`https` URL without credentials (the
/// store keeps the URL's path apart from the target, so a URL must be absolute to be read back the same).
fn check_request(request: &RequestLine) -> Result<(), String> {
    if reqwest::Method::from_bytes(request.method.as_bytes()).is_err() {
        return Err(format!(
            "request.method: {:?} is not an HTTP method",
            request.method
        ));
    }
    let url = url::Url::parse(&request.url).map_err(|e| {
        format!(
            "request.url: {:?} is not an absolute URL ({e})",
            request.url
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "request.url: {:?} is not an http:// or https:// URL",
            request.url
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "request.url: has credentials (user information); a run's URL never holds them".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
#[path = "lines_tests.rs"]
mod tests;
