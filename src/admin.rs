//! The management API (admin listener): inspect the gateway's webhook sources.
//!
//! Owns: the admin routes, their API-key check and scopes. Shaped like the webhook APIs
//! providers offer (seed 004): `GET /v1/webhooks` pages of `{id, name, description, url,
//! provider, events, token}`, `GET /v1/webhooks/{id}`, `GET /v1/webhook-types`. Keys are
//! compared as SHA-256 digests in constant time; tokens are never shown (`"redacted"`). Sources
//! come from the config file and are read-only here: other methods answer `405` until
//! sources can be created at run time. `GET /v1/openapi.json` (no key needed) serves the
//! OpenAPI 3.1 document, `config/openapi/admin.json`.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::AUTHORIZATION;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::catalog;
use crate::config::{AdminKey, AdminSettings, Scope, Source};
use crate::error::json_response;
use crate::server::Routes;

/// The OpenAPI 3.1 document of this API (`config/openapi/admin.json`, built in).
pub const OPENAPI: &str = include_str!("../config/openapi/admin.json");

/// Largest page (`size`).
const MAX_PAGE: usize = 100;
/// Largest page number (`page`), as the OpenAPI document states.
const MAX_PAGE_NUMBER: usize = 1_000_000;

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    json_response(status, &json!({ "error": message }))
}

/// Routes one admin request.
pub fn route<B>(admin: &AdminSettings, routes: &Routes, req: &Request<B>) -> Response<Full<Bytes>> {
    let path = req.uri().path().trim_end_matches('/');
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let known = matches!(
        segments.as_slice(),
        ["v1", "openapi.json" | "webhooks" | "webhook-types"] | ["v1", "webhooks", _]
    );
    if !known {
        return error(StatusCode::NOT_FOUND, "no such admin endpoint");
    }
    if req.method() != Method::GET {
        // Sources are read-only here for now; writes come with run-time sources.
        return method_not_allowed(
            "GET",
            "the admin API is read-only for now: sources are defined in the config file (edit it and send SIGHUP)",
        );
    }
    if segments == ["v1", "openapi.json"] {
        let mut response = Response::new(Full::new(Bytes::from_static(OPENAPI.as_bytes())));
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        return response;
    }
    let Some(key) = authenticate(admin, req) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "a valid admin API key is required: Authorization: Bearer <key>",
        );
    };
    let needed = Scope::WebhooksRead;
    if !key.scopes.contains(&needed) {
        return error(
            StatusCode::FORBIDDEN,
            &format!("this key lacks the `{}` scope", needed.as_str()),
        );
    }
    match segments.as_slice() {
        ["v1", "webhooks"] => list(admin, routes, req.uri().query()),
        ["v1", "webhooks", id] => match routes.sources.get(*id) {
            Some(source) => json_response(StatusCode::OK, &element(admin, source)),
            None => error(StatusCode::NOT_FOUND, "Webhook not found."),
        },
        _ => webhook_types(routes, req.uri().query()),
    }
}

/// `405` with `Allow` and an `{"error"}` body.
fn method_not_allowed(allow: &'static str, message: &str) -> Response<Full<Bytes>> {
    let mut response = error(StatusCode::METHOD_NOT_ALLOWED, message);
    response.headers_mut().insert(
        hyper::header::ALLOW,
        hyper::header::HeaderValue::from_static(allow),
    );
    response
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

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `GET /v1/webhooks?size=&page=`.
fn list(admin: &AdminSettings, routes: &Routes, query: Option<&str>) -> Response<Full<Bytes>> {
    let number = |name: &str, default: usize, max: usize| match query_param(query, name) {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| format!("`{name}` must be an integer from 1 to {max}")),
    };
    let (size, page) = match (
        number("size", MAX_PAGE, MAX_PAGE),
        number("page", 1, MAX_PAGE_NUMBER),
    ) {
        (Ok(size), Ok(page)) => (size, page),
        (Err(e), _) | (_, Err(e)) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let mut names: Vec<&String> = routes.sources.keys().collect();
    names.sort();
    let max = names.len().div_ceil(size).max(1);
    let elements: Vec<Value> = names
        .iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .filter_map(|n| routes.sources.get(*n))
        .map(|s| element(admin, s))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "entities": "Webhook",
            "count": names.len(),
            "per_page": size,
            "pages": { "current": page, "max": max },
            "elements": elements,
        }),
    )
}

/// One source as a webhook.
fn element(admin: &AdminSettings, source: &Source) -> Value {
    let path = format!("/webhooks/{}", source.name);
    let url = match &admin.public_base_url {
        Some(base) => format!("{base}{path}"),
        None => path,
    };
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
        "url": url,
        "provider": source.provider,
        "events": events,
        "on_invalid": match source.on_invalid {
            crate::config::OnInvalid::DeadLetter => "dead-letter",
            crate::config::OnInvalid::Reject => "reject",
        },
        "read_only": true,
        "token": "redacted",
    })
}

/// `GET /v1/webhook-types[?provider=]`: event names the gateway knows, from the providers'
/// catalogs (all of them, or one provider's).
fn webhook_types(routes: &Routes, query: Option<&str>) -> Response<Full<Bytes>> {
    match query_param(query, "provider") {
        Some(p) => match catalog::events(&p) {
            Some(events) => json_response(StatusCode::OK, &json!(events)),
            None => error(
                StatusCode::NOT_FOUND,
                &format!("no event catalog for provider `{p}`"),
            ),
        },
        None => {
            let mut providers: Vec<&str> = routes
                .sources
                .values()
                .map(|s| s.provider.as_str())
                .collect();
            providers.sort_unstable();
            providers.dedup();
            let mut all: Vec<&str> = providers
                .into_iter()
                .filter_map(catalog::events)
                .flatten()
                .copied()
                .collect();
            all.sort_unstable();
            all.dedup();
            json_response(StatusCode::OK, &json!(all))
        }
    }
}
