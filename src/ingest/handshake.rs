//! Handshakes: requests with which a provider checks the endpoint instead of delivering an
//! event. They are answered as the provider requires and never published.
//!
//! Owns: the handshake kinds and their answers. POST handshakes (Slack, Zoom, Discord, Xero)
//! are answered only after the request's signature was verified and its body parsed, like any
//! delivery. GET handshakes (Okta, X) carry no signature: Okta's is a plain echo, and X's CRC
//! answer is an HMAC of the token with the source's secret, so tokens are limited to the
//! characters X uses; such a token can never also be a JSON object or array, which keeps the
//! answer from being usable as a signature for a forged delivery.

use hmac::{Hmac, Mac};
use hyper::header::HeaderMap;
use hyper::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;
use sonic_rs::{JsonContainerTrait as _, JsonValueTrait as _};

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
    /// AWS SNS `SubscriptionConfirmation` and `UnsubscribeConfirmation` messages: never
    /// published; the first is confirmed when the source allows it (`ingest::confirm`).
    SnsSubscription,
}

/// A handshake ready to answer, keyed at start-up when it needs the secret.
pub struct Handshake {
    kind: HandshakeKind,
    /// HMAC keyed with the source's first secret (Zoom, X).
    key: Option<Hmac<Sha256>>,
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
    /// JSON body, or `None` for an empty body.
    pub body: Option<Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("missing `{0}` in the verification request")]
    Missing(&'static str),
    #[error("`crc_token` must be 1 to 128 letters, digits or `-_=+/.`")]
    BadCrcToken,
}

impl HandshakeError {
    pub fn code(&self) -> &'static str {
        match self {
            HandshakeError::Missing(_) => "invalid_handshake",
            HandshakeError::BadCrcToken => "invalid_handshake",
        }
    }
}

impl Handshake {
    /// Prepares `kind`; the secret is needed by Zoom and X (the first one is used).
    pub fn new(kind: HandshakeKind, secrets: &[Secret]) -> Result<Self, &'static str> {
        let key = match kind {
            HandshakeKind::ZoomUrlValidation | HandshakeKind::XCrc => {
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
        Ok(Handshake { kind, key })
    }

    /// Whether this handshake arrives as `GET`.
    pub fn is_get(&self) -> bool {
        matches!(
            self.kind,
            HandshakeKind::OktaVerification | HandshakeKind::XCrc
        )
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

    /// For a verified, parsed `POST`: the answer when the payload is this handshake.
    pub fn answer(&self, payload: &Document) -> Option<Reply> {
        let ok = |body| {
            Some(Reply {
                status: StatusCode::OK,
                body,
            })
        };
        let field = |name: &str| payload.get(name);
        let text = |name: &str| field(name).and_then(|v| v.as_str());
        match self.kind {
            HandshakeKind::SlackUrlVerification if text("type") == Some("url_verification") => {
                let challenge = field("challenge").map(crate::base::json::to_serde);
                ok(Some(json!({ "challenge": challenge })))
            }
            HandshakeKind::ZoomUrlValidation
                if text("event") == Some("endpoint.url_validation") =>
            {
                let plain = field("payload")?.get("plainToken")?.as_str()?;
                let encrypted = hex::encode(self.hmac(plain.as_bytes()));
                ok(Some(
                    json!({ "plainToken": plain, "encryptedToken": encrypted }),
                ))
            }
            HandshakeKind::DiscordPing if field("type").and_then(|v| v.as_u64()) == Some(1) => {
                ok(Some(json!({ "type": 1 })))
            }
            HandshakeKind::XeroIntentToReceive
                if field("events")
                    .and_then(|v| v.as_array())
                    .is_some_and(|a| a.is_empty()) =>
            {
                ok(None)
            }
            _ => None,
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
                Ok(Reply {
                    status: StatusCode::OK,
                    body: Some(json!({ "verification": challenge })),
                })
            }
            HandshakeKind::XCrc => {
                let token = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                    .find(|(k, _)| k == "crc_token")
                    .map(|(_, v)| v.into_owned())
                    .ok_or(HandshakeError::Missing("crc_token query parameter"))?;
                let allowed = |c: char| c.is_ascii_alphanumeric() || "-_=+/.".contains(c);
                if token.is_empty() || token.len() > 128 || !token.chars().all(allowed) {
                    return Err(HandshakeError::BadCrcToken);
                }
                use base64::Engine as _;
                let digest =
                    base64::engine::general_purpose::STANDARD.encode(self.hmac(token.as_bytes()));
                Ok(Reply {
                    status: StatusCode::OK,
                    body: Some(json!({ "response_token": format!("sha256={digest}") })),
                })
            }
            _ => Err(HandshakeError::Missing("a GET handshake for this provider")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::json::doc;

    fn handshake(kind: HandshakeKind, secret: &str) -> Handshake {
        Handshake::new(kind, &[Secret::new(secret.as_bytes().to_vec())]).expect("handshake")
    }

    #[test]
    fn slack_url_verification_echoes_the_challenge() {
        let h = handshake(HandshakeKind::SlackUrlVerification, "s");
        let reply = h.answer(&doc(
            json!({"token": "t", "challenge": "3eZbrw1aB", "type": "url_verification"}),
        ));
        assert_eq!(
            reply.and_then(|r| r.body),
            Some(json!({"challenge": "3eZbrw1aB"}))
        );
        assert_eq!(h.answer(&doc(json!({"type": "event_callback"}))), None);
    }

    #[test]
    fn zoom_url_validation_matches_the_documented_algorithm() {
        // Derived: plainToken `qgg8vlvZRS6UYooatFL8Aw`, secret `whsec_example_secret`.
        let h = handshake(HandshakeKind::ZoomUrlValidation, "whsec_example_secret");
        let reply = h
            .answer(&doc(json!({"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}})))
            .expect("reply");
        assert_eq!(
            reply.body,
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
            d.answer(&doc(json!({"type": 1}))).and_then(|r| r.body),
            Some(json!({"type": 1}))
        );
        assert_eq!(d.answer(&doc(json!({"type": 2}))), None);
        let x = handshake(HandshakeKind::XeroIntentToReceive, "k");
        let reply = x.answer(&doc(
            json!({"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": "S"}),
        ));
        assert_eq!(
            reply,
            Some(Reply {
                status: StatusCode::OK,
                body: None
            })
        );
        assert_eq!(
            x.answer(&doc(json!({"events": [{"eventCategory": "INVOICE"}]}))),
            None
        );
    }

    #[test]
    fn okta_and_x_get_handshakes() {
        let okta = handshake(HandshakeKind::OktaVerification, "k");
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-okta-verification-challenge",
            "abc123".parse().expect("value"),
        );
        assert_eq!(
            okta.answer_get(None, &headers).expect("reply").body,
            Some(json!({"verification": "abc123"}))
        );
        assert!(okta.answer_get(None, &HeaderMap::new()).is_err());

        // X DevRel's sample values; the expected token was computed from the documented
        // algorithm (X publishes no expected output).
        let x = handshake(
            HandshakeKind::XCrc,
            "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu",
        );
        let reply = x
            .answer_get(
                Some("crc_token=9b4507b3-9040-4669-9ca3-6b94edb50553"),
                &HeaderMap::new(),
            )
            .expect("reply");
        assert_eq!(
            reply.body,
            Some(json!({"response_token": "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8="}))
        );
        let x = handshake(HandshakeKind::XCrc, "whsec_example_secret");
        let reply = x
            .answer_get(Some("crc_token=abc"), &HeaderMap::new())
            .expect("reply");
        assert_eq!(
            reply.body,
            Some(json!({"response_token": "sha256=i1uQoM0a8OYX024vykyR5t0K6hLZiAJfYGQfDEToK9U="}))
        );
        // A token that could be a JSON body is refused: the answer must not sign deliveries.
        for bad in ["crc_token=%7B%22a%22%3A1%7D", "crc_token=", "other=1"] {
            assert!(x.answer_get(Some(bad), &HeaderMap::new()).is_err(), "{bad}");
        }
    }
}
