//! `oewsprobe status`: read the store (also while the daemon runs) and show the monitor's state.

use crate::cli::{Format, StatusArgs};
use crate::exit::Exit;
use crate::monitor::now_ms;
use crate::report::status_table;
use crate::store::Store;
use std::collections::HashMap;

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
    let status = Store::open_at(&plan.settings.run.store).and_then(|store| {
        store.naming_damage(|store| {
            let window = args.window.as_millis() as u64;
            let mut status = crate::happened::status(
                store,
                &names,
                plan.settings.queries_per_hour,
                window,
                now_ms(),
            )?;
            status.objectives = crate::happened::evaluate_objectives(
                store,
                &plan.objectives,
                &HashMap::new(),
                status.now_ms,
            )?;
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
