//! `oewsprobe status`: read the store (also while the daemon runs) and show the monitor's state.

use crate::cli::{Format, StatusArgs};
use crate::exit::Exit;
use crate::monitor::now_ms;
use crate::report::{AlertStatus, BudgetStatus, Status, WatchStatus, probe_status, status_table};
use crate::store::{Store, StoreError};

const HOUR_MS: u64 = 3_600_000;

pub fn run(args: &StatusArgs) -> Exit {
    let sources = super::sources(&args.config, None);
    let plan = match crate::config::load_for_store(&sources).map_err(|errors| {
        eprintln!("{errors}");
        Exit::CouldNotCheck
    }) {
        Ok(plan) => plan,
        Err(exit) => return exit,
    };
    let names: Vec<String> = plan.probes.iter().map(|p| p.name.clone()).collect();
    let status = Store::open(&plan.settings.run.store).and_then(|store| {
        store.naming_damage(|store| {
            let window = args.window.as_millis() as u64;
            let mut status = gather(
                store,
                &names,
                plan.settings.queries_per_hour,
                window,
                now_ms(),
            )?;
            status.objectives = evaluate_objectives(store, &plan.objectives, status.now_ms)?;
            status.alerts.email = plan.settings.alert.smtp.is_some();
            Ok(status)
        })
    });
    match status {
        Ok(status) => {
            super::emit(&match args.format {
                Format::Table => status_table(&status),
                Format::Json => {
                    format!("{:#}\n", serde_json::to_value(&status).unwrap_or_default())
                }
            });
            Exit::Healthy
        }
        Err(e) => {
            eprintln!("oewsprobe status: {e}");
            Exit::CouldNotCheck
        }
    }
}

/// Everything `status` shows, read from the store at `now`.
pub fn gather(
    store: &Store,
    probes: &[String],
    budget: u32,
    window_ms: u64,
    now: u64,
) -> Result<Status, StoreError> {
    let records = store.records_since(now.saturating_sub(window_ms))?;
    let probes = probes
        .iter()
        .map(|name| {
            let mine: Vec<_> = records.iter().filter(|r| &r.probe == name).collect();
            probe_status(name, &mine)
        })
        .collect();
    let spent = store.spent_since(now.saturating_sub(HOUR_MS))?;
    let release = match store
        .open_release()?
        .or(store.releases()?.into_iter().next())
    {
        None => None,
        Some(release) => Some(WatchStatus {
            watching: release.watching_at(now),
            rollback_claimed: store.rollback_claimed(release.id)?,
            last_decision: store.decisions(release.id)?.pop(),
            release,
        }),
    };
    Ok(Status {
        now_ms: now,
        window_ms,
        probes,
        objectives: Vec::new(),
        budget: BudgetStatus {
            queries_per_hour: budget,
            spent_last_hour: spent,
            left: budget.saturating_sub(spent),
        },
        release,
        alerts: alert_status(store, now)?,
    })
}

/// What fires (probes, and SLO tiers as `slo OBJECTIVE/TIER`), the active silences, the outbox.
fn alert_status(store: &Store, now: u64) -> Result<AlertStatus, StoreError> {
    let mut firing: Vec<String> = store
        .alert_states::<serde_json::Value>()?
        .into_iter()
        .filter_map(|(key, value)| match key.strip_prefix("slo/") {
            Some(tier) => (value == true).then(|| format!("slo {tier}")),
            None => (!value["state"]["firing_since"].is_null()).then_some(key),
        })
        .collect();
    firing.sort();
    Ok(AlertStatus {
        email: false,
        firing,
        silences: store
            .active_silences(now)?
            .iter()
            .map(crate::alert::Silence::describe)
            .collect(),
        outbox: store.outbox_summary()?,
    })
}

/// Every objective evaluated at `now` over its error-budget period (tier states start fresh: `status` shows
/// the burn rates, the daemon's watch keeps the breach history). Counted from the rollups: the rows read
/// depend on the windows' lengths in buckets, not on the runs in them.
pub fn evaluate_objectives(
    store: &Store,
    objectives: &[crate::slo::Objective],
    now: u64,
) -> Result<Vec<crate::slo::Evaluation>, StoreError> {
    objectives
        .iter()
        .map(|o| {
            let counts = store.objective_counts(o, &crate::slo::spans(o, now))?;
            Ok(crate::slo::evaluate_counts(o, &counts, &[], now))
        })
        .collect()
}
