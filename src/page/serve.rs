//! The pages' routes on the status listener of `run`: HTML pages, the JSON API and the badges, each read
//! from the store through `happened` off the async threads, on a connection of their own (never the writer's), with a weak `ETag` (what the page shows, less
//! the clock) and `Cache-Control: no-cache`, so a dashboard polling every 10 s gets `304 Not Modified` and
//! no body until a run lands.

use super::html::Links;
use super::model::Page;
use super::{PageConfig, badge, encoding, pages};
use crate::store::Location;
use crate::store::{Store, StoreResult};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The window pages show without `?window=`.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(86_400);

#[derive(Clone)]
struct Pages {
    reader: Arc<Reader>,
    config: SharedConfig,
}

/// The pages' own connection to the store, opened at the first page asked for: with the store in WAL mode
/// a page's read never waits for `run`'s writes, nor holds them up, and pages are read one at a time.
struct Reader {
    location: Location,
    store: Mutex<Option<Store>>,
}

impl Reader {
    fn read<T>(&self, read: impl FnOnce(&Store) -> StoreResult<T>) -> StoreResult<T> {
        let mut slot = self.store.lock().unwrap_or_else(|p| p.into_inner());
        let store = match slot.take() {
            Some(store) => store,
            None => Store::open_for_reading_at(&self.location)?,
        };
        let out = read(&store);
        *slot = Some(store);
        out
    }
}

/// The plan as the pages show it, replaced by a reload.
pub type SharedConfig = Arc<RwLock<Arc<PageConfig>>>;

/// The pages' view of `plan`, to share with [`router`].
pub fn shared(plan: &crate::config::Plan) -> SharedConfig {
    Arc::new(RwLock::new(Arc::new(PageConfig::of(plan))))
}

/// Makes the pages show `plan` (after a reload): the next request reads it.
pub fn replace(config: &SharedConfig, plan: &crate::config::Plan) {
    *config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(PageConfig::of(plan));
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum What {
    Overview,
    Probe(String),
    Slo,
    Release,
    ApiStatus,
    ApiProbe(String),
    StateBadge(String),
    UptimeBadge(String, String),
}

/// The routes, over the store at `location` (the daemon's, read through a connection of their own) and `config`.
pub fn router(location: Location, config: SharedConfig) -> Router {
    let page = |what: fn(Option<String>) -> What| {
        move |State(p): State<Pages>, h: HeaderMap, Query(q): Q, name: Option<Path<String>>| {
            respond(p, h, q, what(name.map(|Path(n)| n)))
        }
    };
    Router::new()
        .route("/", get(page(|_| What::Overview)))
        .route(
            "/probe/{name}",
            get(page(|n| What::Probe(n.unwrap_or_default()))),
        )
        .route("/slo", get(page(|_| What::Slo)))
        .route("/release", get(page(|_| What::Release)))
        .route("/api/v1/status", get(page(|_| What::ApiStatus)))
        .route(
            "/api/v1/probes/{name}",
            get(page(|n| What::ApiProbe(n.unwrap_or_default()))),
        )
        .route("/badge/{file}", get(state_badge))
        .route("/badge/{name}/uptime/{file}", get(uptime_badge))
        .with_state(Pages {
            reader: Arc::new(Reader {
                location,
                store: Mutex::new(None),
            }),
            config,
        })
}

type Q = Query<HashMap<String, String>>;

async fn state_badge(State(p): State<Pages>, h: HeaderMap, Path(file): Path<String>) -> Response {
    match file.strip_suffix(".svg") {
        Some(name) => respond(p, h, HashMap::new(), What::StateBadge(name.to_string())).await,
        None => not_found("a badge is /badge/PROBE.svg"),
    }
}

async fn uptime_badge(
    State(p): State<Pages>,
    h: HeaderMap,
    Path((name, file)): Path<(String, String)>,
) -> Response {
    match file.strip_suffix(".svg") {
        Some(span) => {
            respond(
                p,
                h,
                HashMap::new(),
                What::UptimeBadge(name, span.to_string()),
            )
            .await
        }
        None => not_found("an uptime badge is /badge/PROBE/uptime/24h.svg (24h, 7d or 30d)"),
    }
}

fn not_found(why: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{why}\n"),
    )
        .into_response()
}

fn bad_request(why: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{why}\n"),
    )
        .into_response()
}

/// The weak entity tag of what `what` shows of `page`: a hash of the model less the clock (the instant of
/// the answer, the end of the current bar, the last burn-down point's instant), so it changes when a run, a decision or an alert lands, not
/// every second.
pub fn etag(page: &Page, what: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut value = serde_json::to_value(page).unwrap_or_default();
    value["now_ms"] = 0.into();
    if let Some(objectives) = value["objectives"].as_array_mut() {
        for o in objectives {
            if let Some(last) = o["burn_down"].as_array_mut().and_then(|b| b.last_mut()) {
                last[0] = 0.into();
            }
        }
    }
    if let Some(probes) = value["probes"].as_array_mut() {
        for p in probes {
            if let Some(last) = p["bars"].as_array_mut().and_then(|b| b.last_mut()) {
                last["to_ms"] = 0.into();
            }
        }
    }
    let mut hasher = std::hash::DefaultHasher::new();
    what.hash(&mut hasher);
    value.to_string().hash(&mut hasher);
    format!("W/\"{:016x}\"", hasher.finish())
}

async fn respond(
    p: Pages,
    headers: HeaderMap,
    query: HashMap<String, String>,
    what: What,
) -> Response {
    let window = match query.get("window") {
        None => DEFAULT_WINDOW,
        Some(text) => match crate::config::window(text) {
            Ok(w) => w,
            Err(e) => return bad_request(format!("window={text}: {e}")),
        },
    };
    let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
    let detail: Vec<String> = match &what {
        What::Probe(name) | What::ApiProbe(name) => vec![name.clone()],
        _ => Vec::new(),
    };
    let config = p.config.read().unwrap_or_else(|p| p.into_inner()).clone();
    let read = tokio::task::spawn_blocking(move || {
        p.reader.read(|store| {
            let facts = crate::happened::page_facts(
                store,
                &config.query(window_ms, &detail),
                crate::monitor::now_ms(),
            )?;
            Ok(super::build(&facts, &config.infos))
        })
    })
    .await;
    let page = match read {
        Ok(Ok(page)) => page,
        Ok(Err(e)) => return server_error(&format!("cannot read the store: {e}")),
        Err(e) => return server_error(&format!("the store read failed: {e}")),
    };
    let tag = etag(&page, &format!("{what:?}"));
    let cache = [
        (header::ETAG, tag.clone()),
        (header::CACHE_CONTROL, "no-cache".to_string()),
        (header::VARY, header::ACCEPT_ENCODING.to_string()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
    {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let (content_type, body) = match render(&page, &what) {
        Ok(rendered) => rendered,
        Err(missing) => return not_found(&missing),
    };
    let gzip = body.len() >= encoding::MIN_GZIP_BYTES
        && encoding::accepts_gzip(
            headers
                .get(header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok()),
        );
    if gzip {
        return (
            StatusCode::OK,
            cache,
            [
                (header::CONTENT_TYPE, content_type),
                (header::CONTENT_ENCODING, "gzip"),
            ],
            encoding::gzip(body.as_bytes()),
        )
            .into_response();
    }
    (
        StatusCode::OK,
        cache,
        [(header::CONTENT_TYPE, content_type)],
        body,
    )
        .into_response()
}

fn server_error(why: &str) -> Response {
    tracing::warn!(error = why, "status page");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{why}\n"),
    )
        .into_response()
}

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";
const SVG: &str = "image/svg+xml";

/// The body of `what` (content type, text), or why there is none (an unknown probe or span).
fn render(page: &Page, what: &What) -> Result<(&'static str, String), String> {
    let find = |name: &str| {
        page.probes
            .iter()
            .find(|p| p.info.name == name)
            .ok_or_else(|| format!("no probe named {name:?} in the config"))
    };
    Ok(match what {
        What::Overview => (HTML, pages::overview(page, Links::Served, true)),
        What::Probe(name) => (HTML, pages::probe(page, find(name)?, Links::Served, true)),
        What::Slo => (HTML, pages::slo(page, Links::Served, true)),
        What::Release => (HTML, pages::release(page, Links::Served, true)),
        What::ApiStatus => (JSON, serde_json::to_string(page).unwrap_or_default()),
        What::ApiProbe(name) => (JSON, serde_json::to_string(find(name)?).unwrap_or_default()),
        What::StateBadge(name) => (SVG, badge::state_badge(name, find(name)?.state)),
        What::UptimeBadge(name, span) => {
            let uptime = find(name)?
                .uptime
                .iter()
                .find(|u| u.span == span)
                .ok_or_else(|| format!("no uptime span {span:?} (24h, 7d or 30d)"))?;
            (SVG, badge::uptime_badge(span, uptime.percent))
        }
    })
}
