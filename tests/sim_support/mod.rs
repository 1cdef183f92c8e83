//! Shared helpers for the simulator's integration tests: start a server, send requests, read replies.
#![allow(dead_code)] // each test crate uses a different subset

use std::time::Duration;

use oewsprobe::sim::{Fault, Profile, SimOptions, SimServer};
use reqwest::Method;
use serde_json::Value;

/// A running simulator and a loopback client for it (clients are costly to build: one per server).
#[derive(Debug)]
pub struct Sim {
    pub server: SimServer,
    client: reqwest::Client,
}

/// A loopback-only client (no proxy from the environment).
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .expect("client builds")
}

impl Sim {
    /// Starts a simulator on a free loopback port.
    pub async fn start(opts: SimOptions) -> Sim {
        let listen = "127.0.0.1:0".parse().expect("loopback address parses");
        let server = SimServer::start(listen, opts)
            .await
            .expect("simulator starts");
        Sim {
            server,
            client: client(Duration::from_secs(5)),
        }
    }

    /// Starts a simulator with a profile and faults, other options default.
    pub async fn start_with(profile: Profile, faults: Vec<Fault>) -> Sim {
        Sim::start(SimOptions {
            profile,
            faults,
            ..SimOptions::default()
        })
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    /// Sends `method path` with an optional raw JSON body.
    pub async fn send(&self, method: Method, path: &str, body: Option<&str>) -> Reply {
        self.send_with(&self.client, method, path, body)
            .await
            .expect("request completes")
    }

    /// Like [`Sim::send`] with a given client; errors (timeouts) are returned.
    pub async fn send_with(
        &self,
        client: &reqwest::Client,
        method: Method,
        path: &str,
        body: Option<&str>,
    ) -> reqwest::Result<Reply> {
        let mut request = client.request(method, self.url(path));
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

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }

    /// `POST /api/v1/query` with a JSON body.
    pub async fn query(&self, body: Value) -> Reply {
        self.send(Method::POST, "/api/v1/query", Some(&body.to_string()))
            .await
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
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
