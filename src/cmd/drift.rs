//! `oewsprobe drift`: fetch the service's own OpenAPI document (free), compare every probe with it, print
//! the findings; with `--live`, also run the probes (within the query budget) with their responses validated
//! against it. Exit 0 without drift, 1 with, 2 when the document cannot be had. `drift accept` is
//! [`super::drift_accept`].

use super::once::{guard_budget, run_probes, select};
use crate::cli::{DriftAction, DriftArgs, Format};
use crate::config::Plan;
use crate::drift::{Document, DriftFinding, compare, drift_json, drift_table, live_finding};
use crate::exit::Exit;
use crate::probe::{FetchSettings, ProbeRecord, ProbeSpec, Verdict, openapi_document};

pub async fn run(args: DriftArgs) -> Exit {
    if let Some(DriftAction::Accept(args)) = args.action {
        return super::drift_accept::run(args).await;
    }
    let sources = super::sources(&args.config, args.target.clone());
    let mut plan = match super::load_plan(&sources) {
        Ok(plan) => plan,
        Err(exit) => return exit,
    };
    if let Err(message) = select(&plan, &args.only) {
        eprintln!("{message}");
        return Exit::CouldNotCheck;
    }
    plan.probes
        .retain(|p| args.only.is_empty() || args.only.contains(&p.name));
    let settings = &plan.settings;
    let fetch = FetchSettings {
        headers: settings.headers.clone(),
        timeout: settings.timeout,
        connect_timeout: settings.connect_timeout,
        max_body: settings.max_body,
        tls: settings.tls.clone(),
    };
    let document = match openapi_document(&settings.target, &fetch).await {
        Ok(document) => document,
        Err(error) => {
            eprintln!("oewsprobe drift: {error}");
            return Exit::CouldNotCheck;
        }
    };
    let mut findings: Vec<DriftFinding> = (plan.probes.iter())
        .flat_map(|probe| compare(&document, probe))
        .collect();
    if args.live {
        match live(&plan, args.force).await {
            Ok(records) => findings = merged(&plan, findings, &records),
            Err(message) => {
                eprintln!("{message}");
                return Exit::CouldNotCheck;
            }
        }
    }
    print(&plan, &document, &findings, args.format);
    if findings.is_empty() {
        Exit::Healthy
    } else {
        Exit::Unhealthy
    }
}

fn print(plan: &Plan, document: &Document, findings: &[DriftFinding], format: Format) {
    let target = plan.settings.target.as_str().trim_end_matches('/');
    super::emit(&match format {
        Format::Table => drift_table(target, &document.describe(), plan.probes.len(), findings),
        Format::Json => drift_json(findings),
    });
}

/// Runs every probe (of `--only`) once, as `check` does (within the query budget unless `force`), each response also
/// validated against the document; says first how many valid queries that spends.
async fn live(plan: &Plan, force: bool) -> Result<Vec<ProbeRecord>, String> {
    let specs: Vec<ProbeSpec> = (plan.probes.iter().cloned())
        .map(|mut spec| {
            spec.expect.openapi = true;
            spec
        })
        .collect();
    let selected: Vec<&ProbeSpec> = specs.iter().collect();
    guard_budget(plan, &selected, force, "drift", "--only")?;
    let spend: u32 = specs.iter().map(|spec| spec.queries).sum();
    eprintln!(
        "oewsprobe drift --live: running {} probes, spending up to {spend} valid queries",
        specs.len()
    );
    run_probes(plan, &selected).await
}

/// The document's findings with each failed live run's findings after its probe's, in probe order.
fn merged(plan: &Plan, document: Vec<DriftFinding>, records: &[ProbeRecord]) -> Vec<DriftFinding> {
    let mut all = Vec::new();
    for probe in &plan.probes {
        all.extend(document.iter().filter(|f| f.probe == probe.name).cloned());
        let failed =
            (records.iter()).filter(|r| r.probe == probe.name && r.verdict == Verdict::Fail);
        for record in failed {
            all.extend(
                record
                    .findings
                    .iter()
                    .map(|f| live_finding(&record.probe, f)),
            );
        }
    }
    all
}
