//! The Kafka store, for a fleet of gateways behind one load balancer: every change is a record
//! on one compacted, single-partition topic (key: the webhook id; value: the [`Record`] as JSON;
//! a tombstone for a deletion). Each replica reads the topic from the start when it opens, then
//! follows it, so every replica applies every change, in the topic's order, within a second
//! or so. Secrets on the topic are sealed like on disk.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer as _, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message as _, Offset, TopicPartitionList};
use tokio::sync::mpsc;

use super::{Record, StoreError};
use crate::delivery::client::{self as kafka_client, Role};
use crate::delivery::kafka::KafkaSettings;

/// How long opening may take to read the topic to its end.
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// A change seen on the topic: the id, and the record (`None`: deleted).
pub type Change = (String, Option<Record>);

/// The shared topic: writes go to it, and a task follows it.
pub struct KafkaStore {
    producer: FutureProducer,
    topic: String,
    timeout: Duration,
    changes: tokio::sync::Mutex<mpsc::Receiver<Change>>,
}

impl std::fmt::Debug for KafkaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaStore")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

fn kafka(e: impl std::fmt::Display) -> StoreError {
    StoreError::Kafka(e.to_string())
}

impl KafkaStore {
    /// Creates the topic if it is missing (compacted, one partition), reads it to its end,
    /// and starts following it. Returns the records it holds.
    pub async fn open(
        bootstrap: &str,
        settings: &KafkaSettings,
        topic: &str,
    ) -> Result<(Self, BTreeMap<String, Record>), StoreError> {
        if settings.create_topics {
            create_topic(bootstrap, topic, settings).await?;
        }
        let producer: FutureProducer =
            kafka_client::build(bootstrap, settings, Role::StoreProducer).map_err(kafka)?;
        // Every replica reads everything (the role gives each consumer a group of its own).
        let consumer: StreamConsumer =
            kafka_client::build(bootstrap, settings, Role::StoreConsumer).map_err(kafka)?;
        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset(topic, 0, Offset::Beginning)
            .map_err(kafka)?;
        consumer.assign(&assignment).map_err(kafka)?;

        let mut records = BTreeMap::new();
        let loading = async {
            loop {
                match consumer.recv().await {
                    Ok(message) => {
                        if let Some((id, record)) = decode(&message) {
                            match record {
                                Some(r) => records.insert(id, r),
                                None => records.remove(&id),
                            };
                        }
                    }
                    Err(KafkaError::PartitionEOF(_)) => return Ok(()),
                    Err(e) if is_transient(&e) => {
                        tracing::debug!(error = %e, "admin store topic not readable yet");
                    }
                    Err(e) => return Err(kafka(e)),
                }
            }
        };
        match tokio::time::timeout(LOAD_TIMEOUT, loading).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(StoreError::Kafka(format!(
                    "could not read topic `{topic}` to its end within {} s: check that \
                     `kafka.brokers` answer and that the topic exists (it is created when \
                     `kafka.create_topics` is on)",
                    LOAD_TIMEOUT.as_secs()
                )))
            }
        }

        let (sender, receiver) = mpsc::channel(1024);
        tokio::spawn(follow(consumer, sender));
        Ok((
            KafkaStore {
                producer,
                topic: topic.to_owned(),
                timeout: settings.delivery_timeout,
                changes: tokio::sync::Mutex::new(receiver),
            },
            records,
        ))
    }

    /// Writes a record and waits for the broker's acknowledgement.
    pub async fn put(&self, record: &Record) -> Result<(), StoreError> {
        let value = serde_json::to_vec(record).map_err(kafka)?;
        self.send(&record.id, Some(&value)).await
    }

    /// Writes a tombstone for `id` and waits for the acknowledgement.
    pub async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.send(id, None).await
    }

    async fn send(&self, id: &str, value: Option<&[u8]>) -> Result<(), StoreError> {
        let mut record = FutureRecord::<str, [u8]>::to(&self.topic).key(id);
        if let Some(v) = value {
            record = record.payload(v);
        }
        self.producer
            .send(record, self.timeout)
            .await
            .map(|_| ())
            .map_err(|(e, _)| kafka(e))
    }

    /// The next change another replica (or this one) wrote; `None` when following stopped.
    pub async fn next_change(&self) -> Option<Change> {
        self.changes.lock().await.recv().await
    }
}

/// Reads the topic for as long as the store lives, passing every change on.
async fn follow(consumer: StreamConsumer, changes: mpsc::Sender<Change>) {
    loop {
        match consumer.recv().await {
            Ok(message) => {
                if let Some(change) = decode(&message) {
                    if changes.send(change).await.is_err() {
                        return;
                    }
                }
            }
            Err(KafkaError::PartitionEOF(_)) => {}
            Err(e) => {
                tracing::warn!(error = %e, "reading the admin store topic failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// The change a message carries; a message that is not a record is logged and skipped.
fn decode(message: &rdkafka::message::BorrowedMessage<'_>) -> Option<Change> {
    let id = message.key().and_then(|k| std::str::from_utf8(k).ok())?;
    match message.payload() {
        None => Some((id.to_owned(), None)),
        Some(bytes) => match serde_json::from_slice::<Record>(bytes) {
            Ok(r) if r.id == id => Some((id.to_owned(), Some(r))),
            Ok(_) => {
                tracing::error!(
                    key = id,
                    offset = message.offset(),
                    "admin store record's id differs from its key; skipped"
                );
                None
            }
            Err(e) => {
                tracing::error!(key = id, offset = message.offset(), error = %e, "admin store record does not parse; skipped");
                None
            }
        },
    }
}

fn is_transient(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::UnknownTopicOrPartition
                | RDKafkaErrorCode::LeaderNotAvailable
                | RDKafkaErrorCode::UnknownTopic
                | RDKafkaErrorCode::UnknownPartition
        )
    )
}

async fn create_topic(
    bootstrap: &str,
    topic: &str,
    settings: &KafkaSettings,
) -> Result<(), StoreError> {
    let admin: AdminClient<DefaultClientContext> =
        kafka_client::build(bootstrap, settings, Role::StoreAdmin).map_err(kafka)?;
    let new = NewTopic::new(
        topic,
        1,
        TopicReplication::Fixed(settings.topic_replication),
    )
    .set("cleanup.policy", "compact");
    let opts = AdminOptions::new()
        .request_timeout(Some(Duration::from_secs(10)))
        .operation_timeout(Some(Duration::from_secs(10)));
    let results = admin.create_topics([&new], &opts).await.map_err(kafka)?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => {
                return Err(StoreError::Kafka(format!(
                    "could not create topic `{topic}`: {code}"
                )))
            }
        }
    }
    Ok(())
}
