//! The delivery loop: sends the outbox's due notifications one at a time, marks each sent, or schedules its
//! retry with exponential backoff, or gives up on it after the retry policy's limit. Its own task: a slow or
//! dead SMTP server delays only this loop. After a restart it sends what is still queued. In a fleet only
//! the leader delivers, taking each notification before it sends it.

use super::Lead;
use super::shared::{Shutdown, now_ms, report_leader_error, store_task};
use crate::alert::{Mailer, RetryPolicy, SmtpError};
use crate::store::{Fence, Notification, Store};
use crate::telemetry::Metrics;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the loop looks for new notifications when none is scheduled sooner.
const POLL: Duration = Duration::from_secs(1);

/// Runs until shutdown; returns how many notifications it sent. Only while this agent leads: it takes each
/// due notification (see `Store::claim_due_notification`) and checks that it may still act just before
/// sending it.
pub async fn run_delivery_loop(
    store: Arc<Mutex<Store>>,
    lead: Arc<Lead>,
    mailer: Mailer,
    retry: RetryPolicy,
    metrics: Metrics,
    mut shutdown: Shutdown,
) -> u64 {
    let mut sent = 0;
    while !shutdown.is_set() {
        match store_task(&store, |store| Ok(store.outbox_summary()?.queued)).await {
            Ok(queued) => metrics.set_notifications_queued(queued),
            Err(e) => tracing::error!(error = %e, "alert delivery: cannot read the outbox"),
        }
        while let Some(fence) = lead.fence() {
            let now = now_ms();
            let claim = fence.clone();
            let notification = match store_task(&store, move |store| {
                store.claim_due_notification(&claim, now)
            })
            .await
            {
                Ok(Some(notification)) => notification,
                Ok(None) => break,
                Err(e) => {
                    report_leader_error(&lead, &e, "alert delivery: cannot take a notification");
                    break;
                }
            };
            // Taking it took a round trip: send only if this agent may still act (else the next leader,
            // of a newer generation, takes it).
            if lead.fence().as_ref() != Some(&fence) {
                break;
            }
            let outcome = tokio::select! {
                outcome = mailer.send(&notification.email) => outcome,
                () = shutdown.requested() => {
                    // Abandoned mid-send: given back, so that the next deliverer sends it (again, if it went out).
                    let id = notification.id;
                    if let Err(e) = store_task(&store, move |store| store.unclaim_notification(id)).await {
                        tracing::error!(error = %e, id, "alert delivery: cannot give back an abandoned notification");
                    }
                    return sent;
                }
            };
            let delivered = outcome.is_ok();
            if delivered {
                metrics.notification_sent();
            } else {
                metrics.notification_failed();
            }
            if let Err(e) = settle(&store, &fence, &retry, &notification, outcome.err()).await {
                report_leader_error(&lead, &e, "alert delivery: cannot record the outcome");
            }
            sent += u64::from(delivered);
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            () = shutdown.requested() => {}
        }
    }
    sent
}

/// Records one attempt's outcome: sent (always: it went out, whoever leads now — refusing it would send it
/// again), or, as leader under `fence`, retried later or given up on.
async fn settle(
    store: &Arc<Mutex<Store>>,
    fence: &Fence,
    retry: &RetryPolicy,
    notification: &Notification,
    error: Option<SmtpError>,
) -> Result<(), crate::store::StoreError> {
    let now = now_ms();
    let id = notification.id;
    let Some(error) = error else {
        tracing::info!(id, subject = %notification.email.subject, "alert email sent");
        return store_task(store, move |store| store.mark_sent(id, now)).await;
    };
    let attempts = notification.attempts + 1;
    let retry_at = next_attempt(retry, notification.created_at_ms, attempts, now);
    let permanent = error.is_permanent();
    let error = error.to_string();
    match retry_at {
        Some(at) if permanent => tracing::error!(
            id, attempts, %error, retry_in_s = (at - now) / 1000,
            "alert email refused; check [alert.smtp] (retrying, and a reload with the fix delivers it)"
        ),
        Some(at) => tracing::warn!(
            id, attempts, %error, retry_in_s = (at - now) / 1000,
            "alert email not delivered; will retry"
        ),
        None => tracing::error!(
            id, attempts, %error,
            "alert email not delivered; giving up after {}",
            humantime::format_duration(retry.give_up_after)
        ),
    }
    let fence = fence.clone();
    store_task(store, move |store| {
        store.as_leader(&fence, |store| {
            store.mark_attempt_failed(id, &error, now, retry_at)
        })
    })
    .await
}

/// When to try again after the `attempts`-th failure at `now_ms`: the initial delay doubling up to the cap;
/// `None` once the notification is older than the give-up limit.
pub fn next_attempt(
    retry: &RetryPolicy,
    created_at_ms: u64,
    attempts: u32,
    now_ms: u64,
) -> Option<u64> {
    if now_ms.saturating_sub(created_at_ms) >= retry.give_up_after.as_millis() as u64 {
        return None;
    }
    let doubled = retry
        .initial
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    Some(now_ms + doubled.min(retry.max).as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap_then_give_up() {
        let retry = RetryPolicy {
            initial: Duration::from_secs(30),
            max: Duration::from_secs(30 * 60),
            give_up_after: Duration::from_secs(24 * 3600),
        };
        let s = 1_000;
        let cases = [
            ("first failure", 1, 0, Some(30 * s)),
            ("second", 2, 0, Some(60 * s)),
            ("fifth", 5, 0, Some(480 * s)),
            ("capped", 7, 0, Some(1_800 * s)),
            ("many", 200, 0, Some(1_800 * s)),
            (
                "just before giving up",
                3,
                24 * 3600 * s - 1,
                Some(24 * 3600 * s - 1 + 120 * s),
            ),
            ("given up", 3, 24 * 3600 * s, None),
        ];
        for (name, attempts, now, expected) in cases {
            assert_eq!(next_attempt(&retry, 0, attempts, now), expected, "{name}");
        }
    }
}
