//! Authentication: proves a delivery came from the provider, on the raw bytes, before anything
//! parses them.
//!
//! Owns: the [`Verifier`] built once per source at start-up (keys decoded, HMAC states keyed,
//! signed-content recipes compiled, header names parsed) and [`Verified`], the only way later
//! stages can get at a request. Nothing outside this module can construct a `Verified`.
//!
//! Invariants: secrets are compared in constant time (`Mac::verify_slice`, `subtle`); error
//! messages name headers and rules, never a secret or an expected signature; no clock is read
//! here (`now` is an argument), so every check is a pure function of its inputs.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use hyper::header::{HeaderMap, HeaderName, AUTHORIZATION};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

use crate::config::{AuthConfig, HmacConfig};
use crate::intake::Inbound;
use crate::secret::Secret;

/// HMAC digest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Sha1,
    #[default]
    Sha256,
    Sha512,
}

/// How the signature is written in its header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    #[default]
    Hex,
    Base64,
}

/// How a configured secret becomes HMAC key bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyEncoding {
    /// The secret's text is the key (GitHub, Stripe, Slack, Shopify…).
    #[default]
    Utf8,
    /// The secret is base64 of the key.
    Base64,
    /// The secret is hex of the key.
    Hex,
}

/// How the timestamp header is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampFormat {
    /// Seconds since the Unix epoch.
    #[default]
    #[serde(rename = "unix")]
    UnixSeconds,
    /// Milliseconds since the Unix epoch.
    #[serde(rename = "unix_ms")]
    UnixMillis,
}

/// Why a verifier could not be built from config.
#[derive(Debug, thiserror::Error)]
pub enum VerifierConfigError {
    #[error("`{0}` is not a valid HTTP header name")]
    HeaderName(String),
    #[error("signed recipe `{recipe}`: {reason}")]
    Recipe { recipe: String, reason: String },
    #[error("secret #{index} cannot be decoded as {encoding}")]
    KeyDecoding {
        index: usize,
        encoding: &'static str,
    },
    #[error("signed recipe uses {{timestamp}} but no `timestamp_header` is set")]
    TimestampHeaderMissing,
}

/// Why a delivery was not authenticated. Every variant is answered 401.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing `{0}` header")]
    MissingSignature(HeaderName),
    #[error("malformed `{header}` header: {reason}")]
    MalformedSignature {
        header: HeaderName,
        reason: &'static str,
    },
    #[error("signature in `{0}` does not match the request")]
    SignatureMismatch(HeaderName),
    #[error("missing `{0}` header, which is part of the signed content")]
    MissingSignedHeader(HeaderName),
    #[error("missing `{0}` timestamp header")]
    MissingTimestamp(HeaderName),
    #[error("`{0}` is not a Unix timestamp")]
    MalformedTimestamp(HeaderName),
    #[error("timestamp is {age_secs} s old; at most {tolerance_secs} s is accepted")]
    StaleTimestamp { age_secs: i64, tolerance_secs: u64 },
    #[error("timestamp is {ahead_secs} s in the future; at most {tolerance_secs} s is accepted")]
    FutureTimestamp {
        ahead_secs: i64,
        tolerance_secs: u64,
    },
    #[error("missing credentials: expected {0}")]
    MissingCredentials(&'static str),
    #[error("invalid credentials")]
    InvalidCredentials,
}

impl AuthError {
    /// Stable machine-readable code for the error body and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingSignature(_) => "missing_signature",
            AuthError::MalformedSignature { .. } => "malformed_signature",
            AuthError::SignatureMismatch(_) => "invalid_signature",
            AuthError::MissingSignedHeader(_) => "missing_signed_header",
            AuthError::MissingTimestamp(_) => "missing_timestamp",
            AuthError::MalformedTimestamp(_) => "malformed_timestamp",
            AuthError::StaleTimestamp { .. } => "stale_timestamp",
            AuthError::FutureTimestamp { .. } => "future_timestamp",
            AuthError::MissingCredentials(_) => "missing_credentials",
            AuthError::InvalidCredentials => "invalid_credentials",
        }
    }
}

/// How a delivery was authenticated; recorded in the envelope's `meta.verified`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Verification {
    /// e.g. `hmac-sha256:x-hub-signature-256`, `api_key:authorization`, `none`.
    pub method: Arc<str>,
    /// Which configured secret matched (0-based), so rotations can be watched.
    pub key_index: Option<usize>,
}

/// A request whose authenticity has been established. Only [`Verifier::verify`] makes one.
#[derive(Debug)]
pub struct Verified {
    inbound: Inbound,
    verification: Verification,
}

impl Verified {
    pub fn inbound(&self) -> &Inbound {
        &self.inbound
    }
    pub fn verification(&self) -> &Verification {
        &self.verification
    }
}

/// A source's authentication, prepared at start-up.
#[derive(Debug)]
pub struct Verifier {
    method: Method,
    label: Arc<str>,
}

#[derive(Debug)]
enum Method {
    Hmac(HmacVerifier),
    ApiKey(ApiKeyVerifier),
    None,
}

impl Verifier {
    /// Builds the verifier, decoding every secret once.
    pub fn new(config: &AuthConfig, secrets: Vec<Secret>) -> Result<Self, VerifierConfigError> {
        let (method, label) = match config {
            AuthConfig::Hmac(h) => {
                let v = HmacVerifier::new(h, &secrets)?;
                let label = format!("hmac-{}:{}", v.algorithm_name(), v.header);
                (Method::Hmac(v), label)
            }
            AuthConfig::ApiKey { header } => {
                let header = header.as_deref().map(header_name).transpose()?;
                let label = match &header {
                    Some(h) => format!("api_key:{h}"),
                    None => "api_key:authorization-bearer".to_owned(),
                };
                let keys = secrets.iter().map(|s| digest(s.expose())).collect();
                let sign_key = secrets.into_iter().next();
                (
                    Method::ApiKey(ApiKeyVerifier {
                        header,
                        keys,
                        sign_key,
                    }),
                    label,
                )
            }
            AuthConfig::None => (Method::None, "none".to_owned()),
        };
        Ok(Verifier {
            method,
            label: label.into(),
        })
    }

    /// Checks `inbound` against the source's secrets; `now_unix` is the receive time in
    /// seconds since the epoch.
    pub fn verify(&self, inbound: Inbound, now_unix: i64) -> Result<Verified, AuthError> {
        let key_index = match &self.method {
            Method::Hmac(v) => Some(v.verify(&inbound.headers, &inbound.body, now_unix)?),
            Method::ApiKey(v) => Some(v.verify(&inbound.headers)?),
            Method::None => None,
        };
        Ok(Verified {
            inbound,
            verification: Verification {
                method: self.label.clone(),
                key_index,
            },
        })
    }

    /// The headers a sender would add to sign `body` at `now_unix` with the first secret.
    /// `given` are headers the caller already sets (they are used where the recipe needs
    /// them); headers the recipe needs but `given` lacks are filled with fresh ids.
    /// Used by the `sign` command and by tests; never on the request path.
    pub fn sign(
        &self,
        body: &[u8],
        now_unix: i64,
        given: &[(String, String)],
    ) -> Vec<(String, String)> {
        match &self.method {
            Method::Hmac(v) => v.sign(body, now_unix, given),
            Method::ApiKey(v) => {
                let key = v
                    .sign_key
                    .as_ref()
                    .map(|s| String::from_utf8_lossy(s.expose()).into_owned())
                    .unwrap_or_default();
                match &v.header {
                    Some(h) => vec![(h.to_string(), key)],
                    None => vec![("Authorization".to_owned(), format!("Bearer {key}"))],
                }
            }
            Method::None => Vec::new(),
        }
    }

    /// Whether this source accepts unauthenticated deliveries.
    pub fn is_none(&self) -> bool {
        matches!(self.method, Method::None)
    }
}

fn header_name(name: &str) -> Result<HeaderName, VerifierConfigError> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| VerifierConfigError::HeaderName(name.to_owned()))
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

// ---------------------------------------------------------------------------------------------
// HMAC
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct HmacVerifier {
    header: HeaderName,
    encoding: Encoding,
    prefix: String,
    recipe: Vec<Part>,
    timestamp: Option<TimestampRule>,
    /// One keyed HMAC state per secret, cloned for each request.
    keys: Vec<KeyedMac>,
}

#[derive(Debug)]
struct TimestampRule {
    header: HeaderName,
    format: TimestampFormat,
    tolerance_secs: u64,
}

/// One piece of the signed content.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    Literal(Vec<u8>),
    Body,
    Timestamp,
    Header(HeaderName),
}

#[derive(Clone)]
enum KeyedMac {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
}

impl std::fmt::Debug for KeyedMac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyedMac([redacted])")
    }
}

impl KeyedMac {
    fn new(algorithm: Algorithm, key: &[u8]) -> Self {
        match algorithm {
            Algorithm::Sha1 => KeyedMac::Sha1(keyed(key)),
            Algorithm::Sha256 => KeyedMac::Sha256(keyed(key)),
            Algorithm::Sha512 => KeyedMac::Sha512(keyed(key)),
        }
    }

    fn compute(&self, parts: &[&[u8]]) -> Vec<u8> {
        match self {
            KeyedMac::Sha1(m) => finish(m.clone(), parts),
            KeyedMac::Sha256(m) => finish(m.clone(), parts),
            KeyedMac::Sha512(m) => finish(m.clone(), parts),
        }
    }

    /// Constant-time comparison of the MAC of `parts` with `signature`.
    fn matches(&self, parts: &[&[u8]], signature: &[u8]) -> bool {
        fn check<M: Mac + Clone>(m: &M, parts: &[&[u8]], signature: &[u8]) -> bool {
            let mut m = m.clone();
            for p in parts {
                m.update(p);
            }
            m.verify_slice(signature).is_ok()
        }
        match self {
            KeyedMac::Sha1(m) => check(m, parts, signature),
            KeyedMac::Sha256(m) => check(m, parts, signature),
            KeyedMac::Sha512(m) => check(m, parts, signature),
        }
    }
}

fn keyed<M: Mac + hmac::digest::KeyInit>(key: &[u8]) -> M {
    // `KeyInit::new_from_slice` only fails for fixed-length keys; HMAC takes any length.
    match <M as hmac::digest::KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    }
}

fn finish<M: Mac>(mut m: M, parts: &[&[u8]]) -> Vec<u8> {
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

impl HmacVerifier {
    fn new(c: &HmacConfig, secrets: &[Secret]) -> Result<Self, VerifierConfigError> {
        let recipe = parse_recipe(&c.signed)?;
        let timestamp = match &c.timestamp_header {
            Some(h) => Some(TimestampRule {
                header: header_name(h)?,
                format: c.timestamp_format,
                tolerance_secs: c.tolerance_secs,
            }),
            None if recipe.contains(&Part::Timestamp) => {
                return Err(VerifierConfigError::TimestampHeaderMissing);
            }
            None => None,
        };
        let mut keys = Vec::with_capacity(secrets.len());
        for (index, s) in secrets.iter().enumerate() {
            let bytes = match c.key_encoding {
                KeyEncoding::Utf8 => s.expose().to_vec(),
                KeyEncoding::Base64 => {
                    BASE64
                        .decode(s.expose())
                        .map_err(|_| VerifierConfigError::KeyDecoding {
                            index,
                            encoding: "base64",
                        })?
                }
                KeyEncoding::Hex => {
                    hex::decode(s.expose()).map_err(|_| VerifierConfigError::KeyDecoding {
                        index,
                        encoding: "hex",
                    })?
                }
            };
            keys.push(KeyedMac::new(c.algorithm, &bytes));
        }
        Ok(HmacVerifier {
            header: header_name(&c.header)?,
            encoding: c.encoding,
            prefix: c.prefix.clone(),
            recipe,
            timestamp,
            keys,
        })
    }

    fn algorithm_name(&self) -> &'static str {
        match self.keys.first() {
            Some(KeyedMac::Sha1(_)) => "sha1",
            Some(KeyedMac::Sha512(_)) => "sha512",
            Some(KeyedMac::Sha256(_)) | None => "sha256",
        }
    }

    /// Returns the index of the matching key.
    fn verify(&self, headers: &HeaderMap, body: &[u8], now_unix: i64) -> Result<usize, AuthError> {
        let raw = headers
            .get(&self.header)
            .ok_or_else(|| AuthError::MissingSignature(self.header.clone()))?;
        let signature = self.decode_signature(raw.as_bytes())?;
        if let Some(rule) = &self.timestamp {
            rule.check(headers, now_unix)?;
        }
        let parts = self.signed_parts(headers, body)?;
        // Check every key, without stopping early, so timing does not reveal which one matched.
        let mut matched = None;
        for (i, key) in self.keys.iter().enumerate() {
            if key.matches(&parts, &signature) && matched.is_none() {
                matched = Some(i);
            }
        }
        matched.ok_or_else(|| AuthError::SignatureMismatch(self.header.clone()))
    }

    fn decode_signature(&self, raw: &[u8]) -> Result<Vec<u8>, AuthError> {
        let malformed = |reason| AuthError::MalformedSignature {
            header: self.header.clone(),
            reason,
        };
        let raw = raw.trim_ascii();
        let prefix = self.prefix.as_bytes();
        if raw.len() < prefix.len() || !raw[..prefix.len()].eq_ignore_ascii_case(prefix) {
            return Err(malformed("it does not start with the expected prefix"));
        }
        let value = &raw[prefix.len()..];
        match self.encoding {
            Encoding::Hex => hex::decode(value).map_err(|_| malformed("not hexadecimal")),
            Encoding::Base64 => BASE64.decode(value).map_err(|_| malformed("not base64")),
        }
    }

    fn signed_parts<'a>(
        &'a self,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> Result<Vec<&'a [u8]>, AuthError> {
        self.recipe
            .iter()
            .map(|part| match part {
                Part::Literal(bytes) => Ok(bytes.as_slice()),
                Part::Body => Ok(body),
                Part::Timestamp => {
                    // `new` guarantees a rule exists when the recipe names {timestamp}.
                    let h = self.timestamp.as_ref().map(|r| &r.header);
                    h.and_then(|h| headers.get(h))
                        .map(|v| v.as_bytes())
                        .ok_or_else(|| match h {
                            Some(h) => AuthError::MissingTimestamp(h.clone()),
                            None => AuthError::SignatureMismatch(self.header.clone()),
                        })
                }
                Part::Header(name) => headers
                    .get(name)
                    .map(|v| v.as_bytes())
                    .ok_or_else(|| AuthError::MissingSignedHeader(name.clone())),
            })
            .collect()
    }

    fn sign(
        &self,
        body: &[u8],
        now_unix: i64,
        given: &[(String, String)],
    ) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut headers = HeaderMap::new();
        for (k, v) in given {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                hyper::header::HeaderValue::from_str(v),
            ) {
                headers.insert(k, v);
            }
        }
        if let Some(rule) = &self.timestamp {
            let ts = match rule.format {
                TimestampFormat::UnixSeconds => now_unix.to_string(),
                TimestampFormat::UnixMillis => (now_unix * 1000).to_string(),
            };
            if let Ok(v) = ts.parse() {
                headers.insert(rule.header.clone(), v);
            }
            out.push((rule.header.to_string(), ts));
        }
        for part in &self.recipe {
            if let Part::Header(name) = part {
                if !headers.contains_key(name) {
                    let id = format!("msg_{}", uuid::Uuid::now_v7().simple());
                    if let Ok(v) = id.parse() {
                        headers.insert(name.clone(), v);
                    }
                    out.push((name.to_string(), id));
                }
            }
        }
        let Some(key) = self.keys.first() else {
            return out;
        };
        let Ok(parts) = self.signed_parts(&headers, body) else {
            return out;
        };
        let mac = key.compute(&parts);
        let encoded = match self.encoding {
            Encoding::Hex => hex::encode(mac),
            Encoding::Base64 => BASE64.encode(mac),
        };
        out.push((self.header.to_string(), format!("{}{encoded}", self.prefix)));
        out
    }
}

impl TimestampRule {
    fn check(&self, headers: &HeaderMap, now_unix: i64) -> Result<(), AuthError> {
        let raw = headers
            .get(&self.header)
            .ok_or_else(|| AuthError::MissingTimestamp(self.header.clone()))?;
        let value: i64 = raw
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| AuthError::MalformedTimestamp(self.header.clone()))?;
        let secs = match self.format {
            TimestampFormat::UnixSeconds => value,
            TimestampFormat::UnixMillis => value.div_euclid(1000),
        };
        let tolerance = i64::try_from(self.tolerance_secs).unwrap_or(i64::MAX);
        let age = now_unix.saturating_sub(secs);
        if age > tolerance {
            return Err(AuthError::StaleTimestamp {
                age_secs: age,
                tolerance_secs: self.tolerance_secs,
            });
        }
        if -age > tolerance {
            return Err(AuthError::FutureTimestamp {
                ahead_secs: -age,
                tolerance_secs: self.tolerance_secs,
            });
        }
        Ok(())
    }
}

/// Compiles `"{timestamp}.{body}"`-style recipes. Placeholders: `{body}`, `{timestamp}`,
/// `{header:Name}`; everything else is literal.
fn parse_recipe(recipe: &str) -> Result<Vec<Part>, VerifierConfigError> {
    let err = |reason: String| VerifierConfigError::Recipe {
        recipe: recipe.to_owned(),
        reason,
    };
    let mut parts = Vec::new();
    let mut rest = recipe;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(Part::Literal(rest.as_bytes()[..open].to_vec()));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| err("a `{` is never closed".to_owned()))?;
        let name = &after[..close];
        parts.push(match name {
            "body" => Part::Body,
            "timestamp" => Part::Timestamp,
            _ => match name.strip_prefix("header:") {
                Some(h) => Part::Header(header_name(h)?),
                None => {
                    return Err(err(format!(
                        "unknown placeholder `{{{name}}}` (use {{body}}, {{timestamp}} or \
                         {{header:Name}})"
                    )));
                }
            },
        });
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.as_bytes().to_vec()));
    }
    if !parts.contains(&Part::Body) {
        return Err(err("it must include {body}".to_owned()));
    }
    Ok(parts)
}

// ---------------------------------------------------------------------------------------------
// API key
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct ApiKeyVerifier {
    /// `None`: `Authorization: Bearer <key>`.
    header: Option<HeaderName>,
    /// SHA-256 of each key: comparing fixed-length digests in constant time hides both the
    /// content and the length of the keys.
    keys: Vec<[u8; 32]>,
    /// The first key, kept only for the `sign` command.
    sign_key: Option<Secret>,
}

impl ApiKeyVerifier {
    fn verify(&self, headers: &HeaderMap) -> Result<usize, AuthError> {
        let presented: &[u8] = match &self.header {
            Some(h) => headers.get(h).map(|v| v.as_bytes().trim_ascii()).ok_or(
                AuthError::MissingCredentials("the configured API key header"),
            )?,
            None => {
                let value = headers
                    .get(AUTHORIZATION)
                    .ok_or(AuthError::MissingCredentials(
                        "`Authorization: Bearer <key>`",
                    ))?
                    .as_bytes();
                match value.split_at_checked(7) {
                    Some((scheme, token)) if scheme.eq_ignore_ascii_case(b"bearer ") => {
                        token.trim_ascii()
                    }
                    _ => {
                        return Err(AuthError::MissingCredentials(
                            "`Authorization: Bearer <key>`",
                        ))
                    }
                }
            }
        };
        let presented = digest(presented);
        let mut matched = None;
        for (i, key) in self.keys.iter().enumerate() {
            if bool::from(key.ct_eq(&presented)) && matched.is_none() {
                matched = Some(i);
            }
        }
        matched.ok_or(AuthError::InvalidCredentials)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn hmac(header: &str) -> HmacConfig {
        HmacConfig {
            header: header.to_owned(),
            algorithm: Algorithm::Sha256,
            encoding: Encoding::Hex,
            prefix: String::new(),
            signed: "{body}".to_owned(),
            timestamp_header: None,
            timestamp_format: TimestampFormat::UnixSeconds,
            tolerance_secs: 300,
            key_encoding: KeyEncoding::Utf8,
        }
    }

    fn github() -> AuthConfig {
        crate::provider::preset("github").expect("preset").auth
    }

    fn secrets(values: &[&str]) -> Vec<Secret> {
        values
            .iter()
            .map(|v| Secret::new(v.as_bytes().to_vec()))
            .collect()
    }

    fn inbound(headers: &[(&str, &str)], body: &str) -> Inbound {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        Inbound::new(map, Bytes::copy_from_slice(body.as_bytes()), None)
    }

    /// Verifies and returns the matched key index or the error code.
    fn check(
        auth: &AuthConfig,
        keys: &[&str],
        headers: &[(&str, &str)],
        body: &str,
        now: i64,
    ) -> Result<Option<usize>, &'static str> {
        let v = Verifier::new(auth, secrets(keys)).expect("verifier");
        v.verify(inbound(headers, body), now)
            .map(|ok| ok.verification().key_index)
            .map_err(|e| e.code())
    }

    // GitHub's documented vector (docs: "validating webhook deliveries").
    const GH_DOC_SIG: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    #[test]
    fn github_documented_vector_is_accepted() {
        let got = check(
            &github(),
            &["It's a Secret to Everybody"],
            &[("X-Hub-Signature-256", GH_DOC_SIG)],
            "Hello, World!",
            0,
        );
        assert_eq!(got, Ok(Some(0)));
    }

    #[test]
    fn github_octokit_vector_is_accepted() {
        // @octokit/webhooks-methods test/sign.test.ts
        let got = check(
            &github(),
            &["mysecret"],
            &[(
                "x-hub-signature-256",
                "sha256=4864d2759938a15468b5df9ade20bf161da9b4f737ea61794142f3484236bda3",
            )],
            r#"{"foo":"bar"}"#,
            0,
        );
        assert_eq!(got, Ok(Some(0)));
    }

    #[test]
    fn github_rejections_have_precise_codes() {
        let key = ["It's a Secret to Everybody"];
        let body = "Hello, World!";
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case<'_>] = &[
            (&[], body, "missing_signature"),
            (
                &[("X-Hub-Signature-256", "sha1=757107ea")],
                body,
                "malformed_signature",
            ),
            (
                &[("X-Hub-Signature-256", "sha256=zz")],
                body,
                "malformed_signature",
            ),
            (
                &[("X-Hub-Signature-256", GH_DOC_SIG)],
                "Hello, World?",
                "invalid_signature",
            ),
            (
                &[("X-Hub-Signature-256", "sha256=00")],
                body,
                "invalid_signature",
            ),
        ];
        for (headers, body, code) in cases {
            assert_eq!(
                check(&github(), &key, headers, body, 0),
                Err(*code),
                "{headers:?}"
            );
        }
    }

    #[test]
    fn any_rotated_secret_matches_and_is_reported() {
        let got = check(
            &github(),
            &["old-secret", "It's a Secret to Everybody"],
            &[("X-Hub-Signature-256", GH_DOC_SIG)],
            "Hello, World!",
            0,
        );
        assert_eq!(got, Ok(Some(1)));
    }

    #[test]
    fn generic_hmac_reproduces_slack_sdk_vector() {
        // python-slack-sdk tests/slack_sdk/signature/test_signature_verifier.py
        let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let auth = AuthConfig::Hmac(HmacConfig {
            prefix: "v0=".to_owned(),
            signed: "v0:{timestamp}:{body}".to_owned(),
            timestamp_header: Some("X-Slack-Request-Timestamp".to_owned()),
            ..hmac("X-Slack-Signature")
        });
        let headers = [
            ("X-Slack-Request-Timestamp", "1531420618"),
            (
                "X-Slack-Signature",
                "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            ),
        ];
        let key = ["8f742231b10e8888abcd99yyyzzz85a5"];
        assert_eq!(
            check(&auth, &key, &headers, body, 1531420618 + 10),
            Ok(Some(0))
        );
        assert_eq!(
            check(&auth, &key, &headers, body, 1531420618 + 301),
            Err("stale_timestamp")
        );
        assert_eq!(
            check(&auth, &key, &headers, body, 1531420618 - 301),
            Err("future_timestamp")
        );
        assert_eq!(
            check(&auth, &key, &headers[1..], body, 1531420618),
            Err("missing_timestamp")
        );
    }

    #[test]
    fn generic_hmac_reproduces_standard_webhooks_vector() {
        // standard-webhooks libraries/python/tests/test_webhooks.py test_sign_function; the key
        // is the base64 part of `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`.
        let auth = AuthConfig::Hmac(HmacConfig {
            encoding: Encoding::Base64,
            prefix: "v1,".to_owned(),
            signed: "{header:webhook-id}.{timestamp}.{body}".to_owned(),
            timestamp_header: Some("webhook-timestamp".to_owned()),
            key_encoding: KeyEncoding::Base64,
            ..hmac("webhook-signature")
        });
        let key = ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"];
        let body = r#"{"test": 2432232314}"#;
        let mut headers = vec![
            ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
            ("webhook-timestamp", "1614265330"),
            (
                "webhook-signature",
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            ),
        ];
        assert_eq!(check(&auth, &key, &headers, body, 1614265330), Ok(Some(0)));
        // The same file's negative vector: last character changed.
        headers[2].1 = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=";
        assert_eq!(
            check(&auth, &key, &headers, body, 1614265330),
            Err("invalid_signature")
        );
        assert_eq!(
            check(&auth, &key, &headers[1..], body, 1614265330),
            Err("missing_signed_header")
        );
    }

    #[test]
    fn generic_hmac_reproduces_shopify_vector() {
        // shopify-app-js lib/webhooks/__tests__/validate.test.ts
        let auth = AuthConfig::Hmac(HmacConfig {
            encoding: Encoding::Base64,
            ..hmac("X-Shopify-Hmac-Sha256")
        });
        let headers = [(
            "X-Shopify-Hmac-Sha256",
            "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=",
        )];
        assert_eq!(
            check(
                &auth,
                &["test_secret_key"],
                &headers,
                r#"{"foo": "bar"}"#,
                0
            ),
            Ok(Some(0))
        );
    }

    #[test]
    fn sha1_and_sha512_recipes_verify() {
        // Cross-check values computed from the documented algorithms (GitHub legacy SHA-1,
        // Paystack SHA-512) with secret `whsec_example_secret`.
        let body = r#"{"id":"evt_1","type":"demo.event"}"#;
        let sha1 = AuthConfig::Hmac(HmacConfig {
            algorithm: Algorithm::Sha1,
            prefix: "sha1=".to_owned(),
            ..hmac("X-Hub-Signature")
        });
        let headers = [(
            "X-Hub-Signature",
            "sha1=7402ff9763da693f82a47b9df4f11d1eb389fcc6",
        )];
        assert_eq!(
            check(&sha1, &["whsec_example_secret"], &headers, body, 0),
            Ok(Some(0))
        );
        let sha512 = AuthConfig::Hmac(HmacConfig {
            algorithm: Algorithm::Sha512,
            ..hmac("x-paystack-signature")
        });
        let headers = [("x-paystack-signature", "4733a9c2e388572f7d9d7268f44db6b9b50912282ded09cb5bfaba2e4d5301501f485ef7b2d5347eab8fd0445753ad4dfe1ccb3351b8a62ff797f5ad29a0b61f")];
        assert_eq!(
            check(&sha512, &["whsec_example_secret"], &headers, body, 0),
            Ok(Some(0))
        );
    }

    #[test]
    fn millisecond_timestamps_are_understood() {
        let auth = AuthConfig::Hmac(HmacConfig {
            signed: "{timestamp}.{body}".to_owned(),
            timestamp_header: Some("X-Ts".to_owned()),
            timestamp_format: TimestampFormat::UnixMillis,
            tolerance_secs: 60,
            ..hmac("X-Sig")
        });
        let v = Verifier::new(&auth, secrets(&["k"])).expect("verifier");
        let signed = v.sign(b"{}", 1_700_000_000, &[]);
        assert_eq!(signed[0], ("x-ts".to_owned(), "1700000000000".to_owned()));
        let headers: Vec<(&str, &str)> = signed
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            check(&auth, &["k"], &headers, "{}", 1_700_000_030),
            Ok(Some(0))
        );
        assert_eq!(
            check(&auth, &["k"], &headers, "{}", 1_700_000_061),
            Err("stale_timestamp")
        );
    }

    #[test]
    fn recipes_are_checked_at_start_up() {
        let bad = |signed: &str, ts: Option<&str>| {
            let auth = AuthConfig::Hmac(HmacConfig {
                signed: signed.to_owned(),
                timestamp_header: ts.map(str::to_owned),
                ..hmac("X-Sig")
            });
            Verifier::new(&auth, secrets(&["k"]))
                .expect_err("should fail")
                .to_string()
        };
        assert!(bad("{timestamp}.{body}", None).contains("no `timestamp_header`"));
        assert!(bad("{body", None).contains("never closed"));
        assert!(bad("{bdy}", None).contains("unknown placeholder `{bdy}`"));
        assert!(bad("{timestamp}", Some("X-Ts")).contains("must include {body}"));
        assert!(bad("{header:bad header}.{body}", None).contains("not a valid HTTP header"));
    }

    #[test]
    fn api_key_in_header_or_bearer() {
        let named = AuthConfig::ApiKey {
            header: Some("X-Api-Key".to_owned()),
        };
        let bearer = AuthConfig::ApiKey { header: None };
        let keys = ["first", "second"];
        assert_eq!(
            check(&named, &keys, &[("x-api-key", "second")], "", 0),
            Ok(Some(1))
        );
        assert_eq!(
            check(&named, &keys, &[("x-api-key", "third")], "", 0),
            Err("invalid_credentials")
        );
        assert_eq!(check(&named, &keys, &[], "", 0), Err("missing_credentials"));
        assert_eq!(
            check(&bearer, &keys, &[("Authorization", "Bearer first")], "", 0),
            Ok(Some(0))
        );
        assert_eq!(
            check(&bearer, &keys, &[("Authorization", "bearer first")], "", 0),
            Ok(Some(0))
        );
        assert_eq!(
            check(&bearer, &keys, &[("Authorization", "Basic first")], "", 0),
            Err("missing_credentials")
        );
        assert_eq!(
            check(&bearer, &keys, &[("Authorization", "Bearer firs")], "", 0),
            Err("invalid_credentials")
        );
    }

    #[test]
    fn sign_round_trips_through_verify() {
        let auth = AuthConfig::Hmac(HmacConfig {
            encoding: Encoding::Base64,
            prefix: "v1,".to_owned(),
            signed: "{header:webhook-id}.{timestamp}.{body}".to_owned(),
            timestamp_header: Some("webhook-timestamp".to_owned()),
            ..hmac("webhook-signature")
        });
        let v = Verifier::new(&auth, secrets(&["k"])).expect("verifier");
        let signed = v.sign(b"{}", 100, &[]);
        assert_eq!(signed.len(), 3, "{signed:?}");
        let headers: Vec<(&str, &str)> = signed
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(check(&auth, &["k"], &headers, "{}", 100), Ok(Some(0)));
    }

    #[test]
    fn errors_never_contain_the_expected_signature() {
        let v = Verifier::new(&github(), secrets(&["It's a Secret to Everybody"])).expect("v");
        let err = v
            .verify(
                inbound(&[("X-Hub-Signature-256", "sha256=00")], "Hello, World!"),
                0,
            )
            .expect_err("mismatch");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("757107ea"), "{text}");
        assert!(!format!("{v:?}").contains("Secret to Everybody"));
    }

    #[test]
    fn none_accepts_everything_and_says_so() {
        assert_eq!(check(&AuthConfig::None, &[], &[], "{}", 0), Ok(None));
        let v = Verifier::new(&AuthConfig::None, vec![]).expect("v");
        assert!(v.is_none());
    }
}
