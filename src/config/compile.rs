//! Compile raw config into a validated [`Plan`]: every value checked, every error collected with its key.

use super::raw::RawConfig;
use super::{ConfigError, FieldError, values};
use crate::probe::ProbeSpec;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The production API. Every test and example passes an explicit local target instead.
pub const DEFAULT_TARGET: &str = "https://api.oews.bhavanaai.com";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_MAX_BODY: u64 = 8 << 20;
pub const DEFAULT_CHECK_CONCURRENCY: usize = 8;
/// Valid queries per rolling hour: the API allows 10 per client, shared with real users.
pub const DEFAULT_QUERIES_PER_HOUR: u32 = 4;
pub const DEFAULT_STORE: &str = "oewsprobe.sqlite";
pub const DEFAULT_MAX_CONCURRENT: usize = 4;
/// Probe records kept in memory while the store refuses them, unless `run.max_waiting_records` says otherwise.
pub const DEFAULT_MAX_WAITING_RECORDS: usize = 50_000;
/// `run.max_waiting_records`' bounds.
pub const MAX_WAITING_RECORDS: std::ops::RangeInclusive<i64> = 10..=10_000_000;
pub const DEFAULT_JITTER: Duration = Duration::from_secs(5);
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

pub const DEFAULT_EVALUATE_EVERY: Duration = Duration::from_secs(10);
/// `release.evaluate_every` below this would spin a core re-reading the store (at most 10 evaluations a
/// second; the tests evaluate every 300 ms).
pub const MIN_EVALUATE_EVERY: Duration = Duration::from_millis(100);
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(600);
pub const DEFAULT_RECOVERY: Duration = Duration::from_secs(600);

/// `[release]` and `[rollback]`, compiled.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    pub watch: Duration,
    pub evaluate_every: Duration,
    pub settings: crate::release::WatchSettings,
    /// Empty when no hook is configured (then every decision is a dry run).
    pub command: Vec<String>,
    pub hook_timeout: Duration,
    pub recovery: Duration,
    pub webhook: Option<String>,
    pub webhook_secret: Option<crate::rollback::Secret>,
    /// `rollback.env`: variables passed on to the hook besides PATH, HOME and LANG.
    pub env: Vec<String>,
    /// Every secret the config resolved, kept from the hook's environment and redacted from its output.
    pub secrets: Vec<crate::rollback::Secret>,
}

impl WatchConfig {
    /// The command hook as the runner takes it.
    pub fn hook(&self) -> crate::rollback::Hook<'_> {
        crate::rollback::Hook {
            command: &self.command,
            timeout: self.hook_timeout,
            env: &self.env,
            secrets: &self.secrets,
        }
    }
}

/// `[run]`, compiled.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// `run.store`: a SQLite file (relative to the config file), or a PostgreSQL database
    /// (`postgres://USER@HOST:PORT/DB`, its password from `run.store_password`).
    pub store: crate::store::Location,
    /// `run.retention_*`: how long each tier of history is kept.
    pub retention: crate::history::Retention,
    pub max_concurrent: usize,
    /// `run.max_waiting_records`: probe records kept in memory while the store refuses them; past it the
    /// oldest are dropped and counted. Read at start.
    pub max_waiting_records: usize,
    pub jitter: Duration,
    pub shutdown_grace: Duration,
    /// `run.location`: where this agent probes from (default: the host name); every metric carries it as
    /// `oewsprobe.location`.
    pub location: String,
}

/// Everything a command needs, validated.
#[derive(Debug)]
pub struct Plan {
    pub settings: Settings,
    pub probes: Vec<ProbeSpec>,
    /// `[[slo]]`, compiled against the probes.
    pub objectives: Vec<crate::slo::Objective>,
    /// Entries of the probe directory that look like probe files but were not read, each with why
    /// (`validate` lists them).
    pub skipped: Vec<super::ConfigError>,
    /// The known-drift baseline (`drift.known_file`), checked against the probes.
    pub known_drift: crate::known_drift::KnownDrift,
}

/// The main config file, compiled. `Debug` redacts credential headers.
#[derive(Clone)]
pub struct Settings {
    pub target: url::Url,
    pub probes_dir: PathBuf,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body: u64,
    pub headers: Vec<(String, String)>,
    pub check_concurrency: usize,
    pub queries_per_hour: u32,
    pub run: RunSettings,
    pub watch: WatchConfig,
    pub alert: crate::alert::AlertSettings,
    /// `[telemetry]` with the `OTEL_*` environment applied; `None`: metrics export off.
    pub telemetry: Option<super::OtlpSettings>,
    /// `[status] listen`: where `run` serves `/metrics` and `/healthz`; `None`: off.
    pub status_listen: Option<std::net::SocketAddr>,
    /// `[tls]`: how HTTPS targets are trusted (each probe's own `[tls]` goes over it).
    pub tls: crate::tls::TlsSettings,
    /// `[fleet]`: how many locations must agree (only `rules` reads it so far).
    pub fleet: super::FleetSettings,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("target", &self.target.as_str())
            .field("probes_dir", &self.probes_dir)
            .field("headers", &crate::telemetry::Redacted(&self.headers))
            .field("run", &self.run)
            .field("watch", &self.watch)
            .field("telemetry", &self.telemetry)
            .field("status_listen", &self.status_listen)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// The built-in defaults, used to keep checking probe files when the main config is broken.
    pub fn defaults(probes_dir: PathBuf) -> Settings {
        Settings {
            target: values::target(DEFAULT_TARGET)
                .unwrap_or_else(|_| unreachable!("the default target is valid")),
            probes_dir,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            headers: Vec::new(),
            check_concurrency: DEFAULT_CHECK_CONCURRENCY,
            queries_per_hour: DEFAULT_QUERIES_PER_HOUR,
            run: RunSettings {
                store: crate::store::Location::File(PathBuf::from(DEFAULT_STORE)),
                retention: crate::history::Retention::default(),
                max_concurrent: DEFAULT_MAX_CONCURRENT,
                max_waiting_records: DEFAULT_MAX_WAITING_RECORDS,
                jitter: DEFAULT_JITTER,
                shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
                location: super::fleet::default_location(),
            },
            watch: WatchConfig {
                watch: crate::release::DEFAULT_WATCH,
                evaluate_every: DEFAULT_EVALUATE_EVERY,
                settings: crate::release::WatchSettings::default(),
                command: Vec::new(),
                hook_timeout: DEFAULT_HOOK_TIMEOUT,
                recovery: DEFAULT_RECOVERY,
                webhook: None,
                webhook_secret: None,
                env: Vec::new(),
                secrets: Vec::new(),
            },
            alert: crate::alert::AlertSettings::default(),
            telemetry: None,
            status_listen: None,
            tls: crate::tls::TlsSettings::default(),
            fleet: super::FleetSettings::default(),
        }
    }
}

/// Where a target given outside the config file came from, for error messages.
pub const TARGET_OVERRIDE_SOURCE: &str = "--target/OEWSPROBE_TARGET";

/// Compiles the main config. `base_dir` resolves a relative `probes_dir`; overrides win over the file.
pub fn compile_settings(
    raw: &RawConfig,
    file: &Path,
    base_dir: &Path,
    target_override: Option<&str>,
    probes_dir_override: Option<&Path>,
    secrets: values::Secrets,
) -> Result<Settings, Vec<ConfigError>> {
    let mut errors: Vec<FieldError> = Vec::new();
    let timeout = keep(
        &mut errors,
        "defaults.timeout",
        optional(
            raw.defaults.timeout.as_deref(),
            values::timeout,
            DEFAULT_TIMEOUT,
        ),
    )
    .unwrap_or(DEFAULT_TIMEOUT);
    let connect_timeout = keep(
        &mut errors,
        "defaults.connect_timeout",
        optional(
            raw.defaults.connect_timeout.as_deref(),
            values::timeout,
            DEFAULT_CONNECT_TIMEOUT,
        ),
    )
    .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let max_body = keep(
        &mut errors,
        "defaults.max_body",
        optional(
            raw.defaults.max_body.as_ref(),
            values::size,
            DEFAULT_MAX_BODY,
        ),
    )
    .unwrap_or(DEFAULT_MAX_BODY);
    let check_concurrency = keep(
        &mut errors,
        "check.concurrency",
        match raw.check.concurrency {
            None => Ok(DEFAULT_CHECK_CONCURRENCY),
            Some(n) if (1..=1024).contains(&n) => Ok(n as usize),
            Some(n) => Err(format!("{n} is out of range; give 1 to 1024")),
        },
    )
    .unwrap_or(DEFAULT_CHECK_CONCURRENCY);
    let queries_per_hour = keep(
        &mut errors,
        "budget.queries_per_hour",
        match raw.budget.queries_per_hour {
            None => Ok(DEFAULT_QUERIES_PER_HOUR),
            Some(n) if (0..=10_000).contains(&n) => Ok(n as u32),
            Some(n) => Err(format!("{n} is out of range; give 0 to 10000")),
        },
    )
    .unwrap_or(DEFAULT_QUERIES_PER_HOUR);
    if raw.budget.exempt_loopback == Some(true) {
        errors.push(FieldError::new(
            "budget.exempt_loopback",
            "true is not supported: the query budget applies to every target, loopback included (a loopback \
             address may tunnel to the real API), in run, burst and check alike; remove the key, and raise \
             budget.queries_per_hour for a simulator",
        ));
    }
    let run = RunSettings {
        store: compile_store(&raw.run, base_dir, &mut errors),
        retention: super::retention::compile_retention(&raw.run, &mut errors),
        max_concurrent: keep(
            &mut errors,
            "run.max_concurrent",
            match raw.run.max_concurrent {
                None => Ok(DEFAULT_MAX_CONCURRENT),
                Some(n) if (1..=4096).contains(&n) => Ok(n as usize),
                Some(n) => Err(format!("{n} is out of range; give 1 to 4096")),
            },
        )
        .unwrap_or(DEFAULT_MAX_CONCURRENT),
        max_waiting_records: keep(
            &mut errors,
            "run.max_waiting_records",
            match raw.run.max_waiting_records {
                None => Ok(DEFAULT_MAX_WAITING_RECORDS),
                Some(n) if MAX_WAITING_RECORDS.contains(&n) => Ok(n as usize),
                Some(n) => Err(format!(
                    "{n} is out of range; give {} to {}",
                    MAX_WAITING_RECORDS.start(),
                    MAX_WAITING_RECORDS.end()
                )),
            },
        )
        .unwrap_or(DEFAULT_MAX_WAITING_RECORDS),
        jitter: keep(
            &mut errors,
            "run.jitter",
            match raw.run.jitter.as_deref() {
                None => Ok(DEFAULT_JITTER),
                Some(text) => humantime::parse_duration(text)
                    .map_err(|e| {
                        format!(
                            "\"{text}\" is not a duration ({e}); write it like \"5s\" or \"0s\""
                        )
                    })
                    .and_then(|d| values::bounded(text, d, Duration::ZERO, values::MAX_TIMEOUT)),
            },
        )
        .unwrap_or(DEFAULT_JITTER),
        shutdown_grace: keep(
            &mut errors,
            "run.shutdown_grace",
            optional(
                raw.run.shutdown_grace.as_deref(),
                values::timeout,
                DEFAULT_SHUTDOWN_GRACE,
            ),
        )
        .unwrap_or(DEFAULT_SHUTDOWN_GRACE),
        location: keep(
            &mut errors,
            "run.location",
            super::fleet::compile_location(raw.run.location.as_deref(), super::fleet::host_name()),
        )
        .unwrap_or_default(),
    };
    let fleet = super::fleet::compile_fleet(raw, &mut errors);
    let watch = compile_watch(raw, secrets, &mut errors);
    let alert = super::alert::compile_alert(&raw.alert, base_dir, secrets, &mut errors);
    let file_target = match target_override {
        Some(_) => None,
        None => keep(
            &mut errors,
            "target",
            values::target(raw.target.as_deref().unwrap_or(DEFAULT_TARGET)),
        ),
    };
    let headers = compile_headers(&raw.headers)
        .map_err(|es| errors.extend(es.into_iter().map(|e| e.prefixed("headers"))))
        .unwrap_or_default();
    let status_listen = keep_field(&mut errors, super::compile_status(&raw.status));
    let tls = super::tls::compile_tls(&raw.tls, base_dir, &crate::tls::TlsSettings::default())
        .map_err(|es| errors.extend(es.into_iter().map(|e| e.prefixed("tls"))))
        .unwrap_or_default();
    let mut env_errors = Vec::new();
    let telemetry =
        match super::compile_telemetry(&raw.telemetry, &|name| std::env::var(name).ok(), secrets) {
            Ok(telemetry) => telemetry,
            Err(located) => {
                for e in located {
                    match e {
                        super::Located::File(e) => errors.push(e),
                        super::Located::Env(var, m) => {
                            env_errors.push(ConfigError::at(var, FieldError::new("", m)))
                        }
                    }
                }
                None
            }
        };
    let mut located: Vec<ConfigError> = errors
        .into_iter()
        .map(|e| ConfigError::at(file, e))
        .chain(env_errors)
        .collect();
    let target = match target_override {
        Some(text) => values::target(text)
            .map_err(|m| {
                located.push(ConfigError::at(
                    TARGET_OVERRIDE_SOURCE,
                    FieldError::new("", m),
                ))
            })
            .ok(),
        None => file_target,
    };
    let probes_dir = probes_dir_override
        .map(Path::to_path_buf)
        .unwrap_or_else(|| base_dir.join(raw.probes_dir.as_deref().unwrap_or("probes")));
    match target {
        Some(target) if located.is_empty() => Ok(Settings {
            watch: WatchConfig {
                secrets: resolved_secrets(&run.store, &watch, &alert, telemetry.as_ref(), &headers),
                ..watch
            },
            target,
            probes_dir,
            timeout,
            connect_timeout,
            max_body,
            headers,
            check_concurrency,
            queries_per_hour,
            run,
            alert,
            telemetry,
            status_listen,
            tls,
            fleet,
        }),
        _ => Err(located),
    }
}

/// `[release]` and `[rollback]`: every duration and count checked; a hook that is enabled must be given.
fn compile_watch(
    raw: &RawConfig,
    secrets: values::Secrets,
    errors: &mut Vec<FieldError>,
) -> WatchConfig {
    let defaults = crate::release::WatchSettings::default();
    let r = &raw.release;
    let mut duration_of = |key: &str, value: Option<&str>, default: Duration, (min, max)| {
        let parse = |text: &str| values::duration_within(text, min, max);
        keep(errors, key, optional(value, parse, default)).unwrap_or(default)
    };
    let window = (Duration::ZERO, values::MAX_WINDOW);
    let timeout = (Duration::ZERO, values::MAX_TIMEOUT);
    let watch = duration_of(
        "release.watch",
        r.watch.as_deref(),
        crate::release::DEFAULT_WATCH,
        window,
    );
    let warmup = duration_of(
        "release.warmup",
        r.warmup.as_deref(),
        defaults.warmup,
        window,
    );
    let baseline_window = duration_of(
        "release.baseline",
        r.baseline.as_deref(),
        defaults.baseline_window,
        window,
    );
    let prober_window = duration_of(
        "release.prober_window",
        r.prober_window.as_deref(),
        defaults.prober_window,
        window,
    );
    let evaluate_every = duration_of(
        "release.evaluate_every",
        r.evaluate_every.as_deref(),
        DEFAULT_EVALUATE_EVERY,
        (MIN_EVALUATE_EVERY, values::MAX_TIMEOUT),
    );
    let hook_timeout = duration_of(
        "rollback.timeout",
        raw.rollback.timeout.as_deref(),
        DEFAULT_HOOK_TIMEOUT,
        timeout,
    );
    let recovery = duration_of(
        "rollback.recovery",
        raw.rollback.recovery.as_deref(),
        DEFAULT_RECOVERY,
        timeout,
    );
    let count =
        |errors: &mut Vec<FieldError>, key: &str, value: Option<i64>, default: u32| match value {
            None => default,
            Some(n) if (0..=100_000).contains(&n) => n as u32,
            Some(n) => {
                errors.push(FieldError::new(
                    key,
                    format!("{n} is out of range; give 0 to 100000"),
                ));
                default
            }
        };
    let min_samples = count(
        errors,
        "release.min_samples",
        r.min_samples,
        defaults.min_samples,
    );
    let baseline_min_samples = count(
        errors,
        "release.baseline_min_samples",
        r.baseline_min_samples,
        defaults.baseline_min_samples,
    );
    let baseline_max_bad_fraction = match r.baseline_max_bad_fraction {
        None => defaults.baseline_max_bad_fraction,
        Some(f) if (0.0..=1.0).contains(&f) => f,
        Some(f) => {
            errors.push(FieldError::new(
                "release.baseline_max_bad_fraction",
                format!("{f} is not a fraction from 0 to 1"),
            ));
            defaults.baseline_max_bad_fraction
        }
    };
    let command = raw.rollback.command.clone().unwrap_or_default();
    if command.first().is_some_and(String::is_empty) {
        errors.push(FieldError::new(
            "rollback.command",
            "the program (the first element) is empty",
        ));
    }
    let webhook = raw.rollback.webhook.as_deref().and_then(|text| {
        keep(
            errors,
            "rollback.webhook",
            values::webhook(text).map(|_| text.to_string()),
        )
    });
    let webhook_secret = raw
        .rollback
        .webhook_secret
        .as_deref()
        .and_then(|reference| {
            keep(
                errors,
                "rollback.webhook_secret",
                values::secret_as(reference, secrets),
            )
        });
    let env = raw.rollback.env.clone().unwrap_or_default();
    for name in &env {
        if !values::is_env_name(name) {
            errors.push(FieldError::new(
                "rollback.env",
                format!("{name:?} is not an environment variable name; use letters, digits and _, not starting with a digit"),
            ));
        }
    }
    let enabled = raw.rollback.enabled.unwrap_or(false);
    if enabled && command.is_empty() && webhook.is_none() {
        errors.push(FieldError::new(
            "rollback.command",
            "rollback.enabled = true needs a hook: command = [\"/path/to/hook\", \"arg\", ...] or webhook = \"https://...\"",
        ));
    }
    WatchConfig {
        watch,
        evaluate_every,
        settings: crate::release::WatchSettings {
            warmup,
            min_samples,
            baseline_window,
            baseline_min_samples,
            baseline_max_bad_fraction,
            prober_window,
            dry_run: !enabled,
        },
        command,
        hook_timeout,
        recovery,
        webhook,
        webhook_secret,
        env,
        secrets: Vec::new(),
    }
}

/// `run.store` and `run.store_password`. The password is read whatever the command (unlike the other
/// secrets, which the store-only commands check for form only): every command that opens the store needs it.
fn compile_store(
    raw: &super::raw::RawRun,
    base_dir: &Path,
    errors: &mut Vec<FieldError>,
) -> crate::store::Location {
    use crate::store::{Location, PgTarget};
    let text = raw.store.as_deref().unwrap_or(DEFAULT_STORE);
    if !PgTarget::is_url(text) {
        if raw.store_password.is_some() {
            errors.push(FieldError::new(
                "run.store_password",
                "only a PostgreSQL store (run.store = \"postgres://USER@HOST:PORT/DB\") takes a password; \
                 remove the key",
            ));
        }
        return Location::File(base_dir.join(text));
    }
    let password = raw
        .store_password
        .as_deref()
        .and_then(|reference| keep(errors, "run.store_password", values::secret(reference)));
    match PgTarget::parse_in(text, base_dir) {
        Ok(target) => Location::Postgres { target, password },
        Err(message) => {
            // The URL is not repeated: it may hold a password.
            errors.push(FieldError::new(
                "run.store",
                format!("the PostgreSQL URL {message}"),
            ));
            Location::File(PathBuf::from(DEFAULT_STORE))
        }
    }
}

/// Every secret value the config resolved: the webhook secret, the SMTP password, the OTLP headers, the
/// target's credential headers and the store's password.
fn resolved_secrets(
    store: &crate::store::Location,
    watch: &WatchConfig,
    alert: &crate::alert::AlertSettings,
    telemetry: Option<&super::OtlpSettings>,
    headers: &[(String, String)],
) -> Vec<crate::rollback::Secret> {
    let smtp = alert.smtp.as_ref().and_then(|s| s.password.clone());
    let otlp = telemetry
        .into_iter()
        .flat_map(|t| t.headers.iter().map(|(_, secret)| secret.clone()));
    let target = headers
        .iter()
        .filter(|(name, _)| crate::telemetry::is_sensitive_header(name))
        .map(|(_, value)| crate::rollback::Secret::new(value.as_bytes().to_vec()));
    let store = match store {
        crate::store::Location::Postgres { password, .. } => password.clone(),
        crate::store::Location::File(_) => None,
    };
    watch
        .webhook_secret
        .clone()
        .into_iter()
        .chain(smtp)
        .chain(otlp)
        .chain(target)
        .chain(store)
        .collect()
}

/// The value, or `None` after recording the error.
fn keep_field<T>(errors: &mut Vec<FieldError>, result: Result<Option<T>, FieldError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok().flatten()
}

/// The value, or `None` after recording the error at `key`.
pub(super) fn keep<T>(
    errors: &mut Vec<FieldError>,
    key: &str,
    result: Result<T, String>,
) -> Option<T> {
    result
        .map_err(|m| errors.push(FieldError::new(key, m)))
        .ok()
}

pub(super) fn optional<T, V: ?Sized>(
    value: Option<&V>,
    parse: impl Fn(&V) -> Result<T, String>,
    default: T,
) -> Result<T, String> {
    value.map_or(Ok(default), parse)
}

pub(super) fn compile_headers(
    raw: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, Vec<FieldError>> {
    let mut errors = Vec::new();
    for (name, value) in raw {
        if let Err(m) = values::header_name(name).and_then(|()| values::header_value(value)) {
            errors.push(FieldError::new(name.clone(), m));
        }
    }
    if errors.is_empty() {
        Ok(raw.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_target_is_production_and_overrides_win() {
        let raw = RawConfig::default();
        let file = Path::new("oewsprobe.toml");
        let settings = compile_settings(
            &raw,
            file,
            Path::new(""),
            None,
            None,
            values::Secrets::Resolve,
        )
        .expect("defaults compile");
        assert_eq!(settings.target.as_str(), "https://api.oews.bhavanaai.com/");
        assert_eq!(settings.probes_dir, Path::new("probes"));
        let local = compile_settings(
            &raw,
            file,
            Path::new(""),
            Some("http://127.0.0.1:9"),
            None,
            values::Secrets::Resolve,
        )
        .expect("override");
        assert_eq!(local.target.as_str(), "http://127.0.0.1:9/");
    }

    fn compiled(toml_text: &str) -> Result<Settings, Vec<String>> {
        let raw: RawConfig = toml::from_str(toml_text).expect("toml");
        compile_settings(
            &raw,
            Path::new("oewsprobe.toml"),
            Path::new("/etc/oewsprobe"),
            Some("http://127.0.0.1:9"),
            None,
            values::Secrets::FormOnly,
        )
        .map_err(|errors| errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn a_postgresql_store_takes_its_password_by_reference_and_never_shows_it() {
        let settings = compiled("[run]\nstore = \"oewsprobe.sqlite\"\n").expect("a file");
        assert_eq!(
            settings.run.store,
            crate::store::Location::File("/etc/oewsprobe/oewsprobe.sqlite".into())
        );
        // A variable no other test sets.
        let name = "OEWSPROBE_TEST_STORE_PASSWORD_COMPILE";
        let settings = compiled(&format!(
            "[run]\nstore = \"postgres://probe@db.internal:5433/oews\"\nstore_password = \"env:{name}\"\n"
        ));
        assert_eq!(
            settings.expect_err("unset"),
            [format!(
                "oewsprobe.toml: run.store_password: the environment variable {name} is not set"
            )]
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("pw");
        std::fs::write(&file, "hunter2\n").expect("write");
        let settings = compiled(&format!(
            "[run]\nstore = \"postgres://probe@db.internal:5433/oews\"\nstore_password = \"file:{}\"\n",
            file.display()
        ))
        .expect("compiles, even for the store-only commands");
        let crate::store::Location::Postgres { target, password } = &settings.run.store else {
            panic!("{:?}", settings.run.store)
        };
        assert_eq!(target.to_string(), "postgres://probe@db.internal:5433/oews");
        assert_eq!(
            password.as_ref().map(|p| p.expose().to_vec()),
            Some(b"hunter2".to_vec())
        );
        assert!(
            settings
                .watch
                .secrets
                .iter()
                .any(|s| s.expose() == b"hunter2"),
            "kept from the hook's environment and redacted from its output"
        );
        assert!(!format!("{settings:?}").contains("hunter2"));
        for (toml_text, error) in [
            (
                "[run]\nstore = \"postgres://probe:hunter2@db.internal/oews\"\n",
                "oewsprobe.toml: run.store: the PostgreSQL URL holds a password: give it by reference in \
                 run.store_password (\"env:NAME\" or \"file:PATH\"), never in the URL",
            ),
            (
                "[run]\nstore = \"postgres://db.internal/oews\"\n",
                "oewsprobe.toml: run.store: the PostgreSQL URL names no user (postgres://USER@HOST:PORT/DB)",
            ),
            (
                "[run]\nstore = \"postgres://probe@db.internal\"\n",
                "oewsprobe.toml: run.store: the PostgreSQL URL names no database (postgres://USER@HOST:PORT/DB)",
            ),
            (
                "[run]\nstore = \"postgres://probe@db.internal/oews?sslmode=require\"\n",
                "oewsprobe.toml: run.store: the PostgreSQL URL has sslmode=require, which does not verify \
                 the server's certificate; give sslmode=verify-full (with sslrootcert=PATH for a private CA) \
                 or sslmode=disable",
            ),
            (
                "[run]\nstore = \"postgres://probe@db.internal/oews?sslmode=verify-full&sslrootcert=none.pem\"\n",
                "oewsprobe.toml: run.store: the PostgreSQL URL has sslrootcert=none.pem: cannot read \
                 /etc/oewsprobe/none.pem: No such file or directory (os error 2)",
            ),
            (
                "[run]\nstore = \"postgres://probe@db.internal/oews?sslrootcert=ca.pem\"\n",
                "oewsprobe.toml: run.store: the PostgreSQL URL has sslrootcert without sslmode=verify-full; add \
                 sslmode=verify-full",
            ),
            (
                "[run]\nstore = \"postgres://probe@db.internal/oews?sslmode=verify_full\"\n",
                "oewsprobe.toml: run.store: the PostgreSQL URL has sslmode=\"verify_full\"; give \
                 sslmode=verify-full or sslmode=disable",
            ),
            (
                "[run]\nstore = \"postgres://probe@db.internal/oews?connect_timeout=5\"\n",
                "oewsprobe.toml: run.store: the PostgreSQL URL has the option \"connect_timeout\"; only sslmode \
                 (verify-full or disable) and sslrootcert are read",
            ),
            (
                "[run]\nstore = \"postgres://probe@db.internal/oews\"\nstore_password = \"hunter2\"\n",
                "oewsprobe.toml: run.store_password: give the secret by reference, \"env:NAME\" or \
                 \"file:PATH\", never inline",
            ),
            (
                "[run]\nstore = \"oewsprobe.sqlite\"\nstore_password = \"env:PGPASSWORD\"\n",
                "oewsprobe.toml: run.store_password: only a PostgreSQL store (run.store = \
                 \"postgres://USER@HOST:PORT/DB\") takes a password; remove the key",
            ),
        ] {
            let errors = compiled(toml_text).expect_err(toml_text);
            assert_eq!(errors, [error], "{toml_text}");
            assert!(!errors.concat().contains("hunter2"));
        }
    }
}
