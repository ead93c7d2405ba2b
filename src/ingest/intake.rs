//! Intake: turns an HTTP request into an [`Inbound`]: headers plus the complete raw body, read
//! under the source's size limit and the body read timeout, and inflated when it arrives
//! `Content-Encoding: gzip`.
//!
//! Owns: body limits, read timeouts and transfer decompression. Providers sign the payload,
//! not its transfer encoding, so `auth` sees the inflated bytes; the inflated size is capped by
//! the same limit, so a gzip bomb gets 413, not the gateway's memory. Nothing here looks inside
//! the payload.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Body;
use std::io::Read as _;
use std::time::Duration;

use hyper::header::{HeaderMap, CONTENT_ENCODING, CONTENT_LENGTH};
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
    #[error("request body inflates to more than this source's limit of {limit} bytes")]
    InflatedTooLarge { limit: usize },
    #[error("could not read the request body: {0}")]
    Read(String),
    #[error("the request body did not arrive within {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("content encoding `{0}` is not supported; send identity or gzip")]
    UnsupportedEncoding(String),
    #[error("the gzip body is corrupt")]
    BadGzip,
}

impl IntakeError {
    pub fn code(&self) -> &'static str {
        match self {
            IntakeError::TooLarge { .. } | IntakeError::InflatedTooLarge { .. } => "body_too_large",
            IntakeError::Read(_) => "body_unreadable",
            IntakeError::Timeout(_) => "body_timeout",
            IntakeError::UnsupportedEncoding(_) => "unsupported_content_encoding",
            IntakeError::BadGzip => "invalid_gzip",
        }
    }
}

/// How much and how long intake waits for.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body, before and after inflating.
    pub max_body_bytes: usize,
    /// Longest wait for the whole body once the headers arrived.
    pub body_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
}

fn encoding(headers: &HeaderMap) -> Result<Encoding, IntakeError> {
    let Some(value) = headers.get(CONTENT_ENCODING) else {
        return Ok(Encoding::Identity);
    };
    let text = String::from_utf8_lossy(value.as_bytes())
        .trim()
        .to_ascii_lowercase();
    match text.as_str() {
        "" | "identity" => Ok(Encoding::Identity),
        "gzip" | "x-gzip" => Ok(Encoding::Gzip),
        _ => {
            let mut shown = text;
            shown.truncate(40);
            Err(IntakeError::UnsupportedEncoding(shown))
        }
    }
}

/// Inflates `compressed`, refusing to produce more than `limit` bytes.
fn gunzip(compressed: &[u8], limit: usize) -> Result<Bytes, IntakeError> {
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(4).min(limit));
    let mut decoder = flate2::read::GzDecoder::new(compressed).take(limit as u64 + 1);
    decoder
        .read_to_end(&mut out)
        .map_err(|_| IntakeError::BadGzip)?;
    if out.len() > limit {
        return Err(IntakeError::InflatedTooLarge { limit });
    }
    Ok(Bytes::from(out))
}

/// Reads the whole body, refusing more than `limits.max_body_bytes` bytes (compressed or
/// inflated) or a body slower than `limits.body_timeout`. A `Content-Length` above the limit is
/// refused before any byte is read.
pub async fn read<B>(
    req: Request<B>,
    limits: Limits,
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
    let limit = limits.max_body_bytes;
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(IntakeError::TooLarge { limit });
    }
    let encoding = encoding(req.headers())?;
    let (parts, body) = req.into_parts();
    let collected = tokio::time::timeout(limits.body_timeout, Limited::new(body, limit).collect())
        .await
        .map_err(|_| IntakeError::Timeout(limits.body_timeout))?;
    let body = collected
        .map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                IntakeError::TooLarge { limit }
            } else {
                IntakeError::Read(e.to_string())
            }
        })?
        .to_bytes();
    let body = match encoding {
        Encoding::Identity => body,
        Encoding::Gzip => gunzip(&body, limit)?,
    };
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

    fn limits(max_body_bytes: usize) -> Limits {
        Limits {
            max_body_bytes,
            body_timeout: Duration::from_secs(5),
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).expect("write");
        e.finish().expect("finish")
    }

    #[tokio::test]
    async fn gzip_bodies_are_inflated_under_the_limit() {
        let packed = gzip(b"{\"a\":1}");
        let req = Request::builder()
            .header(CONTENT_ENCODING, "gzip")
            .body(Full::new(Bytes::from(packed)))
            .expect("request");
        let inbound = read(req, limits(100), None).await.expect("read");
        assert_eq!(&inbound.body[..], b"{\"a\":1}");
    }

    #[tokio::test]
    async fn a_gzip_bomb_is_refused() {
        // 10 MB of zeros packs into about 10 KB.
        let packed = gzip(&vec![0u8; 10 * 1024 * 1024]);
        assert!(packed.len() < 64 * 1024);
        let req = Request::builder()
            .header(CONTENT_ENCODING, "gzip")
            .body(Full::new(Bytes::from(packed)))
            .expect("request");
        let err = read(req, limits(64 * 1024), None).await.expect_err("bomb");
        assert!(matches!(err, IntakeError::InflatedTooLarge { .. }), "{err}");
    }

    #[tokio::test]
    async fn other_encodings_and_corrupt_gzip_are_refused() {
        let req = Request::builder()
            .header(CONTENT_ENCODING, "br")
            .body(Full::new(Bytes::from_static(b"x")))
            .expect("request");
        assert_eq!(
            read(req, limits(10), None).await.expect_err("br").code(),
            "unsupported_content_encoding"
        );
        let req = Request::builder()
            .header(CONTENT_ENCODING, "gzip")
            .body(Full::new(Bytes::from_static(b"not gzip")))
            .expect("request");
        assert_eq!(
            read(req, limits(10), None).await.expect_err("bad").code(),
            "invalid_gzip"
        );
    }

    #[tokio::test]
    async fn body_within_limit_is_read_whole() {
        let inbound = read(request("hello", None), limits(5), None)
            .await
            .expect("read");
        assert_eq!(&inbound.body[..], b"hello");
    }

    #[tokio::test]
    async fn body_over_limit_is_refused() {
        let err = read(request("hello!", None), limits(5), None)
            .await
            .expect_err("too large");
        assert_eq!(err.code(), "body_too_large");
    }

    #[tokio::test]
    async fn declared_length_over_limit_is_refused_early() {
        let err = read(request("", Some("999")), limits(5), None)
            .await
            .expect_err("too large");
        assert!(matches!(err, IntakeError::TooLarge { limit: 5 }));
    }
}
