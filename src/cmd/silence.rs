//! `oewsprobe silence add|list|remove`: silences in the store, read by the running monitor when an alert is
//! due (no reload needed). Listing shows the configured maintenance windows too.

use super::open_store;
use crate::alert::{MaintenanceWindow, Silence, window_open};
use crate::cli::{Format, SilenceCommand};
use crate::config::suggest;
use crate::exit::Exit;
use crate::monitor::now_ms;
use crate::release::instant_text;

pub fn run(command: SilenceCommand) -> Exit {
    let result = match command {
        SilenceCommand::Add(args) => open_store(&args.config).and_then(|(store, plan)| {
            let known: Vec<&str> = plan.probes.iter().map(|p| p.name.as_str()).collect();
            for probe in &args.probe {
                check_probe(probe, &known)?;
            }
            if args.reason.trim().is_empty() {
                return Err("--reason must say why".to_string());
            }
            let now = now_ms();
            let until = now.saturating_add(args.duration.as_millis() as u64);
            let targets: Vec<Option<&str>> = if args.all {
                vec![None]
            } else {
                args.probe.iter().map(|p| Some(p.as_str())).collect()
            };
            for probe in targets {
                let silence = store
                    .add_silence(probe, now, until, args.reason.trim())
                    .map_err(|e| e.to_string())?;
                super::emit(&format!("added {}\n", line(&silence)));
            }
            Ok(())
        }),
        SilenceCommand::List(args) => open_store(&args.config).and_then(|(store, plan)| {
            let now = now_ms();
            let silences = store.active_silences(now).map_err(|e| e.to_string())?;
            let windows = &plan.settings.alert.maintenance;
            super::emit(&match args.format {
                Format::Json => format!("{:#}\n", listing_json(&silences, windows, now)),
                Format::Table => listing(&silences, windows, now),
            });
            Ok(())
        }),
        SilenceCommand::Remove(args) => open_store(&args.config).and_then(|(store, _)| {
            if store
                .remove_silence(args.id, now_ms())
                .map_err(|e| e.to_string())?
            {
                super::emit(&format!("silence #{} removed\n", args.id));
                Ok(())
            } else {
                Err(format!(
                    "no active silence #{} (see `oewsprobe silence list`)",
                    args.id
                ))
            }
        }),
    };
    match result {
        Ok(()) => Exit::Healthy,
        Err(message) => {
            eprintln!("oewsprobe silence: {message}");
            Exit::CouldNotCheck
        }
    }
}

fn check_probe(probe: &str, known: &[&str]) -> Result<(), String> {
    if known.contains(&probe) {
        return Ok(());
    }
    Err(match suggest(probe, known) {
        Some(best) => format!("--probe {probe}: no such probe — did you mean \"{best}\"?"),
        None => format!(
            "--probe {probe}: no such probe; the probes are: {}",
            known.join(", ")
        ),
    })
}

/// One silence on one line: `silence #3: health until 2026-11-27T23:10:00Z — deploying 1.4.2`.
fn line(silence: &Silence) -> String {
    format!(
        "silence #{}: {} until {} — {}",
        silence.id,
        silence.probe.as_deref().unwrap_or("every probe"),
        instant_text(silence.ends_at_ms),
        silence.reason
    )
}

fn window_line(window: &MaintenanceWindow, now: u64) -> String {
    let probes = if window.probes.is_empty() {
        "every probe".to_string()
    } else {
        window.probes.join(", ")
    };
    let state = match window_open(window, now) {
        Some((_, end)) => format!("OPEN until {}", instant_text(end)),
        None => window
            .schedule
            .next_after(now)
            .map_or("never opens again".to_string(), |at| {
                format!("next opens {}", instant_text(at))
            }),
    };
    format!(
        "maintenance window \"{}\": {probes}; \"{}\" for {}; {state}",
        window.name,
        window.schedule.as_str(),
        humantime::format_duration(window.duration)
    )
}

fn listing(silences: &[Silence], windows: &[MaintenanceWindow], now: u64) -> String {
    let mut out = String::new();
    if silences.is_empty() {
        out.push_str("no active silences\n");
    }
    for silence in silences {
        out.push_str(&line(silence));
        out.push('\n');
    }
    for window in windows {
        out.push_str(&window_line(window, now));
        out.push('\n');
    }
    out
}

fn listing_json(
    silences: &[Silence],
    windows: &[MaintenanceWindow],
    now: u64,
) -> serde_json::Value {
    serde_json::json!({
        "silences": silences.iter().map(|s| serde_json::json!({
            "id": s.id,
            "probe": s.probe,
            "starts_at": instant_text(s.starts_at_ms),
            "ends_at": instant_text(s.ends_at_ms),
            "reason": s.reason,
        })).collect::<Vec<_>>(),
        "maintenance_windows": windows.iter().map(|w| serde_json::json!({
            "name": w.name,
            "cron": w.schedule.as_str(),
            "duration": humantime::format_duration(w.duration).to_string(),
            "probes": w.probes,
            "reason": w.reason,
            "open_until": window_open(w, now).map(|(_, end)| instant_text(end)),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::CronSchedule;
    use std::time::Duration;

    #[test]
    fn listings_are_exact() {
        let silences = [
            Silence {
                id: 3,
                probe: Some("health".into()),
                starts_at_ms: 0,
                ends_at_ms: 7_200_000,
                reason: "deploying 1.4.2".into(),
            },
            Silence {
                id: 4,
                probe: None,
                starts_at_ms: 0,
                ends_at_ms: 3_600_000,
                reason: "provider outage".into(),
            },
        ];
        let windows = [MaintenanceWindow {
            name: "nightly".into(),
            schedule: CronSchedule::parse("0 0 2 * * *").expect("cron"),
            duration: Duration::from_secs(1800),
            probes: vec!["query-trace".into()],
            reason: None,
        }];
        assert_eq!(
            listing(&silences, &windows, 1_000),
            "silence #3: health until 1970-01-01T02:00:00Z — deploying 1.4.2\n\
             silence #4: every probe until 1970-01-01T01:00:00Z — provider outage\n\
             maintenance window \"nightly\": query-trace; \"0 0 2 * * *\" for 30m; next opens 1970-01-01T02:00:00Z\n"
        );
        assert_eq!(
            listing(&[], &windows, 7_300_000),
            "no active silences\nmaintenance window \"nightly\": query-trace; \"0 0 2 * * *\" for 30m; OPEN until 1970-01-01T02:30:00Z\n"
        );
        let json = listing_json(&silences, &windows, 7_300_000);
        assert_eq!(json["silences"][1]["probe"], serde_json::Value::Null);
        assert_eq!(
            json["maintenance_windows"][0]["open_until"],
            "1970-01-01T02:30:00Z"
        );
    }

    #[test]
    fn an_unknown_probe_is_refused_with_a_suggestion() {
        let known = ["health", "models"];
        assert_eq!(
            check_probe("helth", &known).expect_err("unknown"),
            "--probe helth: no such probe — did you mean \"health\"?"
        );
        assert_eq!(
            check_probe("zzz", &known).expect_err("unknown"),
            "--probe zzz: no such probe; the probes are: health, models"
        );
        assert!(check_probe("models", &known).is_ok());
    }
}
