//! What a 429 says (pure): the hourly limit its body names, and the advice for whoever asked.

/// Who runs a probe: the advice on a 429 depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// `check` and `burst`: a one-shot run someone started.
    OneShot,
    /// `run`: the monitor, spending within `budget.queries_per_hour`.
    Monitor,
}

/// The words before the limit in the service's 429 body (slowapi's `Rate limit exceeded: 10 per 1 hour`).
const LIMIT_PREFIX: &str = "Rate limit exceeded: ";
/// The words after it, for a limit per hour.
const PER_HOUR: &str = " per 1 hour";

/// The limit a 429's body names, in queries per hour, when it says `Rate limit exceeded: N per 1 hour`; any
/// other wording claims no number.
pub fn quoted_limit(body: &[u8]) -> Option<u32> {
    let text = String::from_utf8_lossy(body);
    let (_, after) = text.split_once(LIMIT_PREFIX)?;
    let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || !after[digits..].starts_with(PER_HOUR) {
        return None;
    }
    after[..digits].parse().ok()
}

/// The note of a throttled finding: the limit (when the body named one) and what `caller` can do.
pub fn throttled_note(limit: Option<u32>, caller: Caller) -> String {
    let limited = match limit {
        Some(n) => format!("rate limited ({n} queries/hour per client)"),
        None => "rate limited".to_string(),
    };
    let advice = match caller {
        Caller::OneShot => "wait before trying again, or spend fewer queries",
        Caller::Monitor => "lower the query budget (budget.queries_per_hour)",
    };
    format!("{limited}: {advice}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_taken_from_the_body_only_when_it_says_one_per_hour() {
        let cases: [(&str, Option<u32>); 9] = [
            (r#"{"error":"Rate limit exceeded: 2 per 1 hour"}"#, Some(2)),
            (
                r#"{"error":"Rate limit exceeded: 10 per 1 hour"}"#,
                Some(10),
            ),
            ("Rate limit exceeded: 4294967295 per 1 hour", Some(u32::MAX)),
            ("Rate limit exceeded: 4294967296 per 1 hour", None),
            (r#"{"error":"Rate limit exceeded: 5 per 1 minute"}"#, None),
            (r#"{"error":"Rate limit exceeded: per 1 hour"}"#, None),
            (r#"{"error":"Rate limit exceeded"}"#, None),
            ("Too Many Requests", None),
            ("", None),
        ];
        for (body, limit) in cases {
            assert_eq!(quoted_limit(body.as_bytes()), limit, "{body}");
        }
    }

    #[test]
    fn the_advice_depends_on_the_limit_and_the_caller() {
        let cases = [
            (
                Some(2),
                Caller::OneShot,
                "rate limited (2 queries/hour per client): wait before trying again, or spend fewer queries",
            ),
            (
                Some(2),
                Caller::Monitor,
                "rate limited (2 queries/hour per client): lower the query budget (budget.queries_per_hour)",
            ),
            (
                None,
                Caller::OneShot,
                "rate limited: wait before trying again, or spend fewer queries",
            ),
            (
                None,
                Caller::Monitor,
                "rate limited: lower the query budget (budget.queries_per_hour)",
            ),
        ];
        for (limit, caller, text) in cases {
            assert_eq!(throttled_note(limit, caller), text, "{limit:?} {caller:?}");
        }
    }
}
