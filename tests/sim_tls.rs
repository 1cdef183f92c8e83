//! The simulator over HTTPS: the same routes over h2 and http/1.1 (ALPN) with a test CA's certificate, from
//! the library and from `oewsprobe sim --tls-cert --tls-key`, and the errors for unusable PEM files.

mod support;

use std::process::Command;
use std::time::Duration;

use oewsprobe::sim::{SimOptions, SimServer, SimTls};
use reqwest::Version;
use support::certs::{TestCa, Validity};
use support::process::{BIN, SimProcess};

/// A client trusting only `ca`; `http1` restricts ALPN to http/1.1, otherwise h2 is offered first.
fn client_trusting(ca: &TestCa, http1: bool) -> reqwest::Client {
    let root = reqwest::Certificate::from_pem(ca.cert_pem.as_bytes()).expect("CA PEM");
    let builder = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .tls_certs_only([root]);
    let builder = if http1 { builder.http1_only() } else { builder };
    builder.build().expect("client builds")
}

async fn start_tls(tls: SimTls) -> SimServer {
    SimServer::start_tls(([127, 0, 0, 1], 0).into(), SimOptions::default(), tls)
        .await
        .expect("simulator starts")
}

#[tokio::test]
async fn https_serves_the_routes_over_h2_and_http1_when_the_ca_is_trusted() {
    let ca = TestCa::new("sim test CA");
    let server = start_tls(ca.issue(&["127.0.0.1"], Validity::normal()).sim_tls()).await;
    let url = format!("{}/api/v1/health", server.base_url());
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    for (http1, version) in [(false, Version::HTTP_2), (true, Version::HTTP_11)] {
        let response = client_trusting(&ca, http1)
            .get(&url)
            .send()
            .await
            .expect("HTTPS request");
        assert_eq!(response.version(), version);
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.text().await.expect("body"),
            r#"{"status":"healthy"}"#
        );
    }
    assert_eq!(server.stats().requests.values().sum::<u64>(), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_ca_is_refused_and_plain_http_gets_no_answer() {
    let ca = TestCa::new("sim test CA");
    let server = start_tls(ca.issue(&["127.0.0.1"], Validity::normal()).sim_tls()).await;
    let other = TestCa::new("another CA");
    let error = client_trusting(&other, false)
        .get(format!("{}/api/v1/health", server.base_url()))
        .send()
        .await
        .expect_err("untrusted");
    assert!(format!("{error:?}").contains("UnknownIssuer"), "{error:?}");
    let plain = server.base_url().replacen("https://", "http://", 1);
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
        .get(format!("{plain}/api/v1/health"))
        .send()
        .await
        .expect_err("plain HTTP to an HTTPS port");
    assert_eq!(server.stats().requests.values().sum::<u64>(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn oewsprobe_sim_serves_https_from_pem_files_with_an_intermediate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = TestCa::new("sim test root");
    let intermediate = root.intermediate("sim test intermediate");
    let (cert, key) = intermediate
        .issue(&["127.0.0.1"], Validity::normal())
        .write(dir.path(), "server");
    let sim = SimProcess::start(&[
        "--tls-cert",
        cert.to_str().expect("utf-8 path"),
        "--tls-key",
        key.to_str().expect("utf-8 path"),
    ]);
    assert!(sim.url.starts_with("https://127.0.0.1:"), "{}", sim.url);
    let response = client_trusting(&root, false)
        .get(format!("{}/api/v1/health", sim.url))
        .send()
        .await
        .expect("HTTPS request");
    assert_eq!(response.version(), Version::HTTP_2);
    assert_eq!(response.status(), 200);
}

/// `oewsprobe sim ARGS` on a port nobody listens on; (exit code, stderr).
fn sim_fails(args: &[&str]) -> (Option<i32>, String) {
    let port = support::servers::free_port().to_string();
    let out = Command::new(BIN)
        .args(["sim", "--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .output()
        .expect("run oewsprobe sim");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unusable_certificate_or_key_files_name_the_flag_and_the_file_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = TestCa::new("sim test CA");
    let (cert, key) = ca
        .issue(&["127.0.0.1"], Validity::normal())
        .write(dir.path(), "server");
    let (_, other_key) = ca
        .issue(&["127.0.0.1"], Validity::normal())
        .write(dir.path(), "other");
    let text = dir.path().join("text.pem");
    std::fs::write(&text, "not PEM\n").expect("write");
    let path = |p: &std::path::Path| p.to_str().expect("utf-8 path").to_string();
    let (cert, key, other_key, text) = (path(&cert), path(&key), path(&other_key), path(&text));
    let cases: [([&str; 4], String); 5] = [
        (
            ["--tls-cert", "/nonexistent/cert.pem", "--tls-key", &key],
            "oewsprobe sim: --tls-cert: cannot read /nonexistent/cert.pem: No such file or directory (os error 2)\n"
                .to_string(),
        ),
        (
            ["--tls-cert", &cert, "--tls-key", "/nonexistent/key.pem"],
            "oewsprobe sim: --tls-key: cannot read /nonexistent/key.pem: No such file or directory (os error 2)\n"
                .to_string(),
        ),
        (
            ["--tls-cert", &text, "--tls-key", &key],
            format!(
                "oewsprobe sim: --tls-cert: {text}: no certificate in it (expected \"-----BEGIN CERTIFICATE-----\")\n"
            ),
        ),
        (
            ["--tls-cert", &cert, "--tls-key", &cert],
            format!(
                "oewsprobe sim: --tls-key: {cert}: no private key in it (expected \"-----BEGIN PRIVATE KEY-----\")\n"
            ),
        ),
        (
            ["--tls-cert", &cert, "--tls-key", &other_key],
            format!(
                "oewsprobe sim: --tls-key: {other_key} is not the private key of the certificate in {cert}\n"
            ),
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(sim_fails(&args), (Some(2), expected), "{args:?}");
    }
    let (code, stderr) = sim_fails(&["--tls-cert", &cert]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with(
            "error: the following required arguments were not provided:\n  --tls-key <FILE>\n"
        ),
        "{stderr}"
    );
}
