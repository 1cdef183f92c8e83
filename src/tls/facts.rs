//! What a TLS handshake showed, as a record keeps it: the certificates (leaf first) with their validity, the
//! name verified for, the protocol version and cipher suite, and the warnings the certificate checks gave.

use serde::{Deserialize, Serialize};

/// One certificate of the chain the server presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateFacts {
    /// The subject's distinguished name: `CN=api.example`.
    pub subject: String,
    pub issuer: String,
    /// Validity, in seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// The subject alternative names (DNS names and IP addresses); kept for the leaf only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// The TLS side of one probe run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFacts {
    /// The name the certificate was verified for (`tls.server_name`, else the target's host).
    pub name: String,
    /// `1.2` or `1.3`; absent when the handshake did not get that far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The negotiated cipher suite, when the client could see it (TLS 1.3 servers that send session tickets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    /// The chain as presented, leaf first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<CertificateFacts>,
    /// `tls.insecure` was on: nothing was verified.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// Findings at warning level (a certificate close to expiry): shown, never failing the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<crate::probe::Finding>,
}

/// A certificate's facts from its DER encoding; `None` when it does not parse (the handshake reports why).
pub fn certificate_facts(der: &[u8], with_names: bool) -> Option<CertificateFacts> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let names = if with_names {
        cert.subject_alternative_name()
            .ok()
            .flatten()
            .map(|san| {
                san.value
                    .general_names
                    .iter()
                    .filter_map(|name| match name {
                        GeneralName::DNSName(dns) => Some(dns.to_string()),
                        GeneralName::IPAddress(bytes) => ip_text(bytes),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Some(CertificateFacts {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        names,
    })
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    let ip: std::net::IpAddr = match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok()?.into(),
        16 => <[u8; 16]>::try_from(bytes).ok()?.into(),
        _ => return None,
    };
    Some(ip.to_string())
}

/// Seconds since the Unix epoch as RFC 3339 UTC: `2026-12-06T10:00:00Z`.
pub fn utc_text(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0).map_or_else(
        || format!("{seconds}s after the epoch"),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_rfc3339_utc() {
        assert_eq!(utc_text(1_796_551_200), "2026-12-06T10:00:00Z");
        assert_eq!(utc_text(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn what_is_not_a_certificate_has_no_facts() {
        assert_eq!(certificate_facts(b"not DER", true), None);
    }
}
