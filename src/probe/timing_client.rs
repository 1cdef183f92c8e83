//! An HTTP client that observes each run's phases — DNS, TCP connect, TLS handshake — and what the TLS
//! handshake showed (the chain, the name verified for, the version, the cipher suite, a verification error).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, ServerName};

use crate::tls::TlsSettings;

/// What the resolver, the connector and the TLS hooks saw while the current run's request was sent.
#[derive(Debug, Default, Clone)]
pub struct Phases {
    pub dns: Option<Duration>,
    /// When the connector started (it resolves, connects TCP, then shakes hands).
    connect_started: Option<Instant>,
    /// When the TLS client hello was made: the TCP connection was up.
    hello_at: Option<Instant>,
    /// When the connector finished (TCP and TLS done, or failed).
    connected_at: Option<Instant>,
    /// What the handshake showed; `None` for plain HTTP or when no certificate came.
    pub tls: Option<TlsSeen>,
}

impl Phases {
    /// TCP connect, after DNS (for plain HTTP everything the connector did after DNS).
    pub fn connect(&self) -> Option<Duration> {
        let started = self.connect_started?;
        let tcp_done = self.hello_at.or(self.connected_at)?;
        Some(
            tcp_done
                .saturating_duration_since(started)
                .saturating_sub(self.dns.unwrap_or_default()),
        )
    }

    /// The TLS handshake: from the client hello to the end of the connector's work.
    pub fn tls_handshake(&self) -> Option<Duration> {
        Some(self.connected_at?.saturating_duration_since(self.hello_at?))
    }
}

/// The TLS handshake as the client's hooks saw it.
#[derive(Debug, Default, Clone)]
pub struct TlsSeen {
    /// The certificates presented, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The name they were verified for.
    pub name: String,
    /// Why verification refused them.
    pub error: Option<rustls::Error>,
    /// `1.2` or `1.3`, from the handshake signature the server made.
    pub version: Option<&'static str>,
    /// The cipher suite, seen on a TLS 1.3 session ticket.
    pub cipher: Option<String>,
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
    /// target is reached directly), no connection or TLS session is kept between runs (each run connects like
    /// a new user). HTTPS is trusted as `tls` says.
    /// `resolve` maps a name to an address instead of asking DNS (see [`super::PreparedRequest::resolve`]).
    pub fn new(
        connect_timeout: Duration,
        tls: &TlsSettings,
        resolve: Option<(&str, SocketAddr)>,
    ) -> Result<ProbeClient, String> {
        crate::tls::warm_up();
        let phases = SharedPhases::default();
        let observer = Arc::new(Observer {
            phases: phases.clone(),
        });
        let verifier = crate::tls::observed_verifier(tls, Some(observer))?;
        let mut config = crate::tls::config_with(verifier, ALPN)?;
        config.resumption = rustls::client::Resumption::store(Arc::new(ObservingStore {
            phases: phases.clone(),
        }));
        let client = common_builder(connect_timeout, Some(config), resolve)
            .pool_max_idle_per_host(0)
            .dns_resolver(TimedResolver {
                phases: phases.clone(),
            })
            .connector_layer(ConnectTimer {
                phases: phases.clone(),
            })
            .build()
            .map_err(|e| e.to_string())?;
        Ok(ProbeClient { client, phases })
    }

    /// Clears the phases for a new run and hands out the client.
    pub fn start_run(&self) -> &reqwest::Client {
        record(&self.phases, |p| *p = Phases::default());
        &self.client
    }

    /// The phases recorded since [`ProbeClient::start_run`].
    pub fn phases(&self) -> Phases {
        self.phases.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// HTTP/2 first, HTTP/1.1 else.
const ALPN: &[&[u8]] = &[b"h2", b"http/1.1"];

/// A client for load: connections are kept alive and reused, as a user's client would; no phase timings.
pub fn load_client(connect_timeout: Duration) -> reqwest::Result<reqwest::Client> {
    load_client_with(connect_timeout, &TlsSettings::default(), None)
}

/// [`load_client`] trusting HTTPS targets as `tls` says. When the verifier cannot be set up, reqwest builds
/// its own and reports the error itself.
pub fn load_client_with(
    connect_timeout: Duration,
    tls: &TlsSettings,
    resolve: Option<(&str, SocketAddr)>,
) -> reqwest::Result<reqwest::Client> {
    let config = crate::tls::client_config(tls, ALPN)
        .ok()
        .map(|config| (*config).clone());
    common_builder(connect_timeout, config, resolve).build()
}

/// What every oewsprobe client does: its own User-Agent, no redirects followed, no proxy from the environment.
fn common_builder(
    connect_timeout: Duration,
    tls: Option<rustls::ClientConfig>,
    resolve: Option<(&str, SocketAddr)>,
) -> reqwest::ClientBuilder {
    let builder = match tls {
        Some(tls) => reqwest::Client::builder().tls_backend_preconfigured(tls),
        None => reqwest::Client::builder(),
    };
    let builder = match resolve {
        Some((name, addr)) => builder.resolve(name, addr),
        None => builder,
    };
    builder
        .user_agent(concat!("oewsprobe/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(connect_timeout)
}

/// Writes down what each handshake showed, into the run's phases.
#[derive(Debug)]
struct Observer {
    phases: SharedPhases,
}

impl Observer {
    fn seen(&self, update: impl FnOnce(&mut TlsSeen)) {
        record(&self.phases, |p| {
            update(p.tls.get_or_insert_with(TlsSeen::default))
        });
    }
}

impl crate::tls::HandshakeObserver for Observer {
    fn certificates(
        &self,
        chain: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        outcome: &Result<rustls::client::danger::ServerCertVerified, rustls::Error>,
    ) {
        self.seen(|seen| {
            seen.chain = chain.iter().map(|c| c.clone().into_owned()).collect();
            seen.name = crate::tls::name_text(name);
            seen.error = outcome.as_ref().err().cloned();
        });
    }

    fn version(&self, version: &'static str) {
        self.seen(|seen| seen.version = Some(version));
    }
}

/// A session store that keeps nothing (each run is a new user's full handshake) and notes two moments: the
/// client hello being made (asked for a key-exchange hint: TCP is up) and the cipher suite of a TLS 1.3
/// session ticket.
#[derive(Debug)]
struct ObservingStore {
    phases: SharedPhases,
}

impl rustls::client::ClientSessionStore for ObservingStore {
    fn set_kx_hint(&self, _: ServerName<'static>, _: rustls::NamedGroup) {}

    fn kx_hint(&self, _: &ServerName<'_>) -> Option<rustls::NamedGroup> {
        let now = Instant::now();
        record(&self.phases, |p| {
            p.hello_at.get_or_insert(now);
        });
        None
    }

    fn set_tls12_session(
        &self,
        _: ServerName<'static>,
        _: rustls::client::Tls12ClientSessionValue,
    ) {
    }

    fn tls12_session(&self, _: &ServerName<'_>) -> Option<rustls::client::Tls12ClientSessionValue> {
        None
    }

    fn remove_tls12_session(&self, _: &ServerName<'static>) {}

    fn insert_tls13_ticket(
        &self,
        _: ServerName<'static>,
        value: rustls::client::Tls13ClientSessionValue,
    ) {
        let suite = format!("{:?}", value.suite().common.suite);
        record(&self.phases, |p| {
            if let Some(seen) = p.tls.as_mut() {
                seen.cipher.get_or_insert(suite);
            }
        });
    }

    fn take_tls13_ticket(
        &self,
        _: &ServerName<'static>,
    ) -> Option<rustls::client::Tls13ClientSessionValue> {
        None
    }
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
        record(&self.phases, |p| p.connect_started = Some(start));
        let connecting = self.inner.call(request);
        let phases = self.phases.clone();
        Box::pin(async move {
            let result = connecting.await;
            let end = Instant::now();
            record(&phases, |p| p.connected_at = Some(end));
            result
        })
    }
}
