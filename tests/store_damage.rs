//! A damaged store is named: "file is not a database" and "database disk image is malformed" say which file,
//! and `run` refuses a store that fails `PRAGMA quick_check` (exit 2) instead of running on it.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::process::BIN;

const ADVICE: &str = "restore it from a backup, or move it aside to start a new store";

/// A config with one probe in `dir`; returns the config and the store's path.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    std::fs::create_dir(dir.join("probes")).expect("probes");
    std::fs::write(
        dir.join("probes/health.toml"),
        "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\n[expect]\nstatus = 200\n",
    )
    .expect("probe");
    let config = dir.join("oewsprobe.toml");
    std::fs::write(
        &config,
        "target = \"http://127.0.0.1:9\"\nprobes_dir = \"probes\"\n",
    )
    .expect("config");
    (config, dir.join("oewsprobe.sqlite"))
}

/// `oewsprobe ARGS --config CONFIG`: the exit code and stderr; killed (no exit code) if it still runs after
/// 20 s, as a `run` that accepted the store would.
fn oewsprobe(args: &[&str], config: &Path) -> (Option<i32>, String) {
    use std::io::Read;
    let mut child = Command::new(BIN)
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("OEWSPROBE_TARGET")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("oewsprobe");
    let deadline = Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        pipe.read_to_string(&mut stderr).expect("stderr");
    }
    (code, stderr)
}

#[test]
fn a_file_that_is_not_a_database_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, store) = setup(dir.path());
    std::fs::write(&store, "these are notes, not a database\n".repeat(200)).expect("file");
    for (command, args) in [
        ("status", &["status"][..]),
        ("release", &["release", "list"]),
        ("run", &["run"]),
    ] {
        assert_eq!(
            oewsprobe(args, &config),
            (
                Some(2),
                format!(
                    "oewsprobe {command}: store {}: file is not a database; {ADVICE}\n",
                    store.display()
                )
            ),
            "{args:?}"
        );
    }
}

#[test]
fn a_malformed_store_is_named_and_run_refuses_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, store) = setup(dir.path());
    let page = {
        drop(oewsprobe::store::Store::open(&store).expect("a new store"));
        let conn = rusqlite::Connection::open(&store).expect("open");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as i64;
        conn.execute(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300)
             INSERT INTO records (probe, target, scheduled_at_ms, verdict, latency_us, queries, record_json)
             SELECT 'health', 't', ?1 - x, 'pass', 1, 0, hex(randomblob(300)) FROM c",
            [now],
        )
        .expect("records");
        let root: i64 = conn
            .query_row(
                "SELECT rootpage FROM sqlite_master WHERE name = 'records_by_probe'",
                [],
                |r| r.get(0),
            )
            .expect("index root");
        let size: i64 = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .expect("page size");
        (root, size)
    };
    // Overwrite the root page of the index every read of a probe's runs uses, as a bad sector would.
    let mut bytes = std::fs::read(&store).expect("store");
    let (root, size) = (page.0 as usize, page.1 as usize);
    bytes[(root - 1) * size..root * size].fill(0xff);
    std::fs::write(&store, bytes).expect("damage");
    assert_eq!(
        oewsprobe(&["status"], &config),
        (
            Some(2),
            format!(
                "oewsprobe status: store {}: database disk image is malformed; {ADVICE}\n",
                store.display()
            )
        )
    );
    assert_eq!(
        oewsprobe(&["run"], &config),
        (
            Some(2),
            format!(
                "oewsprobe run: store {} failed PRAGMA quick_check: Tree {root} page {root}: btreeInitPage() returns error code 11; {ADVICE}\n",
                store.display()
            )
        )
    );
}
