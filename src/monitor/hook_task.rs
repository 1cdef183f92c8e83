//! The rollback actions as a task the daemon owns, apart from the watch loop: a reload never touches it, a
//! stop waits for it (bounded by its timeouts), a forced end records `hook_interrupted`, and a claim found
//! without an outcome at start (the process ended while the hook ran, `kill -9` included) is recorded as
//! `hook_outcome_unknown`. Each outcome is recorded with its email (when alert email is on) in one transaction.

use super::alerts::enqueue_notice;
use super::shared::{now_ms, store_task};
use crate::alert::{EmailContext, decision_notice};
use crate::config::WatchConfig;
use crate::rollback::{HookCall, HookOutcome, post_webhook, run_hook};
use crate::store::{Fence, Release, Store, StoreError};
use crate::telemetry::Metrics;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

pub const HOOK_SUCCEEDED: &str = "hook_succeeded";
pub const HOOK_FAILED: &str = "hook_failed";
pub const HOOK_INTERRUPTED: &str = "hook_interrupted";
pub const HOOK_OUTCOME_UNKNOWN: &str = "hook_outcome_unknown";

/// Time allowed past the hook's own timeouts before a stop gives up waiting for it.
const WAIT_MARGIN: Duration = Duration::from_secs(5);

/// Records release-watch outcomes: the decision, the claim's outcome when it settles the claim, and the
/// email, in one transaction.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub store: Arc<Mutex<Store>>,
    pub metrics: Metrics,
    /// The target named in decision emails; `None` when alert email is off.
    pub alert_target: Option<String>,
}

/// One outcome about a release.
#[derive(Debug, Clone)]
pub struct Outcome<'a> {
    pub release: &'a Release,
    pub at: u64,
    pub outcome: &'a str,
    pub reason: &'a str,
    pub evidence: &'a serde_json::Value,
    /// The lease it is recorded under (refused, recording nothing, once the lease moved on).
    pub fence: &'a Fence,
}

impl Recorder {
    /// Records `outcome`. With `settles`, it also closes the release's rollback claim with the evidence,
    /// and records nothing (returning false) when the claim already had an outcome.
    pub async fn record(&self, o: Outcome<'_>, settles: bool) -> Result<bool, StoreError> {
        let release_id = o.release.id;
        let notice = self.alert_target.as_ref().and_then(|target| {
            let notice = decision_notice(
                o.outcome,
                &o.release.version,
                &o.release.rollback_to,
                o.reason,
            )?;
            let context = EmailContext {
                target: target.clone(),
                release: Some(o.release.version.clone()),
                group_key: format!("release-{release_id}-{}", o.outcome),
                now_ms: o.at,
                in_reply_to: None,
            };
            Some((notice, context, format!("release {}", o.release.version)))
        });
        let (at, stored, reason, evidence, fence) = (
            o.at,
            o.outcome.to_string(),
            o.reason.to_string(),
            o.evidence.clone(),
            o.fence.clone(),
        );
        let recorded = store_task(&self.store, move |store| {
            store.as_leader(&fence, |store| {
                if settles {
                    if store.rollback_finished_at(release_id)?.is_some() {
                        return Ok(false);
                    }
                    store.finish_rollback(release_id, at, &evidence)?;
                }
                store.record_decision(release_id, at, &stored, &reason, &evidence)?;
                if let Some((notice, context, about)) = notice {
                    enqueue_notice(store, "decision", &about, &notice, context, None)?;
                }
                Ok(true)
            })
        })
        .await?;
        if recorded {
            self.metrics.rollback_decision(o.outcome);
        }
        Ok(recorded)
    }
}

/// The rollback being carried out, if any: at most one per process.
#[derive(Debug, Default)]
pub struct Hooks(Mutex<Option<RunningHook>>);

#[derive(Debug)]
struct RunningHook {
    release: Release,
    recorder: Recorder,
    /// The lease the rollback was claimed under: its outcome is recorded under it.
    fence: Fence,
    /// How long a stop waits for it: its timeouts plus a margin.
    bound: Duration,
    handle: JoinHandle<()>,
}

/// What the rollback actions need, apart from the watch loop.
#[derive(Debug, Clone)]
pub struct Rollback {
    pub recorder: Recorder,
    pub config: WatchConfig,
    pub release: Release,
    pub reason: String,
    pub evidence: serde_json::Value,
    pub evidence_file: PathBuf,
    /// The lease the rollback was claimed under.
    pub fence: Fence,
}

impl Hooks {
    /// Whether a rollback's actions are still running.
    pub fn busy(&self) -> bool {
        self.slot()
            .as_ref()
            .is_some_and(|h| !h.handle.is_finished())
    }

    /// Starts `rollback`'s actions (hook command, webhook) as their own task, which records their outcome.
    pub fn start(&self, rollback: Rollback) {
        let actions = u32::from(!rollback.config.command.is_empty())
            + u32::from(rollback.config.webhook.is_some());
        let bound =
            (rollback.config.hook_timeout.saturating_mul(actions)).saturating_add(WAIT_MARGIN);
        let (release, recorder) = (rollback.release.clone(), rollback.recorder.clone());
        let fence = rollback.fence.clone();
        let handle = tokio::spawn(act(rollback));
        *self.slot() = Some(RunningHook {
            release,
            recorder,
            fence,
            bound,
            handle,
        });
    }

    /// Waits for a running rollback to finish and record its outcome, at most its bound. When `force`
    /// resolves first, or the bound passes, the actions are ended and `hook_interrupted` is recorded.
    /// `waiting` is called with the bound when there is something to wait for.
    pub async fn wait(&self, waiting: impl FnOnce(Duration), force: impl Future<Output = ()>) {
        let Some(hook) = self.slot().take() else {
            return;
        };
        let mut handle = hook.handle;
        if !handle.is_finished() {
            waiting(hook.bound);
        }
        let finished = tokio::select! {
            done = tokio::time::timeout(hook.bound, &mut handle) => done.is_ok(),
            () = force => false,
        };
        if finished {
            return;
        }
        handle.abort();
        let _ = handle.await;
        let reason = "the daemon was stopped while the rollback hook ran; the hook was ended";
        let outcome = Outcome {
            release: &hook.release,
            at: now_ms(),
            outcome: HOOK_INTERRUPTED,
            reason,
            evidence: &serde_json::json!({ "interrupted": true }),
            fence: &hook.fence,
        };
        match hook.recorder.record(outcome, true).await {
            Ok(true) => crate::telemetry::say(&format!(
                "oewsprobe run: release {}: {reason}; recorded {HOOK_INTERRUPTED}",
                hook.release.version
            )),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "cannot record the interrupted rollback hook"),
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<RunningHook>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Runs the hook command and the webhook, then records how they went (and settles the claim).
async fn act(rollback: Rollback) {
    let Rollback {
        recorder,
        config,
        release,
        reason,
        evidence,
        evidence_file,
        fence,
    } = rollback;
    let call = HookCall {
        release: &release.version,
        rollback_to: &release.rollback_to,
        reason: &reason,
        evidence_file: &evidence_file,
    };
    let mut parts = Vec::new();
    let mut failures = Vec::new();
    let mut value = serde_json::Map::new();
    if !config.command.is_empty() {
        let outcome = run_hook(&config.hook(), &call).await;
        parts.push(command_summary(&outcome));
        if !outcome.succeeded() {
            failures.push("command");
        }
        value.insert(
            "command".into(),
            serde_json::to_value(&outcome).unwrap_or_default(),
        );
    }
    if let Some(url) = &config.webhook {
        let secret = config.webhook_secret.as_ref();
        let outcome = post_webhook(url, secret, &evidence, config.hook_timeout).await;
        parts.push(match (&outcome.status, &outcome.error) {
            (Some(status), _) => {
                format!("webhook answered {status} after {} ms", outcome.duration_ms)
            }
            (None, Some(e)) => format!("webhook failed: {e}"),
            (None, None) => "webhook failed".to_string(),
        });
        if !outcome.succeeded() {
            failures.push("webhook");
        }
        value.insert(
            "webhook".into(),
            serde_json::to_value(&outcome).unwrap_or_default(),
        );
    }
    let kind = if failures.is_empty() {
        HOOK_SUCCEEDED
    } else {
        HOOK_FAILED
    };
    let summary = parts.join("; ");
    tracing::warn!(release = %release.version, %summary, "rollback");
    let outcome = Outcome {
        release: &release,
        at: now_ms(),
        outcome: kind,
        reason: &summary,
        evidence: &serde_json::Value::Object(value),
        fence: &fence,
    };
    if let Err(e) = recorder.record(outcome, true).await {
        tracing::error!(release = %release.version, error = %e, "cannot record the rollback outcome");
    }
}

/// The command hook's outcome in one line, with the last line the hook wrote to stderr when it failed (its
/// own account of what went wrong).
fn command_summary(outcome: &HookOutcome) -> String {
    let said = || {
        last_line(&outcome.stderr)
            .map(|line| format!(": {line}"))
            .unwrap_or_default()
    };
    if outcome.succeeded() {
        format!("rollback hook exited 0 after {} ms", outcome.duration_ms)
    } else if outcome.timed_out {
        format!(
            "rollback hook killed after its timeout ({} ms){}",
            outcome.duration_ms,
            said()
        )
    } else if let Some(e) = &outcome.spawn_error {
        format!("rollback hook did not start: {e}")
    } else if let Some(code) = outcome.exit_code {
        format!("rollback hook exited {code}{}", said())
    } else {
        format!("rollback hook ended by a signal{}", said())
    }
}

/// The last non-blank line of `text`, trimmed and cut at 300 characters.
fn last_line(text: &str) -> Option<String> {
    const LIMIT: usize = 300;
    let line = text.lines().rev().map(str::trim).find(|l| !l.is_empty())?;
    Some(match line.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    })
}

/// When an agent starts to lead (and no rollback of its own runs): every rollback claimed without an outcome
/// (the agent that claimed it ended, or lost the lease, while its hook ran) is recorded as
/// `hook_outcome_unknown`, told in the log and (with alert email on) by email. Its recovery is then checked
/// as after any hook.
pub async fn settle_unknown_outcomes(recorder: &Recorder, fence: &Fence) -> Result<(), StoreError> {
    let unfinished = store_task(&recorder.store, |store| store.unfinished_rollbacks()).await?;
    for (release, claimed_at) in unfinished {
        let when = chrono::DateTime::from_timestamp_millis(claimed_at as i64).map_or_else(
            || format!("{claimed_at} ms"),
            |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
        let reason = format!(
            "the process ended while the rollback hook claimed at {when} ran; whether it completed is unknown"
        );
        let outcome = Outcome {
            release: &release,
            at: now_ms(),
            outcome: HOOK_OUTCOME_UNKNOWN,
            reason: &reason,
            evidence: &serde_json::json!({ "claimed_at_ms": claimed_at }),
            fence,
        };
        if recorder.record(outcome, true).await? {
            crate::telemetry::say(&format!(
                "oewsprobe run: release {}: {reason}; recorded {HOOK_OUTCOME_UNKNOWN}",
                release.version
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::command_summary;
    use crate::rollback::HookOutcome;

    fn outcome(exit_code: Option<i32>, timed_out: bool, stderr: &str) -> HookOutcome {
        HookOutcome {
            command: vec!["hook".into()],
            exit_code,
            timed_out,
            spawn_error: None,
            duration_ms: 1200,
            stdout: "rollback: v2 -> v1\n".into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn the_summary_carries_the_hooks_last_word_when_it_failed() {
        let long = "x".repeat(301);
        let table = [
            (
                outcome(Some(0), false, "warn\n"),
                "rollback hook exited 0 after 1200 ms".to_string(),
            ),
            (
                outcome(
                    Some(1),
                    false,
                    "step 1\nrollback failed: no image; nothing was changed\n\n",
                ),
                "rollback hook exited 1: rollback failed: no image; nothing was changed"
                    .to_string(),
            ),
            (
                outcome(Some(3), false, ""),
                "rollback hook exited 3".to_string(),
            ),
            (
                outcome(None, true, "polling health\n"),
                "rollback hook killed after its timeout (1200 ms): polling health".to_string(),
            ),
            (
                outcome(None, false, "  \n"),
                "rollback hook ended by a signal".to_string(),
            ),
            (
                outcome(Some(1), false, &long),
                format!("rollback hook exited 1: {}…", "x".repeat(300)),
            ),
        ];
        for (hook, expected) in table {
            assert_eq!(command_summary(&hook), expected, "{:?}", hook.stderr);
        }
    }
}
