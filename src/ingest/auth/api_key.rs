//! Static keys: a named header (`X-API-Key: <key>`, `X-Gitlab-Token: <token>`,
//! `Authorization: <secret>`) or `Authorization: Bearer <key>`.

use hyper::header::{HeaderMap, HeaderName, AUTHORIZATION};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AuthError;
use crate::base::secret::Secret;

#[derive(Debug)]
pub(super) struct ApiKeyVerifier {
    /// `None`: `Authorization: Bearer <key>`.
    header: Option<HeaderName>,
    /// SHA-256 of each key: comparing fixed-length digests in constant time hides both the
    /// content and the length of the keys.
    keys: Vec<[u8; 32]>,
    /// The first key, kept only for the `sign` command.
    sign_key: Option<Secret>,
}

impl ApiKeyVerifier {
    pub(super) fn new(header: Option<HeaderName>, secrets: Vec<Secret>) -> Self {
        let keys = secrets.iter().map(|s| digest(s.expose())).collect();
        ApiKeyVerifier {
            header,
            keys,
            sign_key: secrets.into_iter().next(),
        }
    }

    pub(super) fn label(&self) -> String {
        match &self.header {
            Some(h) => format!("api_key:{h}"),
            None => "api_key:authorization-bearer".to_owned(),
        }
    }

    pub(super) fn verify(&self, headers: &HeaderMap) -> Result<usize, AuthError> {
        let presented: &[u8] = match &self.header {
            Some(h) => headers.get(h).map(|v| v.as_bytes().trim_ascii()).ok_or(
                AuthError::MissingCredentials("the configured API key header"),
            )?,
            None => {
                let bearer = AuthError::MissingCredentials("`Authorization: Bearer <key>`");
                let value = headers.get(AUTHORIZATION).ok_or(bearer)?.as_bytes();
                match value.split_at_checked(7) {
                    Some((scheme, token)) if scheme.eq_ignore_ascii_case(b"bearer ") => {
                        token.trim_ascii()
                    }
                    _ => {
                        return Err(AuthError::MissingCredentials(
                            "`Authorization: Bearer <key>`",
                        ));
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

    pub(super) fn sign(&self) -> Vec<(String, String)> {
        let key = self
            .sign_key
            .as_ref()
            .map(|s| String::from_utf8_lossy(s.expose()).into_owned())
            .unwrap_or_default();
        match &self.header {
            Some(h) => vec![(h.to_string(), key)],
            None => vec![("Authorization".to_owned(), format!("Bearer {key}"))],
        }
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}
