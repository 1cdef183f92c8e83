//! The load transport's TLS handshake over a TCP stream, reporting the HTTP version the server picked by
//! ALPN and whether the session resumed.

use super::http_version::{ALPN_H2, HttpChoice, HttpVersion};
use crate::probe::{FailureClass, TransportFailure};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, HandshakeKind};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// A TLS connection and what its handshake settled.
#[derive(Debug)]
pub struct TlsConnected {
    pub stream: TlsStream<TcpStream>,
    pub version: HttpVersion,
    pub resumed: bool,
}

/// Runs the TLS handshake on `tcp` for `name`; `address` names the server in failures. With `choice`
/// `Http2`, a server that picks no protocol by ALPN is refused (it may not speak HTTP/2).
pub async fn handshake(
    config: &Arc<ClientConfig>,
    name: ServerName<'static>,
    tcp: TcpStream,
    choice: HttpChoice,
    address: &str,
) -> Result<TlsConnected, TransportFailure> {
    let stream = TlsConnector::from(config.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| TransportFailure {
            class: FailureClass::Tls,
            detail: format!("TLS handshake with {address} failed: {e}"),
        })?;
    let session = stream.get_ref().1;
    let version = match (session.alpn_protocol(), choice) {
        (Some(ALPN_H2), _) => HttpVersion::Http2,
        (None, HttpChoice::Http2) => {
            return Err(TransportFailure {
                class: FailureClass::Tls,
                detail: format!(
                    "{address} did not agree to HTTP/2 in the TLS handshake (no ALPN protocol chosen)"
                ),
            });
        }
        _ => HttpVersion::Http1,
    };
    let resumed = session.handshake_kind() == Some(HandshakeKind::Resumed);
    Ok(TlsConnected {
        stream,
        version,
        resumed,
    })
}
