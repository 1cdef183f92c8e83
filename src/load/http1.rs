//! A lean HTTP/1.1 client for load on plain-HTTP targets: one kept-alive connection per worker, driven with
//! hyper directly (no pool, no per-request URL or header work), about 1.6x the throughput of a pooled client.
//! HTTPS targets use the probe client instead (TLS load against the real API is a few requests, not
//! thousands per second).

use crate::probe::{
    Exchanged, FailureClass, HttpResponse, PreparedRequest, TransportFailure, timeout_failure,
};
use crate::report::duration_text;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HOST, HeaderValue, RETRY_AFTER};
use std::time::{Duration, Instant};

/// One connection, opened on first use and again after any failure.
#[derive(Debug)]
pub struct Http1Connection {
    address: String,
    host: HeaderValue,
    path: hyper::Uri,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Http1Connection {
    /// For an `http://` request; `None` for other schemes.
    pub fn for_request(request: &PreparedRequest) -> Option<Http1Connection> {
        let url = request.url();
        if url.scheme() != "http" {
            return None;
        }
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        Some(Http1Connection {
            address: format!("{host}:{port}"),
            host: HeaderValue::from_str(&authority).ok()?,
            path: path.parse().ok()?,
            sender: None,
        })
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
        let (path, host) = (self.path.clone(), self.host.clone());
        let sender = self.ready_sender(request.connect_timeout()).await?;
        let mut outgoing =
            hyper::Request::new(Full::new(request.body().cloned().unwrap_or_default()));
        *outgoing.method_mut() = request.method().clone();
        *outgoing.uri_mut() = path;
        *outgoing.headers_mut() = request.headers().clone();
        outgoing.headers_mut().insert(HOST, host);
        let response = sender
            .send_request(outgoing)
            .await
            .map_err(|e| failure(FailureClass::Network, format!("request failed: {e}")))?;
        *first_byte = Some(started.elapsed());
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let declared = hyper::body::Body::size_hint(response.body()).exact();
        let mut out = HttpResponse::headers_only(status, retry_after, declared, cap);
        if out.over_cap {
            // The body is not read: the connection cannot be reused.
            self.sender = None;
            return Ok(out);
        }
        let mut body_stream = response.into_body();
        while let Some(frame) = body_stream.frame().await {
            let frame = frame.map_err(|e| {
                failure(
                    FailureClass::InvalidBody,
                    format!("status {status}, but the body was cut off: {e}"),
                )
            })?;
            if let Ok(chunk) = frame.into_data()
                && out.push_chunk(&chunk, cap)
            {
                // The rest of an oversized body is not read: the connection cannot be reused.
                self.sender = None;
                break;
            }
        }
        Ok(out)
    }

    /// The open connection, ready for a request, or a new one.
    async fn ready_sender(
        &mut self,
        connect_timeout: Duration,
    ) -> Result<&mut SendRequest<Full<Bytes>>, TransportFailure> {
        if let Some(sender) = &mut self.sender
            && sender.ready().await.is_err()
        {
            self.sender = None;
        }
        if self.sender.is_none() {
            self.sender = Some(self.connect(connect_timeout).await?);
        }
        self.sender
            .as_mut()
            .ok_or_else(|| failure(FailureClass::Network, "no connection".to_string()))
    }

    async fn connect(
        &self,
        connect_timeout: Duration,
    ) -> Result<SendRequest<Full<Bytes>>, TransportFailure> {
        let stream = match tokio::time::timeout(
            connect_timeout,
            tokio::net::TcpStream::connect(&self.address),
        )
        .await
        {
            Err(_) => {
                return Err(failure(
                    FailureClass::ConnectTimeout,
                    format!("no connection within {}", duration_text(connect_timeout)),
                ));
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Err(failure(
                    FailureClass::ConnectRefused,
                    format!("connection refused: {} ({e})", self.address),
                ));
            }
            Ok(Err(e)) => {
                return Err(failure(
                    FailureClass::Network,
                    format!("cannot connect to {}: {e}", self.address),
                ));
            }
            Ok(Ok(stream)) => stream,
        };
        let _ = stream.set_nodelay(true);
        let (sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| {
                    failure(
                        FailureClass::Network,
                        format!("HTTP handshake with {} failed: {e}", self.address),
                    )
                })?;
        tokio::spawn(connection);
        Ok(sender)
    }
}

fn failure(class: FailureClass, detail: String) -> TransportFailure {
    TransportFailure { class, detail }
}
