//! oewsprobe: synthetic monitoring and load probing for the OEWS Data Agent API.
//!
//! Architecture map (data flows one way, top to bottom):
//!
//! * [`config`]  — parse `oewsprobe.toml` and `probes/*.toml` (pure), compile them into a [`config::Plan`],
//!   reporting every error at once with file and key.
//! * [`assert`]  — the JSON assertion language: selectors parsed once, evaluated many times (pure).
//! * [`oews`]    — OEWS-specific checks: trace shape, override echo, validation errors (pure).
//! * [`probe`]   — probe specs, the pure verdict function, and the HTTP adapter that executes a probe and
//!   yields one [`probe::ProbeRecord`].
//! * [`load`]    — the burst engine: closed and open arrival models, HDR statistics, the query-budget guard.
//! * [`report`]  — rendering of records for people (table) and machines (JSON) (pure).
//! * [`sim`]     — the simulated OEWS API (axum), profiles and faults.
//! * [`cmd`]     — one file per subcommand: the only place that wires adapters together.
//!
//! The dependency rule: pure modules (`assert`, `oews`, `report`, the verdict part of `probe`, `config`)
//! use no tokio, reqwest or axum. Adapters depend on the pure cores, never the other way round.

pub mod assert;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod exit;
pub mod load;
pub mod oews;
pub mod probe;
pub mod release;
pub mod report;
pub mod sim;
pub mod slo;
