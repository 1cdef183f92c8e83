//! Command-line definitions (clap) and nothing else.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "oewsprobe",
    version,
    about = "Synthetic monitoring and load probing for the OEWS Data Agent API"
)]
pub struct Cli {
    /// Log level (error, warn, info, debug, trace); RUST_LOG wins when set.
    #[arg(long, global = true, default_value = "warn")]
    pub log_level: String,
    /// Log lines as text, or as one JSON object per line.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: crate::telemetry::LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every probe once and print a verdict per probe (post-deploy gate).
    Check(CheckArgs),
    /// Send concurrent load (N at once, or for a duration at a rate) and judge it against a latency SLO.
    Burst(BurstArgs),
    /// The always-on monitor: run every scheduled probe, record results, until SIGTERM/SIGINT.
    Run(RunArgs),
    /// What the monitor's store says: per probe verdicts, pass rates, latency; the query budget; the release
    /// watch. Works while `run` runs.
    Status(StatusArgs),
    /// The status page as one self-contained HTML file (no script, no external asset), for a deploy record
    /// or an email.
    Report(ReportArgs),
    /// The store: what it holds, its runs out as JSON Lines and back in, its rollups rebuilt.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Mark releases for the post-release watch.
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// Silence alert email for a probe (or every probe) for a while; silenced alerts are recorded, not sent.
    #[command(subcommand)]
    Silence(SilenceCommand),
    /// Alert email: check that the configured [alert.smtp] delivers.
    #[command(subcommand)]
    Alert(AlertCommand),
    /// Compare every probe with the service's own OpenAPI document (`/openapi.json`, free); exit 1 on drift.
    /// `drift accept` records today's findings as known drift, so that they stop paging.
    Drift(DriftArgs),
    /// Check the config and probe files offline; report every error at once.
    Validate(ConfigArgs),
    /// Print Prometheus recording and alerting rules (YAML) generated from the config's [[slo]] objectives:
    /// the same burn-rate tiers and min_bad guard, per location, with the location quorum.
    Rules(RulesArgs),
    /// Serve the simulated OEWS API.
    Sim(SimArgs),
    /// Start the simulator on a free loopback port and run `check` against it.
    Demo(DemoArgs),
}

#[derive(Debug, Args, Clone)]
pub struct ConfigArgs {
    /// Main config file [default: ./oewsprobe.toml if present, else built-in defaults].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory of probe files [default: the config's probes_dir, else ./probes].
    #[arg(long, value_name = "DIR")]
    pub probes: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Base URL of the API [default: the config's target, else https://api.oews.bhavanaai.com].
    #[arg(long, env = "OEWSPROBE_TARGET", value_name = "URL")]
    pub target: Option<String>,
    /// Run only this probe (repeatable).
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,
    /// Send even when the probes' valid queries exceed the query budget.
    #[arg(long)]
    pub force: bool,
    /// Pass a run whose only failures are known drift (known-drift.toml), as `run` does.
    #[arg(long)]
    pub accept_known: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(subcommand)]
    pub action: Option<DriftAction>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Base URL of the API [default: the config's target, else https://api.oews.bhavanaai.com].
    #[arg(long, env = "OEWSPROBE_TARGET", value_name = "URL")]
    pub target: Option<String>,
    /// Compare (and with --live run) only this probe (repeatable).
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,
    /// Also run the probes (spending their valid queries, within the query budget) with their responses
    /// validated against the document.
    #[arg(long)]
    pub live: bool,
    /// With --live: send even when the probes' valid queries exceed the query budget.
    #[arg(long, requires = "live")]
    pub force: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// What `drift` does besides comparing.
#[derive(Debug, Subcommand)]
pub enum DriftAction {
    /// Run the selected probes once and record their contract findings as known drift (known-drift.toml).
    Accept(DriftAcceptArgs),
}

#[derive(Debug, Args)]
pub struct DriftAcceptArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Base URL of the API [default: the config's target, else https://api.oews.bhavanaai.com].
    #[arg(long, env = "OEWSPROBE_TARGET", value_name = "URL")]
    pub target: Option<String>,
    /// Accept this probe's findings (repeatable) [default: every probe].
    #[arg(long, value_name = "NAME")]
    pub probe: Vec<String>,
    /// Send even when the probes' valid queries exceed the query budget.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args, Clone)]
pub struct SimFlags {
    /// Which contract to simulate: runbook (the promises) or as-built (the real code).
    #[arg(long, default_value = "runbook", value_name = "PROFILE")]
    pub profile: String,
    /// A fault to inject (repeatable): health_down, slow=35s, flaky=0.3, ...
    #[arg(long = "fault", value_name = "NAME[=ARG]")]
    pub faults: Vec<String>,
    /// Extra latency of every valid query.
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    pub latency: std::time::Duration,
    /// Seed of the simulator's random choices (flaky faults).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,
    /// Serve HTTPS with this PEM certificate chain (leaf first; needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    #[command(flatten)]
    pub sim: SimFlags,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub sim: SimFlags,
    /// Directory of probe files [default: ./probes].
    #[arg(long, value_name = "DIR", default_value = "probes")]
    pub probes: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct BurstArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Base URL of the API [default: the config's target, else https://api.oews.bhavanaai.com].
    #[arg(long, env = "OEWSPROBE_TARGET", value_name = "URL")]
    pub target: Option<String>,
    /// Send N requests at once [default: 3, the runbook's Task 19].
    #[arg(
        short = 'n',
        long = "requests",
        value_name = "N",
        conflicts_with = "duration"
    )]
    pub requests: Option<u64>,
    /// Send this probe's request and judge every response with its checks.
    #[arg(long, value_name = "NAME", conflicts_with = "query")]
    pub probe: Option<String>,
    /// Ask this question (charts off), judged with the query-trace probe's checks
    /// [default: "What are software developer salaries in Seattle?"].
    #[arg(long, value_name = "TEXT")]
    pub query: Option<String>,
    /// Latency objective: every request must pass and take at most this long (at most 1h).
    #[arg(long, default_value = "30s", value_parser = timeout_flag)]
    pub slo: std::time::Duration,
    /// Run for this long instead of a fixed count (with --concurrency or --rate; at most 1 day).
    #[arg(long, value_parser = load_duration_flag)]
    pub duration: Option<std::time::Duration>,
    /// Closed model: this many workers, each sending its next request when the last one ends [default: 1].
    #[arg(long, value_name = "C", conflicts_with = "rate")]
    pub concurrency: Option<u64>,
    /// Open model: start requests at this fixed rate per second; latency counts from each intended start.
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// Open model: at most this many requests in flight [default: 50].
    #[arg(long, value_name = "N", requires = "rate")]
    pub max_in_flight: Option<u64>,
    /// Write the latency distribution in HdrHistogram's percentile text format to FILE.
    #[arg(long, value_name = "FILE")]
    pub hgrm: Option<PathBuf>,
    /// Send even when the query budget would be exceeded.
    #[arg(long)]
    pub force: bool,
    /// Speak HTTP/1.1 only (over TLS, offer only `http/1.1` by ALPN) [default: HTTP/2 when the server
    /// picks it by ALPN, else HTTP/1.1; plain http:// is HTTP/1.1].
    #[arg(long, conflicts_with = "http2")]
    pub http1: bool,
    /// Speak HTTP/2 only: over TLS offer only `h2` by ALPN (a server that does not pick it fails the request,
    /// class tls); over plain http:// send HTTP/2 with prior knowledge (h2c).
    #[arg(long)]
    pub http2: bool,
    /// Send from this many threads, each with its share of the connections (1–256) [default: one per core
    /// but one, at least one: the core left over serves the rest of the host, a local target included].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Base URL of the API [default: the config's target].
    #[arg(long, env = "OEWSPROBE_TARGET", value_name = "URL")]
    pub target: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Runs, rollup rows per level, the oldest data of each tier, the newest run, size on disk. Works while
    /// `run` runs.
    Stats(ReleaseListArgs),
    /// Write runs as JSON Lines, oldest first: per line the fields of `check --format json`'s entry plus
    /// `location`. Works while `run` runs.
    Export(StoreExportArgs),
    /// Read runs from JSON Lines (as `export` writes them) into the store with their rollups, all or nothing.
    /// Refused while `run` runs.
    Import(StoreImportArgs),
    /// Recompute every rollup from the raw runs. Refused while `run` runs.
    RebuildRollups(ConfigArgs),
}

#[derive(Debug, Args)]
pub struct StoreExportArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Only this probe's runs (repeatable).
    #[arg(long = "probe", value_name = "NAME")]
    pub probe: Vec<String>,
    /// Runs scheduled at or after TIME: RFC 3339 (2026-12-01T00:00:00Z) or a duration ago (7d).
    #[arg(long, value_name = "TIME", value_parser = time_flag)]
    pub since: Option<u64>,
    /// Runs scheduled before TIME: RFC 3339 or a duration ago.
    #[arg(long, value_name = "TIME", value_parser = time_flag)]
    pub until: Option<u64>,
    /// Write to FILE (complete or not at all) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StoreImportArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The JSON Lines file, or - for stdin.
    #[arg(value_name = "FILE|-")]
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Record a release and open its watch window.
    Start(ReleaseStartArgs),
    /// List recorded releases, newest first.
    List(ReleaseListArgs),
    /// End the open watch.
    End(ReleaseListArgs),
}

#[derive(Debug, Subcommand)]
pub enum SilenceCommand {
    /// Silence a probe's alerts (or every probe's, with --all) from now for a duration.
    Add(SilenceAddArgs),
    /// List the active silences and the configured maintenance windows.
    List(ReleaseListArgs),
    /// End a silence now.
    Remove(SilenceRemoveArgs),
}

#[derive(Debug, Args)]
pub struct SilenceAddArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The probe to silence (repeat for several).
    #[arg(long = "probe", value_name = "NAME", required_unless_present = "all")]
    pub probe: Vec<String>,
    /// Silence every probe.
    #[arg(long, conflicts_with = "probe")]
    pub all: bool,
    /// For how long, from now (e.g. 2h, 30m).
    #[arg(long = "for", value_name = "DURATION", value_parser = window_flag)]
    pub duration: std::time::Duration,
    /// Why: shown in listings and in the record of every silenced alert.
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct SilenceRemoveArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The silence's number, as `silence list` shows it.
    pub id: i64,
}

#[derive(Debug, Args)]
pub struct ReleaseStartArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The version just deployed (an image tag, e.g. main-1a2b3c4).
    #[arg(long)]
    pub version: String,
    /// The version a rollback returns to.
    #[arg(long)]
    pub rollback_to: String,
    /// How long to watch [default: release.watch, 24h].
    #[arg(long, value_parser = humantime::parse_duration)]
    pub watch: Option<std::time::Duration>,
}

#[derive(Debug, Args)]
pub struct ReleaseListArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Send one test email with the configured [alert.smtp] settings.
    Test(AlertTestArgs),
}

#[derive(Debug, Args)]
pub struct AlertTestArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Base URL of the API, named in the email [default: the config's target].
    #[arg(long, env = "OEWSPROBE_TARGET", value_name = "URL")]
    pub target: Option<String>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The rules' format.
    #[arg(long, value_enum, default_value = "prometheus")]
    pub format: RulesFormat,
}

/// What `rules` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    /// A Prometheus rules file (`rule_files` in prometheus.yml).
    Prometheus,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The window pass rates and latency percentiles cover (at most 1 year).
    #[arg(long, default_value = "24h", value_parser = window_flag)]
    pub window: std::time::Duration,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Write the page here (overview, every probe, SLOs, release), replacing the file.
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
    /// The window the uptime strips, latency charts and percentiles cover (at most 1 year).
    #[arg(long, default_value = "24h", value_parser = window_flag)]
    pub window: std::time::Duration,
}

/// A window given as a flag (`silence add --for`, `status --window`): a positive duration of at most
/// [`MAX_WINDOW`](crate::config::MAX_WINDOW), the bound of `release start --watch` and of the config's windows
/// (`release.watch`).
pub fn window_flag(text: &str) -> Result<std::time::Duration, String> {
    crate::config::window(text)
}

/// The longest `burst --duration`.
pub const MAX_LOAD_DURATION: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// `burst --duration`: a positive duration of at most [`MAX_LOAD_DURATION`].
pub fn load_duration_flag(text: &str) -> Result<std::time::Duration, String> {
    crate::config::duration_within(text, std::time::Duration::ZERO, MAX_LOAD_DURATION)
}

/// A timeout given as a flag (`burst --slo`): at most [`MAX_TIMEOUT`](crate::config::MAX_TIMEOUT).
pub fn timeout_flag(text: &str) -> Result<std::time::Duration, String> {
    crate::config::timeout(text)
}

/// An instant given as a flag (`store export --since / --until`): RFC 3339, or a duration before now.
pub fn time_flag(text: &str) -> Result<u64, String> {
    crate::config::instant(text, crate::monitor::now_ms())
}
