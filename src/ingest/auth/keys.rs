//! Keys and the cryptographic check itself: HMAC (SHA-1/256/512), Ed25519 and ECDSA P-256.
//!
//! Owns: turning configured secrets into ready key material at start-up (decoding, stripping
//! prefixes such as `whsec_`, keying HMAC states, parsing public keys) and checking one
//! signature against every key. Constant time: HMAC tags are compared with
//! `Mac::verify_slice`; public-key verification does not branch on secret data.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};

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
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, n) = match self {
            Keys::Hmac(k) => ("hmac", k.len()),
            Keys::Ed25519(k) => ("ed25519", k.len()),
            Keys::EcdsaP256(k) => ("ecdsa-p256", k.len()),
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
        let decoded = secrets
            .iter()
            .enumerate()
            .map(|(index, s)| decode(index, encoding, strip_prefix, s.expose()))
            .collect::<Result<Vec<_>, _>>()?;
        let bad_key =
            |index: usize, reason: &'static str| VerifierConfigError::Key { index, reason };
        Ok(match algorithm {
            Algorithm::Sha1 => {
                Keys::Hmac(decoded.iter().map(|k| KeyedMac::Sha1(keyed(k))).collect())
            }
            Algorithm::Sha256 => {
                Keys::Hmac(decoded.iter().map(|k| KeyedMac::Sha256(keyed(k))).collect())
            }
            Algorithm::Sha512 => {
                Keys::Hmac(decoded.iter().map(|k| KeyedMac::Sha512(keyed(k))).collect())
            }
            Algorithm::Ed25519 => Keys::Ed25519(
                decoded
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
                decoded
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
        })
    }

    /// Whether this key set can sign (only HMAC: public keys cannot).
    pub(super) fn can_sign(&self) -> bool {
        matches!(self, Keys::Hmac(_))
    }

    /// The index of the first key under which `signature` is valid for `parts`. Every key is
    /// tried, so timing does not tell which one matched.
    pub(super) fn find(&self, parts: &[&[u8]], signature: &[u8]) -> Option<usize> {
        let mut matched = None;
        let mut record = |i: usize, ok: bool| {
            if ok && matched.is_none() {
                matched = Some(i);
            }
        };
        match self {
            Keys::Hmac(keys) => {
                for (i, k) in keys.iter().enumerate() {
                    record(i, k.matches(parts, signature));
                }
            }
            Keys::Ed25519(keys) => {
                let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
                    return None;
                };
                let message = parts.concat();
                for (i, k) in keys.iter().enumerate() {
                    record(i, k.verify_strict(&message, &sig).is_ok());
                }
            }
            Keys::EcdsaP256(keys) => {
                use p256::ecdsa::signature::Verifier as _;
                let Ok(sig) = p256::ecdsa::Signature::from_der(signature)
                    .or_else(|_| p256::ecdsa::Signature::from_slice(signature))
                else {
                    return None;
                };
                let message = parts.concat();
                for (i, k) in keys.iter().enumerate() {
                    record(i, k.verify(&message, &sig).is_ok());
                }
            }
        }
        matched
    }

    /// The HMAC of `parts` with the first key (for the `sign` command and tests).
    pub(super) fn sign(&self, parts: &[&[u8]]) -> Option<Vec<u8>> {
        match self {
            Keys::Hmac(keys) => keys.first().map(|k| k.compute(parts)),
            Keys::Ed25519(_) | Keys::EcdsaP256(_) => None,
        }
    }
}

fn decode(
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
