//! Debian's headless Chromium driven through WebDriver (`chromedriver`, the `chromium-driver` package) with
//! the project's own HTTP client: every command bounded by a timeout (a page that runs `alert()` hangs
//! headless Chromium), and Chromium given the flags that keep it on loopback — its proxy is a local recorder
//! of every request that would have left (see [`Recorder`]).
#![allow(dead_code)]

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The longest one WebDriver command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// A loopback listener standing in as Chromium's proxy: it records the first line of every request sent to
/// it (an attempt to reach anything but loopback) and answers 403; it forwards nothing.
pub struct Recorder {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    pub fn start() -> Recorder {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let record = record.clone();
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut line = String::new();
                    let _ = BufReader::new(&stream).read_line(&mut line);
                    // A connection opened ahead of need (a preconnect) and never used sends nothing.
                    if !line.trim().is_empty() {
                        record
                            .lock()
                            .expect("lock")
                            .push(line.trim_end().to_string());
                    }
                    let _ = (&stream).write_all(
                        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                });
            }
        });
        Recorder { port, seen }
    }

    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }
}

/// A WebDriver session of headless Chromium; chromedriver (and its browser) killed on drop.
pub struct Browser {
    driver: Child,
    client: reqwest::Client,
    session: String,
    base: String,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a headless Chromium session whose proxy is `proxy_port`.
    /// Fails (never skips) when either is not installed.
    pub async fn start(proxy_port: u16) -> Browser {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                std::path::Path::new(path).exists(),
                "{path} is missing: apt-get install {package} (scripts/test installs it)"
            );
        }
        let port = super::servers::free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1280,1000".into(),
            format!("--proxy-server=http://127.0.0.1:{proxy_port}"),
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--disable-domain-reliability".into(),
            "--no-pings".into(),
            // Fewer of the browser's own calls home (each would reach the recorder, not the network).
            "--no-default-browser-check".into(),
            "--disable-default-apps".into(),
            "--disable-extensions".into(),
            "--disable-client-side-phishing-detection".into(),
            "--disable-search-engine-choice-screen".into(),
            "--safebrowsing-disable-auto-update".into(),
            "--metrics-recording-only".into(),
            "--disable-features=OptimizationHints,OptimizationGuideModelDownloading,OptimizationHintsFetching,MediaRouter,Translate,AutofillServerCommunication,CertificateTransparencyComponentUpdater,NetworkTimeServiceQuerying,SigninInterceptBubble".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(COMMAND_TIMEOUT)
            .build()
            .expect("client");
        let mut browser = Browser {
            driver,
            client,
            session: String::new(),
            base,
            _profile: profile,
        };
        let created = browser
            .call(
                reqwest::Method::POST,
                "/session",
                json!({"capabilities": {"alwaysMatch": {
                    "browserName": "chrome",
                    "unhandledPromptBehavior": "ignore",
                    "timeouts": {"pageLoad": 20_000, "script": 10_000},
                    "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
                    "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
                }}}),
            )
            .await
            .unwrap_or_else(|e| panic!("cannot start a Chromium session: {e}"));
        browser.session = created["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        browser
    }

    /// One WebDriver command: its `value`, or the error WebDriver gave.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let mut request = self.client.request(method.clone(), &url);
        if method != reqwest::Method::GET {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| format!("{path}: {e}"))?;
        let value: Value = response.json().await.map_err(|e| format!("{path}: {e}"))?;
        match value["value"].get("error") {
            Some(error) => Err(format!("{path}: {error}: {}", value["value"]["message"])),
            None => Ok(value["value"].clone()),
        }
    }

    fn at(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, &self.at("/url"), json!({"url": url}))
            .await
            .unwrap_or_else(|e| panic!("load {url}: {e}"));
    }

    /// Runs `script` (a function body) in the page; its return value.
    pub async fn run(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            &self.at("/execute/sync"),
            json!({"script": script, "args": []}),
        )
        .await
        .unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// The text of an open `alert()`, if one is open.
    pub async fn alert(&self) -> Option<String> {
        self.call(reqwest::Method::GET, &self.at("/alert/text"), Value::Null)
            .await
            .ok()
            .map(|v| v.as_str().unwrap_or_default().to_string())
    }

    /// Saves a PNG of the viewport at `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let data = self
            .call(reqwest::Method::GET, &self.at("/screenshot"), Value::Null)
            .await
            .unwrap_or_else(|e| panic!("screenshot: {e}"));
        let bytes = base64_decode(data.as_str().expect("base64"));
        std::fs::write(path, bytes).expect("write the screenshot");
    }

    /// The log entries of `kind` (`browser`: the console; `performance`: DevTools network events) since the
    /// last call.
    pub async fn log(&self, kind: &str) -> Vec<Value> {
        self.call(
            reqwest::Method::POST,
            &self.at("/se/log"),
            json!({"type": kind}),
        )
        .await
        .unwrap_or_else(|e| panic!("log {kind}: {e}"))
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    /// Ends the session (the browser quits).
    pub async fn quit(self) {
        let _ = self
            .call(reqwest::Method::DELETE, &self.at(""), Value::Null)
            .await;
    }
}

/// Standard base64 (as WebDriver sends screenshots), decoded.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let digits: Vec<u32> = text.bytes().filter_map(value).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().fold(0u32, |acc, d| (acc << 6) | d) << (6 * (4 - chunk.len()));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    out
}
