//! Compile `[[slo]]` tables into [`Objective`]s, reporting every error at once with its key.

use super::objective::{
    DEFAULT_MIN_BAD, DEFAULT_PERIOD, Objective, Severity, Sli, Tier, default_tiers,
};
use super::observation::Counts;
use super::raw::{RawObjective, RawTier};
use super::window::WindowStat;
use super::{number, span_text};
use crate::config::{FieldError, suggest};
use std::time::Duration;

/// Compiles every `[[slo]]` table; keys are prefixed `slo[i].`. Objective names must be unique.
pub fn compile_all(
    raws: &[RawObjective],
    known_probes: &[&str],
) -> Result<Vec<Objective>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut objectives = Vec::new();
    for (i, raw) in raws.iter().enumerate() {
        let prefix = format!("slo[{i}]");
        let first = raws[..i]
            .iter()
            .position(|earlier| earlier.name.is_some() && earlier.name == raw.name);
        if let (Some(j), Some(name)) = (first, &raw.name) {
            errors.push(FieldError::new(
                format!("{prefix}.name"),
                format!(
                    "objective \"{name}\" is already defined at slo[{j}]; give each its own name"
                ),
            ));
        }
        match compile(raw, known_probes) {
            Ok(objective) => objectives.push(objective),
            Err(es) => errors.extend(es.into_iter().map(|e| e.prefixed(&prefix))),
        }
    }
    if errors.is_empty() {
        Ok(objectives)
    } else {
        Err(errors)
    }
}

/// Compiles one `[[slo]]` table; keys are relative to it (`target`, `tiers[1].burn`). `known_probes` are
/// the names of the configured probes, for checking `probes` and suggesting the closest name.
///
/// `min_bad = 0` is allowed: it turns the minimum-failures guard off, for objectives over busy probes.
pub fn compile(raw: &RawObjective, known_probes: &[&str]) -> Result<Objective, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = keep(&mut errors, "name", name(raw.name.as_deref()));
    let probes = probes(raw.probes.as_deref(), known_probes)
        .map_err(|es| errors.extend(es))
        .ok();
    let sli = sli(raw.sli.as_deref(), raw.threshold.as_deref())
        .map_err(|e| errors.push(e))
        .ok();
    let target = keep(&mut errors, "target", target(raw.target));
    let period = keep(
        &mut errors,
        "period",
        raw.period
            .as_deref()
            .map_or(Ok(DEFAULT_PERIOD), crate::config::values::window),
    );
    let min_bad = keep(&mut errors, "min_bad", min_bad(raw.min_bad));
    let tiers = tiers(raw.tiers.as_deref(), target)
        .map_err(|es| errors.extend(es))
        .ok();
    match (name, probes, sli, target, period, min_bad, tiers) {
        (
            Some(name),
            Some(probes),
            Some(sli),
            Some(target),
            Some(period),
            Some(min_bad),
            Some(tiers),
        ) if errors.is_empty() => Ok(Objective {
            quorum: crate::fleet::Quorum::Majority,
            name,
            probes,
            sli,
            target,
            period,
            tiers,
            min_bad,
        }),
        _ => Err(errors),
    }
}

/// The value, or `None` after recording the error at `key`.
fn keep<T>(errors: &mut Vec<FieldError>, key: &str, result: Result<T, String>) -> Option<T> {
    result
        .map_err(|m| errors.push(FieldError::new(key, m)))
        .ok()
}

fn name(raw: Option<&str>) -> Result<String, String> {
    match raw {
        None => Err("missing; give the objective a name, e.g. name = \"queries\"".into()),
        Some(text) if text.trim().is_empty() => Err("the name is empty".into()),
        Some(text) => Ok(text.to_string()),
    }
}

fn probes(raw: Option<&[String]>, known: &[&str]) -> Result<Vec<String>, Vec<FieldError>> {
    let list = match raw {
        None => {
            return Err(vec![FieldError::new(
                "probes",
                "missing; list the probes this objective covers, e.g. probes = [\"health\"]",
            )]);
        }
        Some([]) => {
            return Err(vec![FieldError::new(
                "probes",
                "an empty list covers no runs; list at least one probe",
            )]);
        }
        Some(list) => list,
    };
    let errors = crate::config::values::probe_names(list, known);
    if errors.is_empty() {
        Ok(list.to_vec())
    } else {
        Err(errors)
    }
}

fn sli(raw: Option<&str>, threshold: Option<&str>) -> Result<Sli, FieldError> {
    match (raw.unwrap_or("availability"), threshold) {
        ("availability", None) => Ok(Sli::Availability),
        ("availability", Some(_)) => Err(FieldError::new(
            "threshold",
            "threshold applies only to sli = \"latency\"",
        )),
        ("latency", None) => Err(FieldError::new(
            "threshold",
            "missing; a latency objective needs a threshold like threshold = \"30s\"",
        )),
        ("latency", Some(text)) => crate::config::values::timeout(text)
            .map(|threshold| Sli::Latency { threshold })
            .map_err(|m| FieldError::new("threshold", m)),
        (other, _) => Err(FieldError::new(
            "sli",
            match suggest(other, &["availability", "latency"]) {
                Some(best) => format!("\"{other}\" is not an SLI — did you mean \"{best}\"?"),
                None => format!("\"{other}\" is not an SLI; give \"availability\" or \"latency\""),
            },
        )),
    }
}

fn target(raw: Option<f64>) -> Result<f64, String> {
    match raw {
        None => Err("missing; give the share of good runs to aim for, e.g. target = 0.99".into()),
        Some(t) if t > 0.0 && t < 1.0 => Ok(t),
        Some(t) => Err(format!(
            "{t} is not between 0 and 1 (both excluded); write 0.99 for 99%"
        )),
    }
}

fn min_bad(raw: Option<i64>) -> Result<u32, String> {
    match raw {
        None => Ok(DEFAULT_MIN_BAD),
        Some(n) => u32::try_from(n)
            .map_err(|_| format!("{n} is out of range; give 0 or more (0 turns the guard off)")),
    }
}

/// The configured tiers, or the defaults when none are given. Each must be able to fire under `target`
/// (when the target itself is valid).
fn tiers(raw: Option<&[RawTier]>, target: Option<f64>) -> Result<Vec<Tier>, Vec<FieldError>> {
    let list = match raw {
        None => return checked_defaults(target),
        Some([]) => {
            return Err(vec![FieldError::new(
                "tiers",
                "an empty list can never alert; remove it for the default tiers \
                 (page 14.4× over 1h, page 6× over 6h, ticket 1× over 3days)",
            )]);
        }
        Some(list) => list,
    };
    let mut errors = Vec::new();
    let mut compiled: Vec<Tier> = Vec::new();
    for (i, raw) in list.iter().enumerate() {
        let prefix = format!("tiers[{i}]");
        match tier(raw, target) {
            Ok(tier) => {
                if let Some(j) = compiled.iter().position(|t| t.name == tier.name) {
                    errors.push(FieldError::new(
                        format!("{prefix}.name"),
                        format!(
                            "tier \"{}\" is already defined at tiers[{j}]; give each tier its own name",
                            tier.name
                        ),
                    ));
                }
                compiled.push(tier);
            }
            Err(es) => errors.extend(es.into_iter().map(|e| e.prefixed(&prefix))),
        }
    }
    if errors.is_empty() {
        Ok(compiled)
    } else {
        Err(errors)
    }
}

/// The default tiers, each of which must be able to fire under `target`; errors are the target's.
fn checked_defaults(target: Option<f64>) -> Result<Vec<Tier>, Vec<FieldError>> {
    let defaults = default_tiers();
    let Some(t) = target else {
        return Ok(defaults);
    };
    let errors: Vec<FieldError> = defaults
        .iter()
        .filter(|tier| !can_fire(tier.burn, t))
        .map(|tier| {
            let message = format!(
                "with target {t} the default tier \"{}\" (burn {}) can never fire: {}; \
                 raise target, or give [[slo.tiers]] explicitly",
                tier.name,
                tier.burn,
                ceiling(t),
            );
            FieldError::new("target", message)
        })
        .collect();
    if errors.is_empty() {
        Ok(defaults)
    } else {
        Err(errors)
    }
}

fn tier(raw: &RawTier, target: Option<f64>) -> Result<Tier, Vec<FieldError>> {
    let mut errors = Vec::new();
    let severity = keep(&mut errors, "severity", severity(raw.severity.as_deref()));
    let long = keep(
        &mut errors,
        "long",
        required_duration(raw.long.as_deref(), "1h"),
    );
    let short = keep(
        &mut errors,
        "short",
        required_duration(raw.short.as_deref(), "5m"),
    );
    if let (Some(long), Some(short)) = (long, short)
        && short >= long
    {
        errors.push(FieldError::new(
            "short",
            format!(
                "the short window ({}) must be shorter than the long window ({})",
                span_text(short),
                span_text(long)
            ),
        ));
    }
    let burn = keep(&mut errors, "burn", burn(raw.burn, target));
    match (severity, long, short, burn) {
        (Some(severity), Some(long), Some(short), Some(burn)) if errors.is_empty() => {
            let name = raw
                .name
                .clone()
                .unwrap_or_else(|| format!("{severity}-{}", span_text(long)));
            Ok(Tier {
                name,
                severity,
                long,
                short,
                burn,
            })
        }
        _ => Err(errors),
    }
}

fn severity(raw: Option<&str>) -> Result<Severity, String> {
    match raw {
        None => Err("missing; give \"page\" or \"ticket\"".into()),
        Some("page") => Ok(Severity::Page),
        Some("ticket") => Ok(Severity::Ticket),
        Some(other) => Err(match suggest(other, &["page", "ticket"]) {
            Some(best) => format!("\"{other}\" is not a severity — did you mean \"{best}\"?"),
            None => format!("\"{other}\" is not a severity; give \"page\" or \"ticket\""),
        }),
    }
}

fn burn(raw: Option<f64>, target: Option<f64>) -> Result<f64, String> {
    match (raw, target) {
        (None, _) => Err("missing; give a burn rate like burn = 14.4".into()),
        (Some(b), _) if !(b.is_finite() && b > 0.0) => {
            Err(format!("{b} is not a positive burn rate"))
        }
        (Some(b), Some(t)) if !can_fire(b, t) => Err(format!(
            "burn {b} can never be reached with target {t}: {}; lower burn or raise target",
            ceiling(t)
        )),
        (Some(b), _) => Ok(b),
    }
}

/// Whether a window in which every run failed burns at `burn` — the same comparison evaluation makes.
fn can_fire(burn: f64, target: f64) -> bool {
    WindowStat::new(Duration::ZERO, Counts::new(0, 1, 0), target).burns_at(burn)
}

/// Why a burn rate above `1 / (1 − target)` is out of reach.
fn ceiling(target: f64) -> String {
    format!(
        "even if every run fails, the burn rate is only {} (1 / (1 − {target}))",
        number(1.0 / (1.0 - target))
    )
}

fn required_duration(raw: Option<&str>, example: &str) -> Result<Duration, String> {
    match raw {
        None => Err(format!("missing; give a window like \"{example}\"")),
        Some(text) => crate::config::values::window(text),
    }
}
