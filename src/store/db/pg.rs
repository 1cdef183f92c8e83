//! The PostgreSQL side of [`super::Db`]: a connection, its prepared statements by SQL text, the depth of
//! nested units, and where it points ([`PgTarget`], never with a password; plain TCP or verified TLS).

use super::super::{StoreError, StoreResult};
use super::pg_tls::MakeRustls;
use super::{Depth, Param, placeholders::to_dollars};
use postgres::types::ToSql;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Rows a cursor hands over at a time ([`super::Db::each_row`]).
pub const FETCH: usize = 1_000;

/// A PostgreSQL store's location: `postgres://USER@HOST:PORT/DB`, as shown in errors (it never holds a
/// password: one in the URL is refused).
#[derive(Clone)]
pub struct PgTarget {
    url: String,
    /// Boxed: a location is cloned and moved around with the settings.
    config: Box<postgres::Config>,
    /// `?sslmode=verify-full`: the TLS configuration the server's certificate is verified with.
    tls: Option<Arc<rustls::ClientConfig>>,
}

/// `?sslmode=` values other than `verify-full` and `disable` (libpq's), refused: none verifies the server.
const UNVERIFIED_MODES: [&str; 4] = ["allow", "prefer", "require", "verify-ca"];

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

impl PartialEq for PgTarget {
    fn eq(&self, other: &PgTarget) -> bool {
        self.url == other.url
    }
}

impl Eq for PgTarget {}

impl std::fmt::Display for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

impl PgTarget {
    /// Whether `store` names a PostgreSQL store rather than a SQLite file.
    pub fn is_url(store: &str) -> bool {
        store.starts_with("postgres://") || store.starts_with("postgresql://")
    }

    /// Parses `url` (`postgres://USER@HOST:PORT/DB`, optionally `?sslmode=verify-full&sslrootcert=PATH`); `Err`
    /// says what is wrong, without the URL's password. A relative `sslrootcert` is read from the working
    /// directory (see [`PgTarget::parse_in`]).
    pub fn parse(url: &str) -> Result<PgTarget, String> {
        PgTarget::parse_in(url, Path::new(""))
    }

    /// [`PgTarget::parse`], a relative `sslrootcert` read from `base` (the config file's directory).
    pub fn parse_in(url: &str, base: &Path) -> Result<PgTarget, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("is not a URL ({e})"))?;
        if parsed.password().is_some() {
            return Err(
                "holds a password: give it by reference in run.store_password \
                        (\"env:NAME\" or \"file:PATH\"), never in the URL"
                    .into(),
            );
        }
        if parsed.username().is_empty() {
            return Err("names no user (postgres://USER@HOST:PORT/DB)".into());
        }
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("names no host (postgres://USER@HOST:PORT/DB)")?;
        let database = parsed.path().trim_start_matches('/');
        if database.is_empty() {
            return Err("names no database (postgres://USER@HOST:PORT/DB)".into());
        }
        let tls = tls_of(&parsed, base)?;
        let mut config = postgres::Config::new();
        config
            .user(parsed.username())
            .host(host.trim_start_matches('[').trim_end_matches(']'))
            .port(parsed.port().unwrap_or(5432))
            .dbname(database)
            .application_name("oewsprobe")
            .connect_timeout(std::time::Duration::from_secs(10));
        if tls.is_some() {
            config.ssl_mode(postgres::config::SslMode::Require);
        }
        Ok(PgTarget {
            url: url.to_string(),
            config: Box::new(config),
            tls,
        })
    }

    /// Whether connections are TLS, the server's certificate verified.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Connects, with `password` when the server asks for one.
    pub(crate) fn connect(&self, password: Option<&str>) -> StoreResult<Pg> {
        let mut config = (*self.config).clone();
        if let Some(password) = password {
            config.password(password);
        }
        let client =
            off_runtime(|| connect(&config, &self.tls)).map_err(|source| StoreError::PgOpen {
                store: self.url.clone(),
                source,
            })?;
        Ok(Pg {
            client: Some(client),
            config,
            tls: self.tls.clone(),
            lost: false,
            statements: HashMap::new(),
            depth: Depth::default(),
            cursors: 0,
        })
    }
}

/// An open PostgreSQL connection.
pub struct Pg {
    /// Always there but while dropped (see `Drop`).
    client: Option<postgres::Client>,
    /// How to connect again (with the password: never shown).
    config: postgres::Config,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// The connection was lost inside a transaction: the next call outside one connects again.
    lost: bool,
    /// Prepared once per connection, by the SQL as written (with `?N`).
    statements: HashMap<String, postgres::Statement>,
    depth: Depth,
    cursors: u64,
}

impl std::fmt::Debug for Pg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pg")
            .field("statements", &self.statements.len())
            .field("depth", &self.depth.get())
            .finish_non_exhaustive()
    }
}

/// Connects with `config`: plain TCP, or TLS verified with `tls`.
fn connect(
    config: &postgres::Config,
    tls: &Option<Arc<rustls::ClientConfig>>,
) -> Result<postgres::Client, postgres::Error> {
    match tls {
        None => config.connect(postgres::NoTls),
        Some(tls) => config.connect(MakeRustls(tls.clone())),
    }
}

/// The URL's `sslmode` and `sslrootcert`: `None` for plain TCP (no `sslmode`, or `disable`), else the TLS
/// configuration of `verify-full` (the platform's roots, and `sslrootcert`'s if given). Any other option is
/// refused, naming it.
fn tls_of(url: &url::Url, base: &Path) -> Result<Option<Arc<rustls::ClientConfig>>, String> {
    let (mut mode, mut root) = (None, None);
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "sslmode" => mode = Some(value.into_owned()),
            "sslrootcert" => root = Some(value.into_owned()),
            other => {
                return Err(format!(
                    "has the option {other:?}; only sslmode (verify-full or disable) and sslrootcert are read"
                ));
            }
        }
    }
    match (mode.as_deref(), root) {
        (None | Some("disable"), None) => Ok(None),
        (None | Some("disable"), Some(_)) => {
            Err("has sslrootcert without sslmode=verify-full; add sslmode=verify-full".into())
        }
        (Some("verify-full"), root) => {
            let mut settings = crate::tls::TlsSettings::default();
            if let Some(root) = root {
                let path = base.join(&root);
                settings.extra_roots = crate::tls::read_certificates(&path)
                    .map_err(|e| format!("has sslrootcert={root}: {e}"))?;
                settings.ca_file = Some(path);
            }
            crate::tls::client_config(&settings, &[]).map(Some)
        }
        (Some(mode), _) if UNVERIFIED_MODES.contains(&mode) => Err(format!(
            "has sslmode={mode}, which does not verify the server's certificate; give sslmode=verify-full \
             (with sslrootcert=PATH for a private CA) or sslmode=disable"
        )),
        (Some(mode), _) => Err(format!(
            "has sslmode={mode:?}; give sslmode=verify-full or sslmode=disable"
        )),
    }
}

/// Runs `work`, which calls the PostgreSQL client, where the client's own runtime may block: the client
/// panics when asked from a thread driving async tasks ("Cannot start a runtime from within a runtime").
/// The daemon calls the store from blocking tasks (no cost here); a command's call from async code is moved
/// off the worker (`block_in_place`), or, on a current-thread runtime, onto a thread of its own.
fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => work(),
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        Ok(_) => std::thread::scope(|scope| {
            scope
                .spawn(work)
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }),
    }
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// Closing the connection blocks on the client's runtime too.
impl Drop for Pg {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            off_runtime(move || drop(client));
        }
    }
}

/// Whether `e` says the connection is gone (the server restarted, or ended this session), not that a
/// statement failed.
fn is_lost(e: &postgres::Error) -> bool {
    let class = e.code().map(|code| &code.code()[..2]);
    e.is_closed()
        || matches!(class, Some("08" | "57"))
        || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
}

/// Whether `e` says a prepared statement's plan no longer fits the tables (another agent changed the
/// schema since it was prepared: "cached plan must not change result type").
fn is_stale_plan(e: &postgres::Error) -> bool {
    e.code() == Some(&postgres::error::SqlState::FEATURE_NOT_SUPPORTED)
        && e.as_db_error()
            .is_some_and(|db| db.message().contains("cached plan"))
}

impl Pg {
    /// Runs `op`; when the connection turns out lost outside a transaction, connects again and runs it once
    /// more (a lost transaction is the caller's error: its unit is undone, and the next call connects).
    /// A statement whose plan another agent's schema change made stale is prepared again: at once outside a
    /// transaction, by the next call inside one (whose unit fails whole).
    fn call<T>(&mut self, op: impl Fn(&mut Pg) -> StoreResult<T>) -> StoreResult<T> {
        if self.lost && self.depth.get() == 0 {
            self.reconnect()?;
        }
        match op(self) {
            Err(StoreError::Pg(e)) if is_lost(&e) => {
                self.lost = true;
                if self.depth.get() > 0 {
                    return Err(StoreError::Pg(e));
                }
                tracing::warn!(error = %e, "the PostgreSQL store's connection was lost; connecting again");
                self.reconnect()?;
                op(self)
            }
            Err(StoreError::Pg(e)) if is_stale_plan(&e) => {
                self.statements.clear();
                if self.depth.get() > 0 {
                    return Err(StoreError::Pg(e));
                }
                tracing::info!(
                    "the PostgreSQL store's schema changed; preparing its statements again"
                );
                op(self)
            }
            other => other,
        }
    }

    fn reconnect(&mut self) -> StoreResult<()> {
        let (config, tls) = (&self.config, &self.tls);
        let client = off_runtime(|| connect(config, tls))?;
        if let Some(old) = self.client.replace(client) {
            off_runtime(move || drop(old));
        }
        self.statements.clear();
        self.lost = false;
        Ok(())
    }

    fn client(&mut self) -> &mut postgres::Client {
        self.client
            .as_mut()
            .expect("the client is there until dropped")
    }

    fn statement(&mut self, sql: &str) -> StoreResult<postgres::Statement> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let client = self.client();
        let stmt = off_runtime(|| client.prepare(&to_dollars(sql)))?;
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    pub fn execute(&mut self, sql: &str, params: &[Param]) -> StoreResult<u64> {
        self.call(|pg| {
            let stmt = pg.statement(sql)?;
            let client = pg.client();
            Ok(off_runtime(|| client.execute(&stmt, &refs(params)))?)
        })
    }

    pub fn query(&mut self, sql: &str, params: &[Param]) -> StoreResult<Vec<postgres::Row>> {
        self.call(|pg| {
            let stmt = pg.statement(sql)?;
            let client = pg.client();
            Ok(off_runtime(|| client.query(&stmt, &refs(params)))?)
        })
    }

    pub fn batch(&mut self, sql: &str) -> StoreResult<()> {
        // A schema change may change what a prepared statement reads.
        if !sql.starts_with("SAVEPOINT")
            && !sql.starts_with("RELEASE")
            && !sql.starts_with("ROLLBACK")
            && !sql.starts_with("BEGIN")
            && !sql.starts_with("COMMIT")
            && !sql.starts_with("CLOSE")
        {
            self.statements.clear();
        }
        self.call(|pg| {
            let client = pg.client();
            Ok(off_runtime(|| client.batch_execute(sql))?)
        })
    }

    /// Opens a cursor over `sql` inside the current transaction; returns its name.
    pub fn declare(&mut self, sql: &str, params: &[Param]) -> StoreResult<String> {
        self.cursors += 1;
        let name = format!("oewsprobe_rows_{}", self.cursors);
        let declare = format!("DECLARE {name} NO SCROLL CURSOR FOR {}", to_dollars(sql));
        self.call(|pg| {
            let client = pg.client();
            Ok(off_runtime(|| client.execute(&declare, &refs(params)))?)
        })?;
        Ok(name)
    }

    pub fn fetch(&mut self, cursor: &str) -> StoreResult<Vec<postgres::Row>> {
        let fetch = format!("FETCH {FETCH} FROM {cursor}");
        self.call(|pg| {
            let client = pg.client();
            Ok(off_runtime(|| client.query(&fetch, &[]))?)
        })
    }

    pub fn depth(&self) -> u32 {
        self.depth.get()
    }

    pub fn enter(&self, step: i32) -> u32 {
        self.depth.step(step)
    }
}
