//! TLS for the load transport: the one client configuration a run's workers share (its session store lets a
//! worker's reconnect resume its TLS session instead of a full handshake), and the handshake over a TCP
//! stream, reporting the ALPN protocol the server picked and whether the session resumed.

use super::http_version::{ALPN_H2, HttpChoice, HttpVersion};
use crate::probe::{FailureClass, TransportFailure};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, HandshakeKind};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The TLS client configuration of a load run: the probe client's verifier (the platform's roots), offering
/// `choice`'s ALPN protocols. Every TLS setting of a load run comes from here.
pub fn load_tls_config(choice: HttpChoice) -> Result<Arc<ClientConfig>, String> {
    let mut config = crate::probe::shared_tls()
        .ok_or("cannot set up TLS: the platform's certificate verifier is unavailable")?;
    config.alpn_protocols = choice.alpn();
    Ok(Arc::new(config))
}

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
