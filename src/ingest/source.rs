//! A source at run time: everything the pipeline needs to take one provider account's
//! webhooks, compiled once (by `providers::build`) and shared by every request; and
//! [`Routes`], the table of sources in force.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Deserialize;

use crate::delivery::topic::TopicRouter;
use crate::ingest::access::AllowList;
use crate::ingest::auth::Verifier;
use crate::ingest::confirm::Subscription;
use crate::ingest::envelope::RecordFormat;
use crate::ingest::event::{EventError, EventSpec};
use crate::ingest::handshake::Handshake;
use crate::ingest::intake::Limits;
use crate::ingest::payload::MediaType;
use crate::ingest::schema::{MissingSchema, SchemaRegistry};

/// `success = { status = 200, body = "[accepted]" }`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuccessReply {
    /// A 2xx status.
    pub status: u16,
    /// Plain-text body; `None` sends the default JSON `{"id": …}`.
    pub body: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum OnInvalid {
    /// Publish it to the dead-letter topic with the reason, and answer 2xx: the event is safe
    /// and can be replayed once the schema or config is fixed.
    #[default]
    #[serde(rename = "dead-letter")]
    DeadLetter,
    /// Answer 4xx with the reason and publish nothing.
    #[serde(rename = "reject")]
    Reject,
}

/// One configured source, ready for the hot path.
#[derive(Debug)]
pub struct Source {
    pub name: String,
    pub provider: String,
    pub verifier: Verifier,
    pub event: EventSpec,
    pub on_missing_schema: MissingSchema,
    pub on_invalid: OnInvalid,
    pub format: RecordFormat,
    /// Where invalid deliveries go when `on_invalid` is `dead-letter`.
    pub dead_letter_topic: Arc<str>,
    pub topics: TopicRouter,
    /// The CloudEvents `source` attribute: `/webhooks/{name}`.
    pub ce_source: String,
    pub handshake: Option<Handshake>,
    /// Subscription messages to confirm or acknowledge without publishing (AWS SNS).
    pub subscription: Option<Subscription>,
    pub form_json_field: Option<String>,
    /// How every body is read, whatever its `Content-Type` (`None`: by its `Content-Type`).
    pub media_type: Option<MediaType>,
    /// Deepest nesting of arrays and objects parsed; deeper bodies are `too_deep`.
    pub max_json_depth: usize,
    pub success: Option<SuccessReply>,
    /// Event types this source accepts, and the rule that set them; `None`: all.
    pub allowed_events: Option<(HashSet<String>, &'static str)>,
    /// Body size and read time limits.
    pub limits: Limits,
    pub rate_limiter: Option<governor::DefaultDirectRateLimiter>,
    pub allow_ips: AllowList,
}

impl Source {
    /// Refuses event types outside `allowed_events` / the catalog.
    pub fn check_event_type(&self, event_type: &str) -> Result<(), EventError> {
        match &self.allowed_events {
            Some((allowed, rule)) if !allowed.contains(event_type) => Err(EventError::NotAllowed {
                event_type: event_type.to_owned(),
                rule,
            }),
            _ => Ok(()),
        }
    }
}

/// The sources and schemas in force. A request takes the current value when it starts and
/// keeps it to the end, so a change never alters the rules under a request in flight. A config
/// reload (`SIGHUP`) replaces `configured` and `schemas`; a change through the admin API
/// replaces `managed`; each keeps the other's part.
#[derive(Debug, Clone)]
pub struct Routes {
    /// Sources from the config file.
    pub configured: Arc<HashMap<String, Source>>,
    /// Sources created through the admin API ([`crate::control::store`]).
    pub managed: Arc<HashMap<String, Source>>,
    pub schemas: Arc<SchemaRegistry>,
}

impl Routes {
    /// The source behind `POST /webhooks/{name}`; a config source wins over an admin-created
    /// one of the same name.
    pub fn source(&self, name: &str) -> Option<&Source> {
        self.configured.get(name).or_else(|| self.managed.get(name))
    }
}
