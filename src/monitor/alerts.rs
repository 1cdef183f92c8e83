//! The alert loop: folds every run into the alert book, and each second writes what is due to the outbox —
//! one email for the group, silenced items recorded apart — in the same transaction as the book's new state.
//! It never sends: the delivery loop does, so SMTP being slow or down never delays a probe or this loop.
//! Certificate warnings of each run go out as notices of their own (`tls_warnings`).

use super::Lead;
use super::location_alerts::{LocationJudge, Out, folded};
use super::shared::{Shutdown, now_ms, report_leader_error, store_task};
use crate::alert::{
    AlertBook, AlertItem, AlertSettings, DueItem, EmailContext, ProbeAlert, RenderedEmail, order,
    render, silenced_by,
};
use crate::happened::LatencyFigures;
use crate::probe::ProbeRecord;
use crate::slo::Span;
use crate::store::{Fence, NewNotification, Store, StoreError};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// The key under which the open incident's thread is stored beside the probes' states.
const THREAD_KEY: &str = "~thread";
/// The span of the latency figures in alert emails.
const LATENCY_WINDOW: Duration = Duration::from_secs(3600);

/// Runs until every sender of `runs` is gone (the probe loops have ended) and what they sent is folded in.
/// Only while this agent leads (see [`Lead`]): another agent's runs are its own leader's to fold, so runs
/// that arrive meanwhile are let go, and the book is read again from the store at each new leadership.
pub async fn run_alert_loop(
    store: Arc<Mutex<Store>>,
    lead: Arc<Lead>,
    settings: AlertSettings,
    target: String,
    mut runs: UnboundedReceiver<ProbeRecord>,
    (location, quorum): (String, crate::fleet::Quorum),
    mut shutdown: Shutdown,
) -> u64 {
    let mut book = restore(&store, &settings).await;
    let mut told = super::tls_warnings::Told::restore(&store).await;
    let mut judge = LocationJudge::restore(&store, &location, quorum).await;
    // The lease generation the book was read under.
    let mut read_under: Option<u64> = None;
    let mut written = 0;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let event = tokio::select! {
            received = runs.recv() => {
                let Some(record) = received else { break };
                let mut batch = vec![record];
                while let Ok(record) = runs.try_recv() {
                    batch.push(record);
                }
                Some(batch)
            }
            _ = tick.tick(), if !shutdown.is_set() => None,
            () = shutdown.requested(), if !shutdown.is_set() => continue,
        };
        let Some(fence) = lead.fence() else {
            continue;
        };
        if read_under != Some(fence.generation) {
            book = restore(&store, &settings).await;
            told = super::tls_warnings::Told::restore(&store).await;
            judge = LocationJudge::restore(&store, &location, quorum).await;
            read_under = Some(fence.generation);
        }
        match event {
            Some(batch) => {
                let out = Out {
                    store: &store,
                    lead: &lead,
                    fence: &fence,
                    settings: &settings,
                    target: &target,
                };
                let (folds, warned) = judge.judge(out, &batch).await;
                written += warned;
                for (record, fold) in batch.iter().zip(&folds) {
                    observe(&mut book, &folded(record, fold));
                }
                for record in &batch {
                    match told
                        .observe(&store, &fence, &settings, &target, record)
                        .await
                    {
                        Ok(n) => written += n,
                        Err(e) => {
                            report_leader_error(&lead, &e, "warnings: cannot write the notice")
                        }
                    }
                }
            }
            None if book.has_work() => {
                match notify_due(&store, &fence, &settings, &target, &mut book).await {
                    Ok(n) => written += n,
                    Err(e) => report_leader_error(
                        &lead,
                        &e,
                        "alerting: cannot write the due notification",
                    ),
                }
            }
            None => {}
        }
        persist(&store, &lead, &fence, &mut book).await;
    }
    if let Some(fence) = lead.fence().filter(|f| read_under == Some(f.generation)) {
        persist(&store, &lead, &fence, &mut book).await;
    }
    written
}

fn observe(book: &mut AlertBook, record: &ProbeRecord) {
    book.observe(
        &record.probe,
        record.verdict,
        record.class,
        &record.findings,
        record.scheduled_at_ms + record.latency.as_millis() as u64,
    );
}

async fn restore(store: &Arc<Mutex<Store>>, settings: &AlertSettings) -> AlertBook {
    let stored = store_task(store, |store| store.alert_states::<serde_json::Value>())
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "alerting: cannot read the stored alert states; starting fresh");
            Default::default()
        });
    let thread = stored
        .get(THREAD_KEY)
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let probes: BTreeMap<String, ProbeAlert> = stored
        .into_iter()
        .filter(|(key, _)| key != THREAD_KEY)
        .filter_map(|(key, value)| Some((key, serde_json::from_value(value).ok()?)))
        .collect();
    AlertBook::restore(
        settings.policy.clone(),
        settings.group.clone(),
        probes,
        thread,
    )
}

/// Stores the probes changed since the last call, and the thread, as leader.
async fn persist(store: &Arc<Mutex<Store>>, lead: &Lead, fence: &Fence, book: &mut AlertBook) {
    let states = changed_states(book);
    if states.len() <= 1 {
        return;
    }
    let fence = fence.clone();
    if let Err(e) = store_task(store, move |store| {
        store.as_leader(&fence, |store| store.save_alert_states(&states, now_ms()))
    })
    .await
    {
        report_leader_error(lead, &e, "alerting: cannot store the alert states");
    }
}

/// The changed probes' states, then the thread (always, so it is saved with them).
fn changed_states(book: &mut AlertBook) -> Vec<(String, serde_json::Value)> {
    let mut states: Vec<(String, serde_json::Value)> = book
        .take_dirty()
        .into_iter()
        .map(|(name, alert)| (name, serde_json::to_value(alert).unwrap_or_default()))
        .collect();
    states.push((
        THREAD_KEY.to_string(),
        book.thread().map_or(serde_json::Value::Null, Into::into),
    ));
    states
}

/// Writes what is due now; returns how many notifications were written.
async fn notify_due(
    store: &Arc<Mutex<Store>>,
    fence: &Fence,
    settings: &AlertSettings,
    target: &str,
    book: &mut AlertBook,
) -> Result<u64, StoreError> {
    let now = now_ms();
    let (silences, release) = store_task(store, move |store| {
        Ok((
            store.active_silences(now)?,
            store.open_release()?.map(|r| r.version),
        ))
    })
    .await?;
    let windows = &settings.maintenance;
    let Some(due) = book.due(now, |probe| silenced_by(probe, now, &silences, windows)) else {
        return Ok(0);
    };
    let probes: Vec<String> = (due.send.iter())
        .chain(due.silenced.iter().map(|(item, _)| item))
        .map(|item| item.probe.clone())
        .collect();
    // The book has handed out what is due: a failed read costs the email its latency figures, not the alert.
    let latency = store_task(store, move |store| {
        let last_hour = Span::ending_at(now, LATENCY_WINDOW);
        crate::happened::latency_percentiles(store, &probes, last_hour)
    })
    .await
    .unwrap_or_else(|e| {
        tracing::warn!(error = %e, "alerting: cannot read the latency figures; the email goes without them");
        LatencyFigures::new()
    });
    let mut context = EmailContext {
        target: target.to_string(),
        release,
        group_key: "alerts".to_string(),
        now_ms: now,
        in_reply_to: book.thread().map(str::to_string),
    };
    let mut notifications = Vec::new();
    if !due.send.is_empty() {
        let email = email(&due.send.iter().collect::<Vec<_>>(), &latency, &context);
        book.written(&email.message_id);
        notifications.push(notification(
            &due.send.iter().collect::<Vec<_>>(),
            email,
            now,
            None,
        ));
    }
    if !due.silenced.is_empty() {
        let items: Vec<&DueItem> = due.silenced.iter().map(|(item, _)| item).collect();
        let mut reasons: Vec<&str> = due.silenced.iter().map(|(_, r)| r.as_str()).collect();
        reasons.dedup();
        context.group_key = "alerts-silenced".to_string();
        context.in_reply_to = None;
        let email = email(&items, &latency, &context);
        notifications.push(notification(&items, email, now, Some(reasons.join("; "))));
    }
    let states = changed_states(book);
    let written = notifications.len() as u64;
    let fence = fence.clone();
    store_task(store, move |store| {
        store.as_leader(&fence, |store| {
            for n in &notifications {
                store.enqueue(n)?;
            }
            store.save_alert_states(&states, now)
        })
    })
    .await?;
    Ok(written)
}

fn notification(
    items: &[&DueItem],
    email: RenderedEmail,
    now: u64,
    silenced_by: Option<String>,
) -> NewNotification {
    NewNotification {
        kind: "alert",
        about: items
            .iter()
            .map(|i| i.probe.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        email,
        created_at_ms: now,
        silenced_by,
    }
}

/// The email about `items`, with each probe's p50 and p95 latency over the last hour from `latency`.
fn email(items: &[&DueItem], latency: &LatencyFigures, context: &EmailContext) -> RenderedEmail {
    let mut items: Vec<AlertItem> = items
        .iter()
        .map(|item| {
            let (p50, p95) = latency.get(&item.probe).copied().unwrap_or_default();
            AlertItem {
                probe: item.probe.clone(),
                event: item.event,
                class: item.class,
                findings: item.findings.clone(),
                latency_p50_ms: p50,
                latency_p95_ms: p95,
            }
        })
        .collect();
    order(&mut items);
    render(&items, context)
}

/// Renders `notice` as a follow-up of the latest notification of `kind` about `about`, and writes it to the
/// outbox (silenced when `silenced_by` says so). Call inside the transaction that records what it tells.
pub fn enqueue_notice(
    store: &Store,
    kind: &'static str,
    about: &str,
    notice: &crate::alert::Notice,
    context: EmailContext,
    silenced_by: Option<String>,
) -> Result<(), StoreError> {
    let created_at_ms = context.now_ms;
    let in_reply_to = store.latest_message_id(kind, about)?;
    let email = crate::alert::render_notice(
        notice,
        &EmailContext {
            in_reply_to,
            ..context
        },
    );
    store.enqueue(&NewNotification {
        kind,
        about: about.to_string(),
        email,
        created_at_ms,
        silenced_by,
    })?;
    Ok(())
}
