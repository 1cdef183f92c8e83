//! The metrics handle: every instrument oewsprobe records, behind a small API the monitor, the commands and
//! (soon) the alert outbox call. Cheap to clone; recording never blocks and never fails. Every data point
//! carries `oewsprobe.location` (`run.location`), so one Prometheus or OTLP backend can tell the agents apart.

use super::names as n;
use crate::load::LoadStats;
use crate::probe::{FailureClass, ProbeRecord, Verdict};
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter};
use std::sync::{Arc, Mutex};

/// The figures observable gauges report, set from the store (see `cmd::run`) and read at each collection.
#[derive(Default)]
struct Observed {
    /// (objective, tier, window `long`|`short`, burn rate).
    burn_rates: Vec<(String, String, &'static str, f64)>,
    /// (objective, error budget remaining).
    budgets: Vec<(String, f64)>,
    queries_remaining: Option<u64>,
    watch_active: Option<bool>,
    leader: Option<bool>,
    queued: Option<u64>,
    queued_source: Option<Box<dyn Fn() -> u64 + Send + Sync>>,
    /// (waiting, dropped) probe records of the writer's queue.
    records_source: Option<Box<dyn Fn() -> (u64, u64) + Send + Sync>>,
}

/// The instruments, registered on one meter.
#[derive(Clone)]
pub struct Metrics {
    http_duration: Histogram<f64>,
    runs: Counter<u64>,
    up: Gauge<u64>,
    probe_duration: Histogram<f64>,
    phase_duration: Histogram<f64>,
    certificate_expiry: Gauge<f64>,
    burst_duration: Histogram<f64>,
    burst_requests: Counter<u64>,
    decisions: Counter<u64>,
    notifications_sent: Counter<u64>,
    notifications_failed: Counter<u64>,
    observed: Arc<Mutex<Observed>>,
    /// `oewsprobe.location`, on every data point.
    location: KeyValue,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Registers every instrument on `meter`; every data point carries `location`.
    pub fn new(meter: &Meter, location: &str) -> Metrics {
        let location = KeyValue::new(n::LOCATION, location.to_string());
        let seconds = |name: &'static str, description: &'static str| {
            meter
                .f64_histogram(name)
                .with_unit(n::SECONDS)
                .with_description(description)
                .with_boundaries(n::DURATION_BUCKETS.to_vec())
                .build()
        };
        let counter = |name: &'static str, unit: &'static str, description: &'static str| {
            meter
                .u64_counter(name)
                .with_unit(unit)
                .with_description(description)
                .build()
        };
        let observed = Arc::new(Mutex::new(Observed::default()));
        register_observers(meter, &observed, &location);
        Metrics {
            http_duration: seconds(
                n::HTTP_CLIENT_REQUEST_DURATION,
                "Duration of HTTP client requests.",
            ),
            runs: counter(n::PROBE_RUNS, n::RUNS, "Probe runs by verdict and class."),
            up: meter
                .u64_gauge(n::PROBE_UP)
                .with_description(
                    "1 when the probe's last conclusive run passed, 0 when it failed.",
                )
                .build(),
            probe_duration: seconds(
                n::PROBE_DURATION,
                "Probe run latency from the scheduled instant to the end of the body.",
            ),
            phase_duration: seconds(
                n::PROBE_PHASE_DURATION,
                "Time spent in one phase of a probe run (dns, connect, tls, first_byte).",
            ),
            certificate_expiry: meter
                .f64_gauge(n::TLS_CERTIFICATE_EXPIRY)
                .with_unit(n::SECONDS)
                .with_description(
                    "Seconds until each certificate of the chain expires (negative when expired).",
                )
                .build(),
            burst_duration: seconds(
                n::BURST_REQUEST_DURATION,
                "Latency of each request of a burst, from its intended start.",
            ),
            burst_requests: counter(n::BURST_REQUESTS, n::REQUESTS, "Burst requests by verdict."),
            decisions: counter(
                n::ROLLBACK_DECISIONS,
                n::DECISIONS,
                "Release-watch decisions recorded, by outcome.",
            ),
            notifications_sent: counter(
                n::NOTIFICATIONS_SENT,
                n::NOTIFICATIONS,
                "Alert notifications delivered.",
            ),
            notifications_failed: counter(
                n::NOTIFICATIONS_FAILED,
                n::NOTIFICATIONS,
                "Alert notification deliveries that failed.",
            ),
            observed,
            location,
        }
    }

    /// `attributes` and the location.
    fn at<const N: usize>(&self, attributes: [KeyValue; N]) -> Vec<KeyValue> {
        let mut all = Vec::with_capacity(N + 1);
        all.extend(attributes);
        all.push(self.location.clone());
        all
    }

    /// One finished run (of `check`, of the monitor, or a `NAME-burst` run): the runs counter, the up gauge,
    /// the run's duration and its phase timings.
    pub fn record_run(&self, record: &ProbeRecord) {
        let probe = KeyValue::new(n::PROBE, record.probe.clone());
        let verdict = KeyValue::new(n::VERDICT, record.verdict.as_str());
        let class = KeyValue::new(n::CLASS, record.class.map_or(n::NO_CLASS, |c| c.as_str()));
        self.runs
            .add(1, &self.at([probe.clone(), verdict.clone(), class]));
        match record.verdict {
            Verdict::Pass => self.up.record(1, &self.at([probe.clone()])),
            Verdict::Fail => self.up.record(0, &self.at([probe.clone()])),
            Verdict::Inconclusive => {}
        }
        if record.class == Some(FailureClass::Budget) {
            return;
        }
        self.probe_duration.record(
            record.latency.as_secs_f64(),
            &self.at([probe.clone(), verdict]),
        );
        let t = &record.timings;
        for (phase, time) in [
            ("dns", t.dns),
            ("connect", t.connect),
            ("tls", t.tls),
            ("first_byte", t.first_byte),
        ] {
            if let Some(time) = time {
                self.phase_duration.record(
                    time.as_secs_f64(),
                    &self.at([probe.clone(), KeyValue::new(n::PHASE, phase)]),
                );
            }
        }
        self.record_certificates(record, &probe);
    }

    /// The expiry gauge of each certificate the run's handshake presented, leaf first.
    fn record_certificates(&self, record: &ProbeRecord, probe: &KeyValue) {
        let Some(tls) = &record.tls else {
            return;
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        for (i, cert) in tls.certificates.iter().enumerate() {
            let position = if i == 0 { "leaf" } else { "chain" };
            self.certificate_expiry.record(
                (cert.not_after - now) as f64,
                &self.at([
                    probe.clone(),
                    KeyValue::new(n::CERTIFICATE_POSITION, position),
                    KeyValue::new(n::CERTIFICATE_SUBJECT, cert.subject.clone()),
                ]),
            );
        }
    }

    /// A one-shot run (`check`): [`Metrics::record_run`] and [`Metrics::record_http_request`].
    pub fn record_probe_run(&self, record: &ProbeRecord, method: &str) {
        self.record_run(record);
        self.record_http_request(record, method);
    }

    /// The HTTP request a probe run sent (`method` from its spec), as the semantic convention's
    /// `http.client.request.duration`. Runs that sent nothing (budget skips) are not requests.
    pub fn record_http_request(&self, record: &ProbeRecord, method: &str) {
        if record.class == Some(FailureClass::Budget) {
            return;
        }
        let mut attributes = self.at([
            KeyValue::new(n::HTTP_REQUEST_METHOD, method.to_string()),
            KeyValue::new(n::PROBE, record.probe.clone()),
        ]);
        if let Ok(url) = url::Url::parse(&record.target) {
            if let Some(host) = url.host_str() {
                attributes.push(KeyValue::new(n::SERVER_ADDRESS, host.to_string()));
            }
            if let Some(port) = url.port_or_known_default() {
                attributes.push(KeyValue::new(n::SERVER_PORT, i64::from(port)));
            }
        }
        if let Some(status) = record.status {
            attributes.push(KeyValue::new(
                n::HTTP_RESPONSE_STATUS_CODE,
                i64::from(status),
            ));
        }
        if let Some(error) = error_type(record) {
            attributes.push(KeyValue::new(n::ERROR_TYPE, error));
        }
        if let Some(version) = record.tls.as_ref().and_then(|t| t.version.clone()) {
            attributes.push(KeyValue::new(n::TLS_PROTOCOL_VERSION, version));
        }
        self.http_duration
            .record(record.timings.total.as_secs_f64(), &attributes);
    }

    /// The requests of one burst of `probe`: each latency (HDR-quantized) and the counts by verdict.
    pub fn record_burst(&self, probe: &str, stats: &LoadStats) {
        let probe = KeyValue::new(n::PROBE, probe.to_string());
        let attributes = self.at([probe.clone()]);
        for value in stats.latency.iter_recorded() {
            let seconds = value.value_iterated_to() as f64 / 1e6;
            for _ in 0..value.count_at_value() {
                self.burst_duration.record(seconds, &attributes);
            }
        }
        for (verdict, count) in [
            (Verdict::Pass, stats.passed),
            (Verdict::Fail, stats.failed_total()),
            (Verdict::Inconclusive, stats.inconclusive_total()),
        ] {
            if count > 0 {
                self.burst_requests.add(
                    count,
                    &self.at([probe.clone(), KeyValue::new(n::VERDICT, verdict.as_str())]),
                );
            }
        }
    }

    /// A release-watch decision was recorded (`rollback`, `would_rollback`, `hold`, `hook_succeeded`, ...).
    pub fn rollback_decision(&self, outcome: &str) {
        self.decisions.add(
            1,
            &self.at([KeyValue::new(n::OUTCOME, outcome.to_string())]),
        );
    }

    /// An alert notification was delivered.
    pub fn notification_sent(&self) {
        self.notifications_sent.add(1, &self.at([]));
    }

    /// An alert notification delivery attempt failed (it may be retried: each attempt counts).
    pub fn notification_failed(&self) {
        self.notifications_failed.add(1, &self.at([]));
    }

    /// How many notifications wait in the outbox now (for an outbox that pushes its size).
    pub fn set_notifications_queued(&self, queued: u64) {
        self.observe(|o| o.queued = Some(queued));
    }

    /// Reads the outbox size at each collection (for an outbox that is asked). Replaces the pushed value.
    pub fn observe_notifications_queued(&self, source: impl Fn() -> u64 + Send + Sync + 'static) {
        self.observe(|o| o.queued_source = Some(Box::new(source)));
    }

    /// Reads the writer's queue at each collection: (records waiting for the store, records dropped in all).
    pub fn observe_records(&self, source: impl Fn() -> (u64, u64) + Send + Sync + 'static) {
        self.observe(|o| o.records_source = Some(Box::new(source)));
    }

    /// Whether a release watch is open.
    pub fn set_watch_active(&self, active: bool) {
        self.observe(|o| o.watch_active = Some(active));
    }

    /// Whether this agent leads the fleet (holds the leader's lease and may act on it).
    pub fn set_leader(&self, leads: bool) {
        self.observe(|o| o.leader = Some(leads));
    }

    /// Valid queries left in the rolling hour.
    pub fn set_queries_remaining(&self, left: u32) {
        self.observe(|o| o.queries_remaining = Some(u64::from(left)));
    }

    /// The objectives as `status` evaluates them: burn rate per tier and window, error budget left.
    pub fn set_objectives(&self, evaluations: &[crate::slo::Evaluation]) {
        let mut burn_rates = Vec::new();
        let mut budgets = Vec::new();
        for e in evaluations {
            for t in &e.tiers {
                for (window, stat) in [("long", &t.long), ("short", &t.short)] {
                    if let Some(burn) = stat.burn_rate {
                        burn_rates.push((e.objective.clone(), t.tier.name.clone(), window, burn));
                    }
                }
            }
            if let Some(remaining) = e.budget.remaining {
                budgets.push((e.objective.clone(), remaining));
            }
        }
        self.observe(|o| {
            o.burn_rates = burn_rates;
            o.budgets = budgets;
        });
    }

    fn observe(&self, change: impl FnOnce(&mut Observed)) {
        change(
            &mut self
                .observed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
    }
}

/// `error.type` as the HTTP convention defines it: the status code of a 4xx/5xx answer, else the failure
/// class of a request that got no answer; absent when the HTTP exchange itself succeeded.
fn error_type(record: &ProbeRecord) -> Option<String> {
    match (record.status, record.class) {
        (Some(status), _) if status >= 400 => Some(status.to_string()),
        (None, Some(class)) => Some(class.as_str().to_string()),
        _ => None,
    }
}

fn register_observers(meter: &Meter, observed: &Arc<Mutex<Observed>>, location: &KeyValue) {
    let read = |observed: &Arc<Mutex<Observed>>| {
        let observed = observed.clone();
        move |f: &mut dyn FnMut(&Observed)| {
            f(&observed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()))
        }
    };
    let state = read(observed);
    let at = location.clone();
    meter
        .f64_observable_gauge(n::SLO_BURN_RATE)
        .with_description(
            "Burn rate of an objective's tier window: the bad fraction over (1 - target).",
        )
        .with_callback(move |gauge| {
            state(&mut |o| {
                for (objective, tier, window, burn) in &o.burn_rates {
                    gauge.observe(
                        *burn,
                        &[
                            KeyValue::new(n::SLO, objective.clone()),
                            KeyValue::new(n::SLO_TIER, tier.clone()),
                            KeyValue::new(n::SLO_WINDOW, *window),
                            at.clone(),
                        ],
                    );
                }
            })
        })
        .build();
    let state = read(observed);
    let at = location.clone();
    meter
        .f64_observable_gauge(n::SLO_ERROR_BUDGET_REMAINING)
        .with_unit(n::RATIO)
        .with_description("Share of the objective's error budget left over its period.")
        .with_callback(move |gauge| {
            state(&mut |o| {
                for (objective, remaining) in &o.budgets {
                    gauge.observe(
                        *remaining,
                        &[KeyValue::new(n::SLO, objective.clone()), at.clone()],
                    );
                }
            })
        })
        .build();
    let single = |name: &'static str,
                  unit: &'static str,
                  description: &'static str,
                  value: fn(&Observed) -> Option<u64>| {
        let state = read(observed);
        let at = [location.clone()];
        let mut builder = meter
            .u64_observable_gauge(name)
            .with_description(description);
        if !unit.is_empty() {
            builder = builder.with_unit(unit);
        }
        builder
            .with_callback(move |gauge| {
                state(&mut |o| {
                    if let Some(v) = value(o) {
                        gauge.observe(v, &at);
                    }
                })
            })
            .build();
    };
    single(
        n::BUDGET_QUERIES_REMAINING,
        n::QUERIES,
        "Valid queries left in the rolling hour's budget.",
        |o| o.queries_remaining,
    );
    single(
        n::RELEASE_WATCH_ACTIVE,
        "",
        "1 while a release watch is open.",
        |o| o.watch_active.map(u64::from),
    );
    single(
        n::LEADER,
        "",
        "1 while this agent leads the fleet (watch, rollback hook, outbox), 0 while another does.",
        |o| o.leader.map(u64::from),
    );
    single(
        n::NOTIFICATIONS_QUEUED,
        n::NOTIFICATIONS,
        "Alert notifications waiting in the outbox.",
        |o| o.queued_source.as_ref().map(|f| f()).or(o.queued),
    );
    single(
        n::RECORDS_WAITING,
        n::RUNS,
        "Probe records waiting for the store.",
        |o| o.records_source.as_ref().map(|f| f().0),
    );
    let state = read(observed);
    let at = [location.clone()];
    meter
        .u64_observable_counter(n::RECORDS_DROPPED)
        .with_unit(n::RUNS)
        .with_description("Probe records dropped because too many were waiting for the store.")
        .with_callback(move |counter| {
            state(&mut |o| {
                if let Some(f) = &o.records_source {
                    counter.observe(f().1, &at);
                }
            })
        })
        .build();
}
