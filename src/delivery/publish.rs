//! Publishing: the Kafka producer, topic creation, and the embedded broker.
//!
//! Owns: every rdkafka object. The producer is idempotent with `acks=all`, so an `Ok` from
//! [`Publisher::publish`] means every in-sync replica has the record; that is the moment the
//! webhook may be answered 202. Nothing here knows about HTTP.
//!
//! Errors are sorted by what the provider should do: most are *retriable* (broker down, timed
//! out, queue full: answer 503 so the provider retries); a record too large for the broker is
//! *permanent* (answer 413: retrying cannot help).

use std::collections::HashSet;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use crate::base::metrics::Metrics;
use crate::delivery::client::{self as kafka_client, ClientError, Role};
use crate::delivery::kafka::KafkaSettings;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("could not create Kafka topic `{topic}`: {reason}")]
    CreateTopic { topic: String, reason: String },
    #[error("Kafka did not acknowledge the event: {0}")]
    Delivery(KafkaError),
}

impl PublishError {
    /// A record the broker will never take (retrying the same webhook cannot succeed).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            PublishError::Delivery(e)
                if e.rdkafka_error_code() == Some(RDKafkaErrorCode::MessageSizeTooLarge)
        )
    }

    pub fn code(&self) -> &'static str {
        match self {
            _ if self.is_permanent() => "event_too_large_for_broker",
            PublishError::CreateTopic { .. } => "topic_unavailable",
            PublishError::Delivery(_) => "broker_unavailable",
        }
    }

    /// Closed set of labels for the error metric.
    fn kind(&self) -> &'static str {
        match self {
            PublishError::CreateTopic { .. } => "create_topic",
            PublishError::Delivery(e) => match e.rdkafka_error_code() {
                Some(RDKafkaErrorCode::MessageTimedOut) => "timeout",
                Some(RDKafkaErrorCode::QueueFull) => "queue_full",
                Some(RDKafkaErrorCode::MessageSizeTooLarge) => "too_large",
                _ => "other",
            },
        }
    }
}

/// `content-type` of envelopes and dead letters.
pub const JSON: &str = "application/json";
/// `content-type` of CloudEvents structured-mode records.
pub const CLOUDEVENTS_JSON: &str = "application/cloudevents+json";

/// One record to publish.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub topic: &'a str,
    pub key: &'a str,
    pub value: &'a [u8],
    /// CloudEvents Kafka-binding attributes.
    pub ce_id: &'a str,
    pub ce_source: &'a str,
    pub ce_type: &'a str,
    pub ce_time: &'a str,
    /// The record's `content-type` header: `application/json` (envelope, dead letter) or
    /// `application/cloudevents+json` (a CloudEvents structured-mode record).
    pub content_type: &'a str,
}

impl Record<'_> {
    /// The Kafka headers: the CloudEvents Kafka-binding attributes and `content-type`.
    pub fn headers(&self) -> OwnedHeaders {
        OwnedHeaders::new_with_capacity(6)
            .insert(header("ce_specversion", "1.0"))
            .insert(header("ce_id", self.ce_id))
            .insert(header("ce_source", self.ce_source))
            .insert(header("ce_type", self.ce_type))
            .insert(header("ce_time", self.ce_time))
            .insert(header("content-type", self.content_type))
    }

    /// The record as the spool keeps it (its `seq` is assigned on append).
    pub fn to_spooled(&self, now_ms: i64) -> crate::delivery::spool::SpooledRecord {
        crate::delivery::spool::SpooledRecord {
            seq: 0,
            topic: self.topic.to_owned(),
            key: self.key.to_owned(),
            value: String::from_utf8_lossy(self.value).into_owned(),
            ce_id: self.ce_id.to_owned(),
            ce_source: self.ce_source.to_owned(),
            ce_type: self.ce_type.to_owned(),
            ce_time: self.ce_time.to_owned(),
            content_type: Some(self.content_type.to_owned()),
            spooled_at_ms: now_ms,
        }
    }

    /// A spooled record, to publish.
    pub fn from_spooled(r: &crate::delivery::spool::SpooledRecord) -> Record<'_> {
        Record {
            topic: &r.topic,
            key: &r.key,
            value: r.value.as_bytes(),
            ce_id: &r.ce_id,
            ce_source: &r.ce_source,
            ce_type: &r.ce_type,
            ce_time: &r.ce_time,
            content_type: r.content_type.as_deref().unwrap_or(JSON),
        }
    }
}

/// Where a record landed.
#[derive(Debug, Clone, Copy)]
pub struct Delivered {
    pub partition: i32,
    pub offset: i64,
}

pub struct Publisher {
    producer: FutureProducer,
    /// Present when the config lets the gateway create missing topics.
    admin: Option<AdminClient<DefaultClientContext>>,
    /// Topics known to exist, so creation is attempted once per topic.
    known_topics: RwLock<HashSet<String>>,
    /// Held while a topic is being created.
    creating: tokio::sync::Mutex<()>,
    partitions: i32,
    replication: i32,
    /// `kafka.create_topics_only`: templates a topic must match to be created (empty: any).
    create_only: Vec<crate::delivery::topic::TopicTemplate>,
    delivery_timeout: Duration,
    /// Last readiness answer; one metadata request at a time, reused for [`READY_CACHE`],
    /// so a busy `/readyz` cannot tie up blocking threads.
    last_ready: tokio::sync::Mutex<Option<(Instant, bool)>>,
}

/// How long a readiness answer is reused.
const READY_CACHE: Duration = Duration::from_secs(1);

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher").finish_non_exhaustive()
    }
}

impl Publisher {
    /// Builds the producer (and admin client) for `bootstrap`. Does not wait for the broker:
    /// the gateway starts even when Kafka is down, and `/readyz` says so.
    ///
    /// `embedded`: the broker is librdkafka's mock cluster, which answers no CreateTopics
    /// request but creates topics when a producer first asks for their metadata.
    pub fn new(
        bootstrap: &str,
        settings: &KafkaSettings,
        embedded: bool,
    ) -> Result<Self, ClientError> {
        let role = Role::Producer { embedded };
        let config = kafka_client::client_config(bootstrap, settings, role);
        let producer: FutureProducer = kafka_client::create(&config, settings, role)?;
        let admin = if settings.create_topics && !embedded {
            Some(kafka_client::create::<AdminClient<DefaultClientContext>>(
                &config, settings, role,
            )?)
        } else {
            None
        };
        Ok(Publisher {
            producer,
            admin,
            known_topics: RwLock::new(HashSet::new()),
            creating: tokio::sync::Mutex::new(()),
            partitions: settings.topic_partitions,
            replication: settings.topic_replication,
            create_only: settings.create_topics_only.clone(),
            delivery_timeout: settings.delivery_timeout,
            last_ready: tokio::sync::Mutex::new(None),
        })
    }

    /// Publishes and waits for the broker's acknowledgement.
    pub async fn publish(
        &self,
        record: Record<'_>,
        metrics: &Metrics,
    ) -> Result<Delivered, PublishError> {
        let started = Instant::now();
        let result = self.publish_inner(record, metrics).await;
        metrics.observe_kafka(
            started.elapsed(),
            result.as_ref().err().map(PublishError::kind),
        );
        result
    }

    async fn publish_inner(
        &self,
        record: Record<'_>,
        metrics: &Metrics,
    ) -> Result<Delivered, PublishError> {
        self.ensure_topic(record.topic, metrics).await?;
        let fr = FutureRecord::to(record.topic)
            .key(record.key)
            .payload(record.value)
            .headers(record.headers());
        match self.producer.send(fr, self.delivery_timeout).await {
            Ok(d) => Ok(Delivered {
                partition: d.partition,
                offset: d.offset,
            }),
            Err((e, _)) => {
                // The topic may have been deleted (or lost by the broker): create it again on
                // the next attempt.
                if matches!(
                    e.rdkafka_error_code(),
                    Some(
                        RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic
                    )
                ) {
                    if let Ok(mut known) = self.known_topics.write() {
                        known.remove(record.topic);
                    }
                }
                Err(PublishError::Delivery(e))
            }
        }
    }

    async fn ensure_topic(&self, topic: &str, metrics: &Metrics) -> Result<(), PublishError> {
        let Some(admin) = &self.admin else {
            return Ok(());
        };
        if self.is_known(topic) {
            return Ok(());
        }
        // One creation at a time: the first requests for a new topic arrive together, and
        // all but the first find it known here instead of each asking the broker.
        let _creating = self.creating.lock().await;
        if self.is_known(topic) {
            return Ok(());
        }
        if !self.create_only.is_empty() && !self.create_only.iter().any(|t| t.matches(topic)) {
            // Not the gateway's to create: it must exist already (publishing says if not).
            tracing::info!(topic, "topic outside kafka.create_topics_only: not created");
            metrics.topic_creation(false);
            self.mark_known(topic);
            return Ok(());
        }
        let new = NewTopic::new(
            topic,
            self.partitions,
            TopicReplication::Fixed(self.replication),
        );
        let opts = AdminOptions::new()
            .request_timeout(Some(self.delivery_timeout))
            .operation_timeout(Some(self.delivery_timeout));
        let failed = |reason: String| PublishError::CreateTopic {
            topic: topic.to_owned(),
            reason,
        };
        let results = admin
            .create_topics([&new], &opts)
            .await
            .map_err(|e| failed(e.to_string()))?;
        for result in results {
            match result {
                Ok(_) => {
                    metrics.topic_creation(true);
                    tracing::info!(topic, "topic created");
                }
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((_, code)) => return Err(failed(code.to_string())),
            }
        }
        tracing::info!(topic, "topic ready");
        self.mark_known(topic);
        Ok(())
    }

    fn mark_known(&self, topic: &str) {
        if let Ok(mut known) = self.known_topics.write() {
            known.insert(topic.to_owned());
        }
    }

    fn is_known(&self, topic: &str) -> bool {
        self.known_topics
            .read()
            .map(|known| known.contains(topic))
            .unwrap_or(false)
    }

    /// Whether a broker answers a metadata request within `timeout`.
    pub async fn ready(&self, timeout: Duration) -> bool {
        let mut last = self.last_ready.lock().await;
        if let Some((at, ok)) = *last {
            if at.elapsed() < READY_CACHE {
                return ok;
            }
        }
        let producer = self.producer.clone();
        let ok = tokio::task::spawn_blocking(move || {
            producer.client().fetch_metadata(None, timeout).is_ok()
        })
        .await
        .unwrap_or(false);
        *last = Some((Instant::now(), ok));
        ok
    }

    /// Waits until every queued record is acknowledged (or `timeout` passes).
    pub async fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || producer.flush(timeout))
            .await
            .unwrap_or(Ok(()))
    }
}

fn header<'a>(key: &'a str, value: &'a str) -> Header<'a, &'a str> {
    Header {
        key,
        value: Some(value),
    }
}
