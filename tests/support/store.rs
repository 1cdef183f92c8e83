//! Setup for `tests/store_cmd.rs`: a config and its store, a history of runs, `oewsprobe store` as a child
//! process, the rollup rows of a store file.
#![allow(dead_code)]

use super::process::BIN;
use oewsprobe::history::{Level, Rollup};
use oewsprobe::probe::{FailureClass, Finding, ProbeRecord, RequestLine, Timings, Verdict};
use oewsprobe::store::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

pub const PROBE: &str = "[request]\npath = \"/api/v1/health\"\n[expect]\nstatus = 200\n";
/// 2026-12-01T00:00:00Z.
pub const DEC_1: u64 = 1_796_083_200_000;

/// A config whose store is `NAME.sqlite` in `dir`, with one probe file.
pub fn config(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir.join("probes")).expect("probes");
    std::fs::write(dir.join("probes/health.toml"), PROBE).expect("probe");
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(
        &config,
        format!("probes_dir = \"probes\"\n[run]\nstore = \"{name}.sqlite\"\n"),
    )
    .expect("config");
    (config, dir.join(format!("{name}.sqlite")))
}

pub fn record(probe: &str, at_ms: u64, verdict: Verdict) -> ProbeRecord {
    let failed = verdict == Verdict::Fail;
    ProbeRecord {
        location: String::new(),
        latency_percentiles: None,
        probe: probe.into(),
        target: "http://127.0.0.1:8000".into(),
        request: Some(RequestLine {
            method: "GET".into(),
            url: format!("http://127.0.0.1:8000/api/v1/{probe}"),
        }),
        scheduled_at_ms: at_ms,
        verdict,
        class: failed.then_some(FailureClass::ServerError),
        status: Some(if failed { 500 } else { 200 }),
        latency: Duration::from_micros(2_000 + at_ms % 1_000_003),
        timings: Timings {
            start_delay: Duration::from_micros(300),
            dns: None,
            connect: Some(Duration::from_micros(450)),
            first_byte: Some(Duration::from_micros(1_700)),
            total: Duration::from_micros(1_900),
            tls: None,
        },
        body_bytes: 120,
        queries: u32::from(probe == "query"),
        findings: if failed {
            vec![Finding::of_request(
                "status",
                &format!("GET /api/v1/{probe}"),
                "200",
                "500",
                None,
            )]
        } else {
            vec![]
        },
        retry_after: None,
        known_drift: Vec::new(),
        tls: None,
    }
}

/// Two probes over three days: `health` every 10 minutes, `query` every 25, a failure now and then.
pub fn history() -> Vec<ProbeRecord> {
    let mut runs: Vec<ProbeRecord> = (0..432)
        .map(|i| {
            let verdict = if i % 17 == 0 {
                Verdict::Fail
            } else {
                Verdict::Pass
            };
            record("health", DEC_1 + i * 600_000 + 1_234, verdict)
        })
        .chain((0..172).map(|i| record("query", DEC_1 + i * 1_500_000 + 5_678, Verdict::Pass)))
        .collect();
    runs.sort_by_key(|r| r.scheduled_at_ms);
    runs
}

/// A store at `path` holding `runs`, closed.
pub fn store_with(path: &Path, runs: &[ProbeRecord]) {
    Store::open(path)
        .and_then(|s| s.insert_records(runs))
        .expect("store");
}

pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// `oewsprobe store ARGS --config CONFIG`, with `stdin` as its input.
pub fn store_cmd(config: &Path, args: &[&str], stdin: &str) -> Out {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .arg("store")
        .args(args)
        .arg("--config")
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("oewsprobe");
    let mut input = child.stdin.take().expect("stdin");
    // A command that refuses before reading closes its stdin early: not an error here.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let out = child.wait_with_output().expect("oewsprobe");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn lines(runs: &[ProbeRecord]) -> String {
    runs.iter()
        .map(|r| oewsprobe::store::export_line(r) + "\n")
        .collect()
}

/// Every rollup row of the store at `path`.
pub fn rollups(path: &Path) -> BTreeMap<(Level, String, u64), Rollup> {
    let store = Store::open(path).expect("open");
    let mut out = BTreeMap::new();
    for level in Level::ALL {
        for probe in ["health", "query"] {
            for (start, row) in store.rollup_rows(probe, level, 0, u64::MAX).expect("rows") {
                out.insert((level, probe.to_string(), start), row);
            }
        }
    }
    out
}

pub fn size(path: &Path, suffix: &str) -> u64 {
    std::fs::metadata(format!("{}{suffix}", path.display())).map_or(0, |m| m.len())
}
