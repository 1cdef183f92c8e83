//! Shared test setup: the simulator on a loopback port, plans compiled from the shipped probes, lookups.
#![allow(dead_code)]

pub mod certs;
pub mod daemon;
pub mod docker;
pub mod mail;
pub mod otlp;
pub mod page_daemon;
/// The test PostgreSQL server, shared with the unit tests.
#[path = "../../src/store/test_postgres.rs"]
pub mod postgres;
pub mod process;
pub mod prometheus;
pub mod release;
pub mod servers;
pub mod store;
pub mod tls_front;
pub mod webdriver;

use oewsprobe::config::{self, Plan, Sources};
use oewsprobe::probe::ProbeRecord;
use oewsprobe::sim::{Fault, Profile, SimOptions, SimServer};
use std::path::{Path, PathBuf};

/// The repository's shipped probe directory.
pub fn shipped_probes() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("probes")
}

pub async fn start_sim(profile: Profile, faults: &[&str]) -> SimServer {
    let faults: Vec<Fault> = faults
        .iter()
        .map(|f| f.parse().expect("fault parses"))
        .collect();
    let options = SimOptions {
        profile,
        faults,
        ..SimOptions::default()
    };
    SimServer::start(([127, 0, 0, 1], 0).into(), options)
        .await
        .expect("simulator starts")
}

/// The plan for `probes_dir` aimed at `target` (no config file).
pub fn plan(target: &str, probes_dir: &Path) -> Plan {
    let sources = Sources {
        config: Some(empty_config()),
        probes_dir: Some(probes_dir.to_path_buf()),
        target: Some(target.to_string()),
    };
    config::load(&sources).unwrap_or_else(|e| panic!("plan compiles:\n{e}"))
}

/// An empty config file, so tests never read an `oewsprobe.toml` from the working directory.
fn empty_config() -> PathBuf {
    let path = std::env::temp_dir().join("oewsprobe-test-empty.toml");
    if !path.exists() {
        std::fs::write(&path, "").expect("write empty config");
    }
    path
}

/// Runs every probe of `plan` once, as `check` does.
pub async fn run_all(plan: &Plan) -> Vec<ProbeRecord> {
    let probes: Vec<_> = plan.probes.iter().collect();
    oewsprobe::cmd::once::run_probes(plan, &probes)
        .await
        .expect("HTTP clients set up")
}

pub fn record<'a>(records: &'a [ProbeRecord], name: &str) -> &'a ProbeRecord {
    records
        .iter()
        .find(|r| r.probe == name)
        .unwrap_or_else(|| panic!("no record for {name}"))
}

pub fn messages(record: &ProbeRecord) -> Vec<String> {
    record.findings.iter().map(|f| f.message.clone()).collect()
}

/// A probe directory in a fresh temporary folder, with the given files.
pub fn probe_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write probe file");
    }
    dir
}

/// A plain HTTP/1.1 GET on loopback (`addr` is `HOST:PORT`): status, content type (lower case), body.
pub fn http_get(addr: &str, path: &str) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {response}"));
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type: ")
                .map(str::to_string)
        })
        .unwrap_or_default();
    (status, content_type, body.to_string())
}
