//! Payload: checks the media type of an authenticated request and parses its body.
//!
//! Owns: which content types the gateway understands. JSON objects and arrays are kept whole
//! and byte-exact: the envelope embeds the body as received ([`Payload::raw`]), so numbers
//! beyond 64-bit precision, key order and escapes survive. The parsed [`Payload::value`] serves
//! schema checks and locators. It runs only on [`Verified`] requests, so unauthenticated bodies
//! are never parsed.

use hyper::header::CONTENT_TYPE;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::auth::Verified;

#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("content type `{0}` is not supported; send application/json")]
    UnsupportedMediaType(String),
    #[error("request body is empty; a JSON document is expected")]
    Empty,
    #[error("request body is not valid JSON: {0}")]
    NotJson(serde_json::Error),
}

impl PayloadError {
    pub fn code(&self) -> &'static str {
        match self {
            PayloadError::UnsupportedMediaType(_) => "unsupported_media_type",
            PayloadError::Empty => "empty_body",
            PayloadError::NotJson(_) => "invalid_json",
        }
    }
}

/// A parsed body and the media type it came with.
#[derive(Debug)]
pub struct Payload<'a> {
    /// The body as received, checked to be one JSON document.
    pub raw: &'a RawValue,
    /// The body parsed, for schema checks and locators.
    pub value: Value,
    /// The `Content-Type` as sent (`None` when absent).
    pub content_type: Option<String>,
}

/// Parses the body of a verified request. A missing `Content-Type` is read as JSON, since
/// some providers omit it.
pub fn parse(request: &Verified) -> Result<Payload<'_>, PayloadError> {
    let inbound = request.inbound();
    let content_type = inbound
        .headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if let Some(ct) = &content_type {
        if !is_json(ct) {
            let mut shown = ct.clone();
            shown.truncate(100);
            return Err(PayloadError::UnsupportedMediaType(shown));
        }
    }
    if inbound.body.iter().all(u8::is_ascii_whitespace) {
        return Err(PayloadError::Empty);
    }
    let value = serde_json::from_slice(&inbound.body).map_err(PayloadError::NotJson)?;
    // Cannot fail after the parse above; mapped anyway rather than unwrapped.
    let raw: &RawValue =
        serde_json::from_slice(inbound.body.trim_ascii()).map_err(PayloadError::NotJson)?;
    Ok(Payload {
        raw,
        value,
        content_type,
    })
}

/// `application/json`, `application/<anything>+json`, `text/json`, with any parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence == "text/json" || {
        essence.starts_with("application/") && essence.ends_with("+json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types_are_recognised() {
        for ct in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/cloudevents+json",
            "text/json",
        ] {
            assert!(is_json(ct), "{ct}");
        }
        for ct in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/jsonx",
            "",
        ] {
            assert!(!is_json(ct), "{ct}");
        }
    }
}
