//! The meter provider: one OTLP push reader (HTTP/protobuf or gRPC, exporting from the tokio runtime, so
//! probing never waits on it) and one pull reader for the `/metrics` scrape, over the same instruments.
//! A failing receiver costs a rate-limited log line; export resumes by itself. `shutdown` flushes.

use super::metrics::Metrics;
use super::names as n;
use crate::config::{OtlpSettings, Protocol};
use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Temporality,
};
use opentelemetry_sdk::{Resource, resource::EnvResourceDetector};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// At most one "export failed" line per this interval (the count of failures in between is in it).
pub const EXPORT_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// The running telemetry of one process.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkMeterProvider,
    metrics: Metrics,
    scrape: Option<Scrape>,
    timeout: Duration,
}

impl Telemetry {
    /// Starts the provider: with an OTLP exporter when `otlp` is given, with a scrape reader when `scrape`.
    /// Every data point carries `location` (`run.location`). Must run inside the tokio runtime (the
    /// exporter's reader is a task on it).
    pub fn start(
        otlp: Option<&OtlpSettings>,
        target: &url::Url,
        scrape: bool,
        location: &str,
    ) -> Result<Telemetry, String> {
        let mut builder = SdkMeterProvider::builder().with_resource(resource(target));
        if let Some(settings) = otlp {
            let exporter = LoggedExporter {
                inner: exporter(settings)?,
                endpoint: settings.endpoint.clone(),
                timeout: settings.timeout,
                failures: Mutex::new(Failures::default()),
            };
            let reader = opentelemetry_sdk::metrics::periodic_reader_with_async_runtime::PeriodicReader::builder(
                exporter,
                opentelemetry_sdk::runtime::Tokio,
            )
            .with_interval(settings.export_interval)
            // The exporter enforces `timeout` itself (and logs it); this is the backstop.
            .with_timeout(settings.timeout + Duration::from_secs(1))
            .build();
            builder = builder.with_reader(reader);
            tracing::info!(endpoint = %settings.endpoint, protocol = settings.protocol.as_str(),
                interval_ms = settings.export_interval.as_millis() as u64,
                headers = ?settings.headers.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(),
                "exporting metrics over OTLP");
        }
        let scrape = scrape.then(|| Scrape(Arc::new(ManualReader::builder().build())));
        if let Some(scrape) = &scrape {
            builder = builder.with_reader(scrape.clone());
        }
        let provider = builder.build();
        let metrics = Metrics::new(&provider.meter("oewsprobe"), location);
        Ok(Telemetry {
            provider,
            metrics,
            scrape,
            timeout: otlp.map_or(Duration::from_secs(1), |s| s.timeout),
        })
    }

    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// The pull reader `/metrics` collects from, when one was asked for.
    pub fn scrape(&self) -> Option<Scrape> {
        self.scrape.clone()
    }

    /// Exports what is pending and stops. Bounded by the export timeout: a dead receiver cannot hold the exit.
    pub async fn shutdown(self) {
        let provider = self.provider;
        let flush = tokio::task::spawn_blocking(move || provider.shutdown());
        match tokio::time::timeout(self.timeout + Duration::from_secs(2), flush).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "metrics: the final export failed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "metrics: the final export panicked"),
            Err(_) => tracing::warn!("metrics: the final export did not finish in time"),
        }
    }
}

/// `service.name`, `service.version`, `oewsprobe.target`; `OTEL_RESOURCE_ATTRIBUTES` and
/// `OTEL_SERVICE_NAME` override them.
fn resource(target: &url::Url) -> Resource {
    let mut target = target.clone();
    let _ = target.set_username("");
    let _ = target.set_password(None);
    let mut builder = Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", n::SERVICE_NAME),
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            KeyValue::new(
                n::RESOURCE_TARGET,
                target.as_str().trim_end_matches('/').to_string(),
            ),
        ])
        .with_detector(Box::new(EnvResourceDetector::new()));
    if let Some(name) = std::env::var("OTEL_SERVICE_NAME")
        .ok()
        .filter(|s| !s.is_empty())
    {
        builder = builder.with_service_name(name);
    }
    builder.build()
}

fn exporter(settings: &OtlpSettings) -> Result<opentelemetry_otlp::MetricExporter, String> {
    let built = match settings.protocol {
        Protocol::HttpProtobuf => {
            let headers = settings
                .headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.clone(),
                        String::from_utf8_lossy(value.expose()).into_owned(),
                    )
                })
                .collect();
            opentelemetry_otlp::MetricExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(settings.endpoint.clone())
                .with_timeout(settings.timeout)
                .with_headers(headers)
                .build()
        }
        Protocol::Grpc => {
            let mut metadata = tonic::metadata::MetadataMap::new();
            for (name, value) in &settings.headers {
                let key =
                    tonic::metadata::MetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes())
                        .map_err(|e| format!("telemetry.headers.{name}: {e}"))?;
                let mut value = tonic::metadata::MetadataValue::try_from(value.expose())
                    .map_err(|e| format!("telemetry.headers.{name}: {e}"))?;
                value.set_sensitive(true);
                metadata.insert(key, value);
            }
            opentelemetry_otlp::MetricExporter::builder()
                .with_tonic()
                .with_endpoint(settings.endpoint.clone())
                .with_timeout(settings.timeout)
                .with_metadata(metadata)
                .build()
        }
    };
    built.map_err(|e| format!("cannot set up the OTLP metrics exporter: {e}"))
}

/// The pull reader, shared between the provider (which registers it) and the `/metrics` handler.
#[derive(Debug, Clone)]
pub struct Scrape(Arc<ManualReader>);

impl Scrape {
    /// Collects every instrument now (observable gauges call their callbacks).
    pub fn collect(&self) -> Result<ResourceMetrics, String> {
        let mut metrics = ResourceMetrics::default();
        self.0
            .collect(&mut metrics)
            .map_err(|e| format!("cannot collect metrics: {e}"))?;
        Ok(metrics)
    }
}

impl MetricReader for Scrape {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }
    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

#[derive(Debug, Default)]
struct Failures {
    count: u64,
    last_logged: Option<Instant>,
}

/// The OTLP exporter with its own timeout and failure log: one error line per [`EXPORT_ERROR_LOG_INTERVAL`]
/// while the receiver fails, one line when it answers again.
#[derive(Debug)]
struct LoggedExporter {
    inner: opentelemetry_otlp::MetricExporter,
    endpoint: String,
    timeout: Duration,
    failures: Mutex<Failures>,
}

impl LoggedExporter {
    fn note(&self, result: &OTelSdkResult) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match result {
            Ok(()) if failures.count > 0 => {
                tracing::warn!(endpoint = %self.endpoint, failed_exports = failures.count,
                    "metrics export resumed");
                *failures = Failures::default();
            }
            Ok(()) => {}
            Err(e) => {
                failures.count += 1;
                if failures
                    .last_logged
                    .is_none_or(|at| at.elapsed() >= EXPORT_ERROR_LOG_INTERVAL)
                {
                    tracing::error!(endpoint = %self.endpoint, failed_exports = failures.count,
                        error = %e, "metrics export failed; probing goes on, export is retried every interval");
                    failures.last_logged = Some(Instant::now());
                }
            }
        }
    }
}

impl PushMetricExporter for LoggedExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let result = match tokio::time::timeout(self.timeout, self.inner.export(metrics)).await {
            Ok(result) => result,
            Err(_) => Err(opentelemetry_sdk::error::OTelSdkError::Timeout(
                self.timeout,
            )),
        };
        self.note(&result);
        result
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }
    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}
