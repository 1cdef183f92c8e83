//! How HTTPS runs show: `check` (text and JSON) with the handshake line, certificate warnings and the loud
//! `tls.insecure` warning; `status` (text and JSON) with the last run's warnings, read back from the store.

mod support;

use std::process::Command;

use oewsprobe::probe::{ProbeRecord, Verdict};
use oewsprobe::store::Store;
use oewsprobe::tls::{INSECURE_WARNING, utc_text};
use support::certs::{TestCa, Validity};
use support::process::{BIN, SimProcess};

/// A certificate from a CA nobody trusts, for 127.0.0.1, 20 days left (a warning under the default 30).
fn twenty_days(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let validity = Validity::days(-1, 20);
    let (cert, key) = TestCa::new("outputs CA")
        .issue(&["127.0.0.1"], validity)
        .write(dir, "server");
    (cert, key, utc_text(validity.not_after.unix_timestamp()))
}

const INSECURE_PROBE: &str = "[request]\npath = \"/api/v1/health\"\n[tls]\ninsecure = true\n";

#[test]
fn check_shows_the_handshake_the_warning_and_that_nothing_was_verified() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key, until) = twenty_days(dir.path());
    let sim = SimProcess::start_tls(&cert, &key);
    let probes = support::probe_dir(&[("health.toml", INSECURE_PROBE)]);
    let config = dir.path().join("empty.toml");
    std::fs::write(&config, "").expect("config");
    let check = |format: &str| {
        let out = Command::new(BIN)
            .args([
                "check", "--target", &sim.url, "--format", format, "--config",
            ])
            .arg(&config)
            .arg("--probes")
            .arg(probes.path())
            .output()
            .expect("oewsprobe check");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let warning = format!("{INSECURE_WARNING} — probes: health");
    let warn =
        format!("tls: certificate for 127.0.0.1 expires in 20 days ({until}), warning below 30");
    let text = check("table");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("oewsprobe check: {}", sim.url));
    assert_eq!(lines[1], warning);
    assert!(lines[3].starts_with("health  PASS"), "{text}");
    assert_eq!(lines[4], format!("    - warn: {warn}"));
    let prefix = format!(
        "    tls 1.3 (TLS13_AES_256_GCM_SHA384), certificate for 127.0.0.1 until {until}; connect "
    );
    assert!(
        lines[5].starts_with(&prefix) && lines[5].contains(", tls "),
        "{text}"
    );
    let doc: serde_json::Value = serde_json::from_str(&check("json")).expect("JSON");
    assert_eq!(doc["warning"], warning.as_str());
    let probe = &doc["probes"][0];
    assert_eq!(probe["tls"]["insecure"], true);
    assert_eq!(probe["tls"]["version"], "1.3");
    assert_eq!(probe["tls"]["warnings"][0]["message"], warn.as_str());
    assert_eq!(probe["tls"]["certificates"][0]["subject"], "CN=127.0.0.1");
    assert!(probe["timings"]["tls"].as_f64().is_some(), "{probe}");
}

#[tokio::test]
async fn status_shows_the_last_runs_warning_and_insecure_from_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let validity = Validity::days(-1, 20);
    let cert = TestCa::new("outputs CA").issue(&["127.0.0.1"], validity);
    let server = cert.serve().await;
    let (config, store) = support::store::config(dir.path(), "tls");
    std::fs::write(dir.path().join("probes/health.toml"), INSECURE_PROBE).expect("probe");
    let plan = support::plan(&server.base_url(), &dir.path().join("probes"));
    let records: Vec<ProbeRecord> = support::run_all(&plan).await;
    server.shutdown().await;
    assert_eq!(records[0].verdict, Verdict::Pass, "{:?}", records[0]);
    Store::open(&store)
        .and_then(|s| s.insert_records(&records))
        .expect("store");
    let status = |format: &str| {
        let out = Command::new(BIN)
            .args(["status", "--format", format, "--config"])
            .arg(&config)
            .output()
            .expect("oewsprobe status");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let warn = format!(
        "tls: certificate for 127.0.0.1 expires in 20 days ({}), warning below 30",
        utc_text(validity.not_after.unix_timestamp())
    );
    let text = status("table");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[2], format!("health: {INSECURE_WARNING}"), "{text}");
    assert_eq!(lines[3], format!("warn health: {warn}"), "{text}");
    let doc: serde_json::Value = serde_json::from_str(&status("json")).expect("JSON");
    assert_eq!(doc["probes"][0]["last_warnings"][0], warn.as_str());
    assert_eq!(doc["probes"][0]["last_insecure"], true);
}
