//! Transport failures against real local servers: Caddy's 502, a hung server, refused connections, cut and
//! oversized bodies, TLS spoken to a plain-HTTP port. Each gets its class; nothing panics.

mod support;

use oewsprobe::probe::{FailureClass, ProbeRecord, Verdict};
use oewsprobe::sim::Profile;
use std::time::Duration;
use support::servers::*;
use support::*;

const GET_JSON: &str = r#"
[request]
path = "/api/v1/health"
timeout = "1500ms"
connect_timeout = "500ms"
[expect]
status = 200
max_body = "1KiB"
[[expect.json]]
path = "$.status"
equals = "healthy"
"#;

async fn probe_once(target: &str) -> ProbeRecord {
    let dir = probe_dir(&[("p.toml", GET_JSON)]);
    let records = run_all(&plan(target, dir.path())).await;
    records.into_iter().next().expect("one record")
}

fn assert_failed(r: &ProbeRecord, class: FailureClass) {
    assert_eq!(
        (r.verdict, r.class),
        (Verdict::Fail, Some(class)),
        "{:?}",
        r.findings
    );
    assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
}

#[tokio::test]
async fn caddy_in_front_of_a_stopped_simulator_is_proxy_bad_gateway() {
    let sim = start_sim(Profile::Runbook, &[]).await;
    let upstream = sim.addr();
    sim.shutdown().await;
    let caddy = caddy_proxy_to(upstream);
    let r = probe_once(&format!("http://127.0.0.1:{}", caddy.port)).await;
    assert_failed(&r, FailureClass::ProxyBadGateway);
    assert_eq!(r.status, Some(502));
    assert_eq!(
        r.findings[0].message,
        "GET /api/v1/health: expected 200, got 502 — the reverse proxy cannot reach the container: is it running and on the proxy's network (oews_default)?"
    );
}

#[tokio::test]
async fn caddy_in_front_of_a_running_simulator_passes() {
    let sim = start_sim(Profile::Runbook, &[]).await;
    let caddy = caddy_proxy_to(sim.addr());
    let r = probe_once(&format!("http://127.0.0.1:{}", caddy.port)).await;
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.findings);
}

#[tokio::test]
async fn a_hung_server_times_out_within_the_configured_timeout() {
    let addr = hung_server().await;
    let r = probe_once(&format!("http://{addr}")).await;
    assert_failed(&r, FailureClass::Timeout);
    assert!(r.latency >= Duration::from_millis(1500), "{:?}", r.latency);
    assert!(
        r.latency < Duration::from_millis(2500),
        "timeout plus a small margin: {:?}",
        r.latency
    );
    assert_eq!(
        r.findings[0].message,
        "transport: expected a response, got no complete response within 1.5s (no response headers) — no answer in time: cold start, overload, or a hung workflow"
    );
}

#[tokio::test]
async fn nothing_listening_is_connect_refused() {
    let r = probe_once(&format!("http://127.0.0.1:{}", free_port())).await;
    assert_failed(&r, FailureClass::ConnectRefused);
    assert!(
        r.findings[0].message.contains("connection refused"),
        "{}",
        r.findings[0].message
    );
    assert!(
        r.findings[0]
            .message
            .ends_with("— nothing listens at the target address")
    );
}

#[tokio::test]
async fn invalid_json_is_invalid_body() {
    let sim = start_sim(Profile::Runbook, &["invalid_json"]).await;
    let r = probe_once(&sim.base_url()).await;
    assert_failed(&r, FailureClass::InvalidBody);
}

#[tokio::test]
async fn a_body_cut_short_is_invalid_body() {
    let raw = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"status\": \"hea".to_vec();
    let r = probe_once(&format!("http://{}", raw_server(raw).await)).await;
    assert_failed(&r, FailureClass::InvalidBody);
    assert!(
        r.findings[0].message.contains("the body was cut off"),
        "{}",
        r.findings[0].message
    );
}

#[tokio::test]
async fn an_oversized_body_is_too_large_with_or_without_content_length() {
    let big = format!("{{\"status\": \"{}\"}}", "x".repeat(4000));
    let with_length = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{big}",
        big.len()
    );
    let chunked = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    );
    for raw in [with_length, chunked] {
        let r = probe_once(&format!("http://{}", raw_server(raw.into_bytes()).await)).await;
        assert_failed(&r, FailureClass::TooLarge);
        assert_eq!(
            r.findings[0].message,
            "size: expected at most 1024 bytes, got more than 1024 bytes"
        );
    }
}

#[tokio::test]
async fn tls_to_a_plain_http_port_is_tls() {
    let sim = start_sim(Profile::Runbook, &[]).await;
    let r = probe_once(&format!("https://{}", sim.addr())).await;
    assert_failed(&r, FailureClass::Tls);
}

#[tokio::test]
async fn a_full_accept_queue_is_connect_timeout() {
    // A listener that never accepts, with its backlog filled: the kernel drops further SYNs.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let addr = socket.local_addr().expect("addr");
    let _listener = socket.listen(0).expect("listen");
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) = tokio::time::timeout(
            Duration::from_millis(200),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            fillers.push(s);
        }
    }
    let r = probe_once(&format!("http://{addr}")).await;
    assert_failed(&r, FailureClass::ConnectTimeout);
    assert_eq!(
        r.findings[0].message,
        "transport: expected a response, got no connection within 500ms — the target address does not answer: host down or firewalled"
    );
}

#[tokio::test]
async fn an_untrusted_certificate_is_tls() {
    let caddy = caddy_tls_untrusted();
    let r = probe_once(&format!("https://127.0.0.1:{}", caddy.port)).await;
    assert_failed(&r, FailureClass::Tls);
    assert!(
        r.findings[0].message.contains("certificate"),
        "{}",
        r.findings[0].message
    );
}
