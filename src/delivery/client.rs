//! Kafka client configuration: the one place an rdkafka [`ClientConfig`] is made from the
//! `[kafka]` section, for every client the gateway and its commands create.
//!
//! Owns: the order settings are applied in, which is what decides who wins. For each
//! [`Role`]: first its own defaults, which `[kafka.properties]` may override (the producer's
//! `linger.ms`, a client id); then the user's `[kafka.properties]` (secret references already
//! resolved by `config`); then what the role fixes, which no property changes (the delivery
//! guarantee, a consumer's group and offsets); `bootstrap.servers` last. Properties the gateway
//! can never let a user set (`bootstrap.servers`, `enable.idempotence`, `acks`) are refused by
//! config validation already.
//!
//! Secrets: property values are put into the config and nowhere else. An error creating a
//! client never shows a property's value (librdkafka's own messages echo it) and has every
//! value read from a secret reference scrubbed out of it.

use rdkafka::config::{ClientConfig, FromClientConfig};
use rdkafka::error::KafkaError;

use crate::delivery::kafka::KafkaSettings;

/// Which client a config is for; each adds only its own settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role<'a> {
    /// The gateway's event producer (idempotent, `acks=all`), and the admin client that
    /// creates its topics from the same config. `embedded`: the broker is librdkafka's mock
    /// cluster.
    Producer { embedded: bool },
    /// The admin store's producer, which writes changes to the store topic.
    StoreProducer,
    /// The admin store's consumer, which reads the store topic (each replica in a group of its
    /// own: no membership, no committed offsets).
    StoreConsumer,
    /// The admin client that creates the store topic.
    StoreAdmin,
    /// A command's consumer (`tail`, `replay`): outside any consumer group, it assigns
    /// partitions itself and commits nothing. `partition_eof`: an event at the end of each
    /// partition.
    CliConsumer {
        command: &'a str,
        partition_eof: bool,
    },
}

impl Role<'_> {
    /// For messages: which client it is.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Producer { .. } => "producer",
            Role::StoreProducer => "admin store producer",
            Role::StoreConsumer => "admin store consumer",
            Role::StoreAdmin => "admin store admin client",
            Role::CliConsumer { .. } => "consumer",
        }
    }

    /// Settings `[kafka.properties]` may override.
    fn defaults(&self, config: &mut ClientConfig, kafka: &KafkaSettings) {
        match self {
            Role::Producer { .. } => {
                config
                    .set("client.id", "hookgate")
                    .set(
                        "message.timeout.ms",
                        kafka.delivery_timeout.as_millis().to_string(),
                    )
                    // Every answer waits for a produce round trip, so produce requests are sent
                    // at once rather than held by Nagle's algorithm (docs/src/decisions.md,
                    // "socket.nagle.disable": 0-5% more webhooks/s in paired runs, within the noise).
                    .set("socket.nagle.disable", "true")
                    // Batches wait 3 ms, not librdkafka's 5: in paired runs (docs/src/decisions.md,
                    // "linger.ms 3") 3 gave the highest rate and the least CPU per webhook at 256
                    // connections, and 1.4 times 5's rate at 64 (where 2 doubles it, for 20-30%
                    // less at 256: an idempotent partition has one request in flight and
                    // librdkafka's broker thread spins while it waits once the next batch has
                    // lingered).
                    .set("linger.ms", "3");
            }
            Role::CliConsumer { command, .. } => {
                config.set("client.id", format!("hookgate-{command}"));
            }
            Role::StoreProducer | Role::StoreConsumer | Role::StoreAdmin => {}
        }
    }

    /// Settings no property changes.
    fn fixed(&self, config: &mut ClientConfig, kafka: &KafkaSettings) {
        match self {
            Role::Producer { embedded } => {
                // With an allow-list of topics to create, librdkafka must not ask the broker to
                // create the others on first use either (brokers allow that by default).
                if !kafka.create_topics_only.is_empty() && !embedded {
                    config.set("allow.auto.create.topics", "false");
                }
                // The delivery guarantee that makes a 202 mean "safe".
                config.set("enable.idempotence", "true").set("acks", "all");
            }
            Role::StoreProducer => {
                config
                    .set("client.id", "hookgate-admin-store")
                    .set("enable.idempotence", "true")
                    .set("acks", "all")
                    .set(
                        "message.timeout.ms",
                        kafka.delivery_timeout.as_millis().to_string(),
                    );
            }
            Role::StoreConsumer => {
                // Every replica reads everything: no group membership, no committed offsets.
                let group = format!("hookgate-admin-store-{}", uuid::Uuid::now_v7().simple());
                config
                    .set("client.id", "hookgate-admin-store")
                    .set("group.id", group)
                    .set("enable.auto.commit", "false")
                    .set("enable.auto.offset.store", "false")
                    .set("enable.partition.eof", "true")
                    .set("auto.offset.reset", "earliest");
            }
            Role::StoreAdmin => {
                config.set("client.id", "hookgate-admin-store");
            }
            Role::CliConsumer {
                command,
                partition_eof,
            } => {
                config
                    .set(
                        "group.id",
                        format!("hookgate-{command}-{}", uuid::Uuid::now_v7()),
                    )
                    .set("enable.auto.commit", "false")
                    .set(
                        "enable.partition.eof",
                        if *partition_eof { "true" } else { "false" },
                    )
                    .set("auto.offset.reset", "earliest");
            }
        }
    }
}

/// A Kafka client that could not be created. Never holds a property's value.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the Kafka {role} refuses property `{key}` (from [kafka.properties]): {reason}")]
    Property {
        role: &'static str,
        key: String,
        reason: String,
    },
    #[error("cannot create the Kafka {role}: {reason}")]
    Create { role: &'static str, reason: String },
}

/// The config of `role`'s client for `bootstrap` (the `[kafka]` brokers, a `--brokers`
/// override or the embedded broker's address) under `kafka`'s properties.
pub fn client_config(bootstrap: &str, kafka: &KafkaSettings, role: Role<'_>) -> ClientConfig {
    let mut config = ClientConfig::new();
    role.defaults(&mut config, kafka);
    for (key, value) in kafka.properties.expose() {
        config.set(key, value);
    }
    role.fixed(&mut config, kafka);
    config.set("bootstrap.servers", bootstrap);
    config
}

/// Creates a client of `role` from `config` (made by [`client_config`] for that role); its
/// error shows no property value.
pub fn create<C: FromClientConfig>(
    config: &ClientConfig,
    kafka: &KafkaSettings,
    role: Role<'_>,
) -> Result<C, ClientError> {
    config.create().map_err(|e| redacted(e, kafka, role.name()))
}

/// [`client_config`] and [`create`] in one.
pub fn build<C: FromClientConfig>(
    bootstrap: &str,
    kafka: &KafkaSettings,
    role: Role<'_>,
) -> Result<C, ClientError> {
    create(&client_config(bootstrap, kafka, role), kafka, role)
}

fn redacted(e: KafkaError, kafka: &KafkaSettings, role: &'static str) -> ClientError {
    let scrub = |mut text: String, extra: Option<&str>| {
        let secrets = kafka.properties.secret_values();
        for value in secrets.chain(extra.map(str::as_bytes)) {
            let value = String::from_utf8_lossy(value);
            if !value.is_empty() {
                text = text.replace(value.as_ref(), "[redacted]");
            }
        }
        text
    };
    match e {
        // librdkafka's description may quote the value (`Invalid value "…" for …`), and
        // rdkafka's Display of this error appends it: only the key and the description, with
        // the value taken out, are kept.
        KafkaError::ClientConfig(_, description, key, value) => ClientError::Property {
            role,
            reason: scrub(description, Some(&value)),
            key,
        },
        other => ClientError::Create {
            role,
            reason: scrub(other.to_string(), None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_kafka;
    use rdkafka::consumer::BaseConsumer;
    use rdkafka::producer::FutureProducer;

    const PASSWORD: &str = "pa55-w0rd-from-env";

    fn settings(extra: &str) -> KafkaSettings {
        let text = format!(
            r#"
            [kafka]
            brokers = "b:9092"
            delivery_timeout_ms = 7000
            [kafka.properties]
            "security.protocol" = "SASL_PLAINTEXT"
            "sasl.mechanism" = "PLAIN"
            "sasl.username" = "hookgate"
            "sasl.password" = {{ env = "KAFKA_PASSWORD" }}
            {extra}
            "#
        );
        parse_kafka(&text, &|name| {
            (name == "KAFKA_PASSWORD").then(|| PASSWORD.to_owned())
        })
        .expect("valid [kafka]")
    }

    fn every_role() -> [Role<'static>; 6] {
        [
            Role::Producer { embedded: false },
            Role::Producer { embedded: true },
            Role::StoreProducer,
            Role::StoreConsumer,
            Role::StoreAdmin,
            Role::CliConsumer {
                command: "tail",
                partition_eof: false,
            },
        ]
    }

    #[test]
    fn every_role_gets_the_properties_with_secrets_resolved_and_the_bootstrap() {
        let kafka = settings("");
        for role in every_role() {
            let c = client_config("b1:9092,b2:9092", &kafka, role);
            for (key, value) in [
                ("bootstrap.servers", "b1:9092,b2:9092"),
                ("security.protocol", "SASL_PLAINTEXT"),
                ("sasl.mechanism", "PLAIN"),
                ("sasl.username", "hookgate"),
                ("sasl.password", PASSWORD),
            ] {
                assert_eq!(c.get(key), Some(value), "{role:?}: {key}");
            }
        }
    }

    #[test]
    fn the_producer_keeps_its_settings_and_its_guarantee() {
        // What Publisher::new set before this module existed, byte for byte.
        let c = client_config("b:9092", &settings(""), Role::Producer { embedded: false });
        for (key, value) in [
            ("client.id", "hookgate"),
            ("message.timeout.ms", "7000"),
            ("socket.nagle.disable", "true"),
            ("linger.ms", "3"),
            ("enable.idempotence", "true"),
            ("acks", "all"),
        ] {
            assert_eq!(c.get(key), Some(value), "{key}");
        }
        assert_eq!(c.get("allow.auto.create.topics"), None);
        assert_eq!(c.get("group.id"), None);

        // Its defaults give way to properties; the guarantee does not (config validation
        // refuses `acks` and `enable.idempotence` anyway).
        let tuned = settings("\"linger.ms\" = \"20\"\n\"client.id\" = \"gw-7\"");
        let c = client_config("b:9092", &tuned, Role::Producer { embedded: false });
        assert_eq!(c.get("linger.ms"), Some("20"));
        assert_eq!(c.get("client.id"), Some("gw-7"));

        let only = parse_kafka(
            "[kafka]\nbrokers = \"b:9092\"\ncreate_topics_only = [\"webhooks.{provider}.{event_type}\"]\n",
            &|_| None,
        )
        .expect("valid");
        let c = client_config("b:9092", &only, Role::Producer { embedded: false });
        assert_eq!(c.get("allow.auto.create.topics"), Some("false"));
        let c = client_config("b:9092", &only, Role::Producer { embedded: true });
        assert_eq!(c.get("allow.auto.create.topics"), None);
    }

    #[test]
    fn consumers_fix_their_group_and_offsets_and_producer_settings_stay_with_producers() {
        let kafka = settings("\"group.id\" = \"mine\"\n\"enable.auto.commit\" = \"true\"");
        for role in [
            Role::StoreConsumer,
            Role::CliConsumer {
                command: "replay",
                partition_eof: true,
            },
        ] {
            let c = client_config("b:9092", &kafka, role);
            assert_ne!(c.get("group.id"), Some("mine"), "{role:?}");
            assert_eq!(c.get("enable.auto.commit"), Some("false"), "{role:?}");
            assert_eq!(c.get("auto.offset.reset"), Some("earliest"), "{role:?}");
            assert_eq!(c.get("enable.partition.eof"), Some("true"), "{role:?}");
            for producer_only in ["linger.ms", "acks", "enable.idempotence"] {
                assert_eq!(c.get(producer_only), None, "{role:?}: {producer_only}");
            }
        }
        let tail = client_config(
            "b:9092",
            &settings(""),
            Role::CliConsumer {
                command: "tail",
                partition_eof: false,
            },
        );
        assert_eq!(tail.get("client.id"), Some("hookgate-tail"));
        assert_eq!(tail.get("enable.partition.eof"), Some("false"));
        assert!(tail
            .get("group.id")
            .is_some_and(|g| g.starts_with("hookgate-tail-")));

        let store = client_config("b:9092", &settings(""), Role::StoreProducer);
        for (key, value) in [
            ("client.id", "hookgate-admin-store"),
            ("enable.idempotence", "true"),
            ("acks", "all"),
            ("message.timeout.ms", "7000"),
        ] {
            assert_eq!(store.get(key), Some(value), "{key}");
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_output_and_errors() {
        let kafka = settings("");
        assert!(!format!("{kafka:?}").contains(PASSWORD), "{kafka:?}");
        assert!(format!("{kafka:?}").contains("sasl.password"));

        // A secret under a key librdkafka does not know: its error names the key only.
        let typo = settings("\"sasl.pasword\" = { env = \"KAFKA_PASSWORD\" }");
        let err = build::<BaseConsumer>(
            "b:9092",
            &typo,
            Role::CliConsumer {
                command: "tail",
                partition_eof: false,
            },
        )
        .err()
        .expect("an unknown property is refused");
        let text = err.to_string();
        assert!(text.contains("`sasl.pasword`"), "{text}");
        assert!(!text.contains(PASSWORD), "{text}");

        // A value librdkafka quotes in its own message is taken out too.
        let bad = settings("\"linger.ms\" = { env = \"KAFKA_PASSWORD\" }");
        let err = build::<FutureProducer>("b:9092", &bad, Role::Producer { embedded: false })
            .err()
            .expect("a linger.ms that is not a number is refused");
        let text = err.to_string();
        assert!(text.contains("`linger.ms`"), "{text}");
        assert!(!text.contains(PASSWORD), "{text}");
    }

    #[test]
    fn every_role_creates_its_client_from_a_valid_config() {
        // No broker is contacted: creating a client only checks its config.
        let kafka = parse_kafka(
            "[kafka]\nbrokers = \"127.0.0.1:9\"\n[kafka.properties]\n\"compression.type\" = \"lz4\"\n",
            &|_| None,
        )
        .expect("valid");
        let _producer =
            build::<FutureProducer>("127.0.0.1:9", &kafka, Role::Producer { embedded: false })
                .expect("producer");
        let _store = build::<FutureProducer>("127.0.0.1:9", &kafka, Role::StoreProducer)
            .expect("store producer");
        build::<BaseConsumer>("127.0.0.1:9", &kafka, Role::StoreConsumer).expect("store consumer");
        build::<rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext>>(
            "127.0.0.1:9",
            &kafka,
            Role::StoreAdmin,
        )
        .expect("admin client");
        build::<BaseConsumer>(
            "127.0.0.1:9",
            &kafka,
            Role::CliConsumer {
                command: "replay",
                partition_eof: true,
            },
        )
        .expect("command consumer");
    }
}
