//! The query-budget guard: valid queries cost LLM money and share the API's 10/hour limit with real users,
//! so a load run against a real (non-loopback) target may not spend more than the configured budget (pure).

use super::Shape;

/// What the guard decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetCheck {
    /// The run spends no valid queries, or stays within the budget.
    Allowed,
    /// A loopback target (the simulator, a local server): no budget applies.
    Loopback,
    /// `--force` overrode the budget.
    Forced,
    /// Refused, with the message to print.
    Refused(String),
}

/// Whether the target is this machine: 127.0.0.0/8, ::1 or `localhost`.
pub fn is_loopback(target: &url::Url) -> bool {
    match target.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

pub fn check_budget(
    target: &url::Url,
    queries_per_request: u32,
    shape: &Shape,
    budget_per_hour: u32,
    exempt_loopback: bool,
    force: bool,
) -> BudgetCheck {
    if queries_per_request == 0 {
        return BudgetCheck::Allowed;
    }
    if exempt_loopback && is_loopback(target) {
        return BudgetCheck::Loopback;
    }
    let spend = shape
        .planned_requests()
        .map(|n| n.saturating_mul(u64::from(queries_per_request)));
    if spend.is_some_and(|q| q <= u64::from(budget_per_hour)) {
        return BudgetCheck::Allowed;
    }
    if force {
        return BudgetCheck::Forced;
    }
    let what = match spend {
        Some(q) => format!("would spend {q} valid queries"),
        None => {
            "is a closed-model run of open-ended size (--duration with --concurrency)".to_string()
        }
    };
    BudgetCheck::Refused(format!(
        "refused: this burst {what} against {}, over the query budget of {budget_per_hour} per hour \
         (budget.queries_per_hour; the API allows 10 per hour per client, shared with real users, and each \
         valid query costs LLM calls). Aim at a loopback target (oewsprobe sim), send fewer requests, or pass \
         --force.",
        target.as_str().trim_end_matches('/')
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn url(text: &str) -> url::Url {
        url::Url::parse(text).expect("valid")
    }

    #[test]
    fn loopback_targets() {
        for t in [
            "http://127.0.0.1:8000",
            "http://127.9.9.9",
            "http://[::1]:80",
            "http://localhost:1",
            "http://LOCALHOST",
        ] {
            assert!(is_loopback(&url(t)), "{t}");
        }
        for t in [
            "https://api.oews.bhavanaai.com",
            "http://10.0.0.1",
            "http://localhost.example.com",
        ] {
            assert!(!is_loopback(&url(t)), "{t}");
        }
    }

    #[test]
    fn decisions() {
        let prod = url("https://api.example.org");
        let three = Shape::Once { n: 3 };
        let open = Shape::Open {
            rate: 1.0,
            duration: Duration::from_secs(10),
            max_in_flight: 2,
        };
        let closed = Shape::Closed {
            concurrency: 2,
            duration: Duration::from_secs(10),
        };
        assert_eq!(
            check_budget(&prod, 1, &three, 4, true, false),
            BudgetCheck::Allowed
        );
        assert_eq!(
            check_budget(&prod, 0, &open, 4, true, false),
            BudgetCheck::Allowed,
            "free probes need no budget"
        );
        assert_eq!(
            check_budget(&url("http://127.0.0.1:9"), 1, &open, 4, true, false),
            BudgetCheck::Loopback
        );
        assert_eq!(
            check_budget(&prod, 1, &open, 4, true, true),
            BudgetCheck::Forced
        );
        assert_eq!(
            check_budget(&prod, 1, &open, 4, true, false),
            BudgetCheck::Refused(
                "refused: this burst would spend 10 valid queries against https://api.example.org, over the query \
                 budget of 4 per hour (budget.queries_per_hour; the API allows 10 per hour per client, shared with \
                 real users, and each valid query costs LLM calls). Aim at a loopback target (oewsprobe sim), send \
                 fewer requests, or pass --force."
                    .to_string()
            )
        );
        assert!(
            matches!(check_budget(&prod, 1, &closed, 4, true, false), BudgetCheck::Refused(m) if m.contains("open-ended"))
        );
        assert!(
            matches!(check_budget(&prod, 2, &three, 4, true, false), BudgetCheck::Refused(m) if m.contains("6 valid queries"))
        );
    }
}
