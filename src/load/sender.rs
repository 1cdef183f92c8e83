//! The sending half of a load connection and the body of its answer, for HTTP/1.1 (hyper's client
//! connection) and HTTP/2 (the h2 crate directly: a request is a stream opened from the worker's own task,
//! with no dispatch channel and no task spawned per request, as hyper's HTTP/2 client does).

use super::http_version::HttpVersion;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::header::CONTENT_LENGTH;
use hyper::{Request, Response};

/// What an HTTP/1.1 request carries.
pub type Http1Body = Full<Bytes>;

#[derive(Debug)]
pub enum Sender {
    Http1(http1::SendRequest<Http1Body>),
    Http2(h2::client::SendRequest<Bytes>),
}

/// The body of a response, read chunk by chunk.
#[derive(Debug)]
pub enum Incoming {
    Http1(hyper::body::Incoming),
    Http2(h2::RecvStream),
}

impl Sender {
    /// Waits until the connection can take a request; an error means it is gone.
    pub async fn ready(&mut self) -> Result<(), String> {
        match self {
            Sender::Http1(s) => s.ready().await.map_err(|e| e.to_string()),
            Sender::Http2(s) => std::future::poll_fn(|cx| s.poll_ready(cx))
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// Sends `head` with `body`; the response head and its body to read.
    pub async fn send(
        &mut self,
        head: Request<()>,
        body: Option<&Bytes>,
    ) -> Result<Response<Incoming>, String> {
        match self {
            Sender::Http1(s) => {
                let request = head.map(|()| Full::new(body.cloned().unwrap_or_default()));
                let response = s.send_request(request).await.map_err(|e| e.to_string())?;
                Ok(response.map(Incoming::Http1))
            }
            Sender::Http2(s) => {
                let (response, mut stream) = s
                    .send_request(head, body.is_none())
                    .map_err(|e| e.to_string())?;
                if let Some(body) = body {
                    stream
                        .send_data(body.clone(), true)
                        .map_err(|e| e.to_string())?;
                }
                let response = response.await.map_err(|e| e.to_string())?;
                Ok(response.map(Incoming::Http2))
            }
        }
    }

    pub fn version(&self) -> HttpVersion {
        match self {
            Sender::Http1(_) => HttpVersion::Http1,
            Sender::Http2(_) => HttpVersion::Http2,
        }
    }
}

/// The body length `response` declares (`Content-Length`), when it does.
pub fn declared_length(response: &Response<Incoming>) -> Option<u64> {
    match response.body() {
        Incoming::Http1(body) => hyper::body::Body::size_hint(body).exact(),
        Incoming::Http2(_) => response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok()),
    }
}

impl Incoming {
    /// The next chunk of data; `None` at the end of the body.
    pub async fn chunk(&mut self) -> Option<Result<Bytes, String>> {
        match self {
            Incoming::Http1(body) => loop {
                match body.frame().await? {
                    Ok(frame) => {
                        if let Ok(data) = frame.into_data() {
                            return Some(Ok(data));
                        }
                    }
                    Err(e) => return Some(Err(e.to_string())),
                }
            },
            Incoming::Http2(stream) => {
                let data = stream.data().await?;
                Some(
                    data.and_then(|data| {
                        // Let the server send more: the chunk is consumed.
                        stream.flow_control().release_capacity(data.len())?;
                        Ok(data)
                    })
                    .map_err(|e| e.to_string()),
                )
            }
        }
    }
}
