//! A plan's loops, as [`Wanted`] entries for [`super::loops::Loops`]: one per scheduled probe and per
//! scheduled burst (defined by the probe and the settings its run uses, so an unchanged probe keeps its loop
//! across a reload), the release watch (kept when unchanged too), and the other plan-wide loops (alerting,
//! delivery, SLO notices, metrics refresh, pruning), which a reload restarts.

use super::Context;
use super::loops::{Wanted, Work};
use crate::alert::Mailer;
use crate::config::Plan;
use crate::config::WatchConfig;
use crate::monitor::{
    Shared, Shutdown, SloAlerts, WatchContext, now_ms, run_alert_loop, run_burst_loop,
    run_delivery_loop, run_probe_loop, run_slo_alert_loop, run_watch_loop,
};
use crate::probe::{Caller, ProbeSpec, Prober};
use crate::rollback::Secret;
use crate::slo::Objective;
use crate::store::FinishedRun;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// A plan's loops: those that run probes (a reload diffs them) and the plan-wide ones.
pub struct PlanLoops {
    pub probes: Vec<Wanted>,
    pub others: Vec<Wanted>,
}

/// What the plans of one process share: the writer's queue and the concurrency bound (kept while
/// `run.max_concurrent` is unchanged, so kept and new loops share one bound).
pub struct Sinks {
    pub writer: tokio::sync::mpsc::Sender<FinishedRun>,
    pub permits: Option<(usize, Arc<Semaphore>)>,
}

impl Sinks {
    fn permits(&mut self, max: usize) -> Arc<Semaphore> {
        match &self.permits {
            Some((n, permits)) if *n == max => permits.clone(),
            _ => {
                let permits = Arc::new(Semaphore::new(max));
                self.permits = Some((max, permits.clone()));
                permits
            }
        }
    }
}

/// Builds `plan`'s loops; `generation` tells the plan-wide loops of successive plans apart.
pub fn plan_loops(
    plan: &Plan,
    context: &Context,
    sinks: &mut Sinks,
    generation: u64,
) -> Result<PlanLoops, String> {
    let scheduled = plan.probes.iter().filter(|p| p.schedule.is_some());
    let prober = Prober::new(&plan.settings.target, Caller::Monitor, scheduled)?;
    let smtp = plan.settings.alert.smtp.clone();
    if let Some(smtp) = &smtp {
        Mailer::new(smtp).map_err(|e| format!("alert email: {e}"))?;
    }
    let target = super::target_of(plan);
    let run = &plan.settings.run;
    let shared = Arc::new(Shared {
        prober,
        store: context.store.clone(),
        writer: sinks.writer.clone(),
        alerts: context.alerts.clone(),
        permits: sinks.permits(run.max_concurrent),
        queries_per_hour: plan.settings.queries_per_hour,
        metrics: context.metrics.clone(),
        known_drift: Arc::new(plan.known_drift.clone()),
        location: run.location.clone(),
        lead: context.lead.clone(),
    });
    // What a probe's run depends on besides its own definition.
    let common = format!(
        "{target}|{}|{}|{:?}|{}",
        run.max_concurrent, plan.settings.queries_per_hour, run.jitter, run.location
    );
    let jitter = run.jitter;
    let mut probes = Vec::new();
    for spec in &plan.probes {
        let spec = Arc::new(spec.clone());
        let known: Vec<_> = plan.known_drift.of_probe(&spec.name).collect();
        let definition = probe_definition(&format!("{common}|{known:?}"), &spec);
        if spec.schedule.is_some() {
            let (shared, spec) = (shared.clone(), spec.clone());
            let key = format!("probe {}", spec.name);
            probes.push(Wanted::new(key, definition.clone(), move |stop| {
                boxed(run_probe_loop(shared.clone(), spec.clone(), jitter, stop))
            }));
        }
        if spec.burst.is_some() {
            let shared = shared.clone();
            let key = format!("burst {}", spec.name);
            probes.push(Wanted::new(key, definition, move |stop| {
                boxed(run_burst_loop(shared.clone(), spec.clone(), jitter, stop))
            }));
        }
    }
    let generation = generation.to_string();
    let mut others = Vec::new();
    let watch = WatchContext {
        shared: shared.clone(),
        // Beside a SQLite file; with a PostgreSQL store, in the working directory (not yet in the store).
        evidence_dir: run
            .store
            .file()
            .and_then(std::path::Path::parent)
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default(),
        recorder: context.recorder(plan),
        hooks: context.hooks.clone(),
    };
    let (objectives, config) = (plan.objectives.clone(), plan.settings.watch.clone());
    // The watch is kept across a reload that does not change it (a restart would lose nothing stored, but
    // the loop itself need not stop).
    let definition = watch_definition(
        &objectives,
        &config,
        &watch.evidence_dir,
        watch.recorder.alert_target.as_deref(),
    );
    others.push(Wanted::new("watch".into(), definition, move |stop| {
        boxed(run_watch_loop(
            watch.clone(),
            objectives.clone(),
            config.clone(),
            stop,
        ))
    }));
    let mut other = |key: &str, make: Box<dyn Fn(Shutdown) -> Work + Send + Sync>| {
        others.push(Wanted::new(key.to_string(), generation.clone(), make));
    };
    if let Some(smtp) = smtp {
        let (store, alert, feed, lead) = (
            context.store.clone(),
            plan.settings.alert.clone(),
            context.alerts.clone(),
            context.lead.clone(),
        );
        let fleet = (
            run.location.clone(),
            crate::fleet::Quorum::from_config(plan.settings.fleet.quorum),
        );
        let to = target.clone();
        other(
            "alerts",
            Box::new(move |stop| {
                // A new queue: the previous alert loop folds in what it was sent, then ends, before this one
                // starts (one loop per key at a time).
                let (queue, runs) = tokio::sync::mpsc::unbounded_channel();
                feed.replace(Some(queue));
                boxed(run_alert_loop(
                    store.clone(),
                    lead.clone(),
                    alert.clone(),
                    to.clone(),
                    runs,
                    fleet.clone(),
                    stop,
                ))
            }),
        );
        let (store, retry, metrics, lead) = (
            context.store.clone(),
            plan.settings.alert.retry.clone(),
            context.metrics.clone(),
            context.lead.clone(),
        );
        other(
            "delivery",
            Box::new(move |stop| match Mailer::new(&smtp) {
                Ok(mailer) => boxed(run_delivery_loop(
                    store.clone(),
                    lead.clone(),
                    mailer,
                    retry.clone(),
                    metrics.clone(),
                    stop,
                )),
                Err(e) => boxed(async move {
                    tracing::error!(error = %e, "alert email: cannot set up the mailer");
                    0
                }),
            }),
        );
        let slo = SloAlerts {
            store: context.store.clone(),
            lead: context.lead.clone(),
            objectives: plan.objectives.clone(),
            target,
            windows: plan.settings.alert.maintenance.clone(),
            every: plan.settings.watch.evaluate_every,
        };
        other(
            "slo alerts",
            Box::new(move |stop| boxed(run_slo_alert_loop(slo.clone(), stop))),
        );
    }
    let (store, metrics, objectives) = (
        context.store.clone(),
        context.metrics.clone(),
        plan.objectives.clone(),
    );
    let (per_hour, every) = (
        plan.settings.queries_per_hour,
        super::super::telemetry::refresh_every(&plan.settings),
    );
    other(
        "metrics refresh",
        Box::new(move |stop| {
            boxed(super::super::telemetry::refresh_loop(
                store.clone(),
                metrics.clone(),
                objectives.clone(),
                per_hour,
                every,
                stop,
            ))
        }),
    );
    let retention = run.retention;
    other(
        "pruning",
        Box::new(move |stop| boxed(prune_loop(shared.clone(), retention, stop))),
    );
    Ok(PlanLoops { probes, others })
}

/// A probe loop's definition: a digest of everything its runs depend on (`common` holds the plan's part, its
/// known-drift entries included). `Debug` hides header values
/// (credentials), so they are added apart: a rotated token is a changed probe. Only the digest is kept.
fn probe_definition(common: &str, spec: &ProbeSpec) -> String {
    let mut digest = DefaultHasher::new();
    common.hash(&mut digest);
    format!("{spec:?}").hash(&mut digest);
    spec.request.headers.hash(&mut digest);
    format!("{:016x}", digest.finish())
}

/// The watch loop's definition: a digest of its objectives, settings (the webhook secret, which `Debug`
/// hides, added apart), evidence folder and email target.
fn watch_definition(
    objectives: &[Objective],
    config: &WatchConfig,
    evidence_dir: &std::path::Path,
    alert_target: Option<&str>,
) -> String {
    let mut digest = DefaultHasher::new();
    format!("{objectives:?}|{config:?}").hash(&mut digest);
    config
        .webhook_secret
        .as_ref()
        .map(Secret::expose)
        .hash(&mut digest);
    evidence_dir.hash(&mut digest);
    alert_target.hash(&mut digest);
    format!("{:016x}", digest.finish())
}

fn boxed(work: impl Future<Output = u64> + Send + 'static) -> Work {
    Box::pin(work)
}

/// Prunes each tier of history to its retention, hourly (and as it starts), taking the store's lock for one
/// batch at a time (see `store::prune`).
async fn prune_loop(
    shared: Arc<Shared>,
    retention: crate::history::Retention,
    mut shutdown: Shutdown,
) -> u64 {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shutdown.requested() => return 0,
        }
        let (store, cutoffs) = (shared.store.clone(), retention.cutoffs(now_ms()));
        match tokio::task::spawn_blocking(move || crate::store::prune(&store, cutoffs)).await {
            Ok(Ok(done)) => tracing::debug!(?done, "pruned"),
            Ok(Err(e)) => tracing::error!(error = %e, "retention pruning failed"),
            Err(e) => tracing::error!(error = %e, "retention pruning failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Sources;

    /// The watch definition of a config with one objective and a webhook secret read from a file.
    fn definition(dir: &std::path::Path, target: f64, secret: &str) -> String {
        std::fs::create_dir_all(dir.join("probes")).expect("probes");
        std::fs::write(
            dir.join("probes/health.toml"),
            "schedule = \"* * * * * *\"\n[request]\npath = \"/health\"\n",
        )
        .expect("probe");
        std::fs::write(dir.join("secret"), secret).expect("secret");
        let config = format!(
            "target = \"http://127.0.0.1:9\"\nprobes_dir = \"probes\"\n[rollback]\nwebhook = \"http://127.0.0.1:9/hook\"\nwebhook_secret = \"file:{}\"\n[[slo]]\nname = \"health\"\nprobes = [\"health\"]\ntarget = {target}\n",
            dir.join("secret").display()
        );
        std::fs::write(dir.join("oewsprobe.toml"), config).expect("config");
        let sources = Sources {
            config: Some(dir.join("oewsprobe.toml")),
            probes_dir: None,
            target: None,
        };
        let plan = crate::config::load(&sources).expect("a valid config");
        watch_definition(&plan.objectives, &plan.settings.watch, dir, Some("t"))
    }

    #[test]
    fn the_watch_is_kept_only_when_its_objectives_and_settings_secret_included_are_unchanged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = definition(dir.path(), 0.99, "one");
        let cases = [
            (0.99, "one", true),
            (0.95, "one", false),
            (0.99, "two", false),
        ];
        for (target, secret, same) in cases {
            let other = definition(dir.path(), target, secret);
            assert_eq!(other == base, same, "target {target}, secret {secret}");
        }
    }
}
