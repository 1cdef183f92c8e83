//! Log setup: `tracing` to stderr as text or one JSON object per line, the level from `RUST_LOG` or
//! `--log-level`.

use std::sync::atomic::{AtomicBool, Ordering};
use tracing_subscriber::EnvFilter;

/// Whether log lines are JSON (set once by [`init_logging`]).
static JSON: AtomicBool = AtomicBool::new(false);

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the global subscriber. `RUST_LOG` wins over `level` when set (not empty) and valid.
pub fn init_logging(level: &str, format: LogFormat) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    JSON.store(format == LogFormat::Json, Ordering::Relaxed);
    match format {
        LogFormat::Text => builder.init(),
        // Event fields at the top level; the probe span's fields (probe, verdict, class) under "span".
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

/// A line for the operator on stderr (what `run` is doing, whatever the log level): as written, or with
/// `--log-format json` as one JSON object like the log lines.
pub fn say(line: &str) {
    if JSON.load(Ordering::Relaxed) {
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let object = serde_json::json!({
            "timestamp": timestamp,
            "level": "INFO",
            "message": line,
            "target": "oewsprobe",
        });
        eprintln!("{object}");
    } else {
        eprintln!("{line}");
    }
}
