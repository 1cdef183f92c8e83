//! The lean load transport: one kept-alive connection per worker, HTTP/1.1 or HTTP/2, plain or over TLS,
//! driven with hyper directly (no pool, no per-request URL work), reopened after any failure. A reopened
//! TLS connection resumes its session through the run's shared TLS configuration.

use super::dial::{dial, failure};
use super::endpoint::Endpoint;
use super::http_version::{HttpChoice, HttpVersion};
use super::opened::Opened;
use super::sender::{Sender, declared_length};
use crate::probe::{
    Exchanged, FailureClass, HttpResponse, PreparedRequest, TransportFailure, timeout_failure,
};
use hyper::HeaderMap;
use hyper::header::{HOST, RETRY_AFTER};
use rustls::ClientConfig;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One worker's connection, opened on first use and again after any failure.
#[derive(Debug)]
pub struct Connection {
    endpoint: Endpoint,
    tls: Option<Arc<ClientConfig>>,
    choice: HttpChoice,
    /// The request's headers plus `Host`, as HTTP/1.1 sends them (HTTP/2 sends `:authority` instead).
    http1_headers: HeaderMap,
    /// The request's headers less the connection-specific ones HTTP/2 forbids.
    http2_headers: HeaderMap,
    sender: Option<Sender>,
    opened: Opened,
}

impl Connection {
    /// A connection for `request`; `tls` is the run's shared TLS configuration, used for `https://`.
    pub fn for_request(
        request: &PreparedRequest,
        tls: Option<Arc<ClientConfig>>,
        choice: HttpChoice,
    ) -> Result<Connection, String> {
        let mut endpoint = Endpoint::of(request.url())?;
        // `tls.server_name` on an IP target: the URL carries the name (SNI, verification, `Host`); dial the
        // address it stands for.
        if let Some((_, address)) = request.resolve() {
            let port = request.url().port_or_known_default().unwrap_or(443);
            endpoint.address = std::net::SocketAddr::new(address.ip(), port).to_string();
        }
        let mut http1_headers = request.headers().clone();
        http1_headers.insert(HOST, endpoint.host.clone());
        let http2_headers = without_connection_headers(request.headers());
        Ok(Connection {
            endpoint,
            tls,
            choice,
            http1_headers,
            http2_headers,
            sender: None,
            opened: Opened::default(),
        })
    }

    /// The connections opened so far.
    pub fn opened(&self) -> &Opened {
        &self.opened
    }

    /// Sends `request` and reads at most `max_body` bytes, within the request's timeout.
    pub async fn send(&mut self, request: &PreparedRequest, max_body: u64) -> Exchanged {
        let started = Instant::now();
        let timeout = request.timeout();
        let mut first_byte = None;
        let deadline = crate::probe::deadline(started, timeout);
        let outcome = match tokio::time::timeout_at(
            deadline,
            self.exchange(request, max_body, started, &mut first_byte),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(_) => Err(timeout_failure(timeout, first_byte.is_some())),
        };
        if outcome.is_err() {
            self.sender = None;
        }
        Exchanged {
            outcome,
            first_byte,
            total: started.elapsed(),
        }
    }

    async fn exchange(
        &mut self,
        request: &PreparedRequest,
        cap: u64,
        started: Instant,
        first_byte: &mut Option<Duration>,
    ) -> Result<HttpResponse, TransportFailure> {
        let version = self.make_ready(request.connect_timeout()).await?;
        let head = self.head(request, version);
        let sender = self
            .sender
            .as_mut()
            .ok_or_else(|| failure(FailureClass::Network, "no connection".to_string()))?;
        let response = sender
            .send(head, request.body())
            .await
            .map_err(|e| failure(FailureClass::Network, format!("request failed: {e}")))?;
        *first_byte = Some(started.elapsed());
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let declared = declared_length(&response);
        let mut out = HttpResponse::headers_only(status, retry_after, declared, cap);
        if out.over_cap {
            // The body is not read: the connection cannot be reused.
            self.sender = None;
            return Ok(out);
        }
        let mut body = response.into_body();
        while let Some(chunk) = body.chunk().await {
            let chunk = chunk.map_err(|e| {
                failure(
                    FailureClass::InvalidBody,
                    format!("status {status}, but the body was cut off: {e}"),
                )
            })?;
            if out.push_chunk(&chunk, cap) {
                // The rest of an oversized body is not read: the connection cannot be reused.
                self.sender = None;
                break;
            }
        }
        Ok(out)
    }

    /// The head of `request` as `version` sends it.
    fn head(&self, request: &PreparedRequest, version: HttpVersion) -> hyper::Request<()> {
        let mut head = hyper::Request::new(());
        *head.method_mut() = request.method().clone();
        match version {
            HttpVersion::Http1 => {
                *head.uri_mut() = self.endpoint.path.clone();
                *head.headers_mut() = self.http1_headers.clone();
            }
            HttpVersion::Http2 => {
                *head.uri_mut() = self.endpoint.absolute.clone();
                *head.headers_mut() = self.http2_headers.clone();
                *head.version_mut() = hyper::Version::HTTP_2;
            }
        }
        head
    }

    /// Makes the open connection ready for a request, or opens a new one; the version it speaks.
    async fn make_ready(
        &mut self,
        connect_timeout: Duration,
    ) -> Result<HttpVersion, TransportFailure> {
        if let Some(sender) = &mut self.sender
            && sender.ready().await.is_err()
        {
            self.sender = None;
        }
        if self.sender.is_none() {
            let dialled = dial(
                &self.endpoint,
                self.tls.as_ref(),
                self.choice,
                connect_timeout,
            )
            .await?;
            self.opened.count(dialled.sender.version(), dialled.resumed);
            self.sender = Some(dialled.sender);
        }
        self.sender
            .as_ref()
            .map(Sender::version)
            .ok_or_else(|| failure(FailureClass::Network, "no connection".to_string()))
    }
}

/// `headers` less those HTTP/2 forbids (RFC 9113 §8.2.2): `Connection`, `Keep-Alive`, `Proxy-Connection`,
/// `Transfer-Encoding`, `Upgrade`, and `TE` unless it is `trailers`. A probe written for HTTP/1.1 that sets
/// one still works when the server picks HTTP/2, as it does through the probe client.
pub fn without_connection_headers(headers: &HeaderMap) -> HeaderMap {
    use hyper::header::{CONNECTION, TE, TRANSFER_ENCODING, UPGRADE};
    let mut kept = headers.clone();
    for name in [CONNECTION, TRANSFER_ENCODING, UPGRADE] {
        kept.remove(name);
    }
    for name in ["keep-alive", "proxy-connection"] {
        kept.remove(name);
    }
    if kept.get(TE).is_some_and(|v| v != "trailers") {
        kept.remove(TE);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::without_connection_headers;
    use hyper::HeaderMap;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    hyper::header::HeaderName::from_static(k),
                    hyper::header::HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn http2_leaves_out_the_connection_specific_headers_only() {
        let all = headers(&[
            ("connection", "keep-alive"),
            ("keep-alive", "timeout=5"),
            ("proxy-connection", "keep-alive"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("te", "gzip"),
            ("x-request-source", "oewsprobe"),
            ("authorization", "Bearer x"),
        ]);
        assert_eq!(
            without_connection_headers(&all),
            headers(&[
                ("x-request-source", "oewsprobe"),
                ("authorization", "Bearer x")
            ])
        );
        let trailers = headers(&[("te", "trailers")]);
        assert_eq!(without_connection_headers(&trailers), trailers);
    }
}
