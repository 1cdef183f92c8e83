//! The shipped systemd unit fits the shipped config: it is a notify service (oewsprobe sends READY=1 and
//! EXTEND_TIMEOUT_USEC), and its stop timeout covers the stop grace plus a running rollback's command and
//! webhook, each up to `rollback.timeout`, plus the 5 s margin.

use std::time::Duration;

fn deploy(file: &str) -> String {
    std::fs::read_to_string(format!("{}/deploy/{file}", env!("CARGO_MANIFEST_DIR"))).expect("read")
}

/// The value of `key=` in the unit (the last one wins, as in systemd).
fn unit_value(unit: &str, key: &str) -> String {
    unit.lines()
        .rev()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in the unit"))
        .to_string()
}

#[test]
fn the_unit_is_a_notify_service_whose_stop_timeout_covers_a_running_rollback() {
    let unit = deploy("oewsprobe.service");
    assert_eq!(unit_value(&unit, "Type"), "notify");
    assert_eq!(unit_value(&unit, "NotifyAccess"), "main");
    let config: toml::Table = toml::from_str(&deploy("oewsprobe.toml")).expect("config");
    let duration = |table: &str, key: &str| {
        humantime::parse_duration(config[table][key].as_str().expect("a duration")).expect(key)
    };
    let needed = duration("run", "shutdown_grace")
        + 2 * duration("rollback", "timeout")
        + Duration::from_secs(5);
    let stop = humantime::parse_duration(&unit_value(&unit, "TimeoutStopSec")).expect("duration");
    assert!(stop >= needed, "TimeoutStopSec {stop:?} < {needed:?}");
}
