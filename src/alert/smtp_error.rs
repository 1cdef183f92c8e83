//! SMTP delivery errors: one line that names the server and what went wrong, never a secret; and whether a
//! retry can help. Permanent: a 5xx reply, or a mail that can never be built. Everything else — no
//! connection, a timeout, a TLS failure, a 4xx reply — is transient.

use crate::rollback::Secret;
use std::fmt;
use std::time::Duration;

/// Why one email could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpError {
    /// `HOST:PORT`.
    server: String,
    what: String,
    permanent: bool,
}

impl SmtpError {
    /// Whether retrying the same email can never succeed.
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    /// A problem of the settings or the mail itself, found before any connection.
    pub(crate) fn setup(server: &str, what: String) -> SmtpError {
        SmtpError::new(server, what, true)
    }

    pub(crate) fn timeout(server: &str, after: Duration) -> SmtpError {
        let what = format!("timed out after {}", humantime::format_duration(after));
        SmtpError::new(server, what, false)
    }

    /// The server's negative reply: `code` (4xx or 5xx) and its text.
    pub(crate) fn reply(server: &str, code: u16, text: &str) -> SmtpError {
        let what = match code {
            530 | 534 | 535 | 538 => "authentication failed",
            500..=599 => "mail refused",
            _ => "mail deferred",
        };
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        SmtpError::new(server, format!("{what}: {code} {text}"), code >= 500)
    }

    pub(crate) fn connect(server: &str, reason: &str) -> SmtpError {
        SmtpError::new(
            server,
            format!("cannot connect: {}", without_os_code(reason)),
            false,
        )
    }

    pub(crate) fn tls(server: &str, reason: &str) -> SmtpError {
        SmtpError::new(server, format!("TLS handshake failed: {reason}"), false)
    }

    /// Whatever else went wrong between us and the server: transient.
    pub(crate) fn other(server: &str, what: String) -> SmtpError {
        SmtpError::new(server, what, false)
    }

    /// Classifies lettre's error. `timeout` is the configured one, for the message.
    pub(crate) fn from_lettre(
        server: &str,
        error: &lettre::transport::smtp::Error,
        timeout: Duration,
    ) -> SmtpError {
        let source = std::error::Error::source(error).map_or_else(String::new, |s| s.to_string());
        if error.is_timeout() {
            return SmtpError::timeout(server, timeout);
        }
        if let Some(code) = error.status() {
            return SmtpError::reply(server, code.into(), &source);
        }
        if let Some(tls) = rustls_error(error) {
            return SmtpError::tls(server, &tls.to_string());
        }
        if error.is_client() {
            let what = if source.contains("STARTTLS") {
                "STARTTLS not offered by the server (security = \"starttls\" requires it)"
                    .to_string()
            } else if source.contains("authentication mechanism") {
                "the server offers no login we support (AUTH PLAIN or LOGIN), but a username is configured"
                    .to_string()
            } else {
                source
            };
            return SmtpError::other(server, what);
        }
        let shown = error.to_string();
        if shown.starts_with("Connection error") {
            SmtpError::connect(server, &source)
        } else if shown.starts_with("network error") {
            SmtpError::other(
                server,
                format!("connection lost: {}", without_os_code(&source)),
            )
        } else {
            SmtpError::other(server, shown)
        }
    }

    /// The same error with every occurrence of `secret` replaced (a server may echo what it was sent).
    pub(crate) fn scrubbed(self, secret: &Secret) -> SmtpError {
        let secret = String::from_utf8_lossy(secret.expose());
        if secret.is_empty() || !self.what.contains(secret.as_ref()) {
            return self;
        }
        SmtpError {
            what: self.what.replace(secret.as_ref(), "<redacted>"),
            ..self
        }
    }

    fn new(server: &str, what: String, permanent: bool) -> SmtpError {
        SmtpError {
            server: server.to_string(),
            what,
            permanent,
        }
    }
}

impl fmt::Display for SmtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SMTP {}: {}", self.server, self.what)
    }
}

impl std::error::Error for SmtpError {}

/// The rustls error somewhere in the chain. lettre reports a failed handshake as a connection error whose
/// source is an `io::Error` wrapping the rustls error (and `io::Error::source` skips the wrapped error).
fn rustls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(tls) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        current = e.source();
    }
    None
}

/// `Connection refused (os error 111)` → `Connection refused`.
fn without_os_code(text: &str) -> &str {
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => &text[..i],
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &str = "127.0.0.1:2525";

    #[test]
    fn each_error_is_one_exact_line_and_permanent_only_for_5xx_and_setup() {
        let cases: [(SmtpError, &str, bool); 10] = [
            (
                SmtpError::reply(S, 535, "Invalid username or password"),
                "SMTP 127.0.0.1:2525: authentication failed: 535 Invalid username or password",
                true,
            ),
            (
                SmtpError::reply(S, 530, "5.7.0 Authentication required"),
                "SMTP 127.0.0.1:2525: authentication failed: 530 5.7.0 Authentication required",
                true,
            ),
            (
                SmtpError::reply(
                    S,
                    550,
                    "5.1.1 <sre@example.org>: Recipient address rejected:\nUser unknown",
                ),
                "SMTP 127.0.0.1:2525: mail refused: 550 5.1.1 <sre@example.org>: Recipient address rejected: User unknown",
                true,
            ),
            (
                SmtpError::reply(S, 451, "4.3.0 Try again later"),
                "SMTP 127.0.0.1:2525: mail deferred: 451 4.3.0 Try again later",
                false,
            ),
            (
                SmtpError::reply(S, 421, "Service not available"),
                "SMTP 127.0.0.1:2525: mail deferred: 421 Service not available",
                false,
            ),
            (
                SmtpError::connect(S, "Connection refused (os error 111)"),
                "SMTP 127.0.0.1:2525: cannot connect: Connection refused",
                false,
            ),
            (
                SmtpError::timeout(S, Duration::from_secs(10)),
                "SMTP 127.0.0.1:2525: timed out after 10s",
                false,
            ),
            (
                SmtpError::tls(S, "invalid peer certificate: UnknownIssuer"),
                "SMTP 127.0.0.1:2525: TLS handshake failed: invalid peer certificate: UnknownIssuer",
                false,
            ),
            (
                SmtpError::other(S, "connection lost: Broken pipe".into()),
                "SMTP 127.0.0.1:2525: connection lost: Broken pipe",
                false,
            ),
            (
                SmtpError::setup(S, "to: no recipients".into()),
                "SMTP 127.0.0.1:2525: to: no recipients",
                true,
            ),
        ];
        for (error, shown, permanent) in cases {
            assert_eq!(error.to_string(), shown);
            assert_eq!(error.is_permanent(), permanent, "{shown}");
        }
    }

    #[test]
    fn a_secret_the_server_echoes_is_scrubbed() {
        let secret = Secret::new(b"hunter2".to_vec());
        let echoed = SmtpError::reply(S, 535, "bad password hunter2").scrubbed(&secret);
        assert_eq!(
            echoed.to_string(),
            "SMTP 127.0.0.1:2525: authentication failed: 535 bad password <redacted>"
        );
    }

    #[test]
    fn os_codes_are_dropped_only_at_the_end() {
        assert_eq!(
            without_os_code("Connection refused (os error 111)"),
            "Connection refused"
        );
        assert_eq!(without_os_code("no route"), "no route");
    }
}
