//! Signatures checked with an X.509 certificate that the request names by URL (AWS SNS's
//! `SigningCertURL`, PayPal's `PAYPAL-CERT-URL`): one data-driven recipe, [`CertificateUrlConfig`].
//!
//! Owns: reading the certificate URL, the signature, the algorithm and the signed content from
//! a request; the host allow-list check; parsing certificates ([`SigningCert`], with
//! `x509-cert`); their validity at the receive time, their names, and, where the provider's
//! SDK does it, their chain to trusted roots (`rustls-webpki`); the RSA check itself.
//!
//! Invariants: a URL whose host is not in `allowed_hosts` (or not `https`) is refused before
//! anything is fetched, so a request cannot make the gateway call a host its config does not
//! name; everything that can be refused without the certificate is refused first (missing
//! signature, unknown recipient), so a flood of forgeries costs no outbound call beyond what
//! [`RemoteDocs`] allows; every delivery is bound to this endpoint, by a configured secret in
//! the signed content (PayPal's webhook id) or by a body field that must equal one (SNS's
//! `TopicArn`), since the provider signs for all of its customers with the same key. No clock
//! is read: validity is checked against `now`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hyper::header::HeaderName;
use rsa::pkcs8::DecodePublicKey as _;
use rsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use serde::Deserialize;
use subtle::ConstantTimeEq as _;
use url::Url;
use x509_cert::der::{Decode as _, Encode as _};

use super::keys::{BASE64_LENIENT, RSA_MIN_BITS};
use super::remote::{CachePolicy, RemoteDocs, RemoteError};
use super::{header_name, Algorithm, AuthError, SignaturePlace, VerifierConfigError};
use crate::base::json::{self, Document, Pointer};
use crate::base::secret::Secret;
use crate::ingest::event::Locator;
use crate::ingest::fetch::{Fetcher, HostAllowList, HostPattern};
use crate::ingest::intake::Inbound;

/// `auth = { type = "certificate_url", … }`: where the certificate URL, the signature and the
/// algorithm are, what is signed, which hosts may serve certificates and how far certificates
/// are trusted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateUrlConfig {
    /// Where the certificate's URL is: `{ header = "PAYPAL-CERT-URL" }` or
    /// `{ pointer = "/SigningCertURL" }`.
    pub cert_url: Locator,
    /// Hosts the certificate URL may name (`sns.*.amazonaws.com`, `api.paypal.com`; `*` is one
    /// DNS label, `:port` optional). Required: there is no "any host".
    pub allowed_hosts: Vec<String>,
    /// The URL's path must end with this (SNS certificates end in `.pem`).
    #[serde(default)]
    pub cert_path_suffix: String,
    /// Where the base64 signature is: a header or a body field.
    pub signature: Locator,
    /// The algorithm, when it is fixed. Otherwise `algorithm_from` and `algorithms`.
    pub algorithm: Option<Algorithm>,
    /// Where the request names its algorithm (`{ pointer = "/SignatureVersion" }`,
    /// `{ header = "PAYPAL-AUTH-ALGO" }`)…
    pub algorithm_from: Option<Locator>,
    /// …and what each name means (`{ "1" = "rsa_pkcs1_sha1", "2" = "rsa_pkcs1_sha256" }`).
    /// Names not listed are refused.
    #[serde(default)]
    pub algorithms: BTreeMap<String, Algorithm>,
    /// What is signed, as a template: `{header:NAME}`, `{secret}` (the configured secret:
    /// every one is tried), `{body}`, `{body_crc32}` (CRC-32 of the body, in decimal), and
    /// literal text. PayPal: `{header:paypal-transmission-id}|…|{secret}|{body_crc32}`.
    pub signed: Option<String>,
    /// Or: `Name\nValue\n` for each listed top-level field of a JSON body, the list chosen by
    /// the value of one field (SNS).
    pub signed_fields: Option<SignedFields>,
    /// A body field that must equal one of the source's secrets (SNS: `/TopicArn`). Needed
    /// when `signed` has no `{secret}`.
    pub recipient_pointer: Option<String>,
    /// How far the certificate is trusted beyond coming from an allowed host over HTTPS:
    /// `"none"` (SNS: its SDKs check nothing more), `"public"` (it must chain to the Mozilla
    /// roots or `[outbound] ca_file`, with intermediates sent after it), or
    /// `{ ca_file = "…" }` (it must chain to the certificates in that PEM file).
    pub chain: Chain,
    /// Names the certificate must carry (subject common name or a DNS alternative name),
    /// same syntax as `allowed_hosts` (`*.paypal.com`). Empty: not checked.
    #[serde(default)]
    pub cert_names: Vec<String>,
}

/// `signed_fields = { by = "Type", lists = { Notification = ["Message", "Subject?", …] } }`:
/// the list for the message's `by` field; a name ending in `?` is skipped when absent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedFields {
    pub by: String,
    pub lists: BTreeMap<String, Vec<String>>,
}

/// How a fetched certificate is trusted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Chain {
    None,
    Public,
    CaFile(PathBuf),
}

/// A place in the request: a header or a JSON pointer into the body.
#[derive(Debug)]
enum Place {
    Header(HeaderName),
    Body(String, Pointer),
}

impl Place {
    fn new(locator: &Locator, key: &str) -> Result<Self, VerifierConfigError> {
        match locator {
            Locator::Header(h) => Ok(Place::Header(header_name(h)?)),
            Locator::Pointer(p) => Pointer::parse(p)
                .map(|ptr| Place::Body(p.clone(), ptr))
                .ok_or_else(|| config(key, format!("`{p}` is not a JSON pointer"))),
            _ => Err(config(
                key,
                "must be { header = \"…\" } or { pointer = \"/…\" }",
            )),
        }
    }

    fn describe(&self) -> SignaturePlace {
        match self {
            Place::Header(h) => SignaturePlace::Header(h.clone()),
            Place::Body(p, _) => SignaturePlace::BodyField(p.clone()),
        }
    }

    /// The text at this place; `None` when absent or not a string.
    fn read<'a>(&self, inbound: &'a Inbound, body: Option<&'a Document>) -> Option<&'a str> {
        use sonic_rs::JsonValueTrait as _;
        match self {
            Place::Header(h) => inbound.headers.get(h).and_then(|v| v.to_str().ok()),
            Place::Body(_, ptr) => body.and_then(|d| ptr.find(d)).and_then(|v| v.as_str()),
        }
    }
}

fn config(key: &str, reason: impl Into<String>) -> VerifierConfigError {
    VerifierConfigError::Recipe {
        recipe: key.to_owned(),
        reason: reason.into(),
    }
}

/// One piece of a `signed` template.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    Literal(Vec<u8>),
    Header(HeaderName),
    Secret,
    Body,
    BodyCrc32,
}

#[derive(Debug)]
enum Content {
    Template(Vec<Part>),
    Fields {
        by: String,
        /// Per value of `by`: (field name, required).
        lists: BTreeMap<String, Vec<(String, bool)>>,
    },
}

#[derive(Debug)]
enum AlgorithmRule {
    Fixed(Algorithm),
    Named(Place, BTreeMap<String, Algorithm>),
}

/// Trust anchors for the chain check, owned (parsed once at start-up).
struct Anchors(Vec<TrustAnchor<'static>>);

impl std::fmt::Debug for Anchors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Anchors({})", self.0.len())
    }
}

/// A certificate-URL source, ready for the hot path.
pub(super) struct CertUrlVerifier {
    cert_url: Place,
    allowed: HostAllowList,
    cert_path_suffix: String,
    signature: Place,
    algorithm: AlgorithmRule,
    content: Content,
    recipient: Option<(String, Pointer)>,
    anchors: Option<Anchors>,
    cert_names: Vec<HostPattern>,
    /// The configured secrets as text (webhook ids, topic ARNs).
    secrets: Vec<Secret>,
    certs: RemoteDocs<SigningCert>,
}

impl std::fmt::Debug for CertUrlVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertUrlVerifier")
            .field("cert_url", &self.cert_url)
            .field("allowed", &self.allowed)
            .field("signature", &self.signature)
            .field("content", &self.content)
            .field("anchors", &self.anchors)
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

/// What the request says, read before any certificate is needed.
#[derive(Debug)]
pub(super) struct Claim {
    url: Url,
    signature: Vec<u8>,
    algorithm: Algorithm,
    /// The signed content per candidate secret (one entry when no `{secret}` is signed), with
    /// the index of the secret it binds to.
    contents: Vec<(Vec<u8>, Option<usize>)>,
}

impl CertUrlVerifier {
    pub(super) fn new(
        c: &CertificateUrlConfig,
        secrets: &[Secret],
        fetcher: &Arc<Fetcher>,
    ) -> Result<Self, VerifierConfigError> {
        if c.allowed_hosts.is_empty() {
            return Err(config(
                "allowed_hosts",
                "name at least one host that may serve certificates",
            ));
        }
        let allowed = HostAllowList::parse(&c.allowed_hosts)
            .map_err(|e| config("allowed_hosts", e.to_string()))?;
        let cert_names = c
            .cert_names
            .iter()
            .map(|n| HostPattern::parse(n).map_err(|e| config("cert_names", e.to_string())))
            .collect::<Result<_, _>>()?;
        let algorithm = match (&c.algorithm, &c.algorithm_from) {
            (Some(a), None) if c.algorithms.is_empty() => AlgorithmRule::Fixed(check_rsa(*a)?),
            (None, Some(place)) if !c.algorithms.is_empty() => {
                for a in c.algorithms.values() {
                    check_rsa(*a)?;
                }
                AlgorithmRule::Named(Place::new(place, "algorithm_from")?, c.algorithms.clone())
            }
            _ => {
                return Err(config(
                    "algorithm",
                    "set either `algorithm`, or `algorithm_from` with `algorithms`",
                ))
            }
        };
        let content = match (&c.signed, &c.signed_fields) {
            (Some(t), None) => Content::Template(parse_template(t)?),
            (None, Some(f)) => {
                if f.lists.is_empty() || f.lists.values().any(Vec::is_empty) {
                    return Err(config(
                        "signed_fields",
                        "every list needs at least one field",
                    ));
                }
                let lists = f
                    .lists
                    .iter()
                    .map(|(k, names)| {
                        let fields = names
                            .iter()
                            .map(|n| match n.strip_suffix('?') {
                                Some(name) => (name.to_owned(), false),
                                None => (n.clone(), true),
                            })
                            .collect();
                        (k.clone(), fields)
                    })
                    .collect();
                Content::Fields {
                    by: f.by.clone(),
                    lists,
                }
            }
            _ => {
                return Err(config(
                    "signed",
                    "set exactly one of `signed` and `signed_fields`",
                ))
            }
        };
        let signs_secret =
            matches!(&content, Content::Template(parts) if parts.contains(&Part::Secret));
        let recipient = match &c.recipient_pointer {
            Some(p) => Some((
                p.clone(),
                Pointer::parse(p)
                    .ok_or_else(|| config("recipient_pointer", "not a JSON pointer"))?,
            )),
            None => None,
        };
        if !signs_secret && recipient.is_none() {
            return Err(config(
                "signed",
                "the provider signs for every customer with one key: put `{secret}` in \
                 `signed` or set `recipient_pointer`, so deliveries meant for others are refused",
            ));
        }
        let anchors = match &c.chain {
            Chain::None => None,
            Chain::Public => {
                let mut all: Vec<TrustAnchor<'static>> = webpki_roots::TLS_SERVER_ROOTS.to_vec();
                if let Some(path) = &fetcher.config().ca_file {
                    all.extend(anchors_from_file(path)?);
                }
                Some(Anchors(all))
            }
            Chain::CaFile(path) => Some(Anchors(anchors_from_file(path)?)),
        };
        Ok(CertUrlVerifier {
            cert_url: Place::new(&c.cert_url, "cert_url")?,
            allowed,
            cert_path_suffix: c.cert_path_suffix.clone(),
            signature: Place::new(&c.signature, "signature")?,
            algorithm,
            content,
            recipient,
            anchors,
            cert_names,
            secrets: secrets.to_vec(),
            certs: RemoteDocs::new(fetcher.clone(), parse_certificate, CachePolicy::default()),
        })
    }

    pub(super) fn place(&self) -> SignaturePlace {
        self.signature.describe()
    }

    /// Reads and checks everything the request says, without its certificate: the URL (host
    /// allowed), the signature, the algorithm, the recipient and the signed content.
    pub(super) fn claim(&self, inbound: &Inbound) -> Result<Claim, AuthError> {
        let needs_body = matches!(self.content, Content::Fields { .. })
            || self.recipient.is_some()
            || [&self.cert_url, &self.signature]
                .iter()
                .any(|p| matches!(p, Place::Body(..)))
            || matches!(&self.algorithm, AlgorithmRule::Named(Place::Body(..), _));
        let body = if needs_body {
            Some(
                json::parse(&inbound.body, json::DEFAULT_MAX_DEPTH)
                    .map_err(|_| AuthError::MissingBodySignature("the body is not JSON"))?,
            )
        } else {
            None
        };
        let body = body.as_ref();

        let url_text = self
            .cert_url
            .read(inbound, body)
            .ok_or_else(|| AuthError::MissingCertificateUrl(self.cert_url.describe()))?;
        let refused = |reason| AuthError::CertificateUrlNotAllowed {
            place: self.cert_url.describe(),
            reason,
        };
        let url = Url::parse(url_text).map_err(|_| refused("it is not a URL"))?;
        if url.scheme() != "https" {
            return Err(refused("it is not https"));
        }
        if !self.allowed.allows(&url) {
            return Err(refused("its host is not in `allowed_hosts`"));
        }
        if !url.path().ends_with(&self.cert_path_suffix) {
            return Err(refused("its path does not end as `cert_path_suffix` says"));
        }

        let place = self.signature.describe();
        let text = self
            .signature
            .read(inbound, body)
            .ok_or_else(|| AuthError::MissingSignature(place.clone()))?;
        let signature =
            BASE64_LENIENT
                .decode(text.trim())
                .map_err(|_| AuthError::MalformedSignature {
                    place: place.clone(),
                    reason: "not base64",
                })?;

        let algorithm = match &self.algorithm {
            AlgorithmRule::Fixed(a) => *a,
            AlgorithmRule::Named(from, names) => {
                let name = from
                    .read(inbound, body)
                    .ok_or_else(|| AuthError::MissingSignedPart(from.describe()))?;
                *names
                    .get(name)
                    .ok_or_else(|| AuthError::MalformedSignature {
                        place: from.describe(),
                        reason: "names an algorithm this source does not accept",
                    })?
            }
        };

        let recipient = match &self.recipient {
            Some((text, ptr)) => {
                use sonic_rs::JsonValueTrait as _;
                let value = body
                    .and_then(|d| ptr.find(d))
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| AuthError::UnknownRecipient(text.clone()))?;
                Some(
                    self.secret_index(value.as_bytes())
                        .ok_or_else(|| AuthError::UnknownRecipient(text.clone()))?,
                )
            }
            None => None,
        };

        let contents = match &self.content {
            Content::Template(parts) if parts.contains(&Part::Secret) => (0..self.secrets.len())
                .map(|i| Ok((render(parts, inbound, Some(&self.secrets[i]))?, Some(i))))
                .collect::<Result<Vec<_>, AuthError>>()?,
            Content::Template(parts) => vec![(render(parts, inbound, None)?, recipient)],
            Content::Fields { by, lists } => {
                let document =
                    body.ok_or(AuthError::MissingBodySignature("the body is not JSON"))?;
                vec![(string_to_sign(document, by, lists)?, recipient)]
            }
        };
        Ok(Claim {
            url,
            signature,
            algorithm,
            contents,
        })
    }

    /// The index of the secret equal to `value` (every secret compared, in constant time).
    fn secret_index(&self, value: &[u8]) -> Option<usize> {
        let mut found = None;
        for (i, s) in self.secrets.iter().enumerate() {
            if bool::from(s.expose().ct_eq(value)) && found.is_none() {
                found = Some(i);
            }
        }
        found
    }

    /// Fetches (or takes from the cache) the claim's certificate and checks it.
    pub(super) async fn verify(
        &self,
        inbound: &Inbound,
        now_unix: i64,
    ) -> Result<Option<usize>, AuthError> {
        let claim = self.claim(inbound)?;
        let cert = self.certs.get(&claim.url).await.map_err(unavailable)?;
        self.check(&claim, &cert, now_unix)
    }

    /// The certificate's checks (validity at `now_unix`, chain, names) and the signature.
    pub(super) fn check(
        &self,
        claim: &Claim,
        cert: &SigningCert,
        now_unix: i64,
    ) -> Result<Option<usize>, AuthError> {
        if now_unix < cert.not_before {
            return Err(AuthError::InvalidCertificate("it is not valid yet"));
        }
        if now_unix > cert.not_after {
            return Err(AuthError::InvalidCertificate("it has expired"));
        }
        if !self.cert_names.is_empty()
            && !cert
                .names
                .iter()
                .any(|n| self.cert_names.iter().any(|p| p.matches_name(n)))
        {
            return Err(AuthError::InvalidCertificate(
                "it names no host of `cert_names`",
            ));
        }
        if let Some(anchors) = &self.anchors {
            cert.check_chain(&anchors.0, now_unix)?;
        }
        let place = self.signature.describe();
        for (content, index) in &claim.contents {
            if cert.verifies(claim.algorithm, content, &claim.signature) {
                return Ok(*index);
            }
        }
        Err(AuthError::SignatureMismatch(place))
    }
}

fn unavailable(e: RemoteError) -> AuthError {
    AuthError::KeyUnavailable(e.to_string())
}

fn check_rsa(a: Algorithm) -> Result<Algorithm, VerifierConfigError> {
    match a {
        Algorithm::RsaPkcs1Sha1 | Algorithm::RsaPkcs1Sha256 | Algorithm::RsaPkcs1Sha512 => Ok(a),
        other => Err(VerifierConfigError::WrongAlgorithm {
            kind: "certificate_url",
            algorithm: other,
        }),
    }
}

fn anchors_from_file(
    path: &std::path::Path,
) -> Result<Vec<TrustAnchor<'static>>, VerifierConfigError> {
    let shown = path.display().to_string();
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| config("chain", format!("cannot read {shown}: {e}")))?;
    if certs.is_empty() {
        return Err(config("chain", format!("{shown} holds no certificate")));
    }
    certs
        .iter()
        .map(|c| {
            webpki::anchor_from_trusted_cert(c)
                .map(|a| a.to_owned())
                .map_err(|e| config("chain", format!("{shown}: {e}")))
        })
        .collect()
}

/// Parses a `signed` template.
fn parse_template(text: &str) -> Result<Vec<Part>, VerifierConfigError> {
    let bad = |reason: String| config(text, reason);
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        if start > 0 {
            parts.push(Part::Literal(rest.as_bytes()[..start].to_vec()));
        }
        let tail = &rest[start + 1..];
        let end = tail
            .find('}')
            .ok_or_else(|| bad("a `{` is never closed".to_owned()))?;
        let name = &tail[..end];
        parts.push(match name {
            "secret" => Part::Secret,
            "body" => Part::Body,
            "body_crc32" => Part::BodyCrc32,
            _ => match name.strip_prefix("header:") {
                Some(h) => Part::Header(header_name(h)?),
                None => return Err(bad(format!("unknown placeholder `{{{name}}}`"))),
            },
        });
        rest = &tail[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.as_bytes().to_vec()));
    }
    if !parts
        .iter()
        .any(|p| matches!(p, Part::Body | Part::BodyCrc32))
    {
        return Err(bad("must include {body} or {body_crc32}".to_owned()));
    }
    Ok(parts)
}

fn render(
    parts: &[Part],
    inbound: &Inbound,
    secret: Option<&Secret>,
) -> Result<Vec<u8>, AuthError> {
    let mut out = Vec::with_capacity(inbound.body.len().min(4096) + 128);
    for part in parts {
        match part {
            Part::Literal(l) => out.extend_from_slice(l),
            Part::Header(h) => out.extend_from_slice(
                inbound
                    .headers
                    .get(h)
                    .ok_or_else(|| AuthError::MissingSignedPart(SignaturePlace::Header(h.clone())))?
                    .as_bytes(),
            ),
            Part::Secret => out.extend_from_slice(secret.map(Secret::expose).unwrap_or_default()),
            Part::Body => out.extend_from_slice(&inbound.body),
            Part::BodyCrc32 => {
                out.extend_from_slice(crc32fast::hash(&inbound.body).to_string().as_bytes())
            }
        }
    }
    Ok(out)
}

/// `Name\nValue\n` for each field of the list that `by`'s value selects (SNS's string to
/// sign). Values must be strings; a required field that is absent is an error, an optional one
/// is skipped.
fn string_to_sign(
    document: &Document,
    by: &str,
    lists: &BTreeMap<String, Vec<(String, bool)>>,
) -> Result<Vec<u8>, AuthError> {
    use sonic_rs::{JsonContainerTrait as _, JsonValueTrait as _};
    let field = |name: &str| document.as_object().and_then(|o| o.get(&name));
    let kind = field(by)
        .and_then(|v| v.as_str())
        .ok_or_else(|| AuthError::MissingSignedPart(SignaturePlace::BodyField(format!("/{by}"))))?;
    let list = lists
        .get(kind)
        .ok_or_else(|| AuthError::MalformedSignature {
            place: SignaturePlace::BodyField(format!("/{by}")),
            reason: "names a message type with no signed-field list",
        })?;
    let mut out = Vec::new();
    for (name, required) in list {
        match field(name) {
            Some(v) if v.is_str() => {
                out.extend_from_slice(name.as_bytes());
                out.push(b'\n');
                out.extend_from_slice(v.as_str().unwrap_or_default().as_bytes());
                out.push(b'\n');
            }
            // JSON `null` counts as absent, as in AWS's validators.
            Some(v) if v.is_null() && !required => {}
            None if !required => {}
            _ => {
                return Err(AuthError::MissingSignedPart(SignaturePlace::BodyField(
                    format!("/{name}"),
                )))
            }
        }
    }
    Ok(out)
}

/// A parsed signing certificate: its RSA key, validity, names, and the certificates sent
/// after it (intermediates, for the chain check).
pub struct SigningCert {
    key: rsa::RsaPublicKey,
    not_before: i64,
    not_after: i64,
    /// Subject common names and DNS alternative names, lowercase.
    names: Vec<String>,
    der: CertificateDer<'static>,
    intermediates: Vec<CertificateDer<'static>>,
}

impl std::fmt::Debug for SigningCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningCert")
            .field("names", &self.names)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// Largest certificate bundle parsed: a leaf and a few intermediates.
const MAX_CERTS: usize = 8;

/// Parses untrusted bytes as a certificate (PEM, possibly followed by its intermediates, or
/// one DER certificate) with an RSA key of at least 2048 bits.
pub fn parse_certificate(bytes: &[u8]) -> Result<SigningCert, String> {
    let mut all: Vec<CertificateDer<'static>> = if bytes.starts_with(b"0") {
        vec![CertificateDer::from(bytes.to_vec())]
    } else {
        CertificateDer::pem_slice_iter(bytes)
            .take(MAX_CERTS)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("not PEM: {e}"))?
    };
    if all.is_empty() {
        return Err("no certificate in the document".to_owned());
    }
    let der = all.remove(0);
    let cert = x509_cert::Certificate::from_der(&der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let tbs = &cert.tbs_certificate;
    let spki = tbs
        .subject_public_key_info
        .to_der()
        .map_err(|e| format!("unreadable public key: {e}"))?;
    let key = rsa::RsaPublicKey::from_public_key_der(&spki)
        .map_err(|_| "the certificate's key is not an RSA key".to_owned())?;
    if key.n().bits() < RSA_MIN_BITS {
        return Err("the certificate's RSA key has fewer than 2048 bits".to_owned());
    }
    let seconds = |t: &x509_cert::time::Time| {
        i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
    };
    let mut names = Vec::new();
    for rdn in &tbs.subject.0 {
        for atv in rdn.0.iter() {
            if atv.oid == const_oid_cn() {
                let name =
                    atv.value.to_der().ok().and_then(|d| {
                        x509_cert::ext::pkix::name::DirectoryString::from_der(&d).ok()
                    });
                if let Some(name) = name {
                    names.push(directory_string(&name).to_ascii_lowercase());
                }
            }
        }
    }
    for ext in tbs.extensions.iter().flatten() {
        if ext.extn_id == SUBJECT_ALT_NAME {
            let san = x509_cert::ext::pkix::SubjectAltName::from_der(ext.extn_value.as_bytes())
                .map_err(|e| format!("unreadable alternative names: {e}"))?;
            for name in san.0 {
                if let x509_cert::ext::pkix::name::GeneralName::DnsName(dns) = name {
                    names.push(dns.as_str().to_ascii_lowercase());
                }
            }
        }
    }
    Ok(SigningCert {
        key,
        not_before: seconds(&tbs.validity.not_before),
        not_after: seconds(&tbs.validity.not_after),
        names,
        der,
        intermediates: all,
    })
}

const SUBJECT_ALT_NAME: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("2.5.29.17");

fn const_oid_cn() -> x509_cert::der::oid::ObjectIdentifier {
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("2.5.4.3")
}

fn directory_string(s: &x509_cert::ext::pkix::name::DirectoryString) -> String {
    use x509_cert::ext::pkix::name::DirectoryString as D;
    match s {
        D::PrintableString(p) => p.as_str().to_owned(),
        D::TeletexString(t) => t.as_str().to_owned(),
        D::Utf8String(u) => u.clone(),
    }
}

/// Accepts any extended key usage, as OpenSSL's default chain check (PayPal's SDK) does: the
/// certificate signs messages, not TLS sessions.
struct AnyUsage;

impl webpki::ExtendedKeyUsageValidator for AnyUsage {
    fn validate(&self, _: webpki::KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        Ok(())
    }
}

impl SigningCert {
    fn check_chain(&self, anchors: &[TrustAnchor<'_>], now_unix: i64) -> Result<(), AuthError> {
        let leaf = webpki::EndEntityCert::try_from(&self.der)
            .map_err(|_| AuthError::InvalidCertificate("it cannot be read for the chain check"))?;
        let algs = rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .all;
        let at = UnixTime::since_unix_epoch(Duration::from_secs(
            u64::try_from(now_unix).unwrap_or_default(),
        ));
        leaf.verify_for_usage(algs, anchors, &self.intermediates, at, AnyUsage, None, None)
            .map(|_| ())
            .map_err(|_| AuthError::InvalidCertificate("it does not chain to a trusted root"))
    }

    fn verifies(&self, algorithm: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = rsa::pkcs1v15::Signature::try_from(signature) else {
            return false;
        };
        let key = self.key.clone();
        match algorithm {
            Algorithm::RsaPkcs1Sha1 => rsa::pkcs1v15::VerifyingKey::<sha1::Sha1>::new(key)
                .verify(message, &sig)
                .is_ok(),
            Algorithm::RsaPkcs1Sha256 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key)
                .verify(message, &sig)
                .is_ok(),
            Algorithm::RsaPkcs1Sha512 => rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(key)
                .verify(message, &sig)
                .is_ok(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::auth::Verifier;
    use bytes::Bytes;
    use hyper::header::HeaderMap;

    const SIGNING_KEY: &str = include_str!("../../../tests/fixtures/rsa/signing-2048.key");
    const WEBHOOK_ID: &str = "8PT597110X687430LKGECATA";
    const BODY: &str = r#"{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED"}"#;

    fn paypal(chain: Chain, cert_names: &[&str]) -> CertificateUrlConfig {
        CertificateUrlConfig {
            cert_url: Locator::header("PAYPAL-CERT-URL"),
            allowed_hosts: vec!["api.paypal.com".to_owned()],
            cert_path_suffix: String::new(),
            signature: Locator::header("PAYPAL-TRANSMISSION-SIG"),
            algorithm: Some(Algorithm::RsaPkcs1Sha256),
            algorithm_from: None,
            algorithms: BTreeMap::new(),
            signed: Some(
                "{header:paypal-transmission-id}|{header:paypal-transmission-time}|{secret}|{body_crc32}"
                    .to_owned(),
            ),
            signed_fields: None,
            recipient_pointer: None,
            chain,
            cert_names: cert_names.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    struct Ca {
        cert: rcgen::Certificate,
        key: rcgen::KeyPair,
        file: tempfile::NamedTempFile,
    }

    fn ca(name: &str) -> Ca {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("ca");
        let file = tempfile::NamedTempFile::new().expect("file");
        std::fs::write(file.path(), cert.pem()).expect("write");
        Ca { cert, key, file }
    }

    /// A leaf for the signing key, valid 2026-01-01 to 2027-01-01.
    fn leaf(issuer: &Ca, name: &str) -> String {
        let key = rcgen::KeyPair::from_pem_and_sign_algo(SIGNING_KEY, &rcgen::PKCS_RSA_SHA256)
            .expect("rsa");
        let mut params = rcgen::CertificateParams::new(vec![name.to_owned()]).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.not_before = rcgen::date_time_ymd(2026, 1, 1);
        params.not_after = rcgen::date_time_ymd(2027, 1, 1);
        params
            .signed_by(&key, &issuer.cert, &issuer.key)
            .expect("leaf")
            .pem()
    }

    fn sign(message: &str) -> String {
        use rustls_pki_types::pem::PemObject as _;
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(SIGNING_KEY.as_bytes())
            .expect("pkcs8");
        let pair = ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).expect("key");
        let mut sig = vec![0; pair.public().modulus_len()];
        pair.sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            message.as_bytes(),
            &mut sig,
        )
        .expect("sign");
        base64::engine::general_purpose::STANDARD.encode(sig)
    }

    fn check(
        config: &CertificateUrlConfig,
        secrets: &[&str],
        body: &str,
        cert: &str,
        now: i64,
    ) -> Result<Option<usize>, &'static str> {
        let secrets = secrets
            .iter()
            .map(|s| Secret::new(s.as_bytes().to_vec()))
            .collect();
        let v = Verifier::new(&AuthConfig::CertificateUrl(config.clone()), secrets, None)
            .expect("verifier");
        let crc = crc32fast::hash(BODY.as_bytes());
        let sig = sign(&format!("t-1|2026-12-01T10:00:00Z|{WEBHOOK_ID}|{crc}"));
        let mut headers = HeaderMap::new();
        for (k, val) in [
            ("paypal-transmission-id", "t-1"),
            ("paypal-transmission-time", "2026-12-01T10:00:00Z"),
            (
                "paypal-cert-url",
                "https://api.paypal.com/v1/notifications/certs/CERT-1",
            ),
            ("paypal-transmission-sig", sig.as_str()),
        ] {
            headers.insert(k, val.parse().expect("value"));
        }
        let inbound = Inbound::new(headers, Bytes::copy_from_slice(body.as_bytes()), None);
        v.verify_with_certificate(inbound, now, cert.as_bytes())
            .map(|ok| ok.verification().key_index)
            .map_err(|e| e.code())
    }

    use crate::ingest::auth::AuthConfig;

    const NOW: i64 = 1_796_112_000; // 2026-12-01

    #[test]
    fn paypal_recipe_signs_the_webhook_id_and_the_body_crc() {
        let issuer = ca("test CA");
        let cert = leaf(&issuer, "messageverificationcerts.paypal.com");
        let chained = paypal(
            Chain::CaFile(issuer.file.path().to_owned()),
            &["*.paypal.com"],
        );
        // The webhook id picks the secret; a body that is not the signed one is refused.
        assert_eq!(
            check(&chained, &["other-id", WEBHOOK_ID], BODY, &cert, NOW),
            Ok(Some(1))
        );
        assert_eq!(
            check(&chained, &["other-id"], BODY, &cert, NOW),
            Err("invalid_signature")
        );
        let tampered = BODY.replace("WH-1", "WH-2");
        assert_eq!(
            check(&chained, &[WEBHOOK_ID], &tampered, &cert, NOW),
            Err("invalid_signature")
        );
        // Validity at the receive time.
        assert_eq!(
            check(&chained, &[WEBHOOK_ID], BODY, &cert, 1_830_000_000),
            Err("invalid_certificate")
        );
        // Another CA's certificate, or a certificate off `cert_names`, is refused.
        let stranger = leaf(&ca("another CA"), "messageverificationcerts.paypal.com");
        assert_eq!(
            check(&chained, &[WEBHOOK_ID], BODY, &stranger, NOW),
            Err("invalid_certificate")
        );
        let misnamed = leaf(&issuer, "paypal.com.example.net");
        assert_eq!(
            check(&chained, &[WEBHOOK_ID], BODY, &misnamed, NOW),
            Err("invalid_certificate")
        );
        // The public roots do not know the test CA; `none` checks no chain.
        assert_eq!(
            check(&paypal(Chain::Public, &[]), &[WEBHOOK_ID], BODY, &cert, NOW),
            Err("invalid_certificate")
        );
        assert_eq!(
            check(
                &paypal(Chain::None, &[]),
                &[WEBHOOK_ID],
                BODY,
                &stranger,
                NOW
            ),
            Ok(Some(0))
        );
        // The PEM may carry intermediates after the leaf; garbage is unusable (503).
        let bundle = format!("{cert}{}", issuer.cert.pem());
        assert_eq!(
            check(&chained, &[WEBHOOK_ID], BODY, &bundle, NOW),
            Ok(Some(0))
        );
        assert_eq!(
            check(
                &chained,
                &[WEBHOOK_ID],
                BODY,
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                NOW
            ),
            Err("key_unavailable")
        );
    }

    #[test]
    fn recipes_are_checked_at_start_up() {
        let err = |c: CertificateUrlConfig| {
            Verifier::new(
                &AuthConfig::CertificateUrl(c),
                vec![Secret::new(b"k".to_vec())],
                None,
            )
            .expect_err("refused")
            .to_string()
        };
        let base = paypal(Chain::None, &[]);
        let no_hosts = CertificateUrlConfig {
            allowed_hosts: vec![],
            ..base.clone()
        };
        assert!(err(no_hosts).contains("name at least one host"));
        let any_host = CertificateUrlConfig {
            allowed_hosts: vec!["*.com".to_owned()],
            ..base.clone()
        };
        assert!(err(any_host).contains("last two labels"));
        let unbound = CertificateUrlConfig {
            signed: Some("{header:paypal-transmission-id}|{body_crc32}".to_owned()),
            ..base.clone()
        };
        assert!(err(unbound).contains("recipient_pointer"));
        let hmac = CertificateUrlConfig {
            algorithm: Some(Algorithm::Sha256),
            ..base.clone()
        };
        assert!(err(hmac).contains("does not take algorithm"));
        let both = CertificateUrlConfig {
            algorithm_from: Some(Locator::header("x-algo")),
            ..base.clone()
        };
        assert!(err(both).contains("either `algorithm`"));
        let no_body = CertificateUrlConfig {
            signed: Some("{header:x}|{secret}".to_owned()),
            ..base.clone()
        };
        assert!(err(no_body).contains("{body}"));
        let unknown = CertificateUrlConfig {
            signed: Some("{bdy}{secret}".to_owned()),
            ..base.clone()
        };
        assert!(err(unknown).contains("unknown placeholder"));
        let constant = CertificateUrlConfig {
            cert_url: Locator::Value("https://api.paypal.com/c".to_owned()),
            ..base
        };
        assert!(err(constant).contains("{ header"));
    }
}
