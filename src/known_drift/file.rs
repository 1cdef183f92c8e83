//! `known-drift.toml`, both ways: read strictly (every error with its entry and key), written in a stable
//! order (by probe, place, expected, actual) so that a reviewed, committed file changes only where the drift
//! did.

use super::KnownEntry;
use crate::config::{FieldError, parse_toml_lenient};
use serde::Deserialize;

/// The baseline's file name, beside the config, when `drift.known_file` does not name another.
pub const DEFAULT_KNOWN_FILE: &str = "known-drift.toml";

const HEADER: &str = "\
# Known drift: contract findings accepted as known, so that `oewsprobe run` records them as passes (with the
# findings noted) instead of paging. Written by `oewsprobe drift accept`; review it and commit it. Remove an
# entry to make its finding fail again.
";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    known: Vec<RawEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    probe: Option<String>,
    check: Option<String>,
    expected: Option<String>,
    actual: Option<String>,
    accepted: Option<String>,
    note: Option<String>,
}

/// The entries of the file's `text`, checked against the plan's probe names; every error is at its key
/// (`known[1].accepted`).
pub fn parse(text: &str, probes: &[&str]) -> Result<Vec<KnownEntry>, Vec<FieldError>> {
    let (raw, mut errors) = parse_toml_lenient::<RawFile>(text);
    let mut entries = Vec::new();
    for (i, raw) in raw.unwrap_or_default().known.into_iter().enumerate() {
        let key = format!("known[{i}]");
        match entry(raw, probes) {
            Ok(entry) => {
                if let Some(j) = entries
                    .iter()
                    .position(|e: &KnownEntry| e.same_finding(&entry))
                {
                    errors.push(FieldError::new(
                        key,
                        format!("the same finding as known[{j}]; give each finding once"),
                    ));
                }
                entries.push(entry);
            }
            Err(es) => errors.extend(es.into_iter().map(|e| e.prefixed(&key))),
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

fn entry(raw: RawEntry, probes: &[&str]) -> Result<KnownEntry, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut required = |key: &str, value: Option<String>, example: &str| {
        if value.is_none() {
            errors.push(FieldError::new(key, format!("missing; give {example}")));
        }
        value.unwrap_or_default()
    };
    let probe = required(
        "probe",
        raw.probe,
        "the probe's name, e.g. probe = \"health\"",
    );
    let check = required(
        "check",
        raw.check,
        "the finding's place (its path, or the request line of a status finding)",
    );
    let expected = required("expected", raw.expected, "what the probe expected");
    let actual = required("actual", raw.actual, "what came back");
    let accepted = required(
        "accepted",
        raw.accepted,
        "the date it was accepted, e.g. accepted = \"2026-12-01\"",
    );
    if !probe.is_empty() && !probes.contains(&probe.as_str()) {
        errors.push(FieldError::new(
            "probe",
            crate::config::values::unknown_probe(&probe, probes),
        ));
    }
    if !accepted.is_empty() && !is_date(&accepted) {
        errors.push(FieldError::new(
            "accepted",
            format!("\"{accepted}\" is not a date; give it as YYYY-MM-DD, e.g. \"2026-12-01\""),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(KnownEntry {
        probe,
        check,
        expected,
        actual,
        accepted,
        note: raw.note,
    })
}

fn is_date(text: &str) -> bool {
    text.len() == 10 && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

/// The file's text for `entries`: a header, then one `[[known]]` table per entry, sorted.
pub fn render(entries: &[KnownEntry]) -> String {
    let mut sorted: Vec<&KnownEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.probe, &a.check, &a.expected, &a.actual).cmp(&(
            &b.probe,
            &b.check,
            &b.expected,
            &b.actual,
        ))
    });
    let mut out = HEADER.to_string();
    for e in sorted {
        out.push_str("\n[[known]]\n");
        for (key, value) in [
            ("probe", Some(&e.probe)),
            ("check", Some(&e.check)),
            ("expected", Some(&e.expected)),
            ("actual", Some(&e.actual)),
            ("accepted", Some(&e.accepted)),
            ("note", e.note.as_ref()),
        ] {
            if let Some(value) = value {
                out.push_str(&format!("{key} = {}\n", toml::Value::String(value.clone())));
            }
        }
    }
    out
}
