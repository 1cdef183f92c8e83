//! oewsprobe: synthetic monitoring and load probing for the OEWS Data Agent API.
//!
//! Architecture map (data flows one way, top to bottom):
//!
//! * [`config`]  — parse `oewsprobe.toml` and `probes/*.toml` (pure), compile them into a [`config::Plan`],
//!   reporting every error at once with file and key.
//! * [`alert`]   — the per-probe alert state machine, grouping and email rendering (pure); SMTP delivery.
//! * [`assert`]  — the JSON assertion language: selectors parsed once, evaluated many times (pure).
//! * [`oews`]    — OEWS-specific checks: trace shape, override echo, validation errors (pure).
//! * [`drift`]   — probes compared with the service's own OpenAPI document; responses validated against it (pure).
//! * [`probe`]   — probe specs, the pure verdict function, and the HTTP adapter that executes a probe and
//!   yields one [`probe::ProbeRecord`].
//! * [`load`]    — the burst engine: closed and open arrival models, HDR statistics, the query-budget guard.
//! * [`monitor`] — the always-on monitor: scheduled probe loops, the query budget, backoff, recording.
//! * [`report`]  — rendering of records for people (table) and machines (JSON) (pure).
//! * [`store`]   — SQLite (WAL): records, the budget ledger, releases, rollback claims, decisions.
//! * [`known_drift`] — the known-drift baseline (`known-drift.toml`): which findings are known, what a run
//!   with only known ones becomes, which entries no longer occur (pure).
//! * [`history`] — rollups of runs per minute, hour and day, and which rows answer a window (pure).
//! * [`happened`] — what happened in a window: the one read path for history (status, metrics, SLO alerts,
//!   alert emails, the release watch), from the rollups.
//! * [`page`]    — the status page: a pure model of what `happened` read, rendered as HTML with inline SVG,
//!   badges and JSON (pure); its routes on the status listener.
//! * [`slo`]     — objectives, burn rates, error budget, tier state (pure).
//! * [`rules`]   — Prometheus recording and alerting rules generated from the objectives (pure).
//! * [`release`] — the guarded release-watch decision and its evidence (pure).
//! * [`rollback`] — the rollback hook runner.
//! * [`sim`]     — the simulated OEWS API (axum), profiles and faults.
//! * [`telemetry`] — logs (text or JSON), OpenTelemetry metrics (OTLP export, `/metrics`), metric names,
//!   secret redaction.
//! * [`tls`]     — TLS shared by the probe client, the load transport and the simulator: PEM files, trust.
//! * [`cmd`]     — one file per subcommand: the only place that wires adapters together.
//!
//! The dependency rule: pure modules (`assert`, `oews`, `report`, the verdict part of `probe`, `config`)
//! use no tokio, reqwest or axum. Adapters depend on the pure cores, never the other way round.

pub mod alert;
pub mod assert;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod drift;
pub mod exit;
pub mod fleet;
pub mod happened;
pub mod history;
pub mod known_drift;
pub mod load;
pub mod monitor;
pub mod oews;
pub mod page;
pub mod probe;
pub mod release;
pub mod report;
pub mod rollback;
pub mod rules;
pub mod schedule;
pub mod sim;
pub mod slo;
pub mod store;
pub mod telemetry;
pub mod tls;
