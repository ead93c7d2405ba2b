//! Keys and the cryptographic check itself: HMAC (SHA-1/256/512), keyed plain hashes (SHA-1,
//! SHA-256 or Keccak-256 over content that includes the secret), Ed25519, ECDSA P-256 and RSA
//! (PKCS#1 v1.5 with SHA-1/256/512, PSS with SHA-256).
//!
//! Owns: turning configured secrets into ready key material at start-up (decoding, stripping
//! prefixes such as `whsec_`, keying HMAC states, parsing public keys, unwrapping PEM) and
//! checking a request's signatures against every key. Constant time: HMAC tags and keyed
//! hashes are compared with `subtle`'s `ct_eq`; public-key verification does not branch on
//! secret data.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs8::DecodePublicKey as _;
use rsa::signature::DigestVerifier;
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq as _;

use super::{Algorithm, KeyEncoding, VerifierConfigError};
use crate::base::secret::Secret;

/// Standard base64, accepting input with or without padding and with non-zero trailing bits,
/// as Python's decoder does (Standard Webhooks' SDKs accept unpadded secrets).
pub(super) const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// URL-safe base64, padded or not.
pub(super) const BASE64_URL_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Every key of a source, ready to check signatures.
pub(super) enum Keys {
    Hmac(Vec<KeyedMac>),
    Ed25519(Vec<ed25519_dalek::VerifyingKey>),
    EcdsaP256(Vec<p256::ecdsa::VerifyingKey>),
    RsaPkcs1Sha1(Vec<Pkcs1Key<sha1::Sha1>>),
    RsaPkcs1Sha256(Vec<Pkcs1Key<Sha256>>),
    RsaPkcs1Sha512(Vec<Pkcs1Key<Sha512>>),
    RsaPssSha256(Vec<PssKey<Sha256>>),
    /// Secrets hashed together with the request (keyed plain hashes, not HMAC).
    Hash(HashKind, Vec<Vec<u8>>),
}

/// The digest of a keyed plain hash.
#[derive(Debug, Clone, Copy)]
pub(super) enum HashKind {
    Sha1,
    Sha256,
    Keccak256,
}

type Pkcs1Key<D> = rsa::pkcs1v15::VerifyingKey<D>;
type PssKey<D> = rsa::pss::VerifyingKey<D>;

/// The smallest RSA modulus accepted. Every provider preset's published key has at least this
/// many bits (Wise's and Fireblocks' sandbox keys have exactly 2048); the `rsa` crate refuses
/// more than 4096.
pub(super) const RSA_MIN_BITS: usize = 2048;

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, n) = match self {
            Keys::Hmac(k) => ("hmac", k.len()),
            Keys::Ed25519(k) => ("ed25519", k.len()),
            Keys::EcdsaP256(k) => ("ecdsa-p256", k.len()),
            Keys::RsaPkcs1Sha1(k) => ("rsa-pkcs1-sha1", k.len()),
            Keys::RsaPkcs1Sha256(k) => ("rsa-pkcs1-sha256", k.len()),
            Keys::RsaPkcs1Sha512(k) => ("rsa-pkcs1-sha512", k.len()),
            Keys::RsaPssSha256(k) => ("rsa-pss-sha256", k.len()),
            Keys::Hash(_, k) => ("keyed-hash", k.len()),
        };
        write!(f, "Keys({kind} × {n}, [redacted])")
    }
}

/// An HMAC state already keyed with one secret; cloned for each request.
#[derive(Clone)]
pub(super) enum KeyedMac {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
}

impl Keys {
    /// Decodes every secret for `algorithm`. Errors name the secret's index, never its value.
    pub(super) fn new(
        algorithm: Algorithm,
        encoding: KeyEncoding,
        strip_prefix: &str,
        secrets: &[Secret],
    ) -> Result<Self, VerifierConfigError> {
        // Decoded lazily: RSA secrets may be PEM, which no key encoding reads.
        let decoded = || {
            secrets
                .iter()
                .enumerate()
                .map(|(index, s)| decode(index, encoding, strip_prefix, s.expose()))
                .collect::<Result<Vec<_>, _>>()
        };
        let rsa = || {
            secrets
                .iter()
                .enumerate()
                .map(|(index, s)| rsa_public_key(index, encoding, strip_prefix, s.expose()))
                .collect::<Result<Vec<_>, _>>()
        };
        fn each<T>(keys: Vec<rsa::RsaPublicKey>, make: fn(rsa::RsaPublicKey) -> T) -> Vec<T> {
            keys.into_iter().map(make).collect()
        }
        let bad_key =
            |index: usize, reason: &'static str| VerifierConfigError::Key { index, reason };
        Ok(match algorithm {
            Algorithm::Sha1 => Keys::Hmac(
                decoded()?
                    .iter()
                    .map(|k| KeyedMac::Sha1(keyed(k)))
                    .collect(),
            ),
            Algorithm::Sha256 => Keys::Hmac(
                decoded()?
                    .iter()
                    .map(|k| KeyedMac::Sha256(keyed(k)))
                    .collect(),
            ),
            Algorithm::Sha512 => Keys::Hmac(
                decoded()?
                    .iter()
                    .map(|k| KeyedMac::Sha512(keyed(k)))
                    .collect(),
            ),
            Algorithm::Ed25519 => Keys::Ed25519(
                decoded()?
                    .iter()
                    .enumerate()
                    .map(|(i, k)| {
                        let bytes: [u8; 32] = k
                            .as_slice()
                            .try_into()
                            .map_err(|_| bad_key(i, "an Ed25519 public key is 32 bytes"))?;
                        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                            .map_err(|_| bad_key(i, "not a valid Ed25519 public key"))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Algorithm::EcdsaP256Sha256 => Keys::EcdsaP256(
                decoded()?
                    .iter()
                    .enumerate()
                    .map(|(i, k)| {
                        use p256::pkcs8::DecodePublicKey;
                        p256::ecdsa::VerifyingKey::from_public_key_der(k)
                            .or_else(|_| p256::ecdsa::VerifyingKey::from_sec1_bytes(k))
                            .map_err(|_| {
                                bad_key(
                                    i,
                                    "not a P-256 public key (DER SubjectPublicKeyInfo or SEC1)",
                                )
                            })
                    })
                    .collect::<Result<_, _>>()?,
            ),
            // `pkcs1v15::VerifyingKey::new` expects the hash's DigestInfo prefix, as PKCS#1
            // v1.5 requires (its `From<RsaPublicKey>` would expect none). PSS keys take the
            // hash's length as salt length.
            Algorithm::RsaPkcs1Sha1 => Keys::RsaPkcs1Sha1(each(rsa()?, Pkcs1Key::new)),
            Algorithm::RsaPkcs1Sha256 => Keys::RsaPkcs1Sha256(each(rsa()?, Pkcs1Key::new)),
            Algorithm::RsaPkcs1Sha512 => Keys::RsaPkcs1Sha512(each(rsa()?, Pkcs1Key::new)),
            Algorithm::RsaPssSha256 => Keys::RsaPssSha256(each(rsa()?, PssKey::new)),
            Algorithm::HashSha1 => Keys::Hash(HashKind::Sha1, decoded()?),
            Algorithm::HashSha256 => Keys::Hash(HashKind::Sha256, decoded()?),
            Algorithm::HashKeccak256 => Keys::Hash(HashKind::Keccak256, decoded()?),
        })
    }

    /// Whether this key set can sign (shared secrets: public keys cannot).
    pub(super) fn can_sign(&self) -> bool {
        matches!(self, Keys::Hmac(_) | Keys::Hash(..))
    }

    /// The index of the first key under which one of `signatures` is valid for `parts`.
    /// The signed content is hashed (or MACed) once per key, however many candidates the
    /// request holds, and every key is tried, so timing does not tell which one matched.
    /// `secret_at` are the indexes of `parts` where a keyed plain hash puts the secret
    /// (`{secret}`); the other schemes have none.
    pub(super) fn find(
        &self,
        parts: &[&[u8]],
        secret_at: &[usize],
        signatures: &[Vec<u8>],
    ) -> Option<usize> {
        let mut matched = None;
        let mut record = |i: usize, ok: bool| {
            if ok && matched.is_none() {
                matched = Some(i);
            }
        };
        match self {
            Keys::Hmac(keys) => {
                for (i, k) in keys.iter().enumerate() {
                    let tag = k.compute(parts);
                    let ok = signatures
                        .iter()
                        .fold(false, |ok, sig| ok | bool::from(tag.ct_eq(sig)));
                    record(i, ok);
                }
            }
            Keys::Ed25519(keys) => {
                let sigs: Vec<_> = signatures
                    .iter()
                    .filter_map(|s| ed25519_dalek::Signature::from_slice(s).ok())
                    .collect();
                let message = parts.concat();
                for (i, k) in keys.iter().enumerate() {
                    record(i, sigs.iter().any(|s| k.verify_strict(&message, s).is_ok()));
                }
            }
            Keys::EcdsaP256(keys) => {
                use p256::ecdsa::signature::Verifier as _;
                let sigs: Vec<_> = signatures
                    .iter()
                    .filter_map(|s| {
                        p256::ecdsa::Signature::from_der(s)
                            .or_else(|_| p256::ecdsa::Signature::from_slice(s))
                            .ok()
                    })
                    .collect();
                let message = parts.concat();
                for (i, k) in keys.iter().enumerate() {
                    record(i, sigs.iter().any(|s| k.verify(&message, s).is_ok()));
                }
            }
            Keys::RsaPkcs1Sha1(keys) => {
                rsa_find::<sha1::Sha1, _, _>(keys, parts, signatures, record)
            }
            Keys::RsaPkcs1Sha256(keys) => rsa_find::<Sha256, _, _>(keys, parts, signatures, record),
            Keys::RsaPkcs1Sha512(keys) => rsa_find::<Sha512, _, _>(keys, parts, signatures, record),
            Keys::RsaPssSha256(keys) => rsa_find::<Sha256, _, _>(keys, parts, signatures, record),
            Keys::Hash(kind, keys) => {
                for (i, k) in keys.iter().enumerate() {
                    let tag = kind.digest(parts, secret_at, k);
                    let ok = signatures
                        .iter()
                        .fold(false, |ok, sig| ok | bool::from(tag.ct_eq(sig)));
                    record(i, ok);
                }
            }
        }
        matched
    }

    /// The HMAC (or keyed hash) of `parts` with the first key (for the `sign` command and
    /// tests).
    pub(super) fn sign(&self, parts: &[&[u8]], secret_at: &[usize]) -> Option<Vec<u8>> {
        match self {
            Keys::Hmac(keys) => keys.first().map(|k| k.compute(parts)),
            Keys::Hash(kind, keys) => keys.first().map(|k| kind.digest(parts, secret_at, k)),
            _ => None,
        }
    }
}

impl HashKind {
    /// The digest of `parts` with `secret` in place of the parts at `secret_at`.
    fn digest(self, parts: &[&[u8]], secret_at: &[usize], secret: &[u8]) -> Vec<u8> {
        fn run<D: Digest>(parts: &[&[u8]], secret_at: &[usize], secret: &[u8]) -> Vec<u8> {
            let mut d = D::new();
            for (i, p) in parts.iter().enumerate() {
                d.update(if secret_at.contains(&i) { secret } else { p });
            }
            d.finalize().to_vec()
        }
        match self {
            HashKind::Sha1 => run::<sha1::Sha1>(parts, secret_at, secret),
            HashKind::Sha256 => run::<Sha256>(parts, secret_at, secret),
            HashKind::Keccak256 => run::<sha3::Keccak256>(parts, secret_at, secret),
        }
    }
}

/// Hashes `parts` once and checks every signature under every key (PKCS#1 v1.5 and PSS keys
/// alike: both take a digest and a signature as long as the modulus).
fn rsa_find<D, K, S>(
    keys: &[K],
    parts: &[&[u8]],
    signatures: &[Vec<u8>],
    mut record: impl FnMut(usize, bool),
) where
    D: Digest + Clone,
    K: DigestVerifier<D, S>,
    S: for<'a> TryFrom<&'a [u8]>,
{
    let sigs: Vec<S> = signatures
        .iter()
        .filter_map(|s| S::try_from(s.as_slice()).ok())
        .collect();
    let mut digest = D::new();
    for p in parts {
        digest.update(p);
    }
    for (i, k) in keys.iter().enumerate() {
        record(
            i,
            sigs.iter()
                .any(|s| k.verify_digest(digest.clone(), s).is_ok()),
        );
    }
}

/// One configured RSA public key: PEM (SubjectPublicKeyInfo `PUBLIC KEY` or PKCS#1
/// `RSA PUBLIC KEY`) or DER of either in the key encoding, at least [`RSA_MIN_BITS`].
pub(super) fn rsa_public_key(
    index: usize,
    encoding: KeyEncoding,
    strip_prefix: &str,
    raw: &[u8],
) -> Result<rsa::RsaPublicKey, VerifierConfigError> {
    let err = |reason| VerifierConfigError::Key { index, reason };
    let raw = raw.strip_prefix(strip_prefix.as_bytes()).unwrap_or(raw);
    let key = match unarmor(raw) {
        Some(Ok((Pem::Spki, der))) => rsa::RsaPublicKey::from_public_key_der(&der).ok(),
        Some(Ok((Pem::Pkcs1, der))) => rsa::RsaPublicKey::from_pkcs1_der(&der).ok(),
        Some(Err(reason)) => return Err(err(reason)),
        None => {
            let der = decode(index, encoding, "", raw)?;
            rsa::RsaPublicKey::from_public_key_der(&der)
                .or_else(|_| rsa::RsaPublicKey::from_pkcs1_der(&der))
                .ok()
        }
    };
    let key = key.ok_or_else(|| {
        err(
            "is not an RSA public key (PEM `PUBLIC KEY` or `RSA PUBLIC KEY`, or DER \
             SubjectPublicKeyInfo or PKCS#1, of at most 4096 bits)",
        )
    })?;
    if key.n().bits() < RSA_MIN_BITS {
        return Err(err(
            "is an RSA key of fewer than 2048 bits, which is refused",
        ));
    }
    Ok(key)
}

/// What a PEM block holds.
enum Pem {
    Spki,
    Pkcs1,
}

/// The DER inside a PEM block, or `None` when `raw` has no `-----BEGIN` line. Whitespace inside
/// the block is ignored, so a key pasted on one line or with CRLF line ends still reads.
fn unarmor(raw: &[u8]) -> Option<Result<(Pem, Vec<u8>), &'static str>> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let start = raw.windows(BEGIN.len()).position(|w| w == BEGIN)? + BEGIN.len();
    let rest = &raw[start..];
    let Some(label_end) = rest.windows(5).position(|w| w == b"-----") else {
        return Some(Err("has a `-----BEGIN` line that is never closed"));
    };
    let kind =
        match &rest[..label_end] {
            b"PUBLIC KEY" => Pem::Spki,
            b"RSA PUBLIC KEY" => Pem::Pkcs1,
            _ => return Some(Err(
                "is PEM but neither `PUBLIC KEY` nor `RSA PUBLIC KEY` (certificates and private \
                 keys are not accepted)",
            )),
        };
    let body = &rest[label_end + 5..];
    let Some(end) = body.windows(8).position(|w| w == b"-----END") else {
        return Some(Err("is PEM without its `-----END` line"));
    };
    let text: Vec<u8> = body[..end]
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    Some(
        BASE64_LENIENT
            .decode(text)
            .map(|der| (kind, der))
            .map_err(|_| "is PEM whose body is not base64"),
    )
}

pub(super) fn decode(
    index: usize,
    encoding: KeyEncoding,
    strip_prefix: &str,
    raw: &[u8],
) -> Result<Vec<u8>, VerifierConfigError> {
    let raw = raw.strip_prefix(strip_prefix.as_bytes()).unwrap_or(raw);
    let err = |reason| VerifierConfigError::Key { index, reason };
    match encoding {
        KeyEncoding::Utf8 => Ok(raw.to_vec()),
        KeyEncoding::Base64 => BASE64_LENIENT
            .decode(raw)
            .map_err(|_| err("cannot be decoded as base64")),
        KeyEncoding::Hex => hex::decode(raw).map_err(|_| err("cannot be decoded as hex")),
        KeyEncoding::Sha1 => Ok(sha1::Sha1::digest(raw).to_vec()),
    }
}

fn keyed<M: Mac + hmac::digest::KeyInit>(key: &[u8]) -> M {
    // `KeyInit::new_from_slice` only fails for fixed-length keys; HMAC takes any length.
    match <M as hmac::digest::KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    }
}

impl KeyedMac {
    fn compute(&self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<M: Mac + Clone>(m: &M, parts: &[&[u8]]) -> Vec<u8> {
            let mut m = m.clone();
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().to_vec()
        }
        match self {
            KeyedMac::Sha1(m) => run(m, parts),
            KeyedMac::Sha256(m) => run(m, parts),
            KeyedMac::Sha512(m) => run(m, parts),
        }
    }
}
