//! The optional rollback webhook: the evidence POSTed as JSON, signed with HMAC-SHA256 over the exact body
//! (`X-Oewsprobe-Signature: sha256=<hex>`), so the receiver can tell the call came from this monitor.

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

    /// The secret itself, for the one place that sends it (never for a log line).
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
    pub url: String,
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
        url: url.to_string(),
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
        Err(e) => outcome.error = Some(e.to_string()),
    }
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    outcome
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
}
