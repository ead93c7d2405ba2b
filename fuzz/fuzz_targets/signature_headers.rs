//! Every preset's verifier against arbitrary signature, timestamp and id headers and bodies:
//! it may refuse, it must never panic. Each preset gets a key it can decode. Every preset's
//! handshake likewise gets arbitrary query strings, challenge headers and bodies; a text
//! answer must never hold a character outside the reflected set.
#![no_main]

use std::sync::OnceLock;

use bytes::Bytes;
use hookgate::ingest::auth::Verifier;
use hookgate::ingest::handshake::{Handshake, ReplyBody};
use hookgate::ingest::auth::AuthConfig;
use hookgate::ingest::intake::Inbound;
use hookgate::providers;
use hookgate::base::secret::Secret;
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

/// Keys in each encoding a preset may expect (text, Standard Webhooks base64, hex Ed25519
/// public key, base64 DER P-256 public key, hex Adyen key, PEM RSA public key).
const KEYS: &[&str] = &[
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==",
    "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
    "a-plain-text-secret",
    include_str!("../../tests/fixtures/rsa/spki-2048.pem"),
];

struct Target {
    verifier: Verifier,
    /// Headers this preset reads: signature, timestamp, and any named in its recipe.
    headers: Vec<HeaderName>,
}

fn targets() -> &'static [Target] {
    static TARGETS: OnceLock<Vec<Target>> = OnceLock::new();
    TARGETS.get_or_init(|| {
        let mut out = Vec::new();
        for name in providers::NAMES {
            let Some(auth) = providers::preset(name).and_then(|p| p.auth) else {
                continue;
            };
            let mut headers = Vec::new();
            if let AuthConfig::Hmac(c) | AuthConfig::PublicKey(c) = &auth {
                headers.push(c.header.clone());
                headers.extend(c.timestamp_header.clone());
                let mut rest = c.signed.as_str();
                while let Some(start) = rest.find("{header:") {
                    let tail = &rest[start + 8..];
                    let end = tail.find('}').unwrap_or(tail.len());
                    headers.push(tail[..end].to_owned());
                    rest = &tail[end..];
                }
            }
            let headers = headers
                .iter()
                .filter_map(|h| HeaderName::from_bytes(h.as_bytes()).ok())
                .collect();
            let verifier = KEYS.iter().find_map(|key| {
                let secrets = vec![Secret::new(key.as_bytes().to_vec())];
                Verifier::new(&auth, secrets, Some("https://hooks.example.com/webhooks/s")).ok()
            });
            if let Some(verifier) = verifier {
                out.push(Target { verifier, headers });
            }
        }
        out
    })
}

/// Every preset's handshake, keyed with a text secret (and a verify token where it takes one).
fn handshakes() -> &'static [Handshake] {
    static HANDSHAKES: OnceLock<Vec<Handshake>> = OnceLock::new();
    HANDSHAKES.get_or_init(|| {
        let secrets = [Secret::new(b"a-plain-text-secret".to_vec())];
        let token = Secret::new(b"a-verify-token".to_vec());
        providers::NAMES
            .iter()
            .filter_map(|name| providers::preset(name)?.handshake)
            .flat_map(|kind| {
                let token = kind.uses_verify_token().then_some(&token);
                // A handshake that teaches the secret also runs as before it came.
                let learning = kind
                    .learns_secret()
                    .then(|| Handshake::new(kind, &[], None).ok())
                    .flatten();
                Handshake::new(kind, &secrets, token).ok().into_iter().chain(learning)
            })
            .collect()
    })
}

/// Headers a handshake reads.
const HANDSHAKE_HEADERS: &[&str] = &[
    "x-okta-verification-challenge",
    "twitch-eventsub-message-type",
    "x-front-challenge",
    "x-hook-secret",
    "validation-token",
];

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    preset: u8,
    values: Vec<&'a [u8]>,
    /// Seconds from a fixed "now" to the receive time.
    skew: i16,
    body: &'a [u8],
    query: &'a str,
}

fn check_handshake(input: &Input<'_>) {
    let all = handshakes();
    let handshake = &all[input.preset as usize % all.len()];
    let mut headers = HeaderMap::new();
    for (name, value) in HANDSHAKE_HEADERS.iter().zip(&input.values) {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.insert(*name, value);
        }
    }
    let _ = handshake.token_shaped(input.body);
    if let Ok(Some(reply)) = handshake.unsigned_echo(Some(input.query), &headers) {
        if let ReplyBody::Text(text) = &reply.body {
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b" -._~+/=:".contains(&b)),
                "unsafe echo {text:?}"
            );
        }
        if let Some((_, value)) = reply.header {
            assert!(
                value
                    .expose()
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(b)),
                "unsafe header echo"
            );
        }
    }
    if let Ok(Some(secret)) = handshake.offered_secret(&headers) {
        let secret = secret.expose();
        assert!(
            (16..=512).contains(&secret.len()) && secret.iter().all(u8::is_ascii_graphic),
            "a secret outside the rule was learned"
        );
    }
    if let Ok(reply) = handshake.answer_get(Some(input.query), &headers) {
        if let ReplyBody::Text(text) = reply.body {
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b)),
                "unsafe echo {text:?}"
            );
        }
    }
    if let Ok(document) = hookgate::base::json::parse(input.body, 64) {
        let _ = handshake.answer(&headers, &document);
    }
}

fuzz_target!(|input: Input<'_>| {
    let targets = targets();
    let target = &targets[input.preset as usize % targets.len()];
    let mut headers = HeaderMap::new();
    for (name, value) in target.headers.iter().zip(&input.values) {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.insert(name.clone(), value);
        }
    }
    let inbound = Inbound::new(headers, Bytes::copy_from_slice(input.body), None);
    let _ = target
        .verifier
        .verify_sync(inbound, 1_700_000_000 + i64::from(input.skew));
    check_handshake(&input);
});
