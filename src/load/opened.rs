//! The connections a load run opened: how many spoke each HTTP version and, over TLS, how many handshakes
//! resumed an earlier session (pure; one per worker, summed at the end).

use super::http_version::HttpVersion;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Opened {
    pub http1: u64,
    pub http2: u64,
    /// TLS handshakes that resumed a session (no certificate exchange), of all the TLS handshakes.
    pub tls_resumed: u64,
    pub tls_handshakes: u64,
}

impl Opened {
    /// Counts one connection of `version`; `resumed` is `None` without TLS.
    pub fn count(&mut self, version: HttpVersion, resumed: Option<bool>) {
        match version {
            HttpVersion::Http1 => self.http1 += 1,
            HttpVersion::Http2 => self.http2 += 1,
        }
        if let Some(resumed) = resumed {
            self.tls_handshakes += 1;
            self.tls_resumed += u64::from(resumed);
        }
    }

    pub fn merge(&mut self, other: &Opened) {
        self.http1 += other.http1;
        self.http2 += other.http2;
        self.tls_resumed += other.tls_resumed;
        self.tls_handshakes += other.tls_handshakes;
    }

    pub fn connections(&self) -> u64 {
        self.http1 + self.http2
    }

    /// The versions spoken, as reports name them: `HTTP/2`, or `HTTP/1.1 and HTTP/2`; `None` without a
    /// connection.
    pub fn versions(&self) -> Option<String> {
        let spoken: Vec<&str> = [
            (self.http1, HttpVersion::Http1),
            (self.http2, HttpVersion::Http2),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(_, v)| v.as_str())
        .collect();
        (!spoken.is_empty()).then(|| spoken.join(" and "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_merge_and_name_the_versions() {
        let mut a = Opened::default();
        assert_eq!(a.versions(), None);
        a.count(HttpVersion::Http2, Some(false));
        a.count(HttpVersion::Http2, Some(true));
        assert_eq!(a.versions().as_deref(), Some("HTTP/2"));
        let mut b = Opened::default();
        b.count(HttpVersion::Http1, None);
        a.merge(&b);
        assert_eq!(
            a,
            Opened {
                http1: 1,
                http2: 2,
                tls_resumed: 1,
                tls_handshakes: 2
            }
        );
        assert_eq!(a.connections(), 3);
        assert_eq!(a.versions().as_deref(), Some("HTTP/1.1 and HTTP/2"));
    }
}
