//! TLS shared by every part that speaks it: PEM files read into rustls types, the trust settings of a target,
//! and the one builder of client configurations (the probe client, the load transport and SMTP-free parts).
//!
//! For a transport: `client_config(&settings, &[b"h2", b"http/1.1"])` gives an `Arc<rustls::ClientConfig>`
//! honouring `tls.ca_file` (extra roots on top of the platform's), `tls.server_name` (the name verified; pass
//! `settings.server_name` as the `ServerName` to connect with so SNI carries it too) and `tls.insecure`.

mod facts;
mod pem;
mod settings;
mod verify;

pub use facts::{CertificateFacts, TlsFacts, certificate_facts, utc_text};
pub use pem::{read_certificates, read_private_key};
pub use settings::{INSECURE_WARNING, TlsSettings, name_text, parse_server_name};
pub use verify::{
    HandshakeObserver, client_config, config_with, observed_verifier, provider, verifier, warm_up,
};
