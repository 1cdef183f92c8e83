//! `oewsprobe run`: the always-on monitor, with signal handling (SIGTERM/SIGINT stop gracefully, a second
//! signal stops at once, SIGHUP reloads the config and keeps the old one when the new one is invalid).
//! A reload is a diff (see [`loops`]): unchanged probe loops keep running. A rollback hook outlives a reload; a stop waits for it (telling systemd), and a claim left without an
//! outcome by an earlier process is recorded as unknown at start.

mod loops;
mod sd_notify;
mod wiring;

use crate::cli::RunArgs;
use crate::config::{self, Plan, Sources};
use crate::exit::Exit;
use crate::monitor::{
    AlertFeed, Hooks, Lead, Recorder, Shutdown, holder_name, run_lease_loop, spawn_writer,
};
use crate::store::{FinishedRun, Store, StoreError};
use crate::telemetry::{Liveness, Metrics};
use loops::{Diff, Loops};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use wiring::{Sinks, plan_loops};

pub async fn run(args: RunArgs) -> Exit {
    let sources = super::sources(&args.config, args.target.clone());
    let plan = match super::load_plan(&sources) {
        Ok(plan) => plan,
        Err(exit) => return exit,
    };
    // The rollups count slow runs against the plan's latency thresholds (a change rebuilds them).
    let thresholds = crate::history::latency_thresholds(&plan.objectives);
    let opened = Store::open_for_run_at(&plan.settings.run.store).and_then(|store| {
        store.track_latency_thresholds(&thresholds)?;
        Ok(store)
    });
    let store = match opened {
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
    let page_config = crate::page::serve::shared(&plan);
    let pages = crate::page::serve::router(plan.settings.run.store.clone(), page_config.clone());
    let telemetry =
        match super::telemetry::start_daemon(&plan.settings, liveness.clone(), pages).await {
            Ok(telemetry) => telemetry,
            Err(message) => {
                crate::telemetry::say(&format!("oewsprobe run: {message}"));
                return Exit::CouldNotCheck;
            }
        };
    let metrics = telemetry.metrics();
    let queue = liveness.clone();
    metrics.observe_records(move || queue.records());
    // The leader's lease: claimed once now, so that an agent alone (SQLite, or the first of a fleet) leads
    // from its first loop on; then renewed by its own loop.
    let holder = holder_name(
        &plan.settings.run.location,
        std::process::id(),
        crate::monitor::now_ms(),
    );
    let lead = Arc::new(Lead::new(
        holder,
        plan.settings.fleet.lease_ttl,
        metrics.clone(),
        liveness.clone(),
    ));
    lead.claim(&store).await;
    let context = Context {
        lead,
        page_config,
        sources,
        store,
        metrics,
        liveness,
        hooks: Arc::new(Hooks::default()),
        alerts: Arc::new(AlertFeed::default()),
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
    /// This agent's side of the leader's lease (its TTL is the one at start: a reload keeps it).
    lead: Arc<Lead>,
    store: Arc<Mutex<Store>>,
    metrics: Metrics,
    liveness: Arc<Liveness>,
    /// The rollback being carried out: it outlives plans.
    hooks: Arc<Hooks>,
    /// The current alert loop's queue.
    alerts: Arc<AlertFeed>,
    /// What the status page shows of the plan (a reload replaces it).
    page_config: crate::page::serve::SharedConfig,
}

impl Context {
    /// The recorder of release-watch outcomes under `plan` (emails when its alert email is on).
    fn recorder(&self, plan: &Plan) -> Recorder {
        Recorder {
            store: self.store.clone(),
            metrics: self.metrics.clone(),
            alert_target: plan.settings.alert.smtp.as_ref().map(|_| target_of(plan)),
        }
    }
}

/// The target as shown in logs and emails.
fn target_of(plan: &Plan) -> String {
    plan.settings
        .target
        .as_str()
        .trim_end_matches('/')
        .to_string()
}

/// After a reload that changed the objectives' latency thresholds, makes the rollups track the new ones: the
/// rollups from when the raw runs are complete are rebuilt, in the background. The store's lock is held
/// meanwhile (about a second per 200,000 runs held): records wait in the writer's queue, probes do not.
/// `None` when the thresholds did not change.
fn track_thresholds(store: &Arc<Mutex<Store>>, old: &Plan, new: &Plan) -> Option<Rebuild> {
    let wanted = crate::history::latency_thresholds(&new.objectives);
    if wanted == crate::history::latency_thresholds(&old.objectives) {
        return None;
    }
    let store = store.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let task = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let store = store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if stopped.load(Ordering::Relaxed) {
            return;
        }
        match store.track_latency_thresholds_unless(&wanted, &stopped) {
            Ok(true) => crate::telemetry::say(&format!(
                "oewsprobe run: SIGHUP: the latency thresholds changed; rollups rebuilt from the raw runs held ({:.1} s)",
                started.elapsed().as_secs_f64()
            )),
            Ok(false) => {}
            Err(StoreError::Interrupted) => crate::telemetry::say(&format!(
                "oewsprobe run: the rollup rebuild for the new latency thresholds was interrupted after {:.1} s; the rollups keep the thresholds they had until a newer reload or the next start rebuilds them",
                started.elapsed().as_secs_f64()
            )),
            Err(e) => crate::telemetry::say(&format!(
                "oewsprobe run: SIGHUP: cannot rebuild the rollups for the new latency thresholds ({e}); windows are counted from the raw runs held until the next start"
            )),
        }
    });
    Some(Rebuild { stop, task })
}

/// A rollup rebuild running in the background for a reload's latency thresholds.
struct Rebuild {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Rebuild {
    /// Tells it to give up: it ends within a few milliseconds of work, changing nothing (or at once when it
    /// has not started).
    fn interrupt(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Interrupts it and waits for it to end, so that a stop does not wait for a whole rebuild.
    async fn end(self) {
        self.interrupt();
        let _ = self.task.await;
    }
}

/// Runs plan after plan (SIGHUP applies the new one as a diff) until a stop signal.
async fn supervise(mut plan: Plan, context: Context, mut signals: Signals) -> Ending {
    // The lease outlives plans and the stop's wait for a running hook: its loop is the last to end.
    let (stop_lease, lease_stop) = Shutdown::new();
    let lease = tokio::spawn(run_lease_loop(
        context.lead.clone(),
        context.store.clone(),
        lease_stop,
    ));
    let (writer, mut written) = spawn_writer(
        context.store.clone(),
        context.liveness.clone(),
        plan.settings.run.max_waiting_records,
    );
    let mut sinks = Sinks {
        writer,
        permits: None,
    };
    let mut probes = Loops::new(context.liveness.clone());
    let mut others = Loops::new(context.liveness.clone());
    let mut generation = 0;
    let mut rebuild: Option<Rebuild> = None;
    if let Err(message) = apply(
        &plan,
        &context,
        &mut sinks,
        generation,
        &mut probes,
        &mut others,
    ) {
        crate::telemetry::say(&format!("oewsprobe run: {message}"));
        return Ending::Graceful(Exit::CouldNotCheck);
    }
    sd_notify::notify(sd_notify::READY);
    loop {
        let event = tokio::select! {
            event = signals.next() => event,
            ended = probes.next_end() => {
                report_death(probes.ended(ended));
                continue;
            }
            ended = others.next_end() => {
                report_death(others.ended(ended));
                continue;
            }
            ended = &mut written => {
                // Nothing could be recorded any more: end, so that the service manager restarts the process.
                let cause = match ended {
                    Ok(_) => "it ended".to_string(),
                    Err(e) => e.to_string(),
                };
                crate::telemetry::say(&format!(
                    "oewsprobe run: the record writer died ({cause}); exiting"
                ));
                if let Some(running) = rebuild.take() {
                    running.end().await;
                }
                return Ending::Graceful(Exit::CouldNotCheck);
            }
        };
        match event {
            SignalEvent::Stop => break,
            SignalEvent::Reload => match config::load(&context.sources) {
                Ok(new_plan) => {
                    generation += 1;
                    match apply(
                        &new_plan,
                        &context,
                        &mut sinks,
                        generation,
                        &mut probes,
                        &mut others,
                    ) {
                        Ok((diff, other)) => {
                            crate::telemetry::say(&format!(
                                "oewsprobe run: SIGHUP: configuration reloaded (probe loops: {} kept, {} changed, {} started, {} stopped; other loops: {} kept, {} restarted, {} started, {} stopped)",
                                diff.kept,
                                diff.changed,
                                diff.started,
                                diff.stopped,
                                other.kept,
                                other.changed,
                                other.started,
                                other.stopped
                            ));
                            // A newer reload's thresholds replace an older one's: its rebuild gives up.
                            if let Some(started) =
                                track_thresholds(&context.store, &plan, &new_plan)
                                && let Some(older) = rebuild.replace(started)
                            {
                                older.interrupt();
                            }
                            crate::page::serve::replace(&context.page_config, &new_plan);
                            plan = new_plan;
                        }
                        Err(message) => crate::telemetry::say(&format!(
                            "oewsprobe run: SIGHUP: cannot start the new config ({message}); keeping the old one"
                        )),
                    }
                }
                Err(errors) => crate::telemetry::say(&format!(
                    "oewsprobe run: SIGHUP: the new config is invalid; keeping the old one:\n{errors}"
                )),
            },
        }
    }
    sd_notify::notify(sd_notify::STOPPING);
    // The writer needs the store to record the last runs: a rebuild holding it gives up first.
    if let Some(running) = rebuild.take() {
        running.end().await;
    }
    context.liveness.expect(0);
    let grace = plan.settings.run.shutdown_grace;
    let stopping = Stopping {
        probes,
        others,
        alerts: context.alerts.clone(),
        writer: sinks.writer,
        written,
    };
    let ending = stop(stopping, grace, &context.hooks, &mut signals).await;
    // Nothing acts any more (a running hook has recorded its outcome under the lease, kept meanwhile): another
    // agent may lead at its next claim, not a TTL later.
    let _ = stop_lease.send(true);
    let _ = lease.await;
    context.lead.release(&context.store).await;
    ending
}

/// Applies `plan`'s loops (a diff against the running ones); the probe loops' and the other loops' diffs.
fn apply(
    plan: &Plan,
    context: &Context,
    sinks: &mut Sinks,
    generation: u64,
    probes: &mut Loops,
    others: &mut Loops,
) -> Result<(Diff, Diff), String> {
    let loops = plan_loops(plan, context, sinks, generation)?;
    let scheduled = plan.probes.iter().filter(|p| p.schedule.is_some()).count();
    let bursts = plan.probes.iter().filter(|p| p.burst.is_some()).count();
    crate::telemetry::say(&format!(
        "oewsprobe run: watching {} from {} with {scheduled} scheduled probes and {bursts} scheduled bursts (store {}); {}",
        target_of(plan),
        plan.settings.run.location,
        plan.settings.run.store,
        alert_email_line(&plan.settings.alert)
    ));
    let insecure: Vec<&str> = plan
        .probes
        .iter()
        .filter(|p| p.request.tls.insecure)
        .map(|p| p.name.as_str())
        .collect();
    if !insecure.is_empty() {
        crate::telemetry::say(&format!(
            "oewsprobe run: {} — probes: {}",
            crate::tls::INSECURE_WARNING,
            insecure.join(", ")
        ));
    }
    if plan.settings.alert.smtp.is_none() {
        context.alerts.replace(None);
    }
    let diff = probes.apply(loops.probes);
    let other = others.apply(loops.others);
    context.liveness.expect(probes.len() + others.len());
    Ok((diff, other))
}

fn report_death(report: Option<String>) {
    if let Some(report) = report {
        crate::telemetry::say(&report);
    }
}

/// What a stop winds down.
struct Stopping {
    probes: Loops,
    others: Loops,
    alerts: Arc<AlertFeed>,
    writer: tokio::sync::mpsc::Sender<FinishedRun>,
    written: tokio::task::JoinHandle<u64>,
}

impl Stopping {
    /// Stops the probe loops (in-flight runs finish within `grace`, the rest are recorded as aborted), then
    /// the other loops (alerting folds in the last runs), then lets the writer commit everything queued.
    /// Returns the runs this process committed.
    async fn run(mut self, grace: Duration) -> u64 {
        let abandoned = self.probes.stop(grace).await;
        if abandoned > 0 {
            crate::telemetry::say(&format!(
                "oewsprobe run: {abandoned} loops still running after {}s; abandoning them (their runs are recorded as aborted)",
                grace.as_secs()
            ));
        }
        self.alerts.replace(None);
        self.others.stop(grace).await;
        drop(self.writer);
        self.written.await.unwrap_or(0)
    }
}

/// A stop: the loops end (in-flight runs within `grace`), then a running rollback hook is waited for (bounded
/// by its timeouts, systemd told to wait as long); a second signal ends both at once, and an ended hook is
/// recorded as interrupted.
async fn stop(stopping: Stopping, grace: Duration, hooks: &Hooks, signals: &mut Signals) -> Ending {
    let stopped = tokio::select! {
        recorded = stopping.run(grace) => Some(recorded),
        () = signals.next_stop() => None,
    };
    let mut forced = stopped.is_none();
    if !forced {
        let waiting = |bound: Duration| {
            crate::telemetry::say(&format!(
                "oewsprobe run: waiting for the rollback hook to finish (at most {}s; a second signal ends it)",
                bound.as_secs()
            ));
            sd_notify::notify(&sd_notify::extend_timeout(bound));
        };
        let second = async {
            signals.next_stop().await;
            forced = true;
        };
        hooks.wait(waiting, second).await;
    } else {
        hooks.wait(|_| {}, std::future::ready(())).await;
    }
    match stopped {
        Some(recorded) if !forced => {
            crate::telemetry::say(&format!("oewsprobe run: stopped; {recorded} runs recorded"));
            Ending::Graceful(Exit::Healthy)
        }
        _ => {
            crate::telemetry::say("oewsprobe run: second signal: exiting now");
            Ending::Now(Exit::Healthy)
        }
    }
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

    /// The next stop signal; a SIGHUP while stopping is ignored (a reload never ends a running hook).
    async fn next_stop(&mut self) {
        while !matches!(self.next().await, SignalEvent::Stop) {
            crate::telemetry::say("oewsprobe run: SIGHUP while stopping: ignored");
        }
    }

    async fn next(&mut self) -> SignalEvent {
        tokio::select! {
            _ = self.term.recv() => SignalEvent::Stop,
            _ = self.int.recv() => SignalEvent::Stop,
            _ = self.hup.recv() => SignalEvent::Reload,
        }
    }
}
