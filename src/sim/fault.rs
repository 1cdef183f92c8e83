//! Injectable faults: their names, parsing and printing, and the active set a request sees.
//!
//! Where faults act (see `routes.rs`):
//! * in front of the app, on every request outside `/__sim/` whatever its path (like a proxy or network):
//!   `hang`, `slow`, `bad_gateway`;
//! * on every route the profile's app serves (health, models, query): `error500`, `flaky`, `invalid_json`
//!   (not on `/openapi.json`, which FastAPI serves without running the workflow);
//! * on one route only: `health_down` (health), `models_empty` (models), and all others (query).
//!
//! Several faults may be active at once; each acts independently (two `slow` faults add up, two `flaky`
//! faults roll separately).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One way the simulated API can misbehave. Printed and parsed as `name` or `name=value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Fault {
    /// Health routes answer 503.
    HealthDown,
    /// The models route lists no models.
    ModelsEmpty,
    /// Query answers carry an empty `data_sources` trace.
    NoDataSources,
    /// The planning entry is missing from the trace.
    MissingPlanner,
    /// The database entry has no `sql` (absent in the runbook profile, null as built).
    MissingSql,
    /// Trace steps skip a number.
    NonContiguousSteps,
    /// The runbook profile stops echoing model overrides.
    NoEcho,
    /// The runbook profile accepts unknown model names.
    AcceptInvalidModel,
    /// No charts and no chart entry, even when asked for.
    NoCharts,
    /// App routes answer 500 "Workflow execution failed".
    Error500,
    /// App routes answer 200 with a truncated JSON body.
    InvalidJson,
    /// Every request waits this long before it is handled.
    Slow(Duration),
    /// Requests are never answered (until the simulator shuts down).
    Hang,
    /// App routes fail with 500 with this probability (0 to 1).
    Flaky(f64),
    /// Every valid query answers 429.
    RateLimited,
    /// Every valid query answers 503 with `Retry-After: 60`.
    AtCapacity,
    /// Every request answers 502 from the "proxy", with an empty body.
    BadGateway,
}

/// Why a fault name did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultParseError {
    /// No fault has this name.
    #[error("unknown fault {name:?} (known: {})", known_fault_list())]
    Unknown {
        /// The name as given.
        name: String,
    },
    /// The fault needs `=value` and none was given.
    #[error("fault {name:?} needs a {what}: {example}")]
    MissingValue {
        /// Fault name.
        name: &'static str,
        /// What the value is ("duration", "probability").
        what: &'static str,
        /// A correct spelling.
        example: &'static str,
    },
    /// The value after `=` is not acceptable.
    #[error("fault {name:?} has an invalid {what} {value:?}: {reason} (example: {example})")]
    InvalidValue {
        /// Fault name.
        name: &'static str,
        /// What the value is ("duration", "probability").
        what: &'static str,
        /// The value as given.
        value: String,
        /// Why it was refused.
        reason: String,
        /// A correct spelling.
        example: &'static str,
    },
    /// A fault without a value was given one.
    #[error("fault {name:?} takes no value, got {input:?}")]
    UnexpectedValue {
        /// Fault name.
        name: &'static str,
        /// The whole input.
        input: String,
    },
}

/// Every fault kind once, in documentation order (values are placeholders).
const CATALOGUE: [Fault; 17] = [
    Fault::HealthDown,
    Fault::ModelsEmpty,
    Fault::NoDataSources,
    Fault::MissingPlanner,
    Fault::MissingSql,
    Fault::NonContiguousSteps,
    Fault::NoEcho,
    Fault::AcceptInvalidModel,
    Fault::NoCharts,
    Fault::Error500,
    Fault::InvalidJson,
    Fault::Slow(Duration::ZERO),
    Fault::Hang,
    Fault::Flaky(0.0),
    Fault::RateLimited,
    Fault::AtCapacity,
    Fault::BadGateway,
];

impl Fault {
    /// The fault's name, without any value.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::HealthDown => "health_down",
            Fault::ModelsEmpty => "models_empty",
            Fault::NoDataSources => "no_data_sources",
            Fault::MissingPlanner => "missing_planner",
            Fault::MissingSql => "missing_sql",
            Fault::NonContiguousSteps => "non_contiguous_steps",
            Fault::NoEcho => "no_echo",
            Fault::AcceptInvalidModel => "accept_invalid_model",
            Fault::NoCharts => "no_charts",
            Fault::Error500 => "error500",
            Fault::InvalidJson => "invalid_json",
            Fault::Slow(_) => "slow",
            Fault::Hang => "hang",
            Fault::Flaky(_) => "flaky",
            Fault::RateLimited => "rate_limited",
            Fault::AtCapacity => "at_capacity",
            Fault::BadGateway => "bad_gateway",
        }
    }

    /// For faults that take a value: what it is and a correct example.
    fn value_kind(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Fault::Slow(_) => Some(("duration", "slow=35s")),
            Fault::Flaky(_) => Some(("probability", "flaky=0.2")),
            _ => None,
        }
    }
}

/// `health_down, models_empty, ..., slow=<duration>, ...`: the names a user may type.
fn known_fault_list() -> String {
    let names: Vec<String> = CATALOGUE
        .iter()
        .map(|fault| match fault.value_kind() {
            Some((what, _)) => format!("{}=<{what}>", fault.name()),
            None => fault.name().to_owned(),
        })
        .collect();
    names.join(", ")
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Slow(delay) => write!(f, "slow={}", humantime::format_duration(*delay)),
            Fault::Flaky(probability) => write!(f, "flaky={probability}"),
            unit => f.write_str(unit.name()),
        }
    }
}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let input = input.trim();
        let (name, value) = match input.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim())),
            None => (input, None),
        };
        let kind = CATALOGUE
            .iter()
            .find(|fault| fault.name() == name)
            .ok_or_else(|| FaultParseError::Unknown {
                name: name.to_owned(),
            })?;
        match (kind.value_kind(), value) {
            (None, None) => Ok(kind.clone()),
            (None, Some(_)) => Err(FaultParseError::UnexpectedValue {
                name: kind.name(),
                input: input.to_owned(),
            }),
            (Some((what, example)), None) => Err(FaultParseError::MissingValue {
                name: kind.name(),
                what,
                example,
            }),
            (Some((what, example)), Some(value)) => {
                parse_value(kind, value).map_err(|reason| FaultParseError::InvalidValue {
                    name: kind.name(),
                    what,
                    value: value.to_owned(),
                    reason,
                    example,
                })
            }
        }
    }
}

/// Parses the `=value` part for a valued fault kind.
fn parse_value(kind: &Fault, value: &str) -> Result<Fault, String> {
    match kind {
        Fault::Slow(_) => humantime::parse_duration(value)
            .map(Fault::Slow)
            .map_err(|error| error.to_string()),
        Fault::Flaky(_) => match value.parse::<f64>() {
            Ok(probability) if (0.0..=1.0).contains(&probability) => Ok(Fault::Flaky(probability)),
            _ => Err("must be a number from 0 to 1".to_owned()),
        },
        unit => Err(format!("{} takes no value", unit.name())),
    }
}

impl TryFrom<String> for Fault {
    type Error = FaultParseError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Fault> for String {
    fn from(fault: Fault) -> Self {
        fault.to_string()
    }
}

/// The faults active when a request arrived (a snapshot: later changes do not affect it).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FaultSet(Vec<Fault>);

impl FaultSet {
    pub(crate) fn new(faults: Vec<Fault>) -> Self {
        FaultSet(faults)
    }

    /// Whether this exact fault (a valueless one, typically) is active.
    pub(crate) fn has(&self, fault: &Fault) -> bool {
        self.0.contains(fault)
    }

    /// The sum of all active `slow` delays.
    pub(crate) fn total_slowdown(&self) -> Duration {
        self.0
            .iter()
            .filter_map(|fault| match fault {
                Fault::Slow(delay) => Some(*delay),
                _ => None,
            })
            .sum()
    }

    /// The probabilities of all active `flaky` faults.
    pub(crate) fn flaky_probabilities(&self) -> impl Iterator<Item = f64> + '_ {
        self.0.iter().filter_map(|fault| match fault {
            Fault::Flaky(probability) => Some(*probability),
            _ => None,
        })
    }

    /// The faults in their printed form, e.g. `["slow=2s", "hang"]`.
    pub(crate) fn names(&self) -> Vec<String> {
        self.0.iter().map(Fault::to_string).collect()
    }
}

/// `none`, or the faults joined by `", "`.
impl fmt::Display for FaultSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        f.write_str(&self.names().join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogued_fault_round_trips_through_its_printed_form() {
        for fault in CATALOGUE {
            let printed = fault.to_string();
            assert_eq!(printed.parse::<Fault>().as_ref(), Ok(&fault), "{printed}");
        }
    }

    #[test]
    fn slow_prints_as_humantime() {
        assert_eq!(
            Fault::Slow(Duration::from_millis(1500)).to_string(),
            "slow=1s 500ms"
        );
        assert_eq!(
            "slow=1s 500ms".parse::<Fault>(),
            Ok(Fault::Slow(Duration::from_millis(1500)))
        );
    }

    #[test]
    fn fault_set_adds_slow_delays() {
        let set = FaultSet::new(vec![
            Fault::Slow(Duration::from_secs(1)),
            Fault::Hang,
            Fault::Slow(Duration::from_secs(2)),
        ]);
        assert_eq!(set.total_slowdown(), Duration::from_secs(3));
        assert!(set.has(&Fault::Hang));
        assert!(!set.has(&Fault::Error500));
        assert_eq!(set.to_string(), "slow=1s, hang, slow=2s");
        assert_eq!(FaultSet::default().to_string(), "none");
    }
}
