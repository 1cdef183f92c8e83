//! Configuration: raw TOML structs (strict), compiled into a validated [`Plan`] with every error at once.

mod error;

pub use error::{ConfigError, ConfigErrors, FieldError};

mod parse;
mod raw;

pub use parse::{parse_toml, suggest};
pub use raw::{RawCheck, RawConfig, RawDefaults, RawExpect, RawProbe, RawRequest};
