//! Payload: checks the media type of an authenticated request and parses its body.
//!
//! Owns: which content types the gateway understands and how each becomes the envelope's
//! `data`:
//! - JSON (objects, arrays, any document) is kept whole and byte-exact: the envelope embeds
//!   the body as received ([`Payload::raw`]), so numbers beyond 64-bit precision, key order
//!   and escapes survive;
//! - `application/x-www-form-urlencoded` (Twilio, Slack commands, GitHub's form mode) becomes
//!   an object of its fields (a repeated field becomes an array). When the source names a
//!   field that carries JSON (`form_json_field = "payload"`: GitHub, Slack interactivity),
//!   that JSON document is the data instead.
//!
//! The parsed [`Payload::value`] (a [`Document`]) serves handshakes, schema checks and
//! locators. It runs only on [`Verified`] requests, so unauthenticated bodies are never parsed.

use std::borrow::Cow;

use hyper::header::CONTENT_TYPE;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::base::json::{self, Document};
use crate::ingest::auth::Verified;

#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error(
        "content type `{0}` is not supported; send application/json or \
         application/x-www-form-urlencoded"
    )]
    UnsupportedMediaType(String),
    #[error("request body is empty; a JSON document or form is expected")]
    Empty,
    /// The parser's message (line, column, what was expected).
    #[error("request body is not valid JSON: {0}")]
    NotJson(String),
    #[error("the record could not be written as JSON: {0}")]
    Unwritable(serde_json::Error),
    #[error("form field `{field}` is not valid JSON: {source}")]
    FormFieldNotJson {
        field: String,
        source: serde_json::Error,
    },
    #[error("form body is not valid UTF-8")]
    FormNotUtf8,
    /// Found before parsing (nothing recursive ran): `place` is `request body` or the form
    /// field.
    #[error(
        "{place} nests arrays and objects more than {limit} levels deep (at byte {offset}); \
         this source accepts at most {limit} (`max_json_depth`)"
    )]
    TooDeep {
        place: String,
        limit: usize,
        offset: usize,
    },
}

impl PayloadError {
    pub fn code(&self) -> &'static str {
        match self {
            PayloadError::UnsupportedMediaType(_) => "unsupported_media_type",
            PayloadError::Empty => "empty_body",
            PayloadError::NotJson(_) | PayloadError::FormFieldNotJson { .. } => "invalid_json",
            PayloadError::Unwritable(_) => "invalid_json",
            PayloadError::FormNotUtf8 => "invalid_form",
            PayloadError::TooDeep { .. } => "too_deep",
        }
    }
}

/// A parsed body and the media type it came with.
#[derive(Debug)]
pub struct Payload<'a> {
    /// The envelope's `data`: the JSON body as received, or the JSON made from a form.
    pub raw: Cow<'a, RawValue>,
    /// The same, parsed, for handshakes, schema checks and locators.
    pub value: Document,
    /// The `Content-Type` as sent (`None` when absent).
    pub content_type: Option<String>,
}

/// How a body is read (config `media_type = "json"`, for providers that label JSON
/// otherwise: AWS SNS sends `text/plain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    Json,
    Form,
}

use MediaType as Kind;

/// Parses the body of a verified request. A missing `Content-Type` is read as JSON, since
/// some providers omit it. `form_json_field` names a form field holding the JSON payload.
/// JSON nested deeper than `max_depth` is refused before any parsing.
pub fn parse<'a>(
    request: &'a Verified,
    form_json_field: Option<&str>,
    max_depth: usize,
) -> Result<Payload<'a>, PayloadError> {
    parse_as(request, form_json_field, max_depth, None)
}

/// [`parse`], reading the body as `media_type` whatever its `Content-Type` says, when set
/// (the `Content-Type` is still recorded as sent).
pub fn parse_as<'a>(
    request: &'a Verified,
    form_json_field: Option<&str>,
    max_depth: usize,
    media_type: Option<MediaType>,
) -> Result<Payload<'a>, PayloadError> {
    let inbound = request.inbound();
    let content_type = inbound
        .headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let kind = match (media_type, content_type.as_deref().map(kind_of)) {
        (Some(forced), _) => forced,
        (None, None) => Kind::Json,
        (None, Some(Some(kind))) => kind,
        (None, Some(None)) => {
            let mut shown = content_type.unwrap_or_default();
            shown.truncate(100);
            return Err(PayloadError::UnsupportedMediaType(shown));
        }
    };
    let body = inbound.body.trim_ascii();
    if body.is_empty() {
        return Err(PayloadError::Empty);
    }
    let (raw, value) = match kind {
        Kind::Json => {
            let value = json::parse(body, max_depth).map_err(|e| json_error(e, "request body"))?;
            // The envelope embeds the body as it came; after the parse above this check of it
            // as one JSON text cannot fail (the request_bodies fuzz target holds the two readers
            // to agreeing), and is mapped rather than unwrapped all the same.
            let raw: &RawValue =
                serde_json::from_slice(body).map_err(|e| PayloadError::NotJson(e.to_string()))?;
            (Cow::Borrowed(raw), value)
        }
        Kind::Form => {
            let value = parse_form(body, form_json_field, max_depth)?;
            let raw = serde_json::value::to_raw_value(&value).map_err(PayloadError::Unwritable)?;
            (Cow::Owned(raw), json::from_serde(&value))
        }
    };
    Ok(Payload {
        raw,
        value,
        content_type,
    })
}

fn json_error(err: json::ParseError, place: &str) -> PayloadError {
    match err {
        json::ParseError::TooDeep { limit, offset } => PayloadError::TooDeep {
            place: place.to_owned(),
            limit,
            offset,
        },
        json::ParseError::Syntax(e) => PayloadError::NotJson(e.to_string()),
    }
}

/// Form fields as a JSON object; or, when `json_field` is present, its JSON (no deeper than
/// `max_depth`).
fn parse_form(
    body: &[u8],
    json_field: Option<&str>,
    max_depth: usize,
) -> Result<Value, PayloadError> {
    if std::str::from_utf8(body).is_err() {
        return Err(PayloadError::FormNotUtf8);
    }
    let mut fields = Map::new();
    for (key, value) in form_urlencoded::parse(body) {
        if json_field == Some(key.as_ref()) {
            json::check_depth(value.as_bytes(), max_depth)
                .map_err(|e| json_error(e, &format!("form field `{key}`")))?;
            return serde_json::from_str(&value).map_err(|source| PayloadError::FormFieldNotJson {
                field: key.into_owned(),
                source,
            });
        }
        let value = Value::String(value.into_owned());
        match fields.get_mut(key.as_ref()) {
            None => {
                fields.insert(key.into_owned(), value);
            }
            Some(Value::Array(items)) => items.push(value),
            Some(first) => {
                let first = first.take();
                fields.insert(key.into_owned(), Value::Array(vec![first, value]));
            }
        }
    }
    Ok(Value::Object(fields))
}

/// JSON: `application/json`, `application/<anything>+json`, `text/json`; form:
/// `application/x-www-form-urlencoded`; with any parameters.
fn kind_of(content_type: &str) -> Option<Kind> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json"
        || essence == "text/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        Some(Kind::Json)
    } else if essence == "application/x-www-form-urlencoded" {
        Some(Kind::Form)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn media_types_are_recognised() {
        for ct in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/cloudevents+json",
            "text/json",
        ] {
            assert_eq!(kind_of(ct), Some(Kind::Json), "{ct}");
        }
        assert_eq!(
            kind_of("application/x-www-form-urlencoded; charset=utf-8"),
            Some(Kind::Form)
        );
        for ct in ["text/plain", "multipart/form-data", "application/jsonx", ""] {
            assert_eq!(kind_of(ct), None, "{ct}");
        }
    }

    #[test]
    fn forms_become_objects() {
        // Twilio-style fields; a repeated field becomes an array.
        let got = parse_form(
            b"CallSid=CA123&From=%2B14158675309&To=+18005551212&Digits=1&Digits=2",
            None,
            json::DEFAULT_MAX_DEPTH,
        )
        .expect("form");
        assert_eq!(
            got,
            json!({"CallSid": "CA123", "From": "+14158675309", "To": " 18005551212", "Digits": ["1", "2"]})
        );
    }

    #[test]
    fn a_json_form_field_is_the_payload() {
        // GitHub's form mode and Slack interactivity: `payload=<json>`.
        let got = parse_form(
            b"payload=%7B%22zen%22%3A%22hi%22%2C%22hook_id%22%3A1%7D",
            Some("payload"),
            json::DEFAULT_MAX_DEPTH,
        )
        .expect("form");
        assert_eq!(got, json!({"zen": "hi", "hook_id": 1}));
        let err = parse_form(b"payload=%7Bnope", Some("payload"), json::DEFAULT_MAX_DEPTH)
            .expect_err("bad json");
        assert_eq!(err.code(), "invalid_json");
        // Nesting is bounded inside the field as in a JSON body (`%5B` is `[`).
        let deep = format!("payload={}", "%5B".repeat(100_000));
        let err = parse_form(deep.as_bytes(), Some("payload"), json::DEFAULT_MAX_DEPTH)
            .expect_err("too deep");
        assert_eq!(err.code(), "too_deep");
        assert!(
            err.to_string().starts_with("form field `payload` nests"),
            "{err}"
        );
    }
}
