//! Opening a load connection: TCP (with the connect timeout), TLS for `https://`, then the HTTP/1.1 or
//! HTTP/2 handshake; the connection's driver runs as its own task. Each failure gets its class.

use super::endpoint::Endpoint;
use super::http_version::{HttpChoice, HttpVersion};
use super::sender::Sender;
use super::tls_connect::handshake;
use crate::probe::{FailureClass, TransportFailure};
use crate::report::duration_text;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// A new connection: its sender and, over TLS, whether the handshake resumed a session.
#[derive(Debug)]
pub struct Dialled {
    pub sender: Sender,
    pub resumed: Option<bool>,
}

/// Opens a connection to `endpoint`: TCP, TLS and the HTTP handshake together within `connect_timeout`.
pub async fn dial(
    endpoint: &Endpoint,
    tls: Option<&Arc<ClientConfig>>,
    choice: HttpChoice,
    connect_timeout: Duration,
) -> Result<Dialled, TransportFailure> {
    tokio::time::timeout(connect_timeout, open(endpoint, tls, choice))
        .await
        .map_err(|_| {
            failure(
                FailureClass::ConnectTimeout,
                format!("no connection within {}", duration_text(connect_timeout)),
            )
        })?
}

async fn open(
    endpoint: &Endpoint,
    tls: Option<&Arc<ClientConfig>>,
    choice: HttpChoice,
) -> Result<Dialled, TransportFailure> {
    let address = endpoint.address.as_str();
    let tcp = tcp_connect(address).await?;
    match (tls, &endpoint.tls_name) {
        (Some(config), Some(name)) => {
            let tls = handshake(config, name.clone(), tcp, choice, address).await?;
            Ok(Dialled {
                sender: http_handshake(tls.stream, tls.version, address).await?,
                resumed: Some(tls.resumed),
            })
        }
        _ => {
            // Plain HTTP: HTTP/1.1, or HTTP/2 with prior knowledge when asked for.
            let version = match choice {
                HttpChoice::Http2 => HttpVersion::Http2,
                _ => HttpVersion::Http1,
            };
            Ok(Dialled {
                sender: http_handshake(tcp, version, address).await?,
                resumed: None,
            })
        }
    }
}

async fn tcp_connect(address: &str) -> Result<TcpStream, TransportFailure> {
    let stream = TcpStream::connect(address).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::ConnectionRefused {
            failure(
                FailureClass::ConnectRefused,
                format!("connection refused: {address} ({e})"),
            )
        } else {
            failure(
                FailureClass::Network,
                format!("cannot connect to {address}: {e}"),
            )
        }
    })?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

async fn http_handshake<T>(
    io: T,
    version: HttpVersion,
    address: &str,
) -> Result<Sender, TransportFailure>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let failed = |e: &dyn std::fmt::Display| {
        failure(
            FailureClass::Network,
            format!("HTTP handshake with {address} failed: {e}"),
        )
    };
    Ok(match version {
        HttpVersion::Http1 => {
            let (sender, connection) = http1::handshake(TokioIo::new(io))
                .await
                .map_err(|e| failed(&e))?;
            tokio::spawn(connection);
            Sender::Http1(sender)
        }
        HttpVersion::Http2 => {
            let (sender, connection) = h2::client::handshake(io).await.map_err(|e| failed(&e))?;
            tokio::spawn(connection);
            Sender::Http2(sender)
        }
    })
}

pub fn failure(class: FailureClass, detail: String) -> TransportFailure {
    TransportFailure { class, detail }
}
