//! The release watch inside the daemon: every `release.evaluate_every`, evaluate the objectives over the
//! stored runs, decide with the pure `release::decide`, record each change of decision with its evidence, run
//! the rollback hook at most once per release (the claim is written to the store first), and verify recovery.

use super::hook_task::{Hooks, Outcome, Recorder, Rollback, settle_unknown_outcomes};
use super::shared::{Shared, Shutdown, now_ms, report_leader_error};
use crate::config::WatchConfig;
use crate::probe::Verdict;
use crate::release::{Decision, FleetHealth, ObjectiveWatch, ProberHealth, WatchInput, decide};
use crate::slo::{Objective, Observation, TierState};
use crate::store::{Fence, Release, StoredRecord};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use crate::release::{RECOVERY_NOT_VERIFIED, RECOVERY_VERIFIED};

/// What the watch loop works with besides the plan's objectives and settings.
#[derive(Debug, Clone)]
pub struct WatchContext {
    pub shared: Arc<Shared>,
    /// Where evidence files are written.
    pub evidence_dir: PathBuf,
    pub recorder: Recorder,
    /// The rollback being carried out: it outlives this loop (a reload never touches it).
    pub hooks: Arc<Hooks>,
}

/// Runs the watch until shutdown; returns how many decisions it recorded. A rollback's actions run in their
/// own task ([`Hooks`]): shutdown does not wait for them here, and no evaluation happens while they run.
/// It evaluates only while this agent leads; at each new leadership it reads the stored tier states again
/// and settles the rollbacks an earlier leader left without an outcome.
pub async fn run_watch_loop(
    context: WatchContext,
    objectives: Vec<Objective>,
    config: WatchConfig,
    mut shutdown: Shutdown,
) -> u64 {
    let states = load_states(&context.shared, &objectives).await;
    let mut watch = Watch {
        shared: context.shared,
        objectives,
        config,
        evidence_dir: context.evidence_dir,
        recorder: context.recorder,
        hooks: context.hooks,
        states,
        recorded: 0,
    };
    // The lease generation under which the states were read and unfinished rollbacks settled.
    let mut led_under: Option<u64> = None;
    let mut tick = tokio::time::interval(watch.config.evaluate_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shutdown.requested() => return watch.recorded,
        }
        if watch.hooks.busy() {
            continue;
        }
        let Some(fence) = watch.shared.lead.fence() else {
            continue;
        };
        if led_under != Some(fence.generation) {
            watch.states = load_states(&watch.shared, &watch.objectives).await;
            if let Err(e) = settle_unknown_outcomes(&watch.recorder, &fence).await {
                report_leader_error(
                    &watch.shared.lead,
                    &e,
                    "release watch: cannot settle unfinished rollbacks",
                );
                continue;
            }
            led_under = Some(fence.generation);
        }
        if watch.objectives.is_empty() {
            continue;
        }
        if let Err(e) = watch.evaluate(now_ms(), &fence).await {
            report_leader_error(&watch.shared.lead, &e, "release watch: evaluation failed");
        }
    }
}

struct Watch {
    shared: Arc<Shared>,
    objectives: Vec<Objective>,
    config: WatchConfig,
    evidence_dir: PathBuf,
    recorder: Recorder,
    hooks: Arc<Hooks>,
    /// Tier states by objective name, aligned with its tiers; stored when a breach begins or ends.
    states: HashMap<String, Vec<TierState>>,
    recorded: u64,
}

/// What one evaluation reads from the store.
struct Snapshot {
    release: Release,
    claimed: bool,
    /// Outcomes recorded so far for the release, oldest first, with their [`decision_key`].
    history: Vec<(String, String)>,
    hook_finished_at: Option<u64>,
    /// Raw runs of every probe: before the hook, those of the prober window (the prober's health needs their
    /// failure classes); after it, those since it finished (the recovery).
    recent: Vec<StoredRecord>,
    /// Before the hook: each objective as the watch sees it now, from the rollups.
    watches: Vec<ObjectiveWatch>,
    /// Before the hook: the prober's health over the locations whose prober is healthy (see [`FleetHealth`]).
    health: Option<ProberHealth>,
}

impl Watch {
    async fn evaluate(&mut self, now: u64, fence: &Fence) -> Result<(), crate::store::StoreError> {
        let (objectives, states) = (self.objectives.clone(), self.states.clone());
        let settings = self.config.settings.clone();
        let Some(snapshot) = self
            .shared
            .with_store(move |store| {
                store.atomically(|store| read_snapshot(store, &objectives, &states, &settings, now))
            })
            .await?
        else {
            return Ok(());
        };
        if let Some(finished) = snapshot.hook_finished_at {
            return self.verify_recovery(&snapshot, finished, now, fence).await;
        }
        let release = core_release(&snapshot.release);
        let settings = self.config.settings.clone();
        let watches = snapshot.watches.clone();
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
                let (objective, fence) = (w.objective.clone(), fence.clone());
                self.shared
                    .with_store(move |store| {
                        store.as_leader(&fence, |store| store.save_slo_states(&objective, &named))
                    })
                    .await?;
            }
            self.states.insert(w.objective.clone(), states);
        }
        let input = WatchInput {
            prober: snapshot.health.unwrap_or(ProberHealth::measure(
                &[],
                now,
                settings.prober_window,
            )),
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
            self.record(&snapshot.release, now, outcome, &reason, &evidence, fence)
                .await?;
            tracing::warn!(release = %snapshot.release.version, outcome, %reason, "release watch decision");
        }
        if let Decision::Rollback { reason, .. } = &decision {
            self.roll_back(&snapshot.release, now, reason, &evidence, fence)
                .await?;
        }
        Ok(())
    }

    /// Records a decision, and (with alert email on) writes its email in the same transaction.
    async fn record(
        &mut self,
        release: &Release,
        at: u64,
        outcome: &str,
        reason: &str,
        evidence: &serde_json::Value,
        fence: &Fence,
    ) -> Result<(), crate::store::StoreError> {
        let outcome = Outcome {
            release,
            at,
            outcome,
            reason,
            evidence,
            fence,
        };
        self.recorder.record(outcome, false).await?;
        self.recorded += 1;
        Ok(())
    }

    /// Claims the release's one rollback, then starts its actions (hook, webhook) in their own task, which
    /// records how they went.
    async fn roll_back(
        &mut self,
        release: &Release,
        now: u64,
        reason: &str,
        evidence: &serde_json::Value,
        fence: &Fence,
    ) -> Result<(), crate::store::StoreError> {
        let (id, claim_fence) = (release.id, fence.clone());
        if !self
            .shared
            .with_store(move |store| {
                store.as_leader(&claim_fence, |store| store.claim_rollback(id, now))
            })
            .await?
        {
            return Ok(());
        }
        let evidence_file =
            crate::release::evidence_path(&self.evidence_dir, &release.version, now);
        if let Err(e) = std::fs::write(&evidence_file, format!("{evidence:#}\n")) {
            tracing::error!(file = %evidence_file.display(), error = %e, "cannot write the evidence file");
        }
        self.hooks.start(Rollback {
            recorder: self.recorder.clone(),
            config: self.config.clone(),
            release: release.clone(),
            reason: reason.to_string(),
            evidence: evidence.clone(),
            evidence_file,
            fence: fence.clone(),
        });
        Ok(())
    }
}

impl Watch {
    /// After the hook: a passing run of a watched probe means recovery; none within `rollback.recovery` means not.
    async fn verify_recovery(
        &mut self,
        snapshot: &Snapshot,
        finished: u64,
        now: u64,
        fence: &Fence,
    ) -> Result<(), crate::store::StoreError> {
        let done = snapshot
            .history
            .iter()
            .any(|(o, _)| o == RECOVERY_VERIFIED || o == RECOVERY_NOT_VERIFIED);
        if done {
            return Ok(());
        }
        let watched = |probe: &str| self.objectives.iter().any(|o| o.covers(probe));
        let recovered = snapshot.recent.iter().find(|r| {
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
                    fence,
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
                    fence,
                )
                .await
            }
            None => Ok(()),
        }
    }
}

/// What one evaluation at `now` reads: the open release (`None` without one), its recorded outcomes, and
/// either the objectives' view and the prober window's runs (before the hook) or the runs since the hook.
fn read_snapshot(
    store: &crate::store::Store,
    objectives: &[Objective],
    states: &HashMap<String, Vec<TierState>>,
    settings: &crate::release::WatchSettings,
    now: u64,
) -> Result<Option<Snapshot>, crate::store::StoreError> {
    let Some(release) = store.open_release()? else {
        return Ok(None);
    };
    let history = store
        .decisions(release.id)?
        .into_iter()
        .map(|d| {
            let key = decision_key(&d.outcome, &d.evidence);
            (d.outcome, key)
        })
        .collect();
    let hook_finished_at = store.rollback_finished_at(release.id)?;
    let (recent, watches, health) = match hook_finished_at {
        Some(finished) => (store.records_since(finished)?, Vec::new(), None),
        None => {
            let recent = store
                .records_since(now.saturating_sub(crate::slo::millis(settings.prober_window)))?;
            // Per location: one whose prober is unhealthy is left out of the quorum.
            let located: Vec<(&str, Observation)> = recent
                .iter()
                .map(|r| (r.location.as_str(), r.observation()))
                .collect();
            let health = FleetHealth::measure(&located, now, settings.prober_window);
            let watches = crate::happened::objective_watches(
                store,
                objectives,
                states,
                &core_release(&release),
                settings,
                &health.left_out,
                now,
            )?;
            (recent, watches, Some(health.overall))
        }
    };
    Ok(Some(Snapshot {
        claimed: store.rollback_claimed(release.id)?,
        release,
        history,
        hook_finished_at,
        recent,
        watches,
        health,
    }))
}

/// The release as the pure watch sees it.
fn core_release(release: &Release) -> crate::release::Release {
    crate::release::Release {
        version: release.version.clone(),
        rollback_to: release.rollback_to.clone(),
        started_at_ms: release.started_at_ms,
        until_ms: release.watch_until_ms,
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
