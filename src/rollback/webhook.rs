//! The optional rollback webhook: the evidence POSTed as JSON, signed with HMAC-SHA256 over the exact body
//! (`X-Oewsprobe-Signature: sha256=<hex>`), so the receiver can tell the call came from this monitor. Its URL
//! may itself be a capability: the outcome names only its host, and errors never carry the URL.

use serde::Serialize;
use std::time::{Duration, Instant};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-oewsprobe-signature";

/// A secret that never shows in logs, errors or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Secret {
        Secret(bytes)
    }

    /// The secret itself, for the one place that must hand it on (an HMAC key, an SMTP login). Never log it.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// `sha256=<hex>` of `body` under `secret`.
pub fn signature(secret: &Secret, body: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret.0);
    let tag = aws_lc_rs::hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// How the webhook call went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookOutcome {
    /// The webhook's host (and port, when given): never its path, query or credentials.
    pub host: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
}

impl WebhookOutcome {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// POSTs `evidence` to `url`, signed when a secret is given.
pub async fn post_webhook(
    url: &str,
    secret: Option<&Secret>,
    evidence: &serde_json::Value,
    timeout: Duration,
) -> WebhookOutcome {
    let started = Instant::now();
    let body = serde_json::to_vec(evidence).unwrap_or_default();
    let mut outcome = WebhookOutcome {
        host: host_of(url),
        status: None,
        error: None,
        duration_ms: 0,
    };
    let client = match crate::probe::load_client(timeout) {
        Ok(client) => client,
        Err(e) => {
            outcome.error = Some(format!("cannot set up the HTTP client: {e}"));
            return outcome;
        }
    };
    let mut request = client
        .post(url)
        .timeout(timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    if let Some(secret) = secret {
        request = request.header(SIGNATURE_HEADER, signature(secret, &body));
    }
    match request.body(body).send().await {
        Ok(response) => outcome.status = Some(response.status().as_u16()),
        Err(e) => outcome.error = Some(e.without_url().to_string()),
    }
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    outcome
}

/// `host[:port]` of `url`, or a placeholder when it has none.
pub fn host_of(url: &str) -> String {
    let parsed = url::Url::parse(url).ok();
    match parsed
        .as_ref()
        .and_then(|u| u.host_str().map(|h| (h, u.port())))
    {
        Some((host, Some(port))) => format!("{host}:{port}"),
        Some((host, None)) => host.to_string(),
        None => "(no host)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        let secret = Secret::new(b"Jefe".to_vec());
        assert_eq!(
            signature(&secret, b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn the_webhook_is_named_by_its_host_only() {
        let table = [
            (
                "https://hooks.example.com/T0/B1/capability-token",
                "hooks.example.com",
            ),
            (
                "http://user:pw@127.0.0.1:8080/hook?key=abc",
                "127.0.0.1:8080",
            ),
            ("http://[::1]:9/x", "[::1]:9"),
            ("not a url", "(no host)"),
        ];
        for (url, host) in table {
            assert_eq!(host_of(url), host, "{url}");
        }
    }

    #[tokio::test]
    async fn a_failed_call_does_not_show_the_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        let url = format!("http://127.0.0.1:{port}/hook/capability-token");
        let outcome =
            post_webhook(&url, None, &serde_json::json!({}), Duration::from_secs(5)).await;
        let error = outcome.error.expect("refused");
        assert!(!error.contains("capability-token"), "{error}");
        assert_eq!(outcome.host, format!("127.0.0.1:{port}"));
    }
}
