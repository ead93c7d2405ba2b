//! Why an admin API call was refused, and its HTTP answer.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, RETRY_AFTER};
use hyper::{Response, StatusCode};

use crate::http::response::json_response;

/// Why an admin API call was refused. Bodies are `{"error": "…"}` (seed 004's shape), plus
/// `unknown_events` for [`AdminError::UnknownEvents`].
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no such admin endpoint")]
    NoEndpoint,
    #[error("{message}")]
    Method {
        allow: &'static str,
        message: &'static str,
    },
    #[error("a valid admin API key is required: Authorization: Bearer <key>")]
    Unauthenticated,
    #[error("this key lacks the `{0}` scope")]
    Forbidden(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("Some events are not available for provider `{provider}`: {}", .events.join(", "))]
    UnknownEvents {
        provider: String,
        events: Vec<String>,
    },
    /// The message differs between reading and deleting, as in seed 004.
    #[error("{0}")]
    NotFound(&'static str),
    #[error("webhook `{0}` comes from the config file and is read-only here: edit the file and send SIGHUP")]
    ReadOnly(String),
    /// Clearing the secret of a webhook that does not learn it at a handshake.
    #[error("webhook `{0}` does not learn its secret at a handshake, so there is none to clear: rotate it with POST /v1/webhooks/{0}/rotate")]
    NotLearning(String),
    /// `If-Match` named a version other than the current one (the current revision).
    #[error("the webhook changed since you read it (now revision {0}): GET it again")]
    PreconditionFailed(u64),
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the body must be JSON (Content-Type: application/json)")]
    MediaType,
    #[error("the change was not saved: {0}")]
    Store(#[from] crate::control::store::StoreError),
    #[error("the gateway could not make a secret: {0}")]
    Seal(#[from] crate::control::store::seal::SealError),
}

impl AdminError {
    pub fn status(&self) -> StatusCode {
        match self {
            AdminError::NoEndpoint | AdminError::NotFound(_) => StatusCode::NOT_FOUND,
            AdminError::Method { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AdminError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AdminError::Forbidden(_) => StatusCode::FORBIDDEN,
            AdminError::BadRequest(_) | AdminError::UnknownEvents { .. } => StatusCode::BAD_REQUEST,
            AdminError::ReadOnly(_) | AdminError::NotLearning(_) => StatusCode::CONFLICT,
            AdminError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            AdminError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AdminError::MediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AdminError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            AdminError::Seal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The HTTP answer: status, `{"error"}` body, and `Allow` / `Retry-After` where they apply.
    pub fn response(&self) -> Response<Full<Bytes>> {
        let mut body = serde_json::json!({ "error": self.to_string() });
        if let AdminError::UnknownEvents { events, .. } = self {
            body["unknown_events"] = serde_json::json!(events);
        }
        let mut response = json_response(self.status(), &body);
        match self {
            AdminError::Method { allow, .. } => {
                response
                    .headers_mut()
                    .insert(hyper::header::ALLOW, HeaderValue::from_static(allow));
            }
            AdminError::Store(_) => {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        response
    }
}
