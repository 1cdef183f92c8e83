//! An instant given as a flag (`store export --since / --until`): an RFC 3339 time, or a duration before
//! now (pure: `now` is given).

/// `text` as milliseconds since the Unix epoch: an RFC 3339 time (`2026-12-01T00:00:00Z`, any offset), or a
/// duration ago (`7d`, `36h`), counted back from `now_ms` (and no earlier than the epoch).
pub fn instant(text: &str, now_ms: u64) -> Result<u64, String> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return u64::try_from(time.timestamp_millis())
            .map_err(|_| format!("\"{text}\" is before 1970-01-01T00:00:00Z"));
    }
    match humantime::parse_duration(text) {
        Ok(ago) => Ok(now_ms.saturating_sub(u64::try_from(ago.as_millis()).unwrap_or(u64::MAX))),
        Err(_) => Err(format!(
            "\"{text}\" is neither an RFC 3339 time like 2026-12-01T00:00:00Z nor a duration ago like 7d"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations_ago() {
        const NOW: u64 = 1_796_083_200_000; // 2026-12-01T00:00:00Z
        let cases: [(&str, Result<u64, &str>); 9] = [
            ("2026-12-01T00:00:00Z", Ok(NOW)),
            ("2026-12-01T00:00:00.250Z", Ok(NOW + 250)),
            ("2026-12-01T02:00:00+02:00", Ok(NOW)),
            ("7d", Ok(NOW - 7 * 86_400_000)),
            ("1h 30m", Ok(NOW - 5_400_000)),
            ("0s", Ok(NOW)),
            ("100years", Ok(0)),
            (
                "1969-12-31T23:59:59Z",
                Err("\"1969-12-31T23:59:59Z\" is before 1970-01-01T00:00:00Z"),
            ),
            (
                "yesterday",
                Err(
                    "\"yesterday\" is neither an RFC 3339 time like 2026-12-01T00:00:00Z nor a duration ago like 7d",
                ),
            ),
        ];
        for (text, wanted) in cases {
            assert_eq!(instant(text, NOW), wanted.map_err(String::from), "{text}");
        }
    }
}
