//! `oewsprobe burst` end to end against the simulator, plus the coordinated-omission property of the open
//! model against a local server that stalls once for a second, and transport failures under load. Every test
//! that talks to a server runs twice: over plain HTTP and over HTTPS (the simulator with `--tls-cert`, or a
//! TLS front before the test server; certificates from a test CA made with rcgen).

mod support;

use oewsprobe::load::{HttpChoice, LoadTransport, Progress, Shape, run_load};
use oewsprobe::probe::{Caller, PreparedRequest};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use support::certs::TestCa;
use support::process::{BIN, SimProcess};
use support::tls_front::{https_get, loopback_pki, tls_front, trusting};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Scheme {
    Http,
    Https,
}

/// The simulator over a scheme, with the test CA that signed its certificate over HTTPS.
struct Sim {
    process: SimProcess,
    url: String,
    tls: Option<(TestCa, PathBuf, tempfile::TempDir)>,
}

impl Sim {
    fn start(scheme: Scheme, extra: &[&str]) -> Sim {
        if scheme == Scheme::Http {
            let process = SimProcess::start(extra);
            let url = process.url.clone();
            return Sim {
                process,
                url,
                tls: None,
            };
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let (ca, ca_file, tls_args) = loopback_tls_files(dir.path());
        let mut args = extra.to_vec();
        args.extend(tls_args.iter().map(String::as_str));
        let process = SimProcess::start(&args);
        let url = process.url.clone();
        assert!(url.starts_with("https://"), "{url}");
        Sim {
            process,
            url,
            tls: Some((ca, ca_file, dir)),
        }
    }

    /// `oewsprobe burst` with `args`, trusting the test CA over HTTPS (the platform verifier reads its roots
    /// from SSL_CERT_FILE).
    fn burst(&self, args: &[&str]) -> Output {
        let mut command = burst_command(args);
        if let Some((_, ca_file, _)) = &self.tls {
            command.env("SSL_CERT_FILE", ca_file);
        }
        command.output().expect("run oewsprobe burst")
    }

    /// The simulator's `/__sim/stats`.
    fn stats(&self) -> serde_json::Value {
        let Some((ca, _, _)) = &self.tls else {
            return self.process.stats();
        };
        let body = https_get(
            self.url.trim_start_matches("https://"),
            "/__sim/stats",
            &ca.cert,
        );
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("stats JSON ({e}): {body}"))
    }
}

fn burst_command(args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("burst")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("OEWSPROBE_TARGET")
        .env_remove("SSL_CERT_FILE");
    command
}

/// A test CA and a certificate it issued for 127.0.0.1 and `localhost`, written into `dir`: the CA, its PEM
/// file, and the simulator's arguments that serve the certificate.
fn loopback_tls_files(dir: &std::path::Path) -> (TestCa, PathBuf, [String; 4]) {
    let (ca, cert) = loopback_pki();
    let (cert_file, key_file) = cert.write(dir, "sim");
    let ca_file = ca.write(dir, "ca.pem");
    let args = [
        "--tls-cert".to_string(),
        cert_file.display().to_string(),
        "--tls-key".to_string(),
        key_file.display().to_string(),
    ];
    (ca, ca_file, args)
}

fn burst(args: &[&str]) -> Output {
    burst_command(args).output().expect("run oewsprobe burst")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn line<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no {label} line in:\n{text}"))
}

/// Each named test function, taking a [`Scheme`], as a test over HTTP and a test over HTTPS.
macro_rules! over_http_and_https {
    ($($test:ident),* $(,)?) => {
        mod over_http {
            $(#[test]
            fn $test() {
                super::$test(super::Scheme::Http)
            })*
        }
        mod over_https {
            $(#[test]
            fn $test() {
                super::$test(super::Scheme::Https)
            })*
        }
    };
}

over_http_and_https!(
    three_at_once_against_the_simulator_pass,
    the_summary_names_the_http_version_spoken,
    slow_responses_over_the_slo_fail_and_are_named,
    failures_are_counted_by_class,
    throttled_runs_are_inconclusive_and_exit_2,
    the_budget_refuses_before_sending_anything,
    the_hgrm_file_is_the_hdrhistogram_percentile_format,
);

fn three_at_once_against_the_simulator_pass(scheme: Scheme) {
    let sim = Sim::start(scheme, &["--latency", "50ms"]);
    let out = sim.burst(&["-n", "3", "--target", &sim.url]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        text.lines().next(),
        Some(
            format!(
                "oewsprobe burst: query-trace → POST {}/api/v1/query",
                sim.url
            )
            .as_str()
        )
    );
    assert_eq!(line(&text, "model"), "model        3 at once");
    assert_eq!(
        line(&text, "requests"),
        "requests     3: 3 passed, 0 failed, 0 inconclusive"
    );
    assert_eq!(
        line(&text, "SLO"),
        "SLO 30s      PASS — every request passed and took at most 30s"
    );
}

fn the_summary_names_the_http_version_spoken(scheme: Scheme) {
    let sim = Sim::start(scheme, &[]);
    let health = ["-n", "1", "--probe", "health", "--target", &sim.url];
    let http_line = |extra: &[&str]| {
        let out = sim.burst(&[&health[..], extra].concat());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        line(&stdout(&out), "http").to_string()
    };
    let version = |extra: &[&str]| {
        let out = sim.burst(&[&health[..], extra, &["--format", "json"]].concat());
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        (doc["http_version"].clone(), doc["connections"].clone())
    };
    let one = serde_json::json!({"opened": 1, "tls_handshakes": 0, "tls_resumed": 0});
    let one_tls = serde_json::json!({"opened": 1, "tls_handshakes": 1, "tls_resumed": 0});
    match scheme {
        Scheme::Http => {
            assert_eq!(http_line(&[]), "http         HTTP/1.1 — 1 connection");
            assert_eq!(version(&[]), ("HTTP/1.1".into(), one));
        }
        Scheme::Https => {
            // The simulator offers h2 and http/1.1 by ALPN: HTTP/2 unless --http1.
            assert_eq!(
                http_line(&[]),
                "http         HTTP/2 over TLS — 1 connection, 0 of 1 TLS handshakes resumed"
            );
            assert_eq!(
                http_line(&["--http1"]),
                "http         HTTP/1.1 over TLS — 1 connection, 0 of 1 TLS handshakes resumed"
            );
            assert_eq!(version(&["--http2"]), ("HTTP/2".into(), one_tls.clone()));
            assert_eq!(version(&["--http1"]), ("HTTP/1.1".into(), one_tls));
        }
    }
}

fn slow_responses_over_the_slo_fail_and_are_named(scheme: Scheme) {
    let sim = Sim::start(scheme, &["--fault", "slow=300ms"]);
    let out = sim.burst(&["-n", "3", "--target", &sim.url, "--slo", "100ms"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(
        line(&text, "requests"),
        "requests     3: 3 passed, 0 failed, 0 inconclusive"
    );
    let slo = line(&text, "SLO");
    assert!(
        slo.starts_with("SLO 100ms    FAIL — 3 of 3 requests over 100ms: #1 "),
        "{slo}"
    );
    // Each named with its latency: the 300 ms of the fault, plus connecting (a TLS handshake over HTTPS).
    let named: Vec<(&str, f64)> = slo
        .split_once(": ")
        .map_or("", |(_, list)| list)
        .split(", ")
        .map(|item| {
            let (number, ms) = item.split_once(' ').unwrap_or_default();
            let ms = ms.strip_suffix("ms").and_then(|v| v.parse().ok());
            (number, ms.unwrap_or_else(|| panic!("{item} in {slo}")))
        })
        .collect();
    assert_eq!(
        named.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        ["#1", "#2", "#3"],
        "{slo}"
    );
    assert!(named.iter().all(|(_, ms)| *ms >= 300.0), "{slo}");
}

fn failures_are_counted_by_class(scheme: Scheme) {
    let sim = Sim::start(scheme, &["--fault", "error500"]);
    let out = sim.burst(&["-n", "3", "--target", &sim.url]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(
        line(&text, "requests"),
        "requests     3: 0 passed, 3 failed, 0 inconclusive"
    );
    assert_eq!(
        line(&text, "failed"),
        "failed       server_error 3 — e.g. #1: POST /api/v1/query: expected 200, got 500 — body: {\"detail\":\"Workflow execution failed: simulated fault\"}"
    );
    assert_eq!(
        line(&text, "queries"),
        "queries      3 spent of 3 declared",
        "a 500 may have reached the workflow: spent"
    );
    assert_eq!(
        line(&text, "SLO"),
        "SLO 30s      FAIL — 3 of 3 requests failed"
    );

    let sim = Sim::start(scheme, &["--fault", "no_echo"]);
    let out = sim.burst(&[
        "-n",
        "4",
        "--target",
        &sim.url,
        "--probe",
        "override-reasoning",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["failed"], serde_json::json!({"contract": 4}));
    assert_eq!(doc["passed"], 0);
    assert_eq!(doc["verdict"], "fail");
    assert!(
        doc["examples"]["contract"]["finding"]
            .as_str()
            .unwrap_or_default()
            .ends_with("override not echoed")
    );
}

fn throttled_runs_are_inconclusive_and_exit_2(scheme: Scheme) {
    let sim = Sim::start(scheme, &["--fault", "rate_limited"]);
    let out = sim.burst(&["-n", "2", "--target", &sim.url]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert_eq!(
        line(&text, "requests"),
        "requests     2: 0 passed, 0 failed, 2 inconclusive"
    );
    assert_eq!(
        line(&text, "inconclusive"),
        "inconclusive throttled 2 — e.g. #1: POST /api/v1/query: expected 200, got 429 — rate limited (10 \
         queries/hour per client): wait before trying again, or spend fewer queries — body: {\"error\":\"Rate \
         limit exceeded: 10 per 1 hour\"}"
    );
    assert_eq!(
        line(&text, "queries"),
        "queries      0 spent of 2 declared (a 429, a 422 or a request that never connected spends none)"
    );
}

fn the_budget_refuses_before_sending_anything(scheme: Scheme) {
    let sim = Sim::start(scheme, &[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("oewsprobe.toml");
    let probes = support::shipped_probes();
    std::fs::write(
        &config,
        "[budget]\nqueries_per_hour = 4\nexempt_loopback = false\n",
    )
    .expect("write");
    let out = sim.burst(&[
        "-n",
        "5",
        "--target",
        &sim.url,
        "--config",
        &config.display().to_string(),
        "--probes",
        &probes.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("refused: this burst would spend 5 valid queries against {}, over the query budget of 4 per hour", sim.url)),
        "{stderr}"
    );
    let stats = sim.stats();
    assert_eq!(stats["valid_queries"], 0, "nothing was sent");
    let out = sim.burst(&[
        "-n",
        "4",
        "--target",
        &sim.url,
        "--config",
        &config.display().to_string(),
        "--probes",
        &probes.display().to_string(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "within the budget: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn the_hgrm_file_is_the_hdrhistogram_percentile_format(scheme: Scheme) {
    let sim = Sim::start(scheme, &[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("latency.hgrm");
    // 5 valid queries, over the default budget of 4: the budget applies to loopback targets too.
    let out = sim.burst(&[
        "-n",
        "5",
        "--force",
        "--target",
        &sim.url,
        "--hgrm",
        &path.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(&path).expect("hgrm written");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "       Value     Percentile TotalCount 1/(1-Percentile)"
    );
    assert_eq!(lines[1], "");
    assert!(
        lines[2].contains(" 0.000000000000          1 "),
        "{}",
        lines[2]
    );
    let last_value_line = lines
        .iter()
        .rev()
        .find(|l| !l.starts_with('#'))
        .expect("a value line");
    assert!(
        last_value_line.contains(" 1.000000000000          5"),
        "{last_value_line}"
    );
    assert!(
        lines[lines.len() - 2].starts_with("#[Max     = ")
            && lines[lines.len() - 2].ends_with("Total count    =            5]")
    );
    assert_eq!(
        lines[lines.len() - 1],
        "#[Buckets =           22, SubBuckets     =         2048]"
    );
}

#[test]
fn contradictory_flags_exit_2() {
    let out = burst(&["--rate", "5", "--target", "http://127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "--rate and --concurrency need --duration (or use -n N for N requests at once)\n"
    );
    assert_eq!(
        burst(&["-n", "0", "--target", "http://127.0.0.1:9"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        burst(&["-n", "3", "--duration", "1s"]).status.code(),
        Some(2)
    );
}

/// A probe written for HTTP/1.1 with connection-specific headers (which HTTP/2 forbids) still passes when the
/// server speaks HTTP/2: those headers are left out there, the others sent.
#[test]
fn a_probe_s_connection_headers_are_left_out_over_http2() {
    let sim = Sim::start(Scheme::Https, &[]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("keepalive.toml"),
        "[request]\npath = \"/api/v1/health\"\nheaders = { Connection = \"keep-alive\", \"Keep-Alive\" = \
         \"timeout=5\", \"X-Request-Source\" = \"oewsprobe\" }\n[expect]\nstatus = 200\n",
    )
    .expect("probe file");
    let probes = dir.path().display().to_string();
    for version in ["--http2", "--http1"] {
        let out = sim.burst(&[
            "-n",
            "2",
            "--probes",
            &probes,
            "--probe",
            "keepalive",
            "--target",
            &sim.url,
            version,
            "--format",
            "json",
        ]);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(
            (out.status.code(), &doc["passed"]),
            (Some(0), &serde_json::json!(2)),
            "{version}: {doc:#}"
        );
    }
}

/// `--threads N` spreads the workers over N lanes whose statistics add up; 0 and more than 256 are refused.
/// Each response takes 300 ms, so every one of the five workers sends one request on its own connection.
#[test]
fn threads_share_the_workers_and_their_statistics_add_up() {
    let sim = SimProcess::start(&["--fault", "slow=300ms"]);
    let out = burst(&[
        "-n",
        "5",
        "--threads",
        "2",
        "--probe",
        "health",
        "--target",
        &sim.url,
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(
        (
            &doc["requests"],
            &doc["passed"],
            &doc["connections"]["opened"]
        ),
        (
            &serde_json::json!(5),
            &serde_json::json!(5),
            &serde_json::json!(5)
        ),
        "{doc:#}"
    );
    for bad in ["0", "257"] {
        let out = burst(&["-n", "1", "--threads", bad, "--target", &sim.url]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with(&format!(
                "error: invalid value '{bad}' for '--threads <N>': {bad} is not in 1..=256"
            )),
            "{stderr}"
        );
    }
}

/// A server that answers `{"status":"healthy"}` at once, except that request number `stall_at` holds a
/// server-wide lock for one second, stalling everything behind it.
async fn stalling_server(stall_at: u64) -> std::net::SocketAddr {
    use axum::{Router, routing::get};
    let count = Arc::new(AtomicU64::new(0));
    let gate = Arc::new(tokio::sync::Mutex::new(()));
    let app = Router::new().route(
        "/api/v1/health",
        get(move || {
            let (count, gate) = (count.clone(), gate.clone());
            async move {
                let _held = gate.lock().await;
                if count.fetch_add(1, Ordering::SeqCst) + 1 == stall_at {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                axum::Json(serde_json::json!({"status": "healthy"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    addr
}

/// A target for `addr`'s plain HTTP server: itself over HTTP, or a TLS front before it over HTTPS, with the
/// transport that trusts the front's certificate.
async fn target(scheme: Scheme, addr: SocketAddr) -> (String, LoadTransport) {
    match scheme {
        Scheme::Http => (
            format!("http://{addr}"),
            LoadTransport::new(
                HttpChoice::Negotiate,
                oewsprobe::tls::TlsSettings::default(),
            ),
        ),
        Scheme::Https => {
            let (ca, cert) = loopback_pki();
            let front = tls_front(addr, &cert).await;
            (
                format!("https://{front}"),
                LoadTransport::with_tls_config(HttpChoice::Negotiate, trusting(&ca.cert)),
            )
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_p99_reflects_a_one_second_stall_over_http() {
    open_model_p99_reflects_a_one_second_stall_that_the_uncorrected_figure_hides(Scheme::Http).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_p99_reflects_a_one_second_stall_over_https() {
    open_model_p99_reflects_a_one_second_stall_that_the_uncorrected_figure_hides(Scheme::Https)
        .await
}

async fn open_model_p99_reflects_a_one_second_stall_that_the_uncorrected_figure_hides(
    scheme: Scheme,
) {
    let (target, transport) = target(scheme, stalling_server(50).await).await;
    let plan = support::plan(&target, &support::shipped_probes());
    let spec = plan
        .probes
        .into_iter()
        .find(|p| p.name == "health")
        .expect("health probe");
    let request = PreparedRequest::new(&spec.request, &plan.settings.target).expect("prepared");
    let shape = Shape::Open {
        rate: 100.0,
        duration: Duration::from_secs(3),
        max_in_flight: 1,
    };
    let run = run_load(
        Arc::new(spec),
        Arc::new(request),
        shape,
        &transport,
        Duration::from_secs(30),
        Arc::new(Progress::default()),
        Caller::OneShot,
    )
    .await
    .expect("run");
    let stats = &run.stats;
    assert_eq!(stats.requests, 300);
    assert_eq!(stats.passed, 300);
    let p99 = Duration::from_micros(stats.latency.value_at_quantile(0.99));
    let p99_uncorrected = Duration::from_micros(stats.service_time.value_at_quantile(0.99));
    // ~100 requests were due during the stall: their waits, up to 1 s, are in the corrected p99 ...
    assert!(p99 >= Duration::from_millis(900), "corrected p99 {p99:?}");
    // ... while only one request was slow once it started: the uncorrected p99 does not see the stall.
    assert!(
        p99_uncorrected < Duration::from_millis(200),
        "uncorrected p99 {p99_uncorrected:?}"
    );
    assert!(
        stats.service_time.max() >= 1_000_000,
        "the stalled request itself took a second"
    );
    assert!(
        stats.late_starts >= 80,
        "requests due during the stall started late: {}",
        stats.late_starts
    );
}

/// Runs `n` requests at once of a health-style probe with a short timeout against `target` over `transport`.
async fn burst_at(target: &str, transport: &LoadTransport, n: u64) -> oewsprobe::load::LoadStats {
    let dir = support::probe_dir(&[(
        "p.toml",
        "[request]\npath = \"/api/v1/health\"\ntimeout = \"700ms\"\nconnect_timeout = \"300ms\"\n[expect]\nstatus = 200\n[[expect.json]]\npath = \"$.status\"\nequals = \"healthy\"\n",
    )]);
    let plan = support::plan(target, dir.path());
    let spec = plan.probes.into_iter().next().expect("one probe");
    let request = PreparedRequest::new(&spec.request, &plan.settings.target).expect("prepared");
    run_load(
        Arc::new(spec),
        Arc::new(request),
        Shape::Once { n },
        transport,
        Duration::from_secs(5),
        Arc::new(Progress::default()),
        Caller::OneShot,
    )
    .await
    .expect("run")
    .stats
}

#[tokio::test]
async fn transport_failures_under_load_get_their_class_over_http() {
    transport_failures_under_load_get_their_class(Scheme::Http).await
}

#[tokio::test]
async fn transport_failures_under_load_get_their_class_over_https() {
    transport_failures_under_load_get_their_class(Scheme::Https).await
}

async fn transport_failures_under_load_get_their_class(scheme: Scheme) {
    use oewsprobe::probe::FailureClass;
    use support::servers::{free_port, hung_server, raw_server};
    let at = |addr: SocketAddr, n: u64| async move {
        let (target, transport) = target(scheme, addr).await;
        burst_at(&target, &transport, n).await
    };
    let nothing: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
    let refused = match scheme {
        Scheme::Http => at(nothing, 3).await,
        // Nothing listens: no TLS front either.
        Scheme::Https => {
            let (_, transport) = target(scheme, nothing).await;
            burst_at(&format!("https://{nothing}"), &transport, 3).await
        }
    };
    assert_eq!(refused.failed.get(&FailureClass::ConnectRefused), Some(&3));
    let hung = at(hung_server().await, 2).await;
    assert_eq!(hung.failed.get(&FailureClass::Timeout), Some(&2));
    assert!(
        hung.latency.max() < 1_500_000,
        "the timeout holds under load"
    );
    let cut = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"status\": \"hea".to_vec();
    let cut = at(raw_server(cut).await, 2).await;
    assert_eq!(cut.failed.get(&FailureClass::InvalidBody), Some(&2));
    let bad_json = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nnope!".to_vec();
    let bad_json = at(raw_server(bad_json).await, 2).await;
    assert_eq!(bad_json.failed.get(&FailureClass::InvalidBody), Some(&2));
    let gateway =
        b"HTTP/1.1 502 Bad Gateway\r\nserver: Caddy\r\ncontent-length: 0\r\n\r\n".to_vec();
    let gateway = at(raw_server(gateway).await, 2).await;
    assert_eq!(gateway.failed.get(&FailureClass::ProxyBadGateway), Some(&2));
}

/// `tls.server_name` on an IP target names the certificate, not the address: `check` and `burst` dial the IP.
/// The simulator listens on 127.0.0.2 only, and the name (`localhost`) resolves to 127.0.0.1 and ::1, where
/// nothing listens on that port: a client that dialled the name would be refused. The requests pass, so they
/// reached the simulator and its certificate was verified for `localhost` (it is not issued for 127.0.0.2).
#[test]
fn an_ip_target_named_by_tls_server_name_is_dialled_at_its_address() {
    let port = support::servers::free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let (_ca, ca_file, tls_args) = loopback_tls_files(dir.path());
    let tls_args: Vec<&str> = tls_args.iter().map(String::as_str).collect();
    let sim = SimProcess::start_on(&format!("127.0.0.2:{port}"), &tls_args);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "something listens on 127.0.0.1:{port}: the test could not tell the name from the address"
    );
    let probes = dir.path().join("probes");
    std::fs::create_dir(&probes).expect("probes dir");
    std::fs::write(
        probes.join("named.toml"),
        format!(
            "[request]\npath = \"/api/v1/health\"\n[expect]\nstatus = 200\n[tls]\nca_file = \"{}\"\n\
             server_name = \"localhost\"\n",
            ca_file.display()
        ),
    )
    .expect("probe file");
    let probes = probes.display().to_string();
    let burst = burst(&[
        "-n", "2", "--probes", &probes, "--probe", "named", "--target", &sim.url, "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&burst.stdout).expect("burst json");
    assert_eq!(
        (burst.status.code(), &doc["passed"], &doc["failed"]),
        (Some(0), &serde_json::json!(2), &serde_json::json!({})),
        "{doc:#}"
    );
    let check = Command::new(BIN)
        .args([
            "check", "--probes", &probes, "--target", &sim.url, "--format", "json",
        ])
        .output()
        .expect("run oewsprobe check");
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

/// A burst trusts as its probe's `[tls]` says: `ca_file` makes the simulator's private CA work (no
/// `SSL_CERT_FILE`), without it the certificate's issuer is unknown, and `insecure` verifies nothing and says
/// so first, in the table and in the JSON.
#[test]
fn a_burst_over_https_trusts_as_its_probe_s_tls_says() {
    let sim = Sim::start(Scheme::Https, &[]);
    let (_, ca_file, _) = sim.tls.as_ref().expect("the test CA");
    let dir = tempfile::tempdir().expect("tempdir");
    let health = "[request]\npath = \"/api/v1/health\"\n[expect]\nstatus = 200\n";
    let probes = [
        (
            "trusting.toml",
            format!("{health}[tls]\nca_file = \"{}\"\n", ca_file.display()),
        ),
        ("plain.toml", health.to_string()),
        ("insecure.toml", format!("{health}[tls]\ninsecure = true\n")),
        (
            "named.toml",
            format!(
                "{health}[tls]\nca_file = \"{}\"\nserver_name = \"localhost\"\n",
                ca_file.display()
            ),
        ),
    ];
    for (name, text) in &probes {
        std::fs::write(dir.path().join(name), text).expect("probe file");
    }
    let probes_dir = dir.path().display().to_string();
    let run = |probe: &str, format: &str| {
        burst(&[
            "-n",
            "2",
            "--probes",
            &probes_dir,
            "--probe",
            probe,
            "--target",
            &sim.url,
            "--format",
            format,
        ])
    };
    let trusted = run("trusting", "table");
    assert_eq!(trusted.status.code(), Some(0), "{}", stdout(&trusted));
    assert!(stdout(&trusted).starts_with("oewsprobe burst: trusting → GET "));
    // The IP target verified as `localhost`, a name its certificate carries.
    let named = run("named", "json");
    assert_eq!(named.status.code(), Some(0), "{}", stdout(&named));
    let unknown = run("plain", "json");
    assert_eq!(unknown.status.code(), Some(1), "{}", stdout(&unknown));
    let doc: serde_json::Value = serde_json::from_slice(&unknown.stdout).expect("json");
    assert_eq!(doc["failed"], serde_json::json!({"tls": 2}), "{doc:#}");
    let warning = "WARNING: tls.insecure = true: the server's certificate is NOT verified (anyone on the path \
                   can impersonate it)";
    let insecure = run("insecure", "table");
    assert_eq!(insecure.status.code(), Some(0), "{}", stdout(&insecure));
    assert!(
        stdout(&insecure).starts_with(&format!("{warning}\noewsprobe burst: insecure → GET ")),
        "{}",
        stdout(&insecure)
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&run("insecure", "json").stdout).expect("json");
    assert_eq!(doc["warnings"], serde_json::json!([warning]));
}
