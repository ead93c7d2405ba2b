//! The routes of each listener: one `match` on method and path. Webhooks go to the pipeline;
//! the rest are operational endpoints; the admin listener's requests go to the admin API.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};

use crate::base::metrics::Metrics;
use crate::control::admin;
use crate::http::response::{error_response, json_response, method_not_allowed};
use crate::http::Handler;
use crate::ingest::{health, pipeline, Gateway};
use crate::providers::catalog;

/// A listener's handler: the shared gateway state and which routes it serves.
#[derive(Debug, Clone)]
pub struct Listener {
    pub gateway: Arc<Gateway>,
    pub surface: Surface,
}

impl Handler for Listener {
    async fn handle(
        &self,
        request: Request<Incoming>,
        remote: SocketAddr,
    ) -> Response<Full<Bytes>> {
        match &self.surface {
            Surface::Ingest => route(&self.gateway, request, remote).await,
            Surface::Admin(admin) => admin::route(admin, &self.gateway, request).await,
        }
    }

    fn metrics(&self) -> &Metrics {
        &self.gateway.metrics
    }
}

/// Which routes a listener serves.
#[derive(Debug, Clone)]
pub enum Surface {
    /// Webhooks and the operational endpoints.
    Ingest,
    /// The management API ([`admin`]).
    Admin(Arc<admin::Admin>),
}

/// `GET /v1/event-types[?provider=NAME]`: the shipped event catalogs.
fn event_types(query: Option<&str>) -> Response<Full<Bytes>> {
    let provider = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "provider")
        .map(|(_, v)| v.into_owned());
    match provider {
        None => json_response(
            StatusCode::OK,
            &serde_json::json!({ "providers": catalog::all() }),
        ),
        Some(p) => match catalog::events(&p) {
            Some(events) => json_response(StatusCode::OK, &serde_json::json!(events)),
            None => error_response(
                StatusCode::NOT_FOUND,
                "unknown_catalog",
                &format!(
                    "no event catalog for provider `{p}` (catalogs: {})",
                    catalog::all()
                        .keys()
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        },
    }
}

fn metrics(app: &Gateway) -> Response<Full<Bytes>> {
    if let Some(spool) = &app.spool {
        app.metrics.observe_spool(spool.depth());
    }
    let mut response = Response::new(Full::new(Bytes::from(app.metrics.render())));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Counts a request in the in-flight gauge for as long as it lives.
struct InFlight<'a>(&'a Metrics);

impl<'a> InFlight<'a> {
    fn new(metrics: &'a Metrics) -> Self {
        metrics.in_flight().inc();
        InFlight(metrics)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight().dec();
    }
}

/// Routes one request.
pub async fn route(
    app: &Gateway,
    req: Request<Incoming>,
    remote: SocketAddr,
) -> Response<Full<Bytes>> {
    let _in_flight = InFlight::new(&app.metrics);
    let path = req.uri().path().to_owned();
    // A trailing slash is a common slip when pasting a webhook URL; it is tolerated.
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (req.method(), segments.as_slice()) {
        (&Method::POST, ["webhooks", source]) if !source.is_empty() => {
            // Beyond `max_in_flight`, answer at once rather than queue: the provider retries.
            match app.in_flight.try_acquire() {
                Ok(_permit) => pipeline::handle(app, source, req, Some(remote)).await,
                Err(_) => pipeline::overloaded(app, source),
            }
        }
        (&Method::GET, ["webhooks", source]) if !source.is_empty() => {
            pipeline::handle_get(app, source, &req)
        }
        (&Method::HEAD, ["webhooks", source]) if !source.is_empty() => {
            pipeline::handle_head(app, source)
        }
        (_, ["webhooks", source]) if !source.is_empty() => {
            method_not_allowed("POST", "webhooks are delivered with POST")
        }
        (&Method::GET, ["healthz"]) => {
            json_response(StatusCode::OK, &serde_json::json!({"status": "ok"}))
        }
        (&Method::GET, ["readyz"]) => health::readyz(app).await,
        (&Method::GET, ["metrics"]) => metrics(app),
        (&Method::GET, ["v1", "event-types"]) => event_types(req.uri().query()),
        (_, ["healthz" | "readyz" | "metrics"] | ["v1", "event-types"]) => {
            method_not_allowed("GET", "use GET")
        }
        _ => error_response(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such endpoint; webhooks go to POST /webhooks/{source}",
        ),
    }
}
