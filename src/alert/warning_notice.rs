//! The certificate warning email (pure): sent once when a probe's HTTPS runs start warning (a certificate
//! within `expect.tls.warn_days_left` of expiry), and once when they stop; never failing, never counted.

use super::Notice;
use crate::probe::{FailureClass, ProbeRecord};

/// The alert-state key of a probe's warning.
pub fn warning_key(probe: &str) -> String {
    format!("warn/{probe}")
}

/// Whether `record` changes its probe's warning state from `was_warned`: the new state and the notice to
/// send. Only runs whose handshake completed decide (a refused certificate is a failure, alerted as such).
pub fn warning_notice(record: &ProbeRecord, was_warned: bool) -> Option<(bool, Notice)> {
    let tls = record.tls.as_ref()?;
    if tls.version.is_none() || record.class == Some(FailureClass::Tls) {
        return None;
    }
    let warned = !tls.warnings.is_empty();
    if warned == was_warned {
        return None;
    }
    let notice = if warned {
        Notice {
            severity: "warning",
            title: format!("{}: certificate close to expiry", record.probe),
            lines: tls.warnings.iter().map(|w| w.message.clone()).collect(),
        }
    } else {
        let until = tls.certificates.first().map_or_else(String::new, |leaf| {
            format!(" until {}", crate::tls::utc_text(leaf.not_after))
        });
        Notice {
            severity: "resolved",
            title: format!("{}: certificate warning cleared", record.probe),
            lines: vec![format!("tls: certificate for {} valid{until}", tls.name)],
        }
    };
    Some((warned, notice))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{Finding, Timings, Verdict};
    use crate::tls::{CertificateFacts, TlsFacts};

    fn run(warnings: &[&str]) -> ProbeRecord {
        ProbeRecord {
            location: String::new(),
            latency_percentiles: None,
            probe: "health".into(),
            target: "https://api.example".into(),
            request: None,
            scheduled_at_ms: 0,
            verdict: Verdict::Pass,
            class: None,
            status: Some(200),
            latency: std::time::Duration::ZERO,
            timings: Timings::default(),
            body_bytes: 0,
            queries: 0,
            findings: Vec::new(),
            known_drift: Vec::new(),
            retry_after: None,
            tls: Some(TlsFacts {
                name: "api.example".into(),
                version: Some("1.3".into()),
                certificates: vec![CertificateFacts {
                    subject: "CN=api.example".into(),
                    issuer: "CN=CA".into(),
                    not_before: 0,
                    not_after: 1_796_551_200,
                    names: Vec::new(),
                }],
                warnings: warnings
                    .iter()
                    .map(|m| Finding {
                        check: "tls".into(),
                        path: None,
                        expected: String::new(),
                        actual: String::new(),
                        message: (*m).into(),
                    })
                    .collect(),
                ..TlsFacts::default()
            }),
        }
    }

    #[test]
    fn a_warning_is_told_once_when_it_starts_and_once_when_it_ends() {
        let warned = run(&["tls: certificate for api.example expires in 20 days"]);
        let (state, notice) = warning_notice(&warned, false).expect("starts");
        assert!(state);
        assert_eq!(
            notice,
            Notice {
                severity: "warning",
                title: "health: certificate close to expiry".into(),
                lines: vec!["tls: certificate for api.example expires in 20 days".into()],
            }
        );
        assert_eq!(warning_notice(&warned, true), None);
        let (state, notice) = warning_notice(&run(&[]), true).expect("ends");
        assert!(!state);
        assert_eq!(
            notice.lines,
            ["tls: certificate for api.example valid until 2026-12-06T10:00:00Z"]
        );
        assert_eq!(warning_notice(&run(&[]), false), None);
        let mut refused = run(&[]);
        refused.class = Some(FailureClass::Tls);
        assert_eq!(warning_notice(&refused, true), None);
    }
}
