//! `[telemetry]` (the OTLP metrics export) and `[status]` (the local listener for `/metrics` and `/healthz`),
//! compiled with the standard `OTEL_*` environment variables applied. Pure but for reading `env:`/`file:`
//! header references; the environment comes in as a lookup function so tests pass their own.

use super::{FieldError, values};
use crate::rollback::Secret;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

pub const DEFAULT_EXPORT_INTERVAL: Duration = Duration::from_secs(60);
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// The path the OTLP/HTTP exporter appends to a base endpoint.
pub const HTTP_METRICS_PATH: &str = "v1/metrics";

/// `[telemetry]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTelemetry {
    /// The OTLP receiver's base URL; metrics are off without it (or `OTEL_EXPORTER_OTLP_ENDPOINT`).
    pub endpoint: Option<String>,
    /// `http/protobuf` (default) or `grpc`.
    pub protocol: Option<String>,
    /// Headers sent with every export; a value may be a reference, `env:NAME` or `file:PATH`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub export_interval: Option<String>,
    pub timeout: Option<String>,
}

/// `[status]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStatus {
    /// Where `run` serves `/metrics` and `/healthz`; off when absent.
    pub listen: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    HttpProtobuf,
    Grpc,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::Grpc => "grpc",
        }
    }
}

/// The metrics export, resolved. Header values are secrets: `Debug` shows only their names.
#[derive(Debug, Clone)]
pub struct OtlpSettings {
    /// The URL exports go to (for HTTP, with `/v1/metrics`).
    pub endpoint: String,
    pub protocol: Protocol,
    pub headers: Vec<(String, Secret)>,
    pub export_interval: Duration,
    pub timeout: Duration,
}

/// Where an error was found: a key of the config file, or an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    File(FieldError),
    Env(&'static str, String),
}

/// The environment variables read, most specific first.
const ENDPOINT_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];
const PROTOCOL_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
];
const TIMEOUT_VARS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
];
const INTERVAL_VAR: &str = "OTEL_METRIC_EXPORT_INTERVAL";

/// The export settings, or `None` when metrics are off: no endpoint in the file or the environment,
/// `OTEL_SDK_DISABLED=true`, or `OTEL_METRICS_EXPORTER=none`. Environment variables win over the file.
pub fn compile_telemetry(
    raw: &RawTelemetry,
    env: &dyn Fn(&str) -> Option<String>,
    secrets: values::Secrets,
) -> Result<Option<OtlpSettings>, Vec<Located>> {
    let mut errors = Vec::new();
    let first_env = |vars: &[&'static str]| {
        vars.iter()
            .find_map(|&var| env(var).filter(|v| !v.trim().is_empty()).map(|v| (var, v)))
    };
    let protocol = match first_env(&PROTOCOL_VARS) {
        Some((var, text)) => protocol(&text).map_err(|m| errors.push(Located::Env(var, m))),
        None => raw
            .protocol
            .as_deref()
            .map_or(Ok(Protocol::HttpProtobuf), protocol)
            .map_err(|m| errors.push(Located::File(FieldError::new("telemetry.protocol", m)))),
    }
    .unwrap_or(Protocol::HttpProtobuf);
    let endpoint = match first_env(&ENDPOINT_VARS) {
        Some((var, text)) => endpoint_url(&text)
            .map(|url| full_endpoint(url, protocol, var == ENDPOINT_VARS[1]))
            .map_err(|m| errors.push(Located::Env(var, m)))
            .ok(),
        None => raw.endpoint.as_deref().and_then(|text| {
            endpoint_url(text)
                .map(|url| full_endpoint(url, protocol, true))
                .map_err(|m| errors.push(Located::File(FieldError::new("telemetry.endpoint", m))))
                .ok()
        }),
    };
    // A duration: the first set variable (milliseconds), else the file's key (humantime), else the default.
    // Both are bounded by an hour (`MAX_TIMEOUT`).
    let mut duration = |vars: &[&'static str], text: Option<&str>, key: &str, default: Duration| {
        match first_env(vars) {
            Some((var, ms)) => millis(&ms).map_err(|m| errors.push(Located::Env(var, m))),
            None => file_duration(text, key, default).map_err(|e| errors.push(e)),
        }
        .unwrap_or(default)
    };
    let timeout = duration(
        &TIMEOUT_VARS,
        raw.timeout.as_deref(),
        "telemetry.timeout",
        DEFAULT_EXPORT_TIMEOUT,
    );
    let export_interval = duration(
        &[INTERVAL_VAR],
        raw.export_interval.as_deref(),
        "telemetry.export_interval",
        DEFAULT_EXPORT_INTERVAL,
    );
    let mut headers = Vec::new();
    for (name, value) in &raw.headers {
        let key = format!("telemetry.headers.{name}");
        let resolved = values::header_name(name).and_then(|()| header_value(value, secrets));
        match resolved {
            Ok(secret) => headers.push((name.clone(), secret)),
            Err(m) => errors.push(Located::File(FieldError::new(key, m))),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let disabled = env("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        || env("OTEL_METRICS_EXPORTER").is_some_and(|v| v.trim().eq_ignore_ascii_case("none"));
    Ok(endpoint.filter(|_| !disabled).map(|endpoint| OtlpSettings {
        endpoint,
        protocol,
        headers,
        export_interval,
        timeout,
    }))
}

fn protocol(text: &str) -> Result<Protocol, String> {
    match text.trim() {
        "http/protobuf" => Ok(Protocol::HttpProtobuf),
        "grpc" => Ok(Protocol::Grpc),
        "http/json" => {
            Err("\"http/json\" is not supported; give \"http/protobuf\" or \"grpc\"".into())
        }
        other => Err(format!(
            "\"{other}\" is not a protocol; give \"http/protobuf\" or \"grpc\""
        )),
    }
}

fn endpoint_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| {
        format!("\"{text}\" is not a URL ({e}); write it like \"http://127.0.0.1:4318\"")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "\"{text}\": the endpoint must be an http:// or https:// URL with a host"
        ));
    }
    Ok(url)
}

/// The URL exports go to. A base endpoint (the file's, `OTEL_EXPORTER_OTLP_ENDPOINT`) gets `v1/metrics`
/// appended for HTTP; the metrics-specific variable is used as given, as the OTLP exporter spec says.
fn full_endpoint(url: url::Url, protocol: Protocol, base: bool) -> String {
    let text = url.as_str();
    if protocol == Protocol::HttpProtobuf && base {
        format!("{}/{HTTP_METRICS_PATH}", text.trim_end_matches('/'))
    } else if url.path() == "/" {
        text.trim_end_matches('/').to_string()
    } else {
        text.to_string()
    }
}

fn millis(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<u64>() {
        Ok(ms) if ms > 0 => values::bounded(
            text,
            Duration::from_millis(ms),
            Duration::ZERO,
            values::MAX_TIMEOUT,
        ),
        _ => Err(format!(
            "\"{text}\" is not a positive number of milliseconds"
        )),
    }
}

fn file_duration(text: Option<&str>, key: &str, default: Duration) -> Result<Duration, Located> {
    text.map_or(Ok(default), values::timeout)
        .map_err(|m| Located::File(FieldError::new(key, m)))
}

/// A header value: `env:NAME` or `file:PATH` is resolved, anything else is taken as written.
fn header_value(value: &str, secrets: values::Secrets) -> Result<Secret, String> {
    if value.starts_with("env:") || value.starts_with("file:") {
        values::secret_as(value, secrets)
    } else {
        values::header_value(value)?;
        Ok(Secret::new(value.as_bytes().to_vec()))
    }
}

/// `[status] listen`: `IP:PORT`, `localhost:PORT`, or a bare `PORT` / `:PORT` (loopback).
pub fn listen_address(text: &str) -> Result<SocketAddr, String> {
    let bad = || format!("\"{text}\" is not a listen address; write it like \"127.0.0.1:9464\"");
    let trimmed = text.trim();
    let loopback = |port: &str| {
        port.parse::<u16>()
            .map(|port| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
            .map_err(|_| bad())
    };
    if let Some(port) = trimmed.strip_prefix("localhost:") {
        return loopback(port);
    }
    if let Some(port) = trimmed.strip_prefix(':') {
        return loopback(port);
    }
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return loopback(trimmed);
    }
    trimmed.parse::<SocketAddr>().map_err(|_| bad())
}

/// `[status]`, compiled: the address to serve on, if any.
pub fn compile_status(raw: &RawStatus) -> Result<Option<SocketAddr>, FieldError> {
    raw.listen
        .as_deref()
        .map(listen_address)
        .transpose()
        .map_err(|m| FieldError::new("status.listen", m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(
        raw: &RawTelemetry,
        vars: &[(&str, &str)],
    ) -> Result<Option<OtlpSettings>, Vec<Located>> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        compile_telemetry(
            raw,
            &move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            values::Secrets::Resolve,
        )
    }

    #[test]
    fn off_without_an_endpoint() {
        assert!(
            compile(&RawTelemetry::default(), &[])
                .expect("ok")
                .is_none()
        );
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let raw = RawTelemetry {
            endpoint: Some("http://127.0.0.1:1".into()),
            protocol: Some("grpc".into()),
            timeout: Some("3s".into()),
            ..RawTelemetry::default()
        };
        let from_file = compile(&raw, &[]).expect("ok").expect("on");
        assert_eq!(
            (
                from_file.endpoint.as_str(),
                from_file.protocol,
                from_file.timeout
            ),
            ("http://127.0.0.1:1", Protocol::Grpc, Duration::from_secs(3))
        );
        let from_env = compile(
            &raw,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:2/"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "1500"),
                ("OTEL_METRIC_EXPORT_INTERVAL", "250"),
            ],
        )
        .expect("ok")
        .expect("on");
        assert_eq!(from_env.endpoint, "http://127.0.0.1:2/v1/metrics");
        assert_eq!(from_env.protocol, Protocol::HttpProtobuf);
        assert_eq!(from_env.timeout, Duration::from_millis(1500));
        assert_eq!(from_env.export_interval, Duration::from_millis(250));
        let specific = compile(
            &raw,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:2"),
                (
                    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                    "http://127.0.0.1:3/custom",
                ),
                ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
            ],
        )
        .expect("ok")
        .expect("on");
        assert_eq!(specific.endpoint, "http://127.0.0.1:3/custom");
        assert!(
            compile(&raw, &[("OTEL_SDK_DISABLED", "true")])
                .expect("ok")
                .is_none()
        );
        assert!(
            compile(&raw, &[("OTEL_METRICS_EXPORTER", "none")])
                .expect("ok")
                .is_none()
        );
    }

    #[test]
    fn environment_errors_name_the_variable() {
        let errors = compile(
            &RawTelemetry::default(),
            &[
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "udp"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
            ],
        )
        .expect_err("bad");
        assert_eq!(
            errors,
            vec![
                Located::Env(
                    "OTEL_EXPORTER_OTLP_PROTOCOL",
                    "\"udp\" is not a protocol; give \"http/protobuf\" or \"grpc\"".into()
                ),
                Located::Env(
                    "OTEL_EXPORTER_OTLP_TIMEOUT",
                    "\"10s\" is not a positive number of milliseconds".into()
                ),
            ]
        );
    }

    #[test]
    fn header_values_are_secrets() {
        let raw = RawTelemetry {
            endpoint: Some("http://127.0.0.1:1".into()),
            headers: [("Authorization".to_string(), "Bearer abc".to_string())].into(),
            ..RawTelemetry::default()
        };
        let settings = compile(&raw, &[]).expect("ok").expect("on");
        assert_eq!(settings.headers[0].1.expose(), b"Bearer abc");
        assert!(!format!("{settings:?}").contains("abc"));
    }

    #[test]
    fn listen_addresses() {
        assert_eq!(listen_address("9464"), Ok(([127, 0, 0, 1], 9464).into()));
        assert_eq!(listen_address(":9464"), Ok(([127, 0, 0, 1], 9464).into()));
        assert_eq!(
            listen_address("localhost:9464"),
            Ok(([127, 0, 0, 1], 9464).into())
        );
        assert_eq!(
            listen_address("0.0.0.0:9464"),
            Ok(([0, 0, 0, 0], 9464).into())
        );
        assert_eq!(
            listen_address("metrics.example:9464"),
            Err("\"metrics.example:9464\" is not a listen address; write it like \"127.0.0.1:9464\"".into())
        );
    }
}
