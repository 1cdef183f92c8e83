//! The TLS metrics of an HTTPS `check` against a real OTLP receiver (`tests/otlp_receiver.py`): the `tls`
//! phase, `tls.protocol.version` on the request duration, and each certificate's expiry gauge.

mod support;

use std::process::Command;
use support::certs::{TestCa, Validity};
use support::otlp::{self, Receiver, attributes, count, number, point_with};
use support::process::{BIN, SimProcess};

#[test]
fn an_https_check_exports_the_tls_phase_version_and_each_certificates_expiry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = TestCa::new("metrics root");
    let intermediate = root.intermediate("metrics intermediate");
    let (cert, key) = intermediate
        .issue(&["127.0.0.1"], Validity::days(-1, 20))
        .write(dir.path(), "server");
    let sim = SimProcess::start_tls(&cert, &key);
    let receiver = Receiver::start();
    let probes = support::probe_dir(&[("health.toml", "[request]\npath = \"/api/v1/health\"\n")]);
    let config = dir.path().join("metrics.conf");
    std::fs::write(
        &config,
        format!(
            "probes_dir = \"{}\"\n[tls]\nca_file = \"{}\"\n[telemetry]\nendpoint = \"{}\"\n\
             protocol = \"http/protobuf\"\nexport_interval = \"1h\"\ntimeout = \"2s\"\n",
            probes.path().display(),
            root.write(dir.path(), "ca.pem").display(),
            receiver.endpoint("http/protobuf")
        ),
    )
    .expect("config");
    let mut command = Command::new(BIN);
    for var in otlp::UNSET {
        command.env_remove(var);
    }
    let out = command
        .args(["check", "--target", &sim.url, "--config"])
        .arg(&config)
        .output()
        .expect("oewsprobe check");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let received = receiver.received();
    let export = &received[0];

    let phases = otlp::metric(export, "oewsprobe.probe.phase.duration").expect("phases");
    for phase in ["connect", "tls", "first_byte"] {
        let point = point_with(
            phases,
            &[("oewsprobe.probe", "health"), ("oewsprobe.phase", phase)],
        );
        assert_eq!(point.map(count), Some(1), "{phase}");
    }
    let http = otlp::metric(export, "http.client.request.duration").expect("http duration");
    let point = point_with(http, &[("oewsprobe.probe", "health")]).expect("http point");
    assert_eq!(attributes(point)["tls.protocol.version"], "1.3");

    let expiry = otlp::metric(export, "oewsprobe.tls.certificate.expiry").expect("expiry gauge");
    assert_eq!(expiry["unit"], "s");
    let day = 86_400.0;
    for (position, subject, days) in [
        ("leaf", "CN=127.0.0.1", 20.0),
        ("chain", "CN=metrics intermediate", 3650.0),
    ] {
        let point = point_with(
            expiry,
            &[
                ("oewsprobe.probe", "health"),
                ("oewsprobe.certificate.position", position),
                ("oewsprobe.certificate.subject", subject),
            ],
        )
        .unwrap_or_else(|| panic!("no expiry point for {position}: {expiry}"));
        let left = number(point);
        assert!(
            left > days * day - 120.0 && left <= days * day + 60.0,
            "{position}: {left} s left, expected about {days} days"
        );
    }
}
