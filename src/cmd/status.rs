//! `oewsprobe status`: read the store (also while the daemon runs) and show the monitor's state, and which
//! agent leads (the leader's lease, by the store's clock).

use crate::cli::{Format, StatusArgs};
use crate::exit::Exit;
use crate::fleet::Lease;
use crate::monitor::now_ms;
use crate::report::status_table;
use crate::store::{LEADER, Store};
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
            let leader = (store.lease(LEADER)?, store.clock_ms()?);
            Ok((status, leader))
        })
    });
    match status {
        Ok((status, (lease, now))) => {
            super::emit(&match args.format {
                Format::Table => format!(
                    "{}{}\n",
                    status_table(&status),
                    leader_line(lease.as_ref(), now)
                ),
                Format::Json => {
                    let mut value = serde_json::to_value(&status).unwrap_or_default();
                    value["leader"] = leader_json(lease.as_ref(), now);
                    format!("{value:#}\n")
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

/// Who leads, for people: the holder of the leader's lease while it is unexpired at `now_ms` (the store's
/// clock).
pub fn leader_line(lease: Option<&Lease>, now_ms: u64) -> String {
    match lease {
        None => "leader: none yet (no agent has run on this store)".to_string(),
        Some(l) if l.expires_at_ms > now_ms => format!(
            "leader: {} (lease generation {}) until {}",
            l.holder,
            l.generation,
            crate::release::instant_text(l.expires_at_ms)
        ),
        Some(l) => format!(
            "leader: none (the lease of {}, generation {}, ended at {})",
            l.holder,
            l.generation,
            crate::release::instant_text(l.expires_at_ms)
        ),
    }
}

/// Who leads, for programs: `null` before any agent ran; else the lease and whether it is current.
fn leader_json(lease: Option<&Lease>, now_ms: u64) -> serde_json::Value {
    lease.map_or(serde_json::Value::Null, |l| {
        serde_json::json!({
            "holder": l.holder,
            "generation": l.generation,
            "until_ms": l.expires_at_ms,
            "current": l.expires_at_ms > now_ms,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leader_line_names_the_holder_while_its_lease_is_current() {
        let lease = Lease {
            holder: "eu-west/4242-1".into(),
            generation: 3,
            expires_at_ms: 1_800_000_015_000,
        };
        let table = [
            (None, 0, "leader: none yet (no agent has run on this store)"),
            (
                Some(&lease),
                1_800_000_000_000,
                "leader: eu-west/4242-1 (lease generation 3) until 2027-01-15T08:00:15Z",
            ),
            (
                Some(&lease),
                1_800_000_015_000,
                "leader: none (the lease of eu-west/4242-1, generation 3, ended at 2027-01-15T08:00:15Z)",
            ),
        ];
        for (lease, now, expected) in table {
            assert_eq!(leader_line(lease, now), expected);
        }
        assert_eq!(
            leader_json(Some(&lease), 1_800_000_000_000),
            serde_json::json!({"holder": "eu-west/4242-1", "generation": 3, "until_ms": 1_800_000_015_000u64, "current": true})
        );
    }
}
