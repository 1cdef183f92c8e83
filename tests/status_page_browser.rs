//! The status page in a real headless Chromium (Debian's `chromium`, driven through `chromedriver`) against a
//! real daemon with real history: every page loads with its charts (the SVG elements and points the data
//! calls for), the failing probe's finding, the release timeline with the watch's decision; hostile text
//! (a 502 body that is a script, a silence reason that is markup) is shown as text and never runs; the
//! console stays clean; no request leaves loopback (the pages ask only the daemon; what the browser tries on
//! its own reaches a loopback recorder standing in as its proxy); and a screenshot of each page is kept.

mod support;

use serde_json::Value;
use support::page_daemon::{HOSTILE_BODY, PageDaemon};
use support::webdriver::{Browser, Recorder};

/// A silence reason that would run script if it were markup.
const MARKUP_REASON: &str = "<img src=x onerror=alert(2)>";

/// Where the screenshots go (printed by the test).
fn screenshots() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// What every page must show: no script element, no open alert, no console error, every resource loaded
/// from the daemon; then its screenshot.
async fn check_page(browser: &Browser, base: &str, path: &str, shot: &str) -> String {
    browser.goto(&format!("{base}{path}")).await;
    assert_eq!(browser.alert().await, None, "{path}: an alert is open");
    let scripts = browser.run("return document.scripts.length;").await;
    assert_eq!(scripts, 0, "{path}: a script element made it into the page");
    let urls = browser
        .run("return [location.href].concat(performance.getEntriesByType('resource').map(e => e.name));")
        .await;
    for url in urls.as_array().expect("urls") {
        let url = url.as_str().unwrap_or_default();
        assert!(
            url.starts_with(&format!("{base}/")),
            "{path}: {url} is not the daemon's"
        );
    }
    let errors: Vec<Value> = browser
        .log("browser")
        .await
        .into_iter()
        .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
        .collect();
    assert!(errors.is_empty(), "{path}: console: {errors:?}");
    let file = screenshots().join(format!("{shot}.png"));
    browser.screenshot(&file).await;
    println!("screenshot of {path}: {}", file.display());
    browser
        .run("return document.body.innerText;")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Every network request the performance log saw: their URLs.
async fn requested(browser: &Browser) -> Vec<String> {
    browser
        .log("performance")
        .await
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e["message"].as_str()?).ok())
        .filter(|m| m["message"]["method"] == "Network.requestWillBeSent")
        .filter_map(|m| {
            m["message"]["params"]["request"]["url"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pages_in_a_real_browser_show_the_history_and_run_nothing_they_were_sent() {
    let daemon = tokio::task::spawn_blocking(PageDaemon::start)
        .await
        .expect("daemon");
    daemon.oewsprobe(&[
        "silence",
        "add",
        "--probe",
        "hostile",
        "--for",
        "1h",
        "--reason",
        MARKUP_REASON,
    ]);
    let recorder = Recorder::start();
    let browser = Browser::start(recorder.port).await;
    let base = format!("http://{}", daemon.addr);

    // Overview: two strips of as many bars as their titles say, the hostile finding and the silence as text.
    let text = check_page(&browser, &base, "/?window=1h", "overview").await;
    let strips = browser
        .run("return [...document.querySelectorAll('svg.strip')].map(s => [s.querySelectorAll('rect').length, s.querySelector('title').textContent]);")
        .await;
    let strips = strips.as_array().expect("strips");
    assert_eq!(strips.len(), 2, "{strips:?}");
    for strip in strips {
        let rects = strip[0].as_u64().expect("rects");
        assert!((30..=31).contains(&rects), "{strip}");
        assert!(
            strip[1]
                .as_str()
                .unwrap_or_default()
                .contains(&format!(": {rects} bars, ")),
            "{strip}"
        );
    }
    assert!(text.contains(HOSTILE_BODY), "the 502 body is shown as text");
    assert!(
        text.contains("hostile until ") && text.contains(MARKUP_REASON),
        "the silence reason as text"
    );
    assert_eq!(
        browser
            .run("return document.querySelectorAll('img').length;")
            .await,
        0
    );
    assert!(text.contains("silenced"));
    // The burst: a curve per latest burst, a point per percentile on each, a row per curve in its table.
    let bursts = browser
        .run("const s = document.querySelector('section.burst');
              return {curves: [...s.querySelectorAll('svg.percentiles g.burst')].map(g =>
                        [g.querySelector('polyline').getAttribute('points').trim().split(' ').filter(p => p).length,
                         g.querySelectorAll('circle').length]),
                      rows: [...s.querySelectorAll('table.burst-percentiles tbody tr')].map(r => r.cells.length)};")
        .await;
    let curves = bursts["curves"].as_array().expect("curves");
    assert!((1..=5).contains(&curves.len()), "{bursts}");
    for curve in curves {
        assert_eq!(curve, &serde_json::json!([7, 7]), "{bursts}");
    }
    assert_eq!(
        bursts["rows"],
        serde_json::json!(vec![9; curves.len()]),
        "{bursts}"
    );

    // A probe's page: a point per bar with runs on each line, a mark per bar with failures.
    check_page(&browser, &base, "/probe/health?window=1h", "probe-health").await;
    let chart = browser
        .run("const c = document.querySelector('svg.latency');
              const points = n => c.querySelector('polyline.' + n).getAttribute('points').trim().split(' ').filter(p => p).length;
              const rows = [...document.querySelectorAll('svg.latency ~ details table tbody tr')];
              return {p50: points('p50'), p95: points('p95'), p99: points('p99'),
                      withRuns: rows.filter(r => r.cells[5].textContent !== '-').length,
                      failures: c.querySelectorAll('circle.failure').length,
                      failedRows: rows.filter(r => r.cells[2].textContent !== '0').length,
                      objective: c.querySelectorAll('line.objective').length};")
        .await;
    assert!(chart["withRuns"].as_u64().unwrap_or(0) >= 1, "{chart}");
    for line in ["p50", "p95", "p99"] {
        assert_eq!(chart[line], chart["withRuns"], "{line}: {chart}");
    }
    assert!(
        chart["failures"].as_u64().unwrap_or(0) >= 1,
        "the fault's failures: {chart}"
    );
    assert_eq!(chart["failures"], chart["failedRows"], "{chart}");
    assert_eq!(chart["objective"], 1);
    let text = check_page(&browser, &base, "/probe/hostile", "probe-hostile").await;
    assert!(text.contains("invalid JSON") && text.contains(HOSTILE_BODY));
    // Each bar with failures names their class, and only such bars do.
    let classes = browser
        .run(
            "return [...document.querySelectorAll('svg.latency ~ details table tbody tr')]
                .map(r => [r.cells[2].textContent, r.cells[4].textContent]);",
        )
        .await;
    let classes = classes.as_array().expect("rows");
    assert!(classes.iter().any(|r| r[0] != "0"), "{classes:?}");
    for row in classes {
        let expected = match row[0].as_str() {
            Some("0") => "-".to_string(),
            failed => format!("invalid_body {}", failed.unwrap_or_default()),
        };
        assert_eq!(row[1], expected.as_str(), "{classes:?}");
    }

    // SLOs: a burn-down per objective, a point per instant with runs.
    check_page(&browser, &base, "/slo", "slo").await;
    let burn = browser
        .run("return [...document.querySelectorAll('section.objective')].map(s => [
                s.querySelector('svg.burn-down polyline').getAttribute('points').trim().split(' ').filter(p => p).length,
                [...s.querySelectorAll('details table tr')].filter(r => r.cells[1].textContent !== '-').length]);")
        .await;
    let burn = burn.as_array().expect("objectives");
    assert_eq!(burn.len(), 2, "{burn:?}");
    for objective in burn {
        assert_eq!(objective[0], objective[1], "{objective}");
        assert!(objective[0].as_u64().unwrap_or(0) >= 1, "{objective}");
    }

    // Release: the timeline with the release marker and a mark per recorded decision.
    let text = check_page(&browser, &base, "/release", "release").await;
    let timeline = browser
        .run("const t = document.querySelector('svg.timeline');
              return {release: t.querySelectorAll('line.release').length, decisions: t.querySelectorAll('circle.decision').length,
                      rows: document.querySelectorAll('tr.decision').length, warmup: t.querySelectorAll('rect.warmup').length};")
        .await;
    assert_eq!(timeline["release"], 1);
    assert_eq!(timeline["warmup"], 1);
    assert!(timeline["rows"].as_u64().unwrap_or(0) >= 1, "{timeline}");
    assert_eq!(timeline["decisions"], timeline["rows"], "{timeline}");
    assert!(text.contains("would_rollback"));

    // Nothing left loopback: every request the browser made went to the daemon, none to the proxy.
    let urls = requested(&browser).await;
    // (The browser's own pages, `chrome://…`, are read from the browser itself, not the network.)
    let network: Vec<&String> = urls
        .iter()
        .filter(|u| {
            ["http:", "https:", "ws:", "wss:", "ftp:"]
                .iter()
                .any(|s| u.starts_with(s))
        })
        .collect();
    assert!(
        !network.is_empty(),
        "the performance log saw no request: {urls:?}"
    );
    for url in network {
        assert!(
            url.starts_with(&format!("{base}/")),
            "{url} is not the daemon's"
        );
    }
    browser.quit().await;
    // What else the browser tried reached the loopback recorder (its proxy), never the network: its own
    // services calling home (updates, sign-in, the default search engine), none asked for by a page.
    let attempts = recorder.seen();
    println!("caught by the recorder: {attempts:?}");
    for attempt in &attempts {
        let host = attempt
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .trim_start_matches("http://")
            .split(['/', ':'])
            .next()
            .unwrap_or_default();
        assert!(
            BROWSER_SERVICES
                .iter()
                .any(|s| host == *s || host.ends_with(&format!(".{s}"))),
            "{attempt}: not one of the browser's own services"
        );
    }
}

/// The domains Chromium calls home to on its own (Debian's default search engine among them).
const BROWSER_SERVICES: [&str; 4] = [
    "google.com",
    "googleapis.com",
    "gstatic.com",
    "duckduckgo.com",
];
