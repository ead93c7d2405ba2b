//! Serving a listener: accepting connections, TLS handshakes, connection limits, a panic in a
//! handler turned into a `500`, and graceful shutdown. It routes nothing: what a request means
//! is the [`Handler`]'s business (the app layer's router).
//!
//! [`serve`] takes an already-bound listener and any shutdown future, so tests run it on port
//! 0. With TLS, each connection's handshake runs in its own task under the header-read timeout,
//! so a stalled client holds only its own connection slot.
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

use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::base::metrics::Metrics;
use crate::http::response::error_response;
use crate::http::tls::Tls;

/// Connection-level limits.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub shutdown_grace: Duration,
}

/// What a listener serves: one answer per request. A panic inside `handle` ends only that
/// request (answered `500`, counted in `metrics`).
pub trait Handler: Send + Sync + 'static {
    fn handle(
        &self,
        request: Request<Incoming>,
        remote: SocketAddr,
    ) -> impl Future<Output = Response<Full<Bytes>>> + Send;

    /// Where panics and failed TLS handshakes are counted.
    fn metrics(&self) -> &Metrics;
}

/// Serves until `shutdown` resolves, then drains connections for at most the grace period.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
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
                let metrics_handler = handler.clone();
                let handler = handler.clone();
                let service = service_fn(move |req| {
                    let handler = handler.clone();
                    async move {
                        let handled = handler.handle(req, remote);
                        Ok::<_, Infallible>(or_internal_error(handled, handler.metrics(), remote).await)
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
                                    metrics_handler.metrics().tls_handshake_error();
                                    tracing::debug!(error = %e, %remote, "TLS handshake failed");
                                    Ok(())
                                }
                                Err(_) => {
                                    metrics_handler.metrics().tls_handshake_error();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::response::json_response;

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
