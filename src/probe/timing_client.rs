//! An HTTP client that observes DNS and connect phases of each run.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Phase durations written by the resolver and the connector while a request runs.
#[derive(Debug, Default, Clone, Copy)]
pub struct Phases {
    pub dns: Option<Duration>,
    /// DNS + TCP + TLS, as the connector saw it.
    pub dns_and_connect: Option<Duration>,
}

pub type SharedPhases = Arc<Mutex<Phases>>;

/// A client for one probe, with the phase timings of its current run. Build it once per probe, outside any
/// timed section (building one costs milliseconds), and never run two requests on it at once: the phases
/// are the current run's alone.
#[derive(Debug, Clone)]
pub struct ProbeClient {
    client: reqwest::Client,
    phases: SharedPhases,
}

impl ProbeClient {
    /// No redirects are followed (a monitor reports what it got), no proxy from the environment is used (the
    /// target is reached directly), no connection is kept between runs (each run connects like a new user).
    pub fn new(connect_timeout: Duration) -> reqwest::Result<ProbeClient> {
        let phases = SharedPhases::default();
        let client = common_builder(connect_timeout)
            .pool_max_idle_per_host(0)
            .dns_resolver(TimedResolver {
                phases: phases.clone(),
            })
            .connector_layer(ConnectTimer {
                phases: phases.clone(),
            })
            .build()?;
        Ok(ProbeClient { client, phases })
    }

    /// Clears the phases for a new run and hands out the client.
    pub fn start_run(&self) -> &reqwest::Client {
        record(&self.phases, |p| *p = Phases::default());
        &self.client
    }

    /// The phases recorded since [`ProbeClient::start_run`].
    pub fn phases(&self) -> Phases {
        self.phases.lock().map(|p| *p).unwrap_or_default()
    }
}

/// A client for load: connections are kept alive and reused, as a user's client would; no phase timings.
pub fn load_client(connect_timeout: Duration) -> reqwest::Result<reqwest::Client> {
    common_builder(connect_timeout).build()
}

/// One TLS configuration for every client: the platform's certificate verifier loads the system's roots, which
/// takes milliseconds; sharing it makes a client cheap to build (a thousand probes start in well under a second).
/// `None` when the verifier cannot be set up: each client then builds its own and reports the error itself.
pub(crate) fn shared_tls() -> Option<rustls::ClientConfig> {
    static TLS: std::sync::OnceLock<Option<rustls::ClientConfig>> = std::sync::OnceLock::new();
    TLS.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).ok()?;
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .ok()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Some(config)
    })
    .clone()
}

/// What every oewsprobe client does: its own User-Agent, no redirects followed, no proxy from the environment.
fn common_builder(connect_timeout: Duration) -> reqwest::ClientBuilder {
    let builder = match shared_tls() {
        Some(tls) => reqwest::Client::builder().tls_backend_preconfigured(tls),
        None => reqwest::Client::builder(),
    };
    builder
        .user_agent(concat!("oewsprobe/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(connect_timeout)
}

/// The error a failed lookup carries, so the classifier can tell DNS from connect failures.
#[derive(Debug)]
pub struct DnsFailure(pub String);

impl std::fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DnsFailure {}

struct TimedResolver {
    phases: SharedPhases,
}

impl reqwest::dns::Resolve for TimedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let phases = self.phases.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let start = Instant::now();
            let result = tokio::net::lookup_host((host.as_str(), 0)).await;
            record(&phases, |p| p.dns = Some(start.elapsed()));
            match result {
                Ok(addrs) => {
                    let addrs: Vec<SocketAddr> = addrs.collect();
                    if addrs.is_empty() {
                        Err(Box::new(DnsFailure(format!("{host} has no addresses"))) as _)
                    } else {
                        Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
                    }
                }
                Err(e) => Err(Box::new(DnsFailure(format!("cannot resolve {host}: {e}"))) as _),
            }
        })
    }
}

fn record(phases: &SharedPhases, update: impl FnOnce(&mut Phases)) {
    if let Ok(mut p) = phases.lock() {
        update(&mut p);
    }
}

#[derive(Clone)]
struct ConnectTimer {
    phases: SharedPhases,
}

impl<S> tower_layer::Layer<S> for ConnectTimer {
    type Service = TimedConnector<S>;

    fn layer(&self, inner: S) -> TimedConnector<S> {
        TimedConnector {
            inner,
            phases: self.phases.clone(),
        }
    }
}

#[derive(Clone)]
struct TimedConnector<S> {
    inner: S,
    phases: SharedPhases,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, R> tower_service::Service<R> for TimedConnector<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let start = Instant::now();
        let connecting = self.inner.call(request);
        let phases = self.phases.clone();
        Box::pin(async move {
            let result = connecting.await;
            record(&phases, |p| p.dns_and_connect = Some(start.elapsed()));
            result
        })
    }
}
