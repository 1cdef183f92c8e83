//! `oewsprobe burst`: one-shot concurrent load with HDR latency statistics, judged against an SLO.

use crate::cli::{BurstArgs, Format};
use crate::config::{self, Plan, Sources, suggest};
use crate::exit::Exit;
use crate::load::{
    BudgetCheck, HttpChoice, LoadTransport, Progress, Shape, check_budget, run_load,
};
use crate::probe::{Caller, PreparedRequest, ProbeSpec, RequestBody, Verdict};
use crate::report::{BurstReport, burst_json, burst_table, hgrm};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The runbook's Task 19 question.
pub const TASK_19_QUERY: &str = "What are software developer salaries in Seattle?";
/// The probe whose checks judge the default burst request.
pub const DEFAULT_PROBE: &str = "query-trace";
pub const DEFAULT_REQUESTS: u64 = 3;
pub const DEFAULT_MAX_IN_FLIGHT: u64 = 50;
/// `--rate` bounds, requests per second: slower than one request in 1000 s is no load test; faster than
/// 10000 per second is beyond what one process sends.
pub const MIN_RATE: f64 = 0.001;
pub const MAX_RATE: f64 = 10_000.0;

pub async fn run(args: BurstArgs) -> Exit {
    match prepare(&args) {
        Ok((spec, request, shape, telemetry)) => {
            execute(&args, spec, request, shape, telemetry).await
        }
        Err(message) => {
            eprintln!("{message}");
            Exit::CouldNotCheck
        }
    }
}

type Prepared = (
    Arc<ProbeSpec>,
    Arc<PreparedRequest>,
    Shape,
    Option<crate::telemetry::Telemetry>,
);

fn prepare(args: &BurstArgs) -> Result<Prepared, String> {
    let shape = shape(args)?;
    let sources = Sources {
        config: args.config.config.clone(),
        probes_dir: args.config.probes.clone(),
        target: args.target.clone(),
    };
    let mut plan = config::load(&sources).map_err(|e| e.to_string())?;
    let spec = take_probe(&mut plan, args.probe.as_deref())?;
    let mut request = spec.request.clone();
    if args.probe.is_none() {
        let query = args.query.as_deref().unwrap_or(TASK_19_QUERY);
        request.body = Some(RequestBody::Json(
            serde_json::json!({"query": query, "enable_charts": false}),
        ));
    }
    let target = &plan.settings.target;
    match check_budget(
        target,
        spec.queries,
        &shape,
        plan.settings.queries_per_hour,
        args.force,
    ) {
        BudgetCheck::Refused(message) => return Err(message),
        BudgetCheck::Forced => eprintln!("oewsprobe burst: --force: sending past the query budget"),
        BudgetCheck::Allowed => {}
    }
    let request = PreparedRequest::new(&request, target)?;
    let telemetry = super::telemetry::start_one_shot(&plan.settings)
        .map_err(|m| format!("oewsprobe burst: {m}"))?;
    Ok((Arc::new(spec), Arc::new(request), shape, telemetry))
}

/// The arrival model the flags ask for; contradictory or empty ones are errors.
pub fn shape(args: &BurstArgs) -> Result<Shape, String> {
    let positive = |name: &str, n: u64| {
        if n == 0 {
            Err(format!("{name} must be at least 1"))
        } else {
            Ok(n)
        }
    };
    match args.duration {
        None if args.rate.is_some() || args.concurrency.is_some() => Err(
            "--rate and --concurrency need --duration (or use -n N for N requests at once)"
                .to_string(),
        ),
        None => Ok(Shape::Once {
            n: positive("-n", args.requests.unwrap_or(DEFAULT_REQUESTS))?,
        }),
        Some(duration) => match args.rate {
            Some(rate) if !(MIN_RATE..=MAX_RATE).contains(&rate) => Err(format!(
                "--rate {rate:?}: give a rate from {MIN_RATE} to {MAX_RATE} requests per second"
            )),
            Some(rate) => Ok(Shape::Open {
                rate,
                duration,
                max_in_flight: positive(
                    "--max-in-flight",
                    args.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT),
                )?,
            }),
            None => Ok(Shape::Closed {
                concurrency: positive("--concurrency", args.concurrency.unwrap_or(1))?,
                duration,
            }),
        },
    }
}

/// The HTTP version the flags ask for.
fn http_choice(args: &BurstArgs) -> HttpChoice {
    match (args.http1, args.http2) {
        (true, _) => HttpChoice::Http1,
        (_, true) => HttpChoice::Http2,
        _ => HttpChoice::Negotiate,
    }
}

fn take_probe(plan: &mut Plan, name: Option<&str>) -> Result<ProbeSpec, String> {
    let wanted = name.unwrap_or(DEFAULT_PROBE);
    match plan.probes.iter().position(|p| p.name == wanted) {
        Some(index) => Ok(plan.probes.swap_remove(index)),
        None if name.is_none() => Err(format!(
            "the default burst request is judged with the {DEFAULT_PROBE} probe's checks, but {} has no \
             {DEFAULT_PROBE}.toml; pass --probe NAME",
            plan.settings.probes_dir.display()
        )),
        None => {
            let names: Vec<&str> = plan.probes.iter().map(|p| p.name.as_str()).collect();
            Err(match suggest(wanted, &names) {
                Some(s) => format!("--probe {wanted}: no such probe — did you mean \"{s}\"?"),
                None => format!(
                    "--probe {wanted}: no such probe (probes: {})",
                    names.join(", ")
                ),
            })
        }
    }
}

async fn execute(
    args: &BurstArgs,
    spec: Arc<ProbeSpec>,
    request: Arc<PreparedRequest>,
    shape: Shape,
    telemetry: Option<crate::telemetry::Telemetry>,
) -> Exit {
    let progress = Arc::new(Progress::default());
    let display = std::io::stderr()
        .is_terminal()
        .then(|| spawn_progress(progress.clone(), shape));
    let transport = LoadTransport::new(http_choice(args), spec.request.tls.clone())
        .with_threads(args.threads.map(usize::from));
    let run = run_load(
        spec.clone(),
        request.clone(),
        shape,
        &transport,
        args.slo,
        progress,
        Caller::OneShot,
    )
    .await;
    if let Some(display) = display {
        display.abort();
        eprint!("\r\x1b[2K");
    }
    if let Some(telemetry) = telemetry {
        if let Ok(run) = &run {
            telemetry.metrics().record_burst(&spec.name, &run.stats);
        }
        // One-shot: deliver this burst's metrics before exiting.
        telemetry.shutdown().await;
    }
    let run = match run {
        Ok(run) => run,
        Err(message) => {
            eprintln!("oewsprobe burst: {message}");
            return Exit::CouldNotCheck;
        }
    };
    let report = BurstReport {
        probe: &spec.name,
        method: &spec.request.method,
        url: &request.request_line().url,
        queries_per_request: spec.queries,
        shape,
        slo: args.slo,
        run: &run,
        insecure: transport.insecure(),
    };
    match args.format {
        Format::Table => super::emit(&burst_table(&report)),
        Format::Json => super::emit(&format!("{:#}\n", burst_json(&report))),
    }
    if let Some(path) = &args.hgrm
        && let Err(e) = std::fs::write(path, hgrm(&run.stats.latency))
    {
        eprintln!("oewsprobe burst: cannot write {}: {e}", path.display());
        return Exit::CouldNotCheck;
    }
    match run.stats.slo_verdict() {
        Verdict::Pass => Exit::Healthy,
        Verdict::Fail => Exit::Unhealthy,
        Verdict::Inconclusive => Exit::CouldNotCheck,
    }
}

/// A one-line progress display on stderr, redrawn five times a second.
fn spawn_progress(progress: Arc<Progress>, shape: Shape) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let start = tokio::time::Instant::now();
        let total = shape
            .planned_requests()
            .map_or_else(String::new, |n| format!("/{n}"));
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            let finished = progress.finished.load(Ordering::Relaxed);
            let in_flight = progress
                .started
                .load(Ordering::Relaxed)
                .saturating_sub(finished);
            eprint!(
                "\r\x1b[2Kburst: {finished}{total} done, {in_flight} in flight, {:.1}s",
                start.elapsed().as_secs_f64()
            );
        }
    })
}
