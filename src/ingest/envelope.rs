//! Envelope: the one JSON shape every published event has, whatever its provider.
//!
//! Owns: the envelope contract downstream consumers rely on (documented in docs/src/consumers.md, "The
//! envelope"). Pure: ids and clocks are passed in, so building is deterministic and testable.
//! Fields are only ever added, never renamed or removed, within an `envelope_version`.

use std::net::SocketAddr;

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ingest::auth::Verification;

/// Bumped only for incompatible changes to the envelope.
pub const ENVELOPE_VERSION: u32 = 1;

/// A normalized event, ready to serialize.
#[derive(Debug, Serialize)]
pub struct Envelope<'a> {
    pub envelope_version: u32,
    /// Assigned by the gateway (UUIDv7: unique and time-ordered).
    pub id: Uuid,
    /// The configured source name (URL segment).
    pub source: &'a str,
    pub provider: &'a str,
    pub event_type: &'a str,
    /// The provider's event time when it sent one, else `received_at` (RFC 3339, UTC).
    pub event_time: String,
    pub received_at: String,
    pub delivery_id: Option<&'a str>,
    /// The provider's context object, or `{}`.
    pub current_context: &'a Value,
    /// The payload, byte for byte as received.
    pub data: &'a RawValue,
    pub meta: Meta<'a>,
}

/// Facts about the delivery rather than the event.
#[derive(Debug, Serialize)]
pub struct Meta<'a> {
    pub content_type: Option<&'a str>,
    pub remote_addr: Option<String>,
    /// The client's address: the TCP peer, or the address trusted proxies named.
    pub client_ip: Option<String>,
    /// How the delivery was authenticated.
    pub verified: &'a Verification,
    /// The schema that validated `data`, e.g. `github/push.json`, or null.
    pub schema: Option<&'a str>,
    /// `"provider"` when `event_time` came from the payload, `"received"` otherwise.
    pub event_time_source: &'static str,
}

/// Inputs that do not come from the payload.
#[derive(Debug)]
pub struct Context<'a> {
    pub id: Uuid,
    pub received_at: OffsetDateTime,
    pub source: &'a str,
    pub provider: &'a str,
    pub content_type: Option<&'a str>,
    pub remote_addr: Option<SocketAddr>,
    pub client_ip: Option<std::net::IpAddr>,
    pub verified: &'a Verification,
    pub schema: Option<&'a str>,
}

static EMPTY_OBJECT: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| Value::Object(serde_json::Map::new()));

/// Assembles the envelope.
pub fn build<'a>(
    ctx: Context<'a>,
    event: &'a crate::ingest::event::Identified,
    data: &'a RawValue,
) -> Envelope<'a> {
    let (event_time, event_time_source) = match event.event_time {
        Some(t) => (t, "provider"),
        None => (ctx.received_at, "received"),
    };
    Envelope {
        envelope_version: ENVELOPE_VERSION,
        id: ctx.id,
        source: ctx.source,
        provider: ctx.provider,
        event_type: &event.event_type,
        event_time: rfc3339(event_time),
        received_at: rfc3339(ctx.received_at),
        delivery_id: event.delivery_id.as_deref(),
        current_context: event.context.as_ref().unwrap_or(&EMPTY_OBJECT),
        data,
        meta: Meta {
            content_type: ctx.content_type,
            remote_addr: ctx.remote_addr.map(|a| a.to_string()),
            client_ip: ctx.client_ip.map(|a| a.to_string()),
            verified: ctx.verified,
            schema: ctx.schema,
            event_time_source,
        },
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
/// The shape of published records (a source's `format`).
pub enum RecordFormat {
    /// The envelope (docs/src/consumers.md, "The envelope").
    #[default]
    Envelope,
    /// A CloudEvents 1.0 structured-mode JSON record (`content-type:
    /// application/cloudevents+json`).
    CloudEvents,
}

/// The record value and its `content-type` for `format`.
pub fn serialize(
    envelope: &Envelope<'_>,
    format: RecordFormat,
    ce_source: &str,
) -> Result<(Vec<u8>, &'static str), serde_json::Error> {
    Ok(match format {
        RecordFormat::Envelope => (
            serde_json::to_vec(envelope)?,
            crate::delivery::publish::JSON,
        ),
        RecordFormat::CloudEvents => (
            serde_json::to_vec(&envelope.to_cloudevent(ce_source))?,
            crate::delivery::publish::CLOUDEVENTS_JSON,
        ),
    })
}

/// A CloudEvents 1.0 event in structured JSON mode: the same event as [`Envelope`], for
/// consumers that already speak CloudEvents. `data` is the payload as received; the provider,
/// source name and delivery id ride as extension attributes.
#[derive(Debug, Serialize)]
pub struct CloudEvent<'a> {
    pub specversion: &'static str,
    /// The gateway's id (as the envelope's).
    pub id: Uuid,
    /// `/webhooks/{source}`.
    pub source: &'a str,
    /// The event type.
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub time: &'a str,
    pub datacontenttype: &'static str,
    /// The schema that validated `data`, when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataschema: Option<String>,
    /// Extension: the provider (preset name or label).
    pub provider: &'a str,
    /// Extension: the provider's delivery id, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveryid: Option<&'a str>,
    /// Extension: when the gateway received it.
    pub receivedat: &'a str,
    pub data: &'a RawValue,
}

impl<'a> Envelope<'a> {
    /// The same event as a CloudEvent; `ce_source` is `/webhooks/{source}`.
    pub fn to_cloudevent(&'a self, ce_source: &'a str) -> CloudEvent<'a> {
        CloudEvent {
            specversion: "1.0",
            id: self.id,
            source: ce_source,
            kind: self.event_type,
            time: &self.event_time,
            datacontenttype: "application/json",
            dataschema: self.meta.schema.map(|s| format!("schemas/{s}")),
            provider: self.provider,
            deliveryid: self.delivery_id,
            receivedat: &self.received_at,
            data: self.data,
        }
    }
}

/// RFC 3339 in UTC. Formatting a valid UTC time cannot fail; the fallback keeps this total.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::event::Identified;
    use serde_json::json;
    use std::sync::Arc;
    use time::macros::datetime;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).expect("raw json")
    }

    fn verification() -> Verification {
        Verification {
            method: Arc::from("hmac-sha256:x-hub-signature-256"),
            key_index: Some(0),
        }
    }

    fn ctx(v: &Verification) -> Context<'_> {
        Context {
            id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
            received_at: datetime!(2026-11-23 12:00:00.5 UTC),
            source: "gh",
            provider: "github",
            content_type: Some("application/json"),
            remote_addr: Some("127.0.0.1:5555".parse().expect("addr")),
            client_ip: Some("127.0.0.1".parse().expect("ip")),
            verified: v,
            schema: Some("github/push.json"),
        }
    }

    #[test]
    fn envelope_has_the_documented_shape() {
        let v = verification();
        let event = Identified {
            event_type: "push".into(),
            delivery_id: Some("abc".into()),
            event_time: None,
            context: None,
        };
        let data = raw(r#"{"ref": "main"}"#);
        let got = serde_json::to_value(build(ctx(&v), &event, &data)).expect("json");
        assert_eq!(
            got,
            json!({
                "envelope_version": 1,
                "id": "01900000-0000-7000-8000-000000000001",
                "source": "gh",
                "provider": "github",
                "event_type": "push",
                "event_time": "2026-11-23T12:00:00.5Z",
                "received_at": "2026-11-23T12:00:00.5Z",
                "delivery_id": "abc",
                "current_context": {},
                "data": {"ref": "main"},
                "meta": {
                    "content_type": "application/json",
                    "remote_addr": "127.0.0.1:5555",
                    "client_ip": "127.0.0.1",
                    "verified": {"method": "hmac-sha256:x-hub-signature-256", "key_index": 0},
                    "schema": "github/push.json",
                    "event_time_source": "received"
                }
            })
        );
    }

    #[test]
    fn data_keeps_the_exact_bytes() {
        let v = verification();
        let event = Identified {
            event_type: "x".into(),
            delivery_id: None,
            event_time: None,
            context: None,
        };
        let data = raw(r#"{"amount": 123456789012345678901234567890, "z": 1, "a": "\u00e9"}"#);
        let text = serde_json::to_string(&build(ctx(&v), &event, &data)).expect("json");
        assert!(
            text.contains(
                r#""data":{"amount": 123456789012345678901234567890, "z": 1, "a": "\u00e9"}"#
            ),
            "{text}"
        );
    }

    #[test]
    fn provider_time_and_context_are_used_when_present() {
        let v = verification();
        let event = Identified {
            event_type: "USER_CREATED".into(),
            delivery_id: None,
            event_time: Some(datetime!(2024-01-02 03:04:05 +02:00)),
            context: Some(json!({"tenant": "t1"})),
        };
        let data = raw("{}");
        let got = serde_json::to_value(build(ctx(&v), &event, &data)).expect("json");
        assert_eq!(got["event_time"], "2024-01-02T01:04:05Z");
        assert_eq!(got["current_context"], json!({"tenant": "t1"}));
        assert_eq!(got["delivery_id"], Value::Null);
        assert_eq!(got["meta"]["event_time_source"], "provider");
    }
}
