//! The service's `GET /openapi.json`, fetched (free: no query spent) with a probe's client settings and kept
//! once per process per target: `drift` and `expect.openapi` read it, and a 404 finding names a close path
//! from it once it is here (the fetch adapter of [`crate::drift`]).

use super::exchange::PreparedRequest;
use super::{RequestSpec, body_excerpt, load_client};
use crate::drift::{Document, DocumentError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Where the document is asked for, below the target's base URL.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// How the document is fetched: the headers and timeouts of the probe (or the config's defaults).
#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub headers: Vec<(String, String)>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body: u64,
}

/// Why the document could not be had, each its own message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("cannot fetch {url}: {detail}")]
    Transport { url: String, detail: String },
    #[error("{url} answered {status}, not the OpenAPI document — body: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url} is {error}")]
    Document { url: String, error: DocumentError },
}

type Cache = Mutex<HashMap<String, Arc<Document>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Cache::default)
}

fn key(target: &url::Url) -> String {
    target.as_str().trim_end_matches('/').to_owned()
}

/// The document of `target` when this process has fetched it already.
pub fn cached_document(target: &url::Url) -> Option<Arc<Document>> {
    cache().lock().ok()?.get(&key(target)).cloned()
}

/// The document of `target`: the one this process fetched, else fetched now (and kept when it parses).
pub async fn document(
    target: &url::Url,
    settings: &FetchSettings,
) -> Result<Arc<Document>, FetchError> {
    if let Some(document) = cached_document(target) {
        return Ok(document);
    }
    let document = Arc::new(fetch(target, settings).await?);
    if let Ok(mut cache) = cache().lock() {
        cache.insert(key(target), document.clone());
    }
    Ok(document)
}

/// Fetches and parses the document, bypassing the cache.
pub async fn fetch(target: &url::Url, settings: &FetchSettings) -> Result<Document, FetchError> {
    let spec = RequestSpec {
        method: "GET".to_owned(),
        path: OPENAPI_PATH.to_owned(),
        body: None,
        headers: settings.headers.clone(),
        timeout: settings.timeout,
        connect_timeout: settings.connect_timeout,
    };
    let url = super::request_url(target, OPENAPI_PATH);
    let transport = |detail: String| FetchError::Transport {
        url: url.clone(),
        detail,
    };
    let request = PreparedRequest::new(&spec, target).map_err(transport)?;
    let client = load_client(settings.connect_timeout)
        .map_err(|e| transport(format!("cannot set up the HTTP client: {e}")))?;
    let response = (request.send(&client, settings.max_body).await.outcome).map_err(|failure| {
        tracing::debug!(detail = %failure.detail, "fetching the OpenAPI document failed");
        transport(match failure.class.hint() {
            Some(hint) => format!("{} — {hint}", failure.class),
            None => format!("{}: {}", failure.class, failure.detail),
        })
    })?;
    if response.status != 200 {
        return Err(FetchError::Status {
            url,
            status: response.status,
            body: body_excerpt(&response.body),
        });
    }
    if response.over_cap {
        let detail = format!("the document is larger than {} bytes", settings.max_body);
        return Err(transport(detail));
    }
    Document::parse(&response.body).map_err(|error| FetchError::Document { url, error })
}
