//! The real OTLP receiver of the tests (`tests/otlp_receiver.py`, installed by `scripts/test` from
//! `tests/requirements.txt`) as a child process on loopback, and lookups in what it received.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Variables of the environment the tests run in that would change what a child `oewsprobe` does: removed
/// for every child.
pub const UNSET: [&str; 10] = [
    "RUST_LOG",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_SERVICE_NAME",
    "OTEL_METRIC_EXPORT_INTERVAL",
];

pub struct Receiver {
    child: Child,
    pub http_port: u16,
    pub grpc_port: u16,
}

impl Receiver {
    /// Starts the receiver on free ports.
    pub fn start() -> Receiver {
        Receiver::start_on(0, 0)
    }

    /// Starts the receiver on the given ports (0: any free one), e.g. again after a stop.
    pub fn start_on(http_port: u16, grpc_port: u16) -> Receiver {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/otlp_receiver.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--http-port", &http_port.to_string()])
            .args(["--grpc-port", &grpc_port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 must be on PATH (the OTLP receiver is a Python script)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("receiver ports");
        let ports: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "the OTLP receiver did not start ({e}): {line:?}; it needs the Python packages of \
                 tests/requirements.txt: python3 -m pip install -r tests/requirements.txt (scripts/test \
                 installs them); its error is above"
            )
        });
        Receiver {
            child,
            http_port: ports["http"].as_u64().expect("http port") as u16,
            grpc_port: ports["grpc"].as_u64().expect("grpc port") as u16,
        }
    }

    /// The base endpoint for `protocol` (`http/protobuf` or `grpc`).
    pub fn endpoint(&self, protocol: &str) -> String {
        match protocol {
            "grpc" => format!("http://127.0.0.1:{}", self.grpc_port),
            _ => format!("http://127.0.0.1:{}", self.http_port),
        }
    }

    /// Every export received so far, oldest first.
    pub fn received(&self) -> Vec<Value> {
        let addr = format!("127.0.0.1:{}", self.http_port);
        let (_, _, body) = super::http_get(&addr, "/received");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("received JSON ({e}): {body}"))
    }

    /// Waits until an export satisfies `done`, up to `limit`; returns every export received by then.
    pub fn wait_for(&self, limit: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + limit;
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver did not get what was expected within {limit:?}: {received:#?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn stop(mut self) -> (u16, u16) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        (self.http_port, self.grpc_port)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The string form of an OTLP `AnyValue` (as the receiver's JSON writes it).
fn any_value(v: &Value) -> String {
    for key in ["string_value", "int_value", "double_value", "bool_value"] {
        if let Some(x) = v.get(key) {
            return match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
        }
    }
    v.to_string()
}

/// Attributes as a sorted map of strings.
pub fn attributes(point: &Value) -> BTreeMap<String, String> {
    point["attributes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|kv| {
                    (
                        kv["key"].as_str().unwrap_or_default().to_string(),
                        any_value(&kv["value"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The resource attributes of an export.
pub fn resource(export: &Value) -> BTreeMap<String, String> {
    attributes(&export["request"]["resource_metrics"][0]["resource"])
}

/// A metric (its JSON: `name`, `unit`, and `sum`/`gauge`/`histogram`) in one export.
pub fn metric<'a>(export: &'a Value, name: &str) -> Option<&'a Value> {
    metrics(export).into_iter().find(|m| m["name"] == name)
}

/// Every metric of one export.
pub fn metrics(export: &Value) -> Vec<&Value> {
    export["request"]["resource_metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|rm| rm["scope_metrics"].as_array().into_iter().flatten())
        .flat_map(|sm| sm["metrics"].as_array().into_iter().flatten())
        .collect()
}

/// The last export holding `name` (with cumulative temporality, the latest totals).
pub fn latest<'a>(received: &'a [Value], name: &str) -> Option<&'a Value> {
    received.iter().rev().find_map(|e| metric(e, name))
}

/// Data points of a metric, whatever its kind.
pub fn points(metric: &Value) -> Vec<&Value> {
    ["sum", "gauge", "histogram"]
        .iter()
        .find_map(|kind| metric[kind]["data_points"].as_array())
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// A sum or gauge point's value as f64 (`as_int` comes as a string, `as_double` as a number).
pub fn number(point: &Value) -> f64 {
    match (&point["as_int"], &point["as_double"]) {
        (Value::String(s), _) => s.parse().expect("int"),
        (_, Value::Number(n)) => n.as_f64().expect("double"),
        // proto3 JSON leaves zero values out
        _ => 0.0,
    }
}

/// A histogram point's count.
pub fn count(point: &Value) -> u64 {
    point["count"]
        .as_str()
        .map_or(0, |s| s.parse().expect("count"))
}

/// The point whose attributes include every `(key, value)` of `wanted`.
pub fn point_with<'a>(metric: &'a Value, wanted: &[(&str, &str)]) -> Option<&'a Value> {
    points(metric).into_iter().find(|p| {
        let a = attributes(p);
        wanted
            .iter()
            .all(|(k, v)| a.get(*k).map(String::as_str) == Some(*v))
    })
}
