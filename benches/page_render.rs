//! Status-page bench (run by `benches/page.sh`): the server-side time and the bytes of each page over a
//! store — reading the page's facts through `happened` (the rollups), building the model, rendering the HTML —
//! as the daemon serves them, against the goals of under 100 ms and under 300 KB a page.
//!
//! ```text
//! page_render STORE [--now-ms T] [--runs N]     every page over the store's probes (median of N, default 11)
//! page_render                                   (as `cargo test` runs it) the same over a small store it writes
//! ```
//!
//! The config is the store's probes with one availability objective over all of them (30-day period,
//! default tiers) and a release started 2 h before `now` with a decision, so every page has its content.

use oewsprobe::page::html::Links;
use oewsprobe::page::{PageConfig, ProbeInfo, pages};
use oewsprobe::probe::{ProbeRecord, RequestLine, Timings, Verdict};
use oewsprobe::slo::{Objective, RawObjective};
use oewsprobe::store::Store;
use std::path::Path;
use std::time::{Duration, Instant};

const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 86_400_000;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let result = match args.first() {
        Some(store) => {
            let flag = |name: &str| {
                args.iter()
                    .position(|a| a == name)
                    .and_then(|i| args.get(i + 1))
                    .map(|v| v.parse::<u64>().map_err(|e| format!("{name} {v}: {e}")))
                    .transpose()
            };
            match (flag("--now-ms"), flag("--runs")) {
                (Ok(now), Ok(runs)) => bench(Path::new(store), now, runs.unwrap_or(11) as usize),
                (Err(e), _) | (_, Err(e)) => Err(e),
            }
        }
        None => smoke(),
    };
    if let Err(e) = result {
        eprintln!("page_render: {e}");
        std::process::exit(2);
    }
}

/// One page: its name, the window, the probes whose bars carry latency, and how it is rendered.
struct Bench<'a> {
    name: String,
    window_ms: u64,
    detail: Vec<String>,
    render: Box<dyn Fn(&oewsprobe::page::Page) -> String + 'a>,
}

fn bench(path: &Path, now: Option<u64>, runs: usize) -> Result<(), String> {
    let store = Store::open(path).map_err(|e| e.to_string())?;
    let probes = store.probes_with_runs().map_err(|e| e.to_string())?;
    let first = probes.first().cloned().ok_or("the store holds no run")?;
    let now = match now {
        Some(now) => now,
        None => newest(path)?,
    };
    let config = PageConfig {
        infos: probes
            .iter()
            .map(|name| ProbeInfo {
                name: name.clone(),
                request: "GET /api/v1/health".into(),
                ..ProbeInfo::default()
            })
            .collect(),
        probes: probes.clone(),
        bursts: Vec::new(),
        objectives: vec![availability(&probes)?],
        watch: oewsprobe::release::WatchSettings::default(),
        recovery: std::time::Duration::from_secs(600),
        queries_per_hour: 10_000,
    };
    let probe_page = |name: String| {
        move |page: &oewsprobe::page::Page| {
            let p = page.probes.iter().find(|p| p.info.name == name);
            p.map(|p| pages::probe(page, p, Links::Served, true))
                .unwrap_or_default()
        }
    };
    let pages: Vec<Bench> = vec![
        Bench {
            name: "overview, 24 h".into(),
            window_ms: DAY_MS,
            detail: vec![],
            render: Box::new(|p| pages::overview(p, Links::Served, true)),
        },
        Bench {
            name: "overview, 30 d".into(),
            window_ms: 30 * DAY_MS,
            detail: vec![],
            render: Box::new(|p| pages::overview(p, Links::Served, true)),
        },
        Bench {
            name: format!("probe {first}, 24 h"),
            window_ms: DAY_MS,
            detail: vec![first.clone()],
            render: Box::new(probe_page(first.clone())),
        },
        Bench {
            name: format!("probe {first}, 30 d"),
            window_ms: 30 * DAY_MS,
            detail: vec![first.clone()],
            render: Box::new(probe_page(first.clone())),
        },
        Bench {
            name: "slo".into(),
            window_ms: DAY_MS,
            detail: vec![],
            render: Box::new(|p| pages::slo(p, Links::Served, true)),
        },
        Bench {
            name: "release".into(),
            window_ms: DAY_MS,
            detail: vec![],
            render: Box::new(|p| pages::release(p, Links::Served, true)),
        },
        Bench {
            name: "api/v1/status".into(),
            window_ms: DAY_MS,
            detail: vec![],
            render: Box::new(|p| serde_json::to_string(p).unwrap_or_default()),
        },
    ];
    println!(
        "page render over {} ({} probes, now {}): median of {runs}, goal < 100 ms and < 300 KB",
        path.display(),
        probes.len(),
        oewsprobe::page::html::at_text(now)
    );
    let mut worst = (0.0_f64, 0_usize);
    for page in &pages {
        let mut read = Vec::new();
        let mut total = Vec::new();
        let mut bytes = 0;
        let mut gzipped = 0;
        let mut gzip = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            let facts = oewsprobe::happened::page_facts(
                &store,
                &config.query(page.window_ms, &page.detail),
                now,
            )
            .map_err(|e| e.to_string())?;
            read.push(started.elapsed());
            let model = oewsprobe::page::build(&facts, &config.infos);
            let body = (page.render)(&model);
            bytes = body.len();
            total.push(started.elapsed());
            let packing = Instant::now();
            gzipped = oewsprobe::page::encoding::gzip(body.as_bytes()).len();
            gzip.push(packing.elapsed());
        }
        let median = |mut v: Vec<Duration>| {
            v.sort();
            v[v.len() / 2].as_secs_f64() * 1000.0
        };
        let (read, total, gzip) = (median(read), median(total), median(gzip));
        println!(
            "  {:<24} {total:>7.1} ms  (read {read:.1} ms, model and HTML {:.1} ms)  {:>7.1} KB  (gzip: {:>5.1} KB in {gzip:.1} ms)",
            page.name,
            total - read,
            bytes as f64 / 1024.0,
            gzipped as f64 / 1024.0
        );
        worst = (worst.0.max(total), worst.1.max(bytes));
    }
    println!(
        "worst: {:.1} ms ({}), {:.1} KB ({})",
        worst.0,
        if worst.0 < 100.0 {
            "under 100 ms"
        } else {
            "OVER 100 ms"
        },
        worst.1 as f64 / 1024.0,
        if worst.1 < 300 * 1024 {
            "under 300 KB"
        } else {
            "OVER 300 KB"
        }
    );
    Ok(())
}

/// `[[slo]] name = "availability"`, `target = 0.99` over `probes`, compiled as the config compiles it (the
/// default 30-day period and tiers).
fn availability(probes: &[String]) -> Result<Objective, String> {
    let raw = RawObjective {
        name: Some("availability".into()),
        probes: Some(probes.to_vec()),
        target: Some(0.99),
        ..RawObjective::default()
    };
    let known: Vec<&str> = probes.iter().map(String::as_str).collect();
    oewsprobe::slo::compile(&raw, &known).map_err(|errors| format!("{errors:?}"))
}

/// A small store (3 probes, one run a minute for 2 days) with a release, benched once.
fn smoke() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("smoke.sqlite");
    let store = Store::open(&path).map_err(|e| e.to_string())?;
    let now = 40 * 365 * DAY_MS;
    let mut runs = Vec::new();
    for minute in 0..2 * 24 * 60 {
        for (i, probe) in ["a", "b", "c"].iter().enumerate() {
            let at = now - 2 * DAY_MS + minute * 60_000;
            let fail = (minute + i as u64) % 97 == 0;
            runs.push(record(probe, at, fail));
        }
    }
    store.insert_records(&runs).map_err(|e| e.to_string())?;
    let release = store
        .start_release("v2", "v1", now - 2 * HOUR_MS, now + 22 * HOUR_MS)
        .map_err(|e| e.to_string())?;
    store
        .record_decision(
            release.id,
            now - HOUR_MS,
            "hold",
            "no breach",
            &serde_json::json!({}),
        )
        .map_err(|e| e.to_string())?;
    drop(store);
    bench(&path, Some(now), 1)
}

fn record(probe: &str, at_ms: u64, fail: bool) -> ProbeRecord {
    ProbeRecord {
        location: String::new(),
        latency_percentiles: None,
        probe: probe.into(),
        target: "http://127.0.0.1:8000".into(),
        request: Some(RequestLine {
            method: "GET".into(),
            url: "http://127.0.0.1:8000/api/v1/health".into(),
        }),
        scheduled_at_ms: at_ms,
        verdict: if fail { Verdict::Fail } else { Verdict::Pass },
        class: None,
        status: Some(if fail { 500 } else { 200 }),
        latency: Duration::from_millis(20 + at_ms % 7),
        timings: Timings::default(),
        body_bytes: 10,
        queries: 0,
        findings: Vec::new(),
        retry_after: None,
        known_drift: Vec::new(),
        tls: None,
    }
}

/// The newest run's scheduled instant, read with SQLite directly (the bench's own business).
fn newest(path: &Path) -> Result<u64, String> {
    let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
    let newest: Option<i64> = conn
        .query_row("SELECT MAX(scheduled_at_ms) FROM records", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    newest
        .map(|ms| ms as u64)
        .ok_or_else(|| "the store holds no run".to_string())
}
