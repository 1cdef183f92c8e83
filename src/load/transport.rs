//! How a load run reaches its target: the HTTP version asked for and the one TLS client configuration all its
//! workers share (its session store is what lets a worker's reconnect resume its TLS session).

use super::http_version::HttpChoice;
use crate::tls::TlsSettings;
use rustls::ClientConfig;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct LoadTransport {
    pub http: HttpChoice,
    /// The trust settings of the probe under load (`[tls]` merged with the probe's own `tls`).
    settings: TlsSettings,
    /// A given TLS configuration; `None`: the one `settings` make, when an `https://` run asks for it.
    tls: Option<Arc<ClientConfig>>,
}

impl LoadTransport {
    /// Trusting as `settings` say (the probe client's builder, `crate::tls::client_config`), offering `http`'s
    /// ALPN protocols.
    pub fn new(http: HttpChoice, settings: TlsSettings) -> LoadTransport {
        LoadTransport {
            http,
            settings,
            tls: None,
        }
    }

    /// With `config`'s verifier and roots instead (its ALPN protocols are replaced by `http`'s).
    pub fn with_tls_config(http: HttpChoice, config: ClientConfig) -> LoadTransport {
        LoadTransport {
            http,
            settings: TlsSettings::default(),
            tls: Some(with_alpn(config, http)),
        }
    }

    /// The TLS configuration for an `https://` run, shared by all its workers. Every TLS setting of a load
    /// run comes from here.
    pub fn tls(&self) -> Result<Arc<ClientConfig>, String> {
        if let Some(config) = &self.tls {
            return Ok(config.clone());
        }
        let alpn = self.http.alpn();
        let alpn: Vec<&[u8]> = alpn.iter().map(Vec::as_slice).collect();
        crate::tls::client_config(&self.settings, &alpn)
            .map_err(|e| format!("cannot set up TLS: {e}"))
    }

    /// Whether the run verifies no certificate (`tls.insecure`): its outputs say so.
    pub fn insecure(&self) -> bool {
        self.settings.insecure
    }
}

fn with_alpn(mut config: ClientConfig, http: HttpChoice) -> Arc<ClientConfig> {
    config.alpn_protocols = http.alpn();
    Arc::new(config)
}
