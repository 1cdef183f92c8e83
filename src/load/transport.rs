//! How a load run reaches its target: the HTTP version asked for and the one TLS client configuration all its
//! workers share (its session store is what lets a worker's reconnect resume its TLS session).

use super::http_version::HttpChoice;
use rustls::ClientConfig;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct LoadTransport {
    pub http: HttpChoice,
    /// `None` when the platform's certificate verifier cannot be set up: an `https://` run then cannot start.
    tls: Option<Arc<ClientConfig>>,
}

impl LoadTransport {
    /// The probe client's verifier (the platform's roots), offering `http`'s ALPN protocols. Every TLS setting
    /// of a load run comes from here.
    pub fn new(http: HttpChoice) -> LoadTransport {
        LoadTransport {
            http,
            tls: crate::probe::shared_tls().map(|config| with_alpn(config, http)),
        }
    }

    /// With `config`'s verifier and roots instead (its ALPN protocols are replaced by `http`'s).
    pub fn with_tls_config(http: HttpChoice, config: ClientConfig) -> LoadTransport {
        LoadTransport {
            http,
            tls: Some(with_alpn(config, http)),
        }
    }

    /// The TLS configuration for an `https://` run.
    pub fn tls(&self) -> Result<Arc<ClientConfig>, String> {
        self.tls.clone().ok_or_else(|| {
            "cannot set up TLS: the platform's certificate verifier is unavailable".to_string()
        })
    }
}

fn with_alpn(mut config: ClientConfig, http: HttpChoice) -> Arc<ClientConfig> {
    config.alpn_protocols = http.alpn();
    Arc::new(config)
}
