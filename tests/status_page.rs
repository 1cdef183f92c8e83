//! The status page served by a real `oewsprobe run` with real history (the simulator behind a real Caddy, a
//! release the watch decided on): every route, its content type and figures, the weak ETag that answers 304,
//! hostile text escaped, unknown names and windows refused, a page answered while the daemon's writes wait for
//! the store; and `report --html` writes the same pages as one self-contained file.

mod support;

use std::time::Duration;
use support::page_daemon::{HOSTILE_BODY, PageDaemon, ROLLBACK_TO, VERSION, header};

/// The escaped form of the hostile body, as a page must show it.
const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

#[test]
fn every_route_answers_from_the_daemons_history() {
    let daemon = PageDaemon::start();
    let html = |path: &str| {
        let (status, headers, body) = daemon.get(path, &[]);
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(
            header(&headers, "content-type"),
            Some("text/html; charset=utf-8"),
            "{path}"
        );
        assert_eq!(
            header(&headers, "cache-control"),
            Some("no-cache"),
            "{path}"
        );
        assert!(
            header(&headers, "etag").is_some_and(|t| t.starts_with("W/\"")),
            "{path}"
        );
        assert!(!body.contains("<script"), "{path}: a script tag");
        assert!(!body.contains("src="), "{path}: an external asset");
        body
    };
    // Overview: both probes, their strips, the failing one's finding, the cards.
    let overview = html("/");
    assert!(overview.contains("<a href=\"/probe/health\">health</a>"));
    assert!(overview.contains("<a href=\"/probe/hostile\">hostile</a>"));
    assert!(overview.contains(ESCAPED), "the hostile finding, escaped");
    assert!(overview.contains("release under watch<b>main-bbb</b>"));
    assert_eq!(overview.matches("<svg class=\"strip\"").count(), 2);
    // The scheduled burst: its verdicts, each of its latest bursts' own percentile curve and their table,
    // its latest runs.
    assert!(overview.contains("<section class=\"burst\"><h3>health-burst</h3>"));
    assert!(overview.contains("<svg class=\"percentiles\""));
    let curves = overview.matches("<g class=\"burst ").count();
    assert!((1..=5).contains(&curves), "{curves} burst curves");
    assert!(overview.contains(&format!(
        "<title>health-burst: latency by percentile of each of the {curves} latest bursts</title>"
    )));
    assert!(overview.contains(&format!(
        "<caption>latency by percentile, each of the {curves} latest bursts</caption><thead><tr><th>burst</th>\
<th>verdict</th><th>p50</th><th>p75</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>p100</th></tr></thead>"
    )));
    assert!(!overview.contains("slowest request per burst"));
    // A probe's page: the latency chart with the objective, recent runs with timings, the definition.
    let health = html("/probe/health");
    assert!(health.contains("<svg class=\"latency\""));
    assert!(health.contains("<line class=\"objective\""));
    assert!(
        health
            .contains("<th>dns</th><th>connect</th><th>tls</th><th>first_byte</th><th>total</th>")
    );
    assert!(health.contains("<tr><th>request</th><td>GET /api/v1/health</td></tr><tr><th>description</th><td>the API answers</td></tr>"));
    assert!(
        health.contains("GET /api/v1/health: expected 200, got 503"),
        "the fault's failures are listed"
    );
    assert!(
        health.contains("<h2>Its bursts</h2><section class=\"burst\"><h3>health-burst</h3>"),
        "a probe's page shows its scheduled bursts"
    );
    let hostile = html("/probe/hostile");
    assert!(hostile.contains("<td>fail (invalid_body)</td><td>502</td>"));
    assert!(
        !hostile.contains("<h2>Its bursts</h2>"),
        "no burst, no section"
    );
    assert!(
        hostile.contains("<th>classes</th>") && hostile.contains("</td><td>invalid_body "),
        "the chart's numbers name each bar's classes"
    );
    assert!(hostile.contains("actual: invalid JSON"));
    assert!(hostile.contains(ESCAPED));
    // SLOs: both objectives, the tier, a burn-down of 30 points.
    let slo = html("/slo");
    assert!(slo.contains("<h2>health</h2>") && slo.contains("<h2>health-latency</h2>"));
    assert_eq!(slo.matches("<svg class=\"burn-down\"").count(), 2);
    // Release: the version, the decision with its evidence, before and after.
    let release = html("/release");
    assert!(release.contains(&format!("<h1>Release {VERSION}</h1>")));
    assert!(release.contains(&format!("rollback target {ROLLBACK_TO}")));
    assert!(release.contains("<b>would_rollback</b>"));
    assert!(release.contains("<summary>evidence</summary>"));
    assert!(release.contains("<circle class=\"decision\""));
    assert!(release.contains("<td>health</td>"));

    // The JSON API: the same model, the hostile body as a JSON string.
    let (status, headers, body) = daemon.get("/api/v1/status", &[]);
    assert_eq!(
        (status, header(&headers, "content-type")),
        (200, Some("application/json"))
    );
    let page: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(page["summary"]["probes"], 2);
    assert_eq!(page["summary"]["release_under_watch"], VERSION);
    assert_eq!(page["window_ms"], 86_400_000);
    let probes = page["probes"].as_array().expect("probes");
    let names: Vec<&str> = probes
        .iter()
        .filter_map(|p| p["info"]["name"].as_str())
        .collect();
    assert_eq!(names, ["health", "hostile"]);
    assert_eq!(probes[1]["state"], "fail");
    let finding = probes[1]["last_findings"][0].as_str().expect("finding");
    assert!(finding.ends_with(HOSTILE_BODY), "{finding}");
    assert_eq!(probes[0]["uptime"][0]["span"], "24h");
    // Each bar says why its runs did not pass: every failure of the hostile probe is invalid_body.
    let sum = |key: &str| -> u64 {
        probes[1]["bars"]
            .as_array()
            .expect("bars")
            .iter()
            .map(|b| b[key].as_u64().unwrap_or(0))
            .sum()
    };
    let invalid: u64 = probes[1]["bars"]
        .as_array()
        .expect("bars")
        .iter()
        .map(|b| b["classes"]["invalid_body"].as_u64().unwrap_or(0))
        .sum();
    assert!(sum("fail") > 0, "{}", probes[1]["bars"]);
    assert_eq!((invalid, sum("unclassified")), (sum("fail"), 0));
    assert!(
        overview.contains(" failed; invalid_body "),
        "a bar's tooltip names the class"
    );
    assert!(page["release"]["decisions"][0]["outcome"].is_string());
    assert_eq!(page["bursts"][0]["name"], "health-burst");
    // Each of the latest bursts' distribution: 7 percentiles, p50 ≤ … ≤ p100, of a burst of 3 requests.
    let latest = page["bursts"][0]["latest"].as_array().expect("latest");
    assert!((1..=5).contains(&latest.len()), "{}", page["bursts"]);
    for burst in latest {
        let ms: Vec<f64> = burst["percentiles_ms"]
            .as_array()
            .expect("percentiles")
            .iter()
            .filter_map(|p| p[1].as_f64())
            .collect();
        assert_eq!(ms.len(), 7, "{burst}");
        assert!(
            ms.windows(2).all(|w| w[0] <= w[1]) && ms[0] > 0.0,
            "{burst}"
        );
        assert_eq!(burst["percentiles_ms"][5][0], 0.999, "{burst}");
    }
    assert!(
        page["bursts"][0]["passed"].as_u64().unwrap_or(0) >= 1,
        "{}",
        page["bursts"]
    );
    let (status, _, body) = daemon.get("/api/v1/probes/health?window=1h", &[]);
    assert_eq!(status, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let bars = health["bars"].as_array().expect("bars");
    assert!((30..=31).contains(&bars.len()), "{}", bars.len());
    assert!(
        bars.iter().any(|b| b["p95_ms"].is_number()),
        "latency per bar"
    );

    // Badges.
    let (status, headers, badge) = daemon.get("/badge/hostile.svg", &[]);
    assert_eq!(
        (status, header(&headers, "content-type")),
        (200, Some("image/svg+xml"))
    );
    assert!(badge.contains("<title>hostile: fail</title>"), "{badge}");
    let (status, _, badge) = daemon.get("/badge/health/uptime/24h.svg", &[]);
    assert_eq!(status, 200);
    assert!(badge.contains("<title>uptime 24h: "), "{badge}");

    // Refusals: an unknown probe, span or window.
    let (status, _, body) = daemon.get("/probe/nope", &[]);
    assert_eq!(
        (status, body.as_str()),
        (404, "no probe named \"nope\" in the config\n")
    );
    let (status, _, body) = daemon.get("/badge/health/uptime/1h.svg", &[]);
    assert_eq!(
        (status, body.as_str()),
        (404, "no uptime span \"1h\" (24h, 7d or 30d)\n")
    );
    let (status, _, body) = daemon.get("/slo?window=forever", &[]);
    assert_eq!(status, 400, "{body}");
    assert!(body.starts_with("window=forever: "), "{body}");
    // /metrics and /healthz are still there.
    assert_eq!(daemon.get("/healthz", &[]).0, 200);

    // A reload's new probe is on the pages.
    std::fs::write(
        daemon.dir.path().join("probes/models.toml"),
        "schedule = \"* * * * * *\"\n[request]\npath = \"/api/v1/models\"\n[expect]\nstatus = 200\n",
    )
    .expect("probe");
    daemon.signal("HUP");
    support::release::wait_for("the new probe on the page", Duration::from_secs(15), || {
        daemon.get("/probe/models", &[]).0 == 200
    });
    let (_, _, overview) = daemon.get("/", &[]);
    assert!(overview.contains("<a href=\"/probe/models\">models</a>"));
}

#[test]
fn a_dashboard_polling_with_the_etag_gets_304_without_a_body() {
    let daemon = PageDaemon::start();
    // A run lands every second and changes the tag: ask right after, a few times.
    let mut answered = Vec::new();
    for _ in 0..20 {
        let (_, headers, _) = daemon.get("/api/v1/status", &[]);
        let tag = header(&headers, "etag").expect("etag").to_string();
        let (status, headers, body) = daemon.get("/api/v1/status", &[("If-None-Match", &tag)]);
        answered.push(status);
        if status == 304 {
            assert_eq!(body, "");
            assert_eq!(header(&headers, "etag"), Some(tag.as_str()));
            assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
            break;
        }
        assert_eq!(status, 200, "a changed page is sent whole");
    }
    assert_eq!(answered.last(), Some(&304), "never 304: {answered:?}");
    // Another page's tag does not match this one.
    let (_, headers, _) = daemon.get("/badge/health.svg", &[]);
    let tag = header(&headers, "etag").expect("etag").to_string();
    assert_eq!(daemon.get("/slo", &[("If-None-Match", &tag)]).0, 200);
}

#[test]
fn report_html_writes_every_page_as_one_self_contained_file() {
    let daemon = PageDaemon::start();
    let file = daemon.dir.path().join("report.html");
    let out = daemon.oewsprobe(&[
        "report",
        "--html",
        file.to_str().expect("path"),
        "--window",
        "1h",
    ]);
    let html = std::fs::read_to_string(&file).expect("report");
    assert_eq!(
        out,
        format!(
            "oewsprobe report: wrote {} ({} bytes, 2 probes)\n",
            file.display(),
            html.len()
        )
    );
    for section in [
        "overview",
        "probe-health",
        "probe-hostile",
        "slo",
        "release",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{section}\">")),
            "{section}"
        );
    }
    assert!(html.contains("<a href=\"#probe-hostile\">hostile</a>"));
    assert!(html.contains(ESCAPED));
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href=\"http"));
    assert!(
        !html.contains("http-equiv=\"refresh\""),
        "a file does not reload itself"
    );
    assert!(html.contains("<b>would_rollback</b>"));
    // Bad input: exit 2 with what and where.
    let out = std::process::Command::new(support::process::BIN)
        .args(["report", "--html", "/nonexistent-dir/r.html", "--config"])
        .arg(daemon.config())
        .output()
        .expect("report");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("oewsprobe report: --html /nonexistent-dir/r.html: "),
        "{err}"
    );
}

/// The pages read through a connection of their own: while another process holds the store's write lock, `run`'s
/// writer waits for it (up to SQLite's 5 s busy timeout, holding the daemon's store), and a page asked for in
/// the meantime is still answered at once from what is committed. Were the pages read through the daemon's
/// store, this one would wait until the writer gave up, more than 2 s after it was asked for.
#[test]
fn a_page_is_answered_while_the_daemons_writes_wait_for_the_store() {
    let daemon = PageDaemon::start();
    let other = rusqlite::Connection::open(daemon.store()).expect("open the store");
    other
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    // A run lands every second: by now the writer waits for the lock.
    std::thread::sleep(Duration::from_millis(2500));
    let asked = std::time::Instant::now();
    let (status, _, body) = daemon.get("/", &[]);
    let waited = asked.elapsed();
    other
        .execute_batch("ROLLBACK")
        .expect("release the write lock");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("health"), "{body}");
    assert!(
        waited < Duration::from_secs(2),
        "the page waited {waited:?} for the daemon's writes"
    );
}
