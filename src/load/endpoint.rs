//! Where a load request goes, worked out once per worker from its URL: the address to dial, the `Host`
//! header, the path in origin form (HTTP/1.1) and the absolute URI (HTTP/2), and the TLS server name.

use hyper::header::HeaderValue;
use rustls::pki_types::ServerName;

#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `host:port` as dialled (DNS names resolved at connect time).
    pub address: String,
    pub host: HeaderValue,
    /// `/path?query`, as HTTP/1.1 sends it.
    pub path: hyper::Uri,
    /// `scheme://authority/path?query`, as HTTP/2 sends it (`:scheme`, `:authority`, `:path`).
    pub absolute: hyper::Uri,
    /// The name the server's certificate must carry; `None` for `http://`.
    pub tls_name: Option<ServerName<'static>>,
}

impl Endpoint {
    /// The endpoint of an `http://` or `https://` URL.
    pub fn of(url: &url::Url) -> Result<Endpoint, String> {
        let tls = match url.scheme() {
            "http" => false,
            "https" => true,
            other => {
                return Err(format!(
                    "{url}: the load transport speaks http and https, not {other}"
                ));
            }
        };
        let host = url
            .host()
            .ok_or_else(|| format!("{url}: no host to connect to"))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| format!("{url}: no port to connect to"))?;
        let host_text = url.host_str().unwrap_or_default();
        let authority = match url.port() {
            Some(p) => format!("{host_text}:{p}"),
            None => host_text.to_string(),
        };
        let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let bad = |what: &str, e: &dyn std::fmt::Display| format!("{url}: bad {what}: {e}");
        let tls_name = match (tls, host) {
            (false, _) => None,
            (true, url::Host::Domain(name)) => Some(
                ServerName::try_from(name.to_string()).map_err(|e| bad("TLS server name", &e))?,
            ),
            (true, url::Host::Ipv4(ip)) => Some(ServerName::from(std::net::IpAddr::V4(ip))),
            (true, url::Host::Ipv6(ip)) => Some(ServerName::from(std::net::IpAddr::V6(ip))),
        };
        Ok(Endpoint {
            address: format!("{host_text}:{port}"),
            host: HeaderValue::from_str(&authority).map_err(|e| bad("host", &e))?,
            path: path.parse().map_err(|e| bad("path", &e))?,
            absolute: format!("{}://{authority}{path}", url.scheme())
                .parse()
                .map_err(|e| bad("URL", &e))?,
            tls_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &str) -> Endpoint {
        Endpoint::of(&url::Url::parse(url).expect("url")).expect("endpoint")
    }

    #[test]
    fn an_https_url_with_a_port_and_a_query() {
        let e = endpoint("https://api.example:8443/api/v1/query?x=1#frag");
        assert_eq!(e.address, "api.example:8443");
        assert_eq!(e.host, "api.example:8443");
        assert_eq!(e.path, "/api/v1/query?x=1");
        assert_eq!(e.absolute, "https://api.example:8443/api/v1/query?x=1");
        assert_eq!(
            e.tls_name,
            Some(ServerName::try_from("api.example").expect("name"))
        );
    }

    #[test]
    fn default_ports_and_ip_addresses() {
        let e = endpoint("http://127.0.0.1/health");
        assert_eq!(
            (e.address.as_str(), e.host.to_str().ok()),
            ("127.0.0.1:80", Some("127.0.0.1"))
        );
        assert_eq!(e.tls_name, None);
        let e = endpoint("https://[::1]/");
        assert_eq!(e.address, "[::1]:443");
        assert_eq!(e.absolute, "https://[::1]/");
        assert_eq!(
            e.tls_name,
            Some(ServerName::from(std::net::IpAddr::V6(
                std::net::Ipv6Addr::LOCALHOST
            )))
        );
    }

    #[test]
    fn other_schemes_are_refused_by_name() {
        let url = url::Url::parse("ftp://127.0.0.1/x").expect("url");
        assert_eq!(
            Endpoint::of(&url).err().as_deref(),
            Some("ftp://127.0.0.1/x: the load transport speaks http and https, not ftp")
        );
    }
}
