//! `oewsprobe run`: the always-on monitor, with signal handling (SIGTERM/SIGINT stop gracefully, a second
//! signal stops at once, SIGHUP reloads the config and keeps the old one when the new one is invalid).

use crate::alert::Mailer;
use crate::cli::RunArgs;
use crate::config::{self, Plan, Sources};
use crate::exit::Exit;
use crate::monitor::{
    Shared, Shutdown, SloAlerts, now_ms, run_alert_loop, run_burst_loop, run_delivery_loop,
    run_probe_loop, run_slo_alert_loop, run_watch_loop, spawn_writer,
};
use crate::probe::Prober;
use crate::store::Store;
use crate::telemetry::{Liveness, Metrics};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};

pub async fn run(args: RunArgs) -> Exit {
    let sources = super::sources(&args.config, args.target.clone());
    let plan = match super::load_plan(&sources) {
        Ok(plan) => plan,
        Err(exit) => return exit,
    };
    let store = match Store::open_for_run(&plan.settings.run.store) {
        Ok(store) => Arc::new(Mutex::new(store)),
        Err(e) => {
            crate::telemetry::say(&format!("oewsprobe run: {e}"));
            return Exit::CouldNotCheck;
        }
    };
    let signals = match Signals::new() {
        Ok(signals) => signals,
        Err(e) => {
            crate::telemetry::say(&format!(
                "oewsprobe run: cannot install signal handlers: {e}"
            ));
            return Exit::CouldNotCheck;
        }
    };
    let liveness = Arc::new(Liveness::default());
    let telemetry = match super::telemetry::start_daemon(&plan.settings, liveness.clone()).await {
        Ok(telemetry) => telemetry,
        Err(message) => {
            crate::telemetry::say(&format!("oewsprobe run: {message}"));
            return Exit::CouldNotCheck;
        }
    };
    let context = Context {
        sources,
        store,
        metrics: telemetry.metrics(),
        liveness,
    };
    match supervise(plan, context, signals).await {
        Ending::Graceful(exit) => {
            // Flush: the runs of the last interval reach the receiver before the process ends.
            telemetry.shutdown().await;
            exit
        }
        Ending::Now(exit) => {
            // A second signal means now: no flush (dropping the provider would flush, and wait).
            std::mem::forget(telemetry);
            exit
        }
    }
}

/// How `supervise` ended: after a graceful stop (flush the metrics), or at a second signal (exit now).
enum Ending {
    Graceful(Exit),
    Now(Exit),
}

/// What outlives a plan: where the config comes from, the store, the metrics, the loops' liveness.
struct Context {
    sources: Sources,
    store: Arc<Mutex<Store>>,
    metrics: Metrics,
    liveness: Arc<Liveness>,
}

/// Runs plan after plan (SIGHUP swaps them) until a stop signal.
async fn supervise(mut plan: Plan, context: Context, mut signals: Signals) -> Ending {
    loop {
        let scheduled = plan.probes.iter().filter(|p| p.schedule.is_some()).count();
        let bursts = plan.probes.iter().filter(|p| p.burst.is_some()).count();
        crate::telemetry::say(&format!(
            "oewsprobe run: watching {} with {scheduled} scheduled probes and {bursts} scheduled bursts (store {}); {}",
            plan.settings.target.as_str().trim_end_matches('/'),
            plan.settings.run.store.display(),
            alert_email_line(&plan.settings.alert)
        ));
        let running = match Running::start(&plan, &context) {
            Ok(running) => running,
            Err(message) => {
                crate::telemetry::say(&format!("oewsprobe run: {message}"));
                return Ending::Graceful(Exit::CouldNotCheck);
            }
        };
        let next = loop {
            match signals.next().await {
                SignalEvent::Stop => break None,
                SignalEvent::Reload => match config::load(&context.sources) {
                    Ok(new_plan) => break Some(new_plan),
                    Err(errors) => crate::telemetry::say(&format!(
                        "oewsprobe run: SIGHUP: the new config is invalid; keeping the old one:\n{errors}"
                    )),
                },
            }
        };
        let grace = plan.settings.run.shutdown_grace;
        let stopping = running.stop(grace);
        if next.is_none() {
            // A second stop signal while in-flight probes finish: exit at once.
            tokio::select! {
                recorded = stopping => {
                    crate::telemetry::say(&format!("oewsprobe run: stopped; {recorded} runs recorded"));
                    return Ending::Graceful(Exit::Healthy);
                }
                _ = signals.next() => {
                    crate::telemetry::say("oewsprobe run: second signal: exiting now");
                    return Ending::Now(Exit::Healthy);
                }
            }
        }
        stopping.await;
        if let Some(new_plan) = next {
            crate::telemetry::say("oewsprobe run: SIGHUP: configuration reloaded");
            plan = new_plan;
        }
    }
}

/// The probe loops of one plan, the retention pruner and the metrics refresher.
struct Running {
    stop: tokio::sync::watch::Sender<bool>,
    loops: tokio::task::JoinSet<u64>,
    writer: tokio::task::JoinHandle<u64>,
    liveness: Arc<Liveness>,
}

/// Where alert email goes, for the start-up line.
fn alert_email_line(alert: &crate::alert::AlertSettings) -> String {
    match &alert.smtp {
        Some(smtp) => format!(
            "alert email to {} via {} ({})",
            smtp.to.join(", "),
            smtp.server(),
            smtp.security.as_str()
        ),
        None => "alert email off (no [alert.smtp])".to_string(),
    }
}

/// Runs `work`, counted as a live loop while it runs.
async fn alive(guard: crate::telemetry::LoopGuard, work: impl Future<Output = u64>) -> u64 {
    let _guard = guard;
    work.await
}

impl Running {
    fn start(plan: &Plan, context: &Context) -> Result<Running, String> {
        let scheduled = plan.probes.iter().filter(|p| p.schedule.is_some());
        let prober = Prober::new(&plan.settings.target, scheduled)?;
        let store = context.store.clone();
        let mailer = match &plan.settings.alert.smtp {
            Some(smtp) => Some(Mailer::new(smtp).map_err(|e| format!("alert email: {e}"))?),
            None => None,
        };
        let target = plan
            .settings
            .target
            .as_str()
            .trim_end_matches('/')
            .to_string();
        let (alert_queue, alert_runs) = match mailer {
            Some(_) => {
                let (queue, runs) = tokio::sync::mpsc::unbounded_channel();
                (Some(queue), Some(runs))
            }
            None => (None, None),
        };
        let (writer_queue, writer) = spawn_writer(store.clone(), context.liveness.clone());
        let shared = Arc::new(Shared {
            prober,
            store: store.clone(),
            writer: writer_queue,
            alerts: alert_queue,
            permits: tokio::sync::Semaphore::new(plan.settings.run.max_concurrent),
            queries_per_hour: plan.settings.queries_per_hour,
            metrics: context.metrics.clone(),
        });
        let (stop, shutdown) = Shutdown::new();
        let mut loops = tokio::task::JoinSet::new();
        let liveness = context.liveness.clone();
        let mut spawn = |work: std::pin::Pin<Box<dyn Future<Output = u64> + Send>>| {
            loops.spawn(alive(liveness.guard(), work));
        };
        let jitter = plan.settings.run.jitter;
        for spec in &plan.probes {
            let spec = Arc::new(spec.clone());
            if spec.schedule.is_some() {
                spawn(Box::pin(run_probe_loop(
                    shared.clone(),
                    spec.clone(),
                    jitter,
                    shutdown.clone(),
                )));
            }
            if spec.burst.is_some() {
                spawn(Box::pin(run_burst_loop(
                    shared.clone(),
                    spec,
                    jitter,
                    shutdown.clone(),
                )));
            }
        }
        let evidence_dir = plan
            .settings
            .run
            .store
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let watch = run_watch_loop(
            shared.clone(),
            plan.objectives.clone(),
            plan.settings.watch.clone(),
            evidence_dir,
            mailer.is_some().then(|| target.clone()),
            shutdown.clone(),
        );
        spawn(Box::pin(watch));
        if let (Some(mailer), Some(runs)) = (mailer, alert_runs) {
            let alert = &plan.settings.alert;
            spawn(Box::pin(run_alert_loop(
                store.clone(),
                alert.clone(),
                target.clone(),
                runs,
                shutdown.clone(),
            )));
            spawn(Box::pin(run_delivery_loop(
                store.clone(),
                mailer,
                alert.retry.clone(),
                context.metrics.clone(),
                shutdown.clone(),
            )));
            let slo = SloAlerts {
                store: store.clone(),
                objectives: plan.objectives.clone(),
                target,
                windows: alert.maintenance.clone(),
                every: plan.settings.watch.evaluate_every,
            };
            spawn(Box::pin(run_slo_alert_loop(slo, shutdown.clone())));
        }
        spawn(Box::pin(super::telemetry::refresh_loop(
            store,
            context.metrics.clone(),
            plan.objectives.clone(),
            plan.settings.queries_per_hour,
            super::telemetry::refresh_every(&plan.settings),
            shutdown.clone(),
        )));
        spawn(Box::pin(prune_loop(
            shared,
            plan.settings.run.retention,
            shutdown,
        )));
        context.liveness.expect(loops.len());
        Ok(Running {
            stop,
            loops,
            writer,
            liveness: context.liveness.clone(),
        })
    }

    /// Asks every loop to stop, lets in-flight runs finish within `grace`, waits for the writer to commit
    /// them, and returns the runs committed.
    async fn stop(mut self, grace: Duration) -> u64 {
        self.liveness.expect(0);
        let _ = self.stop.send(true);
        let drained = tokio::time::timeout(grace, async {
            while self.loops.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            crate::telemetry::say(&format!(
                "oewsprobe run: probes still running after {}s; abandoning them",
                grace.as_secs()
            ));
            self.loops.abort_all();
            while self.loops.join_next().await.is_some() {}
        }
        // Every sender is gone with the loops: the writer commits what is queued and ends.
        self.writer.await.unwrap_or(0)
    }
}

/// Deletes records older than the retention, hourly.
async fn prune_loop(shared: Arc<Shared>, retention: Duration, mut shutdown: Shutdown) -> u64 {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shutdown.requested() => return 0,
        }
        let before = now_ms().saturating_sub(retention.as_millis() as u64);
        if let Err(e) = shared.with_store(move |store| store.prune(before)).await {
            tracing::error!(error = %e, "retention pruning failed");
        }
    }
}

enum SignalEvent {
    Stop,
    Reload,
}

struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    async fn next(&mut self) -> SignalEvent {
        tokio::select! {
            _ = self.term.recv() => SignalEvent::Stop,
            _ = self.int.recv() => SignalEvent::Stop,
            _ = self.hup.recv() => SignalEvent::Reload,
        }
    }
}
