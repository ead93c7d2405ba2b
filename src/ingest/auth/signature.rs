//! Signature schemes: where the signature and timestamp are, what was signed, and the replay
//! window. One generic, data-driven verifier covers every "signature in a header" provider:
//! GitHub's `sha256=<hex>`, Standard Webhooks' space-separated `v1,<b64>` list, Stripe's
//! `t=…,v1=…` fields, HubSpot's method + URL + body + timestamp, and so on; signatures in a
//! form field of the body over another field (Braintree's `bt_signature` over `bt_payload`) or
//! in a query parameter (PandaDoc); several signature headers, one per key (Box, DocuSign);
//! canonical forms built from parts of the request (Contentful's signed headers, Hygraph's
//! JSON wrapper); RFC 3339 timestamps (Orb, Box).

use std::borrow::Cow;

use base64::Engine as _;
use hyper::header::{HeaderMap, HeaderName};

use super::keys::{Keys, BASE64_LENIENT, BASE64_URL_LENIENT};
use super::{
    header_name, AuthError, Encoding, SignaturePlace, TimestampFormat, VerifierConfigError,
};
use crate::base::secret::Secret;
use crate::ingest::auth::SignatureConfig;
use crate::ingest::intake::Inbound;

#[derive(Debug)]
pub(super) struct SignatureVerifier {
    place: SignaturePlace,
    /// Other headers that may carry signatures (`also_headers`), checked like `place`.
    also_headers: Vec<HeaderName>,
    encoding: Encoding,
    layout: Layout,
    /// Each signature item starts with a key id ended by this (Braintree's `<public key>|`).
    key_id_separator: Option<Vec<u8>>,
    recipe: Vec<Part>,
    /// Other signed contents also accepted (`also_signed`), made of the same placeholders.
    alternatives: Vec<Vec<Part>>,
    /// Where `{secret}` is in `recipe`, then in each alternative (keyed plain hashes only).
    secret_slots: Vec<Vec<usize>>,
    timestamp: Option<TimestampRule>,
    /// The URL the provider calls, for recipes that sign it (`{url}`).
    public_url: Option<String>,
    /// The same URL with the scheme's default port written out, or left out if it was
    /// written: providers such as Twilio sign one or the other depending on their side.
    public_url_alt: Option<String>,
    keys: Keys,
}

/// How signatures are written in their header.
#[derive(Debug)]
enum Layout {
    /// `<prefix><signature>`.
    Single { prefix: String },
    /// Items separated by `separator`, each `<prefix><signature>`; items with another prefix
    /// (another scheme version) are ignored. Standard Webhooks: `v1,<b64> v1,<b64>`. With
    /// `timestamp_first`, the first item is the timestamp (Recurly: `<ms>,<sig>,<sig>`).
    List {
        prefix: String,
        separator: String,
        timestamp_first: bool,
    },
    /// `key=value` fields separated by `separator`; every field named `signature` is a
    /// candidate; `timestamp` names the timestamp field. Stripe: `t=…,v1=…,v1=…`.
    Fields {
        separator: String,
        signature: String,
        timestamp: Option<String>,
    },
}

#[derive(Debug)]
struct TimestampRule {
    source: TimestampSource,
    format: TimestampFormat,
    tolerance_secs: u64,
    /// Whether timestamps ahead of now are limited too (Stripe's SDK checks only age).
    limit_future: bool,
}

#[derive(Debug)]
enum TimestampSource {
    Header(HeaderName),
    /// A field of the signature header (`Layout::Fields`).
    Field(String),
    /// The first item of the signature header's list (`timestamp_first`).
    ListHead,
    /// A JSON pointer into the body (Linear's `webhookTimestamp`). Read only after the
    /// signature matched, since the body is then known to be the provider's.
    Body(String),
}

/// One piece of the signed content.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    Literal(Vec<u8>),
    Body,
    Timestamp,
    Method,
    Url,
    Header(HeaderName),
    /// Form fields sorted by name, each `name` + `value` (values of a repeated field sorted,
    /// duplicates dropped), concatenated: Twilio's scheme. For JSON bodies Twilio instead puts
    /// the body's SHA-256 (hex) in the URL's `bodySHA256` query parameter and signs no fields.
    FormParams,
    /// The (decoded) value of one form field of the body: Braintree's `bt_payload`.
    FormField(String),
    /// The secret itself, for keyed plain hashes (Recharge's `{secret}{body}`). Filled in per
    /// key by `Keys`; never part of anything logged.
    Secret,
    /// The request's path and query as received.
    Path,
    /// A `key=value` field of the signature header (`fields` layout): Hygraph's `env`.
    Field(String),
    /// The headers a request header names (Contentful's `x-contentful-signed-headers`), with
    /// that header and the timestamp header: `name:value` sorted by name, joined by `;`.
    SignedHeaders(HeaderName),
    /// Another part written as a JSON string literal, quotes included (Hygraph's body).
    Json(Box<Part>),
}

/// What the request yields besides its own parts, for [`SignatureVerifier::signed_parts`].
struct Context<'a> {
    inbound: &'a Inbound,
    timestamp: &'a [u8],
    url: Option<&'a str>,
    form: &'a [u8],
    form_fields: &'a [(String, String)],
    header_fields: &'a [(&'a [u8], &'a [u8])],
}

/// What the signature header yielded: encoded signature candidates and, for `Fields`, the
/// timestamp field.
struct Extracted<'a> {
    candidates: Vec<&'a [u8]>,
    timestamp: Option<&'a [u8]>,
    /// Every `key=value` field (`Layout::Fields`), for `{field:name}` recipe parts.
    fields: Vec<(&'a [u8], &'a [u8])>,
}

impl SignatureVerifier {
    pub(super) fn new(
        c: &SignatureConfig,
        secrets: &[Secret],
        public_url: Option<&str>,
    ) -> Result<Self, VerifierConfigError> {
        let recipe = parse_recipe(&c.signed)?;
        let alternatives = c
            .also_signed
            .iter()
            .map(|alt| {
                let parts = parse_recipe(alt)?;
                // Only placeholders `signed` has: every check made on `signed` holds for them.
                match parts
                    .iter()
                    .all(|p| matches!(p, Part::Literal(_)) || recipe.contains(p))
                {
                    true => Ok(parts),
                    false => Err(VerifierConfigError::Recipe {
                        recipe: alt.clone(),
                        reason: "an `also_signed` recipe may use only the placeholders of `signed`"
                            .to_owned(),
                    }),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let layout = match (&c.fields, &c.separator) {
            (Some(_), Some(_)) => return Err(VerifierConfigError::FieldsAndSeparator),
            (Some(f), None) => Layout::Fields {
                separator: f.separator.clone(),
                signature: f.signature.clone(),
                timestamp: f.timestamp.clone(),
            },
            (None, Some(sep)) if !sep.is_empty() => Layout::List {
                prefix: c.prefix.clone(),
                separator: sep.clone(),
                timestamp_first: c.timestamp_first,
            },
            (None, _) => Layout::Single {
                prefix: c.prefix.clone(),
            },
        };
        if c.timestamp_first && !matches!(layout, Layout::List { .. }) {
            return Err(VerifierConfigError::TimestampFirstWithoutList);
        }
        let source = match (&layout, &c.timestamp_header) {
            (
                Layout::List {
                    timestamp_first: true,
                    ..
                },
                Some(_),
            ) => return Err(VerifierConfigError::TwoTimestamps),
            (
                Layout::List {
                    timestamp_first: true,
                    ..
                },
                None,
            ) => Some(TimestampSource::ListHead),
            (
                Layout::Fields {
                    timestamp: Some(_), ..
                },
                Some(_),
            ) => {
                return Err(VerifierConfigError::TwoTimestamps);
            }
            (
                Layout::Fields {
                    timestamp: Some(f), ..
                },
                None,
            ) => Some(TimestampSource::Field(f.clone())),
            (_, Some(h)) => Some(TimestampSource::Header(header_name(h)?)),
            (_, None) => c.timestamp_pointer.clone().map(TimestampSource::Body),
        };
        if c.timestamp_pointer.is_some()
            && (c.timestamp_header.is_some() || uses(&recipe, &Part::Timestamp))
        {
            return Err(VerifierConfigError::BodyTimestamp);
        }
        let timestamp = match source {
            Some(source) => Some(TimestampRule {
                source,
                format: c.timestamp_format,
                tolerance_secs: c.tolerance_secs,
                limit_future: c.limit_future,
            }),
            None if uses(&recipe, &Part::Timestamp) => {
                return Err(VerifierConfigError::TimestampHeaderMissing);
            }
            None => None,
        };
        for parts in std::iter::once(&recipe).chain(&alternatives) {
            match (c.algorithm.is_keyed_hash(), parts.contains(&Part::Secret)) {
                (true, false) => {
                    return Err(VerifierConfigError::KeyedHashWithoutSecret(c.algorithm))
                }
                (false, true) => return Err(VerifierConfigError::SecretInRecipe(c.algorithm)),
                _ => {}
            }
        }
        let has_field = |parts: &[Part]| {
            parts.iter().any(|p| match p {
                Part::Json(inner) => matches!(**inner, Part::Field(_)),
                other => matches!(other, Part::Field(_)),
            })
        };
        if has_field(&recipe) && !matches!(layout, Layout::Fields { .. }) {
            return Err(VerifierConfigError::Recipe {
                recipe: c.signed.clone(),
                reason: "{field:…} reads a field of the signature header: set `fields`".to_owned(),
            });
        }
        if uses(&recipe, &Part::Url) && public_url.is_none() {
            return Err(VerifierConfigError::PublicUrlMissing);
        }
        let place = match (c.header.is_empty(), &c.form_field, &c.query_param) {
            (false, None, None) => SignaturePlace::Header(header_name(&c.header)?),
            (true, Some(field), None) if !field.is_empty() => {
                SignaturePlace::FormField(field.clone())
            }
            (true, None, Some(param)) if !param.is_empty() => SignaturePlace::Query(param.clone()),
            _ => return Err(VerifierConfigError::SignaturePlace),
        };
        if !c.also_headers.is_empty() && !matches!(place, SignaturePlace::Header(_)) {
            return Err(VerifierConfigError::AlsoHeadersWithoutHeader);
        }
        Ok(SignatureVerifier {
            place,
            also_headers: c
                .also_headers
                .iter()
                .map(|h| header_name(h))
                .collect::<Result<_, _>>()?,
            encoding: c.encoding,
            layout,
            key_id_separator: c
                .key_id_separator
                .as_ref()
                .filter(|s| !s.is_empty())
                .map(|s| s.as_bytes().to_vec()),
            secret_slots: std::iter::once(&recipe)
                .chain(&alternatives)
                .map(|r| secret_slots(r))
                .collect(),
            recipe,
            alternatives,
            timestamp,
            public_url: public_url.map(|u| u.trim_end_matches('?').to_owned()),
            public_url_alt: public_url
                .and_then(|u| other_default_port_form(u.trim_end_matches('?'))),
            keys: Keys::new(c.algorithm, c.key_encoding, &c.key_prefix, secrets)?,
        })
    }

    pub(super) fn place(&self) -> &SignaturePlace {
        &self.place
    }

    /// Checks the request; returns the index of the matching key.
    pub(super) fn verify(&self, inbound: &Inbound, now_unix: i64) -> Result<usize, AuthError> {
        let missing = || AuthError::MissingSignature(self.place.clone());
        let raw: Vec<std::borrow::Cow<'_, [u8]>> = match &self.place {
            SignaturePlace::Header(h) => std::iter::once(h)
                .chain(&self.also_headers)
                .filter_map(|h| inbound.headers.get(h))
                .map(|v| v.as_bytes().into())
                .collect(),
            SignaturePlace::FormField(f) => form_field(&inbound.body, f)
                .map(|v| v.into_bytes().into())
                .into_iter()
                .collect(),
            SignaturePlace::Query(q) => {
                form_field(inbound.uri.query().unwrap_or_default().as_bytes(), q)
                    .map(|v| v.into_bytes().into())
                    .into_iter()
                    .collect()
            }
            // Recipes read a header or a form field (`SignatureVerifier::new`).
            SignaturePlace::Body => vec![inbound.body.as_ref().into()],
            // Only certificate-URL recipes read JSON body fields.
            SignaturePlace::BodyField(_) => return Err(missing()),
        };
        if raw.is_empty() {
            return Err(missing());
        }
        let extracted = self.extract_every(&raw)?;
        let signatures = self.decode_all(&extracted.candidates)?;
        let timestamp = match &self.timestamp {
            Some(rule) if !matches!(rule.source, TimestampSource::Body(_)) => {
                Some(rule.check(&inbound.headers, extracted.timestamp, now_unix)?)
            }
            _ => None,
        };
        let form = match uses(&self.recipe, &Part::FormParams) {
            true => self.form_params(inbound)?,
            false => Vec::new(),
        };
        // URL recipes try the URL as configured, then with its default port toggled.
        let urls: Vec<Option<String>> = if uses(&self.recipe, &Part::Url) {
            [&self.public_url, &self.public_url_alt]
                .into_iter()
                .filter_map(|base| self.url(inbound, base.as_deref()).map(Some))
                .collect()
        } else {
            vec![None]
        };
        let fields = self.form_fields(&inbound.body)?;
        let mut matched = None;
        let recipes = std::iter::once(&self.recipe).chain(&self.alternatives);
        for (recipe, slots) in recipes.zip(&self.secret_slots) {
            for url in &urls {
                let cx = Context {
                    inbound,
                    timestamp: timestamp.unwrap_or_default(),
                    url: url.as_deref(),
                    form: &form,
                    form_fields: &fields,
                    header_fields: &extracted.fields,
                };
                let parts = self.signed_parts(recipe, &cx)?;
                let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_ref()).collect();
                let found = self.keys.find(&parts, slots, &signatures);
                if let (Some(i), None) = (found, matched) {
                    matched = Some(i);
                }
            }
        }
        let matched = matched.ok_or_else(|| AuthError::SignatureMismatch(self.place.clone()))?;
        if let Some(
            rule @ TimestampRule {
                source: TimestampSource::Body(pointer),
                ..
            },
        ) = &self.timestamp
        {
            rule.check_body(&inbound.body, pointer, now_unix)?;
        }
        Ok(matched)
    }

    fn malformed(&self, reason: &'static str) -> AuthError {
        AuthError::MalformedSignature {
            place: self.place.clone(),
            reason,
        }
    }

    /// The form fields the recipe signs (`{form:name}`), with their values. When
    /// the recipe signs only such fields, the body may hold nothing else but the signature
    /// field, each once: the whole form is published, so no unsigned field may ride along.
    fn form_fields(&self, body: &[u8]) -> Result<Vec<(String, String)>, AuthError> {
        let signed: Vec<&str> = self
            .recipe
            .iter()
            .filter_map(|part| match part {
                Part::FormField(name) => Some(name.as_str()),
                _ => None,
            })
            .collect();
        if signed.is_empty() {
            return Ok(Vec::new());
        }
        let whole = self
            .recipe
            .iter()
            .any(|p| matches!(p, Part::Body | Part::FormParams));
        if !whole {
            let own = match &self.place {
                SignaturePlace::FormField(f) => Some(f.as_str()),
                SignaturePlace::Header(_)
                | SignaturePlace::Query(_)
                | SignaturePlace::Body
                | SignaturePlace::BodyField(_) => None,
            };
            let mut seen = std::collections::HashSet::new();
            for (name, _) in form_urlencoded::parse(body) {
                let known = signed.contains(&name.as_ref()) || own == Some(name.as_ref());
                if !known || !seen.insert(name) {
                    return Err(self.malformed(
                        "the form has a field the signature does not cover, or repeats one",
                    ));
                }
            }
        }
        signed
            .iter()
            .map(|name| {
                let value = form_field(body, name).ok_or_else(|| {
                    AuthError::MissingSignedPart(SignaturePlace::FormField((*name).to_owned()))
                })?;
                Ok(((*name).to_owned(), value))
            })
            .collect()
    }

    /// The candidates of every signature header present; one that does not parse is skipped
    /// when another does (its error is reported when none does).
    fn extract_every<'a>(
        &self,
        raw: &'a [std::borrow::Cow<'a, [u8]>],
    ) -> Result<Extracted<'a>, AuthError> {
        let mut all = Extracted {
            candidates: Vec::new(),
            timestamp: None,
            fields: Vec::new(),
        };
        let mut first_error = None;
        for value in raw {
            match self.extract(value) {
                Ok(found) => {
                    all.candidates.extend(found.candidates);
                    all.timestamp = all.timestamp.or(found.timestamp);
                    all.fields.extend(found.fields);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match (all.candidates.is_empty(), first_error) {
            (true, Some(e)) => Err(e),
            _ => Ok(all),
        }
    }

    fn extract<'a>(&self, raw: &'a [u8]) -> Result<Extracted<'a>, AuthError> {
        let mut extracted = self.extract_items(raw)?;
        if let Some(sep) = &self.key_id_separator {
            // `<key id><sep><signature>`: the id names the key; every key is tried anyway.
            extracted.candidates = extracted
                .candidates
                .into_iter()
                .filter_map(|item| {
                    let at = item.windows(sep.len()).position(|w| w == sep.as_slice())?;
                    Some(&item[at + sep.len()..])
                })
                .collect();
            if extracted.candidates.is_empty() {
                return Err(self.malformed("no signature follows a key id"));
            }
        }
        Ok(extracted)
    }

    fn extract_items<'a>(&self, raw: &'a [u8]) -> Result<Extracted<'a>, AuthError> {
        let raw = raw.trim_ascii();
        match &self.layout {
            Layout::Single { prefix } => Ok(Extracted {
                candidates: vec![strip_prefix_ci(raw, prefix.as_bytes())
                    .ok_or_else(|| self.malformed("it does not start with the expected prefix"))?],
                timestamp: None,
                fields: Vec::new(),
            }),
            Layout::List {
                prefix,
                separator,
                timestamp_first,
            } => {
                let mut items = split(raw, separator.as_bytes()).into_iter();
                let timestamp = match timestamp_first {
                    true => items.next().map(<[u8]>::trim_ascii),
                    false => None,
                };
                let candidates: Vec<&[u8]> = items
                    .filter_map(|item| strip_prefix_ci(item.trim_ascii(), prefix.as_bytes()))
                    .collect();
                if candidates.is_empty() {
                    return Err(self.malformed("it holds no signature with the expected prefix"));
                }
                Ok(Extracted {
                    candidates,
                    timestamp,
                    fields: Vec::new(),
                })
            }
            Layout::Fields {
                separator,
                signature,
                timestamp,
            } => {
                let mut out = Extracted {
                    candidates: Vec::new(),
                    timestamp: None,
                    fields: Vec::new(),
                };
                for field in split(raw, separator.as_bytes()) {
                    let Some(eq) = field.iter().position(|b| *b == b'=') else {
                        continue;
                    };
                    let (key, value) = (field[..eq].trim_ascii(), field[eq + 1..].trim_ascii());
                    out.fields.push((key, value));
                    if key == signature.as_bytes() {
                        out.candidates.push(value);
                    } else if timestamp.as_deref().is_some_and(|t| key == t.as_bytes()) {
                        out.timestamp = Some(value);
                    }
                }
                if out.candidates.is_empty() {
                    return Err(
                        self.malformed("it holds no signature field of the expected version")
                    );
                }
                Ok(out)
            }
        }
    }

    fn decode_all(&self, candidates: &[&[u8]]) -> Result<Vec<Vec<u8>>, AuthError> {
        let decoded: Vec<Vec<u8>> = candidates
            .iter()
            .filter_map(|c| match self.encoding {
                Encoding::Hex => hex::decode(c).ok(),
                Encoding::Base64 => BASE64_LENIENT.decode(c).ok(),
                Encoding::Base64Url => BASE64_URL_LENIENT.decode(c).ok(),
            })
            .collect();
        if decoded.is_empty() {
            return Err(self.malformed(match self.encoding {
                Encoding::Hex => "the signature is not hexadecimal",
                Encoding::Base64 => "the signature is not base64",
                Encoding::Base64Url => "the signature is not URL-safe base64",
            }));
        }
        Ok(decoded)
    }

    /// `base` (a public URL) plus the request's query string, for `{url}`.
    fn url(&self, inbound: &Inbound, base: Option<&str>) -> Option<String> {
        let base = base?;
        Some(match inbound.uri.query() {
            Some(q) if !base.contains('?') => format!("{base}?{q}"),
            _ => base.to_owned(),
        })
    }

    /// The `{form_params}` bytes; for a JSON body, checks its `bodySHA256` instead.
    fn form_params(&self, inbound: &Inbound) -> Result<Vec<u8>, AuthError> {
        let query = inbound.uri.query().unwrap_or_default();
        let declared = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "bodySHA256")
            .map(|(_, v)| v.into_owned());
        if let Some(declared) = declared {
            use sha2::Digest as _;
            let actual = hex::encode(sha2::Sha256::digest(&inbound.body));
            if !actual.eq_ignore_ascii_case(&declared) {
                return Err(AuthError::SignatureMismatch(self.place.clone()));
            }
            return Ok(Vec::new());
        }
        let mut fields: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
            Default::default();
        for (k, v) in form_urlencoded::parse(&inbound.body) {
            fields
                .entry(k.into_owned())
                .or_default()
                .insert(v.into_owned());
        }
        let mut out = Vec::with_capacity(inbound.body.len());
        for (name, values) in &fields {
            for value in values {
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(value.as_bytes());
            }
        }
        Ok(out)
    }

    fn signed_parts<'a>(
        &'a self,
        recipe: &'a [Part],
        cx: &Context<'a>,
    ) -> Result<Vec<Cow<'a, [u8]>>, AuthError> {
        recipe.iter().map(|part| self.part(part, cx)).collect()
    }

    /// The bytes of one recipe part for this request.
    fn part<'a>(&'a self, part: &'a Part, cx: &Context<'a>) -> Result<Cow<'a, [u8]>, AuthError> {
        let missing_header =
            |name: &HeaderName| AuthError::MissingSignedPart(SignaturePlace::Header(name.clone()));
        Ok(match part {
            Part::FormField(name) => cx
                .form_fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_bytes())
                .ok_or_else(|| {
                    AuthError::MissingSignedPart(SignaturePlace::FormField(name.clone()))
                })?
                .into(),
            Part::Literal(bytes) => bytes.as_slice().into(),
            Part::Body => cx.inbound.body[..].into(),
            Part::Timestamp => cx.timestamp.into(),
            Part::Method => cx.inbound.method.as_str().as_bytes().into(),
            Part::Url => cx.url.unwrap_or_default().as_bytes().into(),
            Part::FormParams => cx.form.into(),
            // `Keys` hashes the secret here (see `secret_slots`).
            Part::Secret => Cow::Borrowed(&[][..]),
            Part::Path => cx
                .inbound
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .as_bytes()
                .into(),
            Part::Header(name) => cx
                .inbound
                .headers
                .get(name)
                .map(|v| v.as_bytes())
                .ok_or_else(|| missing_header(name))?
                .into(),
            Part::Field(name) => cx
                .header_fields
                .iter()
                .find(|(k, _)| *k == name.as_bytes())
                .map(|(_, v)| *v)
                .ok_or_else(|| {
                    self.malformed("a field that is part of the signed content is missing")
                })?
                .into(),
            Part::SignedHeaders(list) => self.signed_headers(list, cx.inbound)?.into(),
            Part::Json(inner) => {
                let value = self.part(inner, cx)?;
                let text = String::from_utf8_lossy(&value);
                serde_json::to_string(&*text)
                    .map_err(|_| self.malformed("a signed part cannot be written as JSON"))?
                    .into_bytes()
                    .into()
            }
        })
    }

    /// `{signed_headers:list}`: the headers that `list` names (comma-separated), plus `list`
    /// itself and the timestamp header, each as `name:value` (value trimmed), sorted by name and
    /// joined by `;`. Named headers the request lacks are left out; `list`'s own value is the
    /// sorted names of the headers included, joined by `,` (Contentful's canonical request).
    fn signed_headers(&self, list: &HeaderName, inbound: &Inbound) -> Result<Vec<u8>, AuthError> {
        let listed = inbound
            .headers
            .get(list)
            .ok_or_else(|| AuthError::MissingSignedPart(SignaturePlace::Header(list.clone())))?;
        let mut names: Vec<HeaderName> = listed
            .as_bytes()
            .split(|b| *b == b',')
            .filter_map(|n| HeaderName::from_bytes(n.trim_ascii()).ok())
            .filter(|n| inbound.headers.contains_key(n))
            .collect();
        names.push(list.clone());
        if let Some(TimestampRule {
            source: TimestampSource::Header(ts),
            ..
        }) = &self.timestamp
        {
            names.push(ts.clone());
        }
        names.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        names.dedup();
        let joined = names
            .iter()
            .map(HeaderName::as_str)
            .collect::<Vec<_>>()
            .join(",");
        let mut out = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                out.push(b';');
            }
            out.extend_from_slice(name.as_str().as_bytes());
            out.push(b':');
            match name == list {
                true => out.extend_from_slice(joined.as_bytes()),
                false => {
                    let value = inbound.headers.get(name).map(|v| v.as_bytes().trim_ascii());
                    out.extend_from_slice(value.unwrap_or_default());
                }
            }
        }
        Ok(out)
    }

    /// Headers that sign `body` at `now_unix` with the first key. `given` are headers the
    /// caller sets anyway; recipe headers it lacks are filled with fresh ids.
    pub(super) fn sign(
        &self,
        body: &[u8],
        now_unix: i64,
        given: &[(String, String)],
    ) -> Result<Vec<(String, String)>, String> {
        if !self.keys.can_sign() {
            return Err("this source verifies a public-key signature; only the provider's private key can sign".to_owned());
        }
        let SignaturePlace::Header(header) = &self.place else {
            return Err(
                "this provider signs inside the body; the sign command cannot add it".to_owned(),
            );
        };
        let mut out: Vec<(String, String)> = Vec::new();
        let mut headers = HeaderMap::new();
        for (k, v) in given {
            if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), v.parse()) {
                headers.insert(k, v);
            }
        }
        let ts = self
            .timestamp
            .as_ref()
            .map(|rule| format_timestamp(rule.format, now_unix));
        if let (Some(rule), Some(ts)) = (&self.timestamp, &ts) {
            if let TimestampSource::Header(h) = &rule.source {
                out.push((h.to_string(), ts.clone()));
            }
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
        let inbound = Inbound::new(headers, bytes::Bytes::copy_from_slice(body), None);
        let url = self.url(&inbound, self.public_url.as_deref());
        let ts_bytes = ts.as_deref().unwrap_or_default().as_bytes();
        let form = match uses(&self.recipe, &Part::FormParams) {
            true => self.form_params(&inbound).map_err(|e| e.to_string())?,
            false => Vec::new(),
        };
        let cx = Context {
            inbound: &inbound,
            timestamp: ts_bytes,
            url: url.as_deref(),
            form: &form,
            form_fields: &[],
            header_fields: &[],
        };
        let parts = self
            .signed_parts(&self.recipe, &cx)
            .map_err(|e| e.to_string())?;
        let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_ref()).collect();
        let mac = self
            .keys
            .sign(
                &parts,
                self.secret_slots.first().map_or(&[][..], Vec::as_slice),
            )
            .ok_or("no key to sign with")?;
        let encoded = match self.encoding {
            Encoding::Hex => hex::encode(mac),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(mac),
            Encoding::Base64Url => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac),
        };
        let value = match &self.layout {
            Layout::List {
                prefix,
                separator,
                timestamp_first: true,
            } => format!("{}{separator}{prefix}{encoded}", ts.unwrap_or_default()),
            Layout::Single { prefix } | Layout::List { prefix, .. } => format!("{prefix}{encoded}"),
            Layout::Fields {
                separator,
                signature,
                timestamp,
            } => match (timestamp, &ts) {
                (Some(t), Some(ts)) => format!("{t}={ts}{separator}{signature}={encoded}"),
                _ => format!("{signature}={encoded}"),
            },
        };
        out.push((header.to_string(), value));
        Ok(out)
    }
}

impl TimestampRule {
    /// Checks the window; returns the timestamp as sent, for the signed content.
    fn check<'a>(
        &self,
        headers: &'a HeaderMap,
        field: Option<&'a [u8]>,
        now_unix: i64,
    ) -> Result<&'a [u8], AuthError> {
        let (raw, place) = match &self.source {
            TimestampSource::Header(h) => (
                headers.get(h).map(|v| v.as_bytes()),
                format!("`{h}` header"),
            ),
            TimestampSource::Field(f) => (field, format!("`{f}` field of the signature header")),
            TimestampSource::ListHead => (field, "first item of the signature header".to_owned()),
            TimestampSource::Body(p) => (None, format!("body `{p}`")),
        };
        let raw = raw.ok_or_else(|| AuthError::MissingTimestamp(place.clone()))?;
        let secs = std::str::from_utf8(raw)
            .ok()
            .and_then(|s| unix_seconds(self.format, s))
            .ok_or_else(|| self.malformed(place))?;
        self.window(secs, now_unix)?;
        Ok(raw.trim_ascii())
    }

    fn malformed(&self, place: String) -> AuthError {
        AuthError::MalformedTimestamp {
            place,
            expected: self.format.expected(),
        }
    }

    /// The timestamp at `pointer` in the (verified) JSON body.
    fn check_body(&self, body: &[u8], pointer: &str, now_unix: i64) -> Result<(), AuthError> {
        let place = || format!("body `{pointer}`");
        let json: serde_json::Value =
            serde_json::from_slice(body).map_err(|_| AuthError::MissingTimestamp(place()))?;
        let secs = match json.pointer(pointer) {
            None | Some(serde_json::Value::Null) => {
                return Err(AuthError::MissingTimestamp(place()))
            }
            Some(serde_json::Value::Number(n)) => match (self.format, n.as_i64()) {
                (TimestampFormat::UnixSeconds, Some(secs)) => Some(secs),
                (TimestampFormat::UnixMillis, Some(ms)) => Some(ms.div_euclid(1000)),
                _ => None,
            },
            Some(serde_json::Value::String(s)) => unix_seconds(self.format, s),
            Some(_) => None,
        };
        self.window(secs.ok_or_else(|| self.malformed(place()))?, now_unix)
    }

    /// Checks `secs` (seconds since the epoch) against the replay window.
    fn window(&self, secs: i64, now_unix: i64) -> Result<(), AuthError> {
        let tolerance = i64::try_from(self.tolerance_secs).unwrap_or(i64::MAX);
        let age = now_unix.saturating_sub(secs);
        if age > tolerance {
            return Err(AuthError::StaleTimestamp {
                age_secs: age,
                tolerance_secs: self.tolerance_secs,
            });
        }
        if self.limit_future && age.saturating_neg() > tolerance {
            return Err(AuthError::FutureTimestamp {
                ahead_secs: age.saturating_neg(),
                tolerance_secs: self.tolerance_secs,
            });
        }
        Ok(())
    }
}

/// Whether `recipe` has `part`, alone or inside `{json:…}`.
fn uses(recipe: &[Part], part: &Part) -> bool {
    recipe.iter().any(|p| match p {
        Part::Json(inner) => **inner == *part,
        other => other == part,
    })
}

/// Where a recipe's `{secret}` parts are, for keyed plain hashes.
fn secret_slots(recipe: &[Part]) -> Vec<usize> {
    recipe
        .iter()
        .enumerate()
        .filter(|(_, p)| **p == Part::Secret)
        .map(|(i, _)| i)
        .collect()
}

/// Seconds since the epoch of a timestamp written in `format`, or `None` if it is not one.
/// Sub-second parts are dropped (the window counts whole seconds).
fn unix_seconds(format: TimestampFormat, text: &str) -> Option<i64> {
    let text = text.trim();
    match format {
        TimestampFormat::UnixSeconds => text.parse().ok(),
        TimestampFormat::UnixMillis => text.parse::<i64>().ok().map(|ms| ms.div_euclid(1000)),
        TimestampFormat::Rfc3339 => {
            use time::format_description::well_known::Rfc3339;
            // RFC 3339 proper, or the same shape without an offset, read as UTC (Orb).
            const NO_OFFSET: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
            );
            time::OffsetDateTime::parse(text, &Rfc3339)
                .or_else(|_| {
                    time::PrimitiveDateTime::parse(text, NO_OFFSET).map(|t| t.assume_utc())
                })
                .ok()
                .map(|t| t.unix_timestamp())
        }
    }
}

/// The timestamp header's text for `now_unix` in `format` (for `sign`).
fn format_timestamp(format: TimestampFormat, now_unix: i64) -> String {
    match format {
        TimestampFormat::UnixSeconds => now_unix.to_string(),
        TimestampFormat::UnixMillis => now_unix.saturating_mul(1000).to_string(),
        TimestampFormat::Rfc3339 => time::OffsetDateTime::from_unix_timestamp(now_unix)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default(),
    }
}

/// The decoded value of the first field `name` of a form-encoded body.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn strip_prefix_ci<'a>(value: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    (value.len() >= prefix.len() && value[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &value[prefix.len()..])
}

/// Splits on `separator`, dropping empty items.
fn split<'a>(value: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut items = Vec::new();
    let mut rest = value;
    if !separator.is_empty() {
        while let Some(at) = rest.windows(separator.len()).position(|w| w == separator) {
            items.push(&rest[..at]);
            rest = &rest[at + separator.len()..];
        }
    }
    items.push(rest);
    items.retain(|item| !item.trim_ascii().is_empty());
    items
}

/// Compiles `"{timestamp}.{body}"`-style recipes. Placeholders: `{body}`, `{timestamp}`,
/// `{method}`, `{url}`, `{path}`, `{form_params}`, `{secret}`, `{header:Name}`, `{form:name}`,
/// `{field:name}`, `{signed_headers:Name}` and `{json:<placeholder>}`; `{{` and `}}` are
/// literal braces; everything else is literal.
fn parse_recipe(recipe: &str) -> Result<Vec<Part>, VerifierConfigError> {
    let err = |reason: String| VerifierConfigError::Recipe {
        recipe: recipe.to_owned(),
        reason,
    };
    let mut parts = Vec::new();
    let mut literal = Vec::new();
    let mut rest = recipe;
    while let Some(at) = rest.find(['{', '}']) {
        literal.extend_from_slice(&rest.as_bytes()[..at]);
        let tail = &rest[at..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            literal.push(tail.as_bytes()[0]);
            rest = &tail[2..];
            continue;
        }
        if let Some(after) = tail.strip_prefix('}') {
            // A lone `}` is literal, as it always was.
            literal.push(b'}');
            rest = after;
            continue;
        }
        let close = tail
            .find('}')
            .ok_or_else(|| err("a `{` is never closed".to_owned()))?;
        if !literal.is_empty() {
            parts.push(Part::Literal(std::mem::take(&mut literal)));
        }
        let name = &tail[1..close];
        parts.push(match name.strip_prefix("json:") {
            Some(inner) => match placeholder(inner).map_err(|e| e.map(&err))? {
                Part::Secret => {
                    return Err(err(
                        "{json:…} takes a value of the request, not {json:…} or {secret}"
                            .to_owned(),
                    ))
                }
                inner => Part::Json(Box::new(inner)),
            },
            None => placeholder(name).map_err(|e| e.map(&err))?,
        });
        rest = &tail[close + 1..];
    }
    literal.extend_from_slice(rest.as_bytes());
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
    }
    // The signature must cover the delivery: the whole body, or form fields of it.
    let covers = |p: &Part| matches!(p, Part::Body | Part::FormParams | Part::FormField(_));
    let covers_body = parts.iter().any(|p| match p {
        Part::Json(inner) => covers(inner),
        other => covers(other),
    });
    if !covers_body {
        return Err(err(
            "it must include {body} (or {form_params} or {form:name})".to_owned(),
        ));
    }
    Ok(parts)
}

/// Why a placeholder is refused: a bad header name, or an unknown placeholder.
enum PlaceholderError {
    Header(VerifierConfigError),
    Unknown(String),
}

impl PlaceholderError {
    fn map(self, err: &impl Fn(String) -> VerifierConfigError) -> VerifierConfigError {
        match self {
            PlaceholderError::Header(e) => e,
            PlaceholderError::Unknown(name) => err(format!(
                "unknown placeholder `{{{name}}}` (use {{body}}, {{timestamp}}, {{method}}, \
                 {{url}}, {{path}}, {{form_params}}, {{secret}}, {{header:Name}}, \
                 {{form:name}}, {{field:name}}, {{signed_headers:Name}} or {{json:…}})"
            )),
        }
    }
}

fn placeholder(name: &str) -> Result<Part, PlaceholderError> {
    let header = |h: &str| header_name(h).map_err(PlaceholderError::Header);
    Ok(match name {
        "body" => Part::Body,
        "timestamp" => Part::Timestamp,
        "method" => Part::Method,
        "url" => Part::Url,
        "path" => Part::Path,
        "form_params" => Part::FormParams,
        "secret" => Part::Secret,
        _ => match name.split_once(':') {
            Some(("header", h)) => Part::Header(header(h)?),
            Some(("signed_headers", h)) => Part::SignedHeaders(header(h)?),
            Some(("form", f)) if !f.is_empty() => Part::FormField(f.to_owned()),
            Some(("field", f)) if !f.is_empty() => Part::Field(f.to_owned()),
            _ => return Err(PlaceholderError::Unknown(name.to_owned())),
        },
    })
}

/// `url` with its scheme's default port (443 for https, 80 for http) written out if it was
/// left out, or left out if it was written; `None` for another port or a URL that does not
/// parse.
fn other_default_port_form(url: &str) -> Option<String> {
    let uri: hyper::Uri = url.parse().ok()?;
    let default = match uri.scheme_str()? {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let authority = uri.authority()?;
    let host = authority.host();
    let rest = uri.path_and_query().map(|p| p.as_str()).unwrap_or("");
    // `Uri` turns an empty path into "/"; keep the configured form.
    let rest = if url.ends_with(authority.as_str()) {
        ""
    } else {
        rest
    };
    let scheme = uri.scheme_str()?;
    match authority.port_u16() {
        None => Some(format!("{scheme}://{host}:{default}{rest}")),
        Some(p) if p == default => Some(format!("{scheme}://{host}{rest}")),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_skips_empty_items() {
        let items = split(b"a, b,,c", b",");
        assert_eq!(items, vec![&b"a"[..], b" b", b"c"]);
        let items = split(b"v1,x v1,y", b" ");
        assert_eq!(items, vec![&b"v1,x"[..], b"v1,y"]);
    }

    #[test]
    fn recipes_know_every_placeholder() {
        let parts = parse_recipe("{method}{url}{body}{timestamp}").expect("recipe");
        assert_eq!(
            parts,
            vec![Part::Method, Part::Url, Part::Body, Part::Timestamp]
        );
    }

    #[test]
    fn timestamps_are_read_in_their_format() {
        use TimestampFormat::{Rfc3339, UnixMillis, UnixSeconds};
        let cases: &[(TimestampFormat, &str, Option<i64>)] = &[
            (UnixSeconds, "1577862000", Some(1_577_862_000)),
            (UnixSeconds, " 1577862000 ", Some(1_577_862_000)),
            (UnixSeconds, "1577862000.5", None),
            (UnixMillis, "1577862000999", Some(1_577_862_000)),
            (UnixMillis, "-1", Some(-1)),
            (Rfc3339, "2020-01-01T00:00:00-07:00", Some(1_577_862_000)),
            (Rfc3339, "2020-01-01T07:00:00Z", Some(1_577_862_000)),
            (
                Rfc3339,
                "2020-01-01T07:00:00.999999999Z",
                Some(1_577_862_000),
            ),
            (Rfc3339, "2020-01-01T07:00:00+00:00", Some(1_577_862_000)),
            // No offset: UTC (Orb), with or without fractional seconds.
            (Rfc3339, "2020-01-01T07:00:00", Some(1_577_862_000)),
            (Rfc3339, "2020-01-01T07:00:00.551", Some(1_577_862_000)),
            (Rfc3339, "2020-01-01", None),
            (Rfc3339, "2020-01-01T07:00", None),
            (Rfc3339, "2020-13-01T07:00:00Z", None),
            (Rfc3339, "2020-01-01T07:00:00+25:00", None),
            (Rfc3339, "1577862000", None),
            (Rfc3339, "", None),
            (UnixSeconds, "2020-01-01T07:00:00Z", None),
        ];
        for (format, text, want) in cases {
            assert_eq!(unix_seconds(*format, text), *want, "{format:?} {text:?}");
        }
        assert_eq!(format_timestamp(Rfc3339, 0), "1970-01-01T00:00:00Z");
        assert_eq!(format_timestamp(UnixMillis, 2), "2000");
    }

    #[test]
    fn recipes_have_escaped_braces_json_literals_and_header_fields() {
        let parts = parse_recipe(r#"{{"B":{json:body},"E":{json:field:env}}} }"#).expect("recipe");
        assert_eq!(
            parts,
            vec![
                Part::Literal(br#"{"B":"#.to_vec()),
                Part::Json(Box::new(Part::Body)),
                Part::Literal(br#","E":"#.to_vec()),
                Part::Json(Box::new(Part::Field("env".to_owned()))),
                Part::Literal(b"} }".to_vec()),
            ]
        );
        let parts =
            parse_recipe("{path}{signed_headers:X-List}{json:header:X-A}{body}").expect("recipe");
        assert_eq!(parts[0], Part::Path);
        assert_eq!(
            parts[1],
            Part::SignedHeaders(HeaderName::from_static("x-list"))
        );
        let refused = |recipe: &str| {
            parse_recipe(recipe)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(refused("{json:secret}{body}").contains("not {json:…} or {secret}"));
        assert!(refused("{json:json:body}").contains("unknown placeholder `{json:body}`"));
        assert!(refused("{json:nope}{body}").contains("unknown placeholder `{nope}`"));
        assert!(refused("{field:}{body}").contains("unknown placeholder"));
        // A JSON-wrapped body still covers the body.
        assert!(parse_recipe("{json:body}").is_ok());
        assert!(refused("{json:timestamp}").contains("must include {body}"));
    }

    #[test]
    fn the_default_port_is_toggled_for_url_recipes() {
        let alt = |u| other_default_port_form(u);
        assert_eq!(
            alt("https://h.example.com/sms?x=1").as_deref(),
            Some("https://h.example.com:443/sms?x=1")
        );
        assert_eq!(
            alt("https://h.example.com:443/sms").as_deref(),
            Some("https://h.example.com/sms")
        );
        assert_eq!(
            alt("http://h.example.com").as_deref(),
            Some("http://h.example.com:80")
        );
        assert_eq!(alt("https://h.example.com:8443/sms"), None);
        assert_eq!(alt("not a url"), None);
    }
}
