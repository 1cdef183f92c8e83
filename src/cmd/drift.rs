//! `oewsprobe drift`: fetch the service's own OpenAPI document (free), compare every probe with it, print
//! the findings; with `--live`, also run the probes (within the query budget) with their responses validated
//! against it. Exit 0 without drift, 1 with, 2 when the document cannot be had.

use crate::cli::{DriftArgs, Format};
use crate::config::Plan;
use crate::drift::{Document, DriftFinding, compare, drift_json, drift_table};
use crate::exit::Exit;
use crate::probe::{FetchSettings, openapi_document};

pub async fn run(args: DriftArgs) -> Exit {
    if let Some(action) = args.action {
        match action {}
    }
    let sources = super::sources(&args.config, args.target.clone());
    let plan = match super::load_plan(&sources) {
        Ok(plan) => plan,
        Err(exit) => return exit,
    };
    let settings = &plan.settings;
    let fetch = FetchSettings {
        headers: settings.headers.clone(),
        timeout: settings.timeout,
        connect_timeout: settings.connect_timeout,
        max_body: settings.max_body,
    };
    let document = match openapi_document(&settings.target, &fetch).await {
        Ok(document) => document,
        Err(error) => {
            eprintln!("oewsprobe drift: {error}");
            return Exit::CouldNotCheck;
        }
    };
    let findings: Vec<DriftFinding> = (plan.probes.iter())
        .flat_map(|probe| compare(&document, probe))
        .collect();
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
