//! OpenTelemetry metrics against a real OTLP receiver (`tests/otlp_receiver.py`): `check` and `run` over
//! OTLP/HTTP and gRPC with the documented names, attributes and counts; a dead receiver never slows probing
//! and export resumes when it returns.

mod support;

use oewsprobe::probe::Verdict;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;
use support::daemon::Daemon;
use support::otlp::{self, Receiver, attributes, count, latest, number, point_with, points};
use support::process::{BIN, SimProcess};

const HEALTH: &str =
    "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\n[expect]\nstatus = 200\n";
const WRONG_STATUS: &str = "[request]\npath = \"/api/v1/health\"\n[expect]\nstatus = 201\n";
const HEALTH_BURST: &str = "[burst]\nschedule = \"*/2 * * * * *\"\nrequests = 2\nslo = \"5s\"\n[request]\npath = \"/api/v1/health\"\n[expect]\nstatus = 200\n";
/// The histogram boundaries every duration instrument uses.
const BUCKETS: [f64; 17] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 30.0, 60.0,
    120.0,
];

fn telemetry(receiver: &Receiver, protocol: &str, interval: &str) -> String {
    format!(
        "[telemetry]\nendpoint = \"{}\"\nprotocol = \"{protocol}\"\nexport_interval = \"{interval}\"\ntimeout = \"2s\"\n\
         headers = {{ \"Authorization\" = \"env:OEWSPROBE_TEST_OTLP_TOKEN\" }}\n",
        receiver.endpoint(protocol)
    )
}

fn transport(protocol: &str) -> &'static str {
    if protocol == "grpc" { "grpc" } else { "http" }
}

/// A one-shot command (`check ...`, `burst ...`) against a fresh simulator with `probes`, exporting to a
/// fresh receiver; returns its exit code, the exports and the simulator.
fn one_shot(
    protocol: &str,
    args: &[&str],
    probes: &[(&str, &str)],
) -> (Option<i32>, Vec<Value>, SimProcess) {
    one_shot_on(SimProcess::start(&[]), "", protocol, args, probes)
}

/// [`one_shot`] against `sim`, with `config_extra` (TOML) in the config.
fn one_shot_on(
    sim: SimProcess,
    config_extra: &str,
    protocol: &str,
    args: &[&str],
    probes: &[(&str, &str)],
) -> (Option<i32>, Vec<Value>, SimProcess) {
    let receiver = Receiver::start();
    let dir = support::probe_dir(probes);
    let config = dir.path().join("oneshot.conf");
    // A long interval: the only export is the flush at exit.
    std::fs::write(
        &config,
        format!(
            "probes_dir = \".\"\n{config_extra}\n{}",
            telemetry(&receiver, protocol, "1h")
        ),
    )
    .expect("config");
    let mut command = Command::new(BIN);
    for var in otlp::UNSET {
        command.env_remove(var);
    }
    let out = command
        .args(args)
        .arg("--config")
        .arg(&config)
        .args(["--target", &sim.url])
        .env("OEWSPROBE_TEST_OTLP_TOKEN", "Bearer otlp-t0ken")
        .output()
        .expect("run the command");
    let received = receiver.received();
    assert_eq!(
        received.len(),
        1,
        "one export, at exit: {received:#?}\n{out:?}"
    );
    assert_eq!(received[0]["transport"], transport(protocol));
    assert_eq!(received[0]["headers"]["authorization"], "Bearer otlp-t0ken");
    (out.status.code(), received, sim)
}

/// `check` with two probes (one passing, one failing).
fn check_exports(protocol: &str) -> (Vec<Value>, SimProcess) {
    let probes = [("health.toml", HEALTH), ("wrong.toml", WRONG_STATUS)];
    let (code, received, sim) = one_shot(protocol, &["check"], &probes);
    assert_eq!(code, Some(1), "one probe fails");
    (received, sim)
}

#[test]
fn burst_exports_its_requests_at_exit() {
    let (code, received, _sim) = one_shot(
        "http/protobuf",
        &["burst", "-n", "3", "--probe", "health"],
        &[("health.toml", HEALTH)],
    );
    assert_burst_exports(code, &received);
}

/// The same over HTTPS, the simulator's CA trusted through the config's `[tls] ca_file`.
#[test]
fn a_burst_over_https_exports_its_requests_at_exit() {
    let pki = tempfile::tempdir().expect("tempdir");
    let (ca, cert) = support::tls_front::loopback_pki();
    let (cert_file, key_file) = cert.write(pki.path(), "sim");
    let ca_file = ca.write(pki.path(), "ca.pem");
    let (code, received, _sim) = one_shot_on(
        SimProcess::start_tls(&cert_file, &key_file),
        &format!("[tls]\nca_file = \"{}\"", ca_file.display()),
        "http/protobuf",
        &["burst", "-n", "3", "--probe", "health"],
        &[("health.toml", HEALTH)],
    );
    assert_burst_exports(code, &received);
}

fn assert_burst_exports(code: Option<i32>, received: &[Value]) {
    assert_eq!(code, Some(0));
    let requests = otlp::metric(&received[0], "oewsprobe.burst.requests").expect("requests");
    let pass = point_with(
        requests,
        &[("oewsprobe.probe", "health"), ("oewsprobe.verdict", "pass")],
    );
    assert_eq!(pass.map(number), Some(3.0));
    let latency = otlp::metric(&received[0], "oewsprobe.burst.request.duration").expect("latency");
    assert_eq!(latency["unit"], "s");
    assert_eq!(points(latency).into_iter().map(count).sum::<u64>(), 3);
}

fn assert_check_metrics(protocol: &str) {
    let (received, sim) = check_exports(protocol);
    let export = &received[0];
    let resource = otlp::resource(export);
    assert_eq!(resource["service.name"], "oewsprobe");
    assert_eq!(resource["service.version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(resource["oewsprobe.target"], sim.url);

    // Every point of every metric carries the location: without run.location, the host name.
    let host = hostname::get()
        .expect("host name")
        .into_string()
        .expect("UTF-8 host name")
        .to_ascii_lowercase();
    let all = otlp::metrics(export);
    assert!(all.len() >= 4, "{all:?}");
    for metric in all {
        for point in points(metric) {
            assert_eq!(
                attributes(point).get("oewsprobe.location"),
                Some(&host),
                "{}: {point}",
                metric["name"]
            );
        }
    }

    let runs = otlp::metric(export, "oewsprobe.probe.runs").expect("runs");
    assert_eq!(runs["unit"], "{run}");
    assert_eq!(runs["sum"]["is_monotonic"], true);
    let run_points: Vec<_> = points(runs)
        .into_iter()
        .map(|p| (attributes(p), number(p)))
        .collect();
    assert_eq!(
        run_points.len(),
        2,
        "one series per probe, verdict and class: {run_points:?}"
    );
    for (probe, verdict, class) in [("health", "pass", "none"), ("wrong", "fail", "contract")] {
        let point = point_with(
            runs,
            &[
                ("oewsprobe.probe", probe),
                ("oewsprobe.verdict", verdict),
                ("oewsprobe.class", class),
            ],
        )
        .unwrap_or_else(|| panic!("no runs point for {probe}: {run_points:?}"));
        assert_eq!(number(point), 1.0);
    }

    let up = otlp::metric(export, "oewsprobe.probe.up").expect("up");
    assert_eq!(
        number(point_with(up, &[("oewsprobe.probe", "health")]).expect("health")),
        1.0
    );
    assert_eq!(
        number(point_with(up, &[("oewsprobe.probe", "wrong")]).expect("wrong")),
        0.0
    );

    let http = otlp::metric(export, "http.client.request.duration").expect("http duration");
    assert_eq!(http["unit"], "s");
    let port = sim.url.rsplit(':').next().expect("port");
    for probe in ["health", "wrong"] {
        let point = point_with(http, &[("oewsprobe.probe", probe)]).expect("http point");
        let a = attributes(point);
        assert_eq!(a["http.request.method"], "GET");
        assert_eq!(a["server.address"], "127.0.0.1");
        assert_eq!(a["server.port"], port);
        assert_eq!(a["http.response.status_code"], "200");
        assert!(
            !a.contains_key("error.type"),
            "a 200 is no HTTP error: {a:?}"
        );
        assert_eq!(count(point), 1);
        let bounds: Vec<f64> = point["explicit_bounds"]
            .as_array()
            .expect("bounds")
            .iter()
            .map(|b| b.as_f64().expect("bound"))
            .collect();
        assert_eq!(bounds, BUCKETS);
        let sum = point["sum"].as_f64().expect("sum");
        assert!(sum > 0.0 && sum < 5.0, "a loopback request takes ms: {sum}");
    }

    let duration = otlp::metric(export, "oewsprobe.probe.duration").expect("probe duration");
    assert_eq!(duration["unit"], "s");
    let pass = point_with(
        duration,
        &[("oewsprobe.probe", "health"), ("oewsprobe.verdict", "pass")],
    );
    assert_eq!(pass.map(count), Some(1));

    let phases = otlp::metric(export, "oewsprobe.probe.phase.duration").expect("phases");
    for phase in ["connect", "first_byte"] {
        let point = point_with(
            phases,
            &[("oewsprobe.probe", "health"), ("oewsprobe.phase", phase)],
        );
        assert_eq!(point.map(count), Some(1), "{phase}");
    }
    assert!(
        point_with(phases, &[("oewsprobe.phase", "dns")]).is_none(),
        "an IP target resolves nothing"
    );
    assert!(
        point_with(phases, &[("oewsprobe.phase", "tls")]).is_none(),
        "plain HTTP shakes no hands"
    );
    assert!(otlp::metric(export, "oewsprobe.tls.certificate.expiry").is_none());
}

#[test]
fn check_exports_the_documented_metrics_over_http_protobuf() {
    assert_check_metrics("http/protobuf");
}

#[test]
fn check_exports_the_documented_metrics_over_grpc() {
    assert_check_metrics("grpc");
}

fn sum_of(metric: &Value, wanted: &[(&str, &str)]) -> f64 {
    points(metric)
        .into_iter()
        .filter(|p| {
            let a = attributes(p);
            wanted
                .iter()
                .all(|(k, v)| a.get(*k).map(String::as_str) == Some(*v))
        })
        .map(number)
        .sum()
}

fn assert_run_metrics(protocol: &str) {
    let sim = SimProcess::start(&[]);
    let receiver = Receiver::start();
    let extra = format!(
        "{}[[slo]]\nname = \"health\"\nprobes = [\"health\"]\ntarget = 0.99\n",
        telemetry(&receiver, protocol, "300ms")
    );
    let daemon = Daemon::start_with(
        &sim.url,
        &extra,
        &[("health.toml", HEALTH), ("hb.toml", HEALTH_BURST)],
        &[],
        &[("OEWSPROBE_TEST_OTLP_TOKEN", "Bearer run-t0ken")],
    );
    std::thread::sleep(Duration::from_millis(4_500));
    let (code, stderr, store, _dir) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let records = store.records_since(0).expect("records");
    let health = records.iter().filter(|r| r.probe == "health").count();
    let bursts = records.iter().filter(|r| r.probe == "hb-burst").count();
    assert!(health >= 3 && bursts >= 1, "{records:?}");
    assert!(
        records.iter().all(|r| r.verdict == Verdict::Pass),
        "{records:?}"
    );

    let received = receiver.received();
    assert!(
        received.len() >= 3,
        "exports every 300 ms: {}",
        received.len()
    );
    assert!(
        received
            .iter()
            .all(|e| e["transport"] == transport(protocol))
    );
    assert!(
        received
            .iter()
            .all(|e| e["headers"]["authorization"] == "Bearer run-t0ken")
    );
    // The last export is the flush at SIGTERM: it holds every run the store holds.
    let runs = latest(&received, "oewsprobe.probe.runs").expect("runs");
    assert_eq!(
        sum_of(runs, &[("oewsprobe.probe", "health")]),
        health as f64
    );
    assert_eq!(
        sum_of(runs, &[("oewsprobe.probe", "hb-burst")]),
        bursts as f64
    );
    let http = latest(&received, "http.client.request.duration").expect("http");
    let requests: u64 = points(http).into_iter().map(count).sum();
    assert_eq!(
        requests as usize, health,
        "one HTTP request per health run; bursts are not probe requests"
    );

    let burst_requests = latest(&received, "oewsprobe.burst.requests").expect("burst requests");
    assert_eq!(
        sum_of(
            burst_requests,
            &[("oewsprobe.probe", "hb"), ("oewsprobe.verdict", "pass")]
        ),
        (2 * bursts) as f64
    );
    let burst_latency =
        latest(&received, "oewsprobe.burst.request.duration").expect("burst latency");
    assert_eq!(
        points(burst_latency).into_iter().map(count).sum::<u64>() as usize,
        2 * bursts
    );

    let burn = latest(&received, "oewsprobe.slo.burn_rate").expect("burn rate");
    let page = point_with(
        burn,
        &[
            ("oewsprobe.slo", "health"),
            ("oewsprobe.slo.tier", "page-1h"),
            ("oewsprobe.slo.window", "long"),
        ],
    )
    .expect("page-1h long");
    assert_eq!(number(page), 0.0, "nothing failed");
    let budget = latest(&received, "oewsprobe.slo.error_budget.remaining").expect("budget");
    assert_eq!(budget["unit"], "1");
    assert_eq!(
        number(point_with(budget, &[("oewsprobe.slo", "health")]).expect("health")),
        1.0
    );
    let queries = latest(&received, "oewsprobe.budget.queries.remaining").expect("queries");
    assert_eq!(
        number(points(queries)[0]),
        4.0,
        "the default budget, nothing spent"
    );
    let watch = latest(&received, "oewsprobe.release.watch.active").expect("watch");
    assert_eq!(number(points(watch)[0]), 0.0, "no release");
}

#[test]
fn run_exports_every_run_over_http_protobuf() {
    assert_run_metrics("http/protobuf");
}

#[test]
fn run_exports_every_run_over_grpc() {
    assert_run_metrics("grpc");
}

#[test]
fn a_dead_receiver_never_slows_probing_and_export_resumes_when_it_returns() {
    let sim = SimProcess::start(&[]);
    let receiver = Receiver::start();
    let daemon = Daemon::start_with(
        &sim.url,
        &telemetry(&receiver, "http/protobuf", "200ms"),
        &[("health.toml", HEALTH)],
        &[],
        &[("OEWSPROBE_TEST_OTLP_TOKEN", "x")],
    );
    let has_runs = |r: &[Value]| latest(r, "oewsprobe.probe.runs").is_some();
    receiver.wait_for(Duration::from_secs(5), has_runs);
    let (http_port, grpc_port) = receiver.stop();

    let down_at = daemon.records();
    std::thread::sleep(Duration::from_millis(4_000));
    let while_down = daemon.records() - down_at;
    assert!(
        (3..=5).contains(&while_down),
        "one run a second goes on while the receiver is down: {while_down} in 4 s"
    );

    let receiver = Receiver::start_on(http_port, grpc_port);
    let back_at = daemon.records();
    let received = receiver.wait_for(Duration::from_secs(5), |r| {
        latest(r, "oewsprobe.probe.runs")
            .is_some_and(|m| sum_of(m, &[("oewsprobe.probe", "health")]) >= back_at as f64)
    });
    assert!(!received.is_empty());
    let (code, stderr, _store, _dir) = daemon.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let failed = stderr.matches("metrics export failed").count();
    assert_eq!(
        failed, 1,
        "one error line per minute, however many exports failed:\n{stderr}"
    );
    assert_eq!(
        stderr.matches("metrics export resumed").count(),
        1,
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_costs_probing_nothing_and_the_exit_waits_only_the_timeout() {
    let hung = support::servers::hung_server().await;
    let sim = SimProcess::start(&[]);
    let extra = format!(
        "[telemetry]\nendpoint = \"http://{hung}\"\nexport_interval = \"200ms\"\ntimeout = \"1s\"\n"
    );
    let (while_hung, code, stderr, stopped_in) = tokio::task::spawn_blocking(move || {
        let daemon = Daemon::start(&sim.url, &extra, &[("health.toml", HEALTH)]);
        std::thread::sleep(Duration::from_millis(1_500));
        let at = daemon.records();
        std::thread::sleep(Duration::from_millis(4_000));
        let while_hung = daemon.records() - at;
        let stopping = std::time::Instant::now();
        let (code, stderr, _store, _dir) = daemon.stop();
        (while_hung, code, stderr, stopping.elapsed())
    })
    .await
    .expect("daemon");
    assert!(
        (3..=5).contains(&while_hung),
        "one run a second while every export hangs: {while_hung} in 4 s"
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        stderr.matches("metrics export failed").count(),
        1,
        "{stderr}"
    );
    assert!(
        stopped_in < Duration::from_secs(6),
        "the final flush is bounded by the timeout: {stopped_in:?}"
    );
}
