//! SMTP delivery of rendered alert emails (the adapter; lettre on tokio): one pooled transport built from
//! `[alert.smtp]`, multipart text + HTML mails with their threading headers.

use super::{RenderedEmail, SmtpError};
use crate::rollback::Secret;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// No TLS at all (a relay on the same host or network).
    Plain,
    /// Plain connect, then STARTTLS, which the server must offer (submission, port 587).
    StartTls,
    /// TLS from the first byte (implicit TLS, port 465).
    Tls,
}

impl SmtpSecurity {
    /// The names `security` takes in the config.
    pub const NAMES: [&str; 3] = ["plain", "starttls", "tls"];

    pub fn parse(name: &str) -> Option<SmtpSecurity> {
        match name {
            "plain" => Some(SmtpSecurity::Plain),
            "starttls" => Some(SmtpSecurity::StartTls),
            "tls" => Some(SmtpSecurity::Tls),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::Plain => "plain",
            SmtpSecurity::StartTls => "starttls",
            SmtpSecurity::Tls => "tls",
        }
    }

    /// The port used when none is configured.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::Plain => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
        }
    }
}

impl fmt::Display for SmtpSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `[alert.smtp]`, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
    pub to: Vec<String>,
    /// The whole delivery of one email (connect, TLS, login, send) must finish within this.
    pub timeout: Duration,
    /// An extra trusted root (PEM) for STARTTLS and TLS, besides the system's.
    pub ca_file: Option<PathBuf>,
}

impl SmtpSettings {
    /// `HOST:PORT`, as messages name the server (`[::1]:25` for an IPv6 address).
    pub fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A mail address with an optional display name: `sre@example.org` or `SRE <sre@example.org>`.
pub fn parse_mailbox(text: &str) -> Result<Mailbox, String> {
    text.parse::<Mailbox>().map_err(|_| {
        format!(
            "\"{text}\" is not a mail address; write it like \"sre@example.org\" or \"SRE <sre@example.org>\""
        )
    })
}

/// Sends alert emails through one SMTP server. Connections are pooled and reused between emails.
pub struct Mailer {
    /// The pool. A send cut off by the timeout would hand its connection back to the pool mid-dialogue, so
    /// then the pool is replaced by a fresh one from `builder` (the old one closes its connections).
    transport: Mutex<AsyncSmtpTransport<Tokio1Executor>>,
    builder: AsyncSmtpTransportBuilder,
    server: String,
    security: SmtpSecurity,
    from: Mailbox,
    to: Vec<Mailbox>,
    timeout: Duration,
    /// Kept only to scrub it from error messages.
    password: Option<Secret>,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("security", &self.security)
            .field("from", &self.from.to_string())
            .field("to", &self.to.len())
            .field("login", &self.password.is_some())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Builds the pooled transport. Call it within a tokio runtime (the pool starts its cleanup task).
    pub fn new(settings: &SmtpSettings) -> Result<Mailer, SmtpError> {
        let server = settings.server();
        let setup = |message: String| SmtpError::setup(&server, message);
        let from = parse_mailbox(&settings.from).map_err(|m| setup(format!("from: {m}")))?;
        let to = settings
            .to
            .iter()
            .map(|t| parse_mailbox(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| setup(format!("to: {m}")))?;
        if to.is_empty() {
            return Err(setup("no recipients (to is empty)".into()));
        }
        let tls = match settings.security {
            SmtpSecurity::Plain => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls_parameters(settings).map_err(setup)?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters(settings).map_err(setup)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(settings.timeout))
            .pool_config(PoolConfig::new().max_size(2));
        match (&settings.username, &settings.password) {
            (Some(user), Some(password)) => {
                let password = String::from_utf8(password.expose().to_vec())
                    .map_err(|_| setup("the password is not UTF-8 text".into()))?;
                builder = builder.credentials(Credentials::new(user.clone(), password));
            }
            (None, None) => {}
            _ => return Err(setup("give both username and password, or neither".into())),
        }
        Ok(Mailer {
            transport: Mutex::new(builder.clone().build()),
            builder,
            server,
            security: settings.security,
            from,
            to,
            timeout: settings.timeout,
            password: settings.password.clone(),
        })
    }

    /// Sends `email` to every recipient, as one multipart/alternative (text and HTML) mail.
    pub async fn send(&self, email: &RenderedEmail) -> Result<(), SmtpError> {
        let message =
            message(&self.from, &self.to, email).map_err(|m| SmtpError::setup(&self.server, m))?;
        let transport = self.pool().clone();
        let outcome = tokio::time::timeout(self.timeout, transport.send(message)).await;
        let error = match outcome {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => SmtpError::from_lettre(&self.server, &e, self.timeout),
            Err(_) => {
                *self.pool() = self.builder.clone().build();
                SmtpError::timeout(&self.server, self.timeout)
            }
        };
        Err(match &self.password {
            Some(password) => error.scrubbed(password),
            None => error,
        })
    }

    /// The current pool (a clone shares it).
    fn pool(&self) -> std::sync::MutexGuard<'_, AsyncSmtpTransport<Tokio1Executor>> {
        self.transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn tls_parameters(settings: &SmtpSettings) -> Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(settings.host.clone());
    if let Some(path) = &settings.ca_file {
        for der in crate::tls::read_certificates(path)? {
            let cert = Certificate::from_der(der.to_vec())
                .map_err(|e| format!("{}: {e}", path.display()))?;
            builder = builder.add_root_certificate(cert);
        }
    }
    builder
        .build_rustls()
        .map_err(|e| format!("cannot set up TLS: {e}"))
}

/// The mail: From and To, Subject, Date, Message-ID, In-Reply-To and References (when it follows up an
/// earlier mail), and the text and HTML bodies as alternatives.
pub(super) fn message(
    from: &Mailbox,
    to: &[Mailbox],
    email: &RenderedEmail,
) -> Result<Message, String> {
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(email.subject.clone())
        .date_now()
        .message_id(Some(email.message_id.clone()));
    for recipient in to {
        builder = builder.to(recipient.clone());
    }
    if let Some(parent) = &email.in_reply_to {
        builder = builder
            .in_reply_to(parent.clone())
            .references(parent.clone());
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            email.text.clone(),
            email.html.clone(),
        ))
        .map_err(|e| format!("cannot build the mail: {e}"))
}
