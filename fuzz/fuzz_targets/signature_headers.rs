//! Every preset's verifier against arbitrary signature, timestamp and id headers and bodies:
//! it may refuse, it must never panic. Each preset gets a key it can decode. Certificate-URL
//! presets (AWS SNS, PayPal) also get arbitrary bytes as the certificate their URL serves
//! (X.509 parsing of untrusted input), and SNS messages built from arbitrary field values, so
//! its canonical string is built past the URL check.
#![no_main]

use std::sync::OnceLock;

use bytes::Bytes;
use hookgate::ingest::auth::Verifier;
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
                headers.push(c.header.clone());
                headers.extend(c.timestamp_header.clone());
                signed_headers(&c.signed, &mut headers);
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
                });
            }
        }
        out
    })
}

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    preset: u8,
    values: Vec<&'a [u8]>,
    /// Seconds from a fixed "now" to the receive time.
    skew: i16,
    body: &'a [u8],
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
    let inbound = Inbound::new(headers, body, None);
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
});
