//! Tests of the known-drift baseline: applying it to runs, resolved entries, the file both ways, the merge.

use super::*;
use crate::probe::{RequestLine, Timings};
use std::time::Duration;

fn finding(place: &str, expected: &str, actual: &str) -> Finding {
    Finding::new("trace", Some(place.into()), expected, actual, Some("note"))
}

fn run(
    probe: &str,
    verdict: Verdict,
    class: Option<FailureClass>,
    findings: Vec<Finding>,
) -> ProbeRecord {
    ProbeRecord {
        location: String::new(),
        latency_percentiles: None,
        probe: probe.into(),
        target: "http://127.0.0.1:8000".into(),
        request: Some(RequestLine {
            method: "GET".into(),
            url: "http://127.0.0.1:8000/x".into(),
        }),
        scheduled_at_ms: 0,
        verdict,
        class,
        status: Some(200),
        latency: Duration::ZERO,
        timings: Timings::default(),
        body_bytes: 0,
        queries: 0,
        findings,
        known_drift: Vec::new(),
        retry_after: None,
        tls: None,
    }
}

fn entry(probe: &str, check: &str, expected: &str, actual: &str) -> KnownEntry {
    KnownEntry {
        probe: probe.into(),
        check: check.into(),
        expected: expected.into(),
        actual: actual.into(),
        accepted: "2026-12-01".into(),
        note: None,
    }
}

fn baseline() -> KnownDrift {
    KnownDrift {
        file: "known-drift.toml".into(),
        entries: vec![
            entry("q", "a", "1", "2"),
            entry("q", "b", "1", "2"),
            entry("h", "GET /h", "200", "404"),
        ],
    }
}

#[test]
fn applying_the_baseline_passes_only_contract_failures_whose_every_finding_is_known() {
    let contract = Some(FailureClass::Contract);
    let known = finding("a", "1", "2");
    let other_actual = finding("a", "1", "3");
    let cases = [
        // (probe, class, findings, accept) -> (verdict, findings left, known)
        (
            "q",
            contract,
            vec![known.clone()],
            true,
            Verdict::Pass,
            0,
            1,
        ),
        (
            "q",
            contract,
            vec![known.clone()],
            false,
            Verdict::Fail,
            0,
            1,
        ),
        (
            "q",
            contract,
            vec![known.clone(), other_actual.clone()],
            true,
            Verdict::Fail,
            1,
            1,
        ),
        (
            "q",
            contract,
            vec![other_actual.clone()],
            true,
            Verdict::Fail,
            1,
            0,
        ),
        // Another probe's entry is not this probe's.
        (
            "r",
            contract,
            vec![known.clone()],
            true,
            Verdict::Fail,
            1,
            0,
        ),
        // An outage is never drift, whatever its findings say.
        (
            "q",
            Some(FailureClass::ServerError),
            vec![known.clone()],
            true,
            Verdict::Fail,
            1,
            0,
        ),
    ];
    for (probe, class, findings, accept, verdict, left, noted) in cases {
        let mut record = run(probe, Verdict::Fail, class, findings.clone());
        baseline().apply(&mut record, accept);
        assert_eq!(
            (
                record.verdict,
                record.findings.len(),
                record.known_drift.len()
            ),
            (verdict, left, noted),
            "{probe} {class:?} {findings:?} accept={accept}"
        );
        assert_eq!(record.class.is_none(), verdict == Verdict::Pass);
    }
}

#[test]
fn a_status_finding_is_known_by_its_request_line() {
    let mut record = run(
        "h",
        Verdict::Fail,
        Some(FailureClass::Contract),
        vec![Finding::of_request(
            "status",
            "GET /h",
            "200",
            "404",
            Some("body: {}"),
        )],
    );
    baseline().apply(&mut record, true);
    assert_eq!(
        (record.verdict, record.known_drift.len()),
        (Verdict::Pass, 1)
    );
}

#[test]
fn entries_not_found_by_a_judged_run_are_resolved() {
    let contract = Some(FailureClass::Contract);
    let cases = [
        (run("q", Verdict::Pass, None, vec![]), vec!["a", "b"]),
        (
            run("q", Verdict::Fail, contract, vec![finding("a", "1", "2")]),
            vec!["b"],
        ),
        (
            run(
                "q",
                Verdict::Fail,
                contract,
                vec![finding("a", "1", "2"), finding("b", "1", "2")],
            ),
            vec![],
        ),
        // Not judged on the response: nothing can be said.
        (
            run("q", Verdict::Fail, Some(FailureClass::Timeout), vec![]),
            vec![],
        ),
        (
            run(
                "q",
                Verdict::Inconclusive,
                Some(FailureClass::Throttled),
                vec![],
            ),
            vec![],
        ),
    ];
    for (mut record, wanted) in cases {
        let known = baseline();
        known.apply(&mut record, true);
        let resolved: Vec<&str> = known
            .resolved(&record)
            .iter()
            .map(|e| e.check.as_str())
            .collect();
        assert_eq!(resolved, wanted, "{record:?}");
    }
    assert_eq!(
        resolved_line(&entry("q", "a", "1", "2")),
        "resolved drift: q: a: expected 1, got 2 — no longer seen: its known entry can be removed"
    );
}

#[test]
fn the_file_reads_back_what_it_writes_sorted() {
    let mut entries = vec![
        entry(
            "z",
            "data_sources[1].agent",
            "\"cortex\"",
            "\"cortex_researcher\"",
        ),
        entry("a", "GET /api/v1/health", "200", "404"),
    ];
    entries[0].note = Some("renamed in 2.1".into());
    let text = render(&entries);
    assert_eq!(
        &text[text.find("\n[[known]]").expect("an entry")..],
        "\n[[known]]\nprobe = \"a\"\ncheck = \"GET /api/v1/health\"\nexpected = \"200\"\nactual = \"404\"\n\
         accepted = \"2026-12-01\"\n\n[[known]]\nprobe = \"z\"\ncheck = \"data_sources[1].agent\"\n\
         expected = '\"cortex\"'\nactual = '\"cortex_researcher\"'\naccepted = \"2026-12-01\"\nnote = \"renamed in 2.1\"\n"
    );
    let back = parse(&text, &["a", "z"]).expect("reads back");
    assert_eq!(back, vec![entries[1].clone(), entries[0].clone()]);
    assert_eq!(parse("", &[]), Ok(vec![]));
}

#[test]
fn a_malformed_file_names_each_entry_and_key() {
    let good = "probe = \"a\"\ncheck = \"c\"\nexpected = \"1\"\nactual = \"2\"\naccepted = \"2026-12-01\"\n";
    let cases = [
        (
            "[[known]]\nprobe = \"a\"\n",
            vec![
                "known[0].check: missing; give the finding's place (its path, or the request line of a status finding)",
                "known[0].expected: missing; give what the probe expected",
                "known[0].actual: missing; give what came back",
                "known[0].accepted: missing; give the date it was accepted, e.g. accepted = \"2026-12-01\"",
            ],
        ),
        (
            &*format!("[[known]]\n{good}[[known]]\n{good}"),
            vec!["known[1]: the same finding as known[0]; give each finding once"],
        ),
        (
            &*format!("[[known]]\n{}", good.replace("2026-12-01", "2026-02-30")),
            vec![
                "known[0].accepted: \"2026-02-30\" is not a date; give it as YYYY-MM-DD, e.g. \"2026-12-01\"",
            ],
        ),
        (
            &*format!("[[known]]\n{}", good.replace("\"a\"", "\"b\"")),
            vec!["known[0].probe: unknown probe \"b\" (known probes: a)"],
        ),
        (
            "known = 1\n",
            vec!["known: invalid type: integer `1`, expected a sequence"],
        ),
    ];
    for (text, wanted) in cases {
        let errors: Vec<String> = parse(text, &["a"])
            .expect_err("refused")
            .into_iter()
            .map(|e| format!("{}: {}", e.key, e.message))
            .collect();
        assert_eq!(errors, wanted, "{text}");
    }
}

#[test]
fn accepting_replaces_the_selected_probes_entries_and_keeps_the_rest() {
    let mut old = vec![
        entry("q", "a", "1", "2"),
        entry("q", "gone", "1", "2"),
        entry("other", "x", "1", "2"),
    ];
    old[0].note = Some("kept with its note".into());
    old[0].accepted = "2026-01-01".into();
    let contract = Some(FailureClass::Contract);
    let runs = [
        run(
            "q",
            Verdict::Fail,
            contract,
            vec![finding("a", "1", "2"), finding("new", "1", "2")],
        ),
        run(
            "p",
            Verdict::Fail,
            Some(FailureClass::ServerError),
            vec![finding("a", "1", "2")],
        ),
    ];
    let merged = merge(&old, &runs, "2026-12-06");
    let checks = |list: &[KnownEntry]| {
        list.iter()
            .map(|e| format!("{}:{}", e.probe, e.check))
            .collect::<Vec<_>>()
    };
    assert_eq!(checks(&merged.entries), ["q:a", "q:new", "other:x"]);
    assert_eq!(checks(&merged.added), ["q:new"]);
    assert_eq!(checks(&merged.kept), ["q:a", "other:x"]);
    assert_eq!(checks(&merged.removed), ["q:gone"]);
    assert_eq!(merged.entries[0], old[0]);
    assert_eq!(merged.entries[1].accepted, "2026-12-06");
    assert_eq!(
        merged.skipped,
        vec![("p".to_string(), Some(FailureClass::ServerError))]
    );
    let passed = merge(&old, &[run("q", Verdict::Pass, None, vec![])], "2026-12-06");
    assert_eq!(checks(&passed.entries), ["other:x"]);
}
