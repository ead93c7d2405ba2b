//! Schemes that carry the signature inside the body, so the body must be read as JSON to find
//! it: Adyen's standard notifications and Mailgun. Nothing read here leaves this module unless
//! every signature checks out.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::keys::BASE64_LENIENT;
use super::{AuthError, TimestampFormat, VerifierConfigError};
use crate::base::secret::Secret;

/// Keys as HMAC-SHA256 states, decoded once.
fn keyed(secrets: &[Secret], hex_keys: bool) -> Result<Vec<Hmac<Sha256>>, VerifierConfigError> {
    secrets
        .iter()
        .enumerate()
        .map(|(index, s)| {
            let key = if hex_keys {
                hex::decode(s.expose().trim_ascii()).map_err(|_| VerifierConfigError::Key {
                    index,
                    reason: "cannot be decoded as hex (Adyen HMAC keys are hex)",
                })?
            } else {
                s.expose().to_vec()
            };
            <Hmac<Sha256> as Mac>::new_from_slice(&key).map_err(|_| VerifierConfigError::Key {
                index,
                reason: "is not a usable HMAC key",
            })
        })
        .collect()
}

/// The first key whose HMAC of `message` equals `signature` (constant time, all keys tried).
fn find(keys: &[Hmac<Sha256>], message: &[u8], signature: &[u8]) -> Option<usize> {
    let mut matched = None;
    for (i, key) in keys.iter().enumerate() {
        let mut m = key.clone();
        m.update(message);
        if m.verify_slice(signature).is_ok() && matched.is_none() {
            matched = Some(i);
        }
    }
    matched
}

fn body_json(body: &[u8]) -> Result<Value, AuthError> {
    serde_json::from_slice(body)
        .map_err(|_| AuthError::MissingBodySignature("the body is not JSON"))
}

/// Adyen standard notifications: every `NotificationRequestItem` carries
/// `additionalData.hmacSignature`, base64 HMAC-SHA256 (hex key) of
/// `pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success`
/// (Adyen python library `util.generate_notification_sig`). Every item must verify.
#[derive(Debug)]
pub(super) struct Adyen {
    keys: Vec<Hmac<Sha256>>,
}

impl Adyen {
    pub(super) fn new(secrets: &[Secret]) -> Result<Self, VerifierConfigError> {
        Ok(Adyen {
            keys: keyed(secrets, true)?,
        })
    }

    pub(super) fn verify(&self, body: &[u8]) -> Result<usize, AuthError> {
        let json = body_json(body)?;
        let items = json["notificationItems"]
            .as_array()
            .filter(|items| !items.is_empty())
            .ok_or(AuthError::MissingBodySignature("no notificationItems"))?;
        let mut first = None;
        for item in items {
            let item = &item["NotificationRequestItem"];
            let signature = item["additionalData"]["hmacSignature"].as_str().ok_or(
                AuthError::MissingBodySignature("an item has no additionalData.hmacSignature"),
            )?;
            let signature = BASE64_LENIENT
                .decode(signature)
                .map_err(|_| AuthError::MissingBodySignature("hmacSignature is not base64"))?;
            let field = |v: &Value| match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            let signing = [
                field(&item["pspReference"]),
                field(&item["originalReference"]),
                field(&item["merchantAccountCode"]),
                field(&item["merchantReference"]),
                field(&item["amount"]["value"]),
                field(&item["amount"]["currency"]),
                field(&item["eventCode"]),
                field(&item["success"]),
            ]
            .join(":");
            let index = find(&self.keys, signing.as_bytes(), &signature)
                .ok_or(AuthError::BodySignatureMismatch)?;
            first.get_or_insert(index);
        }
        first.ok_or(AuthError::BodySignatureMismatch)
    }
}

/// Mailgun: `signature: {timestamp, token, signature}` in the JSON body; hex HMAC-SHA256 of
/// timestamp + token (no separator) with the webhook signing key, and the timestamp within
/// [`MAILGUN_WINDOW_SECS`] of now (the official `mailgun` SDK's default `max_age_seconds`).
/// The signature does not cover the event itself, so the preset dedups on the token.
/// How far Mailgun's signed timestamp may be from now.
pub const MAILGUN_WINDOW_SECS: u64 = 900;

#[derive(Debug)]
pub(super) struct Mailgun {
    keys: Vec<Hmac<Sha256>>,
}

impl Mailgun {
    pub(super) fn new(secrets: &[Secret]) -> Result<Self, VerifierConfigError> {
        Ok(Mailgun {
            keys: keyed(secrets, false)?,
        })
    }

    pub(super) fn verify(&self, body: &[u8], now_unix: i64) -> Result<usize, AuthError> {
        let json = body_json(body)?;
        let sig = &json["signature"];
        let text = |name: &'static str| {
            sig[name]
                .as_str()
                .map(str::to_owned)
                .or_else(|| sig[name].as_i64().map(|n| n.to_string()))
                .ok_or(AuthError::MissingBodySignature(name))
        };
        let (timestamp, token, signature) =
            (text("timestamp")?, text("token")?, text("signature")?);
        let signature = hex::decode(signature)
            .map_err(|_| AuthError::MissingBodySignature("signature.signature is not hex"))?;
        let key = find(
            &self.keys,
            format!("{timestamp}{token}").as_bytes(),
            &signature,
        )
        .ok_or(AuthError::BodySignatureMismatch)?;
        let sent: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| AuthError::MalformedTimestamp {
                place: "body `signature.timestamp`".to_owned(),
                expected: TimestampFormat::UnixSeconds.expected(),
            })?;
        let age = now_unix.saturating_sub(sent);
        if age > MAILGUN_WINDOW_SECS as i64 {
            return Err(AuthError::StaleTimestamp {
                age_secs: age,
                tolerance_secs: MAILGUN_WINDOW_SECS,
            });
        }
        if -age > MAILGUN_WINDOW_SECS as i64 {
            return Err(AuthError::FutureTimestamp {
                ahead_secs: -age,
                tolerance_secs: MAILGUN_WINDOW_SECS,
            });
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Vec<Secret> {
        vec![Secret::new(s.as_bytes().to_vec())]
    }

    fn adyen_body(signature: &str) -> String {
        serde_json::json!({"live": "false", "notificationItems": [{"NotificationRequestItem": {
            "pspReference": "7914073381342284",
            "merchantReference": "TestPayment-1407325143704",
            "merchantAccountCode": "TestMerchant",
            "amount": {"value": 1130, "currency": "EUR"},
            "eventCode": "AUTHORISATION",
            "success": "true",
            "additionalData": {"hmacSignature": signature}
        }}]})
        .to_string()
    }

    #[test]
    fn adyen_sdk_vector() {
        // Adyen python library test/UtilTest.py.
        let v = Adyen::new(&secret(
            "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
        ))
        .expect("key");
        let good = adyen_body("coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0=");
        assert_eq!(v.verify(good.as_bytes()).expect("valid"), 0);
        let tampered = good.replace("1130", "1131");
        assert_eq!(
            v.verify(tampered.as_bytes()).expect_err("tampered").code(),
            "invalid_signature"
        );
        let other = Adyen::new(&secret(
            "74F490DD33F7327BAECC88B2947C011FC02D014A473AAA33A8EC93E4DC069174",
        ))
        .expect("key");
        assert!(other.verify(good.as_bytes()).is_err());
        assert_eq!(
            v.verify(b"{}").expect_err("no items").code(),
            "missing_signature"
        );
        assert!(Adyen::new(&secret("not hex")).is_err());
    }

    #[test]
    fn mailgun_derived_vector() {
        // Documented algorithm: hex HMAC-SHA256(key, timestamp + token).
        let v = Mailgun::new(&secret("whsec_example_secret")).expect("key");
        let body = |sig: &str| {
            serde_json::json!({"signature": {"timestamp": "1700000000", "token": "abc123", "signature": sig},
                "event-data": {"event": "delivered"}})
            .to_string()
        };
        let good = body("8c97ea1737c3e052d44a42a94202f73cfb5806f2a5dd3b233ce2c497515a07fa");
        let now = 1_700_000_000;
        assert_eq!(v.verify(good.as_bytes(), now).expect("valid"), 0);
        let bad = body("00");
        assert_eq!(
            v.verify(bad.as_bytes(), now).expect_err("bad").code(),
            "invalid_signature"
        );
        assert_eq!(
            v.verify(b"{\"event-data\":{}}", now)
                .expect_err("none")
                .code(),
            "missing_signature"
        );
        let window = MAILGUN_WINDOW_SECS as i64;
        assert_eq!(
            v.verify(good.as_bytes(), now + window + 1)
                .expect_err("stale")
                .code(),
            "stale_timestamp"
        );
        assert_eq!(
            v.verify(good.as_bytes(), now - window - 1)
                .expect_err("future")
                .code(),
            "future_timestamp"
        );
    }
}
