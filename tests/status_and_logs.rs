//! The status listener of `run` (`/metrics` in Prometheus text format with the same figures as the store,
//! `/healthz`), JSON logs, and credentials kept out of every log line at debug level.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};
use support::daemon::Daemon;
use support::otlp::{self, Receiver};
use support::process::{BIN, SimProcess};

const HEALTH_EVERY_2S: &str =
    "schedule = \"*/2 * * * * *\"\n[request]\npath = \"/api/v1/health\"\n[expect]\nstatus = 200\n";
const HEALTH: &str =
    "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\n[expect]\nstatus = 200\n";

fn get(port: u16, path: &str) -> (u16, String, String) {
    support::http_get(&format!("127.0.0.1:{port}"), path)
}

/// One sample of the exposition.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A strict parser of the Prometheus text format 0.0.4: every line is `# HELP`, `# TYPE` or a sample of a
/// declared family (histograms: `_bucket` with `le`, `_sum`, `_count`; counters end in `_total`); label names
/// and values are checked; bucket counts never decrease and the `+Inf` bucket equals `_count`.
fn parse_exposition(text: &str) -> (BTreeMap<String, String>, Vec<Sample>) {
    let name_ok = |n: &str| {
        !n.is_empty()
            && !n.starts_with(|c: char| c.is_ascii_digit())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    let mut types = BTreeMap::new();
    let mut samples = Vec::new();
    assert!(text.ends_with('\n'), "the exposition ends with a newline");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().expect("help name");
            assert!(name_ok(name), "HELP name {name:?}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(name_ok(name), "TYPE name {name:?}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                types.insert(name.to_string(), kind.to_string()).is_none(),
                "TYPE twice: {line}"
            );
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "unexpected line {line:?}"
        );
        let (series, value) = line.rsplit_once(' ').expect("sample value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("value {v:?} in {line:?}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series, BTreeMap::new()),
            Some((name, rest)) => {
                let inner = rest.strip_suffix('}').expect("closing brace");
                (name, parse_labels(inner, line))
            }
        };
        assert!(name_ok(name), "sample name {name:?}");
        let family = types
            .keys()
            .find(|f| {
                let kind = types[*f].as_str();
                match kind {
                    "histogram" => [
                        format!("{f}_bucket"),
                        format!("{f}_sum"),
                        format!("{f}_count"),
                    ]
                    .contains(&name.to_string()),
                    _ => f.as_str() == name,
                }
            })
            .unwrap_or_else(|| panic!("sample of an undeclared family: {line}"));
        if types[family] == "counter" {
            assert!(name.ends_with("_total"), "a counter ends in _total: {line}");
        }
        if name.ends_with("_bucket") && types[family] == "histogram" {
            assert!(labels.contains_key("le"), "a bucket has le: {line}");
        }
        samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    // Buckets: cumulative, +Inf equals _count.
    for (family, kind) in &types {
        if kind != "histogram" {
            continue;
        }
        let mut series: BTreeMap<String, Vec<&Sample>> = BTreeMap::new();
        for s in samples
            .iter()
            .filter(|s| s.name == format!("{family}_bucket"))
        {
            let mut key = s.labels.clone();
            key.remove("le");
            series.entry(format!("{key:?}")).or_default().push(s);
        }
        for (key, buckets) in series {
            for pair in buckets.windows(2) {
                assert!(
                    pair[0].value <= pair[1].value,
                    "{family} {key}: buckets decrease"
                );
            }
            let last = buckets.last().expect("a bucket");
            assert_eq!(last.labels["le"], "+Inf");
            let total = samples
                .iter()
                .find(|s| {
                    let mut k = s.labels.clone();
                    k.remove("le");
                    s.name == format!("{family}_count") && format!("{k:?}") == key
                })
                .expect("_count");
            assert_eq!(
                last.value, total.value,
                "{family} {key}: +Inf bucket == _count"
            );
        }
    }
    (types, samples)
}

fn parse_labels(inner: &str, line: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = inner.chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "label name {name:?} in {line}"
        );
        assert_eq!(chars.next(), Some('"'), "quoted label value in {line}");
        let mut value = String::new();
        loop {
            match chars.next().expect("unterminated label value") {
                '\\' => match chars.next() {
                    Some('\\') => value.push('\\'),
                    Some('"') => value.push('"'),
                    Some('n') => value.push('\n'),
                    other => panic!("bad escape {other:?} in {line}"),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        assert!(
            labels.insert(name, value).is_none(),
            "label twice in {line}"
        );
        match chars.next() {
            None => break,
            Some(',') => {}
            other => panic!("expected , or end after a label, got {other:?} in {line}"),
        }
    }
    labels
}

fn sum(samples: &[Sample], name: &str, wanted: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| {
            s.name == name
                && wanted
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

#[test]
fn metrics_endpoint_serves_prometheus_text_with_the_store_figures_and_healthz_answers() {
    let sim = SimProcess::start(&[]);
    let port = support::servers::free_port();
    let daemon = Daemon::start(
        &sim.url,
        &format!("[status]\nlisten = \"127.0.0.1:{port}\""),
        &[("health.toml", HEALTH_EVERY_2S)],
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while daemon.records() < 2 {
        assert!(Instant::now() < deadline, "no runs: {}", daemon.stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
    // The same figures: a scrape between two equal store counts carries exactly that count.
    let mut compared = false;
    for _ in 0..5 {
        let before = daemon.records();
        let (status, content_type, body) = get(port, "/metrics");
        if daemon.records() != before {
            continue;
        }
        assert_eq!(status, 200);
        assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
        let (types, samples) = parse_exposition(&body);
        assert_eq!(types["oewsprobe_probe_runs_total"], "counter");
        assert_eq!(types["http_client_request_duration_seconds"], "histogram");
        assert_eq!(types["oewsprobe_probe_duration_seconds"], "histogram");
        assert_eq!(types["oewsprobe_probe_up"], "gauge");
        assert_eq!(types["oewsprobe_budget_queries_remaining"], "gauge");
        let runs = sum(
            &samples,
            "oewsprobe_probe_runs_total",
            &[("oewsprobe_probe", "health"), ("oewsprobe_verdict", "pass")],
        );
        if runs != before as f64 {
            // A run counted but not yet committed: try again.
            continue;
        }
        assert_eq!(
            sum(
                &samples,
                "http_client_request_duration_seconds_count",
                &[("http_request_method", "GET")]
            ),
            before as f64
        );
        assert_eq!(
            sum(
                &samples,
                "http_client_request_duration_seconds_bucket",
                &[("le", "30")]
            ),
            before as f64,
            "the 30 s bucket (the objective) holds every loopback request"
        );
        assert_eq!(
            sum(
                &samples,
                "oewsprobe_probe_up",
                &[("oewsprobe_probe", "health")]
            ),
            1.0
        );
        let info = samples
            .iter()
            .find(|s| s.name == "target_info")
            .expect("target_info");
        assert_eq!(info.labels["service_name"], "oewsprobe");
        assert_eq!(info.labels["oewsprobe_target"], sim.url);
        compared = true;
        break;
    }
    assert!(compared, "no scrape between two equal store counts");
    let (status, content_type, body) = get(port, "/healthz");
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let health: Value = serde_json::from_str(&body).expect("healthz JSON");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["loops"]["running"], health["loops"]["expected"]);
    assert_eq!(
        health["loops"]["expected"], 4,
        "probe loop, watch, metrics refresh, pruner: {health}"
    );
    let (code, stderr, _store, _dir) = daemon.stop();
    assert_eq!(code, Some(0));
    assert!(
        stderr.contains(&format!(
            "oewsprobe run: status listener on http://127.0.0.1:{port} (/metrics, /healthz)\n"
        )),
        "{stderr}"
    );
}

#[test]
fn json_logs_are_one_object_per_line_with_the_probe_span() {
    let sim = SimProcess::start(&[]);
    let daemon = Daemon::start_with(
        &sim.url,
        "",
        &[("health.toml", HEALTH)],
        &["--log-format", "json", "--log-level", "info"],
        &[],
    );
    std::thread::sleep(Duration::from_millis(2_500));
    let (code, stderr, _store, _dir) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object ({e}): {l:?}"))
        })
        .collect();
    let run = lines
        .iter()
        .find(|l| l["span"]["name"] == "probe")
        .unwrap_or_else(|| panic!("no probe log line: {stderr}"));
    assert_eq!(run["span"]["probe"], "health");
    assert_eq!(run["span"]["verdict"], "pass");
    assert_eq!(run["span"]["class"], "-");
    assert_eq!(run["level"], "INFO");
    assert_eq!(run["message"], "pass");
    assert!(run["latency_ms"].is_u64(), "{run}");
    assert!(
        lines.iter().any(|l| l["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("oewsprobe run: stopped; "))),
        "lifecycle lines are JSON too: {stderr}"
    );
}

const PROBE_SECRET: &str = "Bearer probe-s3cret-4711";
const OTLP_SECRET: &str = "otlp-s3cret-0815";

fn secret_config(receiver: &Receiver) -> String {
    format!(
        "[headers]\nAuthorization = \"{PROBE_SECRET}\"\n[telemetry]\nendpoint = \"{}\"\nexport_interval = \"300ms\"\n\
         headers = {{ \"Authorization\" = \"env:OEWSPROBE_TEST_OTLP_TOKEN\" }}\n",
        receiver.endpoint("http/protobuf")
    )
}

fn assert_no_secret(stderr: &str) {
    assert!(
        stderr.contains("sending the probe request"),
        "debug logs are on:\n{stderr}"
    );
    assert!(
        stderr.contains("\"Authorization\": \"<redacted>\""),
        "{stderr}"
    );
    for secret in [PROBE_SECRET, "probe-s3cret", OTLP_SECRET] {
        assert!(
            !stderr.contains(secret),
            "{secret} leaked into the logs:\n{stderr}"
        );
    }
}

#[test]
fn configured_authorization_headers_never_reach_check_or_run_logs_at_debug_level() {
    let sim = SimProcess::start(&[]);
    let receiver = Receiver::start();
    let dir = support::probe_dir(&[("health.toml", HEALTH)]);
    let config = dir.path().join("check.conf");
    std::fs::write(
        &config,
        format!("probes_dir = \".\"\n{}", secret_config(&receiver)),
    )
    .expect("config");
    let mut command = Command::new(BIN);
    for var in otlp::UNSET {
        command.env_remove(var);
    }
    let out = command
        .args(["--log-level", "debug", "check", "--config"])
        .arg(&config)
        .args(["--target", &sim.url])
        .env("OEWSPROBE_TEST_OTLP_TOKEN", OTLP_SECRET)
        .output()
        .expect("check");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_no_secret(&String::from_utf8_lossy(&out.stderr));

    let daemon = Daemon::start_with(
        &sim.url,
        &secret_config(&receiver),
        &[("health.toml", HEALTH)],
        &["--log-level", "debug"],
        &[("OEWSPROBE_TEST_OTLP_TOKEN", OTLP_SECRET)],
    );
    std::thread::sleep(Duration::from_millis(2_500));
    let (code, stderr, _store, _dir) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert_no_secret(&stderr);
    // The header was sent all the same.
    let received = receiver.received();
    assert!(!received.is_empty());
    assert!(
        received
            .iter()
            .all(|e| e["headers"]["authorization"] == OTLP_SECRET)
    );
}

#[test]
fn a_status_address_that_cannot_be_bound_stops_run_with_exit_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let mut daemon = Daemon::start(
        "http://127.0.0.1:9",
        &format!("[status]\nlisten = \"127.0.0.1:{port}\""),
        &[("health.toml", HEALTH)],
    );
    let (code, stderr) = daemon.wait_exit(Duration::from_secs(10));
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        format!(
            "oewsprobe run: [status] listen = \"127.0.0.1:{port}\": cannot listen: Address already in use (os error 98)\n"
        )
    );
}
