//! Prometheus text exposition (format 0.0.4) of collected OpenTelemetry metrics, following the
//! OTel→Prometheus conventions: dots become underscores, the unit becomes a suffix (`_seconds`, `_ratio`;
//! `{…}` annotations are dropped), monotonic sums get `_total`, histograms `_bucket{le=…}`, `_sum`, `_count`,
//! and the resource becomes `target_info`. Pure: collected data in, text out.

use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use std::fmt::Write as _;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The whole exposition.
pub fn render(metrics: &ResourceMetrics) -> String {
    let mut out = String::new();
    let resource: Vec<(String, String)> = metrics
        .resource()
        .iter()
        .map(|(k, v)| (label_name(k.as_str()), value_text(v)))
        .collect();
    out.push_str("# HELP target_info Target metadata\n# TYPE target_info gauge\n");
    out.push_str(&format!("target_info{} 1\n", labels(&resource)));
    for scope in metrics.scope_metrics() {
        for metric in scope.metrics() {
            render_metric(&mut out, metric);
        }
    }
    out
}

fn render_metric(out: &mut String, metric: &Metric) {
    match metric.data() {
        AggregatedMetrics::F64(data) => render_data(out, metric, data, |v| number(*v)),
        AggregatedMetrics::U64(data) => render_data(out, metric, data, |v| v.to_string()),
        AggregatedMetrics::I64(data) => render_data(out, metric, data, |v| v.to_string()),
    }
}

fn render_data<T: Copy>(
    out: &mut String,
    metric: &Metric,
    data: &MetricData<T>,
    text: impl Fn(&T) -> String,
) {
    let base = metric_name(metric.name(), metric.unit());
    let help = |out: &mut String, name: &str, kind: &str| {
        let description = metric
            .description()
            .replace('\\', "\\\\")
            .replace('\n', "\\n");
        let _ = writeln!(out, "# HELP {name} {description}\n# TYPE {name} {kind}");
    };
    let simple =
        |out: &mut String, name: &str, kind: &str, points: Vec<(Vec<(String, String)>, String)>| {
            help(out, name, kind);
            for (attributes, value) in points {
                let _ = writeln!(out, "{name}{} {value}", labels(&attributes));
            }
        };
    match data {
        MetricData::Gauge(gauge) => simple(
            out,
            &base,
            "gauge",
            gauge
                .data_points()
                .map(|p| (pairs(p.attributes()), text(&p.value())))
                .collect(),
        ),
        MetricData::Sum(sum) => {
            let points = sum
                .data_points()
                .map(|p| (pairs(p.attributes()), text(&p.value())))
                .collect();
            if sum.is_monotonic() {
                simple(out, &format!("{base}_total"), "counter", points);
            } else {
                simple(out, &base, "gauge", points);
            }
        }
        MetricData::Histogram(histogram) => {
            help(out, &base, "histogram");
            for p in histogram.data_points() {
                let attributes = pairs(p.attributes());
                let mut cumulative = 0;
                let bounds: Vec<String> =
                    p.bounds().map(number).chain(["+Inf".to_string()]).collect();
                for (le, count) in bounds.into_iter().zip(p.bucket_counts()) {
                    cumulative += count;
                    let mut with_le = attributes.clone();
                    with_le.push(("le".to_string(), le));
                    let _ = writeln!(out, "{base}_bucket{} {cumulative}", labels(&with_le));
                }
                let _ = writeln!(out, "{base}_sum{} {}", labels(&attributes), text(&p.sum()));
                let _ = writeln!(out, "{base}_count{} {}", labels(&attributes), p.count());
            }
        }
        // Not produced by any oewsprobe instrument (no exponential-histogram view is configured).
        MetricData::ExponentialHistogram(_) => {}
    }
}

/// `http.client.request.duration` with unit `s` → `http_client_request_duration_seconds`.
pub fn metric_name(name: &str, unit: &str) -> String {
    let mut base = sanitize(name);
    let suffix = match unit {
        "s" => "seconds",
        "ms" => "milliseconds",
        "By" => "bytes",
        "1" => "ratio",
        _ => "",
    };
    if !suffix.is_empty() && !base.ends_with(&format!("_{suffix}")) {
        base.push('_');
        base.push_str(suffix);
    }
    base
}

fn sanitize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            c
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// An attribute key as a Prometheus label name: `oewsprobe.location` → `oewsprobe_location`.
pub fn label_name(key: &str) -> String {
    sanitize(key).replace(':', "_")
}

fn pairs<'a>(attributes: impl Iterator<Item = &'a KeyValue>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = attributes
        .map(|kv| (label_name(kv.key.as_str()), value_text(&kv.value)))
        .collect();
    pairs.sort();
    pairs
}

fn value_text(value: &Value) -> String {
    value.as_str().into_owned()
}

fn labels(pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let escaped = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{escaped}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// A sample value as Prometheus writes floats: `0.005`, `30`, `+Inf`, `NaN`.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_conventions() {
        assert_eq!(
            metric_name("http.client.request.duration", "s"),
            "http_client_request_duration_seconds"
        );
        assert_eq!(
            metric_name("oewsprobe.slo.error_budget.remaining", "1"),
            "oewsprobe_slo_error_budget_remaining_ratio"
        );
        assert_eq!(
            metric_name("oewsprobe.probe.runs", "{run}"),
            "oewsprobe_probe_runs"
        );
        assert_eq!(metric_name("a..b-c", ""), "a_b_c");
        assert_eq!(number(0.005), "0.005");
        assert_eq!(number(30.0), "30");
        assert_eq!(
            labels(&[("a".into(), "x\"y\\z\n".into())]),
            "{a=\"x\\\"y\\\\z\\n\"}"
        );
    }
}
