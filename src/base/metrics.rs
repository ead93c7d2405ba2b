//! Metrics: every Prometheus family the gateway exports, in one struct.
//!
//! Owns: metric names, help texts and labels. Label values come only from configured source
//! names and closed sets of codes (never from raw request data), so cardinality is bounded by
//! the config. Rendering is the text exposition format served on `GET /metrics`.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// Label used for requests to a source name that is not configured.
pub const UNKNOWN_SOURCE: &str = "_unknown";

/// Request latency buckets (seconds): sub-millisecond to the 10 s providers wait at most.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub struct Metrics {
    registry: Registry,
    /// Webhook requests by source and outcome (`accepted` or the error code).
    requests: IntCounterVec,
    /// Time from first byte to answer, by source.
    request_duration: HistogramVec,
    /// Requests being processed now (all routes).
    in_flight: IntGauge,
    /// Time from handing a record to the producer to the broker's acknowledgement.
    kafka_delivery: HistogramVec,
    /// Publish failures by kind.
    kafka_errors: IntCounterVec,
    spool_records: IntGauge,
    spool_bytes: IntGauge,
    spool_oldest_age: prometheus::Gauge,
    spool_drained: prometheus::IntCounter,
    dead_letters: IntCounterVec,
    config_reloads: IntCounterVec,
    admin_changes: IntCounterVec,
    kafka_up: IntGauge,
    ready: IntGauge,
    tls_reloads: IntCounterVec,
    tls_handshake_errors: prometheus::IntCounter,
    /// Request handlers that panicked (each answered 500; the process goes on).
    panics: prometheus::IntCounter,
    /// Events sent to their source's fallback topic, by source and reason.
    topic_fallbacks: IntCounterVec,
    /// Topics the gateway created.
    topics_created: prometheus::IntCounter,
    /// Topics it did not create because `create_topics_only` matched none.
    topics_not_created: prometheus::IntCounter,
    /// Calls to the shared dedup backend (Redis) that failed or timed out.
    dedup_backend_errors: prometheus::IntCounter,
    /// Whether the shared dedup backend answered its last call (1 while none is configured).
    dedup_backend_up: IntGauge,
    /// Deliveries processed as new without a dedup check (backend down, `on_unavailable =
    /// "accept"`), by source: the most duplicates such an outage can have published.
    dedup_unchecked: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Creates and registers every family. Sources are pre-registered so dashboards show
    /// zeros rather than gaps.
    pub fn new<'a>(sources: impl IntoIterator<Item = &'a str>) -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("hookgate".to_owned()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("webhooks_total", "Webhook requests by source and outcome"),
            &["source", "outcome"],
        )?;
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "webhook_duration_seconds",
                "Time from receiving a webhook to answering it",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["source"],
        )?;
        let in_flight = IntGauge::new("http_requests_in_flight", "HTTP requests being processed")?;
        let kafka_delivery = HistogramVec::new(
            HistogramOpts::new(
                "kafka_delivery_duration_seconds",
                "Time from producing a record to the broker's acknowledgement (or failure)",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["result"],
        )?;
        let kafka_errors = IntCounterVec::new(
            Opts::new(
                "kafka_delivery_errors_total",
                "Records Kafka did not acknowledge, by kind",
            ),
            &["kind"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(request_duration.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(kafka_delivery.clone()))?;
        registry.register(Box::new(kafka_errors.clone()))?;
        let spool_records = IntGauge::new("spool_records", "Records waiting in the spool")?;
        let spool_bytes = IntGauge::new("spool_bytes", "Bytes of the spool's records")?;
        let spool_oldest_age = prometheus::Gauge::new(
            "spool_oldest_age_seconds",
            "Age of the oldest record waiting in the spool (0 when empty)",
        )?;
        let spool_drained = prometheus::IntCounter::new(
            "spool_drained_total",
            "Spooled records that reached Kafka",
        )?;
        registry.register(Box::new(spool_records.clone()))?;
        registry.register(Box::new(spool_bytes.clone()))?;
        registry.register(Box::new(spool_oldest_age.clone()))?;
        registry.register(Box::new(spool_drained.clone()))?;
        let dead_letters = IntCounterVec::new(
            Opts::new(
                "dead_letters_total",
                "Authenticated deliveries published to a dead-letter topic, by source and reason",
            ),
            &["source", "reason"],
        )?;
        registry.register(Box::new(dead_letters.clone()))?;
        let config_reloads = IntCounterVec::new(
            Opts::new(
                "config_reloads_total",
                "Config reloads (SIGHUP) by result (`ok`, or `error`: the previous config stays)",
            ),
            &["result"],
        )?;
        registry.register(Box::new(config_reloads.clone()))?;
        let admin_changes = IntCounterVec::new(
            Opts::new(
                "admin_changes_total",
                "Admin API changes by action (`create`, `update`, `delete`, `rotate`) and result (`ok`; `refused`: a 4xx; `error`: not saved, 5xx)",
            ),
            &["action", "result"],
        )?;
        registry.register(Box::new(admin_changes.clone()))?;
        let kafka_up = IntGauge::new(
            "kafka_up",
            "1 when a Kafka broker answered the last metadata probe (every 10 s), else 0",
        )?;
        registry.register(Box::new(kafka_up.clone()))?;
        let ready = IntGauge::new(
            "ready",
            "1 when /readyz answers 200 (Kafka reachable, or a spool takes webhooks), else 0",
        )?;
        registry.register(Box::new(ready.clone()))?;
        let tls_reloads = IntCounterVec::new(
            Opts::new(
                "tls_reloads_total",
                "Certificate reloads by result (`ok`, or `error`: the previous certificate stays)",
            ),
            &["result"],
        )?;
        let tls_handshake_errors = prometheus::IntCounter::new(
            "tls_handshake_errors_total",
            "TLS handshakes that failed or timed out",
        )?;
        registry.register(Box::new(tls_reloads.clone()))?;
        registry.register(Box::new(tls_handshake_errors.clone()))?;
        let info = IntGauge::with_opts(
            Opts::new("build_info", "Gateway version")
                .const_label("version", env!("CARGO_PKG_VERSION")),
        )?;
        info.set(1);
        registry.register(Box::new(info))?;
        let panics = prometheus::IntCounter::new(
            "panics_total",
            "Request handlers that panicked: each was answered 500 and nothing was acknowledged",
        )?;
        registry.register(Box::new(panics.clone()))?;
        let topic_fallbacks = IntCounterVec::new(
            Opts::new(
                "topic_fallbacks_total",
                "Events published to their source's fallback topic instead of a topic of their own, by source and reason (not_in_catalog, source_topic_limit, topic_limit)",
            ),
            &["source", "reason"],
        )?;
        let topics_created = prometheus::IntCounter::new(
            "topics_created_total",
            "Topics the gateway created through the Kafka admin API",
        )?;
        let topics_not_created = prometheus::IntCounter::new(
            "topics_not_created_total",
            "Missing topics the gateway did not create because kafka.create_topics_only matches none of them",
        )?;
        registry.register(Box::new(topic_fallbacks.clone()))?;
        registry.register(Box::new(topics_created.clone()))?;
        registry.register(Box::new(topics_not_created.clone()))?;
        let dedup_backend_errors = prometheus::IntCounter::new(
            "dedup_backend_errors_total",
            "Calls to the shared dedup backend (Redis) that failed or timed out",
        )?;
        let dedup_backend_up = IntGauge::new(
            "dedup_backend_up",
            "1 when the shared dedup backend (Redis) answered its last call, or none is configured; 0 when it did not",
        )?;
        dedup_backend_up.set(1);
        let dedup_unchecked = IntCounterVec::new(
            Opts::new(
                "dedup_unchecked_total",
                "Deliveries processed as new without a dedup check because the shared backend (Redis) did not answer (on_unavailable = \"accept\")",
            ),
            &["source"],
        )?;
        registry.register(Box::new(dedup_backend_errors.clone()))?;
        registry.register(Box::new(dedup_backend_up.clone()))?;
        registry.register(Box::new(dedup_unchecked.clone()))?;
        // A restart resets every counter; this gauge makes a crash loop (an abort cannot be
        // counted by the process that dies) visible as changes of its value.
        let start_time = prometheus::Gauge::new(
            "start_time_seconds",
            "When this gateway process started (Unix seconds)",
        )?;
        start_time.set(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or_default(),
        );
        registry.register(Box::new(start_time))?;
        for source in sources {
            for reason in ["not_in_catalog", "source_topic_limit", "topic_limit"] {
                topic_fallbacks.with_label_values(&[source, reason]);
            }
            requests.with_label_values(&[source, "accepted"]);
            request_duration.with_label_values(&[source]);
            dedup_unchecked.with_label_values(&[source]);
        }
        Ok(Metrics {
            registry,
            requests,
            request_duration,
            in_flight,
            kafka_delivery,
            kafka_errors,
            spool_records,
            spool_bytes,
            spool_oldest_age,
            spool_drained,
            dead_letters,
            config_reloads,
            admin_changes,
            kafka_up,
            ready,
            tls_reloads,
            tls_handshake_errors,
            panics,
            topic_fallbacks,
            topics_created,
            topics_not_created,
            dedup_backend_errors,
            dedup_backend_up,
            dedup_unchecked,
        })
    }

    /// Counts a failed or timed-out call to the shared dedup backend.
    pub fn dedup_backend_error(&self) {
        self.dedup_backend_errors.inc();
    }

    /// Counts a delivery of `source` processed as new without a dedup check.
    pub fn dedup_unchecked(&self, source: &str) {
        self.dedup_unchecked.with_label_values(&[source]).inc();
    }

    /// Sets whether the shared dedup backend answers.
    pub fn set_dedup_backend_up(&self, up: bool) {
        self.dedup_backend_up.set(i64::from(up));
    }

    /// Counts an event sent to its source's fallback topic.
    pub fn topic_fallback(&self, source: &str, reason: &'static str) {
        self.topic_fallbacks
            .with_label_values(&[source, reason])
            .inc();
    }

    /// Counts a topic the gateway created (`true`) or left uncreated (`false`).
    pub fn topic_creation(&self, created: bool) {
        if created {
            self.topics_created.inc();
        } else {
            self.topics_not_created.inc();
        }
    }

    /// Counts a request handler that panicked.
    pub fn panicked(&self) {
        self.panics.inc();
    }

    /// Records one answered webhook.
    pub fn observe_webhook(&self, source: &str, outcome: &str, elapsed: Duration) {
        self.requests.with_label_values(&[source, outcome]).inc();
        self.request_duration
            .with_label_values(&[source])
            .observe(elapsed.as_secs_f64());
    }

    /// Records one publish attempt; `error_kind` is `None` on success.
    pub fn observe_kafka(&self, elapsed: Duration, error_kind: Option<&'static str>) {
        let result = if error_kind.is_some() { "error" } else { "ok" };
        self.kafka_delivery
            .with_label_values(&[result])
            .observe(elapsed.as_secs_f64());
        if let Some(kind) = error_kind {
            self.kafka_errors.with_label_values(&[kind]).inc();
        }
    }

    /// Sets the spool gauges from a snapshot.
    pub fn observe_spool(&self, depth: SpoolDepth) {
        self.spool_records.set(depth.records as i64);
        self.spool_bytes.set(depth.bytes as i64);
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        let age = depth
            .oldest_ms
            .map(|at| (now_ms - at).max(0) as f64 / 1000.0);
        self.spool_oldest_age.set(age.unwrap_or(0.0));
    }

    /// Counts spooled records that reached Kafka.
    pub fn spool_drained(&self, n: u64) {
        self.spool_drained.inc_by(n);
    }

    /// Counts one dead-lettered delivery.
    pub fn dead_letter(&self, source: &str, reason: &str) {
        self.dead_letters.with_label_values(&[source, reason]).inc();
    }

    /// Counts one admin API change attempt; `status` is the answer's.
    pub fn admin_change(&self, action: &'static str, status: u16) {
        let result = match status {
            200..=299 => "ok",
            500.. => "error",
            _ => "refused",
        };
        self.admin_changes
            .with_label_values(&[action, result])
            .inc();
    }

    /// Records a broker probe: whether Kafka answered, and whether the gateway is ready.
    pub fn observe_readiness(&self, kafka_up: bool, ready: bool) {
        self.kafka_up.set(i64::from(kafka_up));
        self.ready.set(i64::from(ready));
    }

    /// Counts one config reload attempt.
    pub fn config_reload(&self, ok: bool) {
        self.config_reloads
            .with_label_values(&[if ok { "ok" } else { "error" }])
            .inc();
    }

    /// Counts one certificate reload attempt.
    pub fn tls_reload(&self, ok: bool) {
        self.tls_reloads
            .with_label_values(&[if ok { "ok" } else { "error" }])
            .inc();
    }

    /// Counts one failed TLS handshake.
    pub fn tls_handshake_error(&self) {
        self.tls_handshake_errors.inc();
    }

    pub fn in_flight(&self) -> &IntGauge {
        &self.in_flight
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// A snapshot for metrics and `/readyz`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpoolDepth {
    pub records: u64,
    pub bytes: u64,
    pub oldest_ms: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_named_by_convention() {
        let m = Metrics::new(["gh"]).expect("metrics");
        m.observe_webhook("gh", "invalid_signature", Duration::from_millis(2));
        m.observe_kafka(Duration::from_millis(3), Some("timeout"));
        let text = m.render();
        for needle in [
            r#"hookgate_webhooks_total{outcome="accepted",source="gh"} 0"#,
            r#"hookgate_webhooks_total{outcome="invalid_signature",source="gh"} 1"#,
            "hookgate_webhook_duration_seconds_bucket",
            "hookgate_http_requests_in_flight 0",
            r#"hookgate_kafka_delivery_errors_total{kind="timeout"} 1"#,
            "hookgate_kafka_delivery_duration_seconds_count",
            "hookgate_build_info",
        ] {
            assert!(text.contains(needle), "missing {needle} in\n{text}");
        }
    }
}
