//! Dead letters: authenticated deliveries that cannot become events, kept with the reason.
//!
//! Owns: the dead-letter record contract (documented in docs/src/consumers.md, "Dead letters"). A delivery
//! that passed authentication but cannot be parsed, has no usable or allowed event type, or
//! fails its schema is not lost: with `on_invalid = "dead-letter"` (the default) it is published
//! to the source's dead-letter topic as this record and the provider gets a 2xx. The record
//! holds what a replay needs: the raw body (text, or base64 when it is not UTF-8), its content
//! type, and the headers the source's locators read (event type, delivery id), never the
//! signature headers. Pure: ids and clocks are passed in.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ingest::envelope::{rfc3339, Context};
use crate::ingest::schema::Violation;

/// Bumped only for incompatible changes to the record.
pub const DEAD_LETTER_VERSION: u32 = 1;

/// One dead-lettered delivery, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub dead_letter_version: u32,
    /// Assigned by the gateway (UUIDv7); also the id the provider was answered with.
    pub id: Uuid,
    pub received_at: String,
    pub source: String,
    pub provider: String,
    /// The error code, as a rejection would have answered it (`schema_violation`,
    /// `not_json`, `missing_event_type`, `event_not_allowed`, `no_schema`, …).
    pub reason: String,
    /// The error message, as a rejection would have answered it.
    pub message: String,
    /// Schema violations (at most `schema::MAX_REPORTED_VIOLATIONS`), else empty.
    pub errors: Vec<Violation>,
    /// The schema the payload failed, e.g. `github/push.json`.
    pub schema: Option<String>,
    /// Known when the failure came after identification.
    pub event_type: Option<String>,
    pub delivery_id: Option<String>,
    pub content_type: Option<String>,
    /// The request headers the source's locators read, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// `utf8`: `body` is the body as text; `base64`: standard base64 of its bytes.
    pub body_encoding: BodyEncoding,
    pub body: String,
    pub meta: Meta,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyEncoding {
    Utf8,
    Base64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub remote_addr: Option<String>,
    pub client_ip: Option<String>,
    /// How the delivery was authenticated (`method`, `key_index`).
    pub verified: VerifiedMeta,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedMeta {
    pub method: String,
    pub key_index: Option<usize>,
}

/// Why the delivery could not become an event.
#[derive(Debug)]
pub struct Failure<'a> {
    pub reason: &'static str,
    pub message: String,
    pub errors: Vec<Violation>,
    pub event_type: Option<&'a str>,
    pub delivery_id: Option<&'a str>,
}

/// Assembles the record. `ctx` is what an envelope would have had (`schema`: the one the
/// payload failed, if any).
pub fn build(
    ctx: Context<'_>,
    failure: Failure<'_>,
    headers: BTreeMap<String, String>,
    body: &[u8],
) -> DeadLetter {
    let (body_encoding, body) = match std::str::from_utf8(body) {
        Ok(text) => (BodyEncoding::Utf8, text.to_owned()),
        Err(_) => (
            BodyEncoding::Base64,
            base64::engine::general_purpose::STANDARD.encode(body),
        ),
    };
    DeadLetter {
        dead_letter_version: DEAD_LETTER_VERSION,
        id: ctx.id,
        received_at: rfc3339(ctx.received_at),
        source: ctx.source.to_owned(),
        provider: ctx.provider.to_owned(),
        reason: failure.reason.to_owned(),
        message: failure.message,
        errors: failure.errors,
        schema: ctx.schema.map(str::to_owned),
        event_type: failure.event_type.map(str::to_owned),
        delivery_id: failure.delivery_id.map(str::to_owned),
        content_type: ctx.content_type.map(str::to_owned),
        headers,
        body_encoding,
        body,
        meta: Meta {
            remote_addr: ctx.remote_addr.map(|a| a.to_string()),
            client_ip: ctx.client_ip.map(|a| a.to_string()),
            verified: VerifiedMeta {
                method: ctx.verified.method.to_string(),
                key_index: ctx.verified.key_index,
            },
        },
    }
}

impl DeadLetter {
    /// The body's bytes, decoded back from the record.
    pub fn body_bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        match self.body_encoding {
            BodyEncoding::Utf8 => Ok(self.body.clone().into_bytes()),
            BodyEncoding::Base64 => base64::engine::general_purpose::STANDARD.decode(&self.body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::auth::Verification;
    use std::sync::Arc;
    use time::macros::datetime;

    fn record(body: &[u8]) -> DeadLetter {
        let verified = Verification {
            method: Arc::from("hmac-sha256:x-hub-signature-256"),
            key_index: Some(0),
        };
        build(
            Context {
                id: Uuid::nil(),
                received_at: datetime!(2026-11-23 12:00 UTC),
                source: "github",
                provider: "github",
                content_type: Some("application/json"),
                remote_addr: None,
                client_ip: None,
                verified: &verified,
                schema: Some("github/push.json"),
            },
            Failure {
                reason: "schema_violation",
                message: "payload does not match schema github/push.json".to_owned(),
                errors: vec![Violation {
                    instance_path: "/ref".to_owned(),
                    schema_path: "/properties/ref/type".to_owned(),
                    message: "not a string".to_owned(),
                }],
                event_type: Some("push"),
                delivery_id: Some("d-1"),
            },
            BTreeMap::from([("x-github-event".to_owned(), "push".to_owned())]),
            body,
        )
    }

    #[test]
    fn text_bodies_stay_text_and_binary_ones_become_base64() {
        let text = record(br#"{"ref":1}"#);
        assert_eq!(text.body_encoding, BodyEncoding::Utf8);
        assert_eq!(text.body, r#"{"ref":1}"#);
        let binary = record(&[0xff, 0x00, 0x7b]);
        assert_eq!(binary.body_encoding, BodyEncoding::Base64);
        assert_eq!(binary.body, "/wB7");
        assert_eq!(binary.body_bytes().expect("decode"), vec![0xff, 0x00, 0x7b]);
    }

    #[test]
    fn the_record_round_trips_and_names_its_fields() {
        let r = record(b"{}");
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["dead_letter_version"], 1);
        assert_eq!(json["reason"], "schema_violation");
        assert_eq!(json["errors"][0]["schema_path"], "/properties/ref/type");
        assert_eq!(json["headers"]["x-github-event"], "push");
        assert_eq!(json["body_encoding"], "utf8");
        assert_eq!(json["meta"]["verified"]["key_index"], 0);
        let back: DeadLetter = serde_json::from_value(json).expect("parse");
        assert_eq!(back, r);
    }
}
