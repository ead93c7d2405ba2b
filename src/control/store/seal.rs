//! Sealing secrets at rest: AES-256-GCM with a random 96-bit nonce per seal, the webhook id as
//! associated data (a sealed secret copied to another record does not open), written as
//! `v1:` + base64(nonce ‖ ciphertext ‖ tag).

use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom as _, SystemRandom};

use crate::base::secret::Secret;

const PREFIX: &str = "v1:";

/// Why a sealed value does not open. Never contains the value.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("is not a sealed value of this gateway (expected `v1:` + base64)")]
    Format,
    #[error("does not open with this encryption key (wrong `[admin.store] encryption_key`, or the record was altered)")]
    Key,
    #[error("the system random number generator failed")]
    Random,
}

/// Seals and opens secrets with the store's key.
pub struct Sealer {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Result<Self, SealError> {
        let key = UnboundKey::new(&AES_256_GCM, key).map_err(|_| SealError::Key)?;
        Ok(Sealer {
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
        })
    }

    /// Seals `secret` for the record `id`.
    pub fn seal(&self, id: &str, secret: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let mut out = secret.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(id.as_bytes()),
                &mut out,
            )
            .map_err(|_| SealError::Key)?;
        let mut all = nonce.to_vec();
        all.extend_from_slice(&out);
        Ok(format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(all)
        ))
    }

    /// Opens a value [`Sealer::seal`] made for the record `id`.
    pub fn open(&self, id: &str, sealed: &str) -> Result<Secret, SealError> {
        let encoded = sealed.strip_prefix(PREFIX).ok_or(SealError::Format)?;
        let mut all = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| SealError::Format)?;
        if all.len() < NONCE_LEN {
            return Err(SealError::Format);
        }
        let mut body = all.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&all).map_err(|_| SealError::Format)?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(id.as_bytes()), &mut body)
            .map_err(|_| SealError::Key)?;
        Ok(Secret::new(plain.to_vec()))
    }

    /// `bytes` random bytes, for generated tokens and ids.
    pub fn random(&self, bytes: usize) -> Result<Vec<u8>, SealError> {
        let mut out = vec![0u8; bytes];
        self.random.fill(&mut out).map_err(|_| SealError::Random)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_record() {
        let sealer = Sealer::new(&[7; 32]).unwrap();
        let sealed = sealer.seal("wh_1", b"s3cret").unwrap();
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("s3cret"));
        assert_eq!(sealer.open("wh_1", &sealed).unwrap().expose(), b"s3cret");
        // Same secret, new nonce: a different sealed value.
        assert_ne!(sealer.seal("wh_1", b"s3cret").unwrap(), sealed);
        assert_eq!(sealer.open("wh_2", &sealed).unwrap_err(), SealError::Key);
        assert_eq!(
            Sealer::new(&[8; 32])
                .unwrap()
                .open("wh_1", &sealed)
                .unwrap_err(),
            SealError::Key
        );
        assert_eq!(sealer.open("wh_1", "plain").unwrap_err(), SealError::Format);
        assert_eq!(
            sealer.open("wh_1", "v1:AAAA").unwrap_err(),
            SealError::Format
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sealer.open("wh_1", &tampered).is_err());
    }
}
