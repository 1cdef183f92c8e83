//! Running the plan's probes once and reporting their verdicts: shared by `check` and `demo`.

use crate::cli::Format;
use crate::config::{Plan, suggest};
use crate::exit::Exit;
use crate::known_drift::KnownEntry;
use crate::load::{BudgetCheck, check_check_budget};
use crate::probe::{Caller, ProbeRecord, ProbeSpec, Prober, Scheduled, Verdict};
use crate::report::{Tally, check_json, check_table, resolved_json, resolved_table};

/// How a finished check exits: any failure is unhealthy; inconclusive runs without failures mean no verdict.
pub fn exit_for(records: &[ProbeRecord]) -> Exit {
    match Tally::of(records).verdict() {
        Verdict::Pass => Exit::Healthy,
        Verdict::Fail => Exit::Unhealthy,
        Verdict::Inconclusive => Exit::CouldNotCheck,
    }
}

/// Prints the check's report, with the known-drift entries found `resolved` (a line each after the table, or
/// the JSON's `resolved_drift`).
pub fn print_report(
    target: &str,
    records: &[ProbeRecord],
    resolved: &[&KnownEntry],
    format: Format,
) {
    match format {
        Format::Table => super::emit(&format!(
            "{}{}",
            check_table(target, records),
            resolved_table(resolved)
        )),
        Format::Json => {
            let mut doc = check_json(target, records);
            doc["resolved_drift"] = resolved_json(resolved);
            super::emit(&format!("{doc:#}\n"));
        }
    }
}

/// The probes named by `--only` (all when none), in file order; an unknown name is an error with a suggestion.
pub fn select<'p>(plan: &'p Plan, only: &[String]) -> Result<Vec<&'p ProbeSpec>, String> {
    select_by(plan, only, "--only")
}

/// [`select`] for a command whose flag naming probes is `flag`.
pub fn select_by<'p>(
    plan: &'p Plan,
    only: &[String],
    flag: &str,
) -> Result<Vec<&'p ProbeSpec>, String> {
    let names: Vec<&str> = plan.probes.iter().map(|p| p.name.as_str()).collect();
    let unknown: Vec<String> = only
        .iter()
        .filter(|n| !names.contains(&n.as_str()))
        .map(|n| match suggest(n, &names) {
            Some(s) => format!("{flag} {n}: no such probe — did you mean \"{s}\"?"),
            None => format!("{flag} {n}: no such probe (probes: {})", names.join(", ")),
        })
        .collect();
    if !unknown.is_empty() {
        return Err(unknown.join("\n"));
    }
    Ok(plan
        .probes
        .iter()
        .filter(|p| only.is_empty() || only.contains(&p.name))
        .collect())
}

/// Runs probes concurrently, at most `check.concurrency` at once; records come back in the given order.
/// Fails only when the HTTP clients cannot be set up.
pub async fn run_probes(plan: &Plan, probes: &[&ProbeSpec]) -> Result<Vec<ProbeRecord>, String> {
    let prober = Prober::new(
        &plan.settings.target,
        Caller::OneShot,
        probes.iter().copied(),
    )
    .map_err(|e| format!("oewsprobe: {e}"))?;
    let permits = tokio::sync::Semaphore::new(plan.settings.check_concurrency);
    let runs = probes.iter().map(|spec| {
        let (permits, prober) = (&permits, &prober);
        async move {
            let _permit = permits.acquire().await.ok();
            prober.run(spec, Scheduled::now()).await
        }
    });
    Ok(futures::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect())
}

/// Refuses (before anything is sent) a one-shot run whose probes would spend more valid queries than
/// `budget.queries_per_hour`, unless `--force`, which `command` announces on stderr. `flag` names probes.
pub fn guard_budget(
    plan: &Plan,
    selected: &[&ProbeSpec],
    force: bool,
    command: &str,
    flag: &str,
) -> Result<(), String> {
    let probes: Vec<(&str, u32)> = selected
        .iter()
        .map(|p| (p.name.as_str(), p.queries))
        .collect();
    let settings = &plan.settings;
    let per_hour = settings.queries_per_hour;
    match check_check_budget(&settings.target, &probes, per_hour, force, flag) {
        BudgetCheck::Refused(message) => Err(message),
        BudgetCheck::Forced => {
            eprintln!("oewsprobe {command}: --force: sending past the query budget");
            Ok(())
        }
        BudgetCheck::Allowed => Ok(()),
    }
}
