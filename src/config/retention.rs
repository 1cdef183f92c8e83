//! `run.retention_*`, compiled: how long each tier of history is kept, every duration bounded and the tiers
//! in order (failures at least as long as all raw runs; minute rows no longer than hour rows, hour rows no
//! longer than day rows). `run.retention` is the former name of `run.retention_raw`.

use super::raw::RawRun;
use super::{FieldError, values};
use crate::history::Retention;
use std::time::Duration;

/// One key as written (`None`: not written, its default applies) and its value when valid.
struct Key<'a> {
    name: &'a str,
    text: Option<&'a str>,
    value: Option<Duration>,
}

impl Key<'_> {
    /// The value as messages show it: as written, or the default's.
    fn shown(&self, value: Duration) -> String {
        match self.text {
            Some(text) => format!("\"{text}\""),
            None => format!("{} (the default)", values::bound_text(value)),
        }
    }
}

/// Compiles `[run]`'s retention keys, recording each error at its key.
pub fn compile_retention(raw: &RawRun, errors: &mut Vec<FieldError>) -> Retention {
    let defaults = Retention::default();
    let (raw_name, raw_text) = match (raw.retention.as_deref(), raw.retention_raw.as_deref()) {
        (Some(old), None) => ("run.retention", Some(old)),
        (Some(_), Some(new)) => {
            errors.push(FieldError::new(
                "run.retention",
                "give either run.retention (the former name of run.retention_raw) or \
                 run.retention_raw, not both",
            ));
            ("run.retention_raw", Some(new))
        }
        (None, text) => ("run.retention_raw", text),
    };
    let mut key = |name, text: Option<&'_ str>, default| -> Option<Duration> {
        match text.map(values::duration) {
            None => Some(default),
            Some(Ok(d)) => Some(d),
            Some(Err(m)) => {
                errors.push(FieldError::new(name, m));
                None
            }
        }
    };
    let keys = [
        (raw_name, raw_text, defaults.raw),
        (
            "run.retention_failures",
            raw.retention_failures.as_deref(),
            defaults.failures,
        ),
        (
            "run.retention_minute",
            raw.retention_minute.as_deref(),
            defaults.minute,
        ),
        (
            "run.retention_hour",
            raw.retention_hour.as_deref(),
            defaults.hour,
        ),
    ]
    .map(|(name, text, default)| Key {
        name,
        text,
        value: key(name, text, default),
    });
    let day_text = raw.retention_day.as_deref();
    let day = match day_text {
        None | Some("forever") => None,
        Some(text) => values::duration(text)
            .map_err(|m| {
                errors.push(FieldError::new(
                    "run.retention_day",
                    format!("{m}, or \"forever\""),
                ))
            })
            .ok(),
    };
    let day_key = Key {
        name: "run.retention_day",
        text: day_text,
        value: day,
    };
    let [raw_key, failures, minute, hour] = &keys;
    for (shorter, longer) in [(raw_key, failures), (minute, hour), (hour, &day_key)] {
        if let (Some(s), Some(l)) = (shorter.value, longer.value)
            && l < s
        {
            errors.push(FieldError::new(
                longer.name,
                format!(
                    "{} is shorter than {} ({}); give at least as long",
                    longer.shown(l),
                    shorter.name,
                    shorter.shown(s)
                ),
            ));
        }
    }
    Retention {
        raw: raw_key.value.unwrap_or(defaults.raw),
        failures: failures.value.unwrap_or(defaults.failures),
        minute: minute.value.unwrap_or(defaults.minute),
        hour: hour.value.unwrap_or(defaults.hour),
        day,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(keys: &[(&str, &str)]) -> RawRun {
        let text: String = keys
            .iter()
            .map(|(k, v)| format!("{k} = \"{v}\"\n"))
            .collect();
        toml::from_str(&text).expect("a [run] table")
    }

    fn compiled(keys: &[(&str, &str)]) -> Result<Retention, Vec<String>> {
        let mut errors = Vec::new();
        let retention = compile_retention(&run(keys), &mut errors);
        match errors.is_empty() {
            true => Ok(retention),
            false => Err(errors
                .into_iter()
                .map(|e| format!("{}: {}", e.key, e.message))
                .collect()),
        }
    }

    const DAY: u64 = 24 * 3600;

    fn days(n: u64) -> Duration {
        Duration::from_secs(n * DAY)
    }

    #[test]
    fn tiers_default_and_take_their_keys() {
        assert_eq!(compiled(&[]), Ok(Retention::default()));
        assert_eq!(
            Retention::default(),
            Retention {
                raw: days(7),
                failures: days(90),
                minute: days(30),
                hour: days(400),
                day: None
            }
        );
        assert_eq!(
            compiled(&[
                ("retention_raw", "2d"),
                ("retention_failures", "2days"),
                ("retention_minute", "1d"),
                ("retention_hour", "3d"),
                ("retention_day", "3650days"),
            ]),
            Ok(Retention {
                raw: days(2),
                failures: days(2),
                minute: days(1),
                hour: days(3),
                day: Some(days(3650)),
            })
        );
        assert_eq!(
            compiled(&[("retention", "3d"), ("retention_day", "forever")]),
            Ok(Retention {
                raw: days(3),
                ..Retention::default()
            }),
            "run.retention is the former name of run.retention_raw"
        );
    }

    #[test]
    fn each_broken_retention_gets_its_exact_message() {
        for (keys, messages) in [
            (
                vec![("retention", "3d"), ("retention_raw", "3d")],
                vec![
                    "run.retention: give either run.retention (the former name of run.retention_raw) or run.retention_raw, not both",
                ],
            ),
            (
                vec![("retention_raw", "100d")],
                vec![
                    "run.retention_failures: 90days (the default) is shorter than run.retention_raw (\"100d\"); give at least as long",
                ],
            ),
            (
                vec![("retention", "10d"), ("retention_failures", "9d")],
                vec![
                    "run.retention_failures: \"9d\" is shorter than run.retention (\"10d\"); give at least as long",
                ],
            ),
            (
                vec![("retention_minute", "500d"), ("retention_day", "300d")],
                vec![
                    "run.retention_hour: 400days (the default) is shorter than run.retention_minute (\"500d\"); give at least as long",
                    "run.retention_day: \"300d\" is shorter than run.retention_hour (400days (the default)); give at least as long",
                ],
            ),
            (
                vec![("retention_day", "always"), ("retention_hour", "0s")],
                vec![
                    "run.retention_hour: \"0s\" is zero; give a positive duration like \"30s\"",
                    "run.retention_day: \"always\" is not a duration (expected number at 0); write it like \"30s\", \"2m\" or \"1h 30m\", or \"forever\"",
                ],
            ),
            (
                vec![
                    ("retention_day", "3651days"),
                    ("retention_minute", "3651days"),
                ],
                vec![
                    "run.retention_minute: \"3651days\" is too long; give at most 3650days",
                    "run.retention_day: \"3651days\" is too long; give at most 3650days, or \"forever\"",
                ],
            ),
        ] {
            assert_eq!(
                compiled(&keys),
                Err(messages.iter().map(|m| m.to_string()).collect()),
                "{keys:?}"
            );
        }
    }
}
