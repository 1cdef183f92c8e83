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
    let trusted: Arc<dyn ServerCertVerifier> = if settings.insecure {
        Arc::new(AcceptAnything(provider()))
    } else {
        platform_verifier(&settings.extra_roots)?
    };
    Ok(match &settings.server_name {
        Some(name) => Arc::new(VerifyAs {
            inner: trusted,
            name: name.clone(),
        }),
        None => trusted,
    })
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

/// Verifies for `name` whatever name the connection was opened for (`tls.server_name`).
#[derive(Debug)]
struct VerifyAs {
    inner: Arc<dyn ServerCertVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for VerifyAs {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }
}

/// `tls.insecure`: any certificate for any name is accepted; the handshake's signatures are still checked
/// against the certificate presented.
#[derive(Debug)]
struct AcceptAnything(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
