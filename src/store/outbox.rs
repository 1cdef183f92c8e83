//! The notification outbox: every notification is written here before it is sent, then marked sent, retried
//! with backoff, failed after giving up, or recorded as silenced. A restart sends what is still queued.
//! The leader takes each notification before sending it ([`Store::claim_due_notification`]): the row is
//! marked with its lease generation while it is in flight; only a deliverer of a newer generation takes it
//! again (its leader died mid-send), and a failed attempt gives it back for its retry.

use super::db::{Dialect, Row, args};
use super::{Fence, Store, StoreResult};
use crate::alert::RenderedEmail;
use serde::Serialize;

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationState {
    /// Waiting for (another) delivery attempt.
    Queued,
    Sent,
    /// Given up on after the retry policy's limit.
    Failed,
    /// Recorded, not sent: a silence or maintenance window covered it.
    Silenced,
}

impl NotificationState {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationState::Queued => "queued",
            NotificationState::Sent => "sent",
            NotificationState::Failed => "failed",
            NotificationState::Silenced => "silenced",
        }
    }

    fn parse(text: &str) -> NotificationState {
        match text {
            "sent" => NotificationState::Sent,
            "failed" => NotificationState::Failed,
            "silenced" => NotificationState::Silenced,
            _ => NotificationState::Queued,
        }
    }
}

/// A notification to write.
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// `alert`, `slo` or `decision`.
    pub kind: &'static str,
    /// What it is about, for people: probe names, an objective's tier, a release.
    pub about: String,
    pub email: RenderedEmail,
    pub created_at_ms: u64,
    /// What silenced it; `None`: it is to be sent.
    pub silenced_by: Option<String>,
}

/// A notification as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub about: String,
    pub state: NotificationState,
    pub email: RenderedEmail,
    pub created_at_ms: u64,
    pub attempts: u32,
    pub next_attempt_at_ms: u64,
    pub last_error: Option<String>,
    pub finished_at_ms: Option<u64>,
    pub silenced_by: Option<String>,
}

/// The outbox at a glance, for `status` and the metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutboxSummary {
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
    pub silenced: u64,
    /// The queued notifications that have failed at least once.
    pub retrying: u64,
    /// The latest delivery error of a notification still queued or given up on.
    pub last_error: Option<String>,
}

const COLUMNS: &str = "id, kind, about, state, subject, text, html, message_id, in_reply_to, created_at_ms, \
                       attempts, next_attempt_at_ms, last_error, finished_at_ms, silenced_by";

fn notification(r: &Row<'_>) -> StoreResult<Notification> {
    Ok(Notification {
        id: r.get(0)?,
        kind: r.get(1)?,
        about: r.get(2)?,
        state: NotificationState::parse(&r.get::<String>(3)?),
        email: RenderedEmail {
            subject: r.get(4)?,
            text: r.get(5)?,
            html: r.get(6)?,
            message_id: r.get(7)?,
            in_reply_to: r.get(8)?,
        },
        created_at_ms: r.get::<i64>(9)? as u64,
        attempts: r.get(10)?,
        next_attempt_at_ms: r.get::<i64>(11)? as u64,
        last_error: r.get(12)?,
        finished_at_ms: r.get::<Option<i64>>(13)?.map(|v| v as u64),
        silenced_by: r.get(14)?,
    })
}

impl Store {
    /// Writes a notification: queued to be sent now, or recorded as silenced. Returns its id.
    pub fn enqueue(&self, n: &NewNotification) -> StoreResult<i64> {
        let state = if n.silenced_by.is_some() {
            NotificationState::Silenced
        } else {
            NotificationState::Queued
        };
        self.db.query_row(
            "INSERT INTO outbox (created_at_ms, kind, about, state, subject, text, html, message_id, in_reply_to,
                                 next_attempt_at_ms, finished_at_ms, silenced_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?1, ?10, ?11) RETURNING id",
            args![
                n.created_at_ms as i64,
                n.kind,
                &n.about,
                state.as_str(),
                &n.email.subject,
                &n.email.text,
                &n.email.html,
                &n.email.message_id,
                n.email.in_reply_to.as_deref(),
                n.silenced_by.as_ref().map(|_| n.created_at_ms as i64),
                n.silenced_by.as_deref(),
            ],
            |r| r.get(0),
        )
    }

    /// The queued notifications due at `now_ms`, oldest first.
    pub fn due_notifications(&self, now_ms: u64, limit: u32) -> StoreResult<Vec<Notification>> {
        self.db.query_map(
            &format!(
                "SELECT {COLUMNS} FROM outbox WHERE state = 'queued' AND next_attempt_at_ms <= ?1
                 ORDER BY next_attempt_at_ms, id LIMIT ?2"
            ),
            args![now_ms as i64, limit],
            notification,
        )
    }

    /// Takes the oldest due notification for delivery as leader (under `fence`): marks it in flight with the
    /// lease's generation. Rows in flight under this generation or a newer one are left alone, and on
    /// PostgreSQL so are rows another transaction is taking (`FOR UPDATE SKIP LOCKED`): two deliverers never
    /// take one row. A row in flight under an older generation (its leader died mid-send) is taken again.
    pub fn claim_due_notification(
        &self,
        fence: &Fence,
        now_ms: u64,
    ) -> StoreResult<Option<Notification>> {
        let skip = match self.db.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let generation = fence.generation as i64;
        self.as_leader(fence, |store| {
            let due = store.db.query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM outbox WHERE state = 'queued' AND next_attempt_at_ms <= ?1
                     AND (claimed_generation IS NULL OR claimed_generation < ?2)
                     ORDER BY next_attempt_at_ms, id LIMIT 1{skip}"
                ),
                args![now_ms as i64, generation],
                notification,
            )?;
            if let Some(n) = &due {
                store.db.execute(
                    "UPDATE outbox SET claimed_generation = ?2 WHERE id = ?1",
                    args![n.id, generation],
                )?;
            }
            Ok(due)
        })
    }

    /// Gives back a notification taken for delivery but not sent (the send was abandoned at a stop).
    pub fn unclaim_notification(&self, id: i64) -> StoreResult<()> {
        self.db.execute(
            "UPDATE outbox SET claimed_generation = NULL WHERE id = ?1 AND state = 'queued'",
            args![id],
        )?;
        Ok(())
    }

    /// When the next queued notification is due, if any is queued.
    pub fn next_due_at(&self) -> StoreResult<Option<u64>> {
        let at: Option<i64> = self.db.query_row(
            "SELECT MIN(next_attempt_at_ms) FROM outbox WHERE state = 'queued'",
            &[],
            |r| r.get(0),
        )?;
        Ok(at.map(|v| v as u64))
    }

    pub fn mark_sent(&self, id: i64, now_ms: u64) -> StoreResult<()> {
        self.db.execute(
            "UPDATE outbox SET state = 'sent', attempts = attempts + 1, finished_at_ms = ?2 WHERE id = ?1",
            args![id, now_ms as i64],
        )?;
        Ok(())
    }

    /// Records a failed attempt: retried at `retry_at_ms`, or, with `None`, given up on (state `failed`).
    pub fn mark_attempt_failed(
        &self,
        id: i64,
        error: &str,
        now_ms: u64,
        retry_at_ms: Option<u64>,
    ) -> StoreResult<()> {
        match retry_at_ms {
            Some(at) => self.db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at_ms = ?3,
                 claimed_generation = NULL WHERE id = ?1",
                args![id, error, at as i64],
            )?,
            None => self.db.execute(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?2, finished_at_ms = ?3
                 WHERE id = ?1",
                args![id, error, now_ms as i64],
            )?,
        };
        Ok(())
    }

    /// The latest `limit` notifications, newest first.
    pub fn notifications(&self, limit: u32) -> StoreResult<Vec<Notification>> {
        self.db.query_map(
            &format!("SELECT {COLUMNS} FROM outbox ORDER BY id DESC LIMIT ?1"),
            args![limit],
            notification,
        )
    }

    pub fn outbox_summary(&self) -> StoreResult<OutboxSummary> {
        let mut summary = OutboxSummary::default();
        let rows = self.db.query_map(
            "SELECT state, COUNT(*), CAST(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS BIGINT)
             FROM outbox GROUP BY state",
            &[],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<i64>(1)? as u64,
                    r.get::<i64>(2)? as u64,
                ))
            },
        )?;
        for (state, count, tried) in rows {
            match NotificationState::parse(&state) {
                NotificationState::Queued => {
                    summary.queued = count;
                    summary.retrying = tried;
                }
                NotificationState::Sent => summary.sent = count,
                NotificationState::Failed => summary.failed = count,
                NotificationState::Silenced => summary.silenced = count,
            }
        }
        summary.last_error = self.db.query_opt(
            "SELECT last_error FROM outbox WHERE last_error IS NOT NULL AND state IN ('queued', 'failed')
             ORDER BY id DESC LIMIT 1",
            &[],
            |r| r.get(0),
        )?;
        Ok(summary)
    }

    /// The Message-ID of the latest notification of `kind` about `about`, to thread a follow-up under.
    pub fn latest_message_id(&self, kind: &str, about: &str) -> StoreResult<Option<String>> {
        self.db.query_opt(
            "SELECT message_id FROM outbox WHERE kind = ?1 AND about = ?2 ORDER BY id DESC LIMIT 1",
            args![kind, about],
            |r| r.get(0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(subject: &str, at: u64, silenced_by: Option<&str>) -> NewNotification {
        NewNotification {
            kind: "alert",
            about: "health".into(),
            email: RenderedEmail {
                subject: subject.into(),
                text: "text".into(),
                html: "<p>html</p>".into(),
                message_id: format!("<{subject}@oewsprobe.invalid>"),
                in_reply_to: None,
            },
            created_at_ms: at,
            silenced_by: silenced_by.map(str::to_string),
        }
    }

    #[test]
    fn a_notification_is_queued_retried_and_sent_once() {
        crate::store::for_each_backend(|store| {
            let id = store.enqueue(&new("down", 1_000, None)).expect("enqueue");
            assert_eq!(store.next_due_at().expect("next"), Some(1_000));
            let due = store.due_notifications(1_000, 10).expect("due");
            assert_eq!(due.len(), 1);
            assert_eq!(
                (due[0].id, due[0].state, due[0].attempts),
                (id, NotificationState::Queued, 0)
            );
            store
                .mark_attempt_failed(id, "SMTP 127.0.0.1:25: cannot connect", 1_000, Some(31_000))
                .expect("fail");
            assert!(
                store.due_notifications(30_999, 10).expect("due").is_empty(),
                "backing off"
            );
            let summary = store.outbox_summary().expect("summary");
            assert_eq!((summary.queued, summary.retrying), (1, 1));
            assert_eq!(
                summary.last_error.as_deref(),
                Some("SMTP 127.0.0.1:25: cannot connect")
            );
            assert_eq!(
                store.due_notifications(31_000, 10).expect("due")[0].attempts,
                1
            );
            store.mark_sent(id, 31_500).expect("sent");
            assert!(
                store
                    .due_notifications(u64::MAX / 2, 10)
                    .expect("due")
                    .is_empty()
            );
            assert_eq!(store.next_due_at().expect("next"), None);
            let summary = store.outbox_summary().expect("summary");
            assert_eq!(
                (summary.queued, summary.sent, summary.last_error),
                (0, 1, None)
            );
            let all = store.notifications(10).expect("list");
            assert_eq!(
                (all[0].state, all[0].attempts, all[0].finished_at_ms),
                (NotificationState::Sent, 2, Some(31_500))
            );
        });
    }

    #[test]
    fn giving_up_and_silencing_are_recorded() {
        crate::store::for_each_backend(|store| {
            let id = store.enqueue(&new("down", 1_000, None)).expect("enqueue");
            store
                .mark_attempt_failed(id, "550 no such user", 2_000, None)
                .expect("give up");
            store
                .enqueue(&new("quiet", 3_000, Some("silence #1")))
                .expect("enqueue");
            assert!(
                store
                    .due_notifications(u64::MAX / 2, 10)
                    .expect("due")
                    .is_empty()
            );
            let summary = store.outbox_summary().expect("summary");
            assert_eq!(
                (summary.failed, summary.silenced, summary.queued),
                (1, 1, 0)
            );
            assert_eq!(summary.last_error.as_deref(), Some("550 no such user"));
            let all = store.notifications(10).expect("list");
            assert_eq!(all[0].silenced_by.as_deref(), Some("silence #1"));
            assert_eq!(all[1].state, NotificationState::Failed);
            assert_eq!(
                store
                    .latest_message_id("alert", "health")
                    .expect("id")
                    .as_deref(),
                Some("<quiet@oewsprobe.invalid>")
            );
            assert_eq!(store.latest_message_id("slo", "health").expect("id"), None);
        });
    }

    fn fence(holder: &str, generation: u64) -> Fence {
        Fence {
            holder: holder.into(),
            generation,
        }
    }

    #[test]
    fn a_notification_in_flight_is_taken_again_only_under_a_newer_lease_or_after_a_failed_attempt()
    {
        use std::time::Duration;
        crate::store::for_each_backend(|store| {
            let id = store.enqueue(&new("down", 1_000, None)).expect("enqueue");
            let long = Duration::from_secs(60);
            store
                .claim_lease(crate::store::LEADER, "a", long)
                .expect("claim");
            let a = fence("a", 1);
            let taken = store.claim_due_notification(&a, 1_000).expect("take");
            assert_eq!(taken.map(|n| n.id), Some(id));
            assert_eq!(
                store.claim_due_notification(&a, 1_000).expect("take"),
                None,
                "in flight"
            );
            // A failed attempt gives it back for its retry.
            store
                .as_leader(&a, |s| {
                    s.mark_attempt_failed(id, "421 busy", 1_000, Some(1_000))
                })
                .expect("failed attempt");
            assert!(
                store
                    .claim_due_notification(&a, 1_000)
                    .expect("retry")
                    .is_some()
            );
            // "a" dies mid-send: "b", under a newer lease, takes it again; "a" can take nothing.
            store
                .release_lease(crate::store::LEADER, "a")
                .expect("its lease ends");
            store
                .claim_lease(crate::store::LEADER, "b", long)
                .expect("claim");
            let b = fence("b", 2);
            assert!(matches!(
                store.claim_due_notification(&a, 1_000),
                Err(crate::store::StoreError::NotLeader { generation: 1 })
            ));
            let again = store.claim_due_notification(&b, 1_000).expect("take again");
            assert_eq!(
                again.map(|n| n.email.message_id),
                Some("<down@oewsprobe.invalid>".into())
            );
            store.mark_sent(id, 2_000).expect("sent");
            assert_eq!(store.claim_due_notification(&b, 5_000).expect("take"), None);
        });
    }

    /// Deliverers on their own PostgreSQL connections take due notifications at once: each is taken once.
    #[test]
    fn deliverers_taking_notifications_at_once_on_postgresql_never_take_one_twice() {
        let url = crate::store::test_postgres::database();
        let target = crate::store::PgTarget::parse(&url).expect("url");
        let store = Store::open_url(&target, None).expect("open");
        for i in 0..60 {
            store
                .enqueue(&new(&format!("n{i}"), 1_000, None))
                .expect("enqueue");
        }
        let lease = store
            .claim_lease(
                crate::store::LEADER,
                "a",
                std::time::Duration::from_secs(60),
            )
            .expect("claim")
            .expect("taken");
        let deliverers: Vec<_> = (0..4)
            .map(|_| {
                let (target, generation) = (target.clone(), lease.generation);
                std::thread::spawn(move || {
                    let store = Store::open_url(&target, None).expect("open");
                    let mut taken = Vec::new();
                    while let Some(n) = store
                        .claim_due_notification(&fence("a", generation), 1_000)
                        .expect("take")
                    {
                        taken.push(n.id);
                    }
                    taken
                })
            })
            .collect();
        let mut all: Vec<i64> = deliverers
            .into_iter()
            .flat_map(|d| d.join().expect("deliverer"))
            .collect();
        all.sort_unstable();
        let expected: Vec<i64> = store
            .due_notifications(1_000, 100)
            .expect("due")
            .iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(all.len(), 60, "{all:?}");
        assert_eq!(all, expected, "each taken exactly once");
    }

    #[test]
    fn message_ids_are_unique_so_a_notification_cannot_be_queued_twice() {
        crate::store::for_each_backend(|store| {
            store.enqueue(&new("down", 1_000, None)).expect("enqueue");
            assert!(store.enqueue(&new("down", 1_000, None)).is_err());
        });
    }
}
