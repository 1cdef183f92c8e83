//! Shared helpers for the simulator's integration tests: start a server, send requests, read replies.
#![allow(dead_code)] // each test crate uses a different subset

use std::time::Duration;

use oewsprobe::sim::{Fault, Profile, SimOptions, SimServer};
use reqwest::Method;
use serde_json::Value;

/// Starts a simulator on a free loopback port.
pub async fn start(opts: SimOptions) -> SimServer {
    let listen = "127.0.0.1:0".parse().expect("loopback address parses");
    SimServer::start(listen, opts)
        .await
        .expect("simulator starts")
}

/// Starts a simulator with a profile and faults, other options default.
pub async fn start_with(profile: Profile, faults: Vec<Fault>) -> SimServer {
    start(SimOptions {
        profile,
        faults,
        ..SimOptions::default()
    })
    .await
}

/// A loopback-only client (no proxy from the environment).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client builds")
}

/// A finished HTTP exchange.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|error| panic!("body is not JSON ({error}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|value| value.to_str().expect("header is text"))
    }

    /// The trace entries of a query answer.
    pub fn trace(&self) -> Vec<Value> {
        self.json()["data_sources"]
            .as_array()
            .expect("data_sources is an array")
            .clone()
    }
}

/// Sends `method path` with an optional raw JSON body.
pub async fn send(server: &SimServer, method: Method, path: &str, body: Option<&str>) -> Reply {
    send_with(&client(), server, method, path, body)
        .await
        .expect("request completes")
}

/// Like [`send`] with a given client; errors (timeouts) are returned.
pub async fn send_with(
    client: &reqwest::Client,
    server: &SimServer,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> reqwest::Result<Reply> {
    let mut request = client.request(method, format!("{}{path}", server.base_url()));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await?;
    Ok(Reply {
        status,
        headers,
        text,
    })
}

pub async fn get(server: &SimServer, path: &str) -> Reply {
    send(server, Method::GET, path, None).await
}

/// `POST /api/v1/query` with a JSON body.
pub async fn query(server: &SimServer, body: Value) -> Reply {
    send(
        server,
        Method::POST,
        "/api/v1/query",
        Some(&body.to_string()),
    )
    .await
}

/// The entry of `trace` with this `type`, if any.
pub fn entry<'a>(trace: &'a [Value], kind: &str) -> Option<&'a Value> {
    trace.iter().find(|entry| entry["type"] == kind)
}

/// The `step` numbers of a trace, in order.
pub fn steps(trace: &[Value]) -> Vec<u64> {
    trace
        .iter()
        .map(|entry| entry["step"].as_u64().expect("step is a number"))
        .collect()
}

/// The runbook's queries (oews-api.md, "The runbook's checks").
pub const TRACES_QUERY: &str = "What is the average software developer salary in Seattle?";
pub const CHARTS_QUERY: &str =
    "Compare software developer salaries in Seattle vs San Francisco with charts";
