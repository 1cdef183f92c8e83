//! Compile `[alert]`, `[alert.smtp]` and `[[alert.maintenance]]` into [`AlertSettings`], every error with its
//! key. The probe names of maintenance windows are checked once the probes are loaded ([`check_probes`]).

use super::compile::{keep, optional};
use super::raw::{RawAlert, RawMaintenance, RawSmtp};
use super::{FieldError, suggest, values};
use crate::alert::{
    AlertPolicy, AlertSettings, GroupPolicy, MaintenanceWindow, RetryPolicy, SmtpSecurity,
    SmtpSettings, parse_mailbox,
};
use crate::schedule::CronSchedule;
use std::path::Path;
use std::time::Duration;

pub const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Compiles `[alert]`; errors are pushed with keys from the file's root (`alert.smtp.to[1]`).
pub(super) fn compile_alert(
    raw: &RawAlert,
    base_dir: &Path,
    secrets: values::Secrets,
    errors: &mut Vec<FieldError>,
) -> AlertSettings {
    let defaults = AlertSettings::default();
    let duration = |errors: &mut Vec<FieldError>, key: &str, value: &Option<String>, default| {
        let key = format!("alert.{key}");
        keep(
            errors,
            &key,
            optional(value.as_deref(), values::duration, default),
        )
        .unwrap_or(default)
    };
    let fire_after =
        count(errors, "fire_after", raw.fire_after).unwrap_or(defaults.policy.fire_after);
    let window = count(errors, "window", raw.window).unwrap_or(fire_after);
    if window < fire_after {
        errors.push(FieldError::new(
            "alert.window",
            format!(
                "{window} is less than fire_after ({fire_after}); the window must hold at least fire_after runs"
            ),
        ));
    }
    let policy = AlertPolicy {
        fire_after,
        window: window.max(fire_after),
        resolve_after: count(errors, "resolve_after", raw.resolve_after)
            .unwrap_or(defaults.policy.resolve_after),
        remind_every: duration(
            errors,
            "remind_every",
            &raw.remind_every,
            defaults.policy.remind_every,
        ),
        send_resolved: raw.send_resolved.unwrap_or(defaults.policy.send_resolved),
    };
    let group = GroupPolicy {
        group_wait: duration(
            errors,
            "group_wait",
            &raw.group_wait,
            defaults.group.group_wait,
        ),
        group_interval: duration(
            errors,
            "group_interval",
            &raw.group_interval,
            defaults.group.group_interval,
        ),
    };
    let retry = RetryPolicy {
        initial: duration(
            errors,
            "retry_initial",
            &raw.retry_initial,
            defaults.retry.initial,
        ),
        max: duration(errors, "retry_max", &raw.retry_max, defaults.retry.max),
        give_up_after: duration(
            errors,
            "give_up_after",
            &raw.give_up_after,
            defaults.retry.give_up_after,
        ),
    };
    if retry.max < retry.initial {
        errors.push(FieldError::new(
            "alert.retry_max",
            format!(
                "{} is shorter than retry_initial ({}); give at least that",
                humantime::format_duration(retry.max),
                humantime::format_duration(retry.initial)
            ),
        ));
    }
    let smtp = raw.smtp.as_ref().and_then(|smtp| {
        let mut smtp_errors = Vec::new();
        let compiled = compile_smtp(smtp, base_dir, secrets, &mut smtp_errors);
        let ok = smtp_errors.is_empty();
        errors.extend(smtp_errors.into_iter().map(|e| e.prefixed("alert.smtp")));
        compiled.filter(|_| ok)
    });
    AlertSettings {
        policy,
        group,
        smtp,
        retry,
        maintenance: compile_windows(&raw.maintenance, errors),
    }
}

/// The probe names of each maintenance window, checked against the loaded probes (`known`).
pub(super) fn check_probes(raw: &RawAlert, known: &[&str]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, window) in raw.maintenance.iter().enumerate() {
        let names = window.probes.as_deref().unwrap_or_default();
        let prefix = format!("alert.maintenance[{i}]");
        errors.extend(
            values::probe_names(names, known)
                .into_iter()
                .map(|e| e.prefixed(&prefix)),
        );
    }
    errors
}

/// A run count: absent, or 1 to 1000.
fn count(errors: &mut Vec<FieldError>, key: &str, value: Option<i64>) -> Option<u32> {
    let n = value?;
    keep(
        errors,
        &format!("alert.{key}"),
        if (1..=1000).contains(&n) {
            Ok(n as u32)
        } else {
            Err(format!("{n} is out of range; give 1 to 1000"))
        },
    )
}

/// `[alert.smtp]`; keys relative to it. `None` when something is missing.
fn compile_smtp(
    raw: &RawSmtp,
    base_dir: &Path,
    secrets: values::Secrets,
    errors: &mut Vec<FieldError>,
) -> Option<SmtpSettings> {
    let host = keep(
        errors,
        "host",
        match raw.host.as_deref() {
            None => Err("missing; give the SMTP server's host name or address".to_string()),
            Some(h) if h.is_empty() || h.contains(char::is_whitespace) => {
                Err(format!("\"{h}\" is not a host name or address"))
            }
            Some(h) => Ok(h.to_string()),
        },
    );
    let security = keep(
        errors,
        "security",
        raw.security
            .as_deref()
            .map_or(Ok(SmtpSecurity::StartTls), security),
    );
    let port = keep(
        errors,
        "port",
        match raw.port {
            None => Ok(security.unwrap_or(SmtpSecurity::StartTls).default_port()),
            Some(n) if (1..=65535).contains(&n) => Ok(n as u16),
            Some(n) => Err(format!("{n} is out of range; give 1 to 65535")),
        },
    );
    let password = raw
        .password
        .as_deref()
        .and_then(|reference| keep(errors, "password", values::secret_as(reference, secrets)));
    match (&raw.username, &raw.password) {
        (Some(_), None) => errors.push(FieldError::new(
            "password",
            "missing; a username is given, so give its password by reference: \"env:NAME\" or \"file:PATH\"",
        )),
        (None, Some(_)) => errors.push(FieldError::new(
            "username",
            "missing; a password is given, so give the username it belongs to",
        )),
        _ => {}
    }
    let from = keep(
        errors,
        "from",
        match raw.from.as_deref() {
            None => Err(
                "missing; give the sender, e.g. from = \"oewsprobe <oewsprobe@example.org>\""
                    .to_string(),
            ),
            Some(text) => parse_mailbox(text).map(|_| text.to_string()),
        },
    );
    let to = recipients(raw.to.as_deref(), errors);
    let timeout = keep(
        errors,
        "timeout",
        optional(
            raw.timeout.as_deref(),
            values::timeout,
            DEFAULT_SMTP_TIMEOUT,
        ),
    );
    let ca_file = raw.ca_file.as_deref().map(|path| base_dir.join(path));
    if let Some(path) = &ca_file {
        keep(errors, "ca_file", crate::tls::read_certificates(path));
    }
    Some(SmtpSettings {
        host: host?,
        port: port?,
        security: security?,
        username: raw.username.clone(),
        password,
        from: from?,
        to: to?,
        timeout: timeout?,
        ca_file,
    })
}

fn security(name: &str) -> Result<SmtpSecurity, String> {
    SmtpSecurity::parse(name).ok_or_else(|| match suggest(name, &SmtpSecurity::NAMES) {
        Some(best) => format!("\"{name}\" is not a security mode — did you mean \"{best}\"?"),
        None => format!(
            "\"{name}\" is not a security mode (one of {})",
            SmtpSecurity::NAMES.join(", ")
        ),
    })
}

fn recipients(raw: Option<&[String]>, errors: &mut Vec<FieldError>) -> Option<Vec<String>> {
    let list = match raw {
        None => {
            errors.push(FieldError::new(
                "to",
                "missing; list at least one recipient, e.g. to = [\"sre@example.org\"]",
            ));
            return None;
        }
        Some([]) => {
            errors.push(FieldError::new(
                "to",
                "an empty list sends to no one; list at least one recipient",
            ));
            return None;
        }
        Some(list) => list,
    };
    let before = errors.len();
    for (i, text) in list.iter().enumerate() {
        keep(errors, &format!("to[{i}]"), parse_mailbox(text));
    }
    (errors.len() == before).then(|| list.to_vec())
}

/// `[[alert.maintenance]]`: each window named once, with a schedule and a duration.
fn compile_windows(
    raws: &[RawMaintenance],
    errors: &mut Vec<FieldError>,
) -> Vec<MaintenanceWindow> {
    let mut windows = Vec::new();
    for (i, raw) in raws.iter().enumerate() {
        let key = |k: &str| format!("alert.maintenance[{i}].{k}");
        let name = keep(
            errors,
            &key("name"),
            match raw.name.as_deref() {
                None => Err(
                    "missing; give the window a name, e.g. name = \"weekly deploy\"".to_string(),
                ),
                Some(text) if text.trim().is_empty() => Err("the name is empty".to_string()),
                Some(text) => match raws[..i].iter().position(|w| w.name == raw.name) {
                    Some(j) => Err(format!(
                        "window \"{text}\" is already defined at alert.maintenance[{j}]; give each its own name"
                    )),
                    None => Ok(text.to_string()),
                },
            },
        );
        let schedule = keep(
            errors,
            &key("cron"),
            match raw.cron.as_deref() {
                None => Err(
                    "missing; give when the window opens, e.g. cron = \"0 0 2 * * Sun\""
                        .to_string(),
                ),
                Some(text) => CronSchedule::parse(text),
            },
        );
        let duration = keep(
            errors,
            &key("duration"),
            match raw.duration.as_deref() {
                None => Err(
                    "missing; give how long the window stays open, e.g. duration = \"2h\""
                        .to_string(),
                ),
                Some(text) => values::window(text),
            },
        );
        if let (Some(name), Some(schedule), Some(duration)) = (name, schedule, duration) {
            windows.push(MaintenanceWindow {
                name,
                schedule,
                duration,
                probes: raw.probes.clone().unwrap_or_default(),
                reason: raw.reason.clone(),
            });
        }
    }
    windows
}
