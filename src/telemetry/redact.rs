//! Secret redaction (pure): which header names carry credentials, and a header list safe to log.

use std::fmt;

/// Header names whose values are credentials: never logged, marked sensitive on the wire.
pub fn is_sensitive_header(name: &str) -> bool {
    const EXACT: [&str; 4] = [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ];
    const PARTS: [&str; 7] = [
        "auth",
        "token",
        "secret",
        "key",
        "password",
        "session",
        "signature",
    ];
    let lower = name.to_ascii_lowercase();
    EXACT.contains(&lower.as_str()) || PARTS.iter().any(|p| lower.contains(p))
}

/// Headers as `name: value` pairs, with the values of sensitive ones shown as `<redacted>`.
pub struct Redacted<'a>(pub &'a [(String, String)]);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(name, value)| {
                let shown = if is_sensitive_header(name) {
                    "<redacted>"
                } else {
                    value.as_str()
                };
                (name.as_str(), shown)
            }))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted() {
        let headers = vec![
            ("Authorization".to_string(), "Bearer s3cret".to_string()),
            ("X-Api-Key".to_string(), "k3y".to_string()),
            ("X-Request-Source".to_string(), "oewsprobe".to_string()),
        ];
        assert_eq!(
            format!("{:?}", Redacted(&headers)),
            r#"{"Authorization": "<redacted>", "X-Api-Key": "<redacted>", "X-Request-Source": "oewsprobe"}"#
        );
    }
}
