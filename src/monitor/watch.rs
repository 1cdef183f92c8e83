//! The release watch inside the daemon: every `release.evaluate_every`, evaluate the objectives over the
//! stored runs, decide with the pure `release::decide`, record each change of decision with its evidence, run
//! the rollback hook at most once per release (the claim is written to the store first), and verify recovery.

use super::alerts::enqueue_notice;
use super::shared::{Shared, Shutdown, now_ms};
use crate::alert::{EmailContext, decision_notice};
use crate::config::WatchConfig;
use crate::probe::Verdict;
use crate::release::{Decision, ObjectiveWatch, ProberHealth, WatchInput, decide};
use crate::rollback::{HookCall, post_webhook, run_hook};
use crate::slo::{Objective, Observation, TierState};
use crate::store::{Release, StoredRecord};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Outcomes recorded besides the decision itself.
pub const HOOK_SUCCEEDED: &str = "hook_succeeded";
pub const HOOK_FAILED: &str = "hook_failed";
pub const RECOVERY_VERIFIED: &str = "recovery_verified";
pub const RECOVERY_NOT_VERIFIED: &str = "recovery_not_verified";

/// Runs the watch until shutdown; returns how many decisions it recorded.
pub async fn run_watch_loop(
    shared: Arc<Shared>,
    objectives: Vec<Objective>,
    config: WatchConfig,
    evidence_dir: PathBuf,
    alert_target: Option<String>,
    mut shutdown: Shutdown,
) -> u64 {
    let states = load_states(&shared, &objectives).await;
    let mut watch = Watch {
        shared,
        objectives,
        config,
        evidence_dir,
        alert_target,
        states,
        recorded: 0,
    };
    let mut tick = tokio::time::interval(watch.config.evaluate_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shutdown.requested() => return watch.recorded,
        }
        if watch.objectives.is_empty() {
            continue;
        }
        if let Err(e) = watch.evaluate(now_ms()).await {
            tracing::error!(error = %e, "release watch: evaluation failed");
        }
    }
}

struct Watch {
    shared: Arc<Shared>,
    objectives: Vec<Objective>,
    config: WatchConfig,
    evidence_dir: PathBuf,
    /// The target named in decision emails; `None` when alert email is off.
    alert_target: Option<String>,
    /// Tier states by objective name, aligned with its tiers; stored when a breach begins or ends.
    states: HashMap<String, Vec<TierState>>,
    recorded: u64,
}

/// What one evaluation reads from the store.
struct Snapshot {
    release: Release,
    records: Vec<StoredRecord>,
    claimed: bool,
    /// Outcomes recorded so far for the release, oldest first, with their [`decision_key`].
    history: Vec<(String, String)>,
    hook_finished_at: Option<u64>,
}

impl Watch {
    async fn evaluate(&mut self, now: u64) -> Result<(), crate::store::StoreError> {
        let lookback = self.lookback();
        let Some(snapshot) = self
            .shared
            .with_store(move |store| {
                let Some(release) = store.open_release()? else {
                    return Ok(None);
                };
                let records =
                    store.records_since(release.started_at_ms.saturating_sub(lookback))?;
                let claimed = store.rollback_claimed(release.id)?;
                let history = store
                    .decisions(release.id)?
                    .into_iter()
                    .map(|d| {
                        let key = decision_key(&d.outcome, &d.evidence);
                        (d.outcome, key)
                    })
                    .collect();
                let hook_finished_at = store.rollback_finished_at(release.id)?;
                Ok(Some(Snapshot {
                    release,
                    records,
                    claimed,
                    history,
                    hook_finished_at,
                }))
            })
            .await?
        else {
            return Ok(());
        };
        if let Some(finished) = snapshot.hook_finished_at {
            return self.verify_recovery(&snapshot, finished, now).await;
        }
        let observations: Vec<Observation> = snapshot
            .records
            .iter()
            .map(StoredRecord::observation)
            .collect();
        let release = crate::release::Release {
            version: snapshot.release.version.clone(),
            rollback_to: snapshot.release.rollback_to.clone(),
            started_at_ms: snapshot.release.started_at_ms,
            until_ms: snapshot.release.watch_until_ms,
        };
        let settings = self.config.settings.clone();
        let watches: Vec<ObjectiveWatch> = self
            .objectives
            .iter()
            .map(|objective| {
                let states = self
                    .states
                    .get(&objective.name)
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                ObjectiveWatch::observe(objective, &observations, states, &release, &settings, now)
            })
            .collect();
        for w in &watches {
            let states: Vec<TierState> = w.tiers.iter().map(|t| t.state).collect();
            let changed = self.states.get(&w.objective).is_none_or(|old| {
                old.iter()
                    .map(|s| s.breached_since)
                    .ne(states.iter().map(|s| s.breached_since))
            });
            if changed {
                let named: Vec<(String, TierState)> = w
                    .tiers
                    .iter()
                    .map(|t| (t.tier.name.clone(), t.state))
                    .collect();
                let objective = w.objective.clone();
                self.shared
                    .with_store(move |store| store.save_slo_states(&objective, &named))
                    .await?;
            }
            self.states.insert(w.objective.clone(), states);
        }
        let input = WatchInput {
            prober: ProberHealth::measure(&observations, now, settings.prober_window),
            release,
            settings,
            now_ms: now,
            objectives: watches,
            already_rolled_back: snapshot.claimed,
        };
        let decision = decide(&input);
        let (outcome, reason, evidence) = describe(&decision);
        let key = decision_key(outcome, &evidence);
        let changed = snapshot
            .history
            .last()
            .map(|(o, k)| (o.as_str(), k.as_str()))
            != Some((outcome, key.as_str()));
        if changed {
            self.record(&snapshot.release, now, outcome, &reason, &evidence)
                .await?;
            tracing::warn!(release = %snapshot.release.version, outcome, %reason, "release watch decision");
        }
        if let Decision::Rollback { reason, .. } = &decision {
            self.roll_back(&snapshot.release, now, reason, &evidence)
                .await?;
        }
        Ok(())
    }

    /// How far before the release the observations must reach: the baseline, or the longest page window.
    fn lookback(&self) -> u64 {
        let longest = self
            .objectives
            .iter()
            .flat_map(|o| o.tiers.iter().map(|t| t.long))
            .max()
            .unwrap_or_default();
        longest
            .max(self.config.settings.baseline_window)
            .as_millis() as u64
    }

    /// Records a decision, and (with alert email on) writes its email in the same transaction.
    async fn record(
        &mut self,
        release: &Release,
        at: u64,
        outcome: &str,
        reason: &str,
        evidence: &serde_json::Value,
    ) -> Result<(), crate::store::StoreError> {
        let release_id = release.id;
        let notice = self.alert_target.as_ref().and_then(|target| {
            let notice = decision_notice(outcome, &release.version, &release.rollback_to, reason)?;
            let context = EmailContext {
                target: target.clone(),
                release: Some(release.version.clone()),
                group_key: format!("release-{release_id}-{outcome}"),
                now_ms: at,
                in_reply_to: None,
            };
            Some((notice, context, format!("release {}", release.version)))
        });
        let (stored, reason, evidence) =
            (outcome.to_string(), reason.to_string(), evidence.clone());
        self.shared
            .with_store(move |store| {
                store.atomically(|store| {
                    store.record_decision(release_id, at, &stored, &reason, &evidence)?;
                    match notice {
                        Some((notice, context, about)) => {
                            enqueue_notice(store, "decision", &about, &notice, context, None)
                        }
                        None => Ok(()),
                    }
                })
            })
            .await?;
        self.recorded += 1;
        self.shared.metrics.rollback_decision(outcome);
        Ok(())
    }

    /// Claims the release's one rollback, then runs the hook and records how it went.
    async fn roll_back(
        &mut self,
        release: &Release,
        now: u64,
        reason: &str,
        evidence: &serde_json::Value,
    ) -> Result<(), crate::store::StoreError> {
        let id = release.id;
        if !self
            .shared
            .with_store(move |store| store.claim_rollback(id, now))
            .await?
        {
            return Ok(());
        }
        let evidence_file =
            crate::release::evidence_path(&self.evidence_dir, &release.version, now);
        if let Err(e) = std::fs::write(&evidence_file, format!("{evidence:#}\n")) {
            tracing::error!(file = %evidence_file.display(), error = %e, "cannot write the evidence file");
        }
        let call = HookCall {
            release: &release.version,
            rollback_to: &release.rollback_to,
            reason,
            evidence_file: &evidence_file,
        };
        let mut parts = Vec::new();
        let mut failures = Vec::new();
        let mut value = serde_json::Map::new();
        if !self.config.command.is_empty() {
            let outcome = run_hook(&self.config.hook(), &call).await;
            parts.push(command_summary(&outcome));
            if !outcome.succeeded() {
                failures.push("command");
            }
            value.insert(
                "command".into(),
                serde_json::to_value(&outcome).unwrap_or_default(),
            );
        }
        if let Some(url) = &self.config.webhook {
            let secret = self.config.webhook_secret.as_ref();
            let outcome = post_webhook(url, secret, evidence, self.config.hook_timeout).await;
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
        let finished = now_ms();
        let value = serde_json::Value::Object(value);
        let stored = value.clone();
        self.shared
            .with_store(move |store| store.finish_rollback(id, finished, &stored))
            .await?;
        let kind = if failures.is_empty() {
            HOOK_SUCCEEDED
        } else {
            HOOK_FAILED
        };
        let summary = parts.join("; ");
        tracing::warn!(release = %release.version, %summary, "rollback");
        self.record(release, finished, kind, &summary, &value).await
    }
}

/// The command hook's outcome in one line, with the last line the hook wrote to stderr when it failed (its
/// own account of what went wrong).
fn command_summary(outcome: &crate::rollback::HookOutcome) -> String {
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

impl Watch {
    /// After the hook: a passing run of a watched probe means recovery; none within `rollback.recovery` means not.
    async fn verify_recovery(
        &mut self,
        snapshot: &Snapshot,
        finished: u64,
        now: u64,
    ) -> Result<(), crate::store::StoreError> {
        let done = snapshot
            .history
            .iter()
            .any(|(o, _)| o == RECOVERY_VERIFIED || o == RECOVERY_NOT_VERIFIED);
        if done {
            return Ok(());
        }
        let watched = |probe: &str| self.objectives.iter().any(|o| o.covers(probe));
        let recovered = snapshot.records.iter().find(|r| {
            r.scheduled_at_ms > finished && r.verdict == Verdict::Pass && watched(&r.probe)
        });
        match recovered {
            Some(r) => {
                let reason = format!(
                    "{} passed {} ms after the hook finished",
                    r.probe,
                    r.scheduled_at_ms - finished
                );
                self.record(
                    &snapshot.release,
                    now,
                    RECOVERY_VERIFIED,
                    &reason,
                    &serde_json::json!({"record_id": r.id}),
                )
                .await
            }
            None if now > finished + self.config.recovery.as_millis() as u64 => {
                let reason = format!(
                    "no watched probe passed within {} after the hook",
                    humantime::format_duration(Duration::from_secs(self.config.recovery.as_secs()))
                );
                self.record(
                    &snapshot.release,
                    now,
                    RECOVERY_NOT_VERIFIED,
                    &reason,
                    &serde_json::json!({}),
                )
                .await
            }
            None => Ok(()),
        }
    }
}

/// The stored tier states, aligned with each objective's tiers by name (a tier renamed or added by a config
/// change starts fresh).
async fn load_states(
    shared: &Arc<Shared>,
    objectives: &[Objective],
) -> HashMap<String, Vec<TierState>> {
    let stored = match shared.with_store(|store| store.slo_states()).await {
        Ok(stored) => stored,
        Err(e) => {
            tracing::error!(error = %e, "cannot read stored SLO states; starting fresh");
            return HashMap::new();
        }
    };
    objectives
        .iter()
        .map(|o| {
            let mine = stored.get(&o.name);
            let states = o
                .tiers
                .iter()
                .map(|t| {
                    mine.and_then(|m| m.get(&t.name))
                        .copied()
                        .unwrap_or_default()
                })
                .collect();
            (o.name.clone(), states)
        })
        .collect()
}

/// The decision as stored: outcome, reason, evidence.
fn describe(decision: &Decision) -> (&'static str, String, serde_json::Value) {
    match decision {
        Decision::Rollback { reason, evidence } => (
            "rollback",
            reason.clone(),
            serde_json::to_value(evidence).unwrap_or_default(),
        ),
        Decision::WouldRollback { reason, evidence } => (
            "would_rollback",
            reason.clone(),
            serde_json::to_value(evidence).unwrap_or_default(),
        ),
        Decision::Hold { reason } => (
            "hold",
            reason.to_string(),
            serde_json::to_value(reason).unwrap_or_default(),
        ),
    }
}

/// Decisions are recorded when they change: the same kind of hold with new figures (one more sample, a
/// later time) is not a change. A hold's kind is its evidence's `hold` tag.
fn decision_key(outcome: &str, evidence: &serde_json::Value) -> String {
    match outcome {
        "hold" => evidence["hold"].as_str().unwrap_or_default().to_string(),
        _ => String::new(),
    }
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
