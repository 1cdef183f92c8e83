//! One HTTP exchange: a request prepared once per probe, sent with a deadline, the body read up to a cap,
//! and every transport failure mapped to a failure class.

use super::timing_client::DnsFailure;
use super::verdict::{HttpResponse, TransportFailure};
use super::{FailureClass, RequestBody, RequestLine, RequestSpec};
use crate::report::duration_text;
use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use std::error::Error as _;
use std::time::{Duration, Instant};

/// A probe's request, built once: method, URL, headers and body bytes ready to send many times.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    method: reqwest::Method,
    url: reqwest::Url,
    headers: HeaderMap,
    body: Option<Bytes>,
    timeout: Duration,
    connect_timeout: Duration,
    /// The method and the path as sent (with its query), as findings name the request.
    line: String,
    /// The method and URL as records keep them.
    request_line: RequestLine,
    /// `tls.server_name` for an IP target: the URL carries the name (SNI and `Host`), and this name resolves
    /// to the target's address.
    resolve: Option<(String, std::net::SocketAddr)>,
}

/// What one exchange produced, with its timing from the moment it was sent.
#[derive(Debug)]
pub struct Exchanged {
    pub outcome: Result<HttpResponse, TransportFailure>,
    pub first_byte: Option<Duration>,
    pub total: Duration,
}

impl PreparedRequest {
    /// Prepares `request` for `target` (the base URL; the request's path is appended).
    pub fn new(request: &RequestSpec, target: &url::Url) -> Result<PreparedRequest, String> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|e| format!("bad method: {e}"))?;
        let url = request_url(target, &request.path);
        let mut url = reqwest::Url::parse(&url).map_err(|e| format!("bad URL {url}: {e}"))?;
        let mut shown = url.clone();
        let resolve = named_address(&mut url, &request.tls);
        let mut headers = HeaderMap::new();
        if request.body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        for (name, value) in &request.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("header {name}: {e}"))?;
            let mut value =
                HeaderValue::from_str(value).map_err(|e| format!("header {name}: {e}"))?;
            value.set_sensitive(crate::telemetry::is_sensitive_header(name.as_str()));
            headers.insert(name, value);
        }
        let body = match &request.body {
            Some(RequestBody::Json(value)) => Some(Bytes::from(
                serde_json::to_vec(value).map_err(|e| format!("body: {e}"))?,
            )),
            Some(RequestBody::Text(text)) => Some(Bytes::from(text.clone())),
            None => None,
        };
        let line = format!(
            "{method} {}",
            &url[url::Position::BeforePath..url::Position::AfterQuery]
        );
        // A URL that cannot have credentials has none to strip; the results are not needed.
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        shown.set_fragment(None);
        let request_line = RequestLine {
            method: method.to_string(),
            url: shown.into(),
        };
        Ok(PreparedRequest {
            method,
            url,
            headers,
            body,
            timeout: request.timeout,
            connect_timeout: request.connect_timeout,
            line,
            request_line,
            resolve,
        })
    }

    /// The name a client resolves to the target's address instead of asking DNS (`tls.server_name` for an
    /// IP target), with that address.
    pub fn resolve(&self) -> Option<(&str, std::net::SocketAddr)> {
        self.resolve
            .as_ref()
            .map(|(name, addr)| (name.as_str(), *addr))
    }

    /// The method and the path as sent, with its query, without the target's origin: `GET /api/v1/health`.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The method and URL a record keeps: no user information, no fragment, no headers.
    pub fn request_line(&self) -> &RequestLine {
        &self.request_line
    }

    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    pub fn method(&self) -> &reqwest::Method {
        &self.method
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    pub fn body(&self) -> Option<&Bytes> {
        self.body.as_ref()
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Sends the request and reads at most `max_body` bytes of the answer, all within the request's timeout.
    pub async fn send(&self, http: &reqwest::Client, max_body: u64) -> Exchanged {
        let started = Instant::now();
        let deadline = deadline(started, self.timeout);
        let mut first_byte = None;
        let outcome = match tokio::time::timeout_at(
            deadline,
            self.exchange(http, max_body, started, &mut first_byte),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(_) => Err(timeout_failure(self.timeout, first_byte.is_some())),
        };
        Exchanged {
            outcome,
            first_byte,
            total: started.elapsed(),
        }
    }

    async fn exchange(
        &self,
        http: &reqwest::Client,
        cap: u64,
        started: Instant,
        first_byte: &mut Option<Duration>,
    ) -> Result<HttpResponse, TransportFailure> {
        let mut request = http
            .request(self.method.clone(), self.url.clone())
            .headers(self.headers.clone());
        if let Some(body) = &self.body {
            request = request.body(body.clone());
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| classify(&e, self.connect_timeout))?;
        *first_byte = Some(started.elapsed());
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let mut out =
            HttpResponse::headers_only(status, retry_after, response.content_length(), cap);
        while !out.over_cap
            && let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| body_failure(&e, status))?
        {
            if out.push_chunk(&chunk, cap) {
                break;
            }
        }
        Ok(out)
    }
}

/// For an `https` URL to an IP address with a DNS `tls.server_name`: puts the name in the URL (so it is the
/// SNI, the name verified and the `Host`) and returns it with the address it stands for.
fn named_address(
    url: &mut reqwest::Url,
    tls: &crate::tls::TlsSettings,
) -> Option<(String, std::net::SocketAddr)> {
    let Some(rustls::pki_types::ServerName::DnsName(name)) = &tls.server_name else {
        return None;
    };
    let ip = match url.host()? {
        url::Host::Ipv4(ip) => std::net::IpAddr::V4(ip),
        url::Host::Ipv6(ip) => std::net::IpAddr::V6(ip),
        url::Host::Domain(_) => return None,
    };
    if url.scheme() != "https" {
        return None;
    }
    let name = name.as_ref().to_string();
    url.set_host(Some(&name)).ok()?;
    Some((name, std::net::SocketAddr::new(ip, 0)))
}

/// The URL of a probe's request: the target's base path joined with the probe's path.
pub fn request_url(target: &url::Url, path: &str) -> String {
    format!("{}{}", target.as_str().trim_end_matches('/'), path)
}

/// `started + timeout` for `timeout_at`, never an overflow: a deadline past what `Instant` holds is a year away
/// (config bounds timeouts to an hour; this keeps a bad value from panicking).
pub fn deadline(started: Instant, timeout: Duration) -> tokio::time::Instant {
    const FAR: Duration = Duration::from_secs(365 * 24 * 3600);
    let at = started
        .checked_add(timeout)
        .or_else(|| started.checked_add(FAR))
        .unwrap_or(started);
    tokio::time::Instant::from_std(at)
}

/// The failure of an exchange that ran out of time, saying how far it got.
pub fn timeout_failure(timeout: Duration, got_headers: bool) -> TransportFailure {
    let stage = if got_headers {
        "the body did not complete"
    } else {
        "no response headers"
    };
    TransportFailure {
        class: FailureClass::Timeout,
        detail: format!(
            "no complete response within {} ({stage})",
            duration_text(timeout)
        ),
    }
}

fn body_failure(e: &reqwest::Error, status: u16) -> TransportFailure {
    TransportFailure {
        class: FailureClass::InvalidBody,
        detail: format!(
            "status {status}, but the body was cut off: {}",
            chain_text(e)
        ),
    }
}

/// Maps a client error to a failure class by what its source chain says.
fn classify(e: &reqwest::Error, connect_timeout: Duration) -> TransportFailure {
    let text = chain_text(e);
    let has_dns_failure = {
        let mut source = e.source();
        let mut found = false;
        while let Some(s) = source {
            found |= s.downcast_ref::<DnsFailure>().is_some();
            source = s.source();
        }
        found
    };
    let io_kinds = io_error_kinds(e);
    let lower = text.to_ascii_lowercase();
    let (class, detail) = if has_dns_failure || lower.contains("dns error") {
        (FailureClass::Dns, text)
    } else if io_kinds.contains(&std::io::ErrorKind::ConnectionRefused) {
        (
            FailureClass::ConnectRefused,
            format!("connection refused: {text}"),
        )
    } else if e.is_connect() && e.is_timeout() {
        (
            FailureClass::ConnectTimeout,
            format!("no connection within {}", duration_text(connect_timeout)),
        )
    } else if (e.is_connect() && io_kinds.contains(&std::io::ErrorKind::InvalidData))
        || lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
    {
        // rustls reports handshake failures (bad certificate, not TLS at all) as InvalidData while connecting.
        (FailureClass::Tls, text)
    } else if e.is_timeout() {
        (FailureClass::Timeout, text)
    } else {
        (FailureClass::Network, text)
    };
    TransportFailure { class, detail }
}

/// The kinds of every I/O error in the chain, innermost last. `io::Error::source` skips the error it wraps,
/// so wrapped errors are entered through `get_ref`.
fn io_error_kinds(e: &reqwest::Error) -> Vec<std::io::ErrorKind> {
    let mut kinds = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        source = match s.downcast_ref::<std::io::Error>() {
            Some(io) => {
                kinds.push(io.kind());
                io.get_ref()
                    .map(|inner| inner as &(dyn std::error::Error + 'static))
            }
            None => s.source(),
        };
    }
    kinds
}

/// The error and its causes on one line, without repeats.
fn chain_text(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_line_is_what_was_sent_without_credentials() {
        let spec = |path: &str| RequestSpec {
            method: "GET".into(),
            path: path.into(),
            body: None,
            headers: vec![("Authorization".into(), "Bearer secret".into())],
            timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            tls: crate::tls::TlsSettings::default(),
        };
        let cases = [
            (
                "http://127.0.0.1:8000",
                "/api/v1/health",
                "GET /api/v1/health",
                "http://127.0.0.1:8000/api/v1/health",
            ),
            (
                "http://127.0.0.1:8000/base/",
                "/api/v1/models?verbose=1#top",
                "GET /base/api/v1/models?verbose=1",
                "http://127.0.0.1:8000/base/api/v1/models?verbose=1",
            ),
            (
                "http://user:pass@127.0.0.1:8000",
                "/health",
                "GET /health",
                "http://127.0.0.1:8000/health",
            ),
        ];
        for (target, path, line, url) in cases {
            let target = url::Url::parse(target).expect("target");
            let prepared = PreparedRequest::new(&spec(path), &target).expect("prepared");
            assert_eq!(prepared.line(), line, "{target} {path}");
            assert_eq!(
                prepared.request_line(),
                &RequestLine {
                    method: "GET".into(),
                    url: url.into()
                },
                "{target} {path}"
            );
        }
    }

    #[test]
    fn a_deadline_never_overflows() {
        let now = Instant::now();
        let cases = [
            (Duration::from_secs(5), Duration::from_secs(5)),
            (Duration::MAX, Duration::from_secs(365 * 24 * 3600)),
        ];
        for (timeout, after) in cases {
            assert_eq!(
                deadline(now, timeout).into_std(),
                now + after,
                "{timeout:?}"
            );
        }
    }
}
