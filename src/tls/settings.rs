//! Trust settings of one HTTPS target (`[tls]` in the main config, `tls` in a probe file): extra roots, the
//! name to verify (and send as SNI), or no verification at all.

use std::path::PathBuf;

use rustls::pki_types::{CertificateDer, ServerName};

/// How a client trusts a server. The default trusts the platform's roots and verifies the URL's host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TlsSettings {
    /// `tls.ca_file`: where `extra_roots` came from.
    pub ca_file: Option<PathBuf>,
    /// The certificates of `ca_file`, trusted besides the platform's roots.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// `tls.server_name`: the name to verify the certificate for (and to send as SNI), instead of the URL's host.
    pub server_name: Option<ServerName<'static>>,
    /// `tls.insecure`: no verification at all (every output that uses it says so).
    pub insecure: bool,
}

/// The warning every output that used `tls.insecure` shows.
pub const INSECURE_WARNING: &str = "WARNING: tls.insecure = true: the server's certificate is NOT verified (anyone on the path can impersonate it)";

impl TlsSettings {
    /// The name the certificate is verified for: `server_name`, else the URL's `host`.
    pub fn verified_name(&self, host: &str) -> String {
        match &self.server_name {
            Some(name) => name_text(name),
            None => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
        }
    }
}

/// A server name as written (DNS name or IP address).
pub fn name_text(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().to_string(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

/// Parses `tls.server_name`: a DNS name or an IP address.
pub fn parse_server_name(text: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(text.to_string())
        .map_err(|_| format!("\"{text}\" is not a DNS name or an IP address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verified_name_is_the_server_name_else_the_host() {
        let mut settings = TlsSettings::default();
        assert_eq!(settings.verified_name("api.example"), "api.example");
        assert_eq!(settings.verified_name("[::1]"), "::1");
        settings.server_name = Some(parse_server_name("api.example").expect("name"));
        assert_eq!(settings.verified_name("127.0.0.1"), "api.example");
        settings.server_name = Some(parse_server_name("127.0.0.2").expect("ip"));
        assert_eq!(settings.verified_name("localhost"), "127.0.0.2");
        assert_eq!(
            parse_server_name("not a name").expect_err("spaces"),
            "\"not a name\" is not a DNS name or an IP address"
        );
    }
}
