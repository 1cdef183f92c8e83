//! Every metric name, unit and attribute key oewsprobe exports, in one place (README "Metrics" documents them).

/// The OpenTelemetry semantic convention's HTTP client duration, one observation per probe request.
pub const HTTP_CLIENT_REQUEST_DURATION: &str = "http.client.request.duration";
/// Runs by probe, verdict and class (scheduled and `check` runs, `NAME-burst` runs included).
pub const PROBE_RUNS: &str = "oewsprobe.probe.runs";
/// 1 after a passing run, 0 after a failing one; an inconclusive run leaves it as it was.
pub const PROBE_UP: &str = "oewsprobe.probe.up";
/// A run's latency, from its scheduled instant to the end of the body.
pub const PROBE_DURATION: &str = "oewsprobe.probe.duration";
/// DNS, connect (TCP), TLS handshake and first-byte times of a run, where the client observed them.
pub const PROBE_PHASE_DURATION: &str = "oewsprobe.probe.phase.duration";
/// Each request of a burst (the `burst` command and scheduled `NAME-burst` runs).
pub const BURST_REQUEST_DURATION: &str = "oewsprobe.burst.request.duration";
/// Burst requests by probe and verdict.
pub const BURST_REQUESTS: &str = "oewsprobe.burst.requests";
/// Burn rate of an objective's tier window (the bad fraction over `1 - target`).
pub const SLO_BURN_RATE: &str = "oewsprobe.slo.burn_rate";
/// The share of an objective's error budget left over its period (negative when overspent).
pub const SLO_ERROR_BUDGET_REMAINING: &str = "oewsprobe.slo.error_budget.remaining";
/// Valid queries left in the rolling hour's budget.
pub const BUDGET_QUERIES_REMAINING: &str = "oewsprobe.budget.queries.remaining";
/// 1 while a release watch is open.
pub const RELEASE_WATCH_ACTIVE: &str = "oewsprobe.release.watch.active";
/// 1 while this agent leads the fleet, 0 while another does.
pub const LEADER: &str = "oewsprobe.leader";
/// Release-watch decisions recorded, by outcome.
pub const ROLLBACK_DECISIONS: &str = "oewsprobe.rollback.decisions";
/// Alert notifications delivered.
pub const NOTIFICATIONS_SENT: &str = "oewsprobe.notifications.sent";
/// Alert notification delivery attempts that failed.
pub const NOTIFICATIONS_FAILED: &str = "oewsprobe.notifications.failed";
/// Alert notifications waiting in the outbox.
pub const NOTIFICATIONS_QUEUED: &str = "oewsprobe.notifications.queued";
/// Probe records waiting for the store (it refuses writes, or is unreachable).
pub const RECORDS_WAITING: &str = "oewsprobe.records.waiting";
/// Probe records dropped because more than `run.max_waiting_records` were waiting.
pub const RECORDS_DROPPED: &str = "oewsprobe.records.dropped";
/// Seconds until each certificate of an HTTPS probe's chain expires (negative when expired), at its last run.
pub const TLS_CERTIFICATE_EXPIRY: &str = "oewsprobe.tls.certificate.expiry";

/// Units (UCUM, as the OpenTelemetry conventions write them).
pub const SECONDS: &str = "s";
pub const RATIO: &str = "1";
pub const RUNS: &str = "{run}";
pub const REQUESTS: &str = "{request}";
pub const QUERIES: &str = "{query}";
pub const DECISIONS: &str = "{decision}";
pub const NOTIFICATIONS: &str = "{notification}";

/// Attribute keys: the semantic conventions' for HTTP, oewsprobe's own (namespaced) for the rest.
pub const HTTP_REQUEST_METHOD: &str = "http.request.method";
pub const SERVER_ADDRESS: &str = "server.address";
pub const SERVER_PORT: &str = "server.port";
pub const HTTP_RESPONSE_STATUS_CODE: &str = "http.response.status_code";
pub const ERROR_TYPE: &str = "error.type";
pub const PROBE: &str = "oewsprobe.probe";
pub const VERDICT: &str = "oewsprobe.verdict";
pub const CLASS: &str = "oewsprobe.class";
pub const PHASE: &str = "oewsprobe.phase";
/// `1.2` or `1.3`, on the request duration of an HTTPS probe run (the semantic convention's attribute).
pub const TLS_PROTOCOL_VERSION: &str = "tls.protocol.version";
/// `leaf` or `chain`: where a certificate sits in the presented chain.
pub const CERTIFICATE_POSITION: &str = "oewsprobe.certificate.position";
/// A certificate's subject distinguished name.
pub const CERTIFICATE_SUBJECT: &str = "oewsprobe.certificate.subject";
pub const SLO: &str = "oewsprobe.slo";
pub const SLO_TIER: &str = "oewsprobe.slo.tier";
pub const SLO_WINDOW: &str = "oewsprobe.slo.window";
pub const OUTCOME: &str = "oewsprobe.outcome";
/// Where the agent probes from (`run.location`), on every data point of every metric.
pub const LOCATION: &str = "oewsprobe.location";

/// Resource attributes.
pub const SERVICE_NAME: &str = "oewsprobe";
pub const RESOURCE_TARGET: &str = "oewsprobe.target";

/// The value of [`CLASS`] on a passing run.
pub const NO_CLASS: &str = "none";

/// Histogram boundaries in seconds: the HTTP semantic convention's recommendation, plus 30 s (the latency
/// objective) and 60 s and 120 s (query latencies of 20–40 s and the default 120 s timeout would otherwise
/// all land in one overflow bucket).
pub const DURATION_BUCKETS: [f64; 17] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 30.0, 60.0,
    120.0,
];
