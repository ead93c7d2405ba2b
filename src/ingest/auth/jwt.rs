//! JSON Web Tokens and JSON Web Signatures: a token in a header (`Authorization: Bearer …`,
//! `Upstash-Signature`) or as the whole body (Kinde, Wix), or a detached JWS over the raw body
//! (RFC 7797 unencoded payload: Saleor), signed with the source's HMAC secrets, with configured
//! public keys, or with the keys of a JSON Web Key Set at a configured URL (Google, Saleor,
//! Kinde).
//!
//! Owns: [`JwtConfig`] (the recipe, data only), [`JwtOverrides`] (what a source sets on its
//! preset's recipe: its audience, its account's e-mail, its key set URL), the verifier built from
//! them, and [`parse_jwks`] (a key set turned into ready keys by key id, once per fetch).
//!
//! Invariants: the algorithm comes from the token but must be on the recipe's allow-list, which
//! never holds `none` and never mixes HMAC with public-key algorithms (so a public key can never
//! be used as an HMAC secret); the protected header and the claims are parsed with `serde_json`
//! from bounded input; signatures are checked by `jsonwebtoken` (RustCrypto), whose HMAC compare
//! is constant time; times are checked against the `now` argument, never a clock; error messages
//! name the place, the claim and the rule, never the token, a claim's value or a key. Only the
//! key set is fetched (through [`RemoteDocs`]), from the configured URL alone: nothing in a
//! request chooses a URL.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use jsonwebtoken::jwk::{Jwk, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm as Alg, AlgorithmFamily, DecodingKey};

/// The JWS algorithms (`HS256` … `EdDSA`), as `jsonwebtoken` names them; `none` is not one.
pub use jsonwebtoken::Algorithm as JwtAlgorithm;
use rsa::traits::PublicKeyParts as _;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;
use url::Url;

use super::keys::{self, BASE64_LENIENT, BASE64_URL_LENIENT, RSA_MIN_BITS};
use super::remote::{CachePolicy, RemoteDocs};
use super::{header_name, AuthError, Encoding, KeyEncoding, SignaturePlace, VerifierConfigError};
use crate::base::secret::Secret;
use crate::ingest::fetch::{Fetcher, HostAllowList};
use crate::ingest::intake::Inbound;

/// The longest token read from a header. Provider tokens are a few hundred bytes; a token in
/// the body is bounded by the source's `max_body_bytes` instead.
pub const MAX_HEADER_TOKEN_BYTES: usize = 16 * 1024;
/// The longest protected header accepted, decoded.
const MAX_PROTECTED_HEADER_BYTES: usize = 4 * 1024;
/// The most keys read from a key set (Google publishes 2 or 3).
pub const MAX_JWKS_KEYS: usize = 32;
/// What `{public_url}` in `audience`, `issuer` or `claims` stands for.
const PUBLIC_URL: &str = "{public_url}";

/// `auth = { type = "jwt", … }`: where the token is, which algorithms and keys sign it, and
/// which claims it must carry.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// Header carrying the token. Unset: the whole body is the token (`body = true`).
    pub header: Option<String>,
    /// Word before the token in the header (`Bearer`), compared case-insensitively; a header
    /// without it is refused. Unset: the header is the token alone.
    pub scheme: Option<String>,
    /// The body is the token (Kinde, Wix); once verified, its claims (or `event_claim`)
    /// become the delivery's JSON body.
    #[serde(default)]
    pub body: bool,
    /// With `body`: the claim that holds the event, a JSON object or a string of one (Wix's
    /// `data`). Unset: every claim.
    pub event_claim: Option<String>,
    /// A detached JWS (`<protected>..<signature>`) over the raw body, unencoded when the header
    /// says `"b64": false` (RFC 7797; Saleor). It carries no claims.
    #[serde(default)]
    pub detached: bool,
    /// Algorithms accepted (`HS256`, `HS384`, `HS512`, `RS256`, `RS384`, `RS512`, `PS256`,
    /// `PS384`, `PS512`, `ES256`, `ES384`, `EdDSA`): HMAC ones take the source's secrets as
    /// keys, the others its secrets as PEM public keys or the keys of `jwks_url`. Never `none`.
    pub algorithms: Vec<Alg>,
    /// How HMAC secrets turn into key bytes.
    #[serde(default)]
    pub key_encoding: KeyEncoding,
    /// A JSON Web Key Set (HTTPS) holding the public keys; the token's `kid` picks one. Fetched
    /// through `[outbound]`, cached `jwks_ttl_secs`, fetched again when a token names a key id
    /// it does not hold (at most once per `jwks_min_refetch_secs`).
    pub jwks_url: Option<String>,
    #[serde(default = "JwtConfig::default_jwks_ttl_secs")]
    pub jwks_ttl_secs: u64,
    #[serde(default = "JwtConfig::default_jwks_min_refetch_secs")]
    pub jwks_min_refetch_secs: u64,
    /// Accepted `iss` values (any one). Empty: not checked.
    #[serde(default, deserialize_with = "one_or_many")]
    pub issuer: Vec<String>,
    /// Accepted `aud` values (any one; an `aud` array passes when one of its items is
    /// accepted). Empty: not checked. `{public_url}` stands for the source's `public_url`.
    #[serde(default, deserialize_with = "one_or_many")]
    pub audience: Vec<String>,
    /// Other claims that must equal one of the listed values (`email`, `sub`,
    /// `email_verified = "true"`; numbers and booleans compare as their JSON text). A claim
    /// listed with no value must be set by the source (`jwt.claims`) before the source starts.
    #[serde(default, deserialize_with = "claims_map")]
    pub claims: BTreeMap<String, Vec<String>>,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    #[serde(default = "JwtConfig::default_leeway_secs")]
    pub leeway_secs: u64,
    /// Refuse tokens without `exp`.
    #[serde(default)]
    pub require_exp: bool,
    /// Refuse tokens whose `iat` is older than this (and tokens without `iat`).
    pub max_age_secs: Option<u64>,
    /// A claim holding the SHA-256 of the raw body (Vonage's `payload_hash`, QStash's `body`).
    pub body_hash: Option<HashClaim>,
    /// A claim holding the SHA-256 of the URL called: `public_url` plus the request's query
    /// string (MessageBird's `url_hash`).
    pub url_hash: Option<HashClaim>,
}

impl JwtConfig {
    /// A bearer token in `Authorization` with the given algorithms and nothing else checked:
    /// the starting point of presets.
    pub fn bearer(algorithms: &[Alg]) -> Self {
        JwtConfig {
            header: Some("Authorization".to_owned()),
            scheme: Some("Bearer".to_owned()),
            body: false,
            event_claim: None,
            detached: false,
            algorithms: algorithms.to_vec(),
            key_encoding: KeyEncoding::Utf8,
            jwks_url: None,
            jwks_ttl_secs: Self::default_jwks_ttl_secs(),
            jwks_min_refetch_secs: Self::default_jwks_min_refetch_secs(),
            issuer: Vec::new(),
            audience: Vec::new(),
            claims: BTreeMap::new(),
            leeway_secs: Self::default_leeway_secs(),
            require_exp: false,
            max_age_secs: None,
            body_hash: None,
            url_hash: None,
        }
    }

    /// Whether the source's secrets are keys (HMAC secrets or PEM public keys); with
    /// `jwks_url` the keys are fetched and the source takes no secrets.
    pub fn uses_secrets(&self) -> bool {
        self.jwks_url.is_none()
    }

    /// Applies a source's own values over its preset's.
    pub fn apply(&mut self, o: &JwtOverrides) {
        if let Some(url) = &o.jwks_url {
            self.jwks_url = Some(url.clone());
        }
        if let Some(algorithms) = &o.algorithms {
            self.algorithms = algorithms.clone();
        }
        if let Some(issuer) = &o.issuer {
            self.issuer = issuer.clone();
        }
        if let Some(audience) = &o.audience {
            self.audience = audience.clone();
        }
        for (name, values) in &o.claims {
            self.claims.insert(name.clone(), values.clone());
        }
    }

    /// An hour: Google rotates its keys over days and says to honour `Cache-Control`, which
    /// is a few hours; an unknown `kid` fetches sooner anyway.
    const fn default_jwks_ttl_secs() -> u64 {
        3600
    }
    const fn default_jwks_min_refetch_secs() -> u64 {
        10
    }
    /// A minute, as Google's and PyJWT's verifiers allow by default or recommend.
    const fn default_leeway_secs() -> u64 {
        60
    }
}

/// `jwt = { … }` in a source: its own values for its preset's JWT recipe.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct JwtOverrides {
    pub jwks_url: Option<String>,
    /// The algorithms this source's sender signs with, when its preset allows a choice of key
    /// type (FusionAuth signs with an HMAC, RSA, EC or Ed25519 key, as its admin picks). The
    /// same rules hold: never `none`, never HMAC mixed with public-key algorithms.
    pub algorithms: Option<Vec<Alg>>,
    #[serde(default, deserialize_with = "some_one_or_many")]
    pub issuer: Option<Vec<String>>,
    #[serde(default, deserialize_with = "some_one_or_many")]
    pub audience: Option<Vec<String>>,
    #[serde(default, deserialize_with = "claims_map")]
    pub claims: BTreeMap<String, Vec<String>>,
}

/// `body_hash = { claim = "payload_hash", encoding = "hex" }`: a SHA-256 digest in a claim.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HashClaim {
    pub claim: String,
    /// `hex` (either case), `base64` or `base64url` (padded or not).
    #[serde(default)]
    pub encoding: Encoding,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrMany> for Vec<String> {
    fn from(v: OneOrMany) -> Self {
        match v {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    OneOrMany::deserialize(d).map(Vec::from)
}

fn some_one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    OneOrMany::deserialize(d).map(|v| Some(v.into()))
}

fn claims_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    BTreeMap::<String, OneOrMany>::deserialize(d)
        .map(|m| m.into_iter().map(|(k, v)| (k, v.into())).collect())
}

/// One key of a fetched key set, ready to check signatures.
pub struct SetKey {
    kid: Option<String>,
    /// The key's own `alg`, when the set names one: then only that algorithm may use it.
    alg: Option<Alg>,
    key: DecodingKey,
}

/// A fetched key set, parsed once per fetch.
pub struct KeySet {
    keys: Vec<SetKey>,
}

impl KeySet {
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    /// The key ids of the set, in order (keys without one are left out).
    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().filter_map(|k| k.kid.as_deref()).collect()
    }
}

/// Reads a JSON Web Key Set (RFC 7517): `{"keys": [...]}`. Keys this gateway cannot use are
/// skipped (other key types, encryption keys, RSA below 2048 bits, symmetric keys: a published
/// set holds public keys); a set with no usable key is an error, as is anything but a JSON
/// object with a `keys` array of at most [`MAX_JWKS_KEYS`].
pub fn parse_jwks(bytes: &[u8]) -> Result<KeySet, String> {
    #[derive(Deserialize)]
    struct Doc {
        keys: Vec<Box<serde_json::value::RawValue>>,
    }
    let doc: Doc = serde_json::from_slice(bytes)
        .map_err(|_| "not a JSON Web Key Set (a JSON object with a `keys` array)".to_owned())?;
    if doc.keys.len() > MAX_JWKS_KEYS {
        return Err(format!("more than {MAX_JWKS_KEYS} keys"));
    }
    let keys: Vec<SetKey> = doc
        .keys
        .iter()
        .filter_map(|raw| serde_json::from_str::<Jwk>(raw.get()).ok())
        .filter_map(|jwk| set_key(&jwk))
        .collect();
    if keys.is_empty() {
        return Err("it holds no usable signing key".to_owned());
    }
    Ok(KeySet { keys })
}

fn set_key(jwk: &Jwk) -> Option<SetKey> {
    let common = &jwk.common;
    if common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
    {
        return None;
    }
    if common
        .key_operations
        .as_ref()
        .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
    {
        return None;
    }
    let alg = match common.key_algorithm {
        // Only a signing algorithm this crate knows; `RSA-OAEP` and the like are not for us.
        Some(a) => Some(a.to_string().parse::<Alg>().ok()?),
        None => None,
    };
    if let jsonwebtoken::jwk::AlgorithmParameters::RSA(p) = &jwk.algorithm {
        let n = BASE64_URL_LENIENT.decode(&p.n).ok()?;
        let significant = n.iter().skip_while(|b| **b == 0).count();
        if significant * 8 < RSA_MIN_BITS {
            return None;
        }
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    if key.family() == AlgorithmFamily::Hmac {
        return None;
    }
    Some(SetKey {
        kid: common.key_id.clone(),
        alg,
        key,
    })
}

/// Where the token is.
#[derive(Debug)]
enum Place {
    Header {
        name: hyper::header::HeaderName,
        scheme: Option<String>,
    },
    Body,
}

enum KeySource {
    /// The source's secrets, decoded: HMAC keys or public keys, by index.
    Static(Vec<DecodingKey>),
    Remote {
        url: Url,
        docs: RemoteDocs<KeySet>,
    },
}

struct HashRule {
    claim: String,
    encoding: Encoding,
}

/// A source's JWT check, prepared at start-up.
pub(super) struct JwtVerifier {
    place: Place,
    /// The place as errors name it.
    error_place: SignaturePlace,
    detached: bool,
    algorithms: Vec<Alg>,
    keys: KeySource,
    issuer: Vec<String>,
    audience: Vec<String>,
    claims: Vec<(String, Vec<String>)>,
    leeway: i64,
    require_exp: bool,
    max_age: Option<i64>,
    body_hash: Option<HashRule>,
    url_hash: Option<HashRule>,
    public_url: Option<String>,
    event_claim: Option<String>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = match &self.keys {
            KeySource::Static(k) => format!("{} configured, [redacted]", k.len()),
            KeySource::Remote { url, .. } => format!("key set at {}", url.host_str().unwrap_or("")),
        };
        f.debug_struct("JwtVerifier")
            .field("place", &self.place)
            .field("algorithms", &self.algorithms)
            .field("keys", &keys)
            .finish_non_exhaustive()
    }
}

fn recipe_error(reason: impl Into<String>) -> VerifierConfigError {
    VerifierConfigError::Recipe {
        recipe: "jwt".to_owned(),
        reason: reason.into(),
    }
}

impl JwtVerifier {
    pub(super) fn new(
        c: &JwtConfig,
        secrets: &[Secret],
        public_url: Option<&str>,
        fetcher: &Arc<Fetcher>,
    ) -> Result<Self, VerifierConfigError> {
        let place = match (&c.header, c.body) {
            (Some(h), false) => Place::Header {
                name: header_name(h)?,
                scheme: c.scheme.clone().filter(|s| !s.is_empty()),
            },
            (None, true) if c.scheme.is_none() => Place::Body,
            _ => {
                return Err(recipe_error(
                    "set exactly one of `header` (with an optional `scheme`) and `body = true`",
                ))
            }
        };
        let error_place = match &place {
            Place::Header { name, .. } => SignaturePlace::Header(name.clone()),
            Place::Body => SignaturePlace::Body,
        };
        if c.algorithms.is_empty() {
            return Err(recipe_error(
                "`algorithms` must name at least one algorithm",
            ));
        }
        let hmac = c
            .algorithms
            .iter()
            .filter(|a| a.family() == AlgorithmFamily::Hmac)
            .count();
        if hmac != 0 && hmac != c.algorithms.len() {
            return Err(recipe_error(
                "`algorithms` must not mix HMAC (`HS*`) with public-key algorithms",
            ));
        }
        if c.event_claim.is_some() && !c.body {
            return Err(recipe_error("`event_claim` needs `body = true`"));
        }
        if c.detached {
            let claims_checked = !c.issuer.is_empty()
                || !c.audience.is_empty()
                || !c.claims.is_empty()
                || c.require_exp
                || c.max_age_secs.is_some()
                || c.body_hash.is_some()
                || c.url_hash.is_some();
            if c.body || claims_checked {
                return Err(recipe_error(
                    "a `detached` JWS signs the body itself and carries no claims: it takes no \
                     `body`, `issuer`, `audience`, `claims`, `require_exp`, `max_age_secs`, \
                     `body_hash` or `url_hash`",
                ));
            }
        }
        let with_url = |values: &[String], key: &str| -> Result<Vec<String>, VerifierConfigError> {
            values
                .iter()
                .map(|v| match (v.as_str(), public_url) {
                    (PUBLIC_URL, Some(url)) => Ok(url.to_owned()),
                    (PUBLIC_URL, None) => Err(recipe_error(format!(
                        "`{key}` uses {PUBLIC_URL}: set the source's `public_url`"
                    ))),
                    _ => Ok(v.clone()),
                })
                .collect()
        };
        let mut claims = Vec::with_capacity(c.claims.len());
        for (name, values) in &c.claims {
            if values.is_empty() {
                return Err(recipe_error(format!(
                    "claim `{name}` has no accepted value: set it in the source, e.g. \
                     jwt = {{ claims = {{ {name} = \"…\" }} }}"
                )));
            }
            claims.push((name.clone(), with_url(values, &format!("claims.{name}"))?));
        }
        if c.url_hash.is_some() && public_url.is_none() {
            return Err(recipe_error(
                "`url_hash` needs the source's `public_url` (the URL the provider calls)",
            ));
        }
        let keys = match &c.jwks_url {
            Some(raw) => {
                if hmac != 0 {
                    return Err(recipe_error(
                        "a key set (`jwks_url`) holds public keys: `algorithms` must not be HMAC",
                    ));
                }
                if !secrets.is_empty() {
                    return Err(recipe_error(
                        "with `jwks_url` the keys are fetched: the source takes no secrets",
                    ));
                }
                let url = Url::parse(raw).map_err(|_| recipe_error("`jwks_url` is not a URL"))?;
                let host = url
                    .host_str()
                    .ok_or_else(|| recipe_error("`jwks_url` has no host"))?;
                // The one host this source may call: the configured URL's own.
                let host = match url.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host.to_owned(),
                };
                let allowed = HostAllowList::parse(&[host])
                    .map_err(|e| recipe_error(format!("`jwks_url`: {e}")))?;
                if !allowed.allows(&url) {
                    return Err(recipe_error("`jwks_url` must be an https URL"));
                }
                if c.jwks_ttl_secs == 0 {
                    return Err(recipe_error("`jwks_ttl_secs` must be above 0"));
                }
                let policy = CachePolicy {
                    ttl: Duration::from_secs(c.jwks_ttl_secs),
                    min_refetch: Duration::from_secs(c.jwks_min_refetch_secs),
                    max_entries: 1,
                };
                KeySource::Remote {
                    url,
                    docs: RemoteDocs::new(fetcher.clone(), parse_jwks, policy),
                }
            }
            None if hmac != 0 => KeySource::Static(
                secrets
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        keys::decode(i, c.key_encoding, "", s.expose())
                            .map(|k| DecodingKey::from_secret(&k))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            None => KeySource::Static(
                secrets
                    .iter()
                    .enumerate()
                    .map(|(i, s)| public_key(i, s.expose(), &c.algorithms))
                    .collect::<Result<_, _>>()?,
            ),
        };
        let hash_rule = |h: &Option<HashClaim>| {
            h.as_ref().map(|h| HashRule {
                claim: h.claim.clone(),
                encoding: h.encoding,
            })
        };
        Ok(JwtVerifier {
            place,
            error_place,
            detached: c.detached,
            algorithms: c.algorithms.clone(),
            keys,
            issuer: with_url(&c.issuer, "issuer")?,
            audience: with_url(&c.audience, "audience")?,
            claims,
            leeway: i64::try_from(c.leeway_secs).unwrap_or(i64::MAX),
            require_exp: c.require_exp,
            max_age: c.max_age_secs.map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
            body_hash: hash_rule(&c.body_hash),
            url_hash: hash_rule(&c.url_hash),
            public_url: public_url.map(|u| u.trim_end_matches('?').to_owned()),
            event_claim: c.event_claim.clone(),
        })
    }

    /// `jwt:<header>`, `jwt:body` or `jws-detached:<header>`: how the delivery was checked.
    pub(super) fn label(&self) -> String {
        let kind = if self.detached { "jws-detached" } else { "jwt" };
        match &self.place {
            Place::Header { name, .. } => format!("{kind}:{name}"),
            Place::Body => format!("{kind}:body"),
        }
    }

    /// Whether checking needs a fetched key set (then only the async path can).
    pub(super) fn fetches(&self) -> bool {
        matches!(self.keys, KeySource::Remote { .. })
    }

    /// Checks the delivery; returns it (with the claims as its body for `body` tokens) and
    /// the index of the secret that matched (none for a fetched key set).
    pub(super) async fn verify(
        &self,
        inbound: Inbound,
        now_unix: i64,
    ) -> Result<(Inbound, Option<usize>), AuthError> {
        let token = self.token(&inbound)?;
        let parsed = self.parse(&token)?;
        let key_index = match &self.keys {
            KeySource::Static(keys) => Some(self.check_static(keys, &parsed, &inbound)?),
            KeySource::Remote { url, docs } => {
                let unavailable = |e: super::remote::RemoteError| {
                    AuthError::KeyUnavailable(format!("key set: {e}"))
                };
                let set = docs.get(url).await.map_err(unavailable)?;
                let set = match (&parsed.kid, has_kid(&set, parsed.kid.as_deref())) {
                    // A key id the set does not hold: the provider may have rotated.
                    (Some(_), false) => docs.refresh(url).await.map_err(unavailable)?,
                    _ => set,
                };
                if !has_kid(&set, parsed.kid.as_deref()) {
                    return Err(AuthError::UnknownKey(self.error_place.clone()));
                }
                self.check_set(&set, &parsed, &inbound)?;
                None
            }
        };
        let inbound = self.check_claims(&parsed, inbound, now_unix)?;
        Ok((inbound, key_index))
    }

    /// The synchronous check, for sources whose keys are configured.
    pub(super) fn verify_sync(
        &self,
        inbound: Inbound,
        now_unix: i64,
    ) -> Result<(Inbound, Option<usize>), AuthError> {
        let KeySource::Static(keys) = &self.keys else {
            return Err(AuthError::KeyUnavailable(
                "this source's keys live at a URL, which only the running gateway fetches"
                    .to_owned(),
            ));
        };
        let token = self.token(&inbound)?;
        let parsed = self.parse(&token)?;
        let index = self.check_static(keys, &parsed, &inbound)?;
        let inbound = self.check_claims(&parsed, inbound, now_unix)?;
        Ok((inbound, Some(index)))
    }

    fn malformed(&self, reason: &'static str) -> AuthError {
        AuthError::MalformedSignature {
            place: self.error_place.clone(),
            reason,
        }
    }

    /// The token's text, from its header (after the scheme) or the body.
    fn token(&self, inbound: &Inbound) -> Result<String, AuthError> {
        let missing = || AuthError::MissingSignature(self.error_place.clone());
        let raw: &[u8] = match &self.place {
            Place::Header { name, scheme } => {
                let value = inbound.headers.get(name).ok_or_else(missing)?.as_bytes();
                if value.len() > MAX_HEADER_TOKEN_BYTES {
                    return Err(self.malformed("the token is too long"));
                }
                match scheme {
                    Some(scheme) => {
                        let (word, rest) = split_scheme(value).ok_or_else(missing)?;
                        if !word.eq_ignore_ascii_case(scheme.as_bytes()) {
                            return Err(missing());
                        }
                        rest
                    }
                    None => value,
                }
            }
            Place::Body => &inbound.body,
        };
        let raw = raw.trim_ascii();
        if raw.is_empty() {
            return Err(missing());
        }
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| self.malformed("the token is not text"))
    }

    fn parse(&self, token: &str) -> Result<Parsed, AuthError> {
        let mut parts = token.split('.');
        let (Some(protected), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(self.malformed("a JWT is three base64url parts separated by `.`"));
        };
        if self.detached != payload.is_empty() {
            return Err(self.malformed(if self.detached {
                "a detached JWS has an empty middle part"
            } else {
                "the token has no payload"
            }));
        }
        let header_bytes = URL_SAFE_NO_PAD
            .decode(protected)
            .map_err(|_| self.malformed("the protected header is not base64url"))?;
        if header_bytes.len() > MAX_PROTECTED_HEADER_BYTES {
            return Err(self.malformed("the protected header is too long"));
        }
        let header: Protected = serde_json::from_slice(&header_bytes)
            .map_err(|_| self.malformed("the protected header is not a JOSE header"))?;
        let alg = header
            .alg
            .parse::<Alg>()
            .ok()
            .filter(|a| self.algorithms.contains(a))
            .ok_or_else(|| self.malformed("the token's algorithm is not accepted"))?;
        let unencoded = header.b64 == Some(false);
        for name in header.crit.iter().flatten() {
            if !(name == "b64" && self.detached) {
                return Err(
                    self.malformed("the token has a critical header this gateway does not know")
                );
            }
        }
        if unencoded && !(self.detached && header.crit.iter().flatten().any(|c| c == "b64")) {
            return Err(self.malformed(
                "`b64: false` is accepted only in a detached JWS that lists it in `crit`",
            ));
        }
        if URL_SAFE_NO_PAD.decode(signature).is_err() {
            return Err(self.malformed("the signature is not base64url"));
        }
        let claims = if self.detached {
            None
        } else {
            let bytes = URL_SAFE_NO_PAD
                .decode(payload)
                .map_err(|_| self.malformed("the payload is not base64url"))?;
            let map: Map<String, Value> = serde_json::from_slice(&bytes)
                .map_err(|_| self.malformed("the payload is not a JSON object"))?;
            Some((map, bytes))
        };
        Ok(Parsed {
            alg,
            kid: header.kid,
            protected: protected.to_owned(),
            payload: payload.to_owned(),
            signature: signature.to_owned(),
            unencoded,
            claims,
        })
    }

    /// The bytes the signature covers.
    fn signing_input(&self, parsed: &Parsed, inbound: &Inbound) -> Vec<u8> {
        let mut input = Vec::with_capacity(parsed.protected.len() + 1 + inbound.body.len());
        input.extend_from_slice(parsed.protected.as_bytes());
        input.push(b'.');
        match (self.detached, parsed.unencoded) {
            (true, true) => input.extend_from_slice(&inbound.body),
            (true, false) => {
                input.extend_from_slice(URL_SAFE_NO_PAD.encode(&inbound.body).as_bytes())
            }
            (false, _) => input.extend_from_slice(parsed.payload.as_bytes()),
        }
        input
    }

    /// Every configured key of the token's family is tried, so timing does not tell which
    /// matched; the first that did is returned.
    fn check_static(
        &self,
        keys: &[DecodingKey],
        parsed: &Parsed,
        inbound: &Inbound,
    ) -> Result<usize, AuthError> {
        let input = self.signing_input(parsed, inbound);
        let mut matched = None;
        for (i, key) in keys.iter().enumerate() {
            if key.family() == parsed.alg.family()
                && verifies(parsed, &input, key)
                && matched.is_none()
            {
                matched = Some(i);
            }
        }
        matched.ok_or_else(|| AuthError::SignatureMismatch(self.error_place.clone()))
    }

    fn check_set(&self, set: &KeySet, parsed: &Parsed, inbound: &Inbound) -> Result<(), AuthError> {
        let input = self.signing_input(parsed, inbound);
        let ok = set
            .keys
            .iter()
            .filter(|k| parsed.kid.is_none() || k.kid == parsed.kid)
            .filter(|k| k.key.family() == parsed.alg.family())
            .filter(|k| k.alg.is_none_or(|a| a == parsed.alg))
            .any(|k| verifies(parsed, &input, &k.key));
        if ok {
            Ok(())
        } else {
            Err(AuthError::SignatureMismatch(self.error_place.clone()))
        }
    }

    fn check_claims(
        &self,
        parsed: &Parsed,
        mut inbound: Inbound,
        now: i64,
    ) -> Result<Inbound, AuthError> {
        let Some((claims, payload)) = &parsed.claims else {
            return Ok(inbound);
        };
        let invalid = |claim: &str, reason: &'static str| AuthError::InvalidClaim {
            claim: claim.to_owned(),
            reason,
        };
        let time = |name: &'static str| -> Result<Option<i64>, AuthError> {
            match claims.get(name) {
                None => Ok(None),
                // Some issuers write fractions of a second; the whole seconds count.
                Some(v) => v
                    .as_i64()
                    .or_else(|| {
                        v.as_f64()
                            .filter(|f| f.is_finite())
                            .map(|f| f.floor() as i64)
                    })
                    .map(Some)
                    .ok_or_else(|| invalid(name, "is not a number of seconds")),
            }
        };
        match time("exp")? {
            Some(exp) if now.saturating_sub(self.leeway) >= exp => {
                return Err(AuthError::ExpiredToken {
                    secs_ago: now.saturating_sub(exp),
                })
            }
            None if self.require_exp => return Err(invalid("exp", "is missing")),
            _ => {}
        }
        for name in ["nbf", "iat"] {
            if let Some(t) = time(name)? {
                if t > now.saturating_add(self.leeway) {
                    return Err(AuthError::PrematureToken {
                        claim: name,
                        secs_ahead: t.saturating_sub(now),
                    });
                }
            }
        }
        if let Some(max_age) = self.max_age {
            let iat = time("iat")?.ok_or_else(|| invalid("iat", "is missing"))?;
            let age = now.saturating_sub(iat);
            if age > max_age.saturating_add(self.leeway) {
                return Err(AuthError::ExpiredToken {
                    secs_ago: age.saturating_sub(max_age),
                });
            }
        }
        if !self.issuer.is_empty() {
            match claims.get("iss") {
                None => return Err(invalid("iss", "is missing")),
                Some(v) if !one_of(v, &self.issuer) => {
                    return Err(invalid("iss", "is not an accepted issuer"))
                }
                _ => {}
            }
        }
        if !self.audience.is_empty() {
            let ok = match claims.get("aud") {
                None => return Err(invalid("aud", "is missing")),
                Some(Value::Array(items)) => items.iter().any(|v| one_of(v, &self.audience)),
                Some(v) => one_of(v, &self.audience),
            };
            if !ok {
                return Err(invalid("aud", "is not an accepted audience"));
            }
        }
        for (name, accepted) in &self.claims {
            match claims.get(name) {
                None => return Err(invalid(name, "is missing")),
                Some(v) if !one_of(v, accepted) => {
                    return Err(invalid(name, "does not have an accepted value"))
                }
                _ => {}
            }
        }
        if let Some(rule) = &self.body_hash {
            check_hash(
                claims,
                rule,
                &inbound.body,
                "does not match the SHA-256 of the body",
            )?;
        }
        if let (Some(rule), Some(base)) = (&self.url_hash, &self.public_url) {
            let url = match inbound.uri.query() {
                Some(q) if !base.contains('?') => format!("{base}?{q}"),
                _ => base.clone(),
            };
            check_hash(
                claims,
                rule,
                url.as_bytes(),
                "does not match the SHA-256 of the URL",
            )?;
        }
        if matches!(self.place, Place::Body) {
            let event: Vec<u8> = match &self.event_claim {
                None => payload.clone(),
                Some(name) => match claims.get(name) {
                    Some(Value::String(s)) => s.as_bytes().to_vec(),
                    Some(v @ Value::Object(_)) => v.to_string().into_bytes(),
                    _ => return Err(invalid(name, "is missing or holds no event")),
                },
            };
            inbound.body = event.into();
            inbound
                .headers
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            inbound.headers.remove(CONTENT_LENGTH);
        }
        Ok(inbound)
    }
}

fn has_kid(set: &KeySet, kid: Option<&str>) -> bool {
    match kid {
        Some(kid) => set.keys.iter().any(|k| k.kid.as_deref() == Some(kid)),
        None => true,
    }
}

fn verifies(parsed: &Parsed, input: &[u8], key: &DecodingKey) -> bool {
    jsonwebtoken::crypto::verify(&parsed.signature, input, key, parsed.alg).unwrap_or(false)
}

/// `Bearer abc` → (`Bearer`, `abc`).
fn split_scheme(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let value = value.trim_ascii_start();
    let space = value.iter().position(|b| *b == b' ')?;
    Some((&value[..space], &value[space + 1..]))
}

/// Whether a claim equals one of `accepted` (strings as they are; numbers and booleans as
/// their JSON text).
fn one_of(value: &Value, accepted: &[String]) -> bool {
    match value {
        Value::String(s) => accepted.iter().any(|a| a == s),
        Value::Bool(_) | Value::Number(_) => {
            let text = value.to_string();
            accepted.contains(&text)
        }
        _ => false,
    }
}

fn check_hash(
    claims: &Map<String, Value>,
    rule: &HashRule,
    content: &[u8],
    mismatch: &'static str,
) -> Result<(), AuthError> {
    let invalid = |reason| AuthError::InvalidClaim {
        claim: rule.claim.clone(),
        reason,
    };
    let text = claims
        .get(&rule.claim)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("is missing"))?;
    let sent = match rule.encoding {
        Encoding::Hex => hex::decode(text).ok(),
        Encoding::Base64 => BASE64_LENIENT.decode(text).ok(),
        Encoding::Base64Url => BASE64_URL_LENIENT.decode(text).ok(),
    }
    .ok_or_else(|| invalid("is not an encoded SHA-256 digest"))?;
    let digest = Sha256::digest(content);
    if bool::from(digest[..].ct_eq(&sent)) {
        Ok(())
    } else {
        Err(invalid(mismatch))
    }
}

/// A configured public key (PEM, or DER in base64 for RSA) for the first family of
/// `algorithms` it reads as. RSA keys must have at least 2048 bits.
fn public_key(
    index: usize,
    raw: &[u8],
    algorithms: &[Alg],
) -> Result<DecodingKey, VerifierConfigError> {
    let families: Vec<AlgorithmFamily> = algorithms.iter().map(|a| a.family()).collect();
    let mut first_error = None;
    for family in [
        AlgorithmFamily::Rsa,
        AlgorithmFamily::Ec,
        AlgorithmFamily::Ed,
    ] {
        if !families.contains(&family) {
            continue;
        }
        let key = match family {
            AlgorithmFamily::Rsa => {
                keys::rsa_public_key(index, KeyEncoding::Base64, "", raw).map(|k| {
                    DecodingKey::from_rsa_raw_components(&k.n().to_bytes_be(), &k.e().to_bytes_be())
                })
            }
            AlgorithmFamily::Ec => {
                DecodingKey::from_ec_pem(raw).map_err(|_| VerifierConfigError::Key {
                    index,
                    reason: "is not an EC public key in PEM (`BEGIN PUBLIC KEY`)",
                })
            }
            _ => DecodingKey::from_ed_pem(raw).map_err(|_| VerifierConfigError::Key {
                index,
                reason: "is not an Ed25519 public key in PEM (`BEGIN PUBLIC KEY`)",
            }),
        };
        match key {
            Ok(k) => return Ok(k),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(VerifierConfigError::Key {
        index,
        reason: "is not a public key for the accepted algorithms",
    }))
}

/// The JOSE header fields read here; others are ignored unless listed in `crit`.
#[derive(Deserialize)]
struct Protected {
    alg: String,
    kid: Option<String>,
    b64: Option<bool>,
    crit: Option<Vec<String>>,
}

/// A token split and decoded, not yet trusted.
struct Parsed {
    alg: Alg,
    kid: Option<String>,
    protected: String,
    payload: String,
    signature: String,
    unencoded: bool,
    /// The claims and the decoded payload bytes (none for a detached JWS).
    claims: Option<(Map<String, Value>, Vec<u8>)>,
}

/// Splits and decodes untrusted token bytes as the verifier does, without keys (for the fuzz
/// target): errors only, never a panic.
pub fn parse_untrusted(token: &[u8], detached: bool) -> Result<(), AuthError> {
    let mut c = JwtConfig::bearer(&[Alg::HS256, Alg::HS384, Alg::HS512]);
    c.header = Some("x-token".to_owned());
    c.scheme = None;
    c.detached = detached;
    let v = JwtVerifier::new(
        &c,
        &[Secret::new(b"k".to_vec())],
        None,
        &Fetcher::default_shared(),
    )
    .map_err(|_| AuthError::MissingCredentials("a fuzz verifier"))?;
    let token = std::str::from_utf8(token).map_err(|_| v.malformed("not text"))?;
    v.parse(token).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::auth::{AuthConfig, Verifier};
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const RSA_PRIVATE: &str = include_str!("../../../tests/fixtures/jwt/rsa-private.pem");
    const RSA_PUBLIC: &str = include_str!("../../../tests/fixtures/jwt/rsa-public.pem");
    const RSA2_PRIVATE: &str = include_str!("../../../tests/fixtures/jwt/rsa2-private.pem");
    const RSA2_PUBLIC: &str = include_str!("../../../tests/fixtures/jwt/rsa2-public.pem");
    const EC_PRIVATE: &str = include_str!("../../../tests/fixtures/jwt/ec-private.pem");
    const EC_PUBLIC: &str = include_str!("../../../tests/fixtures/jwt/ec-public.pem");
    const ED_PRIVATE: &str = include_str!("../../../tests/fixtures/jwt/ed-private.pem");
    const ED_PUBLIC: &str = include_str!("../../../tests/fixtures/jwt/ed-public.pem");
    const JWKS_BOTH: &str = include_str!("../../../tests/data/jwt/jwks-both.json");
    const NOW: i64 = 1_700_000_000;

    use crate::ingest::auth::tests::{inbound, secrets};

    fn sign(alg: Alg, key: &EncodingKey, claims: &Value) -> String {
        encode(&Header::new(alg), claims, key).expect("sign")
    }

    fn hs(secret: &str) -> EncodingKey {
        EncodingKey::from_secret(secret.as_bytes())
    }

    /// Verifies with `config` and `keys`; the key index or the error code.
    fn check(
        config: &JwtConfig,
        keys: &[&str],
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Option<usize>, &'static str> {
        let v = Verifier::new(
            &AuthConfig::Jwt(config.clone()),
            secrets(keys),
            Some("https://hooks.example.com/in"),
        )
        .expect("verifier");
        v.verify_sync(inbound(headers, body), NOW)
            .map(|ok| ok.verification().key_index)
            .map_err(|e| e.code())
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    #[test]
    fn hmac_tokens_check_signature_times_and_claims() {
        let mut c = JwtConfig::bearer(&[Alg::HS256]);
        c.issuer = vec!["Upstash".into()];
        c.audience = vec!["{public_url}".into()];
        c.claims.insert("email".into(), vec!["a@b.c".into()]);
        c.require_exp = true;
        let good = json!({"iss": "Upstash", "aud": ["x", "https://hooks.example.com/in"],
            "email": "a@b.c", "exp": NOW + 300, "nbf": NOW, "iat": NOW});
        let token = sign(Alg::HS256, &hs("second"), &good);
        let h = bearer(&token);
        assert_eq!(
            check(&c, &["first", "second"], &[("authorization", &h)], "{}"),
            Ok(Some(1))
        );
        // The scheme is case-insensitive; without it the token is missing.
        let lower = format!("bearer {token}");
        assert_eq!(
            check(&c, &["second"], &[("authorization", &lower)], "{}"),
            Ok(Some(0))
        );
        assert_eq!(
            check(&c, &["second"], &[("authorization", &token)], "{}"),
            Err("missing_signature")
        );
        assert_eq!(check(&c, &["second"], &[], "{}"), Err("missing_signature"));
        assert_eq!(
            check(&c, &["other"], &[("authorization", &h)], "{}"),
            Err("invalid_signature")
        );

        let refused = |claims: Value| {
            let h = bearer(&sign(Alg::HS256, &hs("k"), &claims));
            check(&c, &["k"], &[("authorization", &h)], "{}")
        };
        let with = |k: &str, v: Value| {
            let mut claims = good.clone();
            claims[k] = v;
            claims
        };
        let without = |k: &str| {
            let mut claims = good.clone();
            claims.as_object_mut().expect("object").remove(k);
            claims
        };
        assert_eq!(refused(with("exp", json!(NOW - 61))), Err("expired_token"));
        assert_eq!(
            refused(with("exp", json!(NOW - 59))),
            Ok(Some(0)),
            "within the leeway"
        );
        assert_eq!(refused(with("exp", json!("soon"))), Err("invalid_claim"));
        assert_eq!(refused(without("exp")), Err("invalid_claim"));
        assert_eq!(
            refused(with("nbf", json!(NOW + 61))),
            Err("token_not_yet_valid")
        );
        assert_eq!(
            refused(with("iat", json!(NOW + 61))),
            Err("token_not_yet_valid")
        );
        assert_eq!(
            refused(with("iss", json!("Upstash2"))),
            Err("invalid_claim")
        );
        assert_eq!(refused(without("iss")), Err("invalid_claim"));
        assert_eq!(
            refused(with("aud", json!("https://hooks.example.com/other"))),
            Err("invalid_claim")
        );
        assert_eq!(
            refused(with("aud", json!("https://hooks.example.com/in"))),
            Ok(Some(0))
        );
        assert_eq!(refused(with("email", json!("x@b.c"))), Err("invalid_claim"));
        assert_eq!(refused(without("email")), Err("invalid_claim"));
    }

    #[test]
    fn algorithms_off_the_list_and_none_are_refused() {
        let c = JwtConfig::bearer(&[Alg::HS256]);
        let claims = json!({"sub": "x"});
        let hs512 = bearer(&sign(Alg::HS512, &hs("k"), &claims));
        assert_eq!(
            check(&c, &["k"], &[("authorization", &hs512)], "{}"),
            Err("malformed_signature")
        );
        // `alg: none` with an empty signature: never accepted.
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
        let none = bearer(&format!("{none_header}.{payload}."));
        assert_eq!(
            check(&c, &["k"], &[("authorization", &none)], "{}"),
            Err("malformed_signature")
        );
        // An RS256 token against HMAC secrets (the classic confusion) is off the list too.
        let rs = bearer(&sign(
            Alg::RS256,
            &EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).expect("key"),
            &claims,
        ));
        assert_eq!(
            check(&c, &[RSA_PUBLIC], &[("authorization", &rs)], "{}"),
            Err("malformed_signature")
        );
        for bad in [
            "a.b",
            "a.b.c.d",
            "%%%.e30.AA",
            "e30.e30.AA",
            "eyJhbGciOiJIUzI1NiJ9.e30.!!",
        ] {
            assert_eq!(
                check(&c, &["k"], &[("authorization", &bearer(bad))], "{}"),
                Err("malformed_signature"),
                "{bad}"
            );
        }
        // The list never mixes HMAC with public-key algorithms.
        let mixed = AuthConfig::Jwt(JwtConfig::bearer(&[Alg::HS256, Alg::RS256]));
        let err = Verifier::new(&mixed, secrets(&["k"]), None).expect_err("mixed");
        assert!(err.to_string().contains("must not mix"), "{err}");
    }

    #[test]
    fn public_keys_in_pem_verify_rsa_pss_ec_and_eddsa() {
        let claims = json!({"iss": "me"});
        let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).expect("rsa");
        let cases = [
            (Alg::RS256, sign(Alg::RS256, &rsa, &claims), RSA_PUBLIC),
            (Alg::RS512, sign(Alg::RS512, &rsa, &claims), RSA_PUBLIC),
            (Alg::PS256, sign(Alg::PS256, &rsa, &claims), RSA_PUBLIC),
            (
                Alg::ES256,
                sign(
                    Alg::ES256,
                    &EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).expect("ec"),
                    &claims,
                ),
                EC_PUBLIC,
            ),
            (
                Alg::EdDSA,
                sign(
                    Alg::EdDSA,
                    &EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).expect("ed"),
                    &claims,
                ),
                ED_PUBLIC,
            ),
        ];
        for (alg, token, public) in &cases {
            let c = JwtConfig::bearer(&[*alg]);
            let h = bearer(token);
            assert_eq!(
                check(&c, &[public], &[("authorization", &h)], "{}"),
                Ok(Some(0)),
                "{alg:?}"
            );
            let mut tampered = token.clone();
            tampered.insert(token.find('.').expect("dot") + 2, 'A');
            assert_ne!(
                check(
                    &c,
                    &[public],
                    &[("authorization", &bearer(&tampered))],
                    "{}"
                ),
                Ok(Some(0)),
                "{alg:?}"
            );
        }
        // Rotation: the second configured RSA key matches; a token of the other key does not.
        let c = JwtConfig::bearer(&[Alg::RS256]);
        let rsa2 = EncodingKey::from_rsa_pem(RSA2_PRIVATE.as_bytes()).expect("rsa2");
        let h = bearer(&sign(Alg::RS256, &rsa2, &claims));
        assert_eq!(
            check(
                &c,
                &[RSA_PUBLIC, RSA2_PUBLIC],
                &[("authorization", &h)],
                "{}"
            ),
            Ok(Some(1))
        );
        assert_eq!(
            check(&c, &[RSA_PUBLIC], &[("authorization", &h)], "{}"),
            Err("invalid_signature")
        );
        // An RSA key below 2048 bits is refused at start-up.
        let small = include_str!("../../../tests/fixtures/rsa/spki-1024.pem");
        let err = Verifier::new(
            &AuthConfig::Jwt(JwtConfig::bearer(&[Alg::RS256])),
            secrets(&[small]),
            None,
        )
        .expect_err("small");
        assert!(err.to_string().contains("2048"), "{err}");
    }

    #[test]
    fn body_and_url_hashes_are_checked() {
        let mut c = JwtConfig::bearer(&[Alg::HS256]);
        c.body_hash = Some(HashClaim {
            claim: "payload_hash".into(),
            encoding: Encoding::Hex,
        });
        c.url_hash = Some(HashClaim {
            claim: "url_hash".into(),
            encoding: Encoding::Base64Url,
        });
        let body = r#"{"a":1}"#;
        let body_hex = hex::encode(Sha256::digest(body));
        let url = "https://hooks.example.com/in?x=1";
        let url_b64 = URL_SAFE_NO_PAD.encode(Sha256::digest(url));
        let token = |b: &str, u: &str| {
            bearer(&sign(
                Alg::HS256,
                &hs("k"),
                &json!({"payload_hash": b, "url_hash": u}),
            ))
        };
        let mut req = inbound(&[("authorization", &token(&body_hex, &url_b64))], body);
        req.uri = "/webhooks/x?x=1".parse().expect("uri");
        let v = Verifier::new(
            &AuthConfig::Jwt(c.clone()),
            secrets(&["k"]),
            Some("https://hooks.example.com/in"),
        )
        .expect("v");
        assert!(v.verify_sync(req, NOW).is_ok());
        let mut other_query = inbound(&[("authorization", &token(&body_hex, &url_b64))], body);
        other_query.uri = "/webhooks/x?x=2".parse().expect("uri");
        let err = v.verify_sync(other_query, NOW).expect_err("url");
        assert_eq!(
            err.to_string(),
            "token claim `url_hash` does not match the SHA-256 of the URL"
        );
        let err = v
            .verify_sync(
                inbound(
                    &[("authorization", &token(&body_hex, &url_b64))],
                    r#"{"a":2}"#,
                ),
                NOW,
            )
            .expect_err("body");
        assert_eq!(
            err.to_string(),
            "token claim `payload_hash` does not match the SHA-256 of the body"
        );
        // url_hash needs the public URL.
        let err = Verifier::new(&AuthConfig::Jwt(c), secrets(&["k"]), None).expect_err("no url");
        assert!(err.to_string().contains("public_url"), "{err}");
    }

    #[test]
    fn a_token_body_becomes_the_event() {
        let mut c = JwtConfig::bearer(&[Alg::RS256]);
        c.header = None;
        c.scheme = None;
        c.body = true;
        let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).expect("rsa");
        let token = sign(
            Alg::RS256,
            &rsa,
            &json!({"type": "user.created", "data": {"id": 1}}),
        );
        let v =
            Verifier::new(&AuthConfig::Jwt(c.clone()), secrets(&[RSA_PUBLIC]), None).expect("v");
        let ok = v
            .verify_sync(
                inbound(
                    &[("content-type", "application/jwt")],
                    &format!("{token}\n"),
                ),
                NOW,
            )
            .expect("verified");
        let event: Value = serde_json::from_slice(&ok.inbound().body).expect("json");
        assert_eq!(event["type"], "user.created");
        assert_eq!(ok.inbound().headers[CONTENT_TYPE], "application/json");
        assert_eq!(&*ok.verification().method, "jwt:body");
        // A claim that is a JSON string of the event (Wix's `data`).
        c.event_claim = Some("data".into());
        let inner = json!({"eventType": "x", "instanceId": "i"}).to_string();
        let token = sign(Alg::RS256, &rsa, &json!({"data": inner}));
        let v = Verifier::new(&AuthConfig::Jwt(c), secrets(&[RSA_PUBLIC]), None).expect("v");
        let ok = v.verify_sync(inbound(&[], &token), NOW).expect("verified");
        assert_eq!(&ok.inbound().body[..], inner.as_bytes());
        let err = v
            .verify_sync(inbound(&[], "{}"), NOW)
            .expect_err("not a token");
        assert_eq!(err.code(), "malformed_signature");
        assert!(!err.to_string().contains("{}"));
    }

    #[test]
    fn detached_unencoded_jws_signs_the_raw_body() {
        let mut c = JwtConfig::bearer(&[Alg::RS256]);
        c.header = Some("Saleor-Signature".into());
        c.scheme = None;
        c.detached = true;
        let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).expect("rsa");
        let body = r#"{"__typename": "OrderCreated"}"#;
        let protected =
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","b64":false,"crit":["b64"],"kid":"k1"}"#);
        let sig =
            jsonwebtoken::crypto::sign(format!("{protected}.{body}").as_bytes(), &rsa, Alg::RS256)
                .expect("sign");
        let jws = format!("{protected}..{sig}");
        assert_eq!(
            check(&c, &[RSA_PUBLIC], &[("saleor-signature", &jws)], body),
            Ok(Some(0))
        );
        assert_eq!(
            check(
                &c,
                &[RSA_PUBLIC],
                &[("saleor-signature", &jws)],
                r#"{"forged": "payload"}"#
            ),
            Err("invalid_signature")
        );
        // b64:false must be declared critical, and only detached tokens may use it.
        let lax = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","b64":false}"#);
        let sig = jsonwebtoken::crypto::sign(format!("{lax}.{body}").as_bytes(), &rsa, Alg::RS256)
            .expect("sign");
        assert_eq!(
            check(
                &c,
                &[RSA_PUBLIC],
                &[("saleor-signature", &format!("{lax}..{sig}"))],
                body
            ),
            Err("malformed_signature")
        );
        // A detached recipe takes no claims.
        c.require_exp = true;
        assert!(Verifier::new(&AuthConfig::Jwt(c), secrets(&[RSA_PUBLIC]), None).is_err());
    }

    #[test]
    fn key_sets_keep_usable_signing_keys_by_id() {
        let set = parse_jwks(JWKS_BOTH.as_bytes()).expect("set");
        assert_eq!(set.kids(), ["test-key-1", "test-key-2"]);
        let mixed = json!({"keys": [
            {"kty": "RSA", "use": "enc", "kid": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "small", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "crv": "P-256", "kid": "ec", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "weird"},
            "not a key"
        ]});
        let set = parse_jwks(mixed.to_string().as_bytes()).expect("set");
        assert_eq!(set.kids(), ["ec"]);
        for bad in [
            &b"[]"[..],
            b"{}",
            b"{\"keys\": []}",
            b"\xff",
            b"{\"keys\": [{\"kty\": \"oct\", \"k\": \"AA\"}]}",
        ] {
            assert!(parse_jwks(bad).is_err(), "{bad:?}");
        }
        let many = json!({"keys": vec![json!({}); MAX_JWKS_KEYS + 1]});
        assert!(parse_jwks(many.to_string().as_bytes()).is_err());
    }

    #[test]
    fn start_up_checks_name_the_problem() {
        let err = |c: JwtConfig, keys: &[&str], url: Option<&str>| {
            Verifier::new(&AuthConfig::Jwt(c), secrets(keys), url)
                .expect_err("refused")
                .to_string()
        };
        let mut c = JwtConfig::bearer(&[Alg::RS256]);
        c.jwks_url = Some("https://keys.example.com/jwks".into());
        assert!(err(c.clone(), &["x"], None).contains("takes no secrets"));
        c.jwks_url = Some("http://keys.example.com/jwks".into());
        assert!(err(c.clone(), &[], None).contains("https"));
        let mut c = JwtConfig::bearer(&[Alg::HS256]);
        c.jwks_url = Some("https://keys.example.com/jwks".into());
        assert!(err(c, &[], None).contains("must not be HMAC"));
        let mut c = JwtConfig::bearer(&[]);
        assert!(err(c.clone(), &["k"], None).contains("at least one"));
        c.algorithms = vec![Alg::HS256];
        c.claims.insert("email".into(), vec![]);
        assert!(err(c.clone(), &["k"], None).contains("claims = { email"));
        c.claims.clear();
        c.audience = vec!["{public_url}".into()];
        assert!(err(c.clone(), &["k"], None).contains("public_url"));
        c.body = true;
        assert!(err(c, &["k"], None).contains("exactly one of"));
        // The debug form shows no key.
        let v = Verifier::new(
            &AuthConfig::Jwt(JwtConfig::bearer(&[Alg::HS256])),
            secrets(&["s3cret-key"]),
            None,
        )
        .expect("v");
        assert!(!format!("{v:?}").contains("s3cret"));
    }

    #[test]
    fn errors_never_echo_the_token() {
        let c = JwtConfig::bearer(&[Alg::HS256]);
        let token = sign(Alg::HS256, &hs("k"), &json!({"email": "who@example.com"}));
        let v = Verifier::new(&AuthConfig::Jwt(c), secrets(&["other"]), None).expect("v");
        let err = v
            .verify_sync(inbound(&[("authorization", &bearer(&token))], "{}"), NOW)
            .expect_err("wrong key");
        let text = format!("{err} {err:?}");
        assert!(
            !text.contains(&token[..20]) && !text.contains("who@"),
            "{text}"
        );
    }

    #[test]
    fn config_reads_single_values_and_lists() {
        let c: AuthConfig = toml::from_str(
            r#"
            type = "jwt"
            header = "Authorization"
            scheme = "Bearer"
            algorithms = ["RS256"]
            jwks_url = "https://www.googleapis.com/oauth2/v3/certs"
            issuer = ["https://accounts.google.com", "accounts.google.com"]
            audience = "https://hooks.example.com/pubsub"
            claims = { email = "push@p.iam.gserviceaccount.com", email_verified = "true" }
            "#,
        )
        .expect("config");
        let AuthConfig::Jwt(c) = c else { panic!("jwt") };
        assert_eq!(c.audience, ["https://hooks.example.com/pubsub"]);
        assert_eq!(c.claims["email"], ["push@p.iam.gserviceaccount.com"]);
        assert!(!c.uses_secrets());
        assert!(toml::from_str::<AuthConfig>("type = \"jwt\"\nalgorithms = [\"none\"]").is_err());
        // A source's own algorithms replace its preset's (FusionAuth signed with an RSA key).
        let o: JwtOverrides = toml::from_str(
            "algorithms = [\"RS256\", \"ES256\"]\njwks_url = \"https://id.example.com/.well-known/jwks.json\"",
        )
        .expect("overrides");
        let mut c = JwtConfig::bearer(&[Alg::HS256]);
        c.apply(&o);
        assert_eq!(c.algorithms, [Alg::RS256, Alg::ES256]);
        assert!(!c.uses_secrets());
        assert!(toml::from_str::<JwtOverrides>("algorithms = [\"none\"]").is_err());
    }
}
