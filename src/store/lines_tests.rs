use super::*;
use crate::probe::{FailureClass, Finding, RequestLine, Timings, Verdict};
use std::time::Duration;

fn record() -> ProbeRecord {
    ProbeRecord {
        location: String::new(),
        latency_percentiles: None,
        probe: "query-trace".into(),
        target: "http://127.0.0.1:8000".into(),
        request: None,
        scheduled_at_ms: 1_790_000_000_000,
        verdict: Verdict::Fail,
        class: Some(FailureClass::Contract),
        status: Some(200),
        latency: Duration::from_micros(24_310_500),
        timings: Timings {
            start_delay: Duration::from_micros(1_200),
            dns: None,
            connect: Some(Duration::from_micros(800)),
            first_byte: Some(Duration::from_millis(24_000)),
            total: Duration::from_micros(24_309_300),
            tls: None,
        },
        body_bytes: 5120,
        queries: 1,
        findings: vec![Finding::new(
            "trace",
            Some("data_sources[1].agent".into()),
            "\"cortex\"",
            "\"cortex_researcher\"",
            None,
        )],
        retry_after: None,
        known_drift: Vec::new(),
        tls: None,
    }
}

const LINE: &str = r#"{"name":"query-trace","probe":"query-trace","target":"http://127.0.0.1:8000","scheduled_at_ms":1790000000000,"verdict":"fail","class":"contract","status":200,"latency_ms":24310.5,"timings":{"start_delay":1.2,"dns":null,"connect":0.8,"first_byte":24000.0,"total":24309.3},"body_bytes":5120,"queries":1,"findings":[{"check":"trace","path":"data_sources[1].agent","expected":"\"cortex\"","actual":"\"cortex_researcher\"","message":"data_sources[1].agent: expected \"cortex\", got \"cortex_researcher\""}],"location":null}"#;

#[test]
fn a_line_is_the_check_entry_plus_location_and_reads_back() {
    assert_eq!(line(&record()), LINE);
    let check = crate::report::check_json("http://127.0.0.1:8000", &[record()]);
    let mut entry: Value = serde_json::from_str(LINE).expect("json");
    entry
        .as_object_mut()
        .expect("object")
        .remove("location")
        .expect("location");
    assert_eq!(
        check["probes"][0], entry,
        "the same fields as check --format json"
    );
    assert_eq!(parse(LINE.as_bytes()), Ok(record()));
}

#[test]
fn a_run_from_a_location_carries_it_after_its_target_and_reads_back_with_it() {
    let from = ProbeRecord {
        location: "eu-west".into(),
        ..record()
    };
    let expected = LINE
        .replace(
            r#""target":"http://127.0.0.1:8000","#,
            r#""target":"http://127.0.0.1:8000","location":"eu-west","#,
        )
        .replace(r#","location":null"#, "");
    assert_eq!(line(&from), expected);
    assert_eq!(parse(expected.as_bytes()), Ok(from));
}

/// [`LINE`] with its request line, as runs are exported now ([`LINE`] is what an older export holds).
fn line_with_request() -> String {
    LINE.replace(
        r#""target":"http://127.0.0.1:8000","#,
        r#""target":"http://127.0.0.1:8000","request":{"method":"POST","url":"http://127.0.0.1:8000/api/v1/query"},"#,
    )
}

#[test]
fn a_run_with_its_request_line_reads_back_as_it_was_written() {
    let with_request = ProbeRecord {
        request: Some(RequestLine {
            method: "POST".into(),
            url: "http://127.0.0.1:8000/api/v1/query".into(),
        }),
        ..record()
    };
    assert_eq!(line(&with_request), line_with_request());
    assert_eq!(parse(line_with_request().as_bytes()), Ok(with_request));
}

#[test]
fn a_request_line_that_a_run_cannot_have_is_refused() {
    let url = "http://127.0.0.1:8000/api/v1/query";
    let cases = [
        (
            line_with_request().replace(r#""method":"POST""#, r#""method":"PO ST""#),
            "request.method: \"PO ST\" is not an HTTP method",
        ),
        (
            line_with_request().replace(url, "/api/v1/query"),
            "request.url: \"/api/v1/query\" is not an absolute URL (relative URL without a base)",
        ),
        (
            line_with_request().replace(url, "ftp://127.0.0.1/x"),
            "request.url: \"ftp://127.0.0.1/x\" is not an http:// or https:// URL",
        ),
        (
            line_with_request().replace(url, "http://user:secret@127.0.0.1:8000/api/v1/query"),
            "request.url: has credentials (user information); a run's URL never holds them",
        ),
        (
            line_with_request().replace(r#""method":"POST","#, ""),
            "request: missing field `method`",
        ),
    ];
    for (input, wanted) in cases {
        assert_eq!(parse(input.as_bytes()), Err(wanted.to_string()), "{input}");
    }
}

#[test]
fn a_line_that_is_not_a_run_says_what_is_wrong() {
    let long = format!("{}{}", LINE, " ".repeat(MAX_LINE - LINE.len() + 1));
    let cases: Vec<(String, &str)> = vec![
        ("".into(), "the line is empty; every line is one run"),
        (
            "[1]".into(),
            "not a JSON object: invalid type: sequence, expected a map at line 1 column 0",
        ),
        (
            "{\"name\"".into(),
            "not a JSON object: EOF while parsing an object at line 1 column 7",
        ),
        (
            LINE.replace(r#""name":"query-trace","#, ""),
            "missing field `name`",
        ),
        (
            LINE.replace(r#""name":"query-trace""#, r#""name":7"#),
            "name: expected a string, got 7",
        ),
        (
            LINE.replace(r#","location":null"#, ""),
            "missing field `location`",
        ),
        (
            LINE.replace(r#""location":null"#, r#""location":"EU West""#),
            "location: \"EU West\" is not a location name (1 to 64 lower-case letters, digits, \".\", \"-\" and \"_\", starting with a letter or a digit) or null (a run from before locations were kept)",
        ),
        (
            LINE.replace(r#""location":null"#, r#""location":7"#),
            "location: 7 is not a location name (1 to 64 lower-case letters, digits, \".\", \"-\" and \"_\", starting with a letter or a digit) or null (a run from before locations were kept)",
        ),
        (
            LINE.replace(r#""name":"query-trace""#, r#""name":"health""#),
            "name \"health\" and probe \"query-trace\" differ; they are the same run's probe",
        ),
        (
            LINE.replace(r#""verdict":"fail""#, r#""verdict":"red""#),
            "verdict: unknown variant `red`, expected one of `pass`, `fail`, `inconclusive`",
        ),
        (
            LINE.replace(r#""connect":0.8"#, r#""connect":-0.8"#),
            "timings.connect: -0.8 is not a duration in milliseconds (0 to 9223372036854776)",
        ),
        (
            LINE.replace(r#""status":200"#, r#""status":70000"#),
            "status: invalid value: integer `70000`, expected u16",
        ),
        (
            LINE.replace(r#""queries":1,"#, r#""queries":1,"colour":"red","#),
            "colour: unknown field `colour`, expected one of `probe`, `target`, `location`, `request`, `scheduled_at_ms`, `verdict`, `class`, `status`, `latency_ms`, `timings`, `body_bytes`, `queries`, `findings`, `known_drift`, `retry_after`, `tls`, `latency_percentiles_ms`",
        ),
        (
            LINE.replace(
                r#""scheduled_at_ms":1790000000000"#,
                r#""scheduled_at_ms":9223372036854775808"#,
            ),
            "scheduled_at_ms: 9223372036854775808 is later than the store can hold (9223372036854775807)",
        ),
        (
            LINE.replace(r#""probe":"query-trace""#, r#""probe":"""#)
                .replace(r#""name":"query-trace""#, r#""name":"""#),
            "probe is empty",
        ),
        (long, "the line is longer than 1048576 bytes (1 MiB)"),
    ];
    for (input, wanted) in cases {
        assert_eq!(
            parse(input.as_bytes()),
            Err(wanted.to_string()),
            "{input:.200}"
        );
    }
    let longest = format!("{}{}", LINE, " ".repeat(MAX_LINE - LINE.len()));
    assert_eq!(
        parse(longest.as_bytes()),
        Ok(record()),
        "a line of exactly 1 MiB is read"
    );
}
