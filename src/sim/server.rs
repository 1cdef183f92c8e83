//! Starting, observing and stopping a simulator instance, and the `oewsprobe sim` foreground loop.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::fault::FaultSet;
use super::state::SimState;
use super::tls::SimTls;
use super::{Fault, SimOptions, SimStats, routes};

/// A simulated OEWS API serving on a local address. Dropping it stops it too (without waiting).
#[derive(Debug)]
pub struct SimServer {
    addr: SocketAddr,
    /// `http` or `https`.
    scheme: &'static str,
    state: Arc<SimState>,
    stop: watch::Sender<bool>,
    serving: JoinHandle<io::Result<()>>,
}

impl SimServer {
    /// Binds `listen` (port 0 picks a free port) and serves plain HTTP on the current tokio runtime.
    pub async fn start(listen: SocketAddr, opts: SimOptions) -> io::Result<SimServer> {
        SimServer::start_with(listen, opts, None).await
    }

    /// Like [`SimServer::start`], but serves HTTPS with `tls` (ALPN: `h2`, `http/1.1`).
    pub async fn start_tls(
        listen: SocketAddr,
        opts: SimOptions,
        tls: SimTls,
    ) -> io::Result<SimServer> {
        SimServer::start_with(listen, opts, Some(tls)).await
    }

    async fn start_with(
        listen: SocketAddr,
        opts: SimOptions,
        tls: Option<SimTls>,
    ) -> io::Result<SimServer> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let state = Arc::new(SimState::new(&opts, stopped.clone()));
        let router = routes::router(Arc::clone(&state));
        let scheme = if tls.is_some() { "https" } else { "http" };
        let serving = match tls {
            Some(tls) => tokio::spawn(super::tls::serve(listener, router, tls, stopped)),
            None => {
                let app = router.into_make_service_with_connect_info::<SocketAddr>();
                tokio::spawn(async move {
                    let mut stopped = stopped;
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            // An error means the handle is gone: stop as well.
                            let _ = stopped.wait_for(|stopped| *stopped).await;
                        })
                        .await
                })
            }
        };
        tracing::info!(%addr, scheme, profile = %opts.profile, faults = %state.faults(), "simulator started");
        Ok(SimServer {
            addr,
            scheme,
            state,
            stop,
            serving,
        })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (`https://` over TLS): a URL clients on this machine can use, even when bound
    /// to all interfaces.
    pub fn base_url(&self) -> String {
        local_url(self.scheme, self.addr)
    }

    /// Replaces the active faults; requests that already started keep the faults they saw.
    pub fn set_faults(&self, faults: Vec<Fault>) {
        self.state.set_faults(faults);
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> SimStats {
        self.state.stats()
    }

    /// Stops accepting, releases hung and sleeping requests, and waits for open connections to finish.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        match (&mut self.serving).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "simulator stopped with an error"),
            Err(error) => tracing::warn!(%error, "simulator task failed"),
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

/// `SCHEME://ADDR`, with an unspecified (all-interfaces) address replaced by loopback.
fn local_url(scheme: &str, addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("{scheme}://{}", SocketAddr::new(ip, addr.port()))
}

/// Serves until Ctrl-C (or SIGTERM on Unix), for the `oewsprobe sim` command; over HTTPS with `tls`.
pub async fn run_until_ctrl_c(
    listen: SocketAddr,
    opts: SimOptions,
    tls: Option<SimTls>,
) -> io::Result<()> {
    let description = format!(
        "profile {}, faults: {}",
        opts.profile,
        FaultSet::new(opts.faults.clone())
    );
    let server = SimServer::start_with(listen, opts, tls).await?;
    println!(
        "oewsprobe sim listening on {}://{} ({description})",
        server.scheme,
        server.addr()
    );
    let stopped_by = wait_for_termination().await;
    server.shutdown().await;
    stopped_by
}

#[cfg(unix)]
async fn wait_for_termination() -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted,
        _ = terminate.recv() => Ok(()),
    }
}

#[cfg(not(unix))]
async fn wait_for_termination() -> io::Result<()> {
    tokio::signal::ctrl_c().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_url_replaces_unspecified_addresses_with_loopback() {
        let url = |addr: &str| local_url("http", addr.parse().expect("socket address"));
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080");
        assert_eq!(url("[::]:8080"), "http://[::1]:8080");
        assert_eq!(url("127.0.0.1:9"), "http://127.0.0.1:9");
        assert_eq!(
            local_url("https", "0.0.0.0:8443".parse().expect("socket address")),
            "https://127.0.0.1:8443"
        );
    }
}
