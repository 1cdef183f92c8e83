//! Certificates for TLS tests, made with rcgen: a test CA (and intermediates) signing server certificates
//! for any names and any validity window, as PEM files or as the simulator's TLS identity.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use oewsprobe::sim::SimTls;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// When a certificate is valid, in whole days from now (negative: in the past).
#[derive(Debug, Clone, Copy)]
pub struct Validity {
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// From `from` days to `to` days from now (plus a minute, so "5 days" is still 5 days a moment later).
    pub fn days(from: i64, to: i64) -> Validity {
        let now = OffsetDateTime::now_utc();
        Validity {
            not_before: now + Duration::days(from),
            not_after: now + Duration::days(to) + Duration::minutes(1),
        }
    }

    /// Valid since yesterday for a year.
    pub fn normal() -> Validity {
        Validity::days(-1, 365)
    }
}

/// A certificate authority made for one test (a root, or an intermediate with the chain above it).
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// This CA's certificate.
    pub cert: CertificateDer<'static>,
    pub cert_pem: String,
    /// The intermediates between this CA and the root, this CA first (empty for a root), as DER and PEM.
    chain: Vec<CertificateDer<'static>>,
    chain_pem: String,
}

impl TestCa {
    /// A self-signed root CA with this common name.
    pub fn new(common_name: &str) -> TestCa {
        let key = KeyPair::generate().expect("CA key");
        let params = ca_params(common_name);
        let cert = params.self_signed(&key).expect("CA certificate");
        TestCa {
            issuer: Issuer::new(params, key),
            cert: cert.der().clone(),
            cert_pem: cert.pem(),
            chain: Vec::new(),
            chain_pem: String::new(),
        }
    }

    /// An intermediate CA signed by this one.
    pub fn intermediate(&self, common_name: &str) -> TestCa {
        let key = KeyPair::generate().expect("intermediate key");
        let params = ca_params(common_name);
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("intermediate certificate");
        let mut chain = vec![cert.der().clone()];
        chain.extend(self.chain.iter().cloned());
        TestCa {
            issuer: Issuer::new(params, key),
            cert: cert.der().clone(),
            cert_pem: cert.pem(),
            chain,
            chain_pem: cert.pem() + &self.chain_pem,
        }
    }

    /// A server certificate for `names` (DNS names or IP addresses; the first is the common name).
    pub fn issue(&self, names: &[&str], validity: Validity) -> ServerCert {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("server params");
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.not_before = validity.not_before;
        params.not_after = validity.not_after;
        let key = KeyPair::generate().expect("server key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("server certificate");
        let mut chain = vec![cert.der().clone()];
        chain.extend(self.chain.iter().cloned());
        ServerCert {
            chain,
            chain_pem: cert.pem() + &self.chain_pem,
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
        }
    }

    /// Writes this CA's certificate as a PEM file in `dir`.
    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        write(dir, name, &self.cert_pem)
    }
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.not_before = OffsetDateTime::now_utc() - Duration::days(30);
    params.not_after = OffsetDateTime::now_utc() + Duration::days(3650);
    params
}

/// A server's certificate chain (leaf first, then intermediates) and its key.
pub struct ServerCert {
    pub chain: Vec<CertificateDer<'static>>,
    /// The chain as PEM, leaf first.
    pub chain_pem: String,
    pub key_pem: String,
    key_der: Vec<u8>,
}

impl ServerCert {
    /// The simulator's TLS identity with this certificate.
    pub fn sim_tls(&self) -> SimTls {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        SimTls::from_der(self.chain.clone(), key).expect("certificate and key fit")
    }

    /// Writes the chain and the key as PEM files in `dir`: (certificate file, key file).
    pub fn write(&self, dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
        (
            write(dir, &format!("{stem}.pem"), &self.chain_pem),
            write(dir, &format!("{stem}-key.pem"), &self.key_pem),
        )
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write PEM");
    path
}
