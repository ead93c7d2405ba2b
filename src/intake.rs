//! Intake: turns an HTTP request into an [`Inbound`]: headers plus the complete raw body, read
//! under the source's size limit.
//!
//! Owns: body limits. It does not look inside the body; authentication needs the exact bytes
//! the provider signed, so nothing may parse or re-encode them before `auth`.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Body;
use hyper::header::{HeaderMap, CONTENT_LENGTH};
use hyper::{Method, Request, Uri};

/// A received request, not yet authenticated.
#[derive(Debug)]
pub struct Inbound {
    pub method: Method,
    /// Path and query as received (some providers sign the URL).
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub remote_addr: Option<SocketAddr>,
}

impl Inbound {
    /// An already-read request (tests and benchmarks; the server uses [`read`]).
    pub fn new(headers: HeaderMap, body: Bytes, remote_addr: Option<SocketAddr>) -> Self {
        Inbound {
            method: Method::POST,
            uri: Uri::from_static("/"),
            headers,
            body,
            remote_addr,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("request body is larger than this source's limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("could not read the request body: {0}")]
    Read(String),
}

impl IntakeError {
    pub fn code(&self) -> &'static str {
        match self {
            IntakeError::TooLarge { .. } => "body_too_large",
            IntakeError::Read(_) => "body_unreadable",
        }
    }
}

/// Reads the whole body, refusing more than `limit` bytes. A `Content-Length` above the limit
/// is refused before any byte is read.
pub async fn read<B>(
    req: Request<B>,
    limit: usize,
    remote_addr: Option<SocketAddr>,
) -> Result<Inbound, IntakeError>
where
    B: Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(IntakeError::TooLarge { limit });
    }
    let (parts, body) = req.into_parts();
    let body = Limited::new(body, limit)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                IntakeError::TooLarge { limit }
            } else {
                IntakeError::Read(e.to_string())
            }
        })?
        .to_bytes();
    Ok(Inbound {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body,
        remote_addr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    fn request(body: &'static str, content_length: Option<&str>) -> Request<Full<Bytes>> {
        let mut b = Request::builder().method("POST").uri("/webhooks/x");
        if let Some(n) = content_length {
            b = b.header(CONTENT_LENGTH, n);
        }
        b.body(Full::new(Bytes::from_static(body.as_bytes())))
            .expect("request")
    }

    #[tokio::test]
    async fn body_within_limit_is_read_whole() {
        let inbound = read(request("hello", None), 5, None).await.expect("read");
        assert_eq!(&inbound.body[..], b"hello");
    }

    #[tokio::test]
    async fn body_over_limit_is_refused() {
        let err = read(request("hello!", None), 5, None)
            .await
            .expect_err("too large");
        assert_eq!(err.code(), "body_too_large");
    }

    #[tokio::test]
    async fn declared_length_over_limit_is_refused_early() {
        let err = read(request("", Some("999")), 5, None)
            .await
            .expect_err("too large");
        assert!(matches!(err, IntakeError::TooLarge { limit: 5 }));
    }
}
