//! Whether the gateway can take webhooks: the broker probe every ten seconds (metrics and the
//! status page's broker line stay current without anyone calling `/readyz`) and `/readyz`'s
//! answer.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::HeaderValue;
use hyper::{Response, StatusCode};

use crate::base::clock::now_ms;
use crate::http::response::json_response;
use crate::ingest::Gateway;

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
pub async fn watch_broker(app: &Gateway, mut stop: tokio::sync::watch::Receiver<bool>) {
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
async fn probe_broker(app: &Gateway) -> bool {
    let up = app.publisher.ready(Duration::from_secs(2)).await;
    app.broker.set(up, now_ms());
    app.metrics.observe_readiness(up, up || app.spool.is_some());
    up
}

pub async fn readyz(app: &Gateway) -> Response<Full<Bytes>> {
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
