//! The query-budget guard (pure): valid queries cost LLM money and share the API's 10/hour limit with real
//! users, so a `burst` or a `check` may not plan to spend more than `budget.queries_per_hour` unless `--force`.
//! The budget applies to every target, loopback included (a loopback address may tunnel to the real API), as
//! it does in `run`.

use super::Shape;

/// What the guard decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetCheck {
    /// The run spends no valid queries, or stays within the budget.
    Allowed,
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

/// The guard of `burst`: the shape's planned requests × the probe's `queries`.
pub fn check_budget(
    target: &url::Url,
    queries_per_request: u32,
    shape: &Shape,
    budget_per_hour: u32,
    force: bool,
) -> BudgetCheck {
    let spend = shape
        .planned_requests()
        .map(|n| n.saturating_mul(u64::from(queries_per_request)));
    let what = match spend {
        Some(q) => format!("this burst would spend {q} valid queries"),
        None => {
            "this burst is a closed-model run of open-ended size (--duration with --concurrency)"
                .to_string()
        }
    };
    guard(
        queries_per_request > 0 && spend.is_none_or(|q| q > u64::from(budget_per_hour)),
        force,
        || refusal(&what, target, budget_per_hour, "Send fewer requests"),
    )
}

/// The guard of `check` (and `drift accept`): one run of each selected probe, `(name, queries)`. The refusal
/// names the free probes (`queries = 0`) to run instead with `select_flag` (`--only`, `--probe`).
pub fn check_check_budget(
    target: &url::Url,
    probes: &[(&str, u32)],
    budget_per_hour: u32,
    force: bool,
    select_flag: &str,
) -> BudgetCheck {
    let spend: u64 = probes.iter().map(|(_, q)| u64::from(*q)).sum();
    guard(spend > u64::from(budget_per_hour), force, || {
        let free: Vec<String> = probes
            .iter()
            .filter(|(_, q)| *q == 0)
            .map(|(name, _)| format!("{select_flag} {name}"))
            .collect();
        let instead = if free.is_empty() {
            format!("Check fewer probes with {select_flag} NAME")
        } else {
            format!("Run only the free probes with {}", free.join(" "))
        };
        let what = format!("this check would spend {spend} valid queries");
        refusal(&what, target, budget_per_hour, &instead)
    })
}

fn guard(over: bool, force: bool, refusal: impl FnOnce() -> String) -> BudgetCheck {
    match (over, force) {
        (false, _) => BudgetCheck::Allowed,
        (true, true) => BudgetCheck::Forced,
        (true, false) => BudgetCheck::Refused(refusal()),
    }
}

fn refusal(what: &str, target: &url::Url, budget_per_hour: u32, instead: &str) -> String {
    format!(
        "refused: {what} against {}, over the query budget of {budget_per_hour} per hour \
         (budget.queries_per_hour; the API allows 10 per hour per client, shared with real users, and each \
         valid query costs LLM calls). {}{instead}, raise budget.queries_per_hour (for a simulator), or pass \
         --force.",
        target.as_str().trim_end_matches('/'),
        if is_loopback(target) {
            "The budget applies to loopback targets too. "
        } else {
            ""
        }
    )
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
    fn burst_decisions() {
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
            check_budget(&prod, 1, &three, 4, false),
            BudgetCheck::Allowed
        );
        assert_eq!(
            check_budget(&prod, 0, &open, 4, false),
            BudgetCheck::Allowed,
            "free probes need no budget"
        );
        assert_eq!(check_budget(&prod, 1, &open, 4, true), BudgetCheck::Forced);
        assert_eq!(
            check_budget(&prod, 1, &open, 4, false),
            BudgetCheck::Refused(
                "refused: this burst would spend 10 valid queries against https://api.example.org, over the query \
                 budget of 4 per hour (budget.queries_per_hour; the API allows 10 per hour per client, shared with \
                 real users, and each valid query costs LLM calls). Send fewer requests, raise \
                 budget.queries_per_hour (for a simulator), or pass --force."
                    .to_string()
            )
        );
        assert!(
            matches!(check_budget(&prod, 1, &closed, 4, false), BudgetCheck::Refused(m) if m.contains("open-ended"))
        );
        assert!(
            matches!(check_budget(&prod, 2, &three, 4, false), BudgetCheck::Refused(m) if m.contains("6 valid queries"))
        );
        assert!(
            matches!(check_budget(&url("http://127.0.0.1:9"), 1, &open, 4, false), BudgetCheck::Refused(m)
                if m.contains("The budget applies to loopback targets too. Send fewer requests")),
            "loopback is not exempt"
        );
    }

    #[test]
    fn check_decisions() {
        let prod = url("https://api.example.org");
        let probes = [("health", 0), ("query", 1), ("models", 0), ("charts", 2)];
        assert_eq!(
            check_check_budget(&prod, &probes, 3, false, "--only"),
            BudgetCheck::Allowed
        );
        assert_eq!(
            check_check_budget(&prod, &probes, 2, true, "--only"),
            BudgetCheck::Forced
        );
        assert_eq!(
            check_check_budget(&prod, &probes, 2, false, "--only"),
            BudgetCheck::Refused(
                "refused: this check would spend 3 valid queries against https://api.example.org, over the query \
                 budget of 2 per hour (budget.queries_per_hour; the API allows 10 per hour per client, shared with \
                 real users, and each valid query costs LLM calls). Run only the free probes with --only health \
                 --only models, raise budget.queries_per_hour (for a simulator), or pass --force."
                    .to_string()
            )
        );
        assert!(
            matches!(check_check_budget(&prod, &[("q", 5)], 4, false, "--only"), BudgetCheck::Refused(m)
                if m.contains("LLM calls). Check fewer probes with --only NAME, raise")),
        );
    }
}
