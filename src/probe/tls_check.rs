//! Certificate checks of an HTTPS run (pure): days left on each certificate against `expect.tls`, the protocol
//! version, and the finding for each way a handshake's verification fails.

use std::fmt;
use std::str::FromStr;

use super::Finding;
use crate::tls::{TlsFacts, utc_text};

/// A TLS protocol version `expect.tls.min_version` can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    V1_2,
    V1_3,
}

impl FromStr for TlsVersion {
    type Err = String;
    fn from_str(text: &str) -> Result<TlsVersion, String> {
        match text {
            "1.2" => Ok(TlsVersion::V1_2),
            "1.3" => Ok(TlsVersion::V1_3),
            _ => Err(format!(
                "\"{text}\" is not a TLS version; give \"1.2\" or \"1.3\""
            )),
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsVersion::V1_2 => "1.2",
            TlsVersion::V1_3 => "1.3",
        })
    }
}

/// `[expect.tls]`, compiled. Applies to every HTTPS run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsExpect {
    /// Fewer whole days left on any certificate fails the run (class `tls`).
    pub min_days_left: u32,
    /// Fewer whole days left (but at least `min_days_left`) is a warning: shown, never failing.
    pub warn_days_left: u32,
    pub min_version: Option<TlsVersion>,
}

impl Default for TlsExpect {
    fn default() -> Self {
        TlsExpect {
            min_days_left: 14,
            warn_days_left: 30,
            min_version: None,
        }
    }
}

/// What the certificate checks of one completed handshake found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TlsJudgement {
    pub failures: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

const DAY: i64 = 86_400;

/// Judges a completed handshake's facts at `now` (seconds since the Unix epoch).
pub fn judge(facts: &TlsFacts, expect: &TlsExpect, now: i64) -> TlsJudgement {
    let mut judgement = TlsJudgement::default();
    for (position, cert) in facts.certificates.iter().enumerate() {
        let which = if position == 0 {
            format!("certificate for {}", facts.name)
        } else {
            format!("chain certificate {}", cert.subject)
        };
        let left = cert.not_after - now;
        let days = left.div_euclid(DAY);
        let at = utc_text(cert.not_after);
        if left < 0 {
            judgement
                .failures
                .push(expired(&which, now, cert.not_after));
        } else {
            let (list, threshold, tail) = if days < i64::from(expect.min_days_left) {
                (
                    &mut judgement.failures,
                    expect.min_days_left,
                    "expected at least",
                )
            } else {
                (
                    &mut judgement.warnings,
                    expect.warn_days_left,
                    "warning below",
                )
            };
            if days < i64::from(threshold) {
                list.push(tls_finding(
                    format!("at least {threshold} days left"),
                    format!("{} left", days_text(days)),
                    format!(
                        "{which} expires in {} ({at}), {tail} {threshold}",
                        days_text(days)
                    ),
                ));
            }
        }
    }
    if let Some(min) = expect.min_version
        && let Some(version) = facts.version.as_deref()
        && version.parse::<TlsVersion>().is_ok_and(|v| v < min)
    {
        judgement.failures.push(tls_finding(
            format!("TLS {min} or later"),
            format!("TLS {version}"),
            format!("protocol TLS {version}, expected at least TLS {min}"),
        ));
    }
    judgement
}

/// The finding for a handshake whose certificate verification failed with `error`, told with the facts seen.
pub fn handshake_finding(error: &rustls::Error, facts: &TlsFacts, now: i64) -> Finding {
    use rustls::CertificateError as E;
    let name = &facts.name;
    let leaf = facts.certificates.first();
    let certificate = match error {
        rustls::Error::InvalidCertificate(e) => e,
        other => {
            return tls_finding(
                "a TLS handshake",
                other.to_string(),
                format!("handshake with {name} failed: {other}"),
            );
        }
    };
    match (certificate, leaf) {
        (E::Expired | E::ExpiredContext { .. }, Some(leaf)) => {
            expired(&format!("certificate for {name}"), now, leaf.not_after)
        }
        (E::NotValidYet | E::NotValidYetContext { .. }, Some(leaf)) => {
            let days = (leaf.not_before - now).div_euclid(DAY);
            tls_finding(
                "a certificate valid now",
                format!("valid from {}", utc_text(leaf.not_before)),
                format!(
                    "certificate for {name} is not valid until {} (in {})",
                    utc_text(leaf.not_before),
                    days_text(days)
                ),
            )
        }
        (E::NotValidForName | E::NotValidForNameContext { .. }, leaf) => {
            let names = leaf.map(|l| l.names.join(", ")).unwrap_or_default();
            tls_finding(
                format!("a certificate for {name}"),
                format!("a certificate for {names}"),
                format!("certificate is not valid for {name}: it names {names}"),
            )
        }
        (E::UnknownIssuer, _) => {
            let issuer = facts
                .certificates
                .last()
                .map_or_else(String::new, |top| top.issuer.clone());
            tls_finding(
                "a trusted issuer",
                format!("issuer {issuer}"),
                format!(
                    "certificate for {name} is from an unknown issuer ({issuer}); trust its CA with tls.ca_file"
                ),
            )
        }
        (other, _) => tls_finding(
            "a valid certificate",
            format!("{other:?}"),
            format!("certificate for {name} refused: {error}"),
        ),
    }
}

fn expired(which: &str, now: i64, not_after: i64) -> Finding {
    let days = (now - not_after).div_euclid(DAY);
    tls_finding(
        "a certificate valid now",
        format!("expired {}", utc_text(not_after)),
        format!(
            "{which} expired {} ago ({})",
            days_text(days),
            utc_text(not_after)
        ),
    )
}

fn days_text(days: i64) -> String {
    if days == 1 {
        "1 day".to_string()
    } else {
        format!("{days} days")
    }
}

fn tls_finding(expected: impl Into<String>, actual: impl Into<String>, message: String) -> Finding {
    Finding {
        check: "tls".to_string(),
        path: None,
        expected: expected.into(),
        actual: actual.into(),
        message: format!("tls: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::CertificateFacts;

    const NOW: i64 = 1_796_551_200; // 2026-12-06T10:00:00Z

    fn facts(leaf_days: i64, chain_days: i64) -> TlsFacts {
        let cert = |subject: &str, days: i64| CertificateFacts {
            subject: subject.into(),
            issuer: "CN=Test Root".into(),
            not_before: NOW - 30 * DAY,
            not_after: NOW + days * DAY + 60,
            names: vec!["api.example".into()],
        };
        TlsFacts {
            name: "api.example".into(),
            version: Some("1.2".into()),
            certificates: vec![
                cert("CN=api.example", leaf_days),
                cert("CN=Test Intermediate", chain_days),
            ],
            ..TlsFacts::default()
        }
    }

    fn messages(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.message.as_str()).collect()
    }

    #[test]
    fn days_left_fail_below_the_minimum_and_warn_below_the_warning() {
        let expect = TlsExpect::default();
        let j = judge(&facts(5, 400), &expect, NOW);
        assert_eq!(
            messages(&j.failures),
            [
                "tls: certificate for api.example expires in 5 days (2026-12-11T10:01:00Z), expected at least 14"
            ]
        );
        assert!(j.warnings.is_empty());
        let j = judge(&facts(400, 20), &expect, NOW);
        assert!(j.failures.is_empty());
        assert_eq!(
            messages(&j.warnings),
            [
                "tls: chain certificate CN=Test Intermediate expires in 20 days (2026-12-26T10:01:00Z), warning below 30"
            ]
        );
        assert_eq!(judge(&facts(30, 30), &expect, NOW), TlsJudgement::default());
        let j = judge(&facts(-2, 400), &expect, NOW);
        assert_eq!(
            messages(&j.failures),
            ["tls: certificate for api.example expired 1 day ago (2026-12-04T10:01:00Z)"]
        );
    }

    #[test]
    fn an_older_protocol_than_asked_fails() {
        let expect = TlsExpect {
            min_version: Some(TlsVersion::V1_3),
            ..TlsExpect::default()
        };
        assert_eq!(
            messages(&judge(&facts(400, 400), &expect, NOW).failures),
            ["tls: protocol TLS 1.2, expected at least TLS 1.3"]
        );
        assert_eq!(
            "1.1".parse::<TlsVersion>().expect_err("old"),
            "\"1.1\" is not a TLS version; give \"1.2\" or \"1.3\""
        );
    }
}
