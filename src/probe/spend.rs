//! What a run spent (pure): the probe's declared valid queries when the request may have reached the service's
//! workflow, none when it provably did not.

use super::FailureClass;

/// The valid queries a run of a probe declaring `declared` spent, given the status it got (`None`: no response)
/// and its failure class. None when the request provably never reached the workflow:
///
/// * a 429: the service refuses before the workflow, and does not count it against its limit;
/// * a 422: validation runs before the workflow;
/// * no connection was made (`dns`, `connect_refused`, `connect_timeout`, `tls`), or the run was not made at all
///   (`budget`).
///
/// Anything else counts as spent, conservatively: a timeout, a cut connection or an abandoned run may have
/// reached the workflow after the request was sent.
pub fn spent_queries(declared: u32, status: Option<u16>, class: Option<FailureClass>) -> u32 {
    let never_reached = matches!(
        (status, class),
        (Some(429 | 422), _)
            | (
                None,
                Some(
                    FailureClass::Dns
                        | FailureClass::ConnectRefused
                        | FailureClass::ConnectTimeout
                        | FailureClass::Tls
                        | FailureClass::Budget,
                ),
            )
    );
    if never_reached { 0 } else { declared }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FailureClass::*;

    #[test]
    fn a_run_spends_its_declared_queries_only_when_they_may_have_reached_the_workflow() {
        let table: [(Option<u16>, Option<FailureClass>, u32); 21] = [
            (Some(200), None, 2),
            (Some(200), Some(Contract), 2),
            (Some(200), Some(InvalidBody), 2),
            (Some(200), Some(TooLarge), 2),
            (Some(429), Some(Throttled), 0),
            (Some(429), None, 0),
            (Some(422), None, 0),
            (Some(422), Some(Contract), 0),
            (Some(500), Some(ServerError), 2),
            (Some(503), Some(AtCapacity), 2),
            (Some(502), Some(ProxyBadGateway), 2),
            (Some(404), Some(Contract), 2),
            (None, Some(Dns), 0),
            (None, Some(ConnectRefused), 0),
            (None, Some(ConnectTimeout), 0),
            (None, Some(Tls), 0),
            (None, Some(Budget), 0),
            (None, Some(Timeout), 2),
            (None, Some(Network), 2),
            (None, Some(InvalidBody), 2),
            (None, Some(Aborted), 2),
        ];
        for (status, class, spent) in table {
            assert_eq!(
                spent_queries(2, status, class),
                spent,
                "{status:?} {class:?}"
            );
        }
        assert_eq!(spent_queries(0, Some(200), None), 0, "a free probe");
    }
}
