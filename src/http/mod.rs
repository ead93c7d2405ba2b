//! The HTTP server: accepting connections, routing, and graceful shutdown.
//!
//! Owns: sockets and hyper. Routing is one `match` on method and path; webhook requests go to
//! [`pipeline::handle`], the rest are operational endpoints. [`serve`] takes an already-bound
//! listener and any shutdown future, so tests run it on port 0. With TLS, each connection's
//! handshake runs in its own task under the header-read timeout, so a stalled client holds only
//! its own connection slot.
//!
//! Shutdown: stop accepting, let open connections finish their in-flight requests within the
//! grace period, then return so the caller can flush the producer.

pub mod response;
pub mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt as _;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::base::clock::now_ms;
use crate::base::live::Live;
use crate::base::metrics::Metrics;
use crate::control::admin;
use crate::delivery::publish::Publisher;
use crate::delivery::spool::Spool;
use crate::http::tls::Tls;
use crate::ingest::access::ClientIpRule;
use crate::ingest::dedup::Dedup;
use crate::http::response::{error_response, json_response, method_not_allowed};
use crate::ingest::pipeline;
use crate::ingest::source::Routes;
use crate::providers::catalog;

/// Everything a request needs, shared by all connections.
#[derive(Debug)]
pub struct App {
    /// The sources and schemas in force; a SIGHUP replaces them.
    pub routes: Live<Routes>,
    pub publisher: Publisher,
    pub metrics: Metrics,
    /// Seconds sent in `Retry-After` with a 503.
    pub retry_after_secs: u64,
    /// One permit per request being processed (`server.max_in_flight`).
    pub in_flight: tokio::sync::Semaphore,
    /// Recently accepted delivery ids; `None` when dedup is off.
    pub dedup: Option<Dedup>,
    /// How to find the client's address behind trusted proxies.
    pub client_ip: ClientIpRule,
    /// Where records go when Kafka cannot take them; `None`: answer 503 instead.
    pub spool: Option<Spool>,
    /// Recent answers per source, for the status page.
    pub activity: crate::control::status::Activity,
    /// The last broker probe ([`watch_broker`]).
    pub broker: BrokerState,
    /// The event-type topics routed to so far, bounded by `kafka.max_topics`; outlives
    /// reloads, so a SIGHUP does not reset the bound.
    pub topics: crate::delivery::topic::TopicBudget,
}

/// What the last broker probe found.
#[derive(Debug, Default)]
pub struct BrokerState {
    /// 0: not probed yet, 1: reachable, 2: unreachable.
    up: std::sync::atomic::AtomicU8,
    checked_ms: std::sync::atomic::AtomicI64,
}

impl BrokerState {
    /// `None` before the first probe.
    pub fn up(&self) -> Option<bool> {
        match self.up.load(std::sync::atomic::Ordering::Relaxed) {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }

    /// When the last probe ran (Unix ms), if one has.
    pub fn checked_ms(&self) -> Option<i64> {
        self.up()
            .map(|_| self.checked_ms.load(std::sync::atomic::Ordering::Relaxed))
    }

    fn set(&self, up: bool, now_ms: i64) {
        self.checked_ms
            .store(now_ms, std::sync::atomic::Ordering::Relaxed);
        self.up
            .store(if up { 1 } else { 2 }, std::sync::atomic::Ordering::Relaxed);
    }
}

/// How often [`watch_broker`] probes.
pub const BROKER_PROBE_EVERY: Duration = Duration::from_secs(10);

/// Probes the brokers every [`BROKER_PROBE_EVERY`] until `stop` turns true, keeping
/// `hookgate_kafka_up`, `hookgate_ready` and the status page's broker line current, so
/// alerts do not depend on anyone calling `/readyz`.
pub async fn watch_broker(app: &App, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        probe_broker(app).await;
        tokio::select! {
            () = tokio::time::sleep(BROKER_PROBE_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Asks the brokers for metadata and records the answer for the status page and the
/// `hookgate_kafka_up` / `hookgate_ready` gauges. Returns whether a broker answered.
async fn probe_broker(app: &App) -> bool {
    let up = app.publisher.ready(Duration::from_secs(2)).await;
    app.broker.set(up, now_ms());
    app.metrics.observe_readiness(up, up || app.spool.is_some());
    up
}

/// Connection-level limits.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub shutdown_grace: Duration,
}

/// Which routes a listener serves.
#[derive(Debug, Clone)]
pub enum Surface {
    /// Webhooks and the operational endpoints.
    Ingest,
    /// The management API ([`admin`]).
    Admin(Arc<admin::Admin>),
}

/// Serves until `shutdown` resolves, then drains connections for at most the grace period.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    surface: Surface,
    tls: Option<Arc<Tls>>,
    shutdown: impl Future<Output = ()>,
    limits: ConnectionLimits,
) {
    let grace = limits.shutdown_grace;
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let connections = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        // At the connection limit, wait here: new clients queue in the listen backlog.
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Usually out of file descriptors; back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let metrics_app = app.clone();
                let app = app.clone();
                let surface = surface.clone();
                let service = service_fn(move |req| {
                    let app = app.clone();
                    let surface = surface.clone();
                    async move {
                        let handled = async {
                            match &surface {
                                Surface::Ingest => route(&app, req, remote).await,
                                Surface::Admin(admin) => admin::route(admin, &app, req).await,
                            }
                        };
                        Ok::<_, Infallible>(or_internal_error(handled, &app.metrics, remote).await)
                    }
                });
                let builder = builder.clone();
                let watcher = graceful.watcher();
                let tls = tls.clone();
                let handshake_timeout = limits.header_read_timeout;
                tokio::spawn(async move {
                    let result = match tls {
                        None => {
                            let connection = builder.serve_connection(TokioIo::new(stream), service);
                            watcher.watch(connection.into_owned()).await
                        }
                        Some(tls) => {
                            let accepted = tokio::time::timeout(handshake_timeout, tls.acceptor().accept(stream)).await;
                            match accepted {
                                Ok(Ok(stream)) => {
                                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                                    watcher.watch(connection.into_owned()).await
                                }
                                Ok(Err(e)) => {
                                    metrics_app.metrics.tls_handshake_error();
                                    tracing::debug!(error = %e, %remote, "TLS handshake failed");
                                    Ok(())
                                }
                                Err(_) => {
                                    metrics_app.metrics.tls_handshake_error();
                                    tracing::debug!(%remote, "TLS handshake timed out");
                                    Ok(())
                                }
                            }
                        }
                    };
                    if let Err(e) = result {
                        tracing::debug!(error = %e, %remote, "connection ended with an error");
                    }
                    drop(permit);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; finishing in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_ms = grace.as_millis() as u64, "grace period over; closing remaining connections");
        }
    }
}

/// Runs a request's handler; a panic in it ends only that request, answered `500
/// internal_error` and counted (the runtime alone would drop the connection without a word).
/// Nothing is acknowledged on that path: the answer is the last thing a handler makes.
async fn or_internal_error(
    handler: impl Future<Output = Response<Full<Bytes>>>,
    metrics: &Metrics,
    remote: SocketAddr,
) -> Response<Full<Bytes>> {
    AssertUnwindSafe(handler)
        .catch_unwind()
        .await
        .unwrap_or_else(|_| {
            metrics.panicked();
            tracing::error!(%remote, "a request handler panicked: answered 500, nothing was acknowledged");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the gateway failed while handling this request; nothing was accepted: retry",
            )
        })
}

/// Routes one request.
async fn route(app: &App, req: Request<Incoming>, remote: SocketAddr) -> Response<Full<Bytes>> {
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
        (_, ["webhooks", source]) if !source.is_empty() => {
            method_not_allowed("POST", "webhooks are delivered with POST")
        }
        (&Method::GET, ["healthz"]) => {
            json_response(StatusCode::OK, &serde_json::json!({"status": "ok"}))
        }
        (&Method::GET, ["readyz"]) => readyz(app).await,
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

pub(crate) async fn readyz(app: &App) -> Response<Full<Bytes>> {
    let reachable = probe_broker(app).await;
    if let Some(spool) = &app.spool {
        let depth = spool.depth();
        if depth.records > 0 || !reachable {
            // Still taking webhooks (into the spool), so still ready, but say so.
            return json_response(
                StatusCode::OK,
                &serde_json::json!({"status": "degraded",
                    "kafka": if reachable { "reachable" } else { "unreachable" },
                    "spool": {"records": depth.records, "bytes": depth.bytes}}),
            );
        }
    }
    if reachable {
        json_response(
            StatusCode::OK,
            &serde_json::json!({"status": "ready", "kafka": "reachable"}),
        )
    } else {
        let mut r = json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &serde_json::json!({"status": "not_ready", "kafka": "unreachable",
                "error": "no Kafka broker answered a metadata request within 2 s", "code": "broker_unreachable"}),
        );
        r.headers_mut().insert(
            hyper::header::RETRY_AFTER,
            HeaderValue::from(app.retry_after_secs),
        );
        r
    }
}

fn metrics(app: &App) -> Response<Full<Bytes>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_is_answered_500_and_counted() {
        let metrics = Metrics::new(["s"]).expect("metrics");
        let remote: SocketAddr = "127.0.0.1:1".parse().expect("addr");
        let answer = or_internal_error(
            async {
                let items: Vec<u8> = Vec::new();
                let _ = items[usize::from(items.is_empty())];
                json_response(StatusCode::OK, &serde_json::json!({}))
            },
            &metrics,
            remote,
        )
        .await;
        assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let text = metrics.render();
        assert!(text.contains("hookgate_panics_total 1"), "{text}");
        assert!(text.contains("hookgate_start_time_seconds "), "{text}");

        let fine = or_internal_error(
            async { json_response(StatusCode::OK, &serde_json::json!({})) },
            &metrics,
            remote,
        )
        .await;
        assert_eq!(fine.status(), StatusCode::OK);
    }
}
