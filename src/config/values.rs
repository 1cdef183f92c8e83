//! Parsers for the value types config files use: durations, sizes, statuses, header names, URLs, secrets, and
//! lists of probe names.

use super::{FieldError, suggest};
use crate::probe::{StatusMatcher, StatusPattern};
use std::time::Duration;

/// The longest duration any key takes that has no tighter bound (`run.retention_*`, alert intervals).
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// The longest timeout (request, connect, SMTP, OTLP, hook, shutdown grace, latency objectives).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// The longest window: a release watch (`release start --watch` and `release.watch`, one bound), a silence
/// (`silence add --for`), an SLO period, a maintenance window: 365 days.
pub const MAX_WINDOW: Duration = crate::release::WATCH_MAX;

/// A positive duration of at most [`MAX_DURATION`].
pub fn duration(text: &str) -> Result<Duration, String> {
    duration_within(text, Duration::ZERO, MAX_DURATION)
}

/// A positive timeout of at most [`MAX_TIMEOUT`].
pub fn timeout(text: &str) -> Result<Duration, String> {
    duration_within(text, Duration::ZERO, MAX_TIMEOUT)
}

/// A positive window of at most [`MAX_WINDOW`].
pub fn window(text: &str) -> Result<Duration, String> {
    duration_within(text, Duration::ZERO, MAX_WINDOW)
}

/// A positive duration from `min` to `max`; the error says which bound it passes.
pub fn duration_within(text: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let d = match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => {
            return Err(format!(
                "\"{text}\" is zero; give a positive duration like \"30s\""
            ));
        }
        Ok(d) => d,
        Err(e) => {
            return Err(format!(
                "\"{text}\" is not a duration ({e}); write it like \"30s\", \"2m\" or \"1h 30m\""
            ));
        }
    };
    bounded(text, d, min, max)
}

/// `d` (written `text`) when it lies in `min..=max`.
pub fn bounded(text: &str, d: Duration, min: Duration, max: Duration) -> Result<Duration, String> {
    if d > max {
        Err(format!(
            "\"{text}\" is too long; give at most {}",
            bound_text(max)
        ))
    } else if d < min {
        Err(format!(
            "\"{text}\" is too short; give at least {}",
            bound_text(min)
        ))
    } else {
        Ok(d)
    }
}

/// A bound as people write it: whole days as days (`365days`, `1day`; humantime would count months), else as
/// humantime writes it (`1h`, `100ms`).
pub(super) fn bound_text(d: Duration) -> String {
    const DAY: u64 = 24 * 3600;
    match d.as_secs() {
        DAY => "1day".to_string(),
        secs if secs % DAY == 0 && d.subsec_nanos() == 0 && secs > 0 => {
            format!("{}days", secs / DAY)
        }
        _ => humantime::format_duration(d).to_string(),
    }
}

/// A byte size: an integer, or a string with a unit (`B`, `KB`, `KiB`, `MB`, `MiB`, `GB`, `GiB`).
pub fn size(value: &toml::Value) -> Result<u64, String> {
    match value {
        toml::Value::Integer(n) if *n > 0 => Ok(*n as u64),
        toml::Value::Integer(n) => Err(format!("{n} is not a positive size")),
        toml::Value::String(s) => size_text(s),
        other => Err(format!(
            "expected a size like 4096 or \"4MiB\", got {}",
            other.type_str()
        )),
    }
}

fn size_text(text: &str) -> Result<u64, String> {
    let bad = || format!("\"{text}\" is not a size; write it like 4096, \"512KiB\" or \"4MiB\"");
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    let number: u64 = digits.parse().map_err(|_| bad())?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "kib" => 1 << 10,
        "mb" => 1_000_000,
        "mib" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return Err(bad()),
    };
    match number.checked_mul(factor) {
        Some(0) => Err(format!("\"{text}\" is not a positive size")),
        Some(n) => Ok(n),
        None => Err(bad()),
    }
}

/// `200`, `"2xx"`, `"404"`, or an array of those.
pub fn status(value: &toml::Value) -> Result<StatusMatcher, String> {
    let items: Vec<&toml::Value> = match value {
        toml::Value::Array(items) if items.is_empty() => {
            return Err("an empty list accepts no status; give at least one".into());
        }
        toml::Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    items
        .into_iter()
        .map(status_pattern)
        .collect::<Result<_, _>>()
        .map(StatusMatcher)
}

fn status_pattern(value: &toml::Value) -> Result<StatusPattern, String> {
    let bad = |shown: String| {
        format!("{shown} is not a status; write 200, \"2xx\" or a list like [200, 201]")
    };
    match value {
        toml::Value::Integer(n) if (100..=599).contains(n) => Ok(StatusPattern::Exact(*n as u16)),
        toml::Value::Integer(n) => Err(bad(n.to_string())),
        toml::Value::String(s) => {
            let b = s.as_bytes();
            if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && s[1..].eq_ignore_ascii_case("xx") {
                Ok(StatusPattern::Class(b[0] - b'0'))
            } else {
                match s.parse::<i64>() {
                    Ok(n) => status_pattern(&toml::Value::Integer(n)),
                    Err(_) => Err(bad(format!("\"{s}\""))),
                }
            }
        }
        other => Err(bad(other.type_str().to_string())),
    }
}

pub fn method(text: &str) -> Result<String, String> {
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    let upper = text.to_ascii_uppercase();
    if KNOWN.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(format!(
            "\"{text}\" is not an HTTP method (one of {})",
            KNOWN.join(", ")
        ))
    }
}

pub fn header_name(name: &str) -> Result<(), String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if !name.is_empty() && name.chars().all(token) {
        Ok(())
    } else {
        Err(format!("\"{name}\" is not a valid header name"))
    }
}

pub fn header_value(value: &str) -> Result<(), String> {
    if value.chars().any(|c| c.is_control() && c != '\t') {
        Err("header values may not contain control characters (line breaks included)".into())
    } else {
        Ok(())
    }
}

/// A target base URL: `http` or `https`, with a host, no credentials, no query or fragment. The trailing `/` is
/// dropped.
///
/// Credentials (`http://user:pass@host`) are refused rather than stripped: the target is shown by every command,
/// logged and stored with every record, so the only place a secret in it never reaches is nowhere. Headers
/// (`[headers] Authorization`) carry credentials instead, and are redacted wherever they are shown. Errors
/// never repeat the credentials.
pub fn target(text: &str) -> Result<url::Url, String> {
    http_url(
        text,
        "remove them and send a header instead, e.g. [headers] Authorization = \"Basic ...\"",
    )
}

/// The webhook URL of `rollback.webhook`: as [`target`], credentials refused (`rollback.webhook_secret`
/// authenticates the request).
pub fn webhook(text: &str) -> Result<url::Url, String> {
    http_url(
        text,
        "remove them: rollback.webhook_secret signs the request",
    )
}

/// An `http`/`https` URL with a host, no credentials, no query or fragment; `instead` says what to do with
/// credentials.
fn http_url(text: &str, instead: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text);
    let shown = without_userinfo(text);
    let text = shown.as_str();
    let url = url.map_err(|e| format!("\"{text}\" is not a URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "\"{text}\": credentials in a URL would be shown in output and logs and stored with every record; \
             {instead}"
        ));
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "\"{text}\": the target must be an http:// or https:// URL"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("\"{text}\": the target has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "\"{text}\": the target may not have a query or fragment"
        ));
    }
    Ok(url)
}

/// `text` with the user information of its authority (`user:pass@`) written `***@`, for messages. The text is not
/// parsed, so even a URL that does not parse keeps its credentials out of the message.
fn without_userinfo(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => text.to_string(),
    }
}

/// Whether secrets given by reference are read while compiling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Secrets {
    #[default]
    Resolve,
    /// Checked for form only, not read: for the commands that only use the store (`status`, `silence`,
    /// `release`), so the shell that runs them needs no SMTP password or webhook key. The value is empty.
    FormOnly,
}

/// [`secret`], or with [`Secrets::FormOnly`] only its form checked.
pub fn secret_as(reference: &str, mode: Secrets) -> Result<crate::rollback::Secret, String> {
    if mode == Secrets::Resolve {
        return secret(reference);
    }
    match reference.split_once(':') {
        Some(("env" | "file", rest)) if !rest.is_empty() => {
            Ok(crate::rollback::Secret::new(Vec::new()))
        }
        _ => secret(reference),
    }
}

/// A secret given by reference — `env:NAME` or `file:PATH` — resolved now. Inline secrets are refused, and
/// no message ever contains the secret itself.
pub fn secret(reference: &str) -> Result<crate::rollback::Secret, String> {
    let value = if let Some(name) = reference.strip_prefix("env:") {
        std::env::var(name).map_err(|_| format!("the environment variable {name} is not set"))?
    } else if let Some(path) = reference.strip_prefix("file:") {
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {path}: {e}"))?
            .trim_end()
            .to_string()
    } else {
        return Err(
            "give the secret by reference, \"env:NAME\" or \"file:PATH\", never inline".to_string(),
        );
    };
    if value.is_empty() {
        return Err(format!("{reference} is empty"));
    }
    Ok(crate::rollback::Secret::new(value.into_bytes()))
}

/// Whether `name` is an environment variable name: letters, digits and `_`, not starting with a digit.
pub fn is_env_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| !c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks probe names against the configured ones: each repeated or unknown name (with the closest known
/// one) is an error at `probes[i]`.
pub(crate) fn probe_names(list: &[String], known: &[&str]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, probe) in list.iter().enumerate() {
        let key = format!("probes[{i}]");
        if let Some(j) = list[..i].iter().position(|p| p == probe) {
            errors.push(FieldError::new(
                key,
                format!("\"{probe}\" is already listed at probes[{j}]"),
            ));
        } else if !known.contains(&probe.as_str()) {
            errors.push(FieldError::new(key, unknown_probe(probe, known)));
        }
    }
    errors
}

pub(crate) fn unknown_probe(probe: &str, known: &[&str]) -> String {
    match suggest(probe, known) {
        Some(best) => format!("unknown probe \"{probe}\" — did you mean \"{best}\"?"),
        None if known.is_empty() => format!("unknown probe \"{probe}\" (no probes are configured)"),
        None => format!(
            "unknown probe \"{probe}\" (known probes: {})",
            known.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let cases: [(toml::Value, Result<u64, &str>); 6] = [
            (toml::Value::Integer(4096), Ok(4096)),
            ("512KiB".into(), Ok(512 * 1024)),
            ("4 MiB".into(), Ok(4 << 20)),
            ("1MB".into(), Ok(1_000_000)),
            (
                "4 parsecs".into(),
                Err("\"4 parsecs\" is not a size; write it like 4096, \"512KiB\" or \"4MiB\""),
            ),
            (
                toml::Value::Boolean(true),
                Err("expected a size like 4096 or \"4MiB\", got boolean"),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(size(&input), expected.map_err(String::from), "{input:?}");
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(
            status(&toml::Value::Integer(422)).expect("ok").to_string(),
            "422"
        );
        assert_eq!(status(&"2xx".into()).expect("ok").to_string(), "2xx");
        let list = toml::Value::Array(vec![toml::Value::Integer(200), "4XX".into()]);
        assert_eq!(status(&list).expect("ok").to_string(), "200 or 4xx");
        assert_eq!(
            status(&toml::Value::Integer(99)).expect_err("bad"),
            "99 is not a status; write 200, \"2xx\" or a list like [200, 201]"
        );
        assert_eq!(
            status(&"ok".into()).expect_err("bad"),
            "\"ok\" is not a status; write 200, \"2xx\" or a list like [200, 201]"
        );
    }

    #[test]
    fn every_duration_is_bounded() {
        let second = Duration::from_secs(1);
        let cases = [
            (duration("3650days"), Ok(MAX_DURATION)),
            (
                duration("300000000000y"),
                Err("\"300000000000y\" is too long; give at most 3650days"),
            ),
            (timeout("1h"), Ok(MAX_TIMEOUT)),
            (timeout("61m"), Err("\"61m\" is too long; give at most 1h")),
            (window("365days"), Ok(MAX_WINDOW)),
            (
                window("1y"),
                Err("\"1y\" is too long; give at most 365days"),
            ),
            (
                duration_within("1ns", second, MAX_TIMEOUT),
                Err("\"1ns\" is too short; give at least 1s"),
            ),
            (duration_within("1s", second, MAX_TIMEOUT), Ok(second)),
        ];
        for (got, want) in cases {
            assert_eq!(got, want.map_err(String::from));
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(
            duration("0s").expect_err("zero"),
            "\"0s\" is zero; give a positive duration like \"30s\""
        );
        assert!(
            duration("soon")
                .expect_err("bad")
                .starts_with("\"soon\" is not a duration (")
        );
    }

    #[test]
    fn store_commands_check_a_secret_reference_without_reading_it() {
        let unset = "env:OEWSPROBE_TEST_SURELY_UNSET";
        assert!(secret_as(unset, Secrets::Resolve).is_err());
        assert_eq!(
            secret_as(unset, Secrets::FormOnly).expect("form").expose(),
            b""
        );
        assert!(secret_as("file:/surely/missing", Secrets::FormOnly).is_ok());
        for bad in ["hunter2", "env:", "file:"] {
            assert_eq!(
                secret_as(bad, Secrets::FormOnly).map(|_| ()),
                secret(bad).map(|_| ()),
                "{bad}: the form is still checked"
            );
        }
    }

    #[test]
    fn secrets_by_reference_only() {
        assert_eq!(
            secret("hunter2").expect_err("inline"),
            "give the secret by reference, \"env:NAME\" or \"file:PATH\", never inline"
        );
        assert_eq!(
            secret("env:OEWSPROBE_TEST_SURELY_UNSET").expect_err("unset"),
            "the environment variable OEWSPROBE_TEST_SURELY_UNSET is not set"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s");
        std::fs::write(&path, "s3cret\n").expect("write");
        let from_file = secret(&format!("file:{}", path.display())).expect("file");
        assert_eq!(from_file, crate::rollback::Secret::new(b"s3cret".to_vec()));
    }

    #[test]
    fn targets_with_credentials_are_refused_without_repeating_them() {
        let refused = |shown: &str| {
            format!(
                "\"{shown}\": credentials in a URL would be shown in output and logs and stored with every \
                 record; remove them and send a header instead, e.g. [headers] Authorization = \"Basic ...\""
            )
        };
        let cases = [
            (
                "http://user:s3cret@127.0.0.1:8000",
                refused("http://***@127.0.0.1:8000"),
            ),
            (
                "https://s3cret@example.org/api",
                refused("https://***@example.org/api"),
            ),
            (
                "http://u:s3cret@h@127.0.0.1/",
                refused("http://***@127.0.0.1/"),
            ),
            (
                "http://u:s3cret@127.0.0.1/?q",
                refused("http://***@127.0.0.1/?q"),
            ),
            (
                "http://u:s3cret@ bad",
                "\"http://***@ bad\" is not a URL (invalid international domain name)".to_string(),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(target(text).expect_err(text), want, "{text}");
        }
        assert_eq!(
            without_userinfo("http://127.0.0.1/a@b"),
            "http://127.0.0.1/a@b"
        );
        assert_eq!(
            webhook("https://hook:s3cret@example.org/roll").expect_err("credentials"),
            "\"https://***@example.org/roll\": credentials in a URL would be shown in output and logs and stored \
             with every record; remove them: rollback.webhook_secret signs the request"
        );
    }

    #[test]
    fn targets() {
        assert!(target("http://127.0.0.1:8080").is_ok());
        assert_eq!(
            target("ftp://x").expect_err("scheme"),
            "\"ftp://x\": the target must be an http:// or https:// URL"
        );
        assert!(
            target("not a url")
                .expect_err("bad")
                .starts_with("\"not a url\" is not a URL")
        );
    }
}
