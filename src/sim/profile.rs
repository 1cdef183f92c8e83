//! Which contract the simulator plays: the release runbook's promises or the service as built.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The contract the simulated OEWS API follows (see `oews-api.md`, "runbook" vs "as-built").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Profile {
    /// What the execution-traceability release runbook promises.
    #[default]
    Runbook,
    /// What the service's code really does today.
    AsBuilt,
}

/// A profile name that is neither `runbook` nor `as-built`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {name:?} (known: runbook, as-built)")]
pub struct ProfileParseError {
    /// The name as given.
    pub name: String,
}

impl Profile {
    /// The query rate limit per client address and hour when the options leave it unset.
    pub fn default_rate_limit_per_hour(self) -> Option<u32> {
        match self {
            Profile::Runbook => None,
            Profile::AsBuilt => Some(10),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Profile::Runbook => "runbook",
            Profile::AsBuilt => "as-built",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = ProfileParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "runbook" => Ok(Profile::Runbook),
            "as-built" => Ok(Profile::AsBuilt),
            other => Err(ProfileParseError {
                name: other.to_owned(),
            }),
        }
    }
}

impl TryFrom<String> for Profile {
    type Error = ProfileParseError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Profile> for String {
    fn from(profile: Profile) -> Self {
        profile.to_string()
    }
}
