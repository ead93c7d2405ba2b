//! Signature schemes: where the signature and timestamp are, what was signed, and the replay
//! window. One generic, data-driven verifier covers every "signature in a header" provider:
//! GitHub's `sha256=<hex>`, Standard Webhooks' space-separated `v1,<b64>` list, Stripe's
//! `t=…,v1=…` fields, HubSpot's method + URL + body + timestamp, and so on; and signatures in a
//! form field of the body over another field (Braintree's `bt_signature` over `bt_payload`).

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
    encoding: Encoding,
    layout: Layout,
    /// Each signature item starts with a key id ended by this (Braintree's `<public key>|`).
    key_id_separator: Option<Vec<u8>>,
    recipe: Vec<Part>,
    /// Other signed contents also accepted (`also_signed`), made of the same placeholders.
    alternatives: Vec<Vec<Part>>,
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
    /// (another scheme version) are ignored. Standard Webhooks: `v1,<b64> v1,<b64>`.
    List { prefix: String, separator: String },
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
}

/// What the signature header yielded: encoded signature candidates and, for `Fields`, the
/// timestamp field.
struct Extracted<'a> {
    candidates: Vec<&'a [u8]>,
    timestamp: Option<&'a [u8]>,
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
            },
            (None, _) => Layout::Single {
                prefix: c.prefix.clone(),
            },
        };
        let source = match (&layout, &c.timestamp_header) {
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
            && (c.timestamp_header.is_some() || recipe.contains(&Part::Timestamp))
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
            None if recipe.contains(&Part::Timestamp) => {
                return Err(VerifierConfigError::TimestampHeaderMissing);
            }
            None => None,
        };
        if recipe.contains(&Part::Url) && public_url.is_none() {
            return Err(VerifierConfigError::PublicUrlMissing);
        }
        let place = match (c.header.is_empty(), &c.form_field) {
            (false, None) => SignaturePlace::Header(header_name(&c.header)?),
            (true, Some(field)) if !field.is_empty() => SignaturePlace::FormField(field.clone()),
            _ => return Err(VerifierConfigError::SignaturePlace),
        };
        Ok(SignatureVerifier {
            place,
            encoding: c.encoding,
            layout,
            key_id_separator: c
                .key_id_separator
                .as_ref()
                .filter(|s| !s.is_empty())
                .map(|s| s.as_bytes().to_vec()),
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
        let raw: std::borrow::Cow<'_, [u8]> = match &self.place {
            SignaturePlace::Header(h) => inbound
                .headers
                .get(h)
                .ok_or_else(missing)?
                .as_bytes()
                .into(),
            SignaturePlace::FormField(f) => form_field(&inbound.body, f)
                .ok_or_else(missing)?
                .into_bytes()
                .into(),
            // Only certificate-URL recipes read JSON body fields.
            SignaturePlace::BodyField(_) => return Err(missing()),
        };
        let extracted = self.extract(&raw)?;
        let signatures = self.decode_all(&extracted.candidates)?;
        let timestamp = match &self.timestamp {
            Some(rule) if !matches!(rule.source, TimestampSource::Body(_)) => {
                Some(rule.check(&inbound.headers, extracted.timestamp, now_unix)?)
            }
            _ => None,
        };
        let form = match self.recipe.contains(&Part::FormParams) {
            true => self.form_params(inbound)?,
            false => Vec::new(),
        };
        // URL recipes try the URL as configured, then with its default port toggled.
        let urls: Vec<Option<String>> = if self.recipe.contains(&Part::Url) {
            [&self.public_url, &self.public_url_alt]
                .into_iter()
                .filter_map(|base| self.url(inbound, base.as_deref()).map(Some))
                .collect()
        } else {
            vec![None]
        };
        let fields = self.form_fields(&inbound.body)?;
        let mut matched = None;
        for recipe in std::iter::once(&self.recipe).chain(&self.alternatives) {
            for url in &urls {
                let parts = self.signed_parts(
                    recipe,
                    inbound,
                    timestamp.unwrap_or_default(),
                    url.as_deref(),
                    &form,
                    &fields,
                )?;
                if let (Some(i), None) = (self.keys.find(&parts, &signatures), matched) {
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
                SignaturePlace::Header(_) | SignaturePlace::BodyField(_) => None,
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
            }),
            Layout::List { prefix, separator } => {
                let candidates: Vec<&[u8]> = split(raw, separator.as_bytes())
                    .into_iter()
                    .filter_map(|item| strip_prefix_ci(item.trim_ascii(), prefix.as_bytes()))
                    .collect();
                if candidates.is_empty() {
                    return Err(self.malformed("it holds no signature with the expected prefix"));
                }
                Ok(Extracted {
                    candidates,
                    timestamp: None,
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
                };
                for field in split(raw, separator.as_bytes()) {
                    let Some(eq) = field.iter().position(|b| *b == b'=') else {
                        continue;
                    };
                    let (key, value) = (field[..eq].trim_ascii(), field[eq + 1..].trim_ascii());
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

    #[allow(clippy::too_many_arguments)]
    fn signed_parts<'a>(
        &'a self,
        recipe: &'a [Part],
        inbound: &'a Inbound,
        timestamp: &'a [u8],
        url: Option<&'a str>,
        form: &'a [u8],
        fields: &'a [(String, String)],
    ) -> Result<Vec<&'a [u8]>, AuthError> {
        recipe
            .iter()
            .map(|part| match part {
                Part::FormField(name) => fields
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_bytes())
                    .ok_or_else(|| {
                        AuthError::MissingSignedPart(SignaturePlace::FormField(name.clone()))
                    }),
                Part::Literal(bytes) => Ok(bytes.as_slice()),
                Part::Body => Ok(&inbound.body[..]),
                Part::Timestamp => Ok(timestamp),
                Part::Method => Ok(inbound.method.as_str().as_bytes()),
                Part::Url => Ok(url.unwrap_or_default().as_bytes()),
                Part::FormParams => Ok(form),
                Part::Header(name) => {
                    inbound
                        .headers
                        .get(name)
                        .map(|v| v.as_bytes())
                        .ok_or_else(|| {
                            AuthError::MissingSignedPart(SignaturePlace::Header(name.clone()))
                        })
                }
            })
            .collect()
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
        let ts = self.timestamp.as_ref().map(|rule| match rule.format {
            TimestampFormat::UnixSeconds => now_unix.to_string(),
            TimestampFormat::UnixMillis => (now_unix * 1000).to_string(),
        });
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
        let form = match self.recipe.contains(&Part::FormParams) {
            true => self.form_params(&inbound).map_err(|e| e.to_string())?,
            false => Vec::new(),
        };
        let parts = self
            .signed_parts(&self.recipe, &inbound, ts_bytes, url.as_deref(), &form, &[])
            .map_err(|e| e.to_string())?;
        let mac = self.keys.sign(&parts).ok_or("no key to sign with")?;
        let encoded = match self.encoding {
            Encoding::Hex => hex::encode(mac),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(mac),
            Encoding::Base64Url => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac),
        };
        let value = match &self.layout {
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
            TimestampSource::Body(p) => (None, format!("body `{p}`")),
        };
        let raw = raw.ok_or_else(|| AuthError::MissingTimestamp(place.clone()))?;
        let value: i64 = std::str::from_utf8(raw)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| AuthError::MalformedTimestamp(place))?;
        self.window(value, now_unix)?;
        Ok(raw.trim_ascii())
    }

    /// The timestamp at `pointer` in the (verified) JSON body.
    fn check_body(&self, body: &[u8], pointer: &str, now_unix: i64) -> Result<(), AuthError> {
        let place = || format!("body `{pointer}`");
        let json: serde_json::Value =
            serde_json::from_slice(body).map_err(|_| AuthError::MissingTimestamp(place()))?;
        let value = match json.pointer(pointer) {
            None | Some(serde_json::Value::Null) => {
                return Err(AuthError::MissingTimestamp(place()))
            }
            Some(serde_json::Value::Number(n)) => n.as_i64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            Some(_) => None,
        };
        self.window(
            value.ok_or_else(|| AuthError::MalformedTimestamp(place()))?,
            now_unix,
        )
    }

    /// Checks `value` (in the rule's unit) against the replay window.
    fn window(&self, value: i64, now_unix: i64) -> Result<(), AuthError> {
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
        if self.limit_future && -age > tolerance {
            return Err(AuthError::FutureTimestamp {
                ahead_secs: -age,
                tolerance_secs: self.tolerance_secs,
            });
        }
        Ok(())
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
/// `{method}`, `{url}`, `{header:Name}`; everything else is literal.
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
            "method" => Part::Method,
            "url" => Part::Url,
            "form_params" => Part::FormParams,
            _ => match (name.strip_prefix("header:"), name.strip_prefix("form:")) {
                (Some(h), _) => Part::Header(header_name(h)?),
                (_, Some(f)) if !f.is_empty() => Part::FormField(f.to_owned()),
                _ => {
                    return Err(err(format!(
                        "unknown placeholder `{{{name}}}` (use {{body}}, {{timestamp}}, \
                         {{method}}, {{url}}, {{form_params}}, {{header:Name}} or {{form:name}})"
                    )));
                }
            },
        });
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.as_bytes().to_vec()));
    }
    // The signature must cover the delivery: the whole body, or form fields of it.
    let covers_body = parts
        .iter()
        .any(|p| matches!(p, Part::Body | Part::FormParams | Part::FormField(_)));
    if !covers_body {
        return Err(err(
            "it must include {body} (or {form_params} or {form:name})".to_owned(),
        ));
    }
    Ok(parts)
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
