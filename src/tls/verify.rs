//! The one place client TLS is configured: the platform's verifier (shared: loading the system's roots takes
//! milliseconds), extra roots, a verification name other than the URL's host, or no verification.

use std::sync::{Arc, Mutex, OnceLock};

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use super::TlsSettings;

/// The crypto provider of every oewsprobe TLS connection (aws-lc-rs).
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .clone()
}

/// Initialises the crypto library's random generator and key exchange once, outside any timed section: the
/// first handshake of a process would otherwise pay for it (tens of milliseconds in a debug build) before its
/// client hello, and a probe's first `connect` would show it.
pub fn warm_up() {
    static WARM: OnceLock<()> = OnceLock::new();
    WARM.get_or_init(|| {
        let provider = provider();
        let _ = provider.secure_random.fill(&mut [0u8; 32]);
        if let Some(group) = provider.kx_groups.first() {
            let _ = group.start();
        }
    });
}

/// A client configuration for `settings`, offering `alpn` (e.g. `[b"h2", b"http/1.1"]`). Cheap after the first
/// call with the same roots: verifiers are shared.
pub fn client_config(
    settings: &TlsSettings,
    alpn: &[&[u8]],
) -> Result<Arc<rustls::ClientConfig>, String> {
    Ok(Arc::new(config_with(verifier(settings)?, alpn)?))
}

/// A client configuration with `verifier`, offering `alpn`: the building block of [`client_config`] for
/// clients that wrap the verifier.
pub fn config_with(
    verifier: Arc<dyn ServerCertVerifier>,
    alpn: &[&[u8]],
) -> Result<rustls::ClientConfig, String> {
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// The certificate verifier for `settings`.
pub fn verifier(settings: &TlsSettings) -> Result<Arc<dyn ServerCertVerifier>, String> {
    observed_verifier(settings, None)
}

/// What a client may want to know of each handshake it makes, told by the verifier as it verifies.
pub trait HandshakeObserver: std::fmt::Debug + Send + Sync {
    /// The certificates presented (leaf first), the name they were verified for, and the outcome.
    fn certificates(
        &self,
        chain: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        outcome: &Result<ServerCertVerified, rustls::Error>,
    );
    /// `1.2` or `1.3`: the protocol whose handshake signature the server made.
    fn version(&self, version: &'static str);
}

/// [`verifier`], telling `observer` what each handshake showed.
pub fn observed_verifier(
    settings: &TlsSettings,
    observer: Option<Arc<dyn HandshakeObserver>>,
) -> Result<Arc<dyn ServerCertVerifier>, String> {
    let inner = platform_verifier(&settings.extra_roots)?;
    if !settings.insecure && settings.server_name.is_none() && observer.is_none() {
        return Ok(inner);
    }
    Ok(Arc::new(Policy {
        inner,
        name: settings.server_name.clone(),
        accept_anything: settings.insecure,
        observer,
    }))
}

/// The platform's verifier with `extra_roots` added, built once per distinct set of extra roots.
fn platform_verifier(
    extra_roots: &[CertificateDer<'static>],
) -> Result<Arc<dyn ServerCertVerifier>, String> {
    type Cache = Mutex<Vec<(Vec<CertificateDer<'static>>, Arc<dyn ServerCertVerifier>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    let mut cache = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, verifier)) = cache.iter().find(|(roots, _)| roots == extra_roots) {
        return Ok(verifier.clone());
    }
    let verifier: Arc<dyn ServerCertVerifier> = Arc::new(
        rustls_platform_verifier::Verifier::new_with_extra_roots(
            extra_roots.iter().cloned(),
            provider(),
        )
        .map_err(|e| format!("cannot set up certificate verification: {e}"))?,
    );
    cache.push((extra_roots.to_vec(), verifier.clone()));
    Ok(verifier)
}

/// The platform's verifier with the settings' twists: another name to verify for (`tls.server_name`), or no
/// verification of the certificate at all (`tls.insecure`; the handshake's signatures are still checked
/// against the certificate presented), and an observer told what was shown.
#[derive(Debug)]
struct Policy {
    inner: Arc<dyn ServerCertVerifier>,
    name: Option<ServerName<'static>>,
    accept_anything: bool,
    observer: Option<Arc<dyn HandshakeObserver>>,
}

impl ServerCertVerifier for Policy {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let name = self.name.as_ref().unwrap_or(server_name);
        let outcome = if self.accept_anything {
            Ok(ServerCertVerified::assertion())
        } else {
            self.inner
                .verify_server_cert(end_entity, intermediates, name, ocsp_response, now)
        };
        if let Some(observer) = &self.observer {
            let chain: Vec<CertificateDer<'_>> = std::iter::once(end_entity)
                .chain(intermediates)
                .cloned()
                .collect();
            observer.certificates(&chain, name, &outcome);
        }
        outcome
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if let Some(observer) = &self.observer {
            observer.version("1.2");
        }
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if let Some(observer) = &self.observer {
            observer.version("1.3");
        }
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }
}
