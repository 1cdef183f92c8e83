//! Certificate checks of HTTPS probe runs against the simulator over TLS with rcgen certificates: days left
//! (warning and failure), expired, not yet valid, wrong name, unknown issuer — each with its exact finding —
//! and the trust settings that make a private CA, an IP target and `insecure` work; the `tls` phase.

mod support;

use oewsprobe::probe::{FailureClass, ProbeRecord, Verdict};
use support::certs::{ServerCert, TestCa, Validity};

/// A sim serving `cert`, and one health probe run against it with `probe_extra` (TOML) in its file.
async fn run_health(cert: &ServerCert, probe_extra: &str) -> ProbeRecord {
    let server = cert.serve().await;
    let text = format!("[request]\npath = \"/api/v1/health\"\n{probe_extra}");
    let dir = support::probe_dir(&[("health.toml", &text)]);
    let plan = support::plan(&server.base_url(), dir.path());
    let mut records = support::run_all(&plan).await;
    server.shutdown().await;
    records.pop().expect("one record")
}

/// `[tls]` trusting `ca` (written into `dir`).
fn trusting(ca: &TestCa, dir: &std::path::Path) -> String {
    format!(
        "[tls]\nca_file = \"{}\"\n",
        ca.write(dir, "ca.pem").display()
    )
}

fn at(validity: &Validity) -> (String, String) {
    (
        oewsprobe::tls::utc_text(validity.not_before.unix_timestamp()),
        oewsprobe::tls::utc_text(validity.not_after.unix_timestamp()),
    )
}

fn only_finding(r: &ProbeRecord, class: FailureClass) -> String {
    assert_eq!((r.verdict, r.class), (Verdict::Fail, Some(class)), "{r:?}");
    assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
    r.findings[0].message.clone()
}

#[tokio::test]
async fn twenty_days_left_passes_with_a_warning_and_records_the_handshake() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = TestCa::new("tls test root");
    let intermediate = root.intermediate("tls test intermediate");
    let validity = Validity::days(-1, 20);
    let cert = intermediate.issue(&["127.0.0.1"], validity);
    let r = run_health(&cert, &trusting(&root, dir.path())).await;
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.findings);
    let (_, until) = at(&validity);
    let warnings: Vec<&str> = r.warnings().iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        warnings,
        [format!(
            "tls: certificate for 127.0.0.1 expires in 20 days ({until}), warning below 30"
        )]
    );
    let tls = r.tls.as_ref().expect("TLS facts");
    assert_eq!(tls.name, "127.0.0.1");
    assert_eq!(tls.version.as_deref(), Some("1.3"));
    assert_eq!(tls.cipher.as_deref(), Some("TLS13_AES_256_GCM_SHA384"));
    let subjects: Vec<&str> = tls
        .certificates
        .iter()
        .map(|c| c.subject.as_str())
        .collect();
    assert_eq!(subjects, ["CN=127.0.0.1", "CN=tls test intermediate"]);
    assert_eq!(tls.certificates[0].names, ["127.0.0.1"]);
    assert!(!tls.insecure);
    // The phases: no DNS for an IP, TCP then TLS, and together no more than the total.
    let t = &r.timings;
    assert_eq!(t.dns, None);
    let (connect, handshake) = (t.connect.expect("connect"), t.tls.expect("tls"));
    let first_byte = t.first_byte.expect("first byte");
    assert!(connect + handshake <= first_byte, "{t:?}");
    assert!(first_byte <= t.total, "{t:?}");
}

#[tokio::test]
async fn five_days_left_fails_below_the_default_minimum_and_warns_above_a_lower_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = TestCa::new("tls test CA");
    let validity = Validity::days(-1, 5);
    let cert = ca.issue(&["127.0.0.1"], validity);
    let (_, until) = at(&validity);
    let r = run_health(&cert, &trusting(&ca, dir.path())).await;
    assert_eq!(
        only_finding(&r, FailureClass::Tls),
        format!("tls: certificate for 127.0.0.1 expires in 5 days ({until}), expected at least 14")
    );
    let lower = format!(
        "{}[expect.tls]\nmin_days_left = 3\nwarn_days_left = 30\n",
        trusting(&ca, dir.path())
    );
    let r = run_health(&cert, &lower).await;
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.findings);
    assert_eq!(
        r.warnings()[0].message,
        format!("tls: certificate for 127.0.0.1 expires in 5 days ({until}), warning below 30")
    );
}

#[tokio::test]
async fn expired_and_not_yet_valid_certificates_fail_as_tls_with_their_dates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = TestCa::new("tls test CA");
    let trust = trusting(&ca, dir.path());
    let expired = Validity::days(-30, -3);
    let r = run_health(&ca.issue(&["127.0.0.1"], expired), &trust).await;
    assert_eq!(
        only_finding(&r, FailureClass::Tls),
        format!(
            "tls: certificate for 127.0.0.1 expired 3 days ago ({})",
            at(&expired).1
        )
    );
    let early = Validity::days(4, 90);
    let r = run_health(&ca.issue(&["127.0.0.1"], early), &trust).await;
    assert_eq!(
        only_finding(&r, FailureClass::Tls),
        format!(
            "tls: certificate for 127.0.0.1 is not valid until {} (in 4 days)",
            at(&early).0
        )
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_or_from_an_unknown_issuer_fails_as_tls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = TestCa::new("tls test CA");
    let other = ca.issue(&["api.example", "www.example"], Validity::normal());
    let r = run_health(&other, &trusting(&ca, dir.path())).await;
    assert_eq!(
        only_finding(&r, FailureClass::Tls),
        "tls: certificate is not valid for 127.0.0.1: it names api.example, www.example"
    );
    let r = run_health(&ca.issue(&["127.0.0.1"], Validity::normal()), "").await;
    assert_eq!(
        only_finding(&r, FailureClass::Tls),
        "tls: certificate for 127.0.0.1 is from an unknown issuer (CN=tls test CA); trust its CA with tls.ca_file"
    );
}

#[tokio::test]
async fn server_name_verifies_an_ip_target_and_insecure_accepts_anything_but_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = TestCa::new("tls test CA");
    let cert = ca.issue(&["api.example"], Validity::normal());
    let named = format!(
        "{}server_name = \"api.example\"\n",
        trusting(&ca, dir.path())
    );
    let r = run_health(&cert, &named).await;
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.findings);
    let tls = r.tls.as_ref().expect("TLS facts");
    assert_eq!((tls.name.as_str(), tls.insecure), ("api.example", false));
    let r = run_health(&cert, "[tls]\ninsecure = true\n").await;
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.findings);
    assert!(r.tls.as_ref().expect("TLS facts").insecure);
}

/// A one-connection HTTPS server on loopback (TLS 1.2 and 1.3) that notes the SNI of the client hello and the
/// `Host` it was asked for, and answers `{"status":"healthy"}` over HTTP/1.1.
async fn sni_server(
    cert: &ServerCert,
) -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<(String, String)>,
) {
    sni_server_speaking(cert, rustls::ALL_VERSIONS).await
}

/// [`sni_server`] speaking only `versions`.
async fn sni_server_speaking(
    cert: &ServerCert,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<(String, String)>,
) {
    use rustls::pki_types::pem::PemObject as _;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let key =
        rustls::pki_types::PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).expect("key");
    let mut config = rustls::ServerConfig::builder_with_protocol_versions(versions)
        .with_no_client_auth()
        .with_single_cert(cert.chain.clone(), key)
        .expect("server config");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let config = std::sync::Arc::new(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let serving = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let acceptor =
            tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), tcp);
        let start = acceptor.await.expect("client hello");
        let sni = start.client_hello().server_name().unwrap_or("").to_string();
        let mut tls = start.into_stream(config).await.expect("handshake");
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tls.read(&mut buf).await.expect("read");
            assert!(n > 0, "request cut off");
            request.extend_from_slice(&buf[..n]);
        }
        let body = r#"{"status":"healthy"}"#;
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        tls.write_all(answer.as_bytes()).await.expect("write");
        tls.shutdown().await.expect("close");
        let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
        let host = text
            .lines()
            .find_map(|l| l.strip_prefix("host: "))
            .unwrap_or("")
            .to_string();
        (sni, host)
    });
    (addr, serving)
}

#[tokio::test]
async fn server_name_is_sent_as_sni_and_host_to_an_ip_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = TestCa::new("tls test CA");
    let cert = ca.issue(&["api.example"], Validity::normal());
    let (addr, serving) = sni_server(&cert).await;
    let text = format!(
        "[request]\npath = \"/api/v1/health\"\n{}server_name = \"api.example\"\n",
        trusting(&ca, dir.path())
    );
    let probes = support::probe_dir(&[("health.toml", &text)]);
    let plan = support::plan(&format!("https://{addr}"), probes.path());
    let r = support::run_all(&plan).await.pop().expect("one record");
    assert_eq!(r.verdict, Verdict::Pass, "{:?}", r.findings);
    let (sni, host) = serving.await.expect("server");
    assert_eq!(sni, "api.example");
    assert_eq!(host, format!("api.example:{}", addr.port()));
    assert_eq!(
        r.request.expect("request line").url,
        format!("https://{addr}/api/v1/health")
    );
}

#[tokio::test]
async fn a_protocol_older_than_min_version_fails_as_tls_and_the_default_accepts_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = TestCa::new("tls test CA");
    let cert = ca.issue(&["127.0.0.1"], Validity::normal());
    let run = |expect: &'static str| {
        let (ca, cert, dir) = (&ca, &cert, dir.path());
        async move {
            let (addr, serving) = sni_server_speaking(cert, &[&rustls::version::TLS12]).await;
            let text = format!(
                "[request]\npath = \"/api/v1/health\"\n{}{expect}",
                trusting(ca, dir)
            );
            let probes = support::probe_dir(&[("health.toml", &text)]);
            let plan = support::plan(&format!("https://{addr}"), probes.path());
            let r = support::run_all(&plan).await.pop().expect("one record");
            serving.await.expect("server");
            r
        }
    };
    let older = run("[expect.tls]\nmin_version = \"1.3\"\n").await;
    assert_eq!(
        only_finding(&older, FailureClass::Tls),
        "tls: protocol TLS 1.2, expected at least TLS 1.3"
    );
    assert_eq!(
        older.tls.as_ref().and_then(|t| t.version.as_deref()),
        Some("1.2")
    );
    let default = run("").await;
    assert_eq!(default.verdict, Verdict::Pass, "{:?}", default.findings);
    assert_eq!(
        default.tls.as_ref().and_then(|t| t.version.as_deref()),
        Some("1.2")
    );
}
