//! The webhook plane's errors and their HTTP answers, in one place.
//!
//! Owns: [`WebhookError`], the union of every stage's error, and the single mapping from it to
//! a status code and the JSON body `{"error": "…", "code": "…"}` (the shape is
//! `http::response`'s; the admin plane's errors map in `control::error`). Messages come from
//! the stage errors, which never hold secrets, expected signatures or payload values.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, RETRY_AFTER};
use hyper::{Response, StatusCode};

use crate::delivery::publish::PublishError;
use crate::delivery::spool::SpoolError;
use crate::http::response::{error_response, json_response};
use crate::ingest::access::AccessError;
use crate::ingest::auth::AuthError;
use crate::ingest::confirm::ConfirmError;
use crate::ingest::event::EventError;
use crate::ingest::handshake::HandshakeError;
use crate::ingest::intake::IntakeError;
use crate::ingest::learn::KeepError;
use crate::ingest::payload::PayloadError;
use crate::ingest::schema::SchemaError;

/// Why a webhook was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("no source named `{0}` is configured")]
    UnknownSource(String),
    #[error("this source's rate limit is reached; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("the gateway is at its limit of requests in flight; retry shortly")]
    Overloaded,
    #[error("another copy of this delivery is being processed; retry shortly")]
    DuplicateInFlight,
    #[error("the shared dedup backend (Redis) does not answer; retry shortly")]
    DedupUnavailable,
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Intake(#[from] IntakeError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Payload(#[from] PayloadError),
    #[error(transparent)]
    Event(#[from] EventError),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    #[error(transparent)]
    Keep(#[from] KeepError),
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error(transparent)]
    Confirm(#[from] ConfirmError),
}

impl WebhookError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebhookError::UnknownSource(_) => StatusCode::NOT_FOUND,
            WebhookError::Access(_) => StatusCode::FORBIDDEN,
            WebhookError::Intake(
                IntakeError::TooLarge { .. } | IntakeError::InflatedTooLarge { .. },
            ) => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookError::Intake(IntakeError::Read(_) | IntakeError::BadGzip) => {
                StatusCode::BAD_REQUEST
            }
            WebhookError::Intake(IntakeError::Timeout(_)) => StatusCode::REQUEST_TIMEOUT,
            WebhookError::Intake(IntakeError::UnsupportedEncoding(_)) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            WebhookError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebhookError::Overloaded
            | WebhookError::DuplicateInFlight
            | WebhookError::DedupUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            WebhookError::Auth(AuthError::KeyUnavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            WebhookError::Auth(_) => StatusCode::UNAUTHORIZED,
            WebhookError::Payload(PayloadError::UnsupportedMediaType(_)) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            WebhookError::Event(EventError::NotAllowed { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
            // Possibly well-formed, but beyond what the source agreed to process; a retry of
            // the same body cannot succeed.
            WebhookError::Payload(PayloadError::TooDeep { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
            WebhookError::Handshake(e) => e.status(),
            WebhookError::Keep(e) => e.status(),
            WebhookError::Payload(_) | WebhookError::Event(_) => StatusCode::BAD_REQUEST,
            WebhookError::Schema(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebhookError::Publish(e) if e.is_permanent() => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookError::Publish(_) | WebhookError::Spool(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebhookError::Confirm(e) => e.status(),
        }
    }

    /// Stable code; also the `outcome` label of `hookgate_webhooks_total`.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::UnknownSource(_) => "unknown_source",
            WebhookError::Access(e) => e.code(),
            WebhookError::RateLimited { .. } => "rate_limited",
            WebhookError::Overloaded => "overloaded",
            WebhookError::DuplicateInFlight => "duplicate_in_flight",
            WebhookError::DedupUnavailable => "dedup_unavailable",
            WebhookError::Intake(e) => e.code(),
            WebhookError::Auth(e) => e.code(),
            WebhookError::Payload(e) => e.code(),
            WebhookError::Event(e) => e.code(),
            WebhookError::Schema(e) => e.code(),
            WebhookError::Publish(e) => e.code(),
            WebhookError::Handshake(e) => e.code(),
            WebhookError::Keep(e) => e.code(),
            WebhookError::Spool(e) => e.code(),
            WebhookError::Confirm(e) => e.code(),
        }
    }

    /// Whether the delivery was authentic but cannot become an event (unparseable, no usable
    /// or allowed event type, schema failure): what `on_invalid = "dead-letter"` keeps.
    pub fn is_invalid_content(&self) -> bool {
        matches!(
            self,
            WebhookError::Payload(_) | WebhookError::Event(_) | WebhookError::Schema(_)
        )
    }

    /// The HTTP answer. `retry_after_secs` is sent with 503s. Schema violations are listed
    /// in `errors` (instance path, schema path, masked message).
    pub fn to_response(&self, retry_after_secs: u64) -> Response<Full<Bytes>> {
        let status = self.status();
        let mut response = match self {
            WebhookError::Schema(SchemaError::Violation { violations, .. }) => json_response(
                status,
                &serde_json::json!({
                    "error": self.to_string(),
                    "code": self.code(),
                    "errors": violations,
                }),
            ),
            _ => error_response(status, self.code(), &self.to_string()),
        };
        let retry_after = match self {
            WebhookError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(retry_after_secs),
            _ => None,
        };
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use hyper::header::CONTENT_TYPE;

    #[tokio::test]
    async fn every_error_is_json_with_a_code() {
        let err = WebhookError::UnknownSource("nope".into());
        let response = err.to_response(5);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(json["code"], "unknown_source");
        assert_eq!(json["error"], "no source named `nope` is configured");
    }

    #[test]
    fn statuses_follow_the_contract() {
        let cases: Vec<(WebhookError, u16)> = vec![
            (IntakeError::TooLarge { limit: 1 }.into(), 413),
            (AuthError::InvalidCredentials.into(), 401),
            (AuthError::KeyUnavailable("host down".into()).into(), 503),
            (
                PayloadError::UnsupportedMediaType("text/plain".into()).into(),
                415,
            ),
            (PayloadError::Empty.into(), 400),
            (EventError::MissingEventType("x".into()).into(), 400),
            (
                EventError::NotAllowed {
                    event_type: "x".into(),
                    rule: "allowed_events",
                }
                .into(),
                422,
            ),
            (
                SchemaError::Missing {
                    provider: "p".into(),
                    event_type: "e".into(),
                }
                .into(),
                422,
            ),
            (
                PublishError::Delivery(rdkafka::error::KafkaError::MessageProduction(
                    rdkafka::error::RDKafkaErrorCode::MessageTimedOut,
                ))
                .into(),
                503,
            ),
            (
                PublishError::Delivery(rdkafka::error::KafkaError::MessageProduction(
                    rdkafka::error::RDKafkaErrorCode::MessageSizeTooLarge,
                ))
                .into(),
                413,
            ),
        ];
        for (err, status) in cases {
            assert_eq!(err.status().as_u16(), status, "{err}");
        }
        let unavailable = WebhookError::Publish(PublishError::Delivery(
            rdkafka::error::KafkaError::MessageProduction(
                rdkafka::error::RDKafkaErrorCode::MessageTimedOut,
            ),
        ));
        assert_eq!(unavailable.to_response(7).headers()[RETRY_AFTER], "7");
    }
}
