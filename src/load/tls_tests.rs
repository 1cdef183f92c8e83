//! The load transport over TLS against a rustls server started in the test (certificates from a test CA
//! made with rcgen): HTTP/2 and HTTP/1.1 by ALPN, each forced, TLS sessions resumed across reconnects and
//! across workers, and handshake failures with their class and text; without TLS, HTTP/2 with prior knowledge.

use super::connection::Connection;
use super::http_version::{ALPN_H2, ALPN_HTTP1, HttpChoice};
use super::opened::Opened;
use crate::probe::{FailureClass, PreparedRequest, RequestSpec, TransportFailure};
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, HandshakeKind, RootCertStore, ServerConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A test CA named `ca_name` and a certificate it issued for `localhost` and 127.0.0.1.
struct Pki {
    ca: CertificateDer<'static>,
    leaf: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

fn pki(ca_name: &str) -> Pki {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, ca_name);
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
    let leaf =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("leaf params")
            .signed_by(&leaf_key, &issuer)
            .expect("leaf");
    Pki {
        ca: ca.der().clone(),
        leaf: leaf.der().clone(),
        key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A client configuration as `LoadTransport` makes one, trusting `root` instead of the platform's roots.
fn client_config(root: &CertificateDer<'static>, choice: HttpChoice) -> Arc<ClientConfig> {
    let mut store = RootCertStore::empty();
    store.add(root.clone()).expect("root");
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(store)
        .with_no_client_auth();
    config.alpn_protocols = choice.alpn();
    Arc::new(config)
}

/// What the test server saw.
#[derive(Debug, Default)]
struct Seen {
    handshakes: AtomicU64,
    resumed: AtomicU64,
}

/// A TLS server answering `{"status":"healthy"}`, offering `alpn`; with `close_each`, every HTTP/1.1
/// response closes its connection.
async fn tls_server(pki: &Pki, alpn: &[&[u8]], close_each: bool) -> (SocketAddr, Arc<Seen>) {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![pki.leaf.clone()],
            PrivateKeyDer::Pkcs8(pki.key.clone_key()),
        )
        .expect("server config");
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Seen::default());
    let counts = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, counts) = (acceptor.clone(), counts.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let session = tls.get_ref().1;
                counts.handshakes.fetch_add(1, Ordering::SeqCst);
                if session.handshake_kind() == Some(HandshakeKind::Resumed) {
                    counts.resumed.fetch_add(1, Ordering::SeqCst);
                }
                let h2 = session.alpn_protocol() == Some(ALPN_H2);
                let service = hyper::service::service_fn(move |_request| async move {
                    let mut response = hyper::Response::new(Full::new(Bytes::from_static(
                        br#"{"status":"healthy"}"#,
                    )));
                    if close_each && !h2 {
                        response.headers_mut().insert(
                            hyper::header::CONNECTION,
                            hyper::header::HeaderValue::from_static("close"),
                        );
                    }
                    Ok::<_, std::convert::Infallible>(response)
                });
                let io = TokioIo::new(tls);
                let _ = if h2 {
                    http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await
                } else {
                    http1::Builder::new().serve_connection(io, service).await
                };
            });
        }
    });
    (addr, seen)
}

fn request(url: &str) -> PreparedRequest {
    let spec = RequestSpec {
        method: "GET".into(),
        path: "/api/v1/health".into(),
        body: None,
        headers: Vec::new(),
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        tls: Default::default(),
    };
    PreparedRequest::new(&spec, &url::Url::parse(url).expect("url")).expect("prepared")
}

/// Sends `n` requests one after another on `connection`; the status of each, or its failure.
async fn send(
    connection: &mut Connection,
    request: &PreparedRequest,
    n: usize,
) -> Vec<Result<u16, TransportFailure>> {
    let mut out = Vec::new();
    for _ in 0..n {
        let exchanged = connection.send(request, 1 << 20).await;
        out.push(exchanged.outcome.map(|r| r.status));
    }
    out
}

#[tokio::test]
async fn alpn_picks_http2_or_http1_and_each_can_be_forced() {
    let pki = pki("oewsprobe test CA");
    let (both, _) = tls_server(&pki, &[ALPN_H2, ALPN_HTTP1], false).await;
    let (http1_only, _) = tls_server(&pki, &[ALPN_HTTP1], false).await;
    let cases = [
        (both, HttpChoice::Negotiate, (0, 1)),
        (both, HttpChoice::Http2, (0, 1)),
        (both, HttpChoice::Http1, (1, 0)),
        (http1_only, HttpChoice::Negotiate, (1, 0)),
        (http1_only, HttpChoice::Http1, (1, 0)),
    ];
    for (addr, choice, (http1, http2)) in cases {
        let request = request(&format!("https://localhost:{}", addr.port()));
        let config = client_config(&pki.ca, choice);
        let mut connection =
            Connection::for_request(&request, Some(config), choice).expect("connection");
        assert_eq!(
            send(&mut connection, &request, 3).await,
            vec![Ok(200); 3],
            "{choice:?}"
        );
        let opened = connection.opened();
        assert_eq!(
            (opened.http1, opened.http2, opened.tls_handshakes),
            (http1, http2, 1),
            "{choice:?} against {addr}: one kept-alive connection"
        );
    }
}

#[tokio::test]
async fn forcing_http2_on_a_server_that_picks_no_protocol_fails_as_tls() {
    let pki = pki("oewsprobe test CA");
    let (no_alpn, _) = tls_server(&pki, &[], false).await;
    let request = request(&format!("https://127.0.0.1:{}", no_alpn.port()));
    let config = client_config(&pki.ca, HttpChoice::Http2);
    let mut connection =
        Connection::for_request(&request, Some(config), HttpChoice::Http2).expect("connection");
    let failure = TransportFailure {
        class: FailureClass::Tls,
        detail: format!(
            "{no_alpn} did not agree to HTTP/2 in the TLS handshake (no ALPN protocol chosen)"
        ),
    };
    assert_eq!(send(&mut connection, &request, 1).await, vec![Err(failure)]);
    // Without a protocol chosen, the negotiated default is HTTP/1.1.
    let config = client_config(&pki.ca, HttpChoice::Negotiate);
    let mut connection =
        Connection::for_request(&request, Some(config), HttpChoice::Negotiate).expect("connection");
    assert_eq!(send(&mut connection, &request, 1).await, vec![Ok(200)]);
    assert_eq!(connection.opened().http1, 1);
}

#[tokio::test]
async fn reconnects_resume_the_tls_session_across_a_worker_and_across_workers() {
    let pki = pki("oewsprobe test CA");
    let (addr, seen) = tls_server(&pki, &[ALPN_HTTP1], true).await;
    let request = request(&format!("https://localhost:{}", addr.port()));
    let config = client_config(&pki.ca, HttpChoice::Negotiate);
    let mut first = Connection::for_request(&request, Some(config.clone()), HttpChoice::Negotiate)
        .expect("connection");
    // The server closes after every response: four requests, four connections, the first one full.
    assert_eq!(send(&mut first, &request, 4).await, vec![Ok(200); 4]);
    let expected = Opened {
        http1: 4,
        http2: 0,
        tls_handshakes: 4,
        tls_resumed: 3,
    };
    assert_eq!(*first.opened(), expected);
    // Another worker sharing the run's configuration resumes on its very first connection.
    let mut second =
        Connection::for_request(&request, Some(config), HttpChoice::Negotiate).expect("connection");
    assert_eq!(send(&mut second, &request, 1).await, vec![Ok(200)]);
    assert_eq!(second.opened().tls_resumed, 1);
    // The server saw the same: five handshakes, four of them resumed.
    assert_eq!(
        (
            seen.handshakes.load(Ordering::SeqCst),
            seen.resumed.load(Ordering::SeqCst)
        ),
        (5, 4)
    );
}

#[tokio::test]
async fn an_unknown_issuer_fails_the_handshake_as_tls() {
    let pki = pki("oewsprobe test CA");
    let (addr, _) = tls_server(&pki, &[ALPN_H2, ALPN_HTTP1], false).await;
    let request = request(&format!("https://localhost:{}", addr.port()));
    let stranger = self::pki("another CA").ca;
    let config = client_config(&stranger, HttpChoice::Negotiate);
    let mut connection =
        Connection::for_request(&request, Some(config), HttpChoice::Negotiate).expect("connection");
    let failure = TransportFailure {
        class: FailureClass::Tls,
        detail: format!(
            "TLS handshake with localhost:{} failed: invalid peer certificate: UnknownIssuer",
            addr.port()
        ),
    };
    assert_eq!(send(&mut connection, &request, 1).await, vec![Err(failure)]);
    assert_eq!(*connection.opened(), Opened::default());
}

#[test]
fn the_load_configuration_offers_the_chosen_protocols() {
    for choice in [HttpChoice::Negotiate, HttpChoice::Http1, HttpChoice::Http2] {
        let transport =
            super::transport::LoadTransport::new(choice, crate::tls::TlsSettings::default());
        let config = transport.tls().expect("platform verifier");
        assert_eq!(config.alpn_protocols, choice.alpn());
    }
}

#[tokio::test]
async fn http2_over_plain_http_is_prior_knowledge() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|request: hyper::Request<_>| async move {
                    let body = format!("{:?}", request.version());
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from(
                        body,
                    ))))
                });
                let _ = http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    let request = request(&format!("http://{addr}"));
    let mut connection =
        Connection::for_request(&request, None, HttpChoice::Http2).expect("connection");
    let exchanged = connection.send(&request, 1 << 20).await;
    let response = exchanged.outcome.expect("answered");
    assert_eq!(
        (response.status, response.body.as_slice()),
        (200, &b"HTTP/2.0"[..])
    );
    assert_eq!(
        *connection.opened(),
        Opened {
            http2: 1,
            ..Opened::default()
        }
    );
}

#[tokio::test]
async fn a_server_that_never_answers_the_handshake_is_a_connect_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let pki = pki("oewsprobe test CA");
    let request = request(&format!("https://127.0.0.1:{}", addr.port()));
    let config = client_config(&pki.ca, HttpChoice::Negotiate);
    let mut connection =
        Connection::for_request(&request, Some(config), HttpChoice::Negotiate).expect("connection");
    // TCP connects at once; the TLS handshake counts against the same 2 s connect timeout.
    let failure = TransportFailure {
        class: FailureClass::ConnectTimeout,
        detail: "no connection within 2s".to_string(),
    };
    assert_eq!(send(&mut connection, &request, 1).await, vec![Err(failure)]);
}
