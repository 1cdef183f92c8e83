//! No run is lost while the store refuses writes: records the store cannot take (a write lock held past the
//! busy timeout, a full disk) are kept and retried, `/healthz` says 503 with the reason meanwhile, and once the
//! store takes writes again every run made is recorded.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::daemon::Daemon;
use support::process::SimProcess;

const HEALTH_EVERY_1S: &str = "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/health\"\ntimeout = \"2s\"\n[expect]\nstatus = 200\n";

fn healthz(port: u16) -> (u16, Value) {
    let (status, _, body) = support::http_get(&format!("127.0.0.1:{port}"), "/healthz");
    (status, serde_json::from_str(&body).expect("healthz JSON"))
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The daemon probing the simulator every second, with its status listener on `port` and its store at
/// `store` (or beside the config).
fn daemon(sim: &SimProcess, port: u16, store: Option<&Path>) -> Daemon {
    let line = store.map_or(String::new(), |s| format!("store = \"{}\"\n", s.display()));
    let daemon = Daemon::start(
        &sim.url,
        &format!("{line}[status]\nlisten = \"127.0.0.1:{port}\""),
        &[("health.toml", HEALTH_EVERY_1S)],
    );
    let store = store.map_or_else(|| daemon.store_path(), Path::to_path_buf);
    wait_for("the first records", Duration::from_secs(20), || {
        daemon.stderr().contains("oewsprobe run: watching")
            && oewsprobe::store::Store::open(&store)
                .and_then(|s| s.records_since(0))
                .is_ok_and(|r| r.len() >= 2)
    });
    daemon
}

/// Waits for `/healthz` to say 503 with a reason containing `cause`; returns the reason.
fn wait_unhealthy(port: u16, cause: &str) -> String {
    let mut reason = String::new();
    wait_for("/healthz 503", Duration::from_secs(20), || {
        let (status, body) = healthz(port);
        reason = body["reason"].as_str().unwrap_or_default().to_string();
        status == 503 && body["status"] == "unhealthy" && reason.contains(cause)
    });
    reason
}

/// Stops the daemon; asserts it recorded every run the simulator served and says so in its exit line.
fn assert_every_run_recorded(daemon: Daemon, sim: &SimProcess, store: Option<&Path>) {
    let path = store.map_or_else(|| daemon.store_path(), Path::to_path_buf);
    let (code, stderr, _, _dir) = daemon.stop();
    let store = oewsprobe::store::Store::open(&path).expect("store");
    assert_eq!(code, Some(0), "{stderr}");
    let served = sim.stats()["requests"]["GET /api/v1/health"]
        .as_u64()
        .expect("health requests");
    let stored = store.records_since(0).expect("records").len() as u64;
    assert_eq!(stored, served, "every run made is recorded: {stderr}");
    assert!(
        stderr.contains(&format!("oewsprobe run: stopped; {stored} runs recorded")),
        "{stderr}"
    );
}

#[test]
fn runs_made_while_the_store_is_locked_are_written_once_it_is_free() {
    let sim = SimProcess::start(&[]);
    let port = support::servers::free_port();
    let daemon = daemon(&sim, port, None);
    assert_eq!(healthz(port).0, 200);
    // Another process (a backup, `sqlite3` in a shell) holds the write lock past the 5 s busy timeout.
    let other = rusqlite::Connection::open(daemon.store_path()).expect("open");
    other.execute_batch("BEGIN IMMEDIATE").expect("write lock");
    let reason = wait_unhealthy(port, "database is locked");
    assert!(
        reason.starts_with("probe records cannot be written ("),
        "{reason}"
    );
    std::thread::sleep(Duration::from_secs(2));
    other.execute_batch("ROLLBACK").expect("release");
    wait_for("/healthz 200 again", Duration::from_secs(20), || {
        healthz(port).0 == 200
    });
    assert!(
        daemon
            .stderr()
            .contains("cannot store probe records; keeping them and retrying"),
        "{}",
        daemon.stderr()
    );
    assert_every_run_recorded(daemon, &sim, None);
}

/// A small tmpfs, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().expect("tempdir");
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("mount");
        assert!(status.success(), "mount a tmpfs (the tests run as root)");
        SmallDisk { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `name` until the disk is full.
    fn fill(&self, name: &str) {
        use std::io::Write;
        let mut file = std::fs::File::create(self.path(name)).expect("filler");
        let block = vec![0u8; 4096];
        while file.write_all(&block).is_ok() {}
        let _ = file.flush();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[test]
fn runs_made_while_the_disk_is_full_are_written_once_there_is_room() {
    let disk = SmallDisk::mount("4m");
    let sim = SimProcess::start(&[]);
    let port = support::servers::free_port();
    let daemon = daemon(&sim, port, Some(&disk.path("oewsprobe.sqlite")));
    disk.fill("filler");
    wait_unhealthy(port, "database or disk is full");
    std::thread::sleep(Duration::from_secs(2));
    std::fs::remove_file(disk.path("filler")).expect("free the disk");
    wait_for("/healthz 200 again", Duration::from_secs(20), || {
        healthz(port).0 == 200
    });
    assert_every_run_recorded(daemon, &sim, Some(&disk.path("oewsprobe.sqlite")));
}
