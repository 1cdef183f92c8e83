//! The simulator over HTTPS: its certificate and key (PEM files), and the accept loop that serves the same
//! routes over TLS with ALPN offering `h2` and `http/1.1` (hyper-util's auto builder over tokio-rustls).

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower_service::Service as _;

/// The simulator's TLS identity: a certificate chain and its private key, ready to serve.
#[derive(Clone)]
pub struct SimTls {
    config: Arc<rustls::ServerConfig>,
}

impl fmt::Debug for SimTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key stays out of every debug print.
        f.debug_struct("SimTls").finish_non_exhaustive()
    }
}

/// Why the simulator's certificate or key could not be used, naming the flag and the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SimTlsError(String);

impl SimTls {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<SimTls, SimTlsError> {
        let chain = crate::tls::read_certificates(cert)
            .map_err(|e| SimTlsError(format!("--tls-cert: {e}")))?;
        let private_key = crate::tls::read_private_key(key)
            .map_err(|e| SimTlsError(format!("--tls-key: {e}")))?;
        SimTls::from_der(chain, private_key).map_err(|e| {
            let problem = match e {
                rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                    "is not the private key of".to_string()
                }
                e => format!("cannot be used ({e}) with"),
            };
            SimTlsError(format!(
                "--tls-key: {} {problem} the certificate in {}",
                key.display(),
                cert.display()
            ))
        })
    }

    /// A TLS identity from DER values (tests make them with rcgen).
    pub fn from_der(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<SimTls, rustls::Error> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(SimTls {
            config: Arc::new(config),
        })
    }
}

/// Serves `app` over TLS on `listener` until `stopped` turns true, then waits for open connections to finish.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    tls: SimTls,
    mut stopped: watch::Receiver<bool>,
) -> io::Result<()> {
    let acceptor = TlsAcceptor::from(tls.config);
    let graceful = GracefulShutdown::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // A failed accept (e.g. too many open files) concerns one connection, not the server.
                Err(error) => {
                    tracing::debug!(%error, "simulator: accept failed");
                    continue;
                }
            },
            _ = stopped.wait_for(|stopped| *stopped) => break,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let tls = tokio::select! {
                handshake = acceptor.accept(tcp) => match handshake {
                    Ok(tls) => tls,
                    Err(error) => {
                        tracing::debug!(%error, %peer, "simulator: TLS handshake failed");
                        return;
                    }
                },
                _ = stopped.wait_for(|stopped| *stopped) => return,
            };
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    app.clone().call(request)
                });
            let builder = auto::Builder::new(TokioExecutor::new());
            let connection = builder
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .into_owned();
            if let Err(error) = watcher.watch(connection).await {
                tracing::debug!(%error, %peer, "simulator: connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
