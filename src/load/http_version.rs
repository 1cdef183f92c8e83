//! Which HTTP version the load transport speaks: the choice (`--http1`, `--http2`, or negotiated by ALPN) and
//! the version a connection got.

/// What a burst asks for. Over TLS, `Negotiate` offers `h2` and `http/1.1` by ALPN and takes the server's
/// pick; over plain HTTP it is HTTP/1.1, and `Http2` is HTTP/2 with prior knowledge (h2c).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpChoice {
    #[default]
    Negotiate,
    Http1,
    Http2,
}

impl HttpChoice {
    /// The ALPN protocols offered in the TLS handshake, most preferred first.
    pub fn alpn(self) -> Vec<Vec<u8>> {
        match self {
            HttpChoice::Negotiate => vec![ALPN_H2.to_vec(), ALPN_HTTP1.to_vec()],
            HttpChoice::Http1 => vec![ALPN_HTTP1.to_vec()],
            HttpChoice::Http2 => vec![ALPN_H2.to_vec()],
        }
    }
}

pub const ALPN_H2: &[u8] = b"h2";
pub const ALPN_HTTP1: &[u8] = b"http/1.1";

/// The HTTP version a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HttpVersion {
    Http1,
    Http2,
}

impl HttpVersion {
    /// As reports name it: `HTTP/1.1`, `HTTP/2`.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersion::Http1 => "HTTP/1.1",
            HttpVersion::Http2 => "HTTP/2",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_choice_offers_its_protocols() {
        let offered = |c: HttpChoice| {
            c.alpn()
                .into_iter()
                .map(|p| String::from_utf8(p).unwrap_or_default())
                .collect::<Vec<_>>()
        };
        assert_eq!(offered(HttpChoice::Negotiate), ["h2", "http/1.1"]);
        assert_eq!(offered(HttpChoice::Http1), ["http/1.1"]);
        assert_eq!(offered(HttpChoice::Http2), ["h2"]);
        assert_eq!(HttpVersion::Http1.as_str(), "HTTP/1.1");
        assert_eq!(HttpVersion::Http2.as_str(), "HTTP/2");
    }
}
