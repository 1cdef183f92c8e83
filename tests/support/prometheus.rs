//! Debian's Prometheus and promtool (installed by `scripts/test`): a server on loopback with its own data
//! directory, asked through its HTTP API, and promtool on a rules file.
#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `promtool ARGS` in `dir`: exit status and everything it printed (stdout then stderr).
pub fn promtool(dir: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool is not installed: apt-get install prometheus (scripts/test installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// A Prometheus server on a free loopback port, scraping `targets` every second and evaluating `rules`
/// every second, killed on drop.
pub struct Prometheus {
    child: Child,
    pub addr: String,
    dir: tempfile::TempDir,
}

impl Prometheus {
    pub fn start(targets: &[String], rules: &Path) -> Prometheus {
        let dir = tempfile::tempdir().expect("tempdir");
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - '{}'\n\
             scrape_configs:\n  - job_name: oewsprobe\n    static_configs:\n      - targets: [{}]\n",
            rules.display(),
            targets.join(", ")
        );
        std::fs::write(dir.path().join("prometheus.yml"), config).expect("prometheus.yml");
        let addr = format!("127.0.0.1:{}", super::servers::free_port());
        let child = Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr.log")).expect("log file"))
            .spawn()
            .expect(
                "prometheus is not installed: apt-get install prometheus (scripts/test installs it)",
            );
        let mut prometheus = Prometheus { child, addr, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while prometheus.get("/-/ready").0 != 200 {
            if let Some(status) = prometheus.child.try_wait().expect("wait") {
                panic!("prometheus exited ({status}): {}", prometheus.log());
            }
            assert!(
                Instant::now() < deadline,
                "prometheus not ready: {}",
                prometheus.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        prometheus
    }

    /// What Prometheus wrote to stderr.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// An HTTP/1.0 GET (so the answer is never chunked): status and body; status 0 when nothing answers.
    pub fn get(&self, path: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let Ok(mut stream) = std::net::TcpStream::connect(&self.addr) else {
            return (0, String::new());
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        if write!(stream, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr).is_err() {
            return (0, String::new());
        }
        let mut response = String::new();
        if stream.read_to_string(&mut response).is_err() {
            return (0, String::new());
        }
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, body.to_string())
    }

    /// `data` of an API answer (`/api/v1/...`), which must say `"status":"success"`.
    pub fn api(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        let value: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{path}: {status} not JSON ({e}): {body}"));
        assert_eq!(value["status"], "success", "{path}: {body}");
        value["data"].clone()
    }

    /// The instant vector of `promql` now.
    pub fn query(&self, promql: &str) -> Vec<Value> {
        let query: String = url::form_urlencoded::byte_serialize(promql.as_bytes()).collect();
        self.api(&format!("/api/v1/query?query={query}"))["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The active alerts (pending and firing).
    pub fn alerts(&self) -> Vec<Value> {
        self.api("/api/v1/alerts")["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
