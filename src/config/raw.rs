//! Raw serde structs mirroring the TOML files key for key. No validation here beyond types: see `compile`.

use serde::Deserialize;
use std::collections::BTreeMap;

/// `oewsprobe.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Base URL of the API under watch.
    pub target: Option<String>,
    /// Directory of probe files, relative to the config file.
    pub probes_dir: Option<String>,
    #[serde(default)]
    pub defaults: RawDefaults,
    /// Extra headers sent with every probe request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub check: RawCheck,
    #[serde(default)]
    pub budget: RawBudget,
    #[serde(default)]
    pub run: RawRun,
    #[serde(default)]
    pub release: RawRelease,
    #[serde(default)]
    pub rollback: RawRollback,
    /// `[[slo]]`: service-level objectives over probe results.
    #[serde(default)]
    pub slo: Vec<crate::slo::RawObjective>,
    #[serde(default)]
    pub alert: RawAlert,
    /// `[telemetry]`: the OTLP metrics export.
    #[serde(default)]
    pub telemetry: super::telemetry::RawTelemetry,
    /// `[status]`: the local listener for `/metrics` and `/healthz`.
    #[serde(default)]
    pub status: super::telemetry::RawStatus,
    /// `[drift]`: contract drift, and the known-drift baseline.
    #[serde(default)]
    pub drift: RawDrift,
    /// `[tls]`: how HTTPS targets are trusted (every probe; a probe's own `tls` wins key by key).
    #[serde(default)]
    pub tls: RawTls,
    /// `[fleet]`: several agents probing from several locations.
    #[serde(default)]
    pub fleet: RawFleet,
}

/// `[fleet]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFleet {
    /// How many locations must fail for a window to count as bad (default: a majority of those reporting).
    pub quorum: Option<i64>,
    /// How long the leader's lease lasts unless renewed (humantime; default 15s).
    pub lease_ttl: Option<String>,
}

/// `[tls]` in the main config, `[tls]` in a probe file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    /// Extra trusted root(s), PEM; relative to the file it is written in.
    pub ca_file: Option<String>,
    /// The name to verify (and send as SNI) instead of the target's host.
    pub server_name: Option<String>,
    /// No verification at all.
    pub insecure: Option<bool>,
}

/// `[expect.tls]`: certificate checks of an HTTPS probe.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpectTls {
    pub min_days_left: Option<i64>,
    pub warn_days_left: Option<i64>,
    /// `"1.2"` or `"1.3"`.
    pub min_version: Option<String>,
}

/// `[drift]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDrift {
    /// The known-drift baseline, relative to the config file (default `known-drift.toml`).
    pub known_file: Option<String>,
}

/// `[alert]`: when alerts fire, how they are grouped, retried and silenced.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlert {
    pub fire_after: Option<i64>,
    pub window: Option<i64>,
    pub resolve_after: Option<i64>,
    pub remind_every: Option<String>,
    pub send_resolved: Option<bool>,
    pub group_wait: Option<String>,
    pub group_interval: Option<String>,
    pub retry_initial: Option<String>,
    pub retry_max: Option<String>,
    pub give_up_after: Option<String>,
    /// `[alert.smtp]`: absent, no email is sent.
    pub smtp: Option<RawSmtp>,
    /// `[[alert.maintenance]]`.
    #[serde(default)]
    pub maintenance: Vec<RawMaintenance>,
}

/// `[alert.smtp]`: where alert emails go.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    pub host: Option<String>,
    pub port: Option<i64>,
    /// `plain`, `starttls` or `tls`.
    pub security: Option<String>,
    pub username: Option<String>,
    /// By reference only: `env:NAME` or `file:PATH`.
    pub password: Option<String>,
    pub from: Option<String>,
    pub to: Option<Vec<String>>,
    pub timeout: Option<String>,
    /// Relative to the config file.
    pub ca_file: Option<String>,
}

/// One `[[alert.maintenance]]` window.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMaintenance {
    pub name: Option<String>,
    pub cron: Option<String>,
    pub duration: Option<String>,
    pub probes: Option<Vec<String>>,
    pub reason: Option<String>,
}

/// `[release]`: the post-release watch.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelease {
    pub watch: Option<String>,
    pub warmup: Option<String>,
    pub min_samples: Option<i64>,
    pub baseline: Option<String>,
    pub baseline_min_samples: Option<i64>,
    pub baseline_max_bad_fraction: Option<f64>,
    pub prober_window: Option<String>,
    pub evaluate_every: Option<String>,
}

/// `[rollback]`: the hook the watch calls.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRollback {
    /// Call the hook for real; otherwise decisions are recorded as dry runs.
    pub enabled: Option<bool>,
    /// The hook as an argv array (no shell).
    pub command: Option<Vec<String>>,
    pub timeout: Option<String>,
    /// How long after the hook health must recover for the rollback to count as verified.
    pub recovery: Option<String>,
    /// Also (or instead) POST the evidence here, signed.
    pub webhook: Option<String>,
    /// The HMAC key for the webhook, by reference only: `env:NAME` or `file:PATH`.
    pub webhook_secret: Option<String>,
    /// Names of the daemon's environment variables the hook also gets (besides PATH, HOME, LANG).
    pub env: Option<Vec<String>>,
}

/// `[run]`: the always-on monitor.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    /// The SQLite store, relative to the config file, or a PostgreSQL URL (`postgres://USER@HOST:PORT/DB`).
    pub store: Option<String>,
    /// The PostgreSQL store's password, by reference only: `env:NAME` or `file:PATH`.
    pub store_password: Option<String>,
    /// The former name of `retention_raw`.
    pub retention: Option<String>,
    /// How long raw runs of every verdict are kept.
    pub retention_raw: Option<String>,
    /// How long failed and inconclusive runs (with their findings) are kept.
    pub retention_failures: Option<String>,
    /// How long minute, hour and day rollups are kept (`retention_day`: a duration or `"forever"`).
    pub retention_minute: Option<String>,
    pub retention_hour: Option<String>,
    pub retention_day: Option<String>,
    /// Probes running at once.
    pub max_concurrent: Option<i64>,
    /// Probe records kept in memory while the store refuses them, at most.
    pub max_waiting_records: Option<i64>,
    /// Largest per-probe start offset.
    pub jitter: Option<String>,
    /// How long in-flight probes may take to finish after SIGTERM.
    pub shutdown_grace: Option<String>,
    /// Where this agent probes from (default: the host name); the `oewsprobe.location` of its metrics.
    pub location: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    /// Valid queries allowed per rolling hour, all probes and bursts together.
    pub queries_per_hour: Option<i64>,
    /// Only `false` is accepted (older configs set it): the budget applies to loopback targets too.
    pub exempt_loopback: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    pub timeout: Option<String>,
    pub connect_timeout: Option<String>,
    pub max_body: Option<toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    pub concurrency: Option<i64>,
}

/// One `probes/NAME.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProbe {
    pub description: Option<String>,
    /// Valid (LLM-spending, rate-limited) queries one run of this probe makes.
    pub queries: Option<i64>,
    /// When `oewsprobe run` runs it: cron, 6/7 fields (seconds first) or 5-field crontab.
    pub schedule: Option<String>,
    pub request: Option<RawRequest>,
    #[serde(default)]
    pub expect: RawExpect,
    /// A burst of this probe's request that `oewsprobe run` sends on its own schedule.
    pub burst: Option<RawBurst>,
    /// `[tls]`: this probe's trust settings, over the main config's.
    pub tls: Option<RawTls>,
}

/// `[burst]` in a probe file: N requests at once, on a schedule, judged against a latency SLO.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBurst {
    pub schedule: Option<String>,
    pub requests: Option<i64>,
    pub slo: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    pub method: Option<String>,
    pub path: Option<String>,
    /// A JSON body written as a TOML table.
    pub body: Option<toml::Value>,
    /// A raw body sent as is (for malformed-JSON probes).
    pub body_text: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub timeout: Option<String>,
    pub connect_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    /// `200`, `"2xx"`, or a list of them.
    pub status: Option<toml::Value>,
    /// Upper bound on latency, e.g. `"30s"`.
    pub latency: Option<String>,
    /// Response size cap: bytes, or `"512KiB"`, `"4MiB"`.
    pub max_body: Option<toml::Value>,
    #[serde(default)]
    pub json: Vec<crate::assert::RawJsonAssertion>,
    pub trace: Option<crate::oews::RawTrace>,
    #[serde(default)]
    pub echo: Vec<crate::oews::RawEcho>,
    pub validation_error: Option<crate::oews::RawValidationError>,
    /// Validate the response body against the service's OpenAPI document (`/openapi.json`).
    pub openapi: Option<bool>,
    /// `[expect.tls]`: certificate expiry and protocol version.
    #[serde(default)]
    pub tls: RawExpectTls,
}
