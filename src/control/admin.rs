//! The management API (admin listener): register, inspect, rotate and remove webhook sources
//! at run time.
//!
//! Owns: the admin routes, their API-key check and scopes, request-body checks, and the audit
//! lines. Shaped like the webhook APIs providers offer (seed 004): `GET/POST /v1/webhooks`,
//! `GET/PATCH/DELETE /v1/webhooks/{id}`, `POST /v1/webhooks/{id}/rotate`,
//! `DELETE /v1/webhooks/{id}/secret` (a learned secret),
//! `GET /v1/webhook-types`; `GET /v1/openapi.json` (no key needed) serves the OpenAPI 3.1
//! document, `config/openapi/admin.json`. May call: `store` (to save changes and put them in
//! force), `catalog`, `provider`.
//!
//! Keys are compared as SHA-256 digests in constant time. Reads need `webhooks:read` or
//! `webhooks:write`; changes need `webhooks:write`. A token is shown once, in the answer that
//! made it (creation, rotation), and only when the gateway generated it; afterwards it is
//! always `"redacted"`. Sources from the config file are listed with `read_only: true`.
//! Every change is logged on the `hookgate::audit` target: key name, action, webhook id, time;
//! never a secret.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Body;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::control::error::AdminError;
use crate::control::settings::{
    AdminKey, AdminSettings, Scope, StatusPage, MAX_ROTATION_GRACE_SECS,
};
use crate::control::status;
use crate::control::store::{self, Record, SecretOrigin, Store, StoredSecret};
use crate::http::response::json_response;
use crate::ingest::source::Routes;
use crate::ingest::source::{OnInvalid, Source};
use crate::ingest::Gateway;
use crate::providers;
use crate::providers::catalog;

/// The OpenAPI 3.1 document of this API (`config/openapi/admin.json`, built in).
pub const OPENAPI: &str = include_str!("../../config/openapi/admin.json");

/// Largest page (`size`).
const MAX_PAGE: usize = 100;
/// Largest page number (`page`), as the OpenAPI document states.
const MAX_PAGE_NUMBER: usize = 1_000_000;
/// Largest request body.
const MAX_BODY: usize = 64 * 1024;
/// Longest `name` and `description`.
const MAX_NAME: usize = 200;
const MAX_DESCRIPTION: usize = 2000;
/// Secrets kept per webhook: the current one and up to four in their rotation grace.
const MAX_SECRETS: usize = 5;
/// Bytes of a generated token (written as hex).
const TOKEN_BYTES: usize = 32;

/// The admin listener's state: its settings and the store of API-created sources.
#[derive(Debug)]
pub struct Admin {
    pub settings: AdminSettings,
    pub store: Store,
}

type Answer = Result<Response<Full<Bytes>>, AdminError>;

/// Routes one admin request.
pub async fn route<B>(admin: &Admin, app: &Gateway, req: Request<B>) -> Response<Full<Bytes>>
where
    B: Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    handle(admin, app, req)
        .await
        .unwrap_or_else(|e| e.response())
}

async fn handle<B>(admin: &Admin, app: &Gateway, req: Request<B>) -> Answer
where
    B: Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if let ["healthz" | "readyz" | "status"] = segments.as_slice() {
        return operational(admin, app, &req, segments[0]).await;
    }
    let (allow, message) = match segments.as_slice() {
        ["v1", "openapi.json"] | ["v1", "webhook-types"] => ("GET", "use GET"),
        ["v1", "webhooks"] => ("GET, POST", "list with GET, create with POST"),
        ["v1", "webhooks", _] => (
            "GET, PATCH, DELETE",
            "read with GET, change with PATCH, remove with DELETE",
        ),
        ["v1", "webhooks", _, "rotate"] => ("POST", "rotate with POST"),
        ["v1", "webhooks", _, "secret"] => ("DELETE", "clear a learned secret with DELETE"),
        _ => return Err(AdminError::NoEndpoint),
    };
    let method = req.method().clone();
    if !allow.split(", ").any(|m| m == method.as_str()) {
        return Err(AdminError::Method { allow, message });
    }
    if segments == ["v1", "openapi.json"] {
        let mut response = Response::new(Full::new(Bytes::from_static(OPENAPI.as_bytes())));
        response.headers_mut().insert(
            CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        return Ok(response);
    }
    let key = authenticate(&admin.settings, &req).ok_or(AdminError::Unauthenticated)?;
    let writes = method != Method::GET;
    let allowed = if writes {
        key.scopes.contains(&Scope::WebhooksWrite)
    } else {
        key.may_read()
    };
    if !allowed {
        if writes {
            tracing::warn!(target: "hookgate::audit", actor = %key.name, method = %method, path = %path, "admin change refused: missing webhooks:write scope");
        }
        return Err(AdminError::Forbidden(if writes {
            Scope::WebhooksWrite.as_str()
        } else {
            Scope::WebhooksRead.as_str()
        }));
    }
    let routes = app.routes.get();
    let query = req.uri().query().map(str::to_owned);
    let segments: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
    let actor = key.name.clone();
    let if_match = if_match(&req);
    let body = if writes { read_body(req).await? } else { None };
    let call = Call {
        admin,
        app,
        actor: &actor,
    };
    let (action, answer) = match (method, segments.as_slice()) {
        (Method::GET, [_, _]) if segments[1] == "webhooks" => {
            return list(admin, &routes, query.as_deref())
        }
        (Method::GET, [_, _]) => return webhook_types(admin, &routes, query.as_deref()),
        (Method::GET, [_, _, id]) => {
            if !routes.configured.contains_key(id.as_str()) {
                if let Some(record) = admin.store.get(id) {
                    let found = managed(&admin.settings, &record, None);
                    return Ok(with_etag(json_response(StatusCode::OK, &found), &record));
                }
            }
            return match find(admin, &routes, id) {
                Some(found) => Ok(json_response(StatusCode::OK, &found)),
                None => Err(AdminError::NotFound("Webhook not found.")),
            };
        }
        (Method::POST, [_, _]) => ("create", call.create(body).await),
        (Method::PATCH, [_, _, id]) => (
            "update",
            call.update(id, &routes, if_match.as_deref(), body).await,
        ),
        (Method::DELETE, [_, _, id]) => (
            "delete",
            call.delete(id, &routes, if_match.as_deref()).await,
        ),
        (Method::DELETE, [_, _, id, _]) => (
            "forget_secret",
            call.forget_secret(id, &routes, if_match.as_deref()).await,
        ),
        (_, [_, _, id, _]) => (
            "rotate",
            call.rotate(id, &routes, if_match.as_deref(), body).await,
        ),
        _ => return Err(AdminError::NoEndpoint),
    };
    let status = match &answer {
        Ok(r) => r.status(),
        Err(e) => e.status(),
    };
    app.metrics.admin_change(action, status.as_u16());
    answer
}

/// `GET /healthz` and `GET /readyz` (for probes: no key, same answers as on the ingest
/// listener) and `GET /status`, the status page.
async fn operational<B>(admin: &Admin, app: &Gateway, req: &Request<B>, what: &str) -> Answer {
    if req.method() != Method::GET {
        return Err(AdminError::Method {
            allow: "GET",
            message: "use GET",
        });
    }
    match what {
        "healthz" => Ok(json_response(StatusCode::OK, &json!({"status": "ok"}))),
        "readyz" => Ok(crate::ingest::health::readyz(app).await),
        _ => status_page(admin, app, req),
    }
}

/// `GET /status`: each source with its last accepted and refused delivery and its answers per
/// outcome in the last hour; Kafka and spool state.
fn status_page<B>(admin: &Admin, app: &Gateway, req: &Request<B>) -> Answer {
    match admin.settings.status_page {
        StatusPage::Off => return Err(AdminError::NoEndpoint),
        StatusPage::Key => {
            let key = authenticate(&admin.settings, req).ok_or(AdminError::Unauthenticated)?;
            if !key.may_read() {
                return Err(AdminError::Forbidden(Scope::WebhooksRead.as_str()));
            }
        }
        StatusPage::Open => {}
    }
    let now = crate::base::clock::now_ms();
    let routes = app.routes.get();
    let mut rows: Vec<status::Row> = routes
        .configured
        .values()
        .map(|s| status::Row {
            id: s.name.clone(),
            provider: s.provider.clone(),
            read_only: true,
            figures: app.activity.figures(&s.name, now),
        })
        .collect();
    rows.extend(
        admin
            .store
            .list()
            .into_iter()
            .filter(|r| !routes.configured.contains_key(&r.id))
            .map(|r| status::Row {
                figures: app.activity.figures(&r.id, now),
                id: r.id,
                provider: r.provider,
                read_only: false,
            }),
    );
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    let spool = app.spool.as_ref().map(|s| {
        let depth = s.depth();
        let age = depth
            .oldest_ms
            .map(|at| u64::try_from((now - at).max(0) / 1000).unwrap_or(0))
            .unwrap_or(0);
        (depth.records, depth.bytes, age)
    });
    let plant = status::Plant {
        kafka_up: app.broker.up(),
        kafka_checked_ms: app.broker.checked_ms(),
        spool,
    };
    let page = status::render(&rows, &plant, now, env!("CARGO_PKG_VERSION"));
    let mut response = Response::new(Full::new(Bytes::from(page)));
    response.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response.headers_mut().insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// The key whose digest matches the bearer token, compared in constant time.
fn authenticate<'a, B>(admin: &'a AdminSettings, req: &Request<B>) -> Option<&'a AdminKey> {
    let token = req
        .headers()
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?
        .trim();
    let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let mut found = None;
    for key in &admin.keys {
        if bool::from(key.digest.ct_eq(&digest)) && found.is_none() {
            found = Some(key);
        }
    }
    found
}

/// The `If-Match` header of a request, its fields joined (RFC 9110 §5.3); `None` when absent.
/// A value that is not visible ASCII is kept as `\u{0}`, which matches nothing.
fn if_match<B>(req: &Request<B>) -> Option<String> {
    let values: Vec<&str> = req
        .headers()
        .get_all(hyper::header::IF_MATCH)
        .iter()
        .map(|v| v.to_str().unwrap_or("\u{0}"))
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// The entity tag of a record: its revision in quotes, e.g. `"3"`. Just the revision, because
/// an entity tag is scoped to its URL (`/v1/webhooks/{id}`) and ids are random and never
/// reused, so the id would add nothing. The revision goes up by one with every change to the
/// record, so on one replica a tag names one version of the record: what `If-Match` needs.
/// Two limits: `previous_token_expires_at` turns `null` when a grace period ends without a new
/// revision (the tag validates the record, not every byte of the answer), and across replicas
/// of a Kafka store two racing changes can both make the same revision (docs/src/admin-api.md,
/// "Concurrent changes").
fn etag(record: &Record) -> String {
    etag_of_revision(record.revision)
}

fn etag_of_revision(revision: u64) -> String {
    format!("\"{revision}\"")
}

/// `response` with the `ETag` of `record`.
fn with_etag(mut response: Response<Full<Bytes>>, record: &Record) -> Response<Full<Bytes>> {
    if let Ok(value) = hyper::header::HeaderValue::from_str(&etag(record)) {
        response.headers_mut().insert(hyper::header::ETAG, value);
    }
    response
}

/// Whether `if_match` (an `If-Match` value) lets a change to the record at `revision` go ahead
/// (RFC 9110 §13.1.1): absent, `*` (the record exists), or a list of entity tags one of which
/// is the record's under strong comparison (a weak tag `W/"…"` never matches). Anything malformed
/// cannot match.
fn precondition(if_match: Option<&str>, revision: u64) -> Result<(), AdminError> {
    let Some(value) = if_match else {
        return Ok(());
    };
    let value = value.trim();
    let current = etag_of_revision(revision);
    let matches = value == "*"
        || value
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .any(|t| t == current);
    if matches {
        Ok(())
    } else {
        Err(AdminError::PreconditionFailed(revision))
    }
}

/// The JSON body of a change (`None` when empty), at most [`MAX_BODY`] bytes.
async fn read_body<B>(req: Request<B>) -> Result<Option<Value>, AdminError>
where
    B: Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    if let Some(media) = req.headers().get(CONTENT_TYPE) {
        let media = media.to_str().unwrap_or_default().to_ascii_lowercase();
        let essence = media.split(';').next().unwrap_or_default().trim();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(AdminError::MediaType);
        }
    }
    let bytes = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                AdminError::TooLarge(MAX_BODY)
            } else {
                AdminError::BadRequest(format!("the request body could not be read: {e}"))
            }
        })?
        .to_bytes();
    // No body at all means "no options"; whitespace alone is not JSON, and is refused like any
    // other invalid body (schemathesis sent `' '` with `application/json` and it was accepted).
    if bytes.is_empty() {
        return Ok(None);
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| AdminError::BadRequest(format!("the body is not valid JSON: {e}")))
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Every webhook, config sources and API-created ones, ordered by id.
fn all(admin: &Admin, routes: &Routes) -> Vec<Value> {
    let mut out: Vec<(String, Value)> = routes
        .configured
        .values()
        .map(|s| (s.name.clone(), configured(&admin.settings, s)))
        .collect();
    out.extend(
        admin
            .store
            .list()
            .into_iter()
            .filter(|r| !routes.configured.contains_key(&r.id))
            .map(|r| (r.id.clone(), managed(&admin.settings, &r, None))),
    );
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.into_iter().map(|(_, v)| v).collect()
}

fn find(admin: &Admin, routes: &Routes, id: &str) -> Option<Value> {
    match routes.configured.get(id) {
        Some(s) => Some(configured(&admin.settings, s)),
        None => admin
            .store
            .get(id)
            .map(|r| managed(&admin.settings, &r, None)),
    }
}

/// `GET /v1/webhooks?size=&page=`.
fn list(admin: &Admin, routes: &Routes, query: Option<&str>) -> Answer {
    let number = |name: &str, default: usize, max: usize| match query_param(query, name) {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                AdminError::BadRequest(format!("`{name}` must be an integer from 1 to {max}"))
            }),
    };
    let size = number("size", MAX_PAGE, MAX_PAGE)?;
    let page = number("page", 1, MAX_PAGE_NUMBER)?;
    let all = all(admin, routes);
    let count = all.len();
    let elements: Vec<Value> = all
        .into_iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "entities": "Webhook",
            "count": count,
            "per_page": size,
            "pages": { "current": page, "max": count.div_ceil(size).max(1) },
            "elements": elements,
        }),
    ))
}

fn ingest_url(settings: &AdminSettings, id: &str) -> String {
    let path = format!("/webhooks/{id}");
    match &settings.public_base_url {
        Some(base) => format!("{base}{path}"),
        None => path,
    }
}

fn on_invalid_name(on_invalid: OnInvalid) -> &'static str {
    match on_invalid {
        OnInvalid::DeadLetter => "dead-letter",
        OnInvalid::Reject => "reject",
    }
}

/// A config-file source as a webhook.
fn configured(settings: &AdminSettings, source: &Source) -> Value {
    let events: Vec<&str> = match &source.allowed_events {
        Some((allowed, _)) => {
            let mut e: Vec<&str> = allowed.iter().map(String::as_str).collect();
            e.sort_unstable();
            e
        }
        None => vec!["*"],
    };
    json!({
        "id": source.name,
        "name": source.name,
        "description": format!("{} source from the config file", source.provider),
        "url": ingest_url(settings, &source.name),
        "provider": source.provider,
        "events": events,
        "token": "redacted",
        "has_secret": true,
        "read_only": true,
        "on_invalid": on_invalid_name(source.on_invalid),
        "options": {},
        "created_at": null,
        "updated_at": null,
        "previous_token_expires_at": null,
    })
}

/// An API-created source as a webhook; `token` is shown only when given (just generated).
fn managed(settings: &AdminSettings, record: &Record, token: Option<&str>) -> Value {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let on_invalid = record
        .options
        .get("on_invalid")
        .and_then(Value::as_str)
        .unwrap_or("dead-letter");
    json!({
        "id": record.id,
        "name": record.name,
        "description": record.description,
        "url": ingest_url(settings, &record.id),
        "provider": record.provider,
        "events": record.events,
        "token": token.unwrap_or("redacted"),
        "has_secret": !record.secrets.is_empty(),
        "read_only": false,
        "on_invalid": on_invalid,
        "options": record.options,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "previous_token_expires_at": record.grace_ends(now).map(rfc3339),
    })
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// `GET /v1/webhook-types[?provider=]`: event names the gateway knows, from the providers'
/// catalogs (one provider's, or those of every provider in use).
fn webhook_types(admin: &Admin, routes: &Routes, query: Option<&str>) -> Answer {
    if let Some(p) = query_param(query, "provider") {
        return match catalog::events(&p) {
            Some(events) => Ok(json_response(StatusCode::OK, &json!(events))),
            None => Err(AdminError::NotFound("no event catalog for this provider")),
        };
    }
    let mut providers: Vec<String> = routes
        .configured
        .values()
        .map(|s| s.provider.clone())
        .chain(admin.store.list().into_iter().map(|r| r.provider))
        .collect();
    providers.sort_unstable();
    providers.dedup();
    let mut all: Vec<&str> = providers
        .iter()
        .filter_map(|p| catalog::events(p))
        .flatten()
        .copied()
        .collect();
    all.sort_unstable();
    all.dedup();
    Ok(json_response(StatusCode::OK, &json!(all)))
}

/// One change, by one key.
struct Call<'a> {
    admin: &'a Admin,
    app: &'a Gateway,
    actor: &'a str,
}

/// The `webhook` object of a create or update body.
fn webhook_object(body: Option<Value>) -> Result<Map<String, Value>, AdminError> {
    match body {
        Some(Value::Object(mut outer)) => match outer.remove("webhook") {
            Some(Value::Object(inner)) => Ok(inner),
            _ => Err(AdminError::BadRequest(
                "the body must be {\"webhook\": {…}}".to_owned(),
            )),
        },
        _ => Err(AdminError::BadRequest(
            "the body must be {\"webhook\": {…}}".to_owned(),
        )),
    }
}

fn text(value: Value, field: &str, max: usize) -> Result<String, AdminError> {
    match value {
        Value::String(s) if !s.trim().is_empty() && s.chars().count() <= max => {
            Ok(s.trim().to_owned())
        }
        _ => Err(AdminError::BadRequest(format!(
            "A valid \"{field}\" must be specified: a string of 1 to {max} characters."
        ))),
    }
}

fn description(value: Value) -> Result<String, AdminError> {
    match value {
        Value::String(s) if s.chars().count() <= MAX_DESCRIPTION => Ok(s),
        _ => Err(AdminError::BadRequest(format!(
            "\"description\" must be a string of at most {MAX_DESCRIPTION} characters."
        ))),
    }
}

/// `events`: an array of names or one name; `*` means every event. Names outside the
/// provider's catalog (when it has one) are refused, all of them named.
fn events(value: Value, provider: &str) -> Result<Vec<String>, AdminError> {
    let bad = || {
        AdminError::BadRequest(
            "A valid \"events\" must be specified: an event name or a non-empty array of them (\"*\" = every event)."
                .to_owned(),
        )
    };
    let mut names: Vec<String> = match value {
        Value::String(s) => vec![s],
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(bad()),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(bad()),
    };
    if names.is_empty() || names.iter().any(|n| n.trim().is_empty() || n.len() > 200) {
        return Err(bad());
    }
    names.sort();
    names.dedup();
    if names.iter().any(|n| n == "*") {
        return Ok(vec!["*".to_owned()]);
    }
    if let Some(catalog) = catalog::events(provider) {
        let unknown: Vec<String> = names
            .iter()
            .filter(|n| !catalog.contains(&n.as_str()))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(AdminError::UnknownEvents {
                provider: provider.to_owned(),
                events: unknown,
            });
        }
    }
    Ok(names)
}

/// Puts the provider options of a body into `options`: a value replaces, `null` removes.
fn merge_options(
    options: &mut Map<String, Value>,
    given: Map<String, Value>,
) -> Result<(), AdminError> {
    for (key, value) in given {
        if key == "verify_token" {
            return Err(AdminError::BadRequest(
                "`verify_token` can be set only in the config file (a secret reference would \
                 read the gateway's environment or files)"
                    .to_owned(),
            ));
        }
        if store::RESERVED_OPTIONS.contains(&key.as_str()) {
            return Err(AdminError::BadRequest(format!(
                "`{key}` is not an option here: use `provider`, `secret` and `events`"
            )));
        }
        if value.is_null() {
            options.remove(&key);
        } else {
            options.insert(key, value);
        }
    }
    Ok(())
}

fn now() -> (i64, String) {
    let now = OffsetDateTime::now_utc();
    (
        now.unix_timestamp(),
        now.format(&Rfc3339).unwrap_or_default(),
    )
}

impl Call<'_> {
    fn store(&self) -> &Store {
        &self.admin.store
    }

    /// A new secret: the one given (the provider issued it), or one the gateway makes.
    /// Returns the stored secret, its origin, and the token to show (generated only).
    fn new_secret(
        &self,
        id: &str,
        given: Option<Value>,
        provider_name: &str,
        options: &Map<String, Value>,
    ) -> Result<(StoredSecret, SecretOrigin, Option<String>), AdminError> {
        let (secret, origin, shown) = match given {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 4096 => {
                (s, SecretOrigin::Provider, None)
            }
            Some(_) => {
                return Err(AdminError::BadRequest(
                    "A valid \"secret\" must be a non-empty string (at most 4096 bytes)."
                        .to_owned(),
                ))
            }
            None if !may_generate(provider_name, options) => {
                return Err(AdminError::BadRequest(format!(
                    "provider `{provider_name}` issues its own signing secret or key: pass it as \"secret\""
                )))
            }
            None => {
                let token = hex::encode(self.store().sealer().random(TOKEN_BYTES)?);
                (token.clone(), SecretOrigin::Generated, Some(token))
            }
        };
        let sealed = self.store().sealer().seal(id, secret.as_bytes())?;
        Ok((
            StoredSecret {
                sealed,
                expires_at: None,
            },
            origin,
            shown,
        ))
    }

    /// Checks that `record` builds into a working source (same checks as a config file).
    fn check(&self, record: &Record) -> Result<(), AdminError> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.store()
            .source_of(record, now)
            .map(|_| ())
            .map_err(|e| AdminError::BadRequest(format!("invalid webhook options: {e}")))
    }

    /// Stamps a change to an existing record: when, by whom, one more revision.
    fn touch(&self, record: &mut Record) {
        record.updated_at = now().1;
        record.updated_by = self.actor.to_owned();
        record.revision += 1;
    }

    /// Checks `record`, then `If-Match` against the revision the change was made from (`read`:
    /// after every other check, so an unusable request is `400` whatever `If-Match` says; under
    /// `turn`, so no other change on this replica comes between check and save), saves it, puts
    /// it in force, and logs the audit line.
    async fn commit(
        &self,
        record: &Record,
        action: &str,
        turn: &store::Turn<'_>,
        if_match: Option<&str>,
        read: u64,
    ) -> Result<(), AdminError> {
        self.check(record)?;
        precondition(if_match, read)?;
        self.store()
            .put(record.clone(), &self.app.routes, turn)
            .await?;
        self.audit(action, record, &record.updated_at);
        Ok(())
    }

    /// The audit line of a change: who, what, which webhook, when (`at`).
    fn audit(&self, action: &str, record: &Record, at: &str) {
        tracing::info!(
            target: "hookgate::audit",
            actor = %self.actor,
            action,
            webhook = %record.id,
            provider = %record.provider,
            revision = record.revision,
            at,
            "admin change"
        );
    }

    /// `POST /v1/webhooks`
    async fn create(&self, body: Option<Value>) -> Answer {
        let mut w = webhook_object(body)?;
        let name = text(w.remove("name").unwrap_or(Value::Null), "name", MAX_NAME)?;
        let description = w
            .remove("description")
            .map(description)
            .transpose()?
            .unwrap_or_default();
        let provider_name = match w.remove("provider") {
            Some(Value::String(p)) if is_provider_name(&p) => p,
            _ => {
                return Err(AdminError::BadRequest(
                    "A valid \"provider\" must be specified: a preset name such as \"github\" or a label of your own (letters, digits, '.', '_', '-')."
                        .to_owned(),
                ))
            }
        };
        let events = events(w.remove("events").unwrap_or(Value::Null), &provider_name)?;
        let given_secret = w.remove("secret");
        let mut options = Map::new();
        merge_options(&mut options, w)?;
        refuse_auth_none(&options)?;
        let id = format!("wh_{}", hex::encode(self.store().sealer().random(16)?));
        let (secrets, origin, token) =
            if given_secret.is_none() && store::learns_secret(&provider_name, &options) {
                // Learned at the provider's handshake, the first one to come.
                (Vec::new(), SecretOrigin::Learned, None)
            } else {
                let (secret, origin, token) =
                    self.new_secret(&id, given_secret, &provider_name, &options)?;
                (vec![secret], origin, token)
            };
        let (_, at) = now();
        let record = Record {
            id: id.clone(),
            name,
            description,
            provider: provider_name,
            events,
            options,
            secret_origin: origin,
            secrets,
            created_at: at.clone(),
            updated_at: at,
            updated_by: self.actor.to_owned(),
            revision: 1,
        };
        let turn = self.store().turn().await;
        self.commit(&record, "webhook.create", &turn, None, 0)
            .await?;
        let mut response = with_etag(
            json_response(
                StatusCode::CREATED,
                &managed(&self.admin.settings, &record, token.as_deref()),
            ),
            &record,
        );
        if let Ok(location) = hyper::header::HeaderValue::from_str(&format!("/v1/webhooks/{id}")) {
            response
                .headers_mut()
                .insert(hyper::header::LOCATION, location);
        }
        Ok(response)
    }

    /// The record behind `id`, or why there is none to change.
    fn existing(
        &self,
        id: &str,
        routes: &Routes,
        missing: &'static str,
    ) -> Result<Record, AdminError> {
        if routes.configured.contains_key(id) {
            return Err(AdminError::ReadOnly(id.to_owned()));
        }
        self.store().get(id).ok_or(AdminError::NotFound(missing))
    }

    /// `PATCH /v1/webhooks/{id}`
    async fn update(
        &self,
        id: &str,
        routes: &Routes,
        if_match: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let turn = self.store().turn().await;
        let mut record = self.existing(id, routes, "Webhook not found.")?;
        let read = record.revision;
        let mut w = webhook_object(body)?;
        if w.contains_key("provider") {
            return Err(AdminError::BadRequest(
                "\"provider\" cannot change: create a new webhook instead".to_owned(),
            ));
        }
        if w.contains_key("secret") {
            return Err(AdminError::BadRequest(
                "\"secret\" is changed with POST /v1/webhooks/{id}/rotate".to_owned(),
            ));
        }
        if let Some(v) = w.remove("name") {
            record.name = text(v, "name", MAX_NAME)?;
        }
        if let Some(v) = w.remove("description") {
            record.description = description(v)?;
        }
        if let Some(v) = w.remove("events") {
            record.events = events(v, &record.provider)?;
        }
        merge_options(&mut record.options, w)?;
        self.touch(&mut record);
        self.commit(&record, "webhook.update", &turn, if_match, read)
            .await?;
        Ok(with_etag(
            json_response(
                StatusCode::OK,
                &managed(&self.admin.settings, &record, None),
            ),
            &record,
        ))
    }

    /// `DELETE /v1/webhooks/{id}`
    async fn delete(&self, id: &str, routes: &Routes, if_match: Option<&str>) -> Answer {
        let missing = "Webhook not found. Unable to delete unknown resource";
        let turn = self.store().turn().await;
        let record = self.existing(id, routes, missing)?;
        // Under the turn: no other change on this replica comes between check and delete.
        precondition(if_match, record.revision)?;
        if !self.store().delete(id, &self.app.routes, &turn).await? {
            return Err(AdminError::NotFound(missing));
        }
        self.audit("webhook.delete", &record, &now().1);
        Ok(json_response(
            StatusCode::OK,
            &json!({ "id": id, "deleted": true }),
        ))
    }

    /// `DELETE /v1/webhooks/{id}/secret`: forgets every secret of a webhook that learns its
    /// secret at the handshake, so the provider's next handshake sets a new one. Until then
    /// every delivery is refused (`no_secret_yet`).
    async fn forget_secret(&self, id: &str, routes: &Routes, if_match: Option<&str>) -> Answer {
        let turn = self.store().turn().await;
        let mut record = self.existing(id, routes, "Webhook not found.")?;
        let read = record.revision;
        if !store::learns_secret(&record.provider, &record.options) {
            return Err(AdminError::NotLearning(record.id));
        }
        record.secrets.clear();
        record.secret_origin = SecretOrigin::Learned;
        self.touch(&mut record);
        self.commit(&record, "webhook.forget_secret", &turn, if_match, read)
            .await?;
        Ok(with_etag(
            json_response(
                StatusCode::OK,
                &managed(&self.admin.settings, &record, None),
            ),
            &record,
        ))
    }

    /// `POST /v1/webhooks/{id}/rotate`: a new secret; the old one verifies until the grace
    /// period ends.
    async fn rotate(
        &self,
        id: &str,
        routes: &Routes,
        if_match: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let turn = self.store().turn().await;
        let mut record = self.existing(id, routes, "Webhook not found.")?;
        let read = record.revision;
        let mut given = match body {
            None => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => {
                return Err(AdminError::BadRequest(
                    "the body must be empty or {\"grace_seconds\": n, \"secret\": \"…\"}"
                        .to_owned(),
                ))
            }
        };
        let grace = match given.remove("grace_seconds") {
            None => self.admin.settings.rotation_grace.as_secs(),
            // JSON has one number type: `3600.0` is the integer 3600.
            Some(v) => v
                .as_u64()
                .or_else(|| {
                    v.as_f64()
                        .filter(|f| {
                            f.fract() == 0.0 && *f >= 0.0 && *f <= MAX_ROTATION_GRACE_SECS as f64
                        })
                        .map(|f| f as u64)
                })
                .filter(|g| *g <= MAX_ROTATION_GRACE_SECS)
                .ok_or_else(|| {
                    AdminError::BadRequest(format!(
                        "\"grace_seconds\" must be an integer from 0 to {MAX_ROTATION_GRACE_SECS}"
                    ))
                })?,
        };
        let secret = given.remove("secret");
        if let Some(extra) = given.keys().next() {
            return Err(AdminError::BadRequest(format!(
                "unknown field `{extra}`: rotate takes \"grace_seconds\" and \"secret\""
            )));
        }
        if secret.is_none() && store::learns_secret(&record.provider, &record.options) {
            return Err(AdminError::BadRequest(
                "this webhook learns its secret at the provider's handshake: clear it with \
                 DELETE /v1/webhooks/{id}/secret (the next handshake sets a new one), or pass \
                 one as \"secret\""
                    .to_owned(),
            ));
        }
        if secret.is_none() && record.secret_origin == SecretOrigin::Provider {
            return Err(AdminError::BadRequest(
                "this webhook's secret is issued by the provider: pass the new one as \"secret\""
                    .to_owned(),
            ));
        }
        let (new, origin, token) =
            self.new_secret(&record.id, secret, &record.provider, &record.options)?;
        let (now, _) = now();
        let until = now.saturating_add(i64::try_from(grace).unwrap_or(i64::MAX));
        let mut secrets = vec![new];
        for mut old in std::mem::take(&mut record.secrets) {
            if old.expires_at.is_none() {
                old.expires_at = Some(until);
            }
            if old.expires_at.is_some_and(|t| t > now) {
                secrets.push(old);
            }
        }
        secrets.truncate(MAX_SECRETS);
        record.secrets = secrets;
        record.secret_origin = origin;
        self.touch(&mut record);
        self.commit(&record, "webhook.rotate", &turn, if_match, read)
            .await?;
        Ok(with_etag(
            json_response(
                StatusCode::OK,
                &managed(&self.admin.settings, &record, token.as_deref()),
            ),
            &record,
        ))
    }
}

/// Sources created through the API always authenticate their deliveries.
fn refuse_auth_none(options: &Map<String, Value>) -> Result<(), AdminError> {
    let auth_type = options
        .get("auth")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str);
    if auth_type == Some("none") {
        return Err(AdminError::BadRequest(
            "`auth`: type \"none\" is not allowed for sources created through the API".to_owned(),
        ));
    }
    Ok(())
}

fn is_provider_name(p: &str) -> bool {
    (1..=64).contains(&p.len())
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Whether the gateway may make this webhook's secret: the provider lets the user choose it
/// (a preset that says so, or a shared-key scheme of one's own), rather than issuing it.
fn may_generate(provider_name: &str, options: &Map<String, Value>) -> bool {
    let auth_type = options
        .get("auth")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str);
    match auth_type {
        Some(t) => matches!(t, "hmac" | "api_key" | "query_token" | "body_token"),
        None => {
            providers::USER_CHOSEN_SECRET.contains(&provider_name)
                || providers::preset(provider_name).is_none()
        }
    }
}
