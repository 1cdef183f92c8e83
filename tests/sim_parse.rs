//! The simulator's public value types: fault and profile names, options defaults, sample bodies.

use std::time::Duration;

use oewsprobe::sim::{Fault, Profile, SimOptions, SimServer, sample_query_response};

const KNOWN: &str = "health_down, models_empty, no_data_sources, missing_planner, missing_sql, non_contiguous_steps, \
                     no_echo, accept_invalid_model, no_charts, error500, invalid_json, slow=<duration>, hang, \
                     flaky=<probability>, rate_limited, at_capacity, bad_gateway";

#[test]
fn faults_parse_from_and_print_to_their_names() {
    let cases = [
        ("health_down", Fault::HealthDown),
        ("models_empty", Fault::ModelsEmpty),
        ("no_data_sources", Fault::NoDataSources),
        ("missing_planner", Fault::MissingPlanner),
        ("missing_sql", Fault::MissingSql),
        ("non_contiguous_steps", Fault::NonContiguousSteps),
        ("no_echo", Fault::NoEcho),
        ("accept_invalid_model", Fault::AcceptInvalidModel),
        ("no_charts", Fault::NoCharts),
        ("error500", Fault::Error500),
        ("invalid_json", Fault::InvalidJson),
        ("slow=35s", Fault::Slow(Duration::from_secs(35))),
        ("hang", Fault::Hang),
        ("flaky=0.25", Fault::Flaky(0.25)),
        ("rate_limited", Fault::RateLimited),
        ("at_capacity", Fault::AtCapacity),
        ("bad_gateway", Fault::BadGateway),
    ];
    for (name, fault) in cases {
        assert_eq!(name.parse::<Fault>().as_ref(), Ok(&fault), "{name}");
        assert_eq!(fault.to_string(), name);
    }
    assert_eq!(
        " slow = 250ms ".parse::<Fault>().expect("trimmed"),
        Fault::Slow(Duration::from_millis(250))
    );
    assert_eq!(
        "flaky=1".parse::<Fault>().expect("one is a probability"),
        Fault::Flaky(1.0)
    );
}

#[test]
fn fault_parse_errors_are_exact() {
    let cases = [
        ("slwo", format!(r#"unknown fault "slwo" (known: {KNOWN})"#)),
        ("", format!(r#"unknown fault "" (known: {KNOWN})"#)),
        ("slow", r#"fault "slow" needs a duration: slow=35s"#.to_owned()),
        ("flaky", r#"fault "flaky" needs a probability: flaky=0.2"#.to_owned()),
        (
            "slow=35",
            r#"fault "slow" has an invalid duration "35": time unit needed, for example 35sec or 35ms (example: slow=35s)"#
                .to_owned(),
        ),
        (
            "flaky=1.5",
            r#"fault "flaky" has an invalid probability "1.5": must be a number from 0 to 1 (example: flaky=0.2)"#
                .to_owned(),
        ),
        (
            "flaky=often",
            r#"fault "flaky" has an invalid probability "often": must be a number from 0 to 1 (example: flaky=0.2)"#
                .to_owned(),
        ),
        ("hang=5s", r#"fault "hang" takes no value, got "hang=5s""#.to_owned()),
    ];
    for (input, message) in cases {
        let error = input.parse::<Fault>().expect_err(input);
        assert_eq!(error.to_string(), message, "{input}");
    }
}

#[test]
fn faults_and_profiles_serialize_as_their_names() {
    let faults = vec![Fault::Error500, Fault::Slow(Duration::from_secs(2))];
    let json = serde_json::to_string(&faults).expect("serializes");
    assert_eq!(json, r#"["error500","slow=2s"]"#);
    assert_eq!(
        serde_json::from_str::<Vec<Fault>>(&json).expect("deserializes"),
        faults
    );
    assert!(serde_json::from_str::<Fault>(r#""slwo""#).is_err());
    assert_eq!(
        serde_json::to_string(&Profile::AsBuilt).expect("serializes"),
        r#""as-built""#
    );
    assert_eq!(
        serde_json::from_str::<Profile>(r#""runbook""#).expect("deserializes"),
        Profile::Runbook
    );
}

#[test]
fn profiles_parse_and_print() {
    for (name, profile) in [
        ("runbook", Profile::Runbook),
        ("as-built", Profile::AsBuilt),
    ] {
        assert_eq!(name.parse::<Profile>(), Ok(profile));
        assert_eq!(profile.to_string(), name);
    }
    let error = "asbuilt".parse::<Profile>().expect_err("unknown profile");
    assert_eq!(
        error.to_string(),
        r#"unknown profile "asbuilt" (known: runbook, as-built)"#
    );
}

#[test]
fn options_default_to_a_quiet_runbook_server() {
    let opts = SimOptions::default();
    assert_eq!(opts.profile, Profile::Runbook);
    assert!(opts.faults.is_empty());
    assert_eq!(
        (
            opts.latency,
            opts.seed,
            opts.rate_limit_per_hour,
            opts.max_concurrent
        ),
        (Duration::ZERO, 1, None, 8)
    );
    assert_eq!(opts.effective_rate_limit_per_hour(), None);
    let as_built = SimOptions {
        profile: Profile::AsBuilt,
        ..SimOptions::default()
    };
    assert_eq!(as_built.effective_rate_limit_per_hour(), Some(10));
}

#[test]
fn sample_query_response_has_the_runbook_shape_and_grows_with_rows() {
    let small = sample_query_response("What are software developer salaries in Seattle?", true, 3);
    let trace = small["data_sources"].as_array().expect("trace");
    let kinds: Vec<&str> = trace
        .iter()
        .map(|entry| entry["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        kinds,
        ["planning", "oews_database", "chart_generation", "synthesis"]
    );
    assert_eq!(trace[1]["row_count"], 3);
    assert_eq!(trace[1]["sample_data"].as_array().map(Vec::len), Some(3));
    assert!(!small["charts"].as_array().expect("charts").is_empty());
    assert!(
        small["answer"]
            .as_str()
            .expect("answer")
            .contains("Seattle")
    );
    assert_eq!(
        sample_query_response("abc", false, 0)["charts"],
        serde_json::json!([])
    );

    let size = |rows| {
        sample_query_response("software salaries", false, rows)
            .to_string()
            .len()
    };
    let (ten, hundred) = (size(10), size(100));
    assert!(hundred > ten && ten > size(0), "{ten} {hundred}");
    let big = size(650);
    assert!(
        (80_000..130_000).contains(&big),
        "about 100 KB with 650 rows, got {big}"
    );
}

#[tokio::test]
async fn a_server_on_port_zero_reports_its_real_port() {
    let server = SimServer::start(
        "127.0.0.1:0".parse().expect("address"),
        SimOptions::default(),
    )
    .await
    .expect("starts");
    let port = server.addr().port();
    assert_ne!(port, 0);
    assert_eq!(server.base_url(), format!("http://127.0.0.1:{port}"));
    server.shutdown().await;
}
