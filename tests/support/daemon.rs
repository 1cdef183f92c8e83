//! `oewsprobe run` as a child process with its own config, probe directory and store in a temporary folder.
#![allow(dead_code)]

use super::process::BIN;
use oewsprobe::store::Store;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A daemon with its own config, probe directory and store in a temporary folder.
pub struct Daemon {
    pub child: Child,
    pub dir: tempfile::TempDir,
}

impl Daemon {
    pub fn start(target: &str, config_extra: &str, probes: &[(&str, &str)]) -> Daemon {
        Daemon::start_with(target, config_extra, probes, &[], &[])
    }

    /// Also with extra global flags (`--log-format json`) and environment variables.
    pub fn start_with(
        target: &str,
        config_extra: &str,
        probes: &[(&str, &str)],
        flags: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        Daemon::start_in(dir, target, config_extra, probes, flags, env)
    }

    /// [`Daemon::start_with`] in `dir`, which may hold a store already (`oewsprobe.sqlite`).
    pub fn start_in(
        dir: tempfile::TempDir,
        target: &str,
        config_extra: &str,
        probes: &[(&str, &str)],
        flags: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        std::fs::create_dir_all(dir.path().join("probes")).expect("probes dir");
        for (name, text) in probes {
            std::fs::write(dir.path().join("probes").join(name), text).expect("probe file");
        }
        let config = format!(
            "target = \"{target}\"\nprobes_dir = \"probes\"\n[run]\njitter = \"0s\"\n{config_extra}\n"
        );
        std::fs::write(dir.path().join("oewsprobe.toml"), config).expect("config");
        let mut command = Command::new(BIN);
        for var in super::otlp::UNSET {
            command.env_remove(var);
        }
        let child = command
            .args(["run", "--config"])
            .arg(dir.path().join("oewsprobe.toml"))
            .args(flags)
            .env_remove("OEWSPROBE_TARGET")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            // A file, not a pipe: a chatty daemon (debug logs) never blocks on a full pipe.
            .stderr(std::fs::File::create(dir.path().join("stderr.log")).expect("stderr file"))
            .spawn()
            .expect("start oewsprobe run");
        Daemon { child, dir }
    }

    /// What the daemon has written to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Waits for the daemon to exit by itself; returns its exit code and stderr.
    pub fn wait_exit(&mut self, limit: Duration) -> (Option<i32>, String) {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return (status.code(), self.stderr());
            }
            assert!(Instant::now() < deadline, "the daemon did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Records in the store now (0 until the daemon has opened and migrated it: opening it first would race
    /// the daemon's migration).
    pub fn records(&self) -> usize {
        if !self.stderr().contains("oewsprobe run: watching") {
            return 0;
        }
        Store::open(&self.store_path())
            .and_then(|s| s.records_since(0))
            .map_or(0, |r| r.len())
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join("oewsprobe.sqlite")
    }

    pub fn signal(&self, name: &str) {
        super::process::signal(&self.child, name);
    }

    /// Sends SIGTERM and waits for the exit; returns the exit code and stderr.
    pub fn stop(mut self) -> (Option<i32>, String, Store, tempfile::TempDir) {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                let stderr = self.stderr();
                let store = Store::open(&self.store_path()).expect("store");
                let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
                return (status.code(), stderr, store, dir);
            }
            assert!(Instant::now() < deadline, "daemon did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
