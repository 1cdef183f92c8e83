//! Small real servers on loopback for transport tests: a hung one, a raw-bytes one, and Caddy.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Accepts connections and never answers.
pub async fn hung_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

/// Answers every request with `response` (raw HTTP bytes) and closes the connection.
pub async fn raw_server(response: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(&response).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

/// A loopback port with nothing listening on it.
pub fn free_port() -> u16 {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("addr").port()
}

/// A running Caddy, killed on drop.
pub struct Caddy {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Caddy (the Debian package, installed by `scripts/test`) as a reverse proxy to `upstream`.
pub fn caddy_proxy_to(upstream: SocketAddr) -> Caddy {
    caddy_proxy_on(free_port(), upstream)
}

/// [`caddy_proxy_to`] on `port` (to start a proxy again where a stopped one listened).
pub fn caddy_proxy_on(port: u16, upstream: SocketAddr) -> Caddy {
    caddy_on(port, |port| {
        format!(
            "{{\n  admin off\n  auto_https off\n}}\nhttp://127.0.0.1:{port} {{\n  reverse_proxy {upstream} {{\n    lb_try_duration 0s\n  }}\n}}\n"
        )
    })
}

/// Starts Caddy as a reverse proxy to `upstream` that answers `path` itself with `502` and `body` (a proxy's
/// error page, whatever it holds).
pub fn caddy_proxy_with_502(upstream: SocketAddr, path: &str, body: &str) -> Caddy {
    caddy_with(|port| {
        format!(
            "{{\n  admin off\n  auto_https off\n}}\nhttp://127.0.0.1:{port} {{\n  handle {path} {{\n    respond \"{body}\" 502\n  }}\n  handle {{\n    reverse_proxy {upstream} {{\n      lb_try_duration 0s\n    }}\n  }}\n}}\n"
        )
    })
}

/// Starts Caddy serving HTTPS on loopback with its own internal (untrusted) CA, answering `{"status":"healthy"}`.
pub fn caddy_tls_untrusted() -> Caddy {
    let body = r#"{\"status\":\"healthy\"}"#;
    caddy_with(|port| {
        format!(
            "{{\n  admin off\n  skip_install_trust\n}}\nhttps://127.0.0.1:{port} {{\n  tls internal\n  respond \"{body}\" 200\n}}\n"
        )
    })
}

/// Starts Caddy with the Caddyfile `config(port)` on a free loopback port.
fn caddy_with(config: impl Fn(u16) -> String) -> Caddy {
    caddy_on(free_port(), config)
}

/// Starts Caddy with the Caddyfile `config(port)` on loopback `port`.
fn caddy_on(port: u16, config: impl Fn(u16) -> String) -> Caddy {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("Caddyfile");
    std::fs::write(&path, config(port)).expect("write Caddyfile");
    let child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&path)
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("caddy is not installed: apt-get install caddy (scripts/test installs it)");
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "caddy did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Caddy {
        child,
        port,
        _dir: dir,
    }
}
