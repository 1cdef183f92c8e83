//! TLS for the load tests: a TLS front (rustls, certificate from a test CA) that passes each connection's
//! bytes to a plain server behind it, so any loopback test server can be reached over HTTPS; a client
//! configuration trusting a test CA; and a one-shot HTTPS GET.
#![allow(dead_code)]

use super::certs::{ServerCert, TestCa};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A client configuration that trusts `ca` alone.
pub fn trusting(ca: &CertificateDer<'static>) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).expect("test CA");
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// Serves TLS (HTTP/1.1 by ALPN) with `cert` on a loopback port and relays every connection to `inner`.
pub async fn tls_front(inner: SocketAddr, cert: &ServerCert) -> SocketAddr {
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).expect("key PEM");
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(cert.chain.clone(), key)
        .expect("certificate and key fit");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(inner).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}

/// A test CA and a certificate it issued for 127.0.0.1 and `localhost`.
pub fn loopback_pki() -> (TestCa, ServerCert) {
    let ca = TestCa::new("oewsprobe load test CA");
    let cert = ca.issue(
        &["127.0.0.1", "localhost"],
        super::certs::Validity::normal(),
    );
    (ca, cert)
}

/// A one-shot HTTP/1.1 GET over TLS on loopback, trusting `ca`: the response body.
pub fn https_get(addr: &str, path: &str, ca: &CertificateDer<'static>) -> String {
    use std::io::{Read, Write};
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h).to_string();
    let name = ServerName::try_from(host).expect("server name");
    let connection =
        rustls::ClientConnection::new(Arc::new(trusting(ca)), name).expect("TLS client");
    let tcp = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = Vec::new();
    // The server may close without close_notify once it has answered: keep what was read.
    let _ = tls.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response: {response}"));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_string()
}
