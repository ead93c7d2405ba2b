//! Every preset's verifier against arbitrary signature, timestamp and id headers and bodies:
//! it may refuse, it must never panic. Each preset gets a key it can decode. Every preset's
//! handshake likewise gets arbitrary query strings, challenge headers and bodies; a text
//! answer must never hold a character outside the reflected set. Also the JWT parsers on
//! untrusted bytes: a token (compact or detached JWS) and a JSON Web Key Set.
//! Certificate-URL presets (AWS SNS, PayPal) also get arbitrary bytes as the certificate their
//! URL serves (X.509 parsing of untrusted input), and SNS messages built from arbitrary field
//! values, so its canonical string is built past the URL check.
#![no_main]

use std::sync::OnceLock;

use bytes::Bytes;
use hookgate::ingest::auth::jwt;
use hookgate::ingest::auth::Verifier;
use hookgate::ingest::handshake::{Handshake, ReplyBody};
use hookgate::ingest::auth::AuthConfig;
use hookgate::ingest::event::Locator;
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

/// The names of the headers a `signed` recipe reads (`{header:NAME}`).
fn signed_headers(recipe: &str, out: &mut Vec<String>) {
    let mut rest = recipe;
    while let Some(start) = rest.find("{header:") {
        let tail = &rest[start + 8..];
        let end = tail.find('}').unwrap_or(tail.len());
        out.push(tail[..end].to_owned());
        rest = &tail[end..];
    }
}

/// A certificate the SNS cases can verify against (AWS's, from its validator's tests).
const SNS_CERT: &[u8] = include_bytes!("../../tests/fixtures/aws-sns/signing-cert-2021.pem");

struct Target {
    provider: &'static str,
    verifier: Verifier,
    /// Headers this preset reads: signature, timestamp, and any named in its recipe.
    headers: Vec<HeaderName>,
    /// The query parameter carrying the signature (PandaDoc), else any name.
    query_param: String,
}

fn targets() -> &'static [Target] {
    static TARGETS: OnceLock<Vec<Target>> = OnceLock::new();
    TARGETS.get_or_init(|| {
        let mut out = Vec::new();
        for name in providers::NAMES {
            let Some(mut auth) = providers::preset(name).and_then(|p| p.auth) else {
                continue;
            };
            let mut headers = Vec::new();
            let mut query_param = "q".to_owned();
            if let AuthConfig::CertificateUrl(c) = &auth {
                for place in [&c.cert_url, &c.signature]
                    .into_iter()
                    .chain(c.algorithm_from.as_ref())
                {
                    if let Locator::Header(h) = place {
                        headers.push(h.clone());
                    }
                }
                signed_headers(c.signed.as_deref().unwrap_or_default(), &mut headers);
            }
            if let AuthConfig::Hmac(c) | AuthConfig::PublicKey(c) = &auth {
                query_param = c.query_param.clone().unwrap_or(query_param);
                headers.push(c.header.clone());
                // Alternative signature headers (Box, DocuSign): a few, not all 99 of DocuSign's.
                headers.extend(c.also_headers.iter().take(3).cloned());
                headers.extend(c.timestamp_header.clone());
                // Headers named in the recipe: `{header:…}`, also inside `{json:…}`, and the
                // list header of `{signed_headers:…}` (whose value may name any of these).
                for marker in ["header:", "signed_headers:"] {
                    let mut rest = c.signed.as_str();
                    while let Some(start) = rest.find(marker) {
                        let tail = &rest[start + marker.len()..];
                        let end = tail.find('}').unwrap_or(tail.len());
                        headers.push(tail[..end].to_owned());
                        rest = &tail[end..];
                    }
                }
            }
            if let AuthConfig::Jwt(c) = &mut auth {
                headers.extend(c.header.clone());
                // Claims a source must fill in, and configured keys instead of a key set (a
                // fetched set is not available to `verify_sync`).
                for values in c.claims.values_mut().filter(|v| v.is_empty()) {
                    values.push("x".to_owned());
                }
                c.jwks_url = None;
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
                out.push(Target {
                    provider: name,
                    verifier,
                    headers,
                    query_param,
                });
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
    "x-gcs-webhooks-endpoint-verification",
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
    /// The query string of a GET handshake, and the value of the signature's query
    /// parameter (PandaDoc).
    query: &'a str,
    /// For certificate-URL presets: what their certificate URL serves.
    certificate: Certificate<'a>,
    /// For `aws-sns`: build the body as an SNS message from these field values instead.
    sns: Option<Sns<'a>>,
}

#[derive(Debug, Arbitrary)]
enum Certificate<'a> {
    /// AWS's real SNS certificate.
    Sns,
    /// Arbitrary bytes, parsed as PEM or DER.
    Bytes(&'a [u8]),
}

#[derive(Debug, Arbitrary)]
struct Sns<'a> {
    kind: u8,
    version: u8,
    fields: Vec<(u8, &'a str)>,
    signature: &'a str,
}

/// An SNS message whose certificate URL passes the allow-list, so the canonical string is built.
fn sns_body(sns: &Sns<'_>) -> Vec<u8> {
    const KINDS: &[&str] = &["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation", "Other"];
    const NAMES: &[&str] = &["Message", "MessageId", "Subject", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
    let mut m = serde_json::Map::new();
    m.insert("Type".into(), KINDS[sns.kind as usize % KINDS.len()].into());
    m.insert("SignatureVersion".into(), ["1", "2", "3"][sns.version as usize % 3].into());
    m.insert(
        "SigningCertURL".into(),
        "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-x.pem".into(),
    );
    m.insert("Signature".into(), sns.signature.into());
    m.insert("TopicArn".into(), KEYS[0].into());
    for (name, value) in &sns.fields {
        m.insert(NAMES[*name as usize % NAMES.len()].into(), (*value).into());
    }
    serde_json::to_vec(&m).unwrap_or_default()
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
    let body = match &input.sns {
        Some(sns) if target.provider == "aws-sns" => Bytes::from(sns_body(sns)),
        _ => Bytes::copy_from_slice(input.body),
    };
    let mut inbound = Inbound::new(headers, body, None);
    let value: String = form_urlencoded::byte_serialize(input.query.as_bytes()).collect();
    if let Ok(uri) = format!("/webhooks/s?{}={value}", target.query_param).parse() {
        inbound.uri = uri;
    }
    let certificate = match input.certificate {
        Certificate::Sns => SNS_CERT,
        Certificate::Bytes(b) => b,
    };
    // Other kinds ignore the certificate: this is their synchronous verification.
    let _ = target.verifier.verify_with_certificate(
        inbound,
        1_700_000_000 + i64::from(input.skew),
        certificate,
    );
    check_handshake(&input);
    let _ = jwt::parse_jwks(input.body);
    if let Some(token) = input.values.first() {
        let _ = jwt::parse_untrusted(token, input.skew % 2 == 0);
    }
});
