//! `oewsprobe check`: load the plan, run the selected probes once, print verdicts, exit 0/1/2.

use super::once::{exit_for, guard_budget, print_report, run_probes, select};
use crate::cli::CheckArgs;
use crate::exit::Exit;

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
    if let Err(message) = guard_budget(&plan, &selected, args.force, "check", "--only") {
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
    let mut records = match run_probes(&plan, &selected).await {
        Ok(records) => records,
        Err(message) => {
            eprintln!("{message}");
            return Exit::CouldNotCheck;
        }
    };
    for record in &mut records {
        record.location.clone_from(&plan.settings.run.location);
        plan.known_drift.apply(record, args.accept_known);
    }
    let resolved: Vec<_> = records
        .iter()
        .flat_map(|r| plan.known_drift.resolved(r))
        .collect();
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
        &resolved,
        args.format,
    );
    exit_for(&records)
}
