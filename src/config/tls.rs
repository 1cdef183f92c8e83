//! Compile `[tls]` (main config and probe files) into [`TlsSettings`] and `[expect.tls]` into [`TlsExpect`],
//! every error with its key; a probe's keys win over the main config's one by one.

use super::FieldError;
use super::compile::keep;
use super::raw::{RawExpectTls, RawTls};
use crate::probe::{TlsExpect, TlsVersion};
use crate::tls::TlsSettings;
use std::path::Path;

/// `raw` over `inherited` (the main config's settings, or the defaults); a relative `ca_file` is relative to
/// `base_dir`. Keys of errors are relative to the `[tls]` table.
pub fn compile_tls(
    raw: &RawTls,
    base_dir: &Path,
    inherited: &TlsSettings,
) -> Result<TlsSettings, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut settings = inherited.clone();
    if let Some(path) = &raw.ca_file {
        let path = base_dir.join(path);
        if let Some(roots) = keep(&mut errors, "ca_file", crate::tls::read_certificates(&path)) {
            settings.extra_roots = roots;
            settings.ca_file = Some(path);
        }
    }
    if let Some(name) = &raw.server_name
        && let Some(name) = keep(
            &mut errors,
            "server_name",
            crate::tls::parse_server_name(name),
        )
    {
        settings.server_name = Some(name);
    }
    if let Some(insecure) = raw.insecure {
        settings.insecure = insecure;
    }
    if errors.is_empty() {
        Ok(settings)
    } else {
        Err(errors)
    }
}

/// The longest `min_days_left`/`warn_days_left`: ten years.
pub const MAX_DAYS_LEFT: i64 = 3650;

/// `[expect.tls]`: days bounded to 0..=3650, the warning at least the failure threshold.
pub fn compile_expect_tls(raw: &RawExpectTls) -> Result<TlsExpect, Vec<FieldError>> {
    let mut errors = Vec::new();
    let defaults = TlsExpect::default();
    let days = |errors: &mut Vec<FieldError>, key: &str, value: Option<i64>, default: u32| {
        keep(
            errors,
            key,
            match value {
                None => Ok(default),
                Some(n) if (0..=MAX_DAYS_LEFT).contains(&n) => Ok(n as u32),
                Some(n) => Err(format!("{n} is out of range; give 0 to {MAX_DAYS_LEFT}")),
            },
        )
    };
    let min_days_left = days(
        &mut errors,
        "min_days_left",
        raw.min_days_left,
        defaults.min_days_left,
    );
    let warn_days_left = days(
        &mut errors,
        "warn_days_left",
        raw.warn_days_left,
        defaults.warn_days_left.max(min_days_left.unwrap_or(0)),
    );
    if let (Some(min), Some(warn)) = (min_days_left, warn_days_left)
        && warn < min
    {
        errors.push(FieldError::new(
            "warn_days_left",
            format!("{warn} is below min_days_left ({min}); the warning comes before the failure"),
        ));
    }
    let min_version = match raw.min_version.as_deref() {
        None => Some(None),
        Some(text) => keep(
            &mut errors,
            "min_version",
            text.parse::<TlsVersion>().map(Some),
        ),
    };
    match (min_days_left, warn_days_left, min_version) {
        (Some(min_days_left), Some(warn_days_left), Some(min_version)) if errors.is_empty() => {
            Ok(TlsExpect {
                min_days_left,
                warn_days_left,
                min_version,
            })
        }
        _ => Err(errors),
    }
}
