//! Authentication: proves a delivery came from the provider, on the raw bytes, before anything
//! parses them.
//!
//! Owns: the [`Verifier`] built once per source at start-up (keys decoded, HMAC states keyed,
//! public keys parsed, signed-content recipes compiled, header names parsed) and [`Verified`],
//! the only way later stages can get at a request. Nothing outside this module can construct a
//! `Verified`. Submodules: `signature` (where signatures and timestamps are, what is signed,
//! the replay window), `keys` (HMAC, Ed25519, ECDSA P-256, RSA), `api_key` (static keys),
//! `cert_url` (signatures checked with a certificate the request names by URL), `remote`
//! (fetched documents, cached).
//!
//! Invariants: secrets are compared in constant time (`subtle`); error
//! messages name headers and rules, never a secret or an expected signature; no clock is read
//! here (`now` is an argument), so every check is a pure function of its inputs.

mod api_key;
mod body_signed;
pub mod cert_url;
pub mod jwt;
mod keys;
pub mod remote;
mod signature;

use std::sync::Arc;

use hyper::header::HeaderName;
use serde::{Deserialize, Serialize};

use crate::base::secret::Secret;
pub use crate::ingest::auth::cert_url::{CertificateUrlConfig, Chain, SignedFields};
use crate::ingest::event::FieldsConfig;
use crate::ingest::fetch::Fetcher;
use crate::ingest::intake::Inbound;

/// Signature algorithm. HMAC ones take shared secrets; the others take the provider's public key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// HMAC-SHA1.
    Sha1,
    /// HMAC-SHA256.
    #[default]
    Sha256,
    /// HMAC-SHA512.
    Sha512,
    /// Ed25519 (public key: 32 bytes).
    Ed25519,
    /// ECDSA over P-256 with SHA-256 (public key: DER SubjectPublicKeyInfo or SEC1; signature
    /// DER or 64-byte r‖s).
    EcdsaP256Sha256,
    /// RSA PKCS#1 v1.5 with SHA-256 (`RS256`, `SHA256withRSA`). RSA public keys are PEM
    /// (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`) or DER in the key encoding; 2048 bits
    /// at least.
    RsaPkcs1Sha256,
    /// RSA PKCS#1 v1.5 with SHA-512 (`RS512`).
    RsaPkcs1Sha512,
    /// RSA PKCS#1 v1.5 with SHA-1 (`SHA1withRSA`), for legacy schemes only.
    RsaPkcs1Sha1,
    /// RSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (`PS256`).
    RsaPssSha256,
    /// Plain SHA-1 (not HMAC) of a recipe that includes the secret (`{secret}`): Cloudinary.
    HashSha1,
    /// Plain SHA-256 of a recipe that includes the secret: Recharge, Cloudinary.
    HashSha256,
    /// Plain Keccak-256 (Ethereum's, not SHA3-256) of a recipe that includes the secret:
    /// Moralis.
    HashKeccak256,
}

impl Algorithm {
    pub fn is_hmac(self) -> bool {
        matches!(
            self,
            Algorithm::Sha1 | Algorithm::Sha256 | Algorithm::Sha512
        )
    }

    /// A plain hash over content that includes the secret (the `{secret}` recipe part).
    pub fn is_keyed_hash(self) -> bool {
        matches!(
            self,
            Algorithm::HashSha1 | Algorithm::HashSha256 | Algorithm::HashKeccak256
        )
    }

    /// Whether secrets are shared with the provider (`type = "hmac"`) rather than the
    /// provider's public keys.
    pub fn is_shared_secret(self) -> bool {
        self.is_hmac() || self.is_keyed_hash()
    }

    fn label(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "hmac-sha1",
            Algorithm::Sha256 => "hmac-sha256",
            Algorithm::Sha512 => "hmac-sha512",
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Algorithm::RsaPkcs1Sha256 => "rsa-pkcs1-sha256",
            Algorithm::RsaPkcs1Sha512 => "rsa-pkcs1-sha512",
            Algorithm::RsaPkcs1Sha1 => "rsa-pkcs1-sha1",
            Algorithm::RsaPssSha256 => "rsa-pss-sha256",
            Algorithm::HashSha1 => "hash-sha1",
            Algorithm::HashSha256 => "hash-sha256",
            Algorithm::HashKeccak256 => "hash-keccak256",
        }
    }
}

/// How the signature is written in its header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    #[default]
    Hex,
    Base64,
    /// The URL-safe base64 alphabet (`-` and `_`), padded or not (Sanity).
    Base64Url,
}

/// How a configured secret becomes key bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyEncoding {
    /// The secret's text is the key (GitHub, Stripe, Slack, Shopify…).
    #[default]
    Utf8,
    /// The secret is base64 of the key (Standard Webhooks, Svix).
    Base64,
    /// The secret is hex of the key (Adyen, Discord's public key).
    Hex,
    /// The key is the SHA-1 digest of the secret's text (Braintree keys its HMAC so).
    Sha1,
}

/// How a timestamp is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum TimestampFormat {
    /// Seconds since the Unix epoch.
    #[default]
    #[serde(rename = "unix")]
    UnixSeconds,
    /// Milliseconds since the Unix epoch.
    #[serde(rename = "unix_ms")]
    UnixMillis,
    /// An RFC 3339 date-time (`2020-01-01T00:00:00-07:00`, `…Z`, fractional seconds allowed).
    /// Without an offset the time is read as UTC: Orb sends `2024-03-27T15:42:29.551`.
    #[serde(rename = "rfc3339")]
    Rfc3339,
}

impl TimestampFormat {
    /// What a timestamp in this format looks like, for error messages.
    fn expected(self) -> &'static str {
        match self {
            TimestampFormat::UnixSeconds | TimestampFormat::UnixMillis => "a Unix timestamp",
            TimestampFormat::Rfc3339 => "an RFC 3339 date-time",
        }
    }
}

/// Why a verifier could not be built from config.
#[derive(Debug, thiserror::Error)]
pub enum VerifierConfigError {
    #[error("`{0}` is not a valid HTTP header name")]
    HeaderName(String),
    #[error("signed recipe `{recipe}`: {reason}")]
    Recipe { recipe: String, reason: String },
    #[error("secret #{index} {reason}")]
    Key { index: usize, reason: &'static str },
    #[error("signed recipe uses {{timestamp}} but no timestamp is configured (`timestamp_header` or `fields.timestamp`)")]
    TimestampHeaderMissing,
    #[error(
        "signed recipe uses {{url}}: set the source's `public_url` to the URL the provider calls"
    )]
    PublicUrlMissing,
    #[error("`timestamp_pointer` (a timestamp in the body) cannot be combined with `timestamp_header` or used in the signed recipe")]
    BodyTimestamp,
    #[error("`fields` and `separator` cannot both be set")]
    FieldsAndSeparator,
    #[error("the timestamp is configured twice (`timestamp_header` and `fields.timestamp`)")]
    TwoTimestamps,
    #[error(
        "set exactly one of `header`, `form_field` and `query_param` (where the signature is)"
    )]
    SignaturePlace,
    #[error("`timestamp_first` needs `separator` (the header is a list whose first item is the timestamp)")]
    TimestampFirstWithoutList,
    #[error("algorithm `{0:?}` is a plain hash: its signed recipe must include {{secret}}, in `signed` and in every `also_signed`")]
    KeyedHashWithoutSecret(Algorithm),
    #[error("{{secret}} may appear in a signed recipe only with a plain-hash algorithm (`hash_sha1`, `hash_sha256`, `hash_keccak256`), never with `{0:?}`")]
    SecretInRecipe(Algorithm),
    #[error("`also_headers` needs `header` (signatures in headers), not `form_field`")]
    AlsoHeadersWithoutHeader,
    #[error("auth type `{kind}` does not take algorithm `{algorithm:?}`")]
    WrongAlgorithm {
        kind: &'static str,
        algorithm: Algorithm,
    },
    #[error("{0}")]
    TokenPlace(&'static str),
}

/// Where a signature is carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignaturePlace {
    Header(HeaderName),
    /// A field of an `application/x-www-form-urlencoded` body (Braintree's `bt_signature`).
    FormField(String),
    /// A parameter of the request's query string (PandaDoc's `?signature=`).
    Query(String),
    /// The whole body (a JWT that is the delivery: Kinde, Wix).
    Body,
    /// A field of a JSON body, by JSON pointer (SNS's `/Signature`).
    BodyField(String),
}

impl std::fmt::Display for SignaturePlace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignaturePlace::Header(h) => write!(f, "`{h}` header"),
            SignaturePlace::FormField(name) => write!(f, "`{name}` form field"),
            SignaturePlace::Query(name) => write!(f, "`{name}` query parameter"),
            SignaturePlace::Body => write!(f, "token in the body"),
            SignaturePlace::BodyField(pointer) => write!(f, "`{pointer}` body field"),
        }
    }
}

/// Why a delivery was not authenticated. Every variant is answered 401 but `KeyUnavailable`
/// (503).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing {0}")]
    MissingSignature(SignaturePlace),
    #[error("malformed {place}: {reason}")]
    MalformedSignature {
        place: SignaturePlace,
        reason: &'static str,
    },
    #[error("signature in {0} does not match the request")]
    SignatureMismatch(SignaturePlace),
    #[error("missing {0}, which is part of the signed content")]
    MissingSignedPart(SignaturePlace),
    #[error("missing timestamp ({0})")]
    MissingTimestamp(String),
    #[error("timestamp ({place}) is not {expected}")]
    MalformedTimestamp {
        place: String,
        expected: &'static str,
    },
    #[error("timestamp is {age_secs} s old; at most {tolerance_secs} s is accepted")]
    StaleTimestamp { age_secs: i64, tolerance_secs: u64 },
    #[error("timestamp is {ahead_secs} s in the future; at most {tolerance_secs} s is accepted")]
    FutureTimestamp {
        ahead_secs: i64,
        tolerance_secs: u64,
    },
    #[error("missing credentials: expected {0}")]
    MissingCredentials(&'static str),
    #[error("missing or malformed signature in the body: {0}")]
    MissingBodySignature(&'static str),
    #[error("the signature in the body does not match")]
    BodySignatureMismatch,
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The source learns its secret at a handshake that has not come yet (or was cleared).
    #[error(
        "this source has no secret yet: it learns one at its provider's handshake, which has \
         not been answered"
    )]
    NoSecretYet,
    /// The key that would check the delivery could not be fetched (its host is down, or
    /// sent something unusable). Answered `503`: the provider retries, and nothing was
    /// accepted.
    #[error("the signing key is unavailable: {0}")]
    KeyUnavailable(String),
    /// A token names a key id that the key set does not hold, even fetched again.
    #[error("the {0} names a key id that the provider's key set does not hold")]
    UnknownKey(SignaturePlace),
    /// A token's claim is missing or not what the source accepts (issuer, audience, e-mail,
    /// body hash…). Names the claim, never its value.
    #[error("token claim `{claim}` {reason}")]
    InvalidClaim { claim: String, reason: &'static str },
    #[error("the token expired {secs_ago} s ago")]
    ExpiredToken { secs_ago: i64 },
    #[error("the token is not valid yet (`{claim}` is {secs_ahead} s ahead)")]
    PrematureToken {
        claim: &'static str,
        secs_ahead: i64,
    },
    #[error("missing certificate URL ({0})")]
    MissingCertificateUrl(SignaturePlace),
    /// Refused before any fetch.
    #[error("the certificate URL in the {place} is refused: {reason}")]
    CertificateUrlNotAllowed {
        place: SignaturePlace,
        reason: &'static str,
    },
    #[error("the signing certificate is refused: {0}")]
    InvalidCertificate(&'static str),
    /// The delivery is addressed to someone else (a `recipient_pointer` field that equals no
    /// configured secret).
    #[error("`{0}` in the body names no recipient this source accepts")]
    UnknownRecipient(String),
}

impl AuthError {
    /// Stable machine-readable code for the error body and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingSignature(_) => "missing_signature",
            AuthError::MalformedSignature { .. } => "malformed_signature",
            AuthError::SignatureMismatch(_) => "invalid_signature",
            AuthError::MissingSignedPart(_) => "missing_signed_header",
            AuthError::MissingTimestamp(_) => "missing_timestamp",
            AuthError::MalformedTimestamp { .. } => "malformed_timestamp",
            AuthError::StaleTimestamp { .. } => "stale_timestamp",
            AuthError::FutureTimestamp { .. } => "future_timestamp",
            AuthError::MissingCredentials(_) => "missing_credentials",
            AuthError::MissingBodySignature(_) => "missing_signature",
            AuthError::BodySignatureMismatch => "invalid_signature",
            AuthError::InvalidCredentials => "invalid_credentials",
            AuthError::KeyUnavailable(_) => "key_unavailable",
            AuthError::UnknownKey(_) => "unknown_key",
            AuthError::InvalidClaim { .. } => "invalid_claim",
            AuthError::ExpiredToken { .. } => "expired_token",
            AuthError::PrematureToken { .. } => "token_not_yet_valid",
            AuthError::MissingCertificateUrl(_) => "missing_certificate_url",
            AuthError::CertificateUrlNotAllowed { .. } => "certificate_url_not_allowed",
            AuthError::InvalidCertificate(_) => "invalid_certificate",
            AuthError::UnknownRecipient(_) => "unknown_recipient",
            AuthError::NoSecretYet => "no_secret_yet",
        }
    }
}

/// How a delivery was authenticated; recorded in the envelope's `meta.verified`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Verification {
    /// e.g. `hmac-sha256:x-hub-signature-256`, `ed25519:x-signature-ed25519`,
    /// `api_key:authorization-bearer`, `none`.
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
    // Boxed: much larger than the other methods (recipe, layout, keys).
    Signature(Box<signature::SignatureVerifier>),
    ApiKey(api_key::ApiKeyVerifier),
    Adyen(body_signed::Adyen),
    Mailgun(body_signed::Mailgun),
    // Boxed: its recipe and key set cache are large.
    Jwt(Box<jwt::JwtVerifier>),
    // Boxed: holds its recipe, allow-list, trust anchors and certificate cache.
    CertificateUrl(Box<cert_url::CertUrlVerifier>),
    /// No secret yet (it is learned at a handshake): every delivery is refused.
    AwaitingSecret,
    None,
}

impl Verifier {
    /// Builds the verifier, decoding every secret once. `public_url` is the URL the provider
    /// calls, needed by recipes that sign it.
    pub fn new(
        config: &AuthConfig,
        secrets: Vec<Secret>,
        public_url: Option<&str>,
    ) -> Result<Self, VerifierConfigError> {
        Self::with_fetcher(config, secrets, public_url, &Fetcher::default_shared())
    }

    /// [`Verifier::new`] with the gateway's outbound client, which kinds that fetch their
    /// keys (certificate URLs, key sets) keep.
    pub fn with_fetcher(
        config: &AuthConfig,
        secrets: Vec<Secret>,
        public_url: Option<&str>,
        fetcher: &Arc<Fetcher>,
    ) -> Result<Self, VerifierConfigError> {
        let (method, label) = match config {
            AuthConfig::Hmac(c) | AuthConfig::PublicKey(c) => {
                let (kind, wants_hmac) = match config {
                    AuthConfig::Hmac(_) => ("hmac", true),
                    _ => ("public_key", false),
                };
                if c.algorithm.is_shared_secret() != wants_hmac {
                    return Err(VerifierConfigError::WrongAlgorithm {
                        kind,
                        algorithm: c.algorithm,
                    });
                }
                let v = signature::SignatureVerifier::new(c, &secrets, public_url)?;
                let label = match v.place() {
                    SignaturePlace::Header(h) => format!("{}:{h}", c.algorithm.label()),
                    SignaturePlace::FormField(f) => format!("{}:form.{f}", c.algorithm.label()),
                    SignaturePlace::Query(q) => format!("{}:query.{q}", c.algorithm.label()),
                    SignaturePlace::Body => format!("{}:body", c.algorithm.label()),
                    SignaturePlace::BodyField(p) => format!("{}:body{p}", c.algorithm.label()),
                };
                (Method::Signature(Box::new(v)), label)
            }
            AuthConfig::ApiKey { header } => {
                let header = header.as_deref().map(header_name).transpose()?;
                let v = api_key::ApiKeyVerifier::new(api_key::Place::Header(header), secrets);
                let label = v.label();
                (Method::ApiKey(v), label)
            }
            AuthConfig::QueryToken { param } => {
                if param.is_empty() {
                    return Err(VerifierConfigError::TokenPlace(
                        "`param` must name the query parameter",
                    ));
                }
                let v = api_key::ApiKeyVerifier::new(api_key::Place::Query(param.clone()), secrets);
                let label = v.label();
                (Method::ApiKey(v), label)
            }
            AuthConfig::BodyToken { pointer } => {
                let place = api_key::Place::body(pointer)
                    .ok_or(VerifierConfigError::TokenPlace(
                    "`pointer` must be a JSON pointer with at most one `*` segment (every item \
                     of an array), e.g. \"/value/*/clientState\"",
                ))?;
                let v = api_key::ApiKeyVerifier::new(place, secrets);
                let label = v.label();
                (Method::ApiKey(v), label)
            }
            AuthConfig::AdyenHmac => (
                Method::Adyen(body_signed::Adyen::new(&secrets)?),
                "adyen-hmac-sha256:body".to_owned(),
            ),
            AuthConfig::Mailgun => (
                Method::Mailgun(body_signed::Mailgun::new(&secrets)?),
                "mailgun-hmac-sha256:body".to_owned(),
            ),
            AuthConfig::Jwt(c) => {
                let v = jwt::JwtVerifier::new(c, &secrets, public_url, fetcher)?;
                let label = v.label();
                (Method::Jwt(Box::new(v)), label)
            }
            AuthConfig::CertificateUrl(c) => {
                let v = cert_url::CertUrlVerifier::new(c, &secrets, fetcher)?;
                let label = match v.place() {
                    SignaturePlace::Header(h) => format!("certificate-url:{h}"),
                    SignaturePlace::BodyField(p) => format!("certificate-url:body{p}"),
                    SignaturePlace::FormField(p) => format!("certificate-url:form.{p}"),
                    SignaturePlace::Query(q) => format!("certificate-url:query.{q}"),
                    SignaturePlace::Body => "certificate-url:body".to_owned(),
                };
                (Method::CertificateUrl(Box::new(v)), label)
            }
            AuthConfig::None => (Method::None, "none".to_owned()),
        };
        Ok(Verifier {
            method,
            label: label.into(),
        })
    }

    /// The verifier of a source that learns its secret at a handshake and has none yet: it
    /// refuses every delivery (`no_secret_yet`).
    pub fn awaiting_secret() -> Self {
        Verifier {
            method: Method::AwaitingSecret,
            label: "awaiting-secret".into(),
        }
    }

    /// Checks `inbound` against the source's secrets; `now_unix` is the receive time in
    /// seconds since the epoch. Only kinds whose keys live at a URL ever wait.
    pub async fn verify(&self, inbound: Inbound, now_unix: i64) -> Result<Verified, AuthError> {
        match &self.method {
            Method::Jwt(v) if v.fetches() => {
                let (inbound, key_index) = v.verify(inbound, now_unix).await?;
                Ok(self.verified(inbound, key_index))
            }
            Method::CertificateUrl(v) => {
                let key_index = v.verify(&inbound, now_unix).await?;
                Ok(self.verified(inbound, key_index))
            }
            _ => self.verify_sync(inbound, now_unix),
        }
    }

    /// [`Verifier::verify`] of a certificate-URL kind with the certificate already in hand
    /// (`certificate`: the document its URL serves), for fuzzing and offline checks. Every
    /// other check runs, the allowed host of the URL included; other kinds ignore
    /// `certificate`.
    pub fn verify_with_certificate(
        &self,
        inbound: Inbound,
        now_unix: i64,
        certificate: &[u8],
    ) -> Result<Verified, AuthError> {
        match &self.method {
            Method::CertificateUrl(v) => {
                let claim = v.claim(&inbound)?;
                let cert =
                    cert_url::parse_certificate(certificate).map_err(AuthError::KeyUnavailable)?;
                let key_index = v.check(&claim, &cert, now_unix)?;
                Ok(self.verified(inbound, key_index))
            }
            _ => self.verify_sync(inbound, now_unix),
        }
    }

    fn verified(&self, inbound: Inbound, key_index: Option<usize>) -> Verified {
        Verified {
            inbound,
            verification: Verification {
                method: self.label.clone(),
                key_index,
            },
        }
    }

    /// [`Verifier::verify`] for the kinds that need no fetched key (every kind but those
    /// whose keys live at a URL, which are refused with `KeyUnavailable`). Commands and tests
    /// use it outside a runtime.
    pub fn verify_sync(&self, inbound: Inbound, now_unix: i64) -> Result<Verified, AuthError> {
        let key_index = match &self.method {
            Method::Signature(v) => Some(v.verify(&inbound, now_unix)?),
            Method::ApiKey(v) => Some(v.verify(&inbound)?),
            Method::Adyen(v) => Some(v.verify(&inbound.body)?),
            Method::Mailgun(v) => Some(v.verify(&inbound.body, now_unix)?),
            Method::Jwt(v) => {
                let (inbound, key_index) = v.verify_sync(inbound, now_unix)?;
                return Ok(self.verified(inbound, key_index));
            }
            Method::CertificateUrl(_) => {
                return Err(AuthError::KeyUnavailable(
                    "this source's certificate is fetched; verify asynchronously".to_owned(),
                ))
            }
            Method::AwaitingSecret => return Err(AuthError::NoSecretYet),
            Method::None => None,
        };
        Ok(self.verified(inbound, key_index))
    }

    /// The headers a sender would add to sign `body` at `now_unix` with the first secret.
    /// `given` are headers the caller already sets (used where the recipe needs them); headers
    /// the recipe needs but `given` lacks are filled with fresh ids. For the `sign` command
    /// and tests; never on the request path. Public-key sources cannot sign.
    pub fn sign(
        &self,
        body: &[u8],
        now_unix: i64,
        given: &[(String, String)],
    ) -> Result<Vec<(String, String)>, String> {
        match &self.method {
            Method::Signature(v) => v.sign(body, now_unix, given),
            Method::ApiKey(v) => v.sign(),
            Method::CertificateUrl(_) => Err(
                "the provider signs with its own private key; the sign command cannot".to_owned(),
            ),
            Method::Adyen(_) | Method::Mailgun(_) => Err(
                "this provider signs inside the body; the sign command cannot add it".to_owned(),
            ),
            Method::Jwt(_) => Err("JWT sources cannot be signed by this command".to_owned()),
            Method::AwaitingSecret => Err("this source has no secret yet".to_owned()),
            Method::None => Ok(Vec::new()),
        }
    }
}

fn header_name(name: &str) -> Result<HeaderName, VerifierConfigError> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| VerifierConfigError::HeaderName(name.to_owned()))
}

/// `auth = { type = "…", … }`
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthConfig {
    /// An HMAC of (parts of) the request, sent in a header, or a plain hash of content that
    /// includes the secret (`hash_*` algorithms). Secrets are shared keys.
    Hmac(SignatureConfig),
    /// A public-key signature (Ed25519, ECDSA P-256, RSA), sent in a header. Secrets are the
    /// provider's public keys.
    PublicKey(SignatureConfig),
    /// A static key in a header, or `Authorization: Bearer <key>` when `header` is not set.
    ApiKey { header: Option<String> },
    /// A static key in a query parameter of the URL the provider calls (`?code=<key>`).
    QueryToken { param: String },
    /// A static key as a string in the JSON body; `*` in the pointer means every item of that
    /// array, each of which must carry a key (`/value/*/clientState`).
    BodyToken { pointer: String },
    /// Adyen standard notifications: an HMAC per notification item, inside the body; secrets
    /// are the hex HMAC keys.
    AdyenHmac,
    /// Mailgun: `signature {timestamp, token, signature}` inside the JSON body.
    Mailgun,
    /// A JWT (or a detached JWS) in a header or as the body, signed with the secrets, with
    /// configured public keys, or with the keys of a JSON Web Key Set at `jwks_url`.
    Jwt(jwt::JwtConfig),
    /// A signature checked with an X.509 certificate fetched from a URL the request names
    /// (AWS SNS, PayPal). Secrets bind deliveries to this endpoint (PayPal's webhook id,
    /// SNS's topic ARNs).
    CertificateUrl(CertificateUrlConfig),
    /// No authentication at all. Anyone who knows the URL can publish; logged loudly.
    None,
}

impl AuthConfig {
    /// Whether the source's `secrets` are this kind's keys; a JWT recipe whose keys are
    /// fetched (`jwks_url`) and `none` take no secrets.
    pub fn uses_secrets(&self) -> bool {
        match self {
            AuthConfig::Jwt(c) => c.uses_secrets(),
            AuthConfig::None => false,
            _ => true,
        }
    }
}

/// A signature recipe: where the signature (and timestamp) are, what was signed, how keys and
/// signatures are encoded. Presets are values of this type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureConfig {
    /// Header carrying the signature (or set `form_field`).
    #[serde(default)]
    pub header: String,
    /// Form field of an `application/x-www-form-urlencoded` body carrying the signature,
    /// instead of a header (Braintree's `bt_signature`).
    pub form_field: Option<String>,
    /// Query-string parameter carrying the signature, instead of a header (PandaDoc's
    /// `?signature=`).
    pub query_param: Option<String>,
    /// More headers that may carry signatures in the same layout as `header` (Box's
    /// `box-signature-secondary`, DocuSign's `X-DocuSign-Signature-2`…, one per active key):
    /// every one present is checked against every secret; one valid signature is enough.
    #[serde(default)]
    pub also_headers: Vec<String>,
    #[serde(default)]
    pub algorithm: Algorithm,
    #[serde(default)]
    pub encoding: Encoding,
    /// Text before each signature, e.g. `sha256=`, `v1,` (compared case-insensitively).
    #[serde(default)]
    pub prefix: String,
    /// When set, the header holds several `<prefix><signature>` items separated by this
    /// (`" "` for Standard Webhooks, `","` for PagerDuty); items with another prefix are
    /// ignored. Any one valid signature is enough.
    pub separator: Option<String>,
    /// With `separator`: the list's first item is the timestamp, the others signatures
    /// (Recurly's `<ms>,<sig>[,<sig>]`). Enables the replay window like `timestamp_header`.
    #[serde(default)]
    pub timestamp_first: bool,
    /// When set, each signature starts with a key id ended by this (Braintree's
    /// `<public key>|<signature>`). The id only names the key: every secret is tried, and the
    /// signature is what proves the sender, so the id is not checked.
    pub key_id_separator: Option<String>,
    /// When set, the header is a list of `key=value` fields (Stripe `t=…,v1=…`, Paddle
    /// `ts=…;h1=…`).
    pub fields: Option<FieldsConfig>,
    /// What is signed: `{body}` (default), or a recipe such as `{timestamp}.{body}`,
    /// `{header:Webhook-Id}.{timestamp}.{body}`, `{method}{url}{body}{timestamp}`,
    /// `{form:bt_payload}` (a form field's value).
    #[serde(default = "SignatureConfig::default_signed")]
    pub signed: String,
    /// Other signed contents also accepted, using only the placeholders of `signed`:
    /// Braintree's SDKs also accept `{form:bt_payload}` followed by a newline.
    #[serde(default)]
    pub also_signed: Vec<String>,
    /// Header carrying the timestamp (or use `fields.timestamp`); enables the replay window.
    pub timestamp_header: Option<String>,
    /// JSON pointer to a timestamp inside the body, checked once the signature matched
    /// (Linear's `/webhookTimestamp`). Cannot be part of the signed recipe.
    pub timestamp_pointer: Option<String>,
    #[serde(default)]
    pub timestamp_format: TimestampFormat,
    /// Largest accepted age of the timestamp (and distance ahead, see `limit_future`).
    #[serde(default = "SignatureConfig::default_tolerance_secs")]
    pub tolerance_secs: u64,
    /// Also refuse timestamps more than `tolerance_secs` ahead of now (Stripe's SDK does not).
    #[serde(default = "crate::base::setting::default_true")]
    pub limit_future: bool,
    /// How the configured secrets turn into key bytes.
    #[serde(default)]
    pub key_encoding: KeyEncoding,
    /// Removed from secrets before decoding, when present (e.g. `whsec_`).
    #[serde(default)]
    pub key_prefix: String,
}

impl SignatureConfig {
    /// HMAC-SHA256 of the raw body, hex, no prefix, in `header`, 5-minute window if a timestamp
    /// is added: the defaults of every key, and the starting point of most presets.
    pub fn body_hmac_sha256(header: &str) -> Self {
        SignatureConfig {
            header: header.to_owned(),
            form_field: None,
            query_param: None,
            also_headers: Vec::new(),
            algorithm: Algorithm::Sha256,
            encoding: Encoding::Hex,
            prefix: String::new(),
            separator: None,
            timestamp_first: false,
            key_id_separator: None,
            fields: None,
            signed: Self::default_signed(),
            also_signed: Vec::new(),
            timestamp_header: None,
            timestamp_pointer: None,
            timestamp_format: TimestampFormat::UnixSeconds,
            tolerance_secs: Self::default_tolerance_secs(),
            limit_future: true,
            key_encoding: KeyEncoding::Utf8,
            key_prefix: String::new(),
        }
    }

    fn default_signed() -> String {
        "{body}".to_owned()
    }
    /// Five minutes: what Stripe, Slack and Standard Webhooks use.
    const fn default_tolerance_secs() -> u64 {
        300
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::auth::SignatureConfig;
    use bytes::Bytes;
    use hyper::header::HeaderMap;

    fn hmac(header: &str) -> SignatureConfig {
        SignatureConfig::body_hmac_sha256(header)
    }

    fn github() -> AuthConfig {
        crate::providers::preset("github")
            .and_then(|p| p.auth)
            .expect("preset")
    }

    /// Shared with the submodules' tests (`jwt`).
    pub(super) fn secrets(values: &[&str]) -> Vec<Secret> {
        values
            .iter()
            .map(|v| Secret::new(v.as_bytes().to_vec()))
            .collect()
    }

    pub(super) fn inbound(headers: &[(&str, &str)], body: &str) -> Inbound {
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
        let v = Verifier::new(auth, secrets(keys), None).expect("verifier");
        v.verify_sync(inbound(headers, body), now)
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
        let auth = AuthConfig::Hmac(SignatureConfig {
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
        let auth = AuthConfig::Hmac(SignatureConfig {
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
        let auth = AuthConfig::Hmac(SignatureConfig {
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
        let sha1 = AuthConfig::Hmac(SignatureConfig {
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
        let sha512 = AuthConfig::Hmac(SignatureConfig {
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
        let auth = AuthConfig::Hmac(SignatureConfig {
            signed: "{timestamp}.{body}".to_owned(),
            timestamp_header: Some("X-Ts".to_owned()),
            timestamp_format: TimestampFormat::UnixMillis,
            tolerance_secs: 60,
            ..hmac("X-Sig")
        });
        let v = Verifier::new(&auth, secrets(&["k"]), None).expect("verifier");
        let signed = v.sign(b"{}", 1_700_000_000, &[]).expect("sign");
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
    fn rfc3339_timestamps_are_signed_as_sent() {
        let auth = AuthConfig::Hmac(SignatureConfig {
            signed: "v1:{timestamp}:{body}".to_owned(),
            timestamp_header: Some("X-Ts".to_owned()),
            timestamp_format: TimestampFormat::Rfc3339,
            ..hmac("X-Sig")
        });
        // HMAC-SHA256("k", "v1:2024-03-27T15:42:29.551:{}"), computed with Python's hmac.
        let mac = "4829401b7d7373499ba0f28492a2d4fd4924b26a614b7ef9f6f3c8a475cb9e4d";
        // 2024-03-27T15:42:29Z: no offset reads as UTC.
        let sent = 1_711_554_149;
        let at =
            |ts: &str, now: i64| check(&auth, &["k"], &[("X-Ts", ts), ("X-Sig", mac)], "{}", now);
        assert_eq!(at("2024-03-27T15:42:29.551", sent), Ok(Some(0)));
        assert_eq!(at("2024-03-27T15:42:29.551", sent + 300), Ok(Some(0)));
        assert_eq!(
            at("2024-03-27T15:42:29.551", sent + 301),
            Err("stale_timestamp")
        );
        assert_eq!(
            at("2024-03-27T15:42:29.551", sent - 301),
            Err("future_timestamp")
        );
        // The same instant written otherwise is other signed text.
        assert_eq!(
            at("2024-03-27T15:42:29.551Z", sent),
            Err("invalid_signature")
        );
        // The window reads the offset: +05:30 is 5.5 h earlier than the same UTC clock time.
        assert_eq!(
            at("2024-03-27T15:42:29.551+05:30", sent),
            Err("stale_timestamp")
        );
        let v = Verifier::new(&auth, secrets(&["k"]), None).expect("verifier");
        let err = v
            .verify_sync(
                inbound(&[("X-Ts", "1711554149"), ("X-Sig", mac)], "{}"),
                sent,
            )
            .expect_err("a Unix timestamp is not RFC 3339");
        assert_eq!(
            err.to_string(),
            "timestamp (`x-ts` header) is not an RFC 3339 date-time"
        );
        // `sign` writes RFC 3339 in UTC, which verifies.
        let signed = v.sign(b"{}", 1_577_862_000, &[]).expect("sign");
        assert_eq!(
            signed[0],
            ("x-ts".to_owned(), "2020-01-01T07:00:00Z".to_owned())
        );
        let headers: Vec<(&str, &str)> = signed
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            check(&auth, &["k"], &headers, "{}", 1_577_862_000),
            Ok(Some(0))
        );
    }

    #[test]
    fn keyed_plain_hashes_put_the_secret_where_the_recipe_says() {
        let auth = |algorithm, signed: &str| {
            AuthConfig::Hmac(SignatureConfig {
                algorithm,
                signed: signed.to_owned(),
                ..hmac("X-Sig")
            })
        };
        // Computed with Python's hashlib: sha256(b"k{}"), sha1(b"{}k").
        let sha256 = "07cb9a0b2be7b75767c103f5d370b366cfc3072d67c592a4fb6fcd1408d36934";
        let sha1 = "361becec674aa8043b76aed2fec7d6107b2e7fd2";
        let before = auth(Algorithm::HashSha256, "{secret}{body}");
        let after = auth(Algorithm::HashSha1, "{body}{secret}");
        assert_eq!(
            check(&before, &["x", "k"], &[("X-Sig", sha256)], "{}", 0),
            Ok(Some(1))
        );
        assert_eq!(
            check(&after, &["k"], &[("X-Sig", sha1)], "{}", 0),
            Ok(Some(0))
        );
        // Where the secret goes matters.
        assert_eq!(
            check(&after, &["k"], &[("X-Sig", sha256)], "{}", 0),
            Err("invalid_signature")
        );
        // The hash of the content without the secret proves nothing and is refused.
        let unkeyed = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
        assert_eq!(
            check(&before, &["k"], &[("X-Sig", unkeyed)], "{}", 0),
            Err("invalid_signature")
        );
        // `sign` makes what `verify` accepts, and errors never show the secret.
        let v = Verifier::new(&before, secrets(&["top-secret-value"]), None).expect("v");
        let signed = v.sign(b"{}", 0, &[]).expect("sign");
        let headers: Vec<(&str, &str)> = signed
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            check(&before, &["top-secret-value"], &headers, "{}", 0),
            Ok(Some(0))
        );
        let err = v
            .verify_sync(inbound(&[("X-Sig", sha256)], "{}"), 0)
            .expect_err("mismatch");
        assert!(!format!("{err} {err:?} {v:?}").contains("top-secret"));
        assert_eq!(&*v.label, "hash-sha256:x-sig");
        // A plain hash without {secret} would be unkeyed; {secret} in an HMAC recipe is refused.
        let refused = |auth: AuthConfig| {
            Verifier::new(&auth, secrets(&["k"]), None)
                .expect_err("refused")
                .to_string()
        };
        assert!(refused(auth(Algorithm::HashSha256, "{body}")).contains("must include {secret}"));
        assert!(
            refused(auth(Algorithm::Sha256, "{secret}{body}")).contains("only with a plain-hash")
        );
        let alt_without = AuthConfig::Hmac(SignatureConfig {
            algorithm: Algorithm::HashKeccak256,
            signed: "{body}{secret}".to_owned(),
            also_signed: vec!["{body}".to_owned()],
            ..hmac("X-Sig")
        });
        assert!(refused(alt_without).contains("every `also_signed`"));
        // Plain hashes take shared secrets, not public keys.
        let as_public = AuthConfig::PublicKey(SignatureConfig {
            algorithm: Algorithm::HashSha1,
            signed: "{body}{secret}".to_owned(),
            ..hmac("X-Sig")
        });
        assert!(refused(as_public).contains("does not take algorithm"));
    }

    #[test]
    fn recipes_are_checked_at_start_up() {
        let bad = |signed: &str, ts: Option<&str>| {
            let auth = AuthConfig::Hmac(SignatureConfig {
                signed: signed.to_owned(),
                timestamp_header: ts.map(str::to_owned),
                ..hmac("X-Sig")
            });
            Verifier::new(&auth, secrets(&["k"]), None)
                .expect_err("should fail")
                .to_string()
        };
        assert!(bad("{timestamp}.{body}", None).contains("no timestamp is configured"));
        assert!(bad("{body", None).contains("never closed"));
        assert!(bad("{bdy}", None).contains("unknown placeholder `{bdy}`"));
        assert!(bad("{timestamp}", Some("X-Ts")).contains("must include {body}"));
        assert!(bad("{header:bad header}.{body}", None).contains("not a valid HTTP header"));
    }

    const RSA_SPKI: &str = include_str!("../../../tests/fixtures/rsa/spki-2048.pem");
    const RSA_PKCS1: &str = include_str!("../../../tests/fixtures/rsa/pkcs1-2048.pem");
    const RSA_OTHER: &str = include_str!("../../../tests/fixtures/rsa/other-2048.pem");
    const RSA_1024: &str = include_str!("../../../tests/fixtures/rsa/spki-1024.pem");
    const RSA_BODY: &str = r#"{"id":"evt_1","type":"demo.event"}"#;

    fn rsa(algorithm: Algorithm) -> AuthConfig {
        AuthConfig::PublicKey(SignatureConfig {
            algorithm,
            encoding: Encoding::Base64,
            key_encoding: KeyEncoding::Base64,
            ..hmac("X-Signature")
        })
    }

    /// The base64 between the armor lines: DER, as a secret in the `base64` key encoding.
    fn der_base64(pem: &str) -> String {
        pem.lines().filter(|l| !l.starts_with("-----")).collect()
    }

    #[test]
    fn rsa_algorithms_verify_openssl_vectors() {
        // Signatures by `openssl dgst` over RSA_BODY with the key of spki-2048.pem
        // (tests/fixtures/rsa/README.md says how).
        let cases = [
            (Algorithm::RsaPkcs1Sha256, "D9O0YxgUMIrSLJmghpH5jI7D25K4aKwZGC+l98+PhlXmGbrWwHu2kn53d7HyU1KkMMjBYR4Sid6Rh8pVbCyT+a6WuMs1CwZZqp5kxIcX1S9oqnIM3xOlL9bNosuVMdW+o/r9lZsRagh5fugoE3HXGpl0754zJv/ovajbEv3LLG1eD2da5sCUoKqSuel7sG0/+x7bbRUAQAvStSGfaJm9nYICDw+PKW800BzxnWfgZtAe27i+np/Oz67jESrzReVzd9ZmqiciN1vNYi1RSIBDPMDow478tZU4RtacujKVB3zFsQLjrBYRY+SpzWhaK9NwfQkG7//95wsY2d7k6SFBSA=="),
            (Algorithm::RsaPkcs1Sha512, "M0CT4TLEiMg2w05pmN8NM/rLutMGVyfHKi8eKDo+Vz0rCVwbPD7YeN5EGxiPCgKUlht1XCUd6Qg3ZQTdL8r130rptw0enrU9BjUwUu/nHIYsz0lb3UmKFWyE8CLqQu/V8MBZhuU6C3IgUSx61iuviGL0Xp/2RqKGTFXX2IDy7RWfKyK6miLg5eWCJ+S70Z7QbyiM9h6MDV5fs1CX764jnXw/zpg4WlfvBxJ+nFmtq4mnEFPkAhdKYGO3NDHYLm3Q7XqWYOXhitdnsxxsGVR1KwoQJQnNoErgrWo3C4/O6Kvp/d8J8cp0DMmQT9pbEa1tYds1FYVMohKFr7BeTZFzLw=="),
            (Algorithm::RsaPkcs1Sha1, "uuIoV1V09jlQnxXGOOy+wm0naZWGywtCurKawUiA6pSWaCyV0a9mRLcS7ZFzzsye2yK3Q5tjsRwf/LcVNGD1lqYH12NRamBY6PtSfFfE6YlaXUTEwGOlcZRq/JnaRb7+s8Rn6rcdfn1RnWTuPmrqsibCpxG7CKTpOwQhJZZdgV6NCXVli0cYADAv+Nz+jIih10moZjOmynRhJnvzKjPYsuDuKhQ4wG0Qo9AcVrY/N91ZyBnAgqCq0gyaN+ONIJ3N+6UDBNH789zkpLnbeWSX9jXIwopQfKYd3MvlF2ADHkQA4RAEISjsvSYXdwoyLkqf/Zv0RUchD17wAWSBeNohGA=="),
            (Algorithm::RsaPssSha256, "B2d9at3P8l/A2b92ZjqCAiI6IlF6tojn2vPcBLvq5vK+7U170OlyOflPtHRXn/Nnm52zDZQCBoBvSCEwUztnK4+UMNV0kGEPWEhHWZ1V7QBsr2v7NH11Py9OphXnkFmDbyrnSbW71NKaS6YbBfow5VUZng7Ef1p7CP7qDqFjr81iuAqhuKjR1w8p8RulGFcLrKXdO1tGaLljfFFj/rGvz2KnzYT/Bifx39CJVDnWx1lIPq1T03QA7RkrIIXKG7JaM/4I4Hrw4gnr5mo0Jl27ewTaQbRmoHn0it1ls8GN1jkiHx4ZFYQBtWLya4MG9FNPFumWIzBswnv+QlK+YJjmNg=="),
        ];
        let spki_der = der_base64(RSA_SPKI);
        let pkcs1_der = der_base64(RSA_PKCS1);
        let one_line = RSA_SPKI.replace('\n', " ");
        let crlf = RSA_PKCS1.replace('\n', "\r\n");
        for (algorithm, sig) in cases {
            let auth = rsa(algorithm);
            let headers = [("X-Signature", sig)];
            // Every form of the same key: both PEMs (also on one line, or with CRLF), and DER.
            for key in [RSA_SPKI, RSA_PKCS1, &spki_der, &pkcs1_der, &one_line, &crlf] {
                assert_eq!(
                    check(&auth, &[key], &headers, RSA_BODY, 0),
                    Ok(Some(0)),
                    "{algorithm:?} {key}"
                );
            }
            // Rotation: the second key matches.
            assert_eq!(
                check(&auth, &[RSA_OTHER, RSA_SPKI], &headers, RSA_BODY, 0),
                Ok(Some(1)),
                "{algorithm:?}"
            );
            let refused = [
                (
                    RSA_SPKI,
                    &headers[..],
                    "{\"id\":\"evt_2\",\"type\":\"demo.event\"}",
                    "invalid_signature",
                ),
                (RSA_OTHER, &headers[..], RSA_BODY, "invalid_signature"),
                (RSA_SPKI, &[], RSA_BODY, "missing_signature"),
                (
                    RSA_SPKI,
                    &[("X-Signature", "%%%")],
                    RSA_BODY,
                    "malformed_signature",
                ),
                (
                    RSA_SPKI,
                    &[("X-Signature", "AAAA")],
                    RSA_BODY,
                    "invalid_signature",
                ),
            ];
            for (key, headers, body, code) in refused {
                assert_eq!(
                    check(&auth, &[key], headers, body, 0),
                    Err(code),
                    "{algorithm:?} {headers:?} {body}"
                );
            }
        }
        // A signature is bound to its scheme: PKCS#1 v1.5 SHA-256 is not PSS, nor SHA-512.
        let pkcs1_sha256 = [("X-Signature", cases[0].1)];
        for other in [Algorithm::RsaPssSha256, Algorithm::RsaPkcs1Sha512] {
            assert_eq!(
                check(&rsa(other), &[RSA_SPKI], &pkcs1_sha256, RSA_BODY, 0),
                Err("invalid_signature")
            );
        }
    }

    #[test]
    fn rsa_keys_are_checked_at_start_up() {
        let auth = rsa(Algorithm::RsaPkcs1Sha256);
        let err = |keys: &[&str]| {
            Verifier::new(&auth, secrets(keys), None)
                .expect_err("refused")
                .to_string()
        };
        let small = err(&[RSA_SPKI, RSA_1024]);
        assert!(small.starts_with("secret #1 "), "{small}");
        assert!(small.contains("fewer than 2048 bits"), "{small}");
        assert!(err(&["AAAA"]).contains("not an RSA public key"));
        assert!(err(&["not base64!"]).contains("cannot be decoded as base64"));
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(err(&[cert]).contains("neither `PUBLIC KEY` nor `RSA PUBLIC KEY`"));
        let cut = &RSA_SPKI[..RSA_SPKI.len() - 30];
        assert!(err(&[cut]).contains("without its `-----END` line"));
        let garbled = RSA_SPKI.replace("MII", "MI!");
        assert!(err(&[&garbled]).contains("not base64"));
        // An RSA key does not fit another public-key algorithm, nor an HMAC type.
        let p256 = AuthConfig::PublicKey(SignatureConfig {
            algorithm: Algorithm::EcdsaP256Sha256,
            ..hmac("X-Signature")
        });
        assert!(Verifier::new(&p256, secrets(&[RSA_SPKI]), None).is_err());
        let as_hmac = AuthConfig::Hmac(SignatureConfig {
            algorithm: Algorithm::RsaPkcs1Sha256,
            ..hmac("X-Signature")
        });
        let text = Verifier::new(&as_hmac, secrets(&[RSA_SPKI]), None)
            .expect_err("wrong type")
            .to_string();
        assert!(text.contains("does not take algorithm"), "{text}");
        // The verifier's label names the scheme; the key never shows.
        let v = Verifier::new(&auth, secrets(&[RSA_SPKI]), None).expect("verifier");
        assert!(v.sign(b"{}", 0, &[]).is_err(), "a public key cannot sign");
        assert_eq!(&*v.label, "rsa-pkcs1-sha256:x-signature");
        assert!(!format!("{v:?}").contains("MIIB"));
    }

    #[test]
    fn signatures_in_form_fields_over_form_fields() {
        // A generic form-field recipe: hex HMAC-SHA256 (key = the secret's text) of the `data`
        // field, in the `sig` field as `<key id>:<signature>` items separated by `,`.
        let auth = AuthConfig::Hmac(SignatureConfig {
            form_field: Some("sig".to_owned()),
            separator: Some(",".to_owned()),
            key_id_separator: Some(":".to_owned()),
            signed: "{form:data}".to_owned(),
            ..hmac("")
        });
        // HMAC-SHA256("k", "hello world"), computed with Python's hmac module.
        let mac = "67eedc5d50852aacd055cc940b52edde89eba69b15902b2a9a82483eab70d12d";
        let body = format!("sig=id1%3A{mac}&data=hello+world");
        assert_eq!(check(&auth, &["x", "k"], &[], &body, 0), Ok(Some(1)));
        let body = format!("data=hello+world&sig=old%3A00%2Cid1%3A{mac}");
        assert_eq!(check(&auth, &["k"], &[], &body, 0), Ok(Some(0)));
        assert_eq!(
            check(
                &auth,
                &["k"],
                &[],
                &format!("sig={mac}&data=hello+world"),
                0
            ),
            Err("malformed_signature"),
            "no key id"
        );
        assert_eq!(
            check(&auth, &["k"], &[("sig", mac)], "data=hello+world", 0),
            Err("missing_signature"),
            "a header is not the form field"
        );
        let v = Verifier::new(&auth, secrets(&["k"]), None).expect("verifier");
        assert_eq!(&*v.label, "hmac-sha256:form.sig");
        assert!(v.sign(b"data=x", 0, &[]).is_err());
        let err = v
            .verify_sync(inbound(&[], &format!("sig=id1%3A{mac}")), 0)
            .expect_err("no data");
        assert_eq!(
            err.to_string(),
            "missing `data` form field, which is part of the signed content"
        );
        // Alternatives use only the placeholders of `signed`.
        let alt = |also: &str| {
            let auth = AuthConfig::Hmac(SignatureConfig {
                also_signed: vec![also.to_owned()],
                ..hmac("X-Sig")
            });
            Verifier::new(&auth, secrets(&["k"]), None).map(|_| ())
        };
        assert!(alt("{body}\n").is_ok());
        let err = alt("{header:x-other}{body}").expect_err("new placeholder");
        assert!(
            err.to_string()
                .contains("only the placeholders of `signed`"),
            "{err}"
        );
        // The SHA-1 key derivation: HMAC keyed with SHA-1 of the secret's text.
        let sha1_key = AuthConfig::Hmac(SignatureConfig {
            key_encoding: KeyEncoding::Sha1,
            ..hmac("X-Sig")
        });
        // HMAC-SHA256(key = SHA-1("k"), "{}"), computed with Python's hashlib and hmac.
        let headers = [(
            "X-Sig",
            "ee3efde11f87e51ca3a749ab6158c0c7451807c5cc9a461e9eb4e4c6fc9be026",
        )];
        assert_eq!(check(&sha1_key, &["k"], &headers, "{}", 0), Ok(Some(0)));
        let plain = AuthConfig::Hmac(hmac("X-Sig"));
        assert_eq!(
            check(&plain, &["k"], &headers, "{}", 0),
            Err("invalid_signature")
        );
        // A list whose first item is the timestamp needs a list, and one timestamp only.
        let first = |separator: Option<&str>, header: Option<&str>| {
            let auth = AuthConfig::Hmac(SignatureConfig {
                separator: separator.map(str::to_owned),
                timestamp_first: true,
                timestamp_header: header.map(str::to_owned),
                signed: "{timestamp}.{body}".to_owned(),
                ..hmac("X-Sig")
            });
            Verifier::new(&auth, secrets(&["k"]), None).map(|_| ())
        };
        assert!(first(Some(","), None).is_ok());
        let err = first(None, None).expect_err("no list");
        assert!(err
            .to_string()
            .contains("`timestamp_first` needs `separator`"));
        let err = first(Some(","), Some("X-Ts")).expect_err("two");
        assert!(err.to_string().contains("configured twice"));
        // The signature in a query parameter: named in the label and in errors.
        let query = AuthConfig::Hmac(SignatureConfig {
            query_param: Some("sig".to_owned()),
            ..hmac("")
        });
        let v = Verifier::new(&query, secrets(&["k"]), None).expect("verifier");
        assert_eq!(&*v.label, "hmac-sha256:query.sig");
        let err = v.verify_sync(inbound(&[], "{}"), 0).expect_err("missing");
        assert_eq!(err.to_string(), "missing `sig` query parameter");
        assert!(v.sign(b"{}", 0, &[]).is_err());
        // Alternative headers hold signatures; a form field has none.
        let with_form = AuthConfig::Hmac(SignatureConfig {
            form_field: Some("sig".to_owned()),
            also_headers: vec!["X-Sig-2".to_owned()],
            ..hmac("")
        });
        let err = Verifier::new(&with_form, secrets(&["k"]), None).expect_err("form");
        assert!(err.to_string().contains("`also_headers` needs `header`"));
        // Where the signature is must be said exactly once.
        for (header, field) in [("", None), ("X-Sig", Some("sig"))] {
            let auth = AuthConfig::Hmac(SignatureConfig {
                form_field: field.map(str::to_owned),
                ..hmac(header)
            });
            let err = Verifier::new(&auth, secrets(&["k"]), None).expect_err("place");
            assert!(err
                .to_string()
                .contains("exactly one of `header`, `form_field` and `query_param`"));
        }
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
        let auth = AuthConfig::Hmac(SignatureConfig {
            encoding: Encoding::Base64,
            prefix: "v1,".to_owned(),
            signed: "{header:webhook-id}.{timestamp}.{body}".to_owned(),
            timestamp_header: Some("webhook-timestamp".to_owned()),
            ..hmac("webhook-signature")
        });
        let v = Verifier::new(&auth, secrets(&["k"]), None).expect("verifier");
        let signed = v.sign(b"{}", 100, &[]).expect("sign");
        assert_eq!(signed.len(), 3, "{signed:?}");
        let headers: Vec<(&str, &str)> = signed
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(check(&auth, &["k"], &headers, "{}", 100), Ok(Some(0)));
    }

    #[test]
    fn errors_never_contain_the_expected_signature() {
        let v =
            Verifier::new(&github(), secrets(&["It's a Secret to Everybody"]), None).expect("v");
        let err = v
            .verify_sync(
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
        let v = Verifier::new(&AuthConfig::None, vec![], None).expect("v");
        let verified = v.verify_sync(inbound(&[], "{}"), 0).expect("accepted");
        assert_eq!(&*verified.verification().method, "none");
    }
}
