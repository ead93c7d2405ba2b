//! The pipeline: what happens to a webhook, top to bottom, one stage per line.
//!
//! Owns: the order of the stages and nothing else. Each stage lives in its own module and knows
//! nothing of sockets; `pipeline` (who sent it) and `admit` (what it is) are the only
//! place that strings them together. The answer is sent only after the last stage, so a 202
//! always means "Kafka has it" (as the event, or as a dead letter).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Body;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::base::metrics::UNKNOWN_SOURCE;
use crate::base::secret::Secret;
use crate::delivery::publish::Record;
use crate::delivery::topic::TopicBudget;
use crate::http::response::{json_response, method_not_allowed};
use crate::ingest::auth::{Verification, Verified};
use crate::ingest::dedup_redis::{Claim, Verdict};
use crate::ingest::envelope::{self, Context};
use crate::ingest::error::WebhookError;
use crate::ingest::event::Identified;
use crate::ingest::handshake::{Handshake, HandshakeError, Reply, ReplyBody};
use crate::ingest::learn::KeepError;
use crate::ingest::payload::Payload;
use crate::ingest::schema::{SchemaError, SchemaRegistry};
use crate::ingest::source::{OnInvalid, Routes, Source, SuccessReply};
use crate::ingest::Gateway;
use crate::ingest::{deadletter, intake, payload};

/// What a webhook request came to.
#[derive(Debug)]
pub enum Outcome {
    /// The event reached Kafka under this envelope id.
    Accepted { id: Uuid },
    /// A provider handshake, answered without publishing.
    Handshake(Reply),
    /// A redelivery of an event already accepted as envelope `id`; not published again.
    Duplicate { id: Uuid },
    /// Authentic but not a valid event: published to the dead-letter topic as record `id`.
    DeadLettered { id: Uuid, reason: &'static str },
}

/// Facts about the delivery that every stage after authentication may need.
#[derive(Debug, Clone, Copy)]
struct Delivery {
    received_at: OffsetDateTime,
    now_ms: i64,
    remote_addr: Option<SocketAddr>,
    client_ip: Option<std::net::IpAddr>,
}

/// Handles `POST /webhooks/{source_name}`: runs the pipeline, records metrics, answers.
pub async fn handle<B>(
    app: &Gateway,
    source_name: &str,
    request: Request<B>,
    remote_addr: Option<SocketAddr>,
) -> Response<Full<Bytes>>
where
    B: Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let started = Instant::now();
    let routes = app.routes.get();
    let result = pipeline(app, &routes, source_name, request, remote_addr).await;
    answer(app, &routes, source_name, started, result)
}

/// Handles `GET /webhooks/{source_name}`: the verification requests of providers whose
/// handshake is a `GET` (Okta, X, Meta, Nylas, Dropbox, LinkedIn); `405` for every other
/// source.
pub fn handle_get<B>(
    app: &Gateway,
    source_name: &str,
    request: &Request<B>,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let routes = app.routes.get();
    let result = match routes.source(source_name) {
        None => Err(WebhookError::UnknownSource(source_name.to_owned())),
        Some(source) => match source.handshake.as_ref().filter(|h| h.is_get()) {
            None => return method_not_allowed("POST", "webhooks are delivered with POST"),
            Some(h) => h
                .answer_get(request.uri().query(), request.headers())
                .map(Outcome::Handshake)
                .map_err(WebhookError::from),
        },
    };
    answer(app, &routes, source_name, started, result)
}

/// Handles `HEAD /webhooks/{source_name}`: `200` for sources whose provider checks the URL so
/// (Trello), `405` for the others.
pub fn handle_head(app: &Gateway, source_name: &str) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let routes = app.routes.get();
    let result = match routes.source(source_name) {
        None => Err(WebhookError::UnknownSource(source_name.to_owned())),
        Some(source) if source.handshake.as_ref().is_some_and(|h| h.answers_head()) => {
            Ok(Outcome::Handshake(Reply {
                status: StatusCode::OK,
                body: ReplyBody::Empty,
                warning: None,
                header: None,
            }))
        }
        Some(_) => return method_not_allowed("POST", "webhooks are delivered with POST"),
    };
    answer(app, &routes, source_name, started, result)
}

/// The answer when the gateway is at `max_in_flight`.
pub fn overloaded(app: &Gateway, source_name: &str) -> Response<Full<Bytes>> {
    answer(
        app,
        &app.routes.get(),
        source_name,
        Instant::now(),
        Err(WebhookError::Overloaded),
    )
}

/// Turns an outcome into the HTTP answer, with its metric and log line.
fn answer(
    app: &Gateway,
    routes: &Routes,
    source_name: &str,
    started: Instant,
    result: Result<Outcome, WebhookError>,
) -> Response<Full<Bytes>> {
    let label = if routes.source(source_name).is_some() {
        source_name
    } else {
        UNKNOWN_SOURCE
    };
    match result {
        Ok(Outcome::Accepted { id }) => {
            observe(app, label, "accepted", None, started);
            let success = routes.source(source_name).and_then(|s| s.success.as_ref());
            accepted_response(id, success)
        }
        Ok(Outcome::Duplicate { id }) => {
            observe(app, label, "duplicate", None, started);
            tracing::debug!(source = label, id = %id, "duplicate delivery");
            let success = routes.source(source_name).and_then(|s| s.success.as_ref());
            duplicate_response(id, success)
        }
        Ok(Outcome::DeadLettered { id, reason }) => {
            observe(app, label, "dead_letter", Some(reason), started);
            app.metrics.dead_letter(label, reason);
            let success = routes.source(source_name).and_then(|s| s.success.as_ref());
            let mut response = accepted_response(id, success);
            response
                .headers_mut()
                .insert("hookgate-dead-letter", HeaderValue::from_static(reason));
            response
        }
        Ok(Outcome::Handshake(reply)) => {
            observe(app, label, "handshake", None, started);
            match &reply.warning {
                Some(warning) => tracing::warn!(source = label, "{warning}"),
                None => tracing::info!(source = label, "provider handshake answered"),
            }
            handshake_response(reply)
        }
        Err(err) => {
            observe(app, label, err.code(), Some(err.code()), started);
            if err.status().is_server_error() {
                tracing::warn!(source = label, code = err.code(), error = %err, "webhook not accepted");
            } else {
                tracing::info!(source = label, code = err.code(), error = %err, "webhook rejected");
            }
            err.to_response(app.retry_after_secs)
        }
    }
}

/// A handshake's answer. Text answers echo what the provider sent, so they are marked
/// `nosniff`: no browser may read them as anything but text.
fn handshake_response(reply: Reply) -> Response<Full<Bytes>> {
    let mut response = match reply.body {
        ReplyBody::Json(body) => json_response(reply.status, &body),
        ReplyBody::Empty => Response::new(Full::new(Bytes::new())),
        ReplyBody::Text(text) => {
            let mut r = Response::new(Full::new(Bytes::from(text)));
            let headers = r.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            headers.insert(
                hyper::header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            r
        }
    };
    *response.status_mut() = reply.status;
    if let Some((name, value)) = reply.header {
        if let Ok(mut value) = HeaderValue::from_bytes(value.expose()) {
            value.set_sensitive(true);
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Counts one answer in the metrics and in the status page's activity.
fn observe(
    app: &Gateway,
    label: &str,
    outcome: &'static str,
    refusal: Option<&'static str>,
    started: Instant,
) {
    app.metrics
        .observe_webhook(label, outcome, started.elapsed());
    app.activity
        .record(label, outcome, refusal, crate::base::clock::now_ms());
}

/// The success answer: `202 {"id": …}` unless the source asks for another; the envelope id is
/// always in the `Hookgate-Id` header.
fn accepted_response(id: Uuid, success: Option<&SuccessReply>) -> Response<Full<Bytes>> {
    let id = id.to_string();
    let mut response = match success {
        Some(SuccessReply {
            status,
            body: Some(text),
        }) => {
            let mut r = Response::new(Full::new(Bytes::from(text.clone())));
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            *r.status_mut() = StatusCode::from_u16(*status).unwrap_or(StatusCode::ACCEPTED);
            r
        }
        Some(SuccessReply { status, body: None }) => json_response(
            StatusCode::from_u16(*status).unwrap_or(StatusCode::ACCEPTED),
            &serde_json::json!({ "id": id }),
        ),
        None => json_response(StatusCode::ACCEPTED, &serde_json::json!({ "id": id })),
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("hookgate-id", value);
    }
    response
}

/// Spends one of the source's rate-limit tokens (only authenticated deliveries do, so nobody
/// else can exhaust a provider's quota).
fn rate_limit(source: &Source) -> Result<(), WebhookError> {
    use governor::clock::Clock as _;
    let Some(limiter) = &source.rate_limiter else {
        return Ok(());
    };
    limiter.check().map_err(|not_until| {
        let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
        WebhookError::RateLimited {
            retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    })
}

/// The answer to a redelivery: the source's success answer, or `200 {"id", "duplicate": true}`.
fn duplicate_response(id: Uuid, success: Option<&SuccessReply>) -> Response<Full<Bytes>> {
    match success {
        Some(s @ SuccessReply { body: Some(_), .. }) => accepted_response(id, Some(s)),
        _ => {
            let mut response = json_response(
                StatusCode::OK,
                &serde_json::json!({ "id": id.to_string(), "duplicate": true }),
            );
            if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
                response.headers_mut().insert("hookgate-id", value);
            }
            response
        }
    }
}

async fn pipeline<B>(
    app: &Gateway,
    routes: &Routes,
    source_name: &str,
    request: Request<B>,
    remote_addr: Option<SocketAddr>,
) -> Result<Outcome, WebhookError>
where
    B: Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let received_at = OffsetDateTime::now_utc();
    let source = routes
        .source(source_name)
        .ok_or_else(|| WebhookError::UnknownSource(source_name.to_owned()))?;

    let client_ip = remote_addr.map(|peer| app.client_ip.client_ip(peer.ip(), request.headers()));
    if let Some(ip) = client_ip {
        source.allow_ips.check(ip)?;
    }
    let inbound = intake::read(request, source.limits, remote_addr).await?;
    if let Some(h) = &source.handshake {
        if h.token_shaped(&inbound.body) {
            return Err(HandshakeError::TokenShapedBody.into());
        }
        // An unsigned echo of the caller's own token gives nothing away.
        if let Some(reply) = h.unsigned_echo(inbound.uri.query(), &inbound.headers)? {
            return Ok(Outcome::Handshake(reply));
        }
        // A handshake that brings the secret has nothing to verify against yet.
        if let Some(secret) = h.offered_secret(&inbound.headers)? {
            return learn(app, source_name, secret).await;
        }
    }
    let verified = source
        .verifier
        .verify(inbound, received_at.unix_timestamp())
        .await?;
    rate_limit(source)?;
    let delivery = Delivery {
        received_at,
        now_ms: i64::try_from(received_at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
        remote_addr,
        client_ip,
    };
    // Authentic from here on: what cannot become an event is kept as a dead letter, not lost.
    let mut dedup = None;
    let admitted = match admit(
        app,
        &routes.schemas,
        source,
        &verified,
        delivery,
        &mut dedup,
    )
    .await
    {
        Err(err) if err.is_invalid_content() && source.on_invalid == OnInvalid::DeadLetter => {
            let id = dead_letter(app, source, &verified, delivery, &err).await?;
            if let Some(claim) = dedup {
                claim.commit(&app.metrics, id, delivery.now_ms).await;
            }
            return Ok(Outcome::DeadLettered {
                id,
                reason: err.code(),
            });
        }
        admitted => admitted?,
    };
    let (id, prepared) = match admitted {
        Admitted::Answered(outcome) => return Ok(outcome),
        Admitted::Event { id, prepared } => (id, prepared),
    };
    if let Some(reason) = prepared.fallback {
        app.metrics.topic_fallback(&source.name, reason);
    }
    // The wait for Kafka is most of a request's life, and nothing after this point needs the
    // request: its body, headers and parsed document are freed now rather than after it.
    drop(verified);
    let id_text = id.to_string();
    let outcome = publish_or_spool(
        app,
        prepared.record(&id_text, &source.ce_source),
        delivery.now_ms,
    )
    .await?;
    tracing::debug!(
        source = %source.name,
        event_type = %prepared.event_type,
        id = %id_text,
        topic = %prepared.topic,
        outcome,
        "webhook accepted"
    );
    if let Some(claim) = dedup.take() {
        claim.commit(&app.metrics, id, delivery.now_ms).await;
    }
    Ok(Outcome::Accepted { id })
}

/// Keeps the secret a handshake brought (sealed, saved for good, in force), then answers
/// `200` echoing it. Without a keeper (no admin store) the handshake is refused.
async fn learn(app: &Gateway, source_name: &str, secret: Secret) -> Result<Outcome, WebhookError> {
    let keeper = app.keeper.as_ref().ok_or(KeepError::NoStore)?;
    keeper.keep(&app.routes, source_name, &secret).await?;
    Ok(Outcome::Handshake(Handshake::learned(secret)))
}

/// What [`admit`] made of an authentic delivery.
#[derive(Debug)]
enum Admitted {
    /// Answered without publishing: a handshake, a redelivery.
    Answered(Outcome),
    /// An event to publish under envelope `id`.
    Event { id: Uuid, prepared: Prepared },
}

/// The stages after authentication, up to the record: parse, answer handshakes, identify,
/// dedup, validate, wrap. `dedup` holds this delivery's dedup claim once it has one.
async fn admit<'a>(
    app: &'a Gateway,
    schemas: &SchemaRegistry,
    source: &Source,
    verified: &Verified,
    delivery: Delivery,
    dedup: &mut Option<Claim<'a>>,
) -> Result<Admitted, WebhookError> {
    let payload = payload::parse_as(
        verified,
        source.form_json_field.as_deref(),
        source.max_json_depth,
        source.media_type,
    )?;
    if let Some(h) = &source.handshake {
        if let Some(reply) = h.answer(&verified.inbound().headers, &payload.value)? {
            return Ok(Admitted::Answered(Outcome::Handshake(reply)));
        }
    }
    if let Some(subscription) = &source.subscription {
        if let Some(answer) = subscription.answer(&source.name, &payload.value).await {
            return Ok(Admitted::Answered(Outcome::Handshake(answer?)));
        }
    }
    let event = source
        .event
        .identify(&verified.inbound().headers, &payload.value)?;
    source.check_event_type(&event.event_type)?;
    if let (Some(d), Some(delivery_id)) = (&app.dedup, &event.delivery_id) {
        match d
            .check(&app.metrics, &source.name, delivery_id, delivery.now_ms)
            .await
        {
            Verdict::New(claim) => {
                if matches!(claim, Claim::Unclaimed) {
                    app.metrics.dedup_unchecked(&source.name);
                }
                *dedup = Some(claim);
            }
            Verdict::Duplicate { id } => return Ok(Admitted::Answered(Outcome::Duplicate { id })),
            Verdict::InFlight => return Err(WebhookError::DuplicateInFlight),
            Verdict::Unavailable => return Err(WebhookError::DedupUnavailable),
        }
    }
    let id = Uuid::now_v7();
    let prepared = prepare(
        schemas,
        &app.topics,
        source,
        &payload,
        &event,
        Origin {
            id,
            received_at: delivery.received_at,
            remote_addr: delivery.remote_addr,
            client_ip: delivery.client_ip,
            verified: verified.verification(),
        },
    )?;
    Ok(Admitted::Event { id, prepared })
}

/// Facts about a delivery that are not in its payload, for its envelope.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub id: Uuid,
    pub received_at: OffsetDateTime,
    pub remote_addr: Option<SocketAddr>,
    pub client_ip: Option<std::net::IpAddr>,
    pub verified: &'a Verification,
}

/// An event ready to publish: what `admit` makes and `replay` republishes.
#[derive(Debug)]
pub struct Prepared {
    pub topic: Arc<str>,
    /// Why the event went to its source's fallback topic, if it did.
    pub fallback: Option<&'static str>,
    pub key: String,
    pub event_type: String,
    pub event_time: String,
    /// The envelope (or CloudEvent, per the source's `format`), serialized.
    pub value: Vec<u8>,
    pub content_type: &'static str,
}

impl Prepared {
    /// The Kafka record; `ce_id` is the envelope id as text.
    pub fn record<'a>(&'a self, ce_id: &'a str, ce_source: &'a str) -> Record<'a> {
        Record {
            topic: &self.topic,
            key: &self.key,
            value: &self.value,
            ce_id,
            ce_source,
            ce_type: &self.event_type,
            ce_time: &self.event_time,
            content_type: self.content_type,
        }
    }
}

/// The stages after identification, the same for a live delivery and a replayed one: the
/// schema check, the envelope (or CloudEvent), the topic and the key.
pub fn prepare(
    schemas: &SchemaRegistry,
    topics: &TopicBudget,
    source: &Source,
    payload: &Payload<'_>,
    event: &Identified,
    origin: Origin<'_>,
) -> Result<Prepared, WebhookError> {
    let schema = schemas.check(
        &source.provider,
        &event.event_type,
        &payload.value,
        source.on_missing_schema,
    )?;
    let envelope = envelope::build(
        Context {
            id: origin.id,
            received_at: origin.received_at,
            source: &source.name,
            provider: &source.provider,
            content_type: payload.content_type.as_deref(),
            remote_addr: origin.remote_addr,
            client_ip: origin.client_ip,
            verified: origin.verified,
            schema: schema.as_deref(),
        },
        event,
        &payload.raw,
    );
    let (value, content_type) = envelope::serialize(&envelope, source.format, &source.ce_source)
        .map_err(crate::ingest::payload::PayloadError::Unwritable)?;
    let route = source.topics.route(&event.event_type, topics);
    Ok(Prepared {
        topic: route.topic,
        fallback: route.fallback,
        key: event
            .delivery_id
            .clone()
            .unwrap_or_else(|| origin.id.to_string()),
        event_type: event.event_type.clone(),
        event_time: envelope.event_time,
        value,
        content_type,
    })
}

/// Publishes an authentic delivery that `err` kept from becoming an event to the source's
/// dead-letter topic, with the reason and what a replay needs; returns the record's id.
async fn dead_letter(
    app: &Gateway,
    source: &Source,
    verified: &Verified,
    delivery: Delivery,
    err: &WebhookError,
) -> Result<Uuid, WebhookError> {
    let inbound = verified.inbound();
    // What is known of the event, as far as it gets (only this failure path parses twice);
    // header locators work even on a body that does not parse.
    let body = payload::parse_as(
        verified,
        source.form_json_field.as_deref(),
        source.max_json_depth,
        source.media_type,
    )
    .map(|p| p.value)
    .unwrap_or_default();
    let event = source.event.identify(&inbound.headers, &body).ok();
    let (errors, schema) = match err {
        WebhookError::Schema(SchemaError::Violation { violations, schema }) => {
            (violations.clone(), Some(schema.as_ref()))
        }
        _ => (Vec::new(), None),
    };
    let headers = [
        source.event.event_type_header(),
        source.event.delivery_id_header(),
    ]
    .into_iter()
    .flatten()
    .filter_map(|name| {
        let value = inbound.headers.get(name)?.to_str().ok()?;
        Some((name.as_str().to_owned(), value.to_owned()))
    })
    .collect();
    let content_type = inbound
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let id = Uuid::now_v7();
    let record = deadletter::build(
        Context {
            id,
            received_at: delivery.received_at,
            source: &source.name,
            provider: &source.provider,
            content_type,
            remote_addr: delivery.remote_addr,
            client_ip: delivery.client_ip,
            verified: verified.verification(),
            schema,
        },
        deadletter::Failure {
            reason: err.code(),
            message: err.to_string(),
            errors,
            event_type: event.as_ref().map(|e| e.event_type.as_str()),
            delivery_id: event.as_ref().and_then(|e| e.delivery_id.as_deref()),
        },
        headers,
        &inbound.body,
    );
    let value =
        serde_json::to_vec(&record).map_err(crate::ingest::payload::PayloadError::Unwritable)?;
    let id_text = id.to_string();
    let received = envelope::rfc3339(delivery.received_at);
    let outcome = publish_or_spool(
        app,
        Record {
            topic: &source.dead_letter_topic,
            key: record.delivery_id.as_deref().unwrap_or(&id_text),
            value: &value,
            ce_id: &id_text,
            ce_source: &source.ce_source,
            ce_type: DEAD_LETTER_CE_TYPE,
            ce_time: &received,
            content_type: crate::delivery::publish::JSON,
        },
        delivery.now_ms,
    )
    .await?;
    tracing::warn!(
        source = %source.name,
        reason = err.code(),
        error = %err,
        id = %id_text,
        topic = %source.dead_letter_topic,
        outcome,
        "authentic delivery dead-lettered"
    );
    Ok(id)
}

/// The CloudEvents `type` header of dead-letter records.
const DEAD_LETTER_CE_TYPE: &str = "hookgate.dead-letter";

/// Longest a request waits for the drainer to send the spool's last batch before it spools its
/// own record instead (`Spool::wait_until_empty`); a healthy batch takes milliseconds.
const SPOOL_HANDOVER_PATIENCE: std::time::Duration = std::time::Duration::from_secs(1);

/// Publishes and waits for Kafka's acknowledgement; when Kafka cannot take the record in time
/// (or records are already waiting in the spool, so order holds), writes it to the spool
/// instead. Either way the event is safe when this returns `Ok`.
async fn publish_or_spool(
    app: &Gateway,
    record: Record<'_>,
    now_ms: i64,
) -> Result<&'static str, WebhookError> {
    let Some(spool) = &app.spool else {
        app.publisher.publish(record, &app.metrics).await?;
        return Ok("published");
    };
    if spool
        .wait_until_empty(crate::delivery::spool::DRAIN_BATCH, SPOOL_HANDOVER_PATIENCE)
        .await
    {
        match app.publisher.publish(record.clone(), &app.metrics).await {
            Ok(_) => return Ok("published"),
            Err(e) if e.is_permanent() => return Err(e.into()),
            Err(e) => {
                // Requests after this one spool at once instead of waiting for the drainer.
                spool.note_kafka(false);
                tracing::warn!(error = %e, "Kafka did not take the record in time; spooling it")
            }
        }
    }
    spool.append(record.to_spooled(now_ms), now_ms)?;
    Ok("spooled")
}
