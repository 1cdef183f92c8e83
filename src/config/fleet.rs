//! `run.location` (where this agent probes from) and `[fleet]` (how many locations must agree before a window
//! counts as bad), compiled. Pure but for [`host_name`], which the caller passes in.

use super::FieldError;
use super::raw::RawConfig;
use std::time::Duration;

/// The longest location name (a host name's label is at most 63 characters, a Linux host name 64).
pub const MAX_LOCATION_LEN: usize = 64;
/// The largest `fleet.quorum`.
pub const MAX_QUORUM: i64 = 1000;
/// The location when neither `run.location` nor a usable host name gives one (only for the built-in
/// defaults, used to keep checking probe files when the main config is broken).
pub const FALLBACK_LOCATION: &str = "unknown";

/// The leader's lease when `fleet.lease_ttl` is not set.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(15);
/// The shortest `fleet.lease_ttl`: the lease is renewed every third of it, and a store round trip must fit.
pub const MIN_LEASE_TTL: Duration = Duration::from_secs(3);
/// The longest `fleet.lease_ttl`: a dead leader's work waits at most this long for another agent.
pub const MAX_LEASE_TTL: Duration = Duration::from_secs(600);

/// `[fleet]`, compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSettings {
    /// `fleet.quorum`: at least this many locations must fail; `None`: a majority of the locations that
    /// reported in the window.
    pub quorum: Option<u32>,
    /// `fleet.lease_ttl`: how long the leader's lease lasts unless renewed (see `fleet::lease`).
    pub lease_ttl: Duration,
}

impl Default for FleetSettings {
    fn default() -> FleetSettings {
        FleetSettings {
            quorum: None,
            lease_ttl: DEFAULT_LEASE_TTL,
        }
    }
}

/// This machine's host name, lower-cased; `None` when it cannot be read or is not UTF-8.
pub fn host_name() -> Option<String> {
    hostname::get()
        .ok()
        .and_then(|name| name.into_string().ok())
        .map(|name| name.to_ascii_lowercase())
}

/// Whether `name` is a location name: 1 to 64 lower-case letters, digits, `.`, `-` and `_`, starting with a
/// letter or a digit (so it is a label value, a file name part and a host name alike).
pub fn is_location(name: &str) -> bool {
    name.len() <= MAX_LOCATION_LEN
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-' || c == '_'
        })
}

const LOCATION_RULE: &str = "use 1 to 64 lower-case letters, digits, \".\", \"-\" and \"_\", starting with a letter or a digit";

/// `run.location`, or else `host` (the host name, see [`host_name`]).
pub fn compile_location(raw: Option<&str>, host: Option<String>) -> Result<String, String> {
    match (raw, host) {
        (Some(text), _) if is_location(text) => Ok(text.to_string()),
        (Some(text), _) => Err(format!(
            "{text:?} is not a location name; {LOCATION_RULE}, e.g. \"eu-west\""
        )),
        (None, Some(host)) if is_location(&host) => Ok(host),
        (None, Some(host)) => Err(format!(
            "not set, and the host name {host:?} is not a location name ({LOCATION_RULE}); \
             set run.location, e.g. location = \"eu-west\""
        )),
        (None, None) => Err(
            "not set, and the host name cannot be read; set run.location, e.g. location = \"eu-west\""
                .to_string(),
        ),
    }
}

/// The location of the built-in defaults: the host name when it is a location name, else
/// [`FALLBACK_LOCATION`].
pub fn default_location() -> String {
    host_name()
        .filter(|h| is_location(h))
        .unwrap_or_else(|| FALLBACK_LOCATION.to_string())
}

/// `[fleet]`: every value checked, errors pushed with their keys.
pub fn compile_fleet(raw: &RawConfig, errors: &mut Vec<FieldError>) -> FleetSettings {
    let quorum = match raw.fleet.quorum {
        None => None,
        Some(n) if (1..=MAX_QUORUM).contains(&n) => Some(n as u32),
        Some(n) => {
            errors.push(FieldError::new(
                "fleet.quorum",
                format!(
                    "{n} is out of range; give 1 to {MAX_QUORUM}, or leave it out for a majority of the \
                     locations that reported"
                ),
            ));
            None
        }
    };
    let lease_ttl = match raw.fleet.lease_ttl.as_deref() {
        None => DEFAULT_LEASE_TTL,
        Some(text) => super::values::duration_within(text, MIN_LEASE_TTL, MAX_LEASE_TTL)
            .unwrap_or_else(|message| {
                errors.push(FieldError::new("fleet.lease_ttl", message));
                DEFAULT_LEASE_TTL
            }),
    };
    FleetSettings { quorum, lease_ttl }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_ttl_is_3_seconds_to_10_minutes_and_15_seconds_unless_set() {
        let ttl = |text: Option<&str>| {
            let raw = RawConfig {
                fleet: super::super::raw::RawFleet {
                    quorum: None,
                    lease_ttl: text.map(str::to_string),
                },
                ..RawConfig::default()
            };
            let mut errors = Vec::new();
            let settings = compile_fleet(&raw, &mut errors);
            let errors: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.key, e.message))
                .collect();
            (settings.lease_ttl, errors)
        };
        let s = Duration::from_secs;
        let table: [(Option<&str>, Duration, &[&str]); 6] = [
            (None, s(15), &[]),
            (Some("3s"), s(3), &[]),
            (Some("10m"), s(600), &[]),
            (
                Some("2s"),
                s(15),
                &["fleet.lease_ttl: \"2s\" is too short; give at least 3s"],
            ),
            (
                Some("11m"),
                s(15),
                &["fleet.lease_ttl: \"11m\" is too long; give at most 10m"],
            ),
            (
                Some("soon"),
                s(15),
                &[
                    "fleet.lease_ttl: \"soon\" is not a duration (expected number at 0); write it like \"30s\", \"2m\" or \"1h 30m\"",
                ],
            ),
        ];
        for (text, expected, errors) in table {
            assert_eq!(
                ttl(text),
                (
                    expected,
                    errors.iter().map(|e| e.to_string()).collect::<Vec<_>>()
                ),
                "{text:?}"
            );
        }
    }

    /// `run.location`, the host name, and what compiling them gives.
    type Case<'a> = (Option<&'a str>, Option<String>, Result<&'a str, &'a str>);

    #[test]
    fn a_location_is_the_key_s_value_or_the_host_name_and_a_bad_one_says_why() {
        let host = |h: &str| Some(h.to_string());
        let table: [Case; 8] = [
            (Some("eu-west"), host("box"), Ok("eu-west")),
            (Some("dc1.rack_2"), None, Ok("dc1.rack_2")),
            (None, host("web-01.example.org"), Ok("web-01.example.org")),
            (
                Some("EU West"),
                host("box"),
                Err(
                    "\"EU West\" is not a location name; use 1 to 64 lower-case letters, digits, \".\", \"-\" and \"_\", starting with a letter or a digit, e.g. \"eu-west\"",
                ),
            ),
            (
                Some(""),
                None,
                Err(
                    "\"\" is not a location name; use 1 to 64 lower-case letters, digits, \".\", \"-\" and \"_\", starting with a letter or a digit, e.g. \"eu-west\"",
                ),
            ),
            (
                Some("-west"),
                None,
                Err(
                    "\"-west\" is not a location name; use 1 to 64 lower-case letters, digits, \".\", \"-\" and \"_\", starting with a letter or a digit, e.g. \"eu-west\"",
                ),
            ),
            (
                None,
                host("my box"),
                Err(
                    "not set, and the host name \"my box\" is not a location name (use 1 to 64 lower-case letters, digits, \".\", \"-\" and \"_\", starting with a letter or a digit); set run.location, e.g. location = \"eu-west\"",
                ),
            ),
            (
                None,
                None,
                Err(
                    "not set, and the host name cannot be read; set run.location, e.g. location = \"eu-west\"",
                ),
            ),
        ];
        for (raw, host, expected) in table {
            assert_eq!(
                compile_location(raw, host.clone()),
                expected.map(str::to_string).map_err(str::to_string),
                "{raw:?} / {host:?}"
            );
        }
        assert!(is_location(&"a".repeat(64)));
        assert!(!is_location(&"a".repeat(65)));
    }

    #[test]
    fn quorum_is_one_or_more_and_absent_means_a_majority() {
        let fleet = |quorum: Option<i64>| {
            let raw = RawConfig {
                fleet: super::super::raw::RawFleet {
                    quorum,
                    lease_ttl: None,
                },
                ..RawConfig::default()
            };
            let mut errors = Vec::new();
            let settings = compile_fleet(&raw, &mut errors);
            (settings.quorum, errors)
        };
        assert_eq!(fleet(None), (None, vec![]));
        assert_eq!(fleet(Some(2)), (Some(2), vec![]));
        assert_eq!(fleet(Some(1000)), (Some(1000), vec![]));
        assert_eq!(
            fleet(Some(0)),
            (
                None,
                vec![FieldError::new(
                    "fleet.quorum",
                    "0 is out of range; give 1 to 1000, or leave it out for a majority of the locations that reported"
                )]
            )
        );
    }
}
