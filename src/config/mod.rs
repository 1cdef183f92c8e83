//! Configuration: raw TOML structs (strict), compiled into a validated [`Plan`] with every error at once.

mod error;

pub use error::{ConfigError, ConfigErrors, FieldError};
