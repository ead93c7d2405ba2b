//! Replay: turning a dead letter back into an event once the schema or config that refused it
//! has been fixed.
//!
//! Owns: the rules of a replay. A dead letter was authenticated when it arrived (its
//! `meta.verified` says how), so it is not verified again; everything after authentication
//! runs again with the *current* config and schemas: parsing, event type, allowed events,
//! schema, envelope, topic. The revived envelope keeps the dead letter's id and receive time,
//! so consumers that deduplicate on `id` or `delivery_id` see one event however often it is
//! replayed. The stages after identification are the pipeline's own ([`prepare`]). Pure: the
//! `replay` command does the Kafka reading and publishing.

use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::delivery::topic::TopicBudget;
use crate::ingest::auth::AuthConfig;
use crate::ingest::auth::{Verification, Verifier};
use crate::ingest::deadletter::DeadLetter;
use crate::ingest::error::WebhookError;
use crate::ingest::intake::Inbound;
use crate::ingest::payload;
use crate::ingest::pipeline::{prepare, Origin, Prepared};
use crate::ingest::schema::SchemaRegistry;
use crate::ingest::source::Source;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The current config or schemas still refuse it.
    #[error("{}", .0)]
    StillInvalid(#[from] WebhookError),
    #[error("the dead letter is unreadable: {0}")]
    Corrupt(String),
}

impl ReplayError {
    /// The code for reports: the webhook error's code, or `corrupt_dead_letter`.
    pub fn code(&self) -> &'static str {
        match self {
            ReplayError::StillInvalid(e) => e.code(),
            ReplayError::Corrupt(_) => "corrupt_dead_letter",
        }
    }
}

/// Runs `dead` through the stages after authentication with `source`'s current config and
/// `schemas`; new event-type topics count against `topics` as in the gateway.
pub fn revive(
    dead: &DeadLetter,
    source: &Source,
    schemas: &SchemaRegistry,
    topics: &TopicBudget,
) -> Result<Prepared, ReplayError> {
    let corrupt = |what: &str| ReplayError::Corrupt(what.to_owned());
    let body = dead
        .body_bytes()
        .map_err(|_| corrupt("`body` is not valid base64"))?;
    let received_at = OffsetDateTime::parse(&dead.received_at, &Rfc3339)
        .map_err(|_| corrupt("`received_at` is not RFC 3339"))?;
    let mut headers = HeaderMap::new();
    for (name, value) in &dead.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| corrupt("a header name"))?;
        let value = HeaderValue::from_str(value).map_err(|_| corrupt("a header value"))?;
        headers.insert(name, value);
    }
    if let Some(ct) = &dead.content_type {
        let value = HeaderValue::from_str(ct).map_err(|_| corrupt("`content_type`"))?;
        headers.insert(CONTENT_TYPE, value);
    }
    // Authenticated on arrival; `meta.verified` carries how into the revived envelope.
    let verified = Verifier::new(&AuthConfig::None, Vec::new(), None)
        .map_err(|e| corrupt(&e.to_string()))?
        .verify_sync(Inbound::new(headers, Bytes::from(body), None), 0)
        .map_err(|e| corrupt(&e.to_string()))?;
    let original = Verification {
        method: Arc::from(dead.meta.verified.method.as_str()),
        key_index: dead.meta.verified.key_index,
    };

    let payload = payload::parse_as(
        &verified,
        source.form_json_field.as_deref(),
        source.max_json_depth,
        source.media_type,
    )
    .map_err(WebhookError::from)?;
    let event = source
        .event
        .identify(&verified.inbound().headers, &payload.value)
        .map_err(WebhookError::from)?;
    source
        .check_event_type(&event.event_type)
        .map_err(WebhookError::from)?;
    let origin = Origin {
        id: dead.id,
        received_at,
        remote_addr: dead
            .meta
            .remote_addr
            .as_deref()
            .and_then(|a| a.parse().ok()),
        client_ip: dead.meta.client_ip.as_deref().and_then(|a| a.parse().ok()),
        verified: &original,
    };
    Ok(prepare(schemas, topics, source, &payload, &event, origin)?)
}
