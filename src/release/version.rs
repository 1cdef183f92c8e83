//! What `release start` accepts as a version (pure): an image reference or tag — letters, digits and
//! `. _ - : @ / +`, starting with a letter or digit, at most [`VERSION_MAX`] characters — so that no control
//! character reaches an email, a terminal or `release list`; and how long a watch may be.

use std::time::Duration;

/// The longest version accepted, in characters (OCI tags are at most 128).
pub const VERSION_MAX: usize = 128;
/// The longest `--watch` accepted.
pub const WATCH_MAX: Duration = Duration::from_secs(365 * 24 * 3600);

/// Checks `value`, given with `flag` (`--version`, `--rollback-to`); the error says what is wrong, showing
/// the value with control characters escaped.
pub fn check_version(flag: &str, value: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._-:@/+".contains(c);
    let chars = value.chars().count();
    if value.is_empty() {
        Err(format!(
            "{flag} is empty; give an image tag or reference like main-1a2b3c4"
        ))
    } else if chars > VERSION_MAX {
        Err(format!(
            "{flag} is {chars} characters long; at most {VERSION_MAX}"
        ))
    } else if let Some(bad) = value.chars().find(|c| !allowed(*c)) {
        Err(format!(
            "{flag} {value:?}: {bad:?} is not allowed; use letters, digits and . _ - : @ / +"
        ))
    } else if !value.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        Err(format!(
            "{flag} {value:?} must start with a letter or a digit"
        ))
    } else {
        Ok(())
    }
}

/// Checks a `--watch` duration: positive, at most [`WATCH_MAX`].
pub fn check_watch(watch: Duration) -> Result<(), String> {
    if watch.is_zero() {
        Err("--watch is 0s; give a positive duration like 24h".to_string())
    } else if watch > WATCH_MAX {
        Err(format!(
            "--watch {} is too long; at most 365days",
            humantime::format_duration(watch)
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_image_references() {
        let long = "a".repeat(129);
        let table: [(&str, Result<(), String>); 12] = [
            ("main-1a2b3c4", Ok(())),
            ("feature/x", Ok(())),
            ("registry.local:5000/oews/api:v1.2.3+build.4", Ok(())),
            ("api@sha256:0123abcd", Ok(())),
            (&long[..128], Ok(())),
            (
                "",
                Err("--version is empty; give an image tag or reference like main-1a2b3c4".into()),
            ),
            (&long, Err("--version is 129 characters long; at most 128".into())),
            (
                "main\u{1b}[31m",
                Err(r#"--version "main\u{1b}[31m": '\u{1b}' is not allowed; use letters, digits and . _ - : @ / +"#.into()),
            ),
            (
                "a\nb",
                Err(r#"--version "a\nb": '\n' is not allowed; use letters, digits and . _ - : @ / +"#.into()),
            ),
            (
                "main 1",
                Err(r#"--version "main 1": ' ' is not allowed; use letters, digits and . _ - : @ / +"#.into()),
            ),
            (
                "v\u{202e}1",
                Err(r#"--version "v\u{202e}1": '\u{202e}' is not allowed; use letters, digits and . _ - : @ / +"#.into()),
            ),
            (
                "-rf",
                Err(r#"--version "-rf" must start with a letter or a digit"#.into()),
            ),
        ];
        for (value, expected) in table {
            assert_eq!(check_version("--version", value), expected, "{value:?}");
        }
    }

    #[test]
    fn a_watch_is_positive_and_at_most_a_year() {
        let day = Duration::from_secs(24 * 3600);
        let table = [
            (day, Ok(())),
            (365 * day, Ok(())),
            (
                Duration::ZERO,
                Err("--watch is 0s; give a positive duration like 24h".to_string()),
            ),
            (
                366 * day,
                Err("--watch 1year 18h is too long; at most 365days".to_string()),
            ),
            (
                Duration::from_secs(8000 * 31_557_600),
                Err("--watch 8000years is too long; at most 365days".to_string()),
            ),
        ];
        for (watch, expected) in table {
            assert_eq!(check_watch(watch), expected, "{watch:?}");
        }
    }
}
