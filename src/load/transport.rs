//! How a load run reaches its target: the HTTP version asked for and the one TLS client configuration all its
//! workers share (its session store is what lets a worker's reconnect resume its TLS session).

use super::http_version::HttpChoice;
use rustls::ClientConfig;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct LoadTransport {
    pub http: HttpChoice,
    /// A given TLS configuration; `None`: the platform's, made when an `https://` run asks for it.
    tls: Option<Arc<ClientConfig>>,
}

impl LoadTransport {
    /// With the probe client's verifier (the platform's roots), offering `http`'s ALPN protocols.
    pub fn new(http: HttpChoice) -> LoadTransport {
        LoadTransport { http, tls: None }
    }

    /// With `config`'s verifier and roots instead (its ALPN protocols are replaced by `http`'s).
    pub fn with_tls_config(http: HttpChoice, config: ClientConfig) -> LoadTransport {
        LoadTransport {
            http,
            tls: Some(with_alpn(config, http)),
        }
    }

    /// The TLS configuration for an `https://` run, shared by all its workers. Every TLS setting of a load
    /// run comes from here.
    pub fn tls(&self) -> Result<Arc<ClientConfig>, String> {
        if let Some(config) = &self.tls {
            return Ok(config.clone());
        }
        crate::probe::shared_tls()
            .map(|config| with_alpn(config, self.http))
            .ok_or_else(|| {
                "cannot set up TLS: the platform's certificate verifier is unavailable".to_string()
            })
    }
}

fn with_alpn(mut config: ClientConfig, http: HttpChoice) -> Arc<ClientConfig> {
    config.alpn_protocols = http.alpn();
    Arc::new(config)
}
