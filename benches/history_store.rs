//! History bench helper (run by `benches/history.sh`): makes large histories — JSON Lines for `oewsprobe
//! store import`, or a store written through the library's own write path with the daemon's pruning — and
//! times one SLO evaluation from the rollups (and, for reference, from raw runs).
//!
//! ```text
//! history_store jsonl (--probes N | --schedules DIR) --days D --end-ms T       JSON Lines on stdout
//! history_store build STORE --probes N --days D --end-ms T [--locations L]   through Store::insert_records
//! history_store eval STORE [--raw] [--now-ms T]                               one 30-day SLO evaluation
//! history_store                                                               (as `cargo test` runs it) both on
//!                                                                             a small temporary store
//! ```
//!
//! Runs are deterministic (a fixed-seed xorshift): ~98.8 % pass at a per-probe latency, 0.5 % fail with a
//! finding, 0.7 % throttled (inconclusive).

use oewsprobe::history::Retention;
use oewsprobe::probe::{FailureClass, Finding, ProbeRecord, RequestLine, Timings, Verdict};
use oewsprobe::schedule::CronSchedule;
use oewsprobe::slo::{Objective, Sli};
use oewsprobe::store::{BATCH, Pruning, Store};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 86_400_000;
const TARGET: &str = "http://127.0.0.1:8000";

fn main() {
    // `cargo bench` appends `--bench`.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let result = match args.first().map(String::as_str) {
        Some("jsonl") => jsonl(&Flags::of(&args[1..])),
        Some("build") => build(&Flags::of(&args[1..])),
        Some("eval") => eval(&Flags::of(&args[1..])),
        // As `cargo test` runs it: the whole path on a small store.
        None => smoke(),
        _ => Err("usage: history_store jsonl|build|eval ... (see the file's header)".to_string()),
    };
    if let Err(e) = result {
        eprintln!("history_store: {e}");
        std::process::exit(2);
    }
}

/// `--name value` pairs, a bare `--raw`, and one positional argument (the store).
#[derive(Debug, Default)]
struct Flags {
    values: HashMap<String, String>,
    positional: Option<String>,
}

impl Flags {
    fn of(args: &[String]) -> Flags {
        let mut flags = Flags::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.strip_prefix("--") {
                Some("raw") => {
                    flags.values.insert("raw".into(), "1".into());
                }
                Some(name) => {
                    let value = it.next().cloned().unwrap_or_default();
                    flags.values.insert(name.into(), value);
                }
                None => flags.positional = Some(arg.clone()),
            }
        }
        flags
    }

    fn number(&self, name: &str) -> Result<u64, String> {
        let text = self
            .values
            .get(name)
            .ok_or(format!("--{name} is required"))?;
        text.parse().map_err(|e| format!("--{name} {text}: {e}"))
    }

    fn store(&self) -> Result<PathBuf, String> {
        self.positional
            .clone()
            .map(PathBuf::from)
            .ok_or("the store's path is required".to_string())
    }
}

/// Deterministic random numbers.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// When each probe runs: every minute, or the cron schedules of a probes directory.
enum Schedules {
    EveryMinute(Vec<String>),
    Cron(Vec<(String, CronSchedule)>),
}

impl Schedules {
    fn of(flags: &Flags) -> Result<Schedules, String> {
        if let Some(dir) = flags.values.get("schedules") {
            let plan = oewsprobe::config::load(&oewsprobe::config::Sources {
                config: None,
                probes_dir: Some(PathBuf::from(dir)),
                target: Some(TARGET.into()),
            })
            .map_err(|e| e.to_string())?;
            return Ok(Schedules::Cron(
                plan.probes
                    .iter()
                    .filter_map(|p| Some((p.name.clone(), p.schedule.clone()?)))
                    .collect(),
            ));
        }
        let n = flags.number("probes")?;
        Ok(Schedules::EveryMinute(
            (0..n).map(|i| format!("p{i:03}")).collect(),
        ))
    }

    /// The runs scheduled in `[from_ms, to_ms)`, in time order within each probe.
    fn runs(&self, from_ms: u64, to_ms: u64, rng: &mut Rng) -> Vec<ProbeRecord> {
        let mut out = Vec::new();
        match self {
            Schedules::EveryMinute(names) => {
                for (i, name) in names.iter().enumerate() {
                    let mut at = from_ms.div_ceil(MINUTE_MS) * MINUTE_MS;
                    while at < to_ms {
                        out.push(run(name, i, at, rng));
                        at += MINUTE_MS;
                    }
                }
            }
            Schedules::Cron(probes) => {
                for (i, (name, schedule)) in probes.iter().enumerate() {
                    let mut at = from_ms.saturating_sub(1);
                    while let Some(next) = schedule.next_after(at).filter(|&n| n < to_ms) {
                        out.push(run(name, i, next, rng));
                        at = next;
                    }
                }
            }
        }
        out
    }
}

/// One run of probe number `i` scheduled at `at_ms`.
fn run(name: &str, i: usize, at_ms: u64, rng: &mut Rng) -> ProbeRecord {
    let base_ms = 40.0 + (i as f64 * 37.0) % 260.0;
    let mut latency_ms = base_ms * (0.7 + 0.6 * rng.unit());
    if rng.unit() < 0.01 {
        latency_ms *= 5.0;
    }
    let roll = rng.unit();
    let (verdict, class, status, findings) = if roll < 0.005 {
        let finding = Finding::of_request(
            "status",
            &format!("GET /api/v1/{name}"),
            "200",
            "500",
            Some("body: {\"detail\":\"Internal Server Error\"}"),
        );
        (
            Verdict::Fail,
            Some(FailureClass::ServerError),
            500,
            vec![finding],
        )
    } else if roll < 0.012 {
        latency_ms = 3.0;
        (
            Verdict::Inconclusive,
            Some(FailureClass::Throttled),
            429,
            vec![],
        )
    } else {
        (Verdict::Pass, None, 200, vec![])
    };
    let latency = Duration::from_micros((latency_ms * 1000.0) as u64);
    ProbeRecord {
        location: String::new(),
        latency_percentiles: None,
        probe: name.to_string(),
        target: TARGET.into(),
        request: Some(RequestLine {
            method: "GET".into(),
            url: format!("{TARGET}/api/v1/{name}"),
        }),
        scheduled_at_ms: at_ms,
        verdict,
        class,
        status: Some(status),
        latency,
        timings: Timings {
            start_delay: Duration::from_micros(200 + (rng.unit() * 1300.0) as u64),
            dns: None,
            connect: Some(Duration::from_micros(300)),
            first_byte: Some(latency.mul_f64(0.9)),
            total: latency,
            tls: None,
        },
        body_bytes: 120,
        queries: 0,
        findings,
        retry_after: (status == 429).then(|| "3600".to_string()),
        known_drift: Vec::new(),
        tls: None,
    }
}

/// `[end − days, end)`, minute-aligned.
fn span(flags: &Flags) -> Result<(u64, u64), String> {
    let end = flags.number("end-ms")? / MINUTE_MS * MINUTE_MS;
    Ok((end.saturating_sub(flags.number("days")? * DAY_MS), end))
}

fn jsonl(flags: &Flags) -> Result<(), String> {
    let schedules = Schedules::of(flags)?;
    let (from, to) = span(flags)?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut day = from;
    while day < to {
        let mut runs = schedules.runs(day, (day + DAY_MS).min(to), &mut rng);
        runs.sort_by_key(|r| r.scheduled_at_ms);
        for record in &runs {
            writeln!(out, "{}", oewsprobe::store::export_line(record))
                .map_err(|e| e.to_string())?;
        }
        day += DAY_MS;
    }
    out.flush().map_err(|e| e.to_string())
}

fn build(flags: &Flags) -> Result<(), String> {
    let path = flags.store()?;
    let schedules = Schedules::of(flags)?;
    let (from, to) = span(flags)?;
    let store = Store::open(&path).map_err(|e| e.to_string())?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();
    let mut written = 0u64;
    // `--locations L`: every run made from L locations (`l0`, `l1`, …), as L agents on one store make them.
    let locations = match flags.values.get("locations") {
        Some(_) => flags.number("locations")?,
        None => 1,
    };
    let mut hour = from;
    while hour < to {
        let next = ((hour / 3_600_000 + 1) * 3_600_000).min(to);
        let mut runs = schedules.runs(hour, next, &mut rng);
        if locations > 1 {
            runs = runs
                .into_iter()
                .flat_map(|r| {
                    (0..locations).map(move |l| ProbeRecord {
                        location: format!("l{l}"),
                        ..r.clone()
                    })
                })
                .collect();
        }
        runs.sort_by_key(|r| r.scheduled_at_ms);
        store.insert_records(&runs).map_err(|e| e.to_string())?;
        written += runs.len() as u64;
        if next % DAY_MS == 0 || next == to {
            prune(&store, next)?;
            eprintln!(
                "history_store: {} of {} days, {written} runs, {:.0} s",
                (next - from) / DAY_MS,
                (to - from) / DAY_MS,
                started.elapsed().as_secs_f64()
            );
        }
        hour = next;
    }
    Ok(())
}

/// The daemon's pruning at `now_ms`, with the default retention (batch by batch, as `run` prunes).
fn prune(store: &Store, now_ms: u64) -> Result<(), String> {
    let mut pruning = Pruning::new(Retention::default().cutoffs(now_ms), BATCH);
    while store.prune_batch(&mut pruning).map_err(|e| e.to_string())? {}
    Ok(())
}

/// Times one evaluation of an availability objective over every probe with a 30-day period and the
/// default tiers, from the rollups (the median of 21) and, with `--raw`, from raw runs (once).
fn eval(flags: &Flags) -> Result<(), String> {
    let path = flags.store()?;
    let store = Store::open(&path).map_err(|e| e.to_string())?;
    let probes = store.probes_with_runs().map_err(|e| e.to_string())?;
    let now = match flags.values.get("now-ms") {
        Some(_) => flags.number("now-ms")?,
        None => newest(&path)?,
    };
    let objective = Objective {
        quorum: oewsprobe::fleet::Quorum::Majority,
        name: "availability".into(),
        probes: probes.clone(),
        sli: Sli::Availability,
        target: 0.99,
        period: oewsprobe::slo::DEFAULT_PERIOD,
        tiers: oewsprobe::slo::default_tiers(),
        min_bad: oewsprobe::slo::DEFAULT_MIN_BAD,
    };
    let objectives = [objective];
    let none = HashMap::new();
    // The rows a window reads depend on where its edges fall in their hours: four instants a quarter of an
    // hour apart, the median of 21 evaluations at each, the worst of the four reported first.
    let mut medians = Vec::new();
    let mut counts = Default::default();
    for quarter in 0..4 {
        let at = now.saturating_sub(quarter * 15 * MINUTE_MS);
        let mut times = Vec::new();
        for _ in 0..21 {
            let started = Instant::now();
            let e = oewsprobe::happened::evaluate_objectives(&store, &objectives, &none, at)
                .map_err(|e| e.to_string())?;
            times.push(started.elapsed());
            if quarter == 0 {
                counts = e.first().map(|e| e.budget.counts).unwrap_or_default();
            }
        }
        times.sort();
        medians.push(times[10].as_secs_f64() * 1000.0);
    }
    let worst = medians.iter().copied().fold(0.0, f64::max);
    let each: Vec<String> = medians.iter().map(|m| format!("{m:.2}")).collect();
    println!(
        "slo evaluation (rollups): {worst:.2} ms, the worst median of 21 at 4 instants a quarter hour apart ({} ms), {} probes, {} conclusive runs in 30 days",
        each.join(", "),
        probes.len(),
        counts.conclusive()
    );
    if flags.values.contains_key("raw") {
        let started = Instant::now();
        let observations: Vec<_> = store
            .records_since(now.saturating_sub(30 * DAY_MS))
            .map_err(|e| e.to_string())?
            .iter()
            .map(|r| r.observation())
            .collect();
        let raw = oewsprobe::slo::evaluate(&objectives[0], &observations, &[], now);
        println!(
            "slo evaluation (raw runs, for reference): {:.0} ms, {} conclusive runs held raw",
            started.elapsed().as_secs_f64() * 1000.0,
            raw.budget.counts.conclusive()
        );
    }
    Ok(())
}

/// Builds a store of 2 probes × 9 days in a temporary folder and evaluates it.
fn smoke() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let store = dir.path().join("smoke.sqlite").display().to_string();
    let end = (40 * 365 * DAY_MS).to_string();
    let args = |list: &[&str]| list.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    build(&Flags::of(&args(&[
        &store, "--probes", "2", "--days", "9", "--end-ms", &end,
    ])))?;
    eval(&Flags::of(&args(&[&store, "--raw"])))
}

/// The newest run's scheduled instant (now in an empty store), read with SQLite directly (the bench's own
/// business).
fn newest(path: &Path) -> Result<u64, String> {
    let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
    let newest = conn
        .query_row("SELECT MAX(scheduled_at_ms) FROM records", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .map_err(|e| e.to_string())?;
    Ok(newest.map_or_else(oewsprobe::monitor::now_ms, |ms| ms as u64))
}
