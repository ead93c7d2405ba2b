//! The offline commands of the binary: `validate` (a payload file against a source's rules
//! and schema), `replay` (dead letters the current config and schemas now accept, back to
//! their topics) and `tail` (a topic's records as JSON lines). The rules they apply are the
//! pipeline's (`cli::replay::revive`, `SchemaRegistry::check`).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use crate::base::metrics::Metrics;
use crate::base::setting::ConfigError;
use crate::cli::replay::revive;
use crate::delivery::client::{self as kafka_client, Role};
use crate::delivery::kafka::{Brokers, KafkaSettings};
use crate::delivery::publish::Publisher;
use crate::ingest::deadletter::DeadLetter;
use crate::ingest::schema::MissingSchema;
use crate::ingest::schema::SchemaError;
use crate::ingest::source::Source;
use anyhow::{bail, Context as _};
use rdkafka::consumer::BaseConsumer;
use std::io::Write as _;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The config's sources plus those created through the admin API (read from the admin store,
/// secrets opened with the configured key), so `validate` and `replay` know every source the
/// running gateway knows. A config source wins over an API-created one of the same name.
fn load_with_api_sources(
    config: &Path,
) -> anyhow::Result<(
    crate::config::Settings,
    crate::ingest::schema::SchemaRegistry,
)> {
    let (mut settings, schemas) = crate::app::load(config)?;
    let Some(admin) = settings.admin.clone() else {
        return Ok((settings, schemas));
    };
    let bootstrap = match (&admin.store.kind, &settings.kafka.brokers) {
        (crate::control::settings::StoreKind::Kafka, Brokers::Embedded) => {
            eprintln!("note: the admin store is a Kafka topic on the embedded broker, gone with the gateway: API-created sources are not loaded");
            return Ok((settings, schemas));
        }
        (_, Brokers::Bootstrap(b)) => b.clone(),
        (_, Brokers::Embedded) => String::new(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let store = runtime.block_on(crate::app::open_store(
        &admin,
        &bootstrap,
        &settings.kafka,
        &settings.source_defaults,
    ))?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    for record in store.list() {
        if settings.sources.contains_key(&record.id) {
            continue;
        }
        let source = store
            .source_of(&record, now)
            .map_err(|e| anyhow::anyhow!("API-created webhook `{}`: {e}", record.id))?;
        settings.sources.insert(record.id.clone(), source);
    }
    Ok((settings, schemas))
}

fn source<'a>(
    sources: &'a BTreeMap<String, Source>,
    name: &str,
    config: &Path,
) -> anyhow::Result<&'a Source> {
    sources.get(name).with_context(|| {
        format!(
            "no source `{name}` in {} (configured: {})",
            config.display(),
            sources.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    })
}

/// `validate --source S [--event-type E] FILE`: prints what the gateway would decide about
/// this payload, and fails if it would not publish it as an event.
pub fn validate(
    config: &Path,
    source_name: &str,
    event_type: Option<&str>,
    file: &Path,
) -> anyhow::Result<()> {
    let (settings, schemas) = load_with_api_sources(config)?;
    let source = source(&settings.sources, source_name, config)?;
    let text = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    // The source's own nesting limit: a file the gateway would refuse as too deep is refused
    // here too, before anything recursive reads it.
    let payload = crate::base::json::parse(&text, source.max_json_depth).with_context(|| {
        format!(
            "{} is not a JSON document source `{source_name}` accepts",
            file.display()
        )
    })?;
    let event_type = match event_type {
        Some(t) => t.to_owned(),
        None => source
            .event
            .identify(&hyper::HeaderMap::new(), &payload)
            .map(|e| e.event_type)
            .map_err(|e| anyhow::anyhow!("{e}; pass --event-type"))?,
    };
    source.check_event_type(&event_type)?;
    match schemas.check(
        &source.provider,
        &event_type,
        &payload,
        MissingSchema::Reject,
    ) {
        Ok(schema) => {
            println!(
                "valid: {} is a `{event_type}` event that {} accepts",
                file.display(),
                schema.as_deref().unwrap_or("no schema")
            );
            Ok(())
        }
        Err(SchemaError::Missing { .. }) => {
            let verdict = match source.on_missing_schema {
                MissingSchema::Accept => {
                    "accepted without validation (on_missing_schema = \"accept\")"
                }
                MissingSchema::Reject => "refused (on_missing_schema = \"reject\")",
            };
            println!(
                "no schema: {}/{event_type}.json does not exist under {}; source `{source_name}` would have it {verdict}",
                source.provider,
                settings.schemas_dir.display()
            );
            if source.on_missing_schema == MissingSchema::Reject {
                bail!("no schema for `{event_type}`");
            }
            Ok(())
        }
        Err(SchemaError::Violation { schema, violations }) => {
            println!(
                "invalid: {} does not match {schema} ({} violation(s){}):",
                file.display(),
                violations.len(),
                if violations.len() >= crate::ingest::schema::MAX_REPORTED_VIOLATIONS {
                    ", the first ones"
                } else {
                    ""
                }
            );
            for v in &violations {
                println!(
                    "  at {}: {}\n    (schema {})",
                    v.instance_path, v.message, v.schema_path
                );
            }
            bail!("`{event_type}` payload refused by {schema}");
        }
    }
}

/// Filters of `replay`.
pub struct ReplayFilter {
    pub source: Option<String>,
    pub event_type: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// `replay`: reads dead-letter topics from the beginning, and republishes each dead letter
/// (once per run) that passes `filter` and that the current config and schemas accept.
pub fn replay(
    config: &Path,
    topics: &[String],
    brokers: Option<&str>,
    filter: &ReplayFilter,
    dry_run: bool,
) -> anyhow::Result<()> {
    let (settings, schemas) = load_with_api_sources(config)?;
    let bootstrap = bootstrap(brokers, &settings.kafka)?;
    let time = |t: &Option<String>, flag: &str| {
        t.as_deref()
            .map(|t| OffsetDateTime::parse(t, &Rfc3339))
            .transpose()
            .with_context(|| format!("{flag} must be RFC 3339, e.g. 2026-11-23T12:00:00Z"))
    };
    let (since, until) = (
        time(&filter.since, "--since")?,
        time(&filter.until, "--until")?,
    );
    if let Some(name) = &filter.source {
        source(&settings.sources, name, config)?;
    }
    let topics: Vec<String> = if topics.is_empty() {
        let mut set: Vec<String> = settings
            .sources
            .values()
            .map(|s| s.dead_letter_topic.to_string())
            .collect();
        set.sort();
        set.dedup();
        set
    } else {
        topics.to_vec()
    };

    let letters = read_all(&bootstrap, &settings.kafka, &topics)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let publisher = Publisher::new(&bootstrap, &settings.kafka, false)?;
    let metrics = Metrics::new(std::iter::empty()).context("metrics")?;
    let budget = crate::delivery::topic::TopicBudget::new(settings.kafka.max_topics);

    let mut seen = HashSet::new();
    let mut report: BTreeMap<String, u64> = BTreeMap::new();
    let mut count = |what: String| *report.entry(what).or_default() += 1;
    for (topic, value) in letters {
        let Ok(dead) = serde_json::from_slice::<DeadLetter>(&value) else {
            count(format!("unreadable record in {topic}"));
            continue;
        };
        let received = OffsetDateTime::parse(&dead.received_at, &Rfc3339).ok();
        let wanted = filter.source.as_ref().is_none_or(|s| *s == dead.source)
            && filter
                .event_type
                .as_ref()
                .is_none_or(|e| dead.event_type.as_ref() == Some(e))
            && since.is_none_or(|t| received.is_some_and(|r| r >= t))
            && until.is_none_or(|t| received.is_some_and(|r| r < t));
        if !wanted {
            count("skipped by the filters".to_owned());
            continue;
        }
        if !seen.insert(dead.id) {
            count("already replayed in this run (same id twice in the topic)".to_owned());
            continue;
        }
        let Some(source) = settings.sources.get(&dead.source) else {
            count(format!("source `{}` no longer configured", dead.source));
            continue;
        };
        let revived = match revive(&dead, source, &schemas, &budget) {
            Ok(r) => r,
            Err(e) => {
                count(format!("still refused: {}", e.code()));
                continue;
            }
        };
        if dry_run {
            count(format!("would be republished to {}", revived.topic));
            continue;
        }
        let id = dead.id.to_string();
        let record = revived.record(&id, &source.ce_source);
        runtime
            .block_on(publisher.publish(record, &metrics))
            .with_context(|| format!("cannot republish dead letter {id} to {}", revived.topic))?;
        count(format!("republished to {}", revived.topic));
    }
    runtime
        .block_on(publisher.flush(Duration::from_secs(10)))
        .context("cannot flush the producer")?;
    println!(
        "replay of {} ({}):",
        topics.join(", "),
        if dry_run { "dry run" } else { "published" }
    );
    if report.is_empty() {
        println!("  no dead letters");
    }
    for (what, n) in &report {
        println!("  {n:>6}  {what}");
    }
    Ok(())
}

/// The bootstrap servers of a command: `--brokers`, else `kafka.brokers`.
fn bootstrap(brokers: Option<&str>, kafka: &KafkaSettings) -> anyhow::Result<String> {
    match (brokers, &kafka.brokers) {
        (Some(b), _) => Ok(b.to_owned()),
        (None, Brokers::Bootstrap(b)) => Ok(b.clone()),
        (None, Brokers::Embedded) => bail!(
            "kafka.brokers is \"embedded\" (in-process, gone with the gateway): pass --brokers \
             with the bootstrap address the gateway printed at start-up"
        ),
    }
}

/// Every record of `topics`, from the beginning to the end each partition had when read.
fn read_all(
    bootstrap: &str,
    kafka: &KafkaSettings,
    topics: &[String],
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for topic in topics {
        read_topic(bootstrap, kafka, topic, &mut out)?;
    }
    Ok(out)
}

/// One consumer per topic, so that partition ends (which name only the partition) are
/// unambiguous.
fn read_topic(
    bootstrap: &str,
    kafka: &KafkaSettings,
    topic: &str,
    out: &mut Vec<(String, Vec<u8>)>,
) -> anyhow::Result<()> {
    use rdkafka::consumer::Consumer;
    use rdkafka::message::Message;

    let consumer = reader(bootstrap, kafka, "replay", true)?;
    let mut assignment = rdkafka::TopicPartitionList::new();
    let mut open: HashSet<i32> = from_beginning(&consumer, bootstrap, topic, &mut assignment)?
        .into_iter()
        .collect();
    if open.is_empty() {
        return Ok(());
    }
    consumer
        .assign(&assignment)
        .context("cannot assign partitions")?;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !open.is_empty() {
        if std::time::Instant::now() > deadline {
            bail!("reading `{topic}` took over 60 s; some partitions never reached their end");
        }
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => out.push((topic.to_owned(), m.payload().unwrap_or_default().to_vec())),
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                open.remove(&p);
            }
            Some(Err(e)) => bail!("cannot read `{topic}`: {e}"),
            None => {}
        }
    }
    Ok(())
}

/// A consumer outside any consumer group (it assigns partitions itself and commits nothing),
/// with `kafka`'s properties; `eof` asks for an event at the end of each partition.
fn reader(
    bootstrap: &str,
    kafka: &KafkaSettings,
    command: &str,
    eof: bool,
) -> anyhow::Result<BaseConsumer> {
    let role = Role::CliConsumer {
        command,
        partition_eof: eof,
    };
    Ok(kafka_client::build(bootstrap, kafka, role)?)
}

/// Adds every partition of `topic`, from its beginning, to `assignment`; returns their numbers
/// (none when the topic does not exist).
fn from_beginning(
    consumer: &BaseConsumer,
    bootstrap: &str,
    topic: &str,
    assignment: &mut rdkafka::TopicPartitionList,
) -> anyhow::Result<Vec<i32>> {
    use rdkafka::consumer::Consumer;
    let metadata = consumer
        .fetch_metadata(Some(topic), METADATA_TIMEOUT)
        .with_context(|| {
            format!(
                "cannot read the metadata of topic `{topic}` from {bootstrap} (waited {} s at \
                 most): check the brokers (`kafka.brokers` or --brokers) and that \
                 `[kafka.properties]` in the config has what the cluster requires \
                 (security.protocol, sasl.*, ssl.*)",
                METADATA_TIMEOUT.as_secs()
            )
        })?;
    let partitions = metadata
        .topics()
        .first()
        .map(|t| t.partitions().len())
        .unwrap_or(0) as i32;
    for p in 0..partitions {
        assignment.add_partition_offset(topic, p, rdkafka::Offset::Beginning)?;
    }
    Ok((0..partitions).collect())
}

/// How long a command waits for a topic's metadata: no answer by then is a broker that cannot
/// be reached (or that refuses the client: wrong or missing security settings).
const METADATA_TIMEOUT: Duration = Duration::from_secs(10);

/// Where `tail` reads: the config's `[kafka]` section, and `--brokers`.
pub struct TailKafka<'a> {
    pub config: &'a Path,
    /// `--config` (or `HOOKGATE_CONFIG`) was given; otherwise `config` is the default path.
    pub config_given: bool,
    pub brokers: Option<&'a str>,
}

impl TailKafka<'_> {
    /// The `[kafka]` section and the bootstrap servers. Without a config file (none given, and
    /// the default path does not exist) `--brokers` alone does, with no properties.
    fn resolve(&self) -> anyhow::Result<(KafkaSettings, String)> {
        let kafka = match crate::config::load_kafka(self.config) {
            Ok(kafka) => kafka,
            Err(ConfigError::Read { source, .. })
                if !self.config_given
                    && self.brokers.is_some()
                    && source.kind() == std::io::ErrorKind::NotFound =>
            {
                eprintln!(
                    "note: no config file ({} does not exist): reading with --brokers and no \
                     [kafka.properties]",
                    self.config.display()
                );
                crate::config::parse_kafka("", &|_| None)?
            }
            Err(e) => return Err(e).with_context(|| format!("config {}", self.config.display())),
        };
        let bootstrap = bootstrap(self.brokers, &kafka)?;
        Ok((kafka, bootstrap))
    }
}

/// Prints every record of `topics` as a JSON line, from the beginning. Without `follow` it
/// stops once each partition has reached the end it had when `tail` started (its high
/// watermark), and fails, naming the partitions still short, when `idle` passes without a record before the ends are reached (a
/// stalled broker must not look like an empty topic).
pub fn tail(
    kafka: &TailKafka<'_>,
    topics: &[String],
    follow: bool,
    idle: Duration,
) -> anyhow::Result<()> {
    use rdkafka::consumer::Consumer;
    use rdkafka::message::{Headers, Message};

    let (settings, brokers) = kafka.resolve()?;
    let consumer = reader(&brokers, &settings, "tail", false)?;
    let mut assignment = rdkafka::TopicPartitionList::new();
    // (topic, partition) -> the offset one past the last record to print.
    let mut open: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for topic in topics {
        let partitions = from_beginning(&consumer, &brokers, topic, &mut assignment)?;
        if partitions.is_empty() {
            bail!("topic `{topic}` does not exist (yet)");
        }
        if follow {
            continue;
        }
        for p in partitions {
            let (low, high) = consumer
                .fetch_watermarks(topic, p, Duration::from_secs(10))
                .with_context(|| format!("cannot read the end offsets of `{topic}` [{p}]"))?;
            if high > low {
                open.insert((topic.clone(), p), high);
            }
        }
    }
    consumer
        .assign(&assignment)
        .context("cannot assign partitions")?;
    let mut last_record = std::time::Instant::now();
    let mut stdout = std::io::stdout().lock();
    loop {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                last_record = std::time::Instant::now();
                let headers: serde_json::Map<String, serde_json::Value> = m
                    .headers()
                    .map(|hs| {
                        hs.iter()
                            .map(|h| {
                                let v = h.value.map(|v| String::from_utf8_lossy(v).into_owned());
                                (h.key.to_owned(), v.into())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let payload = m.payload().unwrap_or_default();
                let value: serde_json::Value = serde_json::from_slice(payload)
                    .unwrap_or_else(|_| String::from_utf8_lossy(payload).into_owned().into());
                let line = serde_json::json!({
                    "topic": m.topic(),
                    "partition": m.partition(),
                    "offset": m.offset(),
                    "key": m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                    "headers": headers,
                    "value": value,
                });
                writeln!(stdout, "{line}")?;
            }
            Some(Err(e)) => tracing::warn!(error = %e, "consumer error"),
            // A quiet moment: compare the consumer's positions with the ends (a position also
            // moves past offsets that hold no record to print: transaction markers, compacted
            // records).
            None if !follow => {
                let at_end = open.is_empty() || past_the_end(&consumer, &mut open)?;
                let quiet = last_record.elapsed();
                if at_end {
                    return Ok(());
                }
                if !at_end && quiet >= idle {
                    let short: Vec<String> = open
                        .iter()
                        .map(|((t, p), end)| format!("`{t}` [{p}] (end {end})"))
                        .collect();
                    bail!(
                        "no record for {} s before reaching the end of {}: the broker stopped \
                         serving them; if it is only slow, raise --idle-timeout",
                        idle.as_secs_f64(),
                        short.join(", ")
                    );
                }
            }
            None => {}
        }
    }
}

/// Drops from `open` the partitions whose consumer position reached their end; true when none
/// is left.
fn past_the_end(
    consumer: &BaseConsumer,
    open: &mut BTreeMap<(String, i32), i64>,
) -> anyhow::Result<bool> {
    use rdkafka::consumer::Consumer;
    let positions = consumer
        .position()
        .context("cannot read the consumer's positions")?;
    for e in positions.elements() {
        if let rdkafka::Offset::Offset(at) = e.offset() {
            let key = (e.topic().to_owned(), e.partition());
            if open.get(&key).is_some_and(|&end| at >= end) {
                open.remove(&key);
            }
        }
    }
    Ok(open.is_empty())
}
