//! Handshakes: requests with which a provider checks the endpoint instead of delivering an
//! event. They are answered as the provider requires and never published.
//!
//! Owns: the handshake kinds and their answers ([`Reply`]: JSON, plain text or empty). A kind
//! is data a preset sets (`handshake = "…"`), never provider code elsewhere.
//!
//! Invariants:
//! - POST handshakes (Slack, Zoom, Discord, Xero, Twitch, Smartcar, Front, monday.com) are
//!   answered only after the request's signature was verified and its body parsed, like any
//!   delivery.
//! - RingCentral's `Validation-Token` and Microsoft Graph's `?validationToken=` POSTs are
//!   answered before verification too: like a GET echo they reflect only the caller's own
//!   value, held to a charset no browser reads as markup (Graph's adds the space and `:`).
//! - GET handshakes carry no signature. An echo (Okta, Nylas, Dropbox, Meta, Worldline) gives nothing
//!   away, but the echoed value is limited to a short run of characters that no browser can
//!   read as markup, and text answers go out as `text/plain` with `nosniff`. Meta's echo is
//!   also gated by the verify token (compared in constant time). Where the answer is an HMAC
//!   of the request's token with the source's secret (X's CRC, LinkedIn's challenge), the
//!   answer equals the signature of a delivery whose body is that token. Tokens are therefore
//!   held to a grammar that no JSON object or array matches, and [`Handshake::token_shaped`]
//!   lets the pipeline refuse any delivery whose body matches that grammar before it is
//!   verified, so no answer can ever authenticate a forged delivery (not even as a dead letter).
//! - The `X-Hook-Secret` handshake (Asana) is the one POST answered before verification: it
//!   carries no signature, because it brings the secret. It is answered only while the source
//!   has no secret (trust on first use), and only after the secret was kept for good
//!   ([`crate::ingest::learn`]); with a secret in place it is refused, so nobody can replace
//!   a learned secret. The secret is echoed in a header and never logged.

use hmac::{Hmac, Mac};
use hyper::header::{HeaderMap, HeaderName};
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sonic_rs::{JsonContainerTrait as _, JsonValueTrait as _};
use subtle::ConstantTimeEq;

use crate::base::json::Document;
use crate::base::secret::Secret;

/// Which handshake a source answers (config `handshake = "…"`; presets set it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandshakeKind {
    /// Slack Events API `url_verification`: echo `challenge`.
    SlackUrlVerification,
    /// Zoom `endpoint.url_validation`: `plainToken` and its HMAC-SHA256 (hex) with the secret.
    ZoomUrlValidation,
    /// Discord interactions PING (`type` 1): answer PONG `{"type": 1}`.
    DiscordPing,
    /// Xero "intent to receive": a signed delivery with no events is answered 200, empty.
    XeroIntentToReceive,
    /// Okta event hook verification: `GET` with `X-Okta-Verification-Challenge`, echoed as
    /// `{"verification": …}`.
    OktaVerification,
    /// X (Twitter) CRC: `GET ?crc_token=…`, answered `{"response_token": "sha256=<b64>"}`.
    XCrc,
    /// The WebSub-style subscription check Meta uses:
    /// `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`, answered with the
    /// challenge as text when the verify token is the source's `verify_token`.
    HubVerify,
    /// `GET ?challenge=…` answered with the challenge as text (Nylas, Dropbox).
    ChallengeEcho,
    /// A `HEAD` request answered `200` (Trello checks the callback URL so).
    HeadOk,
    /// Twitch EventSub: a signed `webhook_callback_verification` message (header
    /// `Twitch-Eventsub-Message-Type`) is answered with its `challenge` as text; a signed
    /// `revocation` message is acknowledged with an empty `200` and logged as a warning.
    TwitchEventsub,
    /// Smartcar `VERIFY`: a signed event answered `{"challenge": hex HMAC-SHA256(secret,
    /// challenge)}`.
    SmartcarVerify,
    /// Front application webhooks: a signed request with `X-Front-Challenge` is answered
    /// `{"challenge": …}`.
    FrontChallenge,
    /// monday.com: a signed POST whose body is `{"challenge": …}` and nothing else, answered
    /// with the same JSON.
    ChallengeJson,
    /// LinkedIn: `GET ?challengeCode=<uuid>` answered `{"challengeCode",
    /// "challengeResponse": hex HMAC-SHA256(secret, challengeCode)}`.
    LinkedinChallenge,
    /// Worldline (and the other GCS platforms) endpoint verification: `GET` with
    /// `X-GCS-Webhooks-Endpoint-Verification`, whose value is answered as text.
    WorldlineVerification,
    /// AWS SNS `SubscriptionConfirmation` and `UnsubscribeConfirmation` messages: never
    /// published; the first is confirmed when the source allows it (`ingest::confirm`).
    SnsSubscription,
    /// The REST Hooks handshake Asana uses: a POST with header `X-Hook-Secret` brings the
    /// secret later deliveries are signed with. It is kept (sealed, through the admin store)
    /// and echoed in the `200`'s `X-Hook-Secret`, only while the source has no secret.
    HookSecret,
    /// RingCentral: a POST carrying a `Validation-Token` header (the subscription check) is
    /// answered `200`, empty, with the same header. Answered before verification: the value
    /// is the caller's own, held to the reflected charset.
    ValidationTokenEcho,
    /// Microsoft Graph: a POST with `?validationToken=…` (the subscription check, no body) is
    /// answered `200` with the token as text. Answered before verification, held to a
    /// reflected charset that also admits the space and `:` Graph's tokens hold.
    ValidationTokenQuery,
    /// Azure Event Grid (its own event schema): an authenticated batch whose first event is a
    /// `Microsoft.EventGrid.SubscriptionValidationEvent` is answered
    /// `{"validationResponse": data.validationCode}`.
    EventGridValidation,
}

impl HandshakeKind {
    /// Whether this kind compares the source's `verify_token`.
    pub fn uses_verify_token(self) -> bool {
        matches!(self, HandshakeKind::HubVerify)
    }

    /// Whether the source learns its secret from this handshake (and may start without one).
    pub fn learns_secret(self) -> bool {
        matches!(self, HandshakeKind::HookSecret)
    }
}

/// The header that brings a learned secret, and carries it back in the answer.
pub const HOOK_SECRET_HEADER: &str = "x-hook-secret";
/// The header RingCentral's subscription check carries, echoed in the answer.
pub const VALIDATION_TOKEN_HEADER: &str = "validation-token";

/// A handshake ready to answer, keyed at start-up when it needs the secret.
pub struct Handshake {
    kind: HandshakeKind,
    /// HMAC keyed with the source's first secret (Zoom, X, LinkedIn, Smartcar).
    key: Option<Hmac<Sha256>>,
    /// SHA-256 of the verify token (`hub_verify`): comparing fixed-size digests in constant
    /// time hides both the token and its length.
    verify_token: Option<[u8; 32]>,
    /// Whether the source has a secret; a learning handshake is refused once it has.
    has_secret: bool,
}

impl std::fmt::Debug for Handshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handshake")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The answer to a handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: StatusCode,
    pub body: ReplyBody,
    /// Something the operator should know (a revoked subscription), logged with the source.
    pub warning: Option<String>,
    /// A header the answer carries (a learned secret or a validation token, echoed); `Secret`
    /// keeps it out of every `Debug`.
    pub header: Option<(HeaderName, Secret)>,
}

/// What a handshake answer carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyBody {
    Empty,
    Json(Value),
    /// Sent as `text/plain; charset=utf-8` with `X-Content-Type-Options: nosniff`.
    Text(String),
}

impl Reply {
    fn ok(body: ReplyBody) -> Self {
        Reply {
            status: StatusCode::OK,
            body,
            warning: None,
            header: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("missing `{0}` in the verification request")]
    Missing(&'static str),
    #[error("`{param}` must be {rule}")]
    Invalid {
        param: &'static str,
        rule: &'static str,
    },
    #[error("`hub.verify_token` does not match this source's verify token")]
    WrongVerifyToken,
    #[error(
        "the body has the shape of this source's handshake token, which no delivery has; \
         it is refused so that a handshake answer can never authenticate it"
    )]
    TokenShapedBody,
    #[error(
        "this source already has a secret, so a handshake cannot set another; an operator \
         clears it first (DELETE /v1/webhooks/{{id}}/secret)"
    )]
    SecretExists,
}

impl HandshakeError {
    pub fn code(&self) -> &'static str {
        match self {
            HandshakeError::Missing(_) | HandshakeError::Invalid { .. } => "invalid_handshake",
            HandshakeError::WrongVerifyToken => "invalid_verify_token",
            HandshakeError::TokenShapedBody => "token_shaped_body",
            HandshakeError::SecretExists => "secret_exists",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            HandshakeError::WrongVerifyToken => StatusCode::FORBIDDEN,
            HandshakeError::SecretExists => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// Longest challenge echoed as text.
const MAX_ECHO_LEN: usize = 256;
/// What a text echo may hold: RFC 3986 unreserved characters and base64's `+/=`. None of them
/// starts markup or a script, so no browser can make a page of the answer.
const ECHO_RULE: &str = "1 to 256 letters, digits or `-._~+/=`";
const CRC_RULE: &str = "1 to 128 letters, digits or `-_=+/.`";
const UUID_RULE: &str = "a UUID written with hyphens (8-4-4-4-12 hex digits)";
const GRAPH_TOKEN_RULE: &str = "1 to 256 letters, digits, spaces or `-._~+/=:`";

/// Graph's validation tokens: the reflected charset plus the space and `:` (its tokens read
/// like `Validation: … Request-Id: <uuid>`); neither starts markup, and the answer is
/// `text/plain` with `nosniff`.
fn is_graph_token(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_ECHO_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" -._~+/=:".contains(&b))
}

const HOOK_SECRET_RULE: &str = "16 to 512 visible ASCII characters";

/// A secret a handshake may teach: long enough to key an HMAC worth the name, short enough to
/// store, and printable (it goes back in a header).
fn is_learnable_secret(value: &[u8]) -> bool {
    (16..=512).contains(&value.len()) && value.iter().all(|b| b.is_ascii_graphic())
}

fn is_echo_safe(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_ECHO_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
}

/// X's CRC tokens: no JSON object or array, and no form with two fields, is made of these.
fn is_crc_token(value: &[u8]) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=+/.".contains(b))
}

/// `8-4-4-4-12` hex digits: never JSON (a number cannot be followed by `-` and digits) and
/// never a form (no `=`).
fn is_hyphenated_uuid(value: &[u8]) -> bool {
    value.len() == 36
        && value.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The first value of query parameter `name`.
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl Handshake {
    /// Prepares `kind`. Zoom, X, LinkedIn and Smartcar answer with an HMAC keyed with the
    /// source's first secret; `hub_verify` compares `verify_token`.
    pub fn new(
        kind: HandshakeKind,
        secrets: &[Secret],
        verify_token: Option<&Secret>,
    ) -> Result<Self, &'static str> {
        let key = match kind {
            HandshakeKind::ZoomUrlValidation
            | HandshakeKind::XCrc
            | HandshakeKind::LinkedinChallenge
            | HandshakeKind::SmartcarVerify => {
                let secret = secrets
                    .first()
                    .ok_or("this handshake needs the source's secret")?;
                Some(
                    <Hmac<Sha256> as Mac>::new_from_slice(secret.expose())
                        .map_err(|_| "unusable secret")?,
                )
            }
            _ => None,
        };
        let verify_token = match (kind.uses_verify_token(), verify_token) {
            (true, Some(token)) => Some(sha256(token.expose())),
            (true, None) => {
                return Err("the `hub_verify` handshake needs the source's `verify_token`")
            }
            (false, Some(_)) => {
                return Err("`verify_token` is used only by the `hub_verify` handshake")
            }
            (false, None) => None,
        };
        Ok(Handshake {
            kind,
            key,
            verify_token,
            has_secret: !secrets.is_empty(),
        })
    }

    /// For a `POST` to a learning source (`hook_secret`), before verification: the secret the
    /// request brings, `None` when it brings none (a delivery). Refused when the source
    /// already has a secret, or when the value is not one (16 to 512 visible ASCII characters).
    pub fn offered_secret(&self, headers: &HeaderMap) -> Result<Option<Secret>, HandshakeError> {
        if self.kind != HandshakeKind::HookSecret {
            return Ok(None);
        }
        let Some(value) = headers.get(HOOK_SECRET_HEADER) else {
            return Ok(None);
        };
        if self.has_secret {
            return Err(HandshakeError::SecretExists);
        }
        if !is_learnable_secret(value.as_bytes()) {
            return Err(HandshakeError::Invalid {
                param: "X-Hook-Secret",
                rule: HOOK_SECRET_RULE,
            });
        }
        Ok(Some(Secret::new(value.as_bytes().to_vec())))
    }

    /// For a `POST`, before verification: the answer to an unsigned echo of the caller's own
    /// token (`validation_token_echo`: a header; `validation_token_query`: `?validationToken=`
    /// as text), `None` when the request is not one.
    pub fn unsigned_echo(
        &self,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<Option<Reply>, HandshakeError> {
        if self.kind == HandshakeKind::ValidationTokenQuery {
            let Some(token) = query_param(query, "validationToken") else {
                return Ok(None);
            };
            if !is_graph_token(&token) {
                return Err(HandshakeError::Invalid {
                    param: "validationToken",
                    rule: GRAPH_TOKEN_RULE,
                });
            }
            return Ok(Some(Reply::ok(ReplyBody::Text(token))));
        }
        if self.kind != HandshakeKind::ValidationTokenEcho {
            return Ok(None);
        }
        let Some(value) = headers.get(VALIDATION_TOKEN_HEADER) else {
            return Ok(None);
        };
        let value = value.to_str().unwrap_or_default();
        if !is_echo_safe(value) {
            return Err(HandshakeError::Invalid {
                param: "Validation-Token",
                rule: ECHO_RULE,
            });
        }
        Ok(Some(Reply {
            header: Some((
                HeaderName::from_static(VALIDATION_TOKEN_HEADER),
                Secret::new(value.as_bytes().to_vec()),
            )),
            ..Reply::ok(ReplyBody::Empty)
        }))
    }

    /// The answer once `secret` is kept: `200`, empty, echoing it in `X-Hook-Secret`.
    pub fn learned(secret: Secret) -> Reply {
        Reply {
            header: Some((HeaderName::from_static(HOOK_SECRET_HEADER), secret)),
            ..Reply::ok(ReplyBody::Empty)
        }
    }

    /// Whether this handshake arrives as `GET`.
    pub fn is_get(&self) -> bool {
        matches!(
            self.kind,
            HandshakeKind::OktaVerification
                | HandshakeKind::XCrc
                | HandshakeKind::HubVerify
                | HandshakeKind::ChallengeEcho
                | HandshakeKind::LinkedinChallenge
                | HandshakeKind::WorldlineVerification
        )
    }

    /// Whether a `HEAD` request is answered `200`.
    pub fn answers_head(&self) -> bool {
        self.kind == HandshakeKind::HeadOk
    }

    /// Whether `body` could be a token this source's GET handshake signs: such a body is no
    /// delivery, and is refused before verification (see the module doc).
    pub fn token_shaped(&self, body: &[u8]) -> bool {
        match self.kind {
            HandshakeKind::XCrc => is_crc_token(body),
            HandshakeKind::LinkedinChallenge => is_hyphenated_uuid(body),
            _ => false,
        }
    }

    fn hmac(&self, message: &[u8]) -> Vec<u8> {
        match &self.key {
            Some(key) => {
                let mut m = key.clone();
                m.update(message);
                m.finalize().into_bytes().to_vec()
            }
            None => Vec::new(),
        }
    }

    /// For a verified, parsed `POST`: the answer when the request is this handshake, `None`
    /// when it is a delivery.
    pub fn answer(
        &self,
        headers: &HeaderMap,
        payload: &Document,
    ) -> Result<Option<Reply>, HandshakeError> {
        let ok = |body| Ok(Some(Reply::ok(body)));
        let field = |name: &str| payload.get(name);
        let text = |name: &str| field(name).and_then(|v| v.as_str());
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        match self.kind {
            HandshakeKind::SlackUrlVerification if text("type") == Some("url_verification") => {
                let challenge = field("challenge").map(crate::base::json::to_serde);
                ok(ReplyBody::Json(json!({ "challenge": challenge })))
            }
            HandshakeKind::ZoomUrlValidation
                if text("event") == Some("endpoint.url_validation") =>
            {
                let plain = field("payload")
                    .and_then(|p| p.get("plainToken"))
                    .and_then(|v| v.as_str())
                    .ok_or(HandshakeError::Missing("payload.plainToken"))?;
                let encrypted = hex::encode(self.hmac(plain.as_bytes()));
                ok(ReplyBody::Json(
                    json!({ "plainToken": plain, "encryptedToken": encrypted }),
                ))
            }
            HandshakeKind::DiscordPing if field("type").and_then(|v| v.as_u64()) == Some(1) => {
                ok(ReplyBody::Json(json!({ "type": 1 })))
            }
            HandshakeKind::XeroIntentToReceive
                if field("events")
                    .and_then(|v| v.as_array())
                    .is_some_and(|a| a.is_empty()) =>
            {
                ok(ReplyBody::Empty)
            }
            HandshakeKind::TwitchEventsub => match header("twitch-eventsub-message-type") {
                Some("webhook_callback_verification") => {
                    let challenge =
                        text("challenge").ok_or(HandshakeError::Missing("challenge"))?;
                    ok(ReplyBody::Text(challenge.to_owned()))
                }
                Some("revocation") => {
                    let about = |name: &str| {
                        let value = field("subscription")
                            .and_then(|s| s.get(name))
                            .and_then(|v| v.as_str())
                            .unwrap_or("unknown");
                        value.chars().take(100).collect::<String>()
                    };
                    Ok(Some(Reply {
                        warning: Some(format!(
                            "Twitch revoked the subscription to {:?} (status {:?}); \
                             nothing more will arrive for it until it is created again",
                            about("type"),
                            about("status")
                        )),
                        ..Reply::ok(ReplyBody::Empty)
                    }))
                }
                _ => Ok(None),
            },
            HandshakeKind::SmartcarVerify => {
                // Webhooks v4: `eventType: VERIFY`, `data.challenge`; v2: `eventName: verify`,
                // `payload.challenge`.
                let holder = if text("eventType") == Some("VERIFY") {
                    field("data")
                } else if text("eventName") == Some("verify") {
                    field("payload")
                } else {
                    return Ok(None);
                };
                let challenge = holder
                    .and_then(|h| h.get("challenge"))
                    .and_then(|v| v.as_str())
                    .ok_or(HandshakeError::Missing("challenge"))?;
                let answer = hex::encode(self.hmac(challenge.as_bytes()));
                ok(ReplyBody::Json(json!({ "challenge": answer })))
            }
            HandshakeKind::ChallengeJson => {
                let only_field = payload.as_object().is_some_and(|o| o.len() == 1);
                match text("challenge") {
                    // Signed by the provider, but still echoed only in the safe alphabet.
                    Some(challenge) if only_field => {
                        if !is_echo_safe(challenge) {
                            return Err(HandshakeError::Invalid {
                                param: "challenge",
                                rule: ECHO_RULE,
                            });
                        }
                        ok(ReplyBody::Json(json!({ "challenge": challenge })))
                    }
                    _ => Ok(None),
                }
            }
            HandshakeKind::EventGridValidation => {
                let first = payload.as_array().and_then(|events| events.first());
                let kind = first
                    .and_then(|e| e.get("eventType"))
                    .and_then(|v| v.as_str());
                if kind != Some("Microsoft.EventGrid.SubscriptionValidationEvent") {
                    return Ok(None);
                }
                let code = first
                    .and_then(|e| e.get("data"))
                    .and_then(|d| d.get("validationCode"))
                    .and_then(|v| v.as_str())
                    .ok_or(HandshakeError::Missing("data.validationCode"))?;
                ok(ReplyBody::Json(json!({ "validationResponse": code })))
            }
            HandshakeKind::FrontChallenge => match header("x-front-challenge") {
                Some(challenge) => ok(ReplyBody::Json(json!({ "challenge": challenge }))),
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// For a `GET`: the answer to the verification request.
    pub fn answer_get(
        &self,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<Reply, HandshakeError> {
        match self.kind {
            HandshakeKind::OktaVerification => {
                let challenge = headers
                    .get("x-okta-verification-challenge")
                    .and_then(|v| v.to_str().ok())
                    .ok_or(HandshakeError::Missing(
                        "X-Okta-Verification-Challenge header",
                    ))?;
                Ok(Reply::ok(ReplyBody::Json(
                    json!({ "verification": challenge }),
                )))
            }
            HandshakeKind::XCrc => {
                let token = query_param(query, "crc_token")
                    .ok_or(HandshakeError::Missing("crc_token query parameter"))?;
                if !is_crc_token(token.as_bytes()) {
                    return Err(HandshakeError::Invalid {
                        param: "crc_token",
                        rule: CRC_RULE,
                    });
                }
                use base64::Engine as _;
                let digest =
                    base64::engine::general_purpose::STANDARD.encode(self.hmac(token.as_bytes()));
                Ok(Reply::ok(ReplyBody::Json(
                    json!({ "response_token": format!("sha256={digest}") }),
                )))
            }
            HandshakeKind::HubVerify => {
                let mode = query_param(query, "hub.mode")
                    .ok_or(HandshakeError::Missing("hub.mode query parameter"))?;
                if mode != "subscribe" {
                    return Err(HandshakeError::Invalid {
                        param: "hub.mode",
                        rule: "`subscribe`",
                    });
                }
                let token = query_param(query, "hub.verify_token")
                    .ok_or(HandshakeError::Missing("hub.verify_token query parameter"))?;
                let expected = self.verify_token.ok_or(HandshakeError::WrongVerifyToken)?;
                if !bool::from(sha256(token.as_bytes()).ct_eq(&expected)) {
                    return Err(HandshakeError::WrongVerifyToken);
                }
                let challenge = query_param(query, "hub.challenge")
                    .ok_or(HandshakeError::Missing("hub.challenge query parameter"))?;
                echo(challenge, "hub.challenge")
            }
            HandshakeKind::ChallengeEcho => {
                let challenge = query_param(query, "challenge")
                    .ok_or(HandshakeError::Missing("challenge query parameter"))?;
                echo(challenge, "challenge")
            }
            HandshakeKind::WorldlineVerification => {
                let value = headers
                    .get("x-gcs-webhooks-endpoint-verification")
                    .and_then(|v| v.to_str().ok())
                    .ok_or(HandshakeError::Missing(
                        "X-GCS-Webhooks-Endpoint-Verification header",
                    ))?;
                echo(value.to_owned(), "X-GCS-Webhooks-Endpoint-Verification")
            }
            HandshakeKind::LinkedinChallenge => {
                let code = query_param(query, "challengeCode")
                    .ok_or(HandshakeError::Missing("challengeCode query parameter"))?;
                if !is_hyphenated_uuid(code.as_bytes()) {
                    return Err(HandshakeError::Invalid {
                        param: "challengeCode",
                        rule: UUID_RULE,
                    });
                }
                let response = hex::encode(self.hmac(code.as_bytes()));
                Ok(Reply::ok(ReplyBody::Json(
                    json!({ "challengeCode": code, "challengeResponse": response }),
                )))
            }
            _ => Err(HandshakeError::Missing("a GET handshake for this provider")),
        }
    }
}

/// `value` as a plain-text answer, if it is safe to reflect.
fn echo(value: String, param: &'static str) -> Result<Reply, HandshakeError> {
    if !is_echo_safe(&value) {
        return Err(HandshakeError::Invalid {
            param,
            rule: ECHO_RULE,
        });
    }
    Ok(Reply::ok(ReplyBody::Text(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::json::doc;

    fn handshake(kind: HandshakeKind, secret: &str) -> Handshake {
        Handshake::new(kind, &[Secret::new(secret.as_bytes().to_vec())], None).expect("handshake")
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().expect("value"));
        }
        map
    }

    /// The JSON body of a POST handshake's answer (`None`: not a handshake, or no JSON).
    fn post_json(h: &Handshake, pairs: &[(&'static str, &str)], body: Value) -> Option<Value> {
        match h.answer(&headers(pairs), &doc(body)).expect("answer")?.body {
            ReplyBody::Json(v) => Some(v),
            _ => None,
        }
    }

    fn get(h: &Handshake, query: &str) -> Result<Reply, HandshakeError> {
        h.answer_get(Some(query), &HeaderMap::new())
    }

    #[test]
    fn slack_url_verification_echoes_the_challenge() {
        let h = handshake(HandshakeKind::SlackUrlVerification, "s");
        assert_eq!(
            post_json(
                &h,
                &[],
                json!({"token": "t", "challenge": "3eZbrw1aB", "type": "url_verification"})
            ),
            Some(json!({"challenge": "3eZbrw1aB"}))
        );
        assert_eq!(
            h.answer(&HeaderMap::new(), &doc(json!({"type": "event_callback"})))
                .expect("answer"),
            None
        );
    }

    #[test]
    fn zoom_url_validation_matches_the_documented_algorithm() {
        // Derived: plainToken `qgg8vlvZRS6UYooatFL8Aw`, secret `whsec_example_secret`.
        let h = handshake(HandshakeKind::ZoomUrlValidation, "whsec_example_secret");
        assert_eq!(
            post_json(
                &h,
                &[],
                json!({"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}})
            ),
            Some(json!({
                "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
                "encryptedToken": "853d0202399318bf257b67fd10469e7f85a0e7ff9888d0fb9991bc8af9ad2f54"
            }))
        );
    }

    #[test]
    fn discord_ping_gets_pong_and_xero_intent_gets_empty_200() {
        let d = handshake(HandshakeKind::DiscordPing, "k");
        assert_eq!(
            post_json(&d, &[], json!({"type": 1})),
            Some(json!({"type": 1}))
        );
        assert_eq!(post_json(&d, &[], json!({"type": 2})), None);
        let x = handshake(HandshakeKind::XeroIntentToReceive, "k");
        let reply = x.answer(
            &HeaderMap::new(),
            &doc(json!({"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": "S"})),
        );
        assert_eq!(reply.expect("answer"), Some(Reply::ok(ReplyBody::Empty)));
        assert_eq!(
            post_json(&x, &[], json!({"events": [{"eventCategory": "INVOICE"}]})),
            None
        );
    }

    #[test]
    fn okta_and_x_get_handshakes() {
        let okta = handshake(HandshakeKind::OktaVerification, "k");
        let reply = okta
            .answer_get(
                None,
                &headers(&[("x-okta-verification-challenge", "abc123")]),
            )
            .expect("reply");
        assert_eq!(
            reply.body,
            ReplyBody::Json(json!({"verification": "abc123"}))
        );
        assert!(okta.answer_get(None, &HeaderMap::new()).is_err());

        // X DevRel's sample values; the expected token was computed from the documented
        // algorithm (X publishes no expected output).
        let x = handshake(
            HandshakeKind::XCrc,
            "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu",
        );
        assert_eq!(
            get(&x, "crc_token=9b4507b3-9040-4669-9ca3-6b94edb50553")
                .expect("reply")
                .body,
            ReplyBody::Json(
                json!({"response_token": "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8="})
            )
        );
        let x = handshake(HandshakeKind::XCrc, "whsec_example_secret");
        assert_eq!(
            get(&x, "crc_token=abc").expect("reply").body,
            ReplyBody::Json(
                json!({"response_token": "sha256=i1uQoM0a8OYX024vykyR5t0K6hLZiAJfYGQfDEToK9U="})
            )
        );
        // A token that could be a JSON body is refused: the answer must not sign deliveries.
        for bad in ["crc_token=%7B%22a%22%3A1%7D", "crc_token=", "other=1"] {
            assert!(get(&x, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bodies_a_get_handshake_could_sign_are_token_shaped() {
        let x = handshake(HandshakeKind::XCrc, "k");
        // A form body made of CRC-token characters names a field: without this check, the CRC
        // answer for it would be a valid signature of a delivery of that event type.
        for body in [&b"event_type=tweet_create_events"[..], b"abc", b"123"] {
            assert!(x.token_shaped(body), "{body:?}");
        }
        for body in [&b"{\"event_type\":\"x\"}"[..], b"[]", b"a=1&b=2", b""] {
            assert!(!x.token_shaped(body), "{body:?}");
        }
        let li = handshake(HandshakeKind::LinkedinChallenge, "k");
        assert!(li.token_shaped(b"890e4bb2-8f7d-4f3e-a2b5-0c0dd5b3e2a1"));
        assert!(!li.token_shaped(b"{\"type\":\"LEAD_ACTION\"}"));
        // Kinds that sign nothing on request never refuse a body.
        let echo = handshake(HandshakeKind::ChallengeEcho, "k");
        assert!(!echo.token_shaped(b"abc"));
    }

    fn meta(token: &str) -> Handshake {
        Handshake::new(
            HandshakeKind::HubVerify,
            &[Secret::new(b"app-secret".to_vec())],
            Some(&Secret::new(token.as_bytes().to_vec())),
        )
        .expect("handshake")
    }

    #[test]
    fn hub_verify_echoes_the_challenge_only_for_the_verify_token() {
        // The request Meta documents (developers.facebook.com/docs/graph-api/webhooks/
        // getting-started): mode, verify token and an integer challenge.
        let h = meta("meatyhamhock");
        let reply = get(
            &h,
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock",
        )
        .expect("reply");
        assert_eq!(reply, Reply::ok(ReplyBody::Text("1158201444".to_owned())));
        let refused = |query: &str| get(&h, query).expect_err("refused");
        let wrong = refused("hub.mode=subscribe&hub.challenge=1&hub.verify_token=meatyham");
        assert_eq!(
            (wrong.status().as_u16(), wrong.code()),
            (403, "invalid_verify_token")
        );
        assert!(!wrong.to_string().contains("meatyhamhock"));
        for query in [
            "hub.challenge=1&hub.verify_token=meatyhamhock",
            "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=meatyhamhock",
            "hub.mode=subscribe&hub.verify_token=meatyhamhock",
            "hub.mode=subscribe&hub.challenge=1",
            "hub.mode=subscribe&hub.challenge=%3Cscript%3E&hub.verify_token=meatyhamhock",
        ] {
            let err = refused(query);
            assert_eq!(
                (err.status().as_u16(), err.code()),
                (400, "invalid_handshake"),
                "{query}"
            );
        }
        // The verify token must be configured, and only for this kind.
        let secrets = [Secret::new(b"s".to_vec())];
        assert!(Handshake::new(HandshakeKind::HubVerify, &secrets, None).is_err());
        let token = Secret::new(b"t".to_vec());
        assert!(Handshake::new(HandshakeKind::XCrc, &secrets, Some(&token)).is_err());
    }

    #[test]
    fn text_echoes_reflect_only_a_safe_bounded_charset() {
        let h = handshake(HandshakeKind::ChallengeEcho, "k");
        let echoed = get(
            &h,
            "challenge=SPiUFXL7c7MZt8ZySMbN-J3x_OB.Edr~bEb%2BX5U%2F%3D",
        )
        .expect("ok");
        assert_eq!(
            echoed.body,
            ReplyBody::Text("SPiUFXL7c7MZt8ZySMbN-J3x_OB.Edr~bEb+X5U/=".to_owned())
        );
        let long = format!("challenge={}", "a".repeat(MAX_ECHO_LEN + 1));
        for bad in [
            "challenge=%3Chtml%3E",
            "challenge=a%20b",
            "challenge=%22",
            "challenge=%C3%A9",
            "challenge=",
            "nothing=1",
            &long,
        ] {
            assert_eq!(
                get(&h, bad).expect_err(bad).code(),
                "invalid_handshake",
                "{bad}"
            );
        }
        assert!(get(&h, &format!("challenge={}", "a".repeat(MAX_ECHO_LEN))).is_ok());
    }

    #[test]
    fn linkedin_challenge_answers_with_the_hmac_of_a_uuid_code() {
        // Derived from learn.microsoft.com/linkedin/shared/api-guide/webhook-validation:
        // hex HMAC-SHA256 of the challenge code keyed with the client secret, computed with
        // Python's hmac module.
        let h = handshake(HandshakeKind::LinkedinChallenge, "whsec_example_secret");
        let reply = get(
            &h,
            "challengeCode=890e4bb2-8f7d-4f3e-a2b5-0c0dd5b3e2a1&applicationId=7",
        )
        .expect("reply");
        assert_eq!(
            reply.body,
            ReplyBody::Json(json!({
                "challengeCode": "890e4bb2-8f7d-4f3e-a2b5-0c0dd5b3e2a1",
                "challengeResponse": LINKEDIN_RESPONSE,
            }))
        );
        for bad in [
            "challengeCode=890e4bb28f7d4f3ea2b50c0dd5b3e2a1",
            "challengeCode=12345678901234567890123456789012345",
            "challengeCode=%7B%7D",
            "challenge=890e4bb2-8f7d-4f3e-a2b5-0c0dd5b3e2a1",
        ] {
            assert_eq!(
                get(&h, bad).expect_err(bad).code(),
                "invalid_handshake",
                "{bad}"
            );
        }
    }
    const LINKEDIN_RESPONSE: &str =
        "6c9596e54248865867e33a8fb77828b70fc30c4be5ca87120eb8e5e1552f4f8c";

    #[test]
    fn twitch_verification_and_revocation() {
        let h = handshake(HandshakeKind::TwitchEventsub, "k");
        let verification = [(
            "twitch-eventsub-message-type",
            "webhook_callback_verification",
        )];
        let body = json!({"challenge": "pogchamp-kappa-360noscope-vohiyo", "subscription": {"type": "channel.follow"}});
        let reply = h
            .answer(&headers(&verification), &doc(body.clone()))
            .expect("answer")
            .expect("handshake");
        assert_eq!(
            reply,
            Reply::ok(ReplyBody::Text(
                "pogchamp-kappa-360noscope-vohiyo".to_owned()
            ))
        );
        let no_challenge = h.answer(&headers(&verification), &doc(json!({"subscription": {}})));
        assert_eq!(
            no_challenge.expect_err("missing").code(),
            "invalid_handshake"
        );
        let revocation = [("twitch-eventsub-message-type", "revocation")];
        let reply = h
            .answer(
                &headers(&revocation),
                &doc(json!({"subscription": {"type": "channel.follow", "status": "authorization_revoked"}})),
            )
            .expect("answer")
            .expect("handshake");
        assert_eq!(
            (reply.status, &reply.body),
            (StatusCode::OK, &ReplyBody::Empty)
        );
        let warning = reply.warning.expect("warning");
        assert!(
            warning.contains("\"channel.follow\"") && warning.contains("\"authorization_revoked\""),
            "{warning}"
        );
        // Notifications are deliveries.
        let notification = [("twitch-eventsub-message-type", "notification")];
        assert_eq!(
            h.answer(&headers(&notification), &doc(body))
                .expect("answer"),
            None
        );
    }

    #[test]
    fn smartcar_verify_answers_the_hmac_of_the_challenge() {
        // The answer smartcar 6.19.1's `hash_challenge("whsec_example_secret", "9c9c9c9c")`
        // gives (smartcar.com/docs/integrations/webhooks/callback-verification); tests/it/sdk.rs
        // checks a live VERIFY against the SDK too.
        let h = handshake(HandshakeKind::SmartcarVerify, "whsec_example_secret");
        let expected = Some(json!({"challenge": SMARTCAR_RESPONSE}));
        let v4 = json!({"eventId": "e", "eventType": "VERIFY", "data": {"challenge": "9c9c9c9c"}});
        assert_eq!(post_json(&h, &[], v4), expected);
        let v2 = json!({"version": "2.0", "webhookId": "w", "eventName": "verify", "payload": {"challenge": "9c9c9c9c"}});
        assert_eq!(post_json(&h, &[], v2), expected);
        let event = json!({"eventType": "VEHICLE_STATE", "data": {}});
        assert_eq!(post_json(&h, &[], event), None);
        let err = h.answer(
            &HeaderMap::new(),
            &doc(json!({"eventType": "VERIFY", "data": {}})),
        );
        assert_eq!(err.expect_err("missing").code(), "invalid_handshake");
    }
    const SMARTCAR_RESPONSE: &str =
        "ebc5b682be4299c877ef18d4b023eddd0d7b2ddb0a62ee22b384ce9798d12407";

    #[test]
    fn front_challenge_is_echoed_from_its_header() {
        let h = handshake(HandshakeKind::FrontChallenge, "k");
        let sync = json!({"type": "sync", "authorization": {"id": "cmp_abc"}});
        assert_eq!(
            post_json(&h, &[("x-front-challenge", "r4nd0m")], sync.clone()),
            Some(json!({"challenge": "r4nd0m"}))
        );
        assert_eq!(post_json(&h, &[], sync), None);
    }

    #[test]
    fn challenge_json_echoes_a_lone_challenge() {
        // developer.monday.com/api-reference/reference/webhooks ("URL verification").
        let h = handshake(HandshakeKind::ChallengeJson, "k");
        let token = "YQIn0dCoBu2zspb4TpQTXz8WKRpZOjXi9r7_7__BBA9HoPDHPrzKBKXUIquIoNL0BiTJzobUQ2uQD0wq0yDYHg";
        assert_eq!(
            post_json(&h, &[], json!({ "challenge": token })),
            Some(json!({ "challenge": token }))
        );
        // An event that happens to carry a `challenge` field is a delivery.
        let event = json!({"challenge": token, "event": {"type": "create_pulse"}});
        assert_eq!(post_json(&h, &[], event), None);
        assert_eq!(post_json(&h, &[], json!({"challenge": 1})), None);
        let err = h
            .answer(&HeaderMap::new(), &doc(json!({"challenge": "<script>"})))
            .expect_err("unsafe");
        assert_eq!(err.code(), "invalid_handshake");
    }

    #[test]
    fn hook_secret_is_offered_only_while_the_source_has_none() {
        let asana = "b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81";
        let learning = Handshake::new(HandshakeKind::HookSecret, &[], None).expect("handshake");
        let offered = learning
            .offered_secret(&headers(&[("x-hook-secret", asana)]))
            .expect("offered")
            .expect("a secret");
        assert_eq!(offered.expose(), asana.as_bytes());
        // A delivery brings no secret.
        assert!(learning
            .offered_secret(&headers(&[("x-hook-signature", "00")]))
            .expect("delivery")
            .is_none());
        // Too short, too long, or not printable: refused, and the value is not in the error.
        for bad in ["short", &"a".repeat(513), "has space inside it ok"] {
            let err = learning
                .offered_secret(&headers(&[("x-hook-secret", bad)]))
                .expect_err(bad);
            assert_eq!(
                (err.status().as_u16(), err.code()),
                (400, "invalid_handshake")
            );
            assert!(!err.to_string().contains(bad));
        }
        // With a secret in place, nobody can replace it.
        let learned = handshake(HandshakeKind::HookSecret, asana);
        let err = learned
            .offered_secret(&headers(&[("x-hook-secret", asana)]))
            .expect_err("exists");
        assert_eq!((err.status().as_u16(), err.code()), (409, "secret_exists"));
        // Other kinds never take a secret from a request.
        let front = handshake(HandshakeKind::FrontChallenge, "k");
        assert!(front
            .offered_secret(&headers(&[("x-hook-secret", asana)]))
            .expect("ignored")
            .is_none());
        // The answer echoes it in a header that no Debug shows.
        let reply = Handshake::learned(offered);
        assert_eq!(
            (reply.status, &reply.body),
            (StatusCode::OK, &ReplyBody::Empty)
        );
        assert!(!format!("{reply:?}").contains(asana));
        assert!(HandshakeKind::HookSecret.learns_secret());
        assert!(!HandshakeKind::FrontChallenge.learns_secret());
    }

    #[test]
    fn validation_token_is_echoed_in_its_header() {
        let h = handshake(HandshakeKind::ValidationTokenEcho, "k");
        let reply = h
            .unsigned_echo(
                None,
                &headers(&[("validation-token", "5b1f2a3c-9d4e-4f60-8a7b-0c1d2e3f4a5b")]),
            )
            .expect("answer")
            .expect("a handshake");
        assert_eq!(
            (reply.status, &reply.body),
            (StatusCode::OK, &ReplyBody::Empty)
        );
        let (name, value) = reply.header.expect("echo");
        assert_eq!(name.as_str(), "validation-token");
        assert_eq!(value.expose(), b"5b1f2a3c-9d4e-4f60-8a7b-0c1d2e3f4a5b");
        // Deliveries carry no Validation-Token; a value outside the reflected set is refused.
        assert_eq!(
            h.unsigned_echo(None, &HeaderMap::new()).expect("delivery"),
            None
        );
        for bad in ["<b>", "a b", ""] {
            let err = h
                .unsigned_echo(None, &headers(&[("validation-token", bad)]))
                .expect_err(bad);
            assert_eq!(err.code(), "invalid_handshake");
        }
        // Other kinds echo nothing.
        let other = handshake(HandshakeKind::FrontChallenge, "k");
        assert_eq!(
            other
                .unsigned_echo(None, &headers(&[("validation-token", "abc")]))
                .expect("ignored"),
            None
        );
    }

    #[test]
    fn graph_validation_token_is_echoed_as_text() {
        let h = handshake(HandshakeKind::ValidationTokenQuery, "k");
        let echo = |query: &str| h.unsigned_echo(Some(query), &HeaderMap::new());
        // The token as Graph's examples show it, URL-encoded.
        let reply = echo("validationToken=Validation%3A+Testing+client+application+reachability+for+subscription+Request-Id%3A+522a8e7e-096a-494c-aaf1-ac0dcfca45b7")
            .expect("answer")
            .expect("a handshake");
        assert_eq!(
            reply,
            Reply::ok(ReplyBody::Text(
                "Validation: Testing client application reachability for subscription Request-Id: 522a8e7e-096a-494c-aaf1-ac0dcfca45b7".to_owned()
            ))
        );
        // A notification has no validationToken.
        assert_eq!(echo("").expect("delivery"), None);
        let long = format!("validationToken={}", "a".repeat(MAX_ECHO_LEN + 1));
        for bad in [
            "validationToken=%3Cscript%3E",
            "validationToken=",
            "validationToken=a%22b",
            &long,
        ] {
            assert_eq!(
                echo(bad).expect_err(bad).code(),
                "invalid_handshake",
                "{bad}"
            );
        }
        // Other kinds ignore the parameter.
        let other = handshake(HandshakeKind::ValidationTokenEcho, "k");
        assert_eq!(
            other
                .unsigned_echo(Some("validationToken=abc"), &HeaderMap::new())
                .expect("ignored"),
            None
        );
    }

    #[test]
    fn event_grid_validation_answers_the_validation_code() {
        // The event learn.microsoft.com/azure/event-grid/end-point-validation-event-grid-events-schema
        // shows, in its array.
        let h = handshake(HandshakeKind::EventGridValidation, "k");
        let validation = json!([{
            "id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
            "topic": "/subscriptions/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
            "subject": "",
            "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6", "validationUrl": "https://rp-eastus2.eventgrid.azure.net/eventsubscriptions/x/validate?id=512d38b6"},
            "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
            "eventTime": "2018-01-25T22:12:19.4556811Z",
            "metadataVersion": "1",
            "dataVersion": "1"
        }]);
        assert_eq!(
            post_json(&h, &[], validation),
            Some(json!({"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}))
        );
        let event = json!([{"id": "1", "eventType": "Microsoft.Storage.BlobCreated", "data": {}}]);
        assert_eq!(post_json(&h, &[], event), None);
        assert_eq!(post_json(&h, &[], json!({"eventType": "x"})), None);
        let no_code = h.answer(
            &HeaderMap::new(),
            &doc(json!([{"eventType": "Microsoft.EventGrid.SubscriptionValidationEvent", "data": {}}])),
        );
        assert_eq!(no_code.expect_err("missing").code(), "invalid_handshake");
    }

    #[test]
    fn head_ok_answers_only_head() {
        let h = handshake(HandshakeKind::HeadOk, "k");
        assert!(h.answers_head() && !h.is_get());
        assert!(!handshake(HandshakeKind::ChallengeEcho, "k").answers_head());
    }

    #[test]
    fn worldline_get_echoes_the_verification_header_as_text() {
        let h = handshake(HandshakeKind::WorldlineVerification, "k");
        assert!(h.is_get());
        let value = "3c1d5b2a-9f7e-4d8b-a1c2-5e6f7a8b9c0d";
        let mut map = HeaderMap::new();
        map.insert(
            "x-gcs-webhooks-endpoint-verification",
            value.parse().expect("value"),
        );
        assert_eq!(
            h.answer_get(None, &map).expect("reply").body,
            ReplyBody::Text(value.to_owned())
        );
        let err = h.answer_get(None, &HeaderMap::new()).expect_err("missing");
        assert_eq!(
            err.to_string(),
            "missing `X-GCS-Webhooks-Endpoint-Verification header` in the verification request"
        );
        // Nothing a browser could read as markup, and nothing long, is echoed.
        for bad in ["<script>", "a b", &"x".repeat(257)] {
            map.insert(
                "x-gcs-webhooks-endpoint-verification",
                bad.parse().expect("value"),
            );
            assert!(h.answer_get(None, &map).is_err(), "{bad}");
        }
    }
}
