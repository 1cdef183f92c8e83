//! How a load run reaches its target: the HTTP version asked for, the one TLS client configuration all its
//! workers share (its session store is what lets a worker's reconnect resume its TLS session), and how many
//! threads (lanes) send.

use super::engine::default_lanes;
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
    /// Threads that send; `None`: [`default_lanes`] of the cores available.
    threads: Option<usize>,
}

impl LoadTransport {
    /// Trusting as `settings` say (the probe client's builder, `crate::tls::client_config`), offering `http`'s
    /// ALPN protocols.
    pub fn new(http: HttpChoice, settings: TlsSettings) -> LoadTransport {
        LoadTransport {
            http,
            settings,
            tls: None,
            threads: None,
        }
    }

    /// With `config`'s verifier and roots instead (its ALPN protocols are replaced by `http`'s).
    pub fn with_tls_config(http: HttpChoice, config: ClientConfig) -> LoadTransport {
        LoadTransport {
            http,
            settings: TlsSettings::default(),
            tls: Some(with_alpn(config, http)),
            threads: None,
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

    /// Sending from `threads` threads (at least one; never more than the run has workers).
    pub fn with_threads(mut self, threads: Option<usize>) -> LoadTransport {
        self.threads = threads.map(|n| n.max(1));
        self
    }

    /// How many threads send: as set, else all cores but one.
    pub fn lanes(&self) -> usize {
        self.threads.unwrap_or_else(|| {
            default_lanes(std::thread::available_parallelism().map_or(1, |n| n.get()))
        })
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
