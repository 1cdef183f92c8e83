//! `oewsprobe check`: load the plan, run the selected probes once, print verdicts, exit 0/1/2.

use super::once::{exit_for, print_report, run_probes, select};
use crate::cli::CheckArgs;
use crate::config::Plan;
use crate::exit::Exit;
use crate::load::{BudgetCheck, check_check_budget};
use crate::probe::ProbeSpec;

pub async fn run(args: CheckArgs) -> Exit {
    let sources = super::sources(&args.config, args.target.clone());
    let plan = match super::load_plan(&sources) {
        Ok(plan) => plan,
        Err(exit) => return exit,
    };
    let selected = match select(&plan, &args.only) {
        Ok(selected) => selected,
        Err(message) => {
            eprintln!("{message}");
            return Exit::CouldNotCheck;
        }
    };
    if let Err(message) = guard_budget(&plan, &selected, args.force) {
        eprintln!("{message}");
        return Exit::CouldNotCheck;
    }
    let telemetry = match super::telemetry::start_one_shot(&plan.settings) {
        Ok(telemetry) => telemetry,
        Err(message) => {
            eprintln!("oewsprobe check: {message}");
            return Exit::CouldNotCheck;
        }
    };
    let records = match run_probes(&plan, &selected).await {
        Ok(records) => records,
        Err(message) => {
            eprintln!("{message}");
            return Exit::CouldNotCheck;
        }
    };
    // The table shows the verdicts; the log has them too (info), for JSON log pipelines.
    for record in &records {
        let _span = crate::monitor::probe_span(record).entered();
        tracing::info!(latency_ms = record.latency.as_millis() as u64, "checked");
    }
    if let Some(telemetry) = telemetry {
        let metrics = telemetry.metrics();
        for record in &records {
            if let Some(spec) = selected.iter().find(|s| s.name == record.probe) {
                metrics.record_probe_run(record, &spec.request.method);
            }
        }
        // One-shot: deliver this run's metrics before exiting.
        telemetry.shutdown().await;
    }
    print_report(
        plan.settings.target.as_str().trim_end_matches('/'),
        &records,
        args.format,
    );
    exit_for(&records)
}

/// Refuses (before anything is sent) a check whose probes would spend more valid queries than
/// `budget.queries_per_hour`, unless `--force`.
fn guard_budget(plan: &Plan, selected: &[&ProbeSpec], force: bool) -> Result<(), String> {
    let probes: Vec<(&str, u32)> = selected
        .iter()
        .map(|p| (p.name.as_str(), p.queries))
        .collect();
    let settings = &plan.settings;
    match check_check_budget(&settings.target, &probes, settings.queries_per_hour, force) {
        BudgetCheck::Refused(message) => Err(message),
        BudgetCheck::Forced => {
            eprintln!("oewsprobe check: --force: sending past the query budget");
            Ok(())
        }
        BudgetCheck::Allowed => Ok(()),
    }
}
