//! Static keys: a named header (`X-API-Key: <key>`, `X-Gitlab-Token: <token>`,
//! `Authorization: <secret>`) or `Authorization: Bearer <key>`; a query parameter
//! (`?code=<key>`, Azure Event Grid); or a string in the JSON body, in every item of an array
//! (`/value/*/clientState`, Microsoft Graph). Each is compared with the keys as SHA-256
//! digests, in constant time.

use hyper::header::{HeaderMap, HeaderName, AUTHORIZATION};
use sha2::{Digest, Sha256};
use sonic_rs::{JsonContainerTrait as _, JsonValueTrait as _};
use subtle::ConstantTimeEq;

use super::AuthError;
use crate::base::json::{self, Document, Pointer};
use crate::base::secret::Secret;
use crate::ingest::intake::Inbound;

/// Where the key is presented.
#[derive(Debug)]
pub(super) enum Place {
    /// A header; `None`: `Authorization: Bearer <key>`.
    Header(Option<HeaderName>),
    /// A query parameter of the request URL.
    Query(String),
    /// A string in the JSON body: at `array` (an array, every item of which carries it at
    /// `item`), or at `item` alone when there is no `*`.
    Body {
        array: Option<Pointer>,
        item: Pointer,
        text: String,
    },
}

impl Place {
    /// `pointer` with at most one `*` segment (every item of the array there).
    pub(super) fn body(pointer: &str) -> Option<Place> {
        let (array, item) = match pointer.split_once("/*") {
            Some((before, after)) if after.is_empty() || after.starts_with('/') => {
                (Some(Pointer::parse(before)?), Pointer::parse(after)?)
            }
            Some(_) => return None,
            None => (None, Pointer::parse(pointer)?),
        };
        if pointer.matches("/*").count() > 1 || pointer.is_empty() {
            return None;
        }
        Some(Place::Body {
            array,
            item,
            text: pointer.to_owned(),
        })
    }
}

/// Deepest body read for a body token; Graph's notifications nest about four levels.
const BODY_DEPTH: usize = json::DEFAULT_MAX_DEPTH;

#[derive(Debug)]
pub(super) struct ApiKeyVerifier {
    place: Place,
    /// SHA-256 of each key: comparing fixed-length digests in constant time hides both the
    /// content and the length of the keys.
    keys: Vec<[u8; 32]>,
    /// The first key, kept only for the `sign` command.
    sign_key: Option<Secret>,
}

impl ApiKeyVerifier {
    pub(super) fn new(place: Place, secrets: Vec<Secret>) -> Self {
        let keys = secrets.iter().map(|s| digest(s.expose())).collect();
        ApiKeyVerifier {
            place,
            keys,
            sign_key: secrets.into_iter().next(),
        }
    }

    pub(super) fn label(&self) -> String {
        match &self.place {
            Place::Header(Some(h)) => format!("api_key:{h}"),
            Place::Header(None) => "api_key:authorization-bearer".to_owned(),
            Place::Query(p) => format!("api_key:query.{p}"),
            Place::Body { text, .. } => format!("api_key:body{text}"),
        }
    }

    pub(super) fn verify(&self, inbound: &Inbound) -> Result<usize, AuthError> {
        match &self.place {
            Place::Header(header) => {
                self.matches(presented_header(header.as_ref(), &inbound.headers)?)
            }
            Place::Query(name) => {
                let query = inbound.uri.query().unwrap_or_default();
                let value = form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == name.as_str())
                    .map(|(_, v)| v)
                    .ok_or(AuthError::MissingCredentials(
                        "the configured query parameter",
                    ))?;
                self.matches(value.as_bytes())
            }
            Place::Body { array, item, .. } => {
                let missing = || {
                    AuthError::MissingCredentials("the token in the JSON body, where configured")
                };
                let document = json::parse(&inbound.body, BODY_DEPTH).map_err(|_| missing())?;
                let items: Vec<&Document> = match array {
                    None => vec![&document],
                    Some(a) => a
                        .find(&document)
                        .and_then(|v| v.as_array())
                        .map(|v| v.iter().collect())
                        .ok_or_else(missing)?,
                };
                if items.is_empty() {
                    return Err(missing());
                }
                // Every item must carry a key: one forged item must not ride along.
                let mut first = None;
                for node in items {
                    let token = item
                        .find(node)
                        .and_then(|v| v.as_str())
                        .ok_or_else(missing)?;
                    let index = self.matches(token.as_bytes())?;
                    first.get_or_insert(index);
                }
                first.ok_or_else(missing)
            }
        }
    }

    /// Which key `presented` is.
    fn matches(&self, presented: &[u8]) -> Result<usize, AuthError> {
        let presented = digest(presented);
        let mut matched = None;
        for (i, key) in self.keys.iter().enumerate() {
            if bool::from(key.ct_eq(&presented)) && matched.is_none() {
                matched = Some(i);
            }
        }
        matched.ok_or(AuthError::InvalidCredentials)
    }

    pub(super) fn sign(&self) -> Result<Vec<(String, String)>, String> {
        let key = self
            .sign_key
            .as_ref()
            .map(|s| String::from_utf8_lossy(s.expose()).into_owned())
            .unwrap_or_default();
        match &self.place {
            Place::Header(Some(h)) => Ok(vec![(h.to_string(), key)]),
            Place::Header(None) => Ok(vec![("Authorization".to_owned(), format!("Bearer {key}"))]),
            Place::Query(p) => Err(format!("this source's key goes in the URL: add ?{p}=<key>")),
            Place::Body { text, .. } => Err(format!(
                "this source's key goes in the body, at {text}; the sign command cannot add it"
            )),
        }
    }
}

/// The key in a header (or the bearer token).
fn presented_header<'a>(
    header: Option<&HeaderName>,
    headers: &'a HeaderMap,
) -> Result<&'a [u8], AuthError> {
    match header {
        Some(h) => {
            headers
                .get(h)
                .map(|v| v.as_bytes().trim_ascii())
                .ok_or(AuthError::MissingCredentials(
                    "the configured API key header",
                ))
        }
        None => {
            let bearer = AuthError::MissingCredentials("`Authorization: Bearer <key>`");
            let value = headers.get(AUTHORIZATION).ok_or(bearer)?.as_bytes();
            match value.split_at_checked(7) {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case(b"bearer ") => {
                    Ok(token.trim_ascii())
                }
                _ => Err(AuthError::MissingCredentials(
                    "`Authorization: Bearer <key>`",
                )),
            }
        }
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}
