//! Real SMTP servers on loopback for alert-email tests: maildev (npm, installed by `.ci/run`) with its inbox
//! API, startable and stoppable on the same ports; and a throwaway certificate authority for its TLS.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How a maildev is started.
#[derive(Debug, Clone, Default)]
pub struct MaildevOptions {
    /// `--incoming-user`, `--incoming-pass`: the login the server requires.
    pub login: Option<(String, String)>,
    /// `--incoming-secure --incoming-cert --incoming-key`: implicit TLS with this certificate and key (PEM).
    /// maildev 3 never offers STARTTLS, with or without a certificate.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// A running maildev: SMTP on `smtp_port`, its HTTP API on `web_port`, both on 127.0.0.1. Its whole process
/// group is killed on drop. Mail is kept in its own directory, so it survives [`Maildev::stop`] and
/// [`Maildev::start_again`].
pub struct Maildev {
    pub smtp_port: u16,
    pub web_port: u16,
    options: MaildevOptions,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Maildev {
    /// Plain SMTP, no login.
    pub fn start() -> Maildev {
        Maildev::start_with(MaildevOptions::default())
    }

    pub fn start_with(options: MaildevOptions) -> Maildev {
        let smtp_port = super::servers::free_port();
        let web_port = std::iter::repeat_with(super::servers::free_port)
            .find(|&p| p != smtp_port)
            .expect("a second free port");
        let mut maildev = Maildev {
            smtp_port,
            web_port,
            options,
            child: None,
            dir: tempfile::tempdir().expect("tempdir"),
        };
        maildev.start_again();
        maildev
    }

    /// Starts maildev (again) on the same ports; waits until SMTP and the API answer.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "maildev is already running");
        let mut command = Command::new("maildev");
        command
            .args(["--smtp", &self.smtp_port.to_string(), "--ip", "127.0.0.1"])
            .args(["--web", &self.web_port.to_string(), "--web-ip", "127.0.0.1"])
            .arg("--mail-directory")
            .arg(self.dir.path().join("mail"));
        if let Some((user, pass)) = &self.options.login {
            command.args(["--incoming-user", user, "--incoming-pass", pass]);
        }
        if let Some((cert, key)) = &self.options.tls {
            command
                .arg("--incoming-secure")
                .arg("--incoming-cert")
                .arg(cert)
                .arg("--incoming-key")
                .arg(key);
        }
        let log = std::fs::File::create(self.log_path()).expect("maildev log");
        let child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("maildev must be installed (npm install -g maildev@3; .ci/run does it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.smtp_port)).is_err()
            || self.get("/api/email").is_none()
        {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "maildev did not start ({exited:?}):\n{}",
                std::fs::read_to_string(self.log_path()).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills maildev and every process it started; returns once its SMTP port refuses connections.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // The group id is the child's pid (`process_group(0)`).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .status();
        let _ = child.kill();
        let _ = child.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", self.smtp_port)).is_ok() {
            assert!(Instant::now() < deadline, "maildev's port stays open");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every email received, oldest first (`GET /api/email`).
    pub fn emails(&self) -> Vec<serde_json::Value> {
        let body = self.get("/api/email").expect("maildev answers /api/email");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("maildev JSON ({e}): {body}"))
    }

    /// Waits until at least `n` emails arrived; returns them all. Panics after `timeout`.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let emails = self.emails();
            if emails.len() >= n {
                return emails;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} emails after {timeout:?}",
                emails.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The raw message as received (`GET /api/email/:id/source`).
    pub fn source(&self, id: &str) -> String {
        self.get(&format!("/api/email/{id}/source"))
            .expect("maildev answers /source")
    }

    /// The id of maildev's process group while it runs (the same as its pid).
    pub fn process_group(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("maildev.log")
    }

    /// The body of a `200 OK` answer to `GET path`, or `None` (no connection, another status).
    fn get(&self, path: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.web_port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        head.starts_with("HTTP/1.1 200").then(|| body.to_string())
    }
}

impl Drop for Maildev {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A certificate authority made for one test, and a server certificate it signed for 127.0.0.1, as PEM files.
pub struct TestCa {
    pub ca_file: PathBuf,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestCa {
    pub fn new() -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "oewsprobe test CA");
        let ca_key = KeyPair::generate().expect("CA key");
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca, ca_key);
        let mut server =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("server params");
        server
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        let server_key = KeyPair::generate().expect("server key");
        let server_cert = server
            .signed_by(&server_key, &issuer)
            .expect("server certificate");
        let write = |name: &str, pem: String| -> PathBuf {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).expect("write PEM");
            path
        };
        TestCa {
            ca_file: write("ca.pem", ca_cert.pem()),
            cert_file: write("server.pem", server_cert.pem()),
            key_file: write("server-key.pem", server_key.serialize_pem()),
            _dir: dir,
        }
    }

    /// maildev options for implicit TLS with this server certificate.
    pub fn maildev_tls(&self) -> Option<(PathBuf, PathBuf)> {
        Some((self.cert_file.clone(), self.key_file.clone()))
    }
}

/// `python -m aiosmtpd` (PyPI, installed by `.ci/run`) on a free loopback port, killed on drop.
pub struct Aiosmtpd {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl Aiosmtpd {
    /// Offers STARTTLS with `cert`/`key` and requires it before any mail; prints each message to its log.
    pub fn start_starttls(cert: &std::path::Path, key: &std::path::Path) -> Aiosmtpd {
        let tls = [
            "--tlscert".as_ref(),
            cert.as_os_str(),
            "--tlskey".as_ref(),
            key.as_os_str(),
        ];
        Aiosmtpd::start(&tls)
    }

    /// Plain SMTP that answers the first message's DATA only after 3 s (`slow_first.py`).
    pub fn start_slow_first() -> Aiosmtpd {
        Aiosmtpd::start(&["-c".as_ref(), "slow_first.SlowFirst".as_ref()])
    }

    fn start(args: &[&std::ffi::OsStr]) -> Aiosmtpd {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = super::servers::free_port();
        let log = std::fs::File::create(dir.path().join("aiosmtpd.log")).expect("log");
        let mut child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(args)
            .env("PYTHONUNBUFFERED", "1")
            .env(
                "PYTHONPATH",
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support"),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("python3 with aiosmtpd must be installed (.ci/run does it)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = child.try_wait().ok().flatten();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "aiosmtpd did not start ({exited:?}):\n{}",
                std::fs::read_to_string(dir.path().join("aiosmtpd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Aiosmtpd { port, child, dir }
    }

    /// What it printed so far: every received message, headers first.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("aiosmtpd.log")).unwrap_or_default()
    }
}

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
