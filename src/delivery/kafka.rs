//! The `[kafka]` section: where and how records are published, checked into [`KafkaSettings`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::base::secret::Secret;
use crate::base::setting::{resolve_secret, ConfigError, EnvLookup, SecretRef};
use crate::delivery::topic::TopicTemplate;

/// `[kafka]`: where and how events are published.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// `host:port[,host:port…]`, or `"embedded"` to start librdkafka's in-process mock cluster
    /// (for demos and local work; it keeps everything in memory).
    #[serde(default = "KafkaConfig::default_brokers")]
    pub brokers: String,
    /// Default topic for every source; `{source}`, `{provider}` and `{event_type}` are replaced.
    #[serde(default = "KafkaConfig::default_topic_template")]
    pub topic_template: String,
    /// Create missing topics through the Kafka admin API before the first publish.
    #[serde(default = "crate::base::setting::default_true")]
    pub create_topics: bool,
    /// Partitions of topics the gateway creates.
    #[serde(default = "KafkaConfig::default_topic_partitions")]
    pub topic_partitions: i32,
    /// Replication factor of topics the gateway creates.
    #[serde(default = "KafkaConfig::default_topic_replication")]
    pub topic_replication: i32,
    /// Topics the gateway creates are only those matching one of these templates
    /// (placeholders match any legal name part); others must exist already. Empty: any.
    #[serde(default)]
    pub create_topics_only: Vec<String>,
    /// Distinct event-type topics one source may route to; events of further event types go
    /// to its fallback topic.
    #[serde(default = "KafkaConfig::default_max_topics_per_source")]
    pub max_topics_per_source: usize,
    /// Distinct event-type topics all sources together may route to (and so create) in the
    /// life of the process.
    #[serde(default = "KafkaConfig::default_max_topics")]
    pub max_topics: usize,
    /// How long a publish may take (librdkafka `message.timeout.ms`) before the webhook is
    /// answered 503 so that the provider retries.
    #[serde(default = "KafkaConfig::default_delivery_timeout_ms")]
    pub delivery_timeout_ms: u64,
    /// Seconds sent in `Retry-After` with a 503.
    #[serde(default = "KafkaConfig::default_retry_after_secs")]
    pub retry_after_secs: u64,
    /// Where authenticated deliveries that fail parsing, identification or their schema go
    /// (unless a source sets `on_invalid = "reject"` or its own `dead_letter_topic`).
    #[serde(default = "KafkaConfig::default_dead_letter_topic")]
    pub dead_letter_topic: String,
    /// Any further librdkafka property (`security.protocol`, `sasl.*`, `ssl.*`,
    /// `compression.type`, …), for every Kafka client of the gateway and of its commands.
    /// Values here override the gateway's own settings except the delivery guarantees
    /// (`enable.idempotence`, `acks`), which are fixed. A value is text or a secret reference.
    #[serde(default)]
    pub properties: BTreeMap<String, PropertyValue>,
}

/// A `[kafka.properties]` value as written: text, or a secret reference (`{ env = "…" }`,
/// `{ file = "…" }`) for passwords and keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    untagged,
    expecting = "a string, { env = \"VARIABLE\" } or { file = \"/path\" }"
)]
pub enum PropertyValue {
    Text(String),
    Secret(SecretRef),
}

impl KafkaConfig {
    fn default_brokers() -> String {
        "embedded".to_owned()
    }
    fn default_topic_template() -> String {
        "webhooks.{provider}.{event_type}".to_owned()
    }
    fn default_dead_letter_topic() -> String {
        "webhooks.dead-letter".to_owned()
    }
    const fn default_topic_partitions() -> i32 {
        3
    }
    const fn default_topic_replication() -> i32 {
        1
    }
    /// Above the largest shipped catalog (95 event types), far below what a cluster minds.
    const fn default_max_topics_per_source() -> usize {
        100
    }
    /// 1,000 topics of 3 partitions: a few thousand partitions, within one broker's comfort.
    const fn default_max_topics() -> usize {
        1_000
    }
    /// Short enough that the provider's own request (GitHub: 10 s) has not timed out yet.
    const fn default_delivery_timeout_ms() -> u64 {
        5_000
    }
    const fn default_retry_after_secs() -> u64 {
        5
    }
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: Self::default_brokers(),
            topic_template: Self::default_topic_template(),
            create_topics: true,
            topic_partitions: Self::default_topic_partitions(),
            topic_replication: Self::default_topic_replication(),
            create_topics_only: Vec::new(),
            max_topics_per_source: Self::default_max_topics_per_source(),
            max_topics: Self::default_max_topics(),
            delivery_timeout_ms: Self::default_delivery_timeout_ms(),
            retry_after_secs: Self::default_retry_after_secs(),
            dead_letter_topic: Self::default_dead_letter_topic(),
            properties: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct KafkaSettings {
    pub brokers: Brokers,
    pub create_topics: bool,
    /// Templates a topic must match to be created; empty: any.
    pub create_topics_only: Vec<TopicTemplate>,
    /// The process-wide bound on event-type topics ([`crate::delivery::topic::TopicBudget`]).
    pub max_topics: usize,
    pub topic_partitions: i32,
    pub topic_replication: i32,
    pub delivery_timeout: Duration,
    pub retry_after_secs: u64,
    pub properties: KafkaProperties,
}

/// `[kafka.properties]` with their secret references resolved. `Debug` shows the keys only:
/// a value may be a password, written in the file or read from a secret reference.
#[derive(Clone, Default)]
pub struct KafkaProperties(BTreeMap<String, PropertyText>);

#[derive(Clone)]
enum PropertyText {
    Text(String),
    /// Read from a secret reference; checked to be UTF-8 when read.
    Secret(Secret),
}

impl KafkaProperties {
    /// Sets `key` to plain text.
    pub fn set_text(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), PropertyText::Text(value.into()));
    }

    /// Sets `key` to a secret: its value is never shown by this type.
    pub fn set_secret(&mut self, key: impl Into<String>, value: Secret) {
        self.0.insert(key.into(), PropertyText::Secret(value));
    }

    /// Every property and its value, for a Kafka client's config only: callers must not log
    /// or return the values.
    pub fn expose(&self) -> impl Iterator<Item = (&str, std::borrow::Cow<'_, str>)> {
        self.0.iter().map(|(key, value)| {
            let text = match value {
                PropertyText::Text(t) => std::borrow::Cow::Borrowed(t.as_str()),
                PropertyText::Secret(s) => String::from_utf8_lossy(s.expose()),
            };
            (key.as_str(), text)
        })
    }

    /// The values read from secret references, for scrubbing them out of error messages.
    pub fn secret_values(&self) -> impl Iterator<Item = &[u8]> {
        self.0.values().filter_map(|value| match value {
            PropertyText::Secret(s) => Some(s.expose()),
            PropertyText::Text(_) => None,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for KafkaProperties {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Brokers {
    Embedded,
    Bootstrap(String),
}

pub fn validate_kafka(k: &KafkaConfig, env: EnvLookup<'_>) -> Result<KafkaSettings, ConfigError> {
    let brokers = match k.brokers.trim() {
        "" => {
            return Err(ConfigError::invalid(
                "kafka",
                "brokers",
                "must not be empty",
            ))
        }
        "embedded" => Brokers::Embedded,
        list => Brokers::Bootstrap(list.to_owned()),
    };
    if k.topic_partitions < 1 {
        return Err(ConfigError::invalid(
            "kafka",
            "topic_partitions",
            "must be >= 1",
        ));
    }
    if k.topic_replication < 1 {
        return Err(ConfigError::invalid(
            "kafka",
            "topic_replication",
            "must be >= 1",
        ));
    }
    if k.delivery_timeout_ms == 0 {
        return Err(ConfigError::invalid(
            "kafka",
            "delivery_timeout_ms",
            "must be > 0",
        ));
    }
    for fixed in ["enable.idempotence", "acks", "bootstrap.servers"] {
        if k.properties.contains_key(fixed) {
            return Err(ConfigError::invalid(
                "kafka.properties",
                "properties",
                format!("`{fixed}` is set by the gateway and cannot be overridden here"),
            ));
        }
    }
    let create_topics_only = k
        .create_topics_only
        .iter()
        .map(|t| TopicTemplate::parse(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConfigError::invalid("kafka", "create_topics_only", e.to_string()))?;
    for (key, value) in [
        ("max_topics", k.max_topics),
        ("max_topics_per_source", k.max_topics_per_source),
    ] {
        if value == 0 {
            return Err(ConfigError::invalid("kafka", key, "must be >= 1"));
        }
    }
    let mut properties = KafkaProperties::default();
    for (key, value) in &k.properties {
        match value {
            PropertyValue::Text(text) => properties.set_text(key, text),
            PropertyValue::Secret(reference) => {
                let property = |reason: String| ConfigError::Property {
                    key: key.clone(),
                    reason,
                };
                let secret = resolve_secret(reference, env).map_err(property)?;
                if std::str::from_utf8(secret.expose()).is_err() {
                    return Err(property("the secret is not UTF-8 text".to_owned()));
                }
                properties.set_secret(key, secret);
            }
        }
    }
    Ok(KafkaSettings {
        brokers,
        create_topics: k.create_topics,
        create_topics_only,
        max_topics: k.max_topics,
        topic_partitions: k.topic_partitions,
        topic_replication: k.topic_replication,
        delivery_timeout: Duration::from_millis(k.delivery_timeout_ms),
        retry_after_secs: k.retry_after_secs,
        properties,
    })
}
