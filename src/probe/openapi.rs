//! The service's `GET /openapi.json`, fetched (free: no query spent) with a probe's client settings and kept
//! once per process per target: `drift` and `expect.openapi` read it, and a 404 finding names a close path
//! from it once it is here (the fetch adapter of [`crate::drift`]).

use super::exchange::PreparedRequest;
use super::{
    Evaluation, FailureClass, Finding, HttpResponse, ProbeSpec, RequestSpec, TransportFailure,
    Verdict, body_excerpt,
};
use crate::drift::{Document, DocumentError, response_findings};
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
    /// How an HTTPS target is trusted.
    pub tls: crate::tls::TlsSettings,
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

/// How long a fetched document answers for its target: a redeployed service's new document is fetched
/// within this long (one free GET per target per period).
pub const DOCUMENT_KEPT: std::time::Duration = std::time::Duration::from_secs(300);

/// Per target: when its document was fetched, and the document.
type Cache = Mutex<HashMap<String, (std::time::Instant, Arc<Document>)>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Cache::default)
}

fn key(target: &url::Url) -> String {
    target.as_str().trim_end_matches('/').to_owned()
}

/// The document of `target` when this process has fetched it already (however long ago).
pub fn cached_document(target: &url::Url) -> Option<Arc<Document>> {
    cache()
        .lock()
        .ok()?
        .get(&key(target))
        .map(|(_, d)| d.clone())
}

/// Whether a document fetched at `fetched` still answers at `now`.
fn fresh(fetched: std::time::Instant, now: std::time::Instant) -> bool {
    now.saturating_duration_since(fetched) < DOCUMENT_KEPT
}

/// The document of `target`: the one this process fetched less than [`DOCUMENT_KEPT`] ago, else fetched now
/// (and kept when it parses).
pub async fn document(
    target: &url::Url,
    settings: &FetchSettings,
) -> Result<Arc<Document>, FetchError> {
    let now = std::time::Instant::now();
    let kept = cache()
        .lock()
        .ok()
        .and_then(|c| c.get(&key(target)).cloned());
    if let Some((fetched, document)) = kept
        && fresh(fetched, now)
    {
        return Ok(document);
    }
    let document = Arc::new(fetch(target, settings).await?);
    if let Ok(mut cache) = cache().lock() {
        cache.insert(key(target), (now, document.clone()));
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
        tls: settings.tls.clone(),
    };
    let url = super::request_url(target, OPENAPI_PATH);
    let transport = |detail: String| FetchError::Transport {
        url: url.clone(),
        detail,
    };
    let request = PreparedRequest::new(&spec, target).map_err(transport)?;
    let client = super::timing_client::load_client_with(
        settings.connect_timeout,
        &settings.tls,
        request.resolve(),
    )
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

/// What the service's document adds to a judged run of `spec`: with `expect.openapi`, each way the body of
/// an expected status breaks its declared schema (a document that cannot be had is a finding too; class
/// `contract`); a 404 to a GET names the closest path the document lists, when this process has it.
pub async fn with_document(
    spec: &ProbeSpec,
    request: &str,
    target: &url::Url,
    outcome: &Result<HttpResponse, TransportFailure>,
    mut evaluation: Evaluation,
) -> Evaluation {
    let Ok(response) = outcome else {
        return evaluation;
    };
    let judged = evaluation.verdict != Verdict::Inconclusive && !response.over_cap;
    if spec.expect.openapi && judged && spec.expect.status.matches(response.status) {
        let settings = FetchSettings {
            headers: spec.request.headers.clone(),
            timeout: spec.request.timeout,
            connect_timeout: spec.request.connect_timeout,
            max_body: crate::config::DEFAULT_MAX_BODY,
            tls: spec.request.tls.clone(),
        };
        let findings = match document(target, &settings).await {
            Ok(doc) => response_findings(&doc, request, response.status, &response.body),
            Err(error) => {
                let line = format!("GET {OPENAPI_PATH}");
                let expected = "the service's OpenAPI document";
                vec![Finding::of_request(
                    "openapi",
                    &line,
                    expected,
                    error.to_string(),
                    None,
                )]
            }
        };
        if !findings.is_empty() && evaluation.verdict == Verdict::Pass {
            evaluation.verdict = Verdict::Fail;
            evaluation.class = Some(FailureClass::Contract);
        }
        evaluation.findings.extend(findings);
    }
    if response.status == 404 && spec.request.method == "GET" {
        name_a_close_path(target, &spec.request.path, &mut evaluation.findings);
    }
    evaluation
}

/// Appends `; the service's document lists GET /health` to a 404's status finding, when this process has
/// the document and it does not list the path asked for.
fn name_a_close_path(target: &url::Url, path: &str, findings: &mut [Finding]) {
    let Some(doc) = cached_document(target) else {
        return;
    };
    if doc.find("GET", path).is_some() {
        return;
    }
    let closest = doc.closest("GET", path);
    if let (Some(op), Some(status)) = (closest, findings.iter_mut().find(|f| f.check == "status")) {
        status
            .message
            .push_str(&format!("; the service's document lists {op}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_fetched_document_answers_for_five_minutes() {
        let fetched = Instant::now();
        for (after, answers) in [
            (Duration::ZERO, true),
            (Duration::from_secs(299), true),
            (Duration::from_secs(300), false),
            (Duration::from_secs(3600), false),
        ] {
            assert_eq!(fresh(fetched, fetched + after), answers, "{after:?}");
        }
    }
}
