//! Event identification: where a provider puts the event type, delivery id, event time and
//! context, and reading them out of a request.
//!
//! Owns: [`Locator`] (a header or a JSON pointer) and [`EventSpec`], compiled at start-up. Pure:
//! it reads headers and the parsed payload ([`Document`]), nothing else.

use hyper::header::{HeaderMap, HeaderName};
use serde::Deserialize;
use serde_json::Value;
use sonic_rs::JsonValueTrait as _;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::base::json::{Document, Pointer};

/// Where a value is found, as written in config: `{ header = "X-GitHub-Event" }` or
/// `{ pointer = "/type" }` (RFC 6901 JSON pointer into the body), or the first of several that
/// is present: `{ first_of = [{ pointer = "/event/type" }, { pointer = "/type" }] }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Locator {
    Header(String),
    Pointer(String),
    FirstOf(Vec<Locator>),
    /// A constant, for providers that send one event type per registered URL (Nexudus).
    Value(String),
}

impl Locator {
    pub fn header(name: &str) -> Self {
        Locator::Header(name.to_owned())
    }
    pub fn pointer(pointer: &str) -> Self {
        Locator::Pointer(pointer.to_owned())
    }
}

/// Longest event type or delivery id accepted; they become topic names and Kafka keys.
pub const MAX_ID_LEN: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("no event type found ({0})")]
    MissingEventType(String),
    #[error("event type at {0} must be a non-empty string of at most 256 printable characters")]
    InvalidEventType(String),
    #[error("delivery id at {0} must be a string or number of at most 256 printable characters")]
    InvalidDeliveryId(String),
    #[error("event type `{event_type}` is not accepted by this source ({rule})")]
    NotAllowed {
        event_type: String,
        rule: &'static str,
    },
}

impl EventError {
    pub fn code(&self) -> &'static str {
        match self {
            EventError::MissingEventType(_) => "missing_event_type",
            EventError::InvalidEventType(_) => "invalid_event_type",
            EventError::InvalidDeliveryId(_) => "invalid_delivery_id",
            EventError::NotAllowed { .. } => "event_not_allowed",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LocatorError {
    #[error("`{0}` is not a valid HTTP header name")]
    HeaderName(String),
    #[error("JSON pointer `{0}` must be empty or start with '/'")]
    Pointer(String),
    #[error("`first_of` needs at least one locator")]
    Empty,
}

#[derive(Debug, Clone)]
enum Compiled {
    Header(HeaderName),
    /// The pointer as written (for messages), and compiled.
    Pointer(String, Pointer),
    FirstOf(Vec<Compiled>),
    Value(String),
}

impl Compiled {
    fn new(locator: Locator) -> Result<Self, LocatorError> {
        match locator {
            Locator::Header(h) => HeaderName::from_bytes(h.as_bytes())
                .map(Compiled::Header)
                .map_err(|_| LocatorError::HeaderName(h)),
            Locator::Pointer(p) => match Pointer::parse(&p) {
                Some(compiled) => Ok(Compiled::Pointer(p, compiled)),
                None => Err(LocatorError::Pointer(p)),
            },
            Locator::Value(v) => Ok(Compiled::Value(v)),
            Locator::FirstOf(all) if all.is_empty() => Err(LocatorError::Empty),
            Locator::FirstOf(all) => all
                .into_iter()
                .map(Compiled::new)
                .collect::<Result<_, _>>()
                .map(Compiled::FirstOf),
        }
    }

    /// Human description for error messages: `header X-GitHub-Event`, `body /type`.
    fn describe(&self) -> String {
        match self {
            Compiled::Header(h) => format!("header `{h}`"),
            Compiled::Pointer(p, _) => format!("body pointer `{p}`"),
            Compiled::FirstOf(all) => {
                let each: Vec<String> = all.iter().map(Compiled::describe).collect();
                each.join(" or ")
            }
            Compiled::Value(v) => format!("constant {}", Value::String(v.clone())),
        }
    }

    fn find<'a>(&'a self, headers: &'a HeaderMap, body: &'a Document) -> Option<Found<'a>> {
        match self {
            Compiled::Header(h) => headers.get(h).map(|v| Found::Header(v.as_bytes())),
            Compiled::Pointer(_, p) => p.find(body).filter(|v| !v.is_null()).map(Found::Json),
            Compiled::FirstOf(all) => all.iter().find_map(|c| c.find(headers, body)),
            Compiled::Value(v) => Some(Found::Text(v)),
        }
    }

    /// The first header this locator reads, if it reads one.
    fn header(&self) -> Option<&HeaderName> {
        match self {
            Compiled::Header(h) => Some(h),
            Compiled::Pointer(..) | Compiled::Value(_) => None,
            Compiled::FirstOf(all) => all.iter().find_map(Compiled::header),
        }
    }
}

enum Found<'a> {
    Header(&'a [u8]),
    Json(&'a Document),
    /// A constant from the config.
    Text(&'a str),
}

impl Found<'_> {
    /// The value as an identifier: a string (or, for JSON, a number), printable, bounded.
    fn as_id(&self) -> Option<String> {
        let s = match self {
            Found::Header(b) => std::str::from_utf8(b).ok()?.trim().to_owned(),
            Found::Text(s) => (*s).to_owned(),
            Found::Json(v) => match (v.as_str(), v.as_number()) {
                (Some(s), _) => s.to_owned(),
                (None, Some(n)) => n.to_string(),
                (None, None) => return None,
            },
        };
        let ok = !s.is_empty() && s.len() <= MAX_ID_LEN && !s.chars().any(char::is_control);
        ok.then_some(s)
    }
}

/// A source's event locators, compiled.
#[derive(Debug, Clone)]
pub struct EventSpec {
    event_type: Compiled,
    delivery_id: Option<Compiled>,
    event_time: Option<Compiled>,
    context: Option<Compiled>,
}

/// What identification found.
#[derive(Debug, Clone, PartialEq)]
pub struct Identified {
    pub event_type: String,
    pub delivery_id: Option<String>,
    /// The provider's event time, if it sent a readable one.
    pub event_time: Option<OffsetDateTime>,
    /// The provider's context object, if it sent one.
    pub context: Option<Value>,
}

impl EventSpec {
    pub fn new(
        event_type: Locator,
        delivery_id: Option<Locator>,
        event_time: Option<Locator>,
        context: Option<Locator>,
    ) -> Result<Self, LocatorError> {
        Ok(EventSpec {
            event_type: Compiled::new(event_type)?,
            delivery_id: delivery_id.map(Compiled::new).transpose()?,
            event_time: event_time.map(Compiled::new).transpose()?,
            context: context.map(Compiled::new).transpose()?,
        })
    }

    /// Whether the event type comes from a header (the `sign` command then asks for it).
    pub fn event_type_header(&self) -> Option<&HeaderName> {
        self.event_type.header()
    }

    /// Whether the delivery id comes from a header.
    pub fn delivery_id_header(&self) -> Option<&HeaderName> {
        self.delivery_id.as_ref().and_then(Compiled::header)
    }

    pub fn identify(&self, headers: &HeaderMap, body: &Document) -> Result<Identified, EventError> {
        let event_type = match self.event_type.find(headers, body) {
            None => return Err(EventError::MissingEventType(self.event_type.describe())),
            Some(found) => found
                .as_id()
                .ok_or_else(|| EventError::InvalidEventType(self.event_type.describe()))?,
        };
        let delivery_id = match &self.delivery_id {
            None => None,
            Some(loc) => match loc.find(headers, body) {
                None => None,
                Some(found) => Some(
                    found
                        .as_id()
                        .ok_or_else(|| EventError::InvalidDeliveryId(loc.describe()))?,
                ),
            },
        };
        let event_time = self
            .event_time
            .as_ref()
            .and_then(|loc| loc.find(headers, body))
            .and_then(|found| parse_time(&found));
        let context = self
            .context
            .as_ref()
            .and_then(|loc| match loc.find(headers, body)? {
                Found::Json(v) => Some(crate::base::json::to_serde(v)),
                Found::Text(s) => Some(Value::String(s.to_owned())),
                Found::Header(b) => {
                    let s = std::str::from_utf8(b).ok()?;
                    Some(serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned())))
                }
            });
        Ok(Identified {
            event_type,
            delivery_id,
            event_time,
            context,
        })
    }
}

/// RFC 3339 text, or a Unix timestamp in seconds (or milliseconds, when too large to be
/// seconds). Anything else is treated as absent: the receive time is used instead.
fn parse_time(found: &Found<'_>) -> Option<OffsetDateTime> {
    let from_number = |n: f64| {
        // 10^11 seconds is year 5138; larger values are milliseconds.
        let secs = if n.abs() >= 1e11 { n / 1000.0 } else { n };
        OffsetDateTime::from_unix_timestamp_nanos((secs * 1e9) as i128).ok()
    };
    match found {
        Found::Json(v) => match (v.as_str(), v.as_f64()) {
            (Some(s), _) => parse_time_text(s, from_number),
            (None, Some(n)) => from_number(n),
            (None, None) => None,
        },
        Found::Text(s) => parse_time_text(s, from_number),
        Found::Header(b) => parse_time_text(std::str::from_utf8(b).ok()?, from_number),
    }
}

fn parse_time_text(
    s: &str,
    from_number: impl Fn(f64) -> Option<OffsetDateTime>,
) -> Option<OffsetDateTime> {
    let s = s.trim();
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .or_else(|| s.parse::<f64>().ok().and_then(from_number))
}

/// `fields = { separator = ",", signature = "v1", timestamp = "t" }`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldsConfig {
    /// Between fields.
    #[serde(default = "FieldsConfig::default_separator")]
    pub separator: String,
    /// Name of the signature field(s).
    pub signature: String,
    /// Name of the timestamp field, if the header carries one.
    pub timestamp: Option<String>,
}

impl FieldsConfig {
    fn default_separator() -> String {
        ",".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::json::doc;
    use serde_json::json;
    use time::macros::datetime;

    fn spec(
        event_type: Locator,
        delivery_id: Option<Locator>,
        event_time: Option<Locator>,
        context: Option<Locator>,
    ) -> EventSpec {
        EventSpec::new(event_type, delivery_id, event_time, context).expect("spec")
    }

    fn header(h: &str) -> Locator {
        Locator::Header(h.to_owned())
    }
    fn pointer(p: &str) -> Locator {
        Locator::Pointer(p.to_owned())
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().expect("value"));
        }
        map
    }

    #[test]
    fn github_style_headers() {
        let s = spec(
            header("X-GitHub-Event"),
            Some(header("X-GitHub-Delivery")),
            None,
            None,
        );
        let got = s
            .identify(
                &headers(&[
                    ("x-github-event", "push"),
                    ("x-github-delivery", "72d3162e"),
                ]),
                &doc(json!({"ref": "main"})),
            )
            .expect("identified");
        assert_eq!(got.event_type, "push");
        assert_eq!(got.delivery_id.as_deref(), Some("72d3162e"));
        assert_eq!(got.event_time, None);
        assert_eq!(got.context, None);
    }

    #[test]
    fn identity_platform_body_fields() {
        // Seed 002: {event_time, event_type, current_context, data}
        let s = spec(
            pointer("/event_type"),
            Some(pointer("/id")),
            Some(pointer("/event_time")),
            Some(pointer("/current_context")),
        );
        let body = doc(json!({
            "event_time": "2024-03-01T10:00:00Z",
            "event_type": "USER_CREATED",
            "current_context": {"tenant": "acme"},
            "data": {"sub": "123"}
        }));
        let got = s.identify(&HeaderMap::new(), &body).expect("identified");
        assert_eq!(got.event_type, "USER_CREATED");
        assert_eq!(got.delivery_id, None);
        assert_eq!(got.event_time, Some(datetime!(2024-03-01 10:00:00 UTC)));
        assert_eq!(got.context, Some(json!({"tenant": "acme"})));
    }

    #[test]
    fn numeric_times_and_ids() {
        let s = spec(
            pointer("/t"),
            Some(pointer("/id")),
            Some(pointer("/at")),
            None,
        );
        let got = s
            .identify(
                &HeaderMap::new(),
                &doc(json!({"t": "x", "id": 42, "at": 1_700_000_000_000u64})),
            )
            .expect("identified");
        assert_eq!(got.delivery_id.as_deref(), Some("42"));
        assert_eq!(got.event_time, Some(datetime!(2023-11-14 22:13:20 UTC)));
        let got = s
            .identify(
                &HeaderMap::new(),
                &doc(json!({"t": "x", "at": "yesterday"})),
            )
            .expect("identified");
        assert_eq!(
            got.event_time, None,
            "unreadable times fall back to receive time"
        );
    }

    #[test]
    fn missing_or_bad_event_type_is_an_error() {
        let s = spec(pointer("/type"), None, None, None);
        let code = |body: Value| {
            s.identify(&HeaderMap::new(), &doc(body))
                .expect_err("err")
                .code()
        };
        assert_eq!(code(json!({})), "missing_event_type");
        assert_eq!(code(json!({"type": null})), "missing_event_type");
        assert_eq!(code(json!({"type": ""})), "invalid_event_type");
        assert_eq!(code(json!({"type": {"a": 1}})), "invalid_event_type");
        assert_eq!(code(json!({"type": "a\nb"})), "invalid_event_type");
        assert_eq!(code(json!({"type": "x".repeat(257)})), "invalid_event_type");
        let err = s
            .identify(&HeaderMap::new(), &doc(json!({})))
            .expect_err("err");
        assert_eq!(
            err.to_string(),
            "no event type found (body pointer `/type`)"
        );
    }

    #[test]
    fn bad_locators_are_config_errors() {
        assert!(EventSpec::new(pointer("type"), None, None, None).is_err());
        assert!(EventSpec::new(header("bad header"), None, None, None).is_err());
    }
}
