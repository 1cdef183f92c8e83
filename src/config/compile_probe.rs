//! Compile one probe file (`probes/NAME.toml`) into a [`ProbeSpec`] against the compiled settings: its request,
//! expectations, schedule and scheduled burst, every error collected with its key relative to the file.

use super::compile::{Settings, compile_headers, keep, optional};
use super::raw::{RawProbe, RawRequest};
use super::{FieldError, values};
use crate::probe::{
    Expectations, ProbeSpec, RequestBody, RequestSpec, StatusMatcher, StatusPattern,
};
use std::path::Path;
use std::time::Duration;

/// Compiles one probe file. Errors carry keys relative to the file.
pub fn compile_probe(
    name: &str,
    file: &Path,
    raw: &RawProbe,
    settings: &Settings,
) -> Result<ProbeSpec, Vec<FieldError>> {
    let mut errors = Vec::new();
    let queries = match raw.queries {
        None => 0,
        Some(n) if (0..=1000).contains(&n) => n as u32,
        Some(n) => {
            errors.push(FieldError::new(
                "queries",
                format!("{n} is out of range; give 0 to 1000"),
            ));
            0
        }
    };
    let schedule = match raw
        .schedule
        .as_deref()
        .map(crate::schedule::CronSchedule::parse)
    {
        None => None,
        Some(Ok(schedule)) => Some(schedule),
        Some(Err(m)) => {
            errors.push(FieldError::new("schedule", m));
            None
        }
    };
    let burst = raw.burst.as_ref().and_then(|b| {
        compile_burst(b)
            .map_err(|es| errors.extend(es.into_iter().map(|e| e.prefixed("burst"))))
            .ok()
    });
    let tls = match &raw.tls {
        None => Some(settings.tls.clone()),
        Some(t) => {
            super::tls::compile_tls(t, file.parent().unwrap_or(Path::new("")), &settings.tls)
                .map_err(|es| errors.extend(es.into_iter().map(|e| e.prefixed("tls"))))
                .ok()
        }
    };
    let request = match &raw.request {
        Some(r) => compile_request(r, settings)
            .map_err(|es| errors.extend(es.into_iter().map(|e| e.prefixed("request"))))
            .ok(),
        None => {
            errors.push(FieldError::new(
                "request",
                "missing [request] table (at least request.path)",
            ));
            None
        }
    };
    let body = request.as_ref().and_then(RequestSpec::json_body);
    let expect = compile_expect(&raw.expect, body, settings)
        .map_err(|es| errors.extend(es.into_iter().map(|e| e.prefixed("expect"))))
        .ok();
    match (request, expect, tls) {
        (Some(request), Some(expect), Some(tls)) if errors.is_empty() => Ok(ProbeSpec {
            name: name.to_string(),
            description: raw.description.clone(),
            file: file.to_path_buf(),
            queries,
            schedule,
            request: RequestSpec { tls, ..request },
            expect,
            burst,
        }),
        _ => Err(errors),
    }
}

fn compile_burst(raw: &super::raw::RawBurst) -> Result<crate::probe::BurstSpec, Vec<FieldError>> {
    let mut errors = Vec::new();
    let schedule = match raw.schedule.as_deref() {
        None => keep(
            &mut errors,
            "schedule",
            Err("missing; give a cron schedule, e.g. \"0 45 3 * * *\"".to_string()),
        ),
        Some(text) => keep(
            &mut errors,
            "schedule",
            crate::schedule::CronSchedule::parse(text),
        ),
    };
    let requests = keep(
        &mut errors,
        "requests",
        match raw.requests {
            None => Ok(3),
            Some(n) if (1..=1000).contains(&n) => Ok(n as u64),
            Some(n) => Err(format!("{n} is out of range; give 1 to 1000")),
        },
    );
    let slo = keep(
        &mut errors,
        "slo",
        optional(raw.slo.as_deref(), values::timeout, Duration::from_secs(30)),
    );
    match (schedule, requests, slo) {
        (Some(schedule), Some(requests), Some(slo)) if errors.is_empty() => {
            Ok(crate::probe::BurstSpec {
                schedule,
                requests,
                slo,
            })
        }
        _ => Err(errors),
    }
}

fn compile_request(raw: &RawRequest, settings: &Settings) -> Result<RequestSpec, Vec<FieldError>> {
    let mut errors = Vec::new();
    let method = keep(
        &mut errors,
        "method",
        values::method(raw.method.as_deref().unwrap_or("GET")),
    );
    let path = keep(
        &mut errors,
        "path",
        match raw.path.as_deref() {
            None => Err("missing; give the request path, e.g. \"/api/v1/health\"".to_string()),
            Some(p) if !p.starts_with('/') => Err(format!("\"{p}\" must start with \"/\"")),
            Some(p) if p.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                Err(format!("\"{p}\" contains whitespace; percent-encode it"))
            }
            Some(p) => Ok(p.to_string()),
        },
    );
    let body = match (&raw.body, &raw.body_text) {
        (Some(_), Some(_)) => keep(
            &mut errors,
            "body_text",
            Err("give either body or body_text, not both".to_string()),
        ),
        (Some(value), None) => keep(
            &mut errors,
            "body",
            crate::assert::toml_to_json(value).map(|v| Some(RequestBody::Json(v))),
        ),
        (None, Some(text)) => Some(Some(RequestBody::Text(text.clone()))),
        (None, None) => Some(None),
    };
    let timeout = keep(
        &mut errors,
        "timeout",
        optional(raw.timeout.as_deref(), values::timeout, settings.timeout),
    );
    let connect_timeout = keep(
        &mut errors,
        "connect_timeout",
        optional(
            raw.connect_timeout.as_deref(),
            values::timeout,
            settings.connect_timeout,
        ),
    );
    let own_headers = compile_headers(&raw.headers)
        .map_err(|es| errors.extend(es.into_iter().map(|e| e.prefixed("headers"))))
        .ok();
    match (method, path, body, timeout, connect_timeout, own_headers) {
        (Some(method), Some(path), Some(body), Some(timeout), Some(connect_timeout), Some(own))
            if errors.is_empty() =>
        {
            let mut headers: Vec<(String, String)> = settings
                .headers
                .iter()
                .filter(|(name, _)| !own.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)))
                .cloned()
                .collect();
            headers.extend(own);
            Ok(RequestSpec {
                method,
                path,
                body,
                headers,
                timeout,
                connect_timeout,
                tls: settings.tls.clone(),
            })
        }
        _ => Err(errors),
    }
}

fn compile_expect(
    raw: &super::RawExpect,
    body: Option<&serde_json::Value>,
    settings: &Settings,
) -> Result<Expectations, Vec<FieldError>> {
    let mut errors = Vec::new();
    let default_status = if raw.validation_error.is_some() {
        StatusMatcher(vec![StatusPattern::Exact(422)])
    } else {
        StatusMatcher(vec![StatusPattern::Class(2)])
    };
    let status = keep(
        &mut errors,
        "status",
        raw.status
            .as_ref()
            .map_or(Ok(default_status), values::status),
    );
    let latency = keep(
        &mut errors,
        "latency",
        raw.latency.as_deref().map(values::timeout).transpose(),
    );
    let max_body = keep(
        &mut errors,
        "max_body",
        optional(raw.max_body.as_ref(), values::size, settings.max_body),
    );
    let mut json = Vec::new();
    for (i, a) in raw.json.iter().enumerate() {
        match crate::assert::compile(a) {
            Ok(a) => json.push(a),
            Err(es) => errors.extend(es.into_iter().map(|e| e.prefixed(&format!("json[{i}]")))),
        }
    }
    let trace = match &raw.trace {
        None => None,
        Some(t) => crate::oews::compile_trace(t, body)
            .map_err(|es| errors.extend(es.into_iter().map(|e| e.prefixed("trace"))))
            .ok(),
    };
    let mut echo = Vec::new();
    for (i, e) in raw.echo.iter().enumerate() {
        match crate::oews::compile_echo(e, body) {
            Ok(e) => echo.push(e),
            Err(es) => errors.extend(es.into_iter().map(|e| e.prefixed(&format!("echo[{i}]")))),
        }
    }
    let validation_error = match &raw.validation_error {
        None => None,
        Some(v) => crate::oews::compile_validation_error(v)
            .map_err(|es| errors.extend(es.into_iter().map(|e| e.prefixed("validation_error"))))
            .ok(),
    };
    let tls = super::tls::compile_expect_tls(&raw.tls)
        .map_err(|es| errors.extend(es.into_iter().map(|e| e.prefixed("tls"))))
        .ok();
    match (status, latency, max_body, tls) {
        (Some(status), Some(latency), Some(max_body), Some(tls)) if errors.is_empty() => {
            Ok(Expectations {
                status,
                latency,
                max_body,
                json,
                trace,
                echo,
                validation_error,
                openapi: raw.openapi.unwrap_or(false),
                tls,
                need: crate::assert::Need::default(),
            }
            .with_need())
        }
        _ => Err(errors),
    }
}
