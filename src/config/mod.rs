//! Configuration: raw TOML structs (strict), compiled into a validated [`Plan`] with every error at once.

mod error;

pub use error::{ConfigError, ConfigErrors, FieldError};

mod parse;
mod raw;

pub use parse::{edit_distance, parse_toml, parse_toml_lenient, suggest};
pub use raw::{
    RawAlert, RawBudget, RawCheck, RawConfig, RawDefaults, RawExpect, RawMaintenance, RawProbe,
    RawRequest, RawRun, RawSmtp, RawTls,
};

mod alert;
#[cfg(test)]
mod alert_tests;
mod compile;
mod compile_probe;
mod fleet;
pub use fleet::{FleetSettings, MAX_QUORUM, default_location, is_location};
mod instant;
mod jitter;
mod retention;
mod telemetry;
mod tls;
pub(crate) mod values;
pub use instant::instant;
pub use tls::MAX_DAYS_LEFT;
pub use values::{MAX_DURATION, MAX_TIMEOUT, MAX_WINDOW, duration_within, timeout, window};

pub use telemetry::{
    DEFAULT_EXPORT_INTERVAL, DEFAULT_EXPORT_TIMEOUT, Located, OtlpSettings, Protocol, RawStatus,
    RawTelemetry, compile_status, compile_telemetry, listen_address,
};

pub use compile::{
    DEFAULT_CHECK_CONCURRENCY, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY, DEFAULT_TARGET,
    DEFAULT_TIMEOUT, Plan, RunSettings, Settings, TARGET_OVERRIDE_SOURCE, WatchConfig,
    compile_settings,
};
pub use compile_probe::compile_probe;

mod load;

pub use load::{DEFAULT_CONFIG_FILE, Sources, load, load_for_store};
