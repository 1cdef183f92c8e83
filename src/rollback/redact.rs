//! What the hook may see and what of its output may be stored (pure): the environment allow-list, and known
//! secret values (SMTP password, webhook secret, OTLP and target credential headers) replaced in the output.

use super::Secret;

/// What a secret value is replaced with in stored output.
pub const REDACTED: &str = "[redacted]";

/// Variables the hook always gets from the daemon's environment, when set (besides its `OEWSPROBE_*` call
/// variables and the names `rollback.env` adds).
pub const ALWAYS_PASSED: [&str; 3] = ["PATH", "HOME", "LANG"];

/// Where cut output says so.
pub const CUT_NOTE: &str = "\n[output cut at 64 KiB]";

/// The hook's environment from the daemon's: what is passed, and the names withheld because their value
/// holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookEnv {
    pub passed: Vec<(String, String)>,
    pub withheld: Vec<String>,
}

/// The allow-listed variables ([`ALWAYS_PASSED`], then `named`) that `lookup` finds; a value holding a known
/// secret is withheld.
pub fn hook_env(
    named: &[String],
    secrets: &[Secret],
    lookup: impl Fn(&str) -> Option<String>,
) -> HookEnv {
    let needles = needles(secrets);
    let mut env = HookEnv {
        passed: Vec::new(),
        withheld: Vec::new(),
    };
    let names = ALWAYS_PASSED
        .iter()
        .copied()
        .chain(named.iter().map(String::as_str));
    for name in names {
        if env.passed.iter().any(|(n, _)| n == name) || env.withheld.iter().any(|n| n == name) {
            continue;
        }
        let Some(value) = lookup(name) else { continue };
        if needles.iter().any(|needle| value.contains(needle.as_str())) {
            env.withheld.push(name.to_string());
        } else {
            env.passed.push((name.to_string(), value));
        }
    }
    env
}

/// The output to store: every known secret value replaced by [`REDACTED`]; when the output was `cut`, a tail
/// that begins a secret is dropped as well, and the cut is noted.
pub fn kept_output(text: &str, cut: bool, secrets: &[Secret]) -> String {
    let needles = needles(secrets);
    let mut text = text.to_string();
    for needle in &needles {
        text = text.replace(needle.as_str(), REDACTED);
    }
    if cut {
        let partial = needles
            .iter()
            .flat_map(|needle| {
                needle
                    .char_indices()
                    .skip(1)
                    .map(|(at, _)| &needle[..at])
                    .filter(|start| text.ends_with(start))
                    .map(str::len)
            })
            .max();
        if let Some(len) = partial {
            text.truncate(text.len() - len);
            text.push_str(REDACTED);
        }
        text.push_str(CUT_NOTE);
    }
    text
}

/// The texts to look for, longest first: each secret whole, and the credential of a `Scheme credential`
/// header value (`Bearer abc…`) on its own.
fn needles(secrets: &[Secret]) -> Vec<String> {
    let mut needles: Vec<String> = Vec::new();
    for secret in secrets {
        let whole = String::from_utf8_lossy(secret.expose()).into_owned();
        let last = whole.split_whitespace().last().unwrap_or_default();
        if last.len() >= 8 && last != whole {
            needles.push(last.to_string());
        }
        if !whole.is_empty() {
            needles.push(whole);
        }
    }
    needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    needles.dedup();
    needles
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(values: &[&str]) -> Vec<Secret> {
        values
            .iter()
            .map(|v| Secret::new(v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn known_secret_values_are_redacted_from_output() {
        let table: [(&str, bool, &[&str], &str); 8] = [
            (
                "no secrets here\n",
                false,
                &["pw-1234"],
                "no secrets here\n",
            ),
            ("SMTP=pw-1234\n", false, &["pw-1234"], "SMTP=[redacted]\n"),
            (
                "a=pw-1234 b=pw-1234",
                false,
                &["pw-1234"],
                "a=[redacted] b=[redacted]",
            ),
            (
                "H=Bearer tok-abcdefgh; T=tok-abcdefgh",
                false,
                &["Bearer tok-abcdefgh"],
                "H=[redacted]; T=[redacted]",
            ),
            ("short: Bearer x", false, &["Bearer x"], "short: [redacted]"),
            (
                "empty secrets change nothing",
                false,
                &[""],
                "empty secrets change nothing",
            ),
            (
                "cut in the middle: pw-12",
                true,
                &["pw-1234"],
                "cut in the middle: [redacted]\n[output cut at 64 KiB]",
            ),
            (
                "cut elsewhere",
                true,
                &["pw-1234"],
                "cut elsewhere\n[output cut at 64 KiB]",
            ),
        ];
        for (text, cut, values, expected) in table {
            assert_eq!(
                kept_output(text, cut, &secrets(values)),
                expected,
                "{text:?}"
            );
        }
    }

    #[test]
    fn the_hook_gets_only_allow_listed_variables_without_secrets() {
        let daemon_env = [
            ("PATH", "/usr/bin"),
            ("HOME", "/root"),
            ("SMTP_PASSWORD", "pw-1234"),
            ("DOCKER_HOST", "unix:///run/docker.sock"),
            ("DB_URL", "postgres://u:pw-1234@db/x"),
            ("OEWSPROBE_TARGET", "http://127.0.0.1:1"),
        ];
        let lookup = |name: &str| {
            daemon_env
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        };
        let named = [
            "DOCKER_HOST".to_string(),
            "DB_URL".to_string(),
            "UNSET".to_string(),
            "PATH".to_string(),
        ];
        let env = hook_env(&named, &secrets(&["pw-1234"]), lookup);
        assert_eq!(
            env,
            HookEnv {
                passed: vec![
                    ("PATH".to_string(), "/usr/bin".to_string()),
                    ("HOME".to_string(), "/root".to_string()),
                    (
                        "DOCKER_HOST".to_string(),
                        "unix:///run/docker.sock".to_string()
                    ),
                ],
                withheld: vec!["DB_URL".to_string()],
            }
        );
    }
}
