//! Configuration: the TOML file as written by an operator, and its validation into the
//! runtime [`Settings`] the app runs.
//!
//! Owns: the file's top level ([`FileConfig`]) and `[server]`, and the order of validation.
//! Every other section is a type of the layer that uses it (`[kafka]` in `delivery::kafka`,
//! `[spool]` in `delivery::spool`, `[dedup]` and `[schemas]` in `ingest`, `[sources.*]` in
//! `providers::build`, `[admin]` in `control::settings`), checked by that layer's function with
//! messages that name the section and the key (`base::setting::ConfigError`). It does not bind
//! sockets, talk to Kafka or read schemas: those happen after a config is known to be good.
//!
//! Invariant: a [`Settings`] value only exists for a config that passed every check, so nothing
//! downstream re-validates. Secrets are wrapped in `Secret` as soon as they are read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::base::setting::{ConfigError, EnvLookup};
use crate::control::settings::{validate_admin, AdminConfig, AdminSettings};
use crate::delivery::kafka::{validate_kafka, KafkaConfig, KafkaSettings};
use crate::delivery::spool::SpoolConfig;
use crate::delivery::topic::TopicTemplate;
use crate::http::tls::{Tls, TlsConfig};
use crate::ingest::access::ClientIpRule;
use crate::ingest::dedup::DedupConfig;
use crate::ingest::dedup_redis::RedisSettings;
use crate::ingest::fetch::{Fetcher, OutboundConfig};
use crate::ingest::schema::SchemasConfig;
use crate::ingest::source::Source;
use crate::providers::build::{check_json_depth, validate_source, SourceConfig, SourceDefaults};

// ---------------------------------------------------------------------------------------------
// The file as written. Every struct rejects unknown keys so a typo is an error, not a silent
// default.
// ---------------------------------------------------------------------------------------------

/// The whole config file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub kafka: KafkaConfig,
    #[serde(default)]
    pub schemas: SchemasConfig,
    #[serde(default)]
    pub dedup: DedupConfig,
    #[serde(default)]
    pub spool: SpoolConfig,
    /// How certificates and key sets named by requests or sources are fetched.
    #[serde(default)]
    pub outbound: OutboundConfig,
    /// One entry per upstream provider account; the key is the URL segment of
    /// `POST /webhooks/{source}`.
    #[serde(default)]
    pub sources: BTreeMap<String, SourceConfig>,
    /// The management API; off unless present.
    pub admin: Option<AdminConfig>,
}

/// `[server]`: the HTTP listener.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Port 0 picks a free port (it is printed at start-up).
    #[serde(default = "ServerConfig::default_listen")]
    pub listen: String,
    /// Largest request body accepted, unless a source sets its own. Larger bodies get 413.
    #[serde(default = "ServerConfig::default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Deepest nesting of JSON arrays and objects accepted, unless a source sets its own
    /// (1 to 128). Deeper bodies are refused (`too_deep`) before they are parsed.
    #[serde(default = "ServerConfig::default_max_json_depth")]
    pub max_json_depth: usize,
    /// How long shutdown waits for in-flight requests before giving up on them.
    #[serde(default = "ServerConfig::default_shutdown_grace_ms")]
    pub shutdown_grace_ms: u64,
    /// Open connections at most; further clients wait in the listen backlog.
    #[serde(default = "ServerConfig::default_max_connections")]
    pub max_connections: usize,
    /// Requests processed at once at most; further webhooks get 503 with `Retry-After`.
    #[serde(default = "ServerConfig::default_max_in_flight")]
    pub max_in_flight: usize,
    /// Longest wait for a request's headers (a slow-loris client is disconnected).
    #[serde(default = "ServerConfig::default_header_read_timeout_ms")]
    pub header_read_timeout_ms: u64,
    /// Longest wait for a request's whole body once its headers arrived (408 after that).
    #[serde(default = "ServerConfig::default_body_read_timeout_ms")]
    pub body_read_timeout_ms: u64,
    /// Header in which trusted proxies name the client (`X-Forwarded-For`); unset: the TCP
    /// peer is the client.
    pub client_ip_header: Option<String>,
    /// Networks of the proxies whose `client_ip_header` is believed.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Serve HTTPS instead of plain HTTP.
    pub tls: Option<TlsConfig>,
    /// Threads that serve HTTP and run the pipeline (librdkafka's threads come on top); unset:
    /// one per CPU the process may use.
    pub workers: Option<usize>,
}

impl ServerConfig {
    fn default_listen() -> String {
        "127.0.0.1:8080".to_owned()
    }
    /// 1 MiB covers the webhooks of every provider we know except GitHub's largest pushes,
    /// whose documented cap is 25 MB; raise it per source.
    const fn default_max_body_bytes() -> usize {
        1024 * 1024
    }
    /// Eight times the deepest shipped provider payload; see `json::DEFAULT_MAX_DEPTH`.
    const fn default_max_json_depth() -> usize {
        crate::base::json::DEFAULT_MAX_DEPTH
    }
    /// GitHub gives up on a delivery after 10 s; finishing within that avoids a redelivery.
    const fn default_shutdown_grace_ms() -> u64 {
        10_000
    }
}

impl ServerConfig {
    /// Far above what one gateway serves at once, far below the usual file-descriptor limit.
    const fn default_max_connections() -> usize {
        10_000
    }
    /// Each in-flight webhook holds its body in memory: 1,024 × the 1 MiB default body limit
    /// bounds that at 1 GiB.
    const fn default_max_in_flight() -> usize {
        1_024
    }
    const fn default_header_read_timeout_ms() -> u64 {
        10_000
    }
    /// Providers send small bodies quickly; a body slower than this is an attack or a
    /// broken client, and the provider (which waits 10-30 s in all) will retry.
    const fn default_body_read_timeout_ms() -> u64 {
        10_000
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: Self::default_listen(),
            max_body_bytes: Self::default_max_body_bytes(),
            max_json_depth: Self::default_max_json_depth(),
            shutdown_grace_ms: Self::default_shutdown_grace_ms(),
            max_connections: Self::default_max_connections(),
            max_in_flight: Self::default_max_in_flight(),
            header_read_timeout_ms: Self::default_header_read_timeout_ms(),
            body_read_timeout_ms: Self::default_body_read_timeout_ms(),
            client_ip_header: None,
            trusted_proxies: Vec::new(),
            tls: None,
            workers: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validated, ready-to-run settings.
// ---------------------------------------------------------------------------------------------

/// Most runtime worker threads `server.workers` may ask for.
const MAX_WORKERS: usize = 1024;

/// A config that passed every check, with secrets resolved and recipes compiled.
#[derive(Debug)]
pub struct Settings {
    pub listen: String,
    pub shutdown_grace: Duration,
    pub max_connections: usize,
    pub max_in_flight: usize,
    pub header_read_timeout: Duration,
    /// Runtime worker threads; `None`: one per CPU.
    pub workers: Option<usize>,
    pub client_ip: ClientIpRule,
    /// Certificate loaded and checked; `None`: plain HTTP.
    pub tls: Option<Tls>,
    pub kafka: KafkaSettings,
    pub schemas_dir: PathBuf,
    /// `None` when deduplication is disabled.
    pub dedup: Option<DedupConfig>,
    /// `[dedup] backend = "redis"`, checked (and its URL read); `None` otherwise.
    pub dedup_redis: Option<RedisSettings>,
    pub spool: SpoolConfig,
    pub sources: BTreeMap<String, Source>,
    /// What sources inherit from `[server]` and `[kafka]`; sources created through the admin
    /// API are built with these too.
    pub source_defaults: SourceDefaults,
    /// The management API, when `[admin]` is configured.
    pub admin: Option<AdminSettings>,
    /// Human-readable warnings (insecure choices) to log at start-up.
    pub warnings: Vec<String>,
}

/// Reads and validates a config file, resolving secrets from the process environment.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, &|name| std::env::var(name).ok())
}

/// Reads only the `[kafka]` section of a config file (the rest must still be valid TOML with
/// known keys, but is not checked), resolving its secret references from the process
/// environment: what a command that only reads Kafka (`tail`) needs.
pub fn load_kafka(path: &Path) -> Result<KafkaSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_kafka(&text, &|name| std::env::var(name).ok())
}

/// [`load_kafka`] on config text.
pub fn parse_kafka(text: &str, env: EnvLookup<'_>) -> Result<KafkaSettings, ConfigError> {
    let file: FileConfig = toml::from_str(text)?;
    validate_kafka(&file.kafka, env)
}

/// Parses and validates config text. Pure apart from reading `file` secrets.
pub fn parse(text: &str, env: EnvLookup<'_>) -> Result<Settings, ConfigError> {
    let file: FileConfig = toml::from_str(text)?;
    validate(file, env)
}

fn validate(file: FileConfig, env: EnvLookup<'_>) -> Result<Settings, ConfigError> {
    let mut warnings = Vec::new();
    let server = &file.server;
    if server.max_body_bytes == 0 {
        return Err(ConfigError::invalid(
            "server",
            "max_body_bytes",
            "must be > 0",
        ));
    }
    check_json_depth("server", server.max_json_depth)?;
    let kafka = validate_kafka(&file.kafka, env)?;
    if file.dedup.enabled && (file.dedup.capacity == 0 || file.dedup.window_secs == 0) {
        return Err(ConfigError::invalid(
            "dedup",
            "capacity",
            "capacity and window_secs must be > 0 (or set enabled = false)",
        ));
    }
    let dedup_redis = if file.dedup.enabled {
        crate::ingest::dedup_redis::check_settings(&file.dedup, env)?
    } else {
        None
    };
    let default_topic = TopicTemplate::parse(&file.kafka.topic_template)
        .map_err(|e| ConfigError::invalid("kafka", "topic_template", e.to_string()))?;

    if !crate::delivery::topic::is_valid_name(&file.kafka.dead_letter_topic) {
        return Err(ConfigError::invalid(
            "kafka",
            "dead_letter_topic",
            "must be a Kafka topic name: 1 to 249 of `a-z A-Z 0-9 . _ -`",
        ));
    }
    if file.sources.is_empty() {
        warnings.push("no [sources.*] configured: every webhook will get 404".to_owned());
    }
    let fetcher = Fetcher::new(&file.outbound)
        .map_err(|e| ConfigError::invalid("outbound", "ca_file", e.to_string()))?;
    let source_defaults = SourceDefaults {
        fetcher,
        topic: default_topic,
        dead_letter_topic: file.kafka.dead_letter_topic.clone(),
        max_body_bytes: server.max_body_bytes,
        max_json_depth: server.max_json_depth,
        max_topics_per_source: file.kafka.max_topics_per_source,
        body_timeout: Duration::from_millis(server.body_read_timeout_ms),
    };
    let mut sources = BTreeMap::new();
    for (name, raw) in file.sources {
        let source = validate_source(&name, raw, &source_defaults, env, &mut warnings)?;
        sources.insert(name, source);
    }
    if !kafka.create_topics_only.is_empty() {
        for (name, source) in &sources {
            for topic in [source.topics.fallback_topic(), &source.dead_letter_topic] {
                if !kafka.create_topics_only.iter().any(|t| t.matches(topic)) {
                    warnings.push(format!(
                        "[sources.{name}] topic `{topic}` matches no kafka.create_topics_only template: create it before events go there"
                    ));
                }
            }
        }
    }
    let client_ip = ClientIpRule::new(server.client_ip_header.as_deref(), &server.trusted_proxies)
        .map_err(|e| ConfigError::invalid("server", "trusted_proxies", e.to_string()))?;
    for (key, value) in [
        ("max_connections", server.max_connections as u64),
        ("max_in_flight", server.max_in_flight as u64),
        ("header_read_timeout_ms", server.header_read_timeout_ms),
        ("body_read_timeout_ms", server.body_read_timeout_ms),
    ] {
        if value == 0 {
            return Err(ConfigError::invalid("server", key, "must be > 0"));
        }
    }
    if let Some(n) = server.workers {
        if !(1..=MAX_WORKERS).contains(&n) {
            return Err(ConfigError::invalid(
                "server",
                "workers",
                format!("must be between 1 and {MAX_WORKERS} (or left out: one per CPU)"),
            ));
        }
    }
    let tls = server
        .tls
        .as_ref()
        .map(Tls::load)
        .transpose()
        .map_err(|e| ConfigError::invalid("server", "tls", e.to_string()))?;
    let admin = file
        .admin
        .as_ref()
        .map(|a| validate_admin(a, env, &mut warnings))
        .transpose()?;
    Ok(Settings {
        listen: server.listen.clone(),
        admin,
        tls,
        shutdown_grace: Duration::from_millis(server.shutdown_grace_ms),
        max_connections: server.max_connections,
        max_in_flight: server.max_in_flight,
        header_read_timeout: Duration::from_millis(server.header_read_timeout_ms),
        workers: server.workers,
        client_ip,
        kafka,
        schemas_dir: file.schemas.dir,
        dedup: file.dedup.enabled.then_some(file.dedup),
        dedup_redis,
        spool: file.spool,
        sources,
        source_defaults,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::setting::{resolve_secret, SecretRef};
    use crate::delivery::kafka::Brokers;

    fn env(name: &str) -> Option<String> {
        (name == "GH_SECRET").then(|| "s3cr3t".to_owned())
    }

    fn check_err(toml: &str, expected: &str) {
        let err = parse(toml, &env).expect_err("config should be rejected");
        let text = err.to_string();
        assert!(text.contains(expected), "error `{text}` lacks `{expected}`");
    }

    #[test]
    fn github_preset_needs_only_a_secret() {
        let s = parse(
            r#"
            [sources.gh]
            provider = "github"
            secrets = [{ env = "GH_SECRET" }]
            "#,
            &env,
        )
        .expect("valid");
        let gh = &s.sources["gh"];
        assert_eq!(gh.provider, "github");
        assert_eq!(gh.limits.max_body_bytes, 1024 * 1024);
        assert_eq!(s.kafka.brokers, Brokers::Embedded);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn verify_token_is_required_by_hub_verify_and_refused_elsewhere() {
        let meta = |extra: &str| {
            format!(
                "[sources.wa]\nprovider = \"meta\"\nsecrets = [{{ env = \"GH_SECRET\" }}]\n{extra}"
            )
        };
        let s = parse(&meta("verify_token = { env = \"GH_SECRET\" }"), &env).expect("valid");
        assert!(s.sources["wa"].handshake.is_some());
        check_err(
            &meta(""),
            "[sources.wa] verify_token: the `hub_verify` handshake needs the token",
        );
        check_err(
            &meta("verify_token = { env = \"NOPE\" }"),
            "[sources.wa] verify_token: environment variable `NOPE` is not set",
        );
        check_err(
            r#"
            [sources.gh]
            provider = "github"
            secrets = [{ env = "GH_SECRET" }]
            verify_token = { env = "GH_SECRET" }
            "#,
            "[sources.gh] verify_token: only the `hub_verify` handshake (Meta) uses a verify token",
        );
    }

    #[test]
    fn missing_env_secret_names_the_variable() {
        check_err(
            r#"
            [sources.gh]
            provider = "github"
            secrets = [{ env = "NOPE" }]
            "#,
            "[sources.gh] secret #0: environment variable `NOPE` is not set",
        );
    }

    #[test]
    fn workers_are_one_per_cpu_unless_set_and_never_zero() {
        let source = r#"
            [sources.gh]
            provider = "github"
            secrets = [{ env = "GH_SECRET" }]
            "#;
        assert_eq!(parse(source, &env).expect("valid").workers, None);
        let one = format!("[server]\nworkers = 1\n{source}");
        assert_eq!(parse(&one, &env).expect("valid").workers, Some(1));
        check_err(
            &format!("[server]\nworkers = 0\n{source}"),
            "[server] workers: must be between 1 and 1024 (or left out: one per CPU)",
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        check_err(
            r#"
            [sources.gh]
            provider = "github"
            secret = "oops"
            "#,
            "unknown field `secret`",
        );
    }

    #[test]
    fn custom_provider_requires_auth_and_event_type() {
        check_err(
            r#"
            [sources.acme]
            provider = "acme"
            secrets = [{ env = "GH_SECRET" }]
            "#,
            "[sources.acme] auth: provider `acme` is not a preset",
        );
        check_err(
            r#"
            [sources.acme]
            provider = "acme"
            secrets = [{ env = "GH_SECRET" }]
            auth = { type = "api_key" }
            "#,
            "[sources.acme] event_type: required",
        );
    }

    #[test]
    fn auth_none_warns_and_refuses_secrets() {
        let s = parse(
            r#"
            [sources.open]
            provider = "internal"
            auth = { type = "none" }
            event_type = { pointer = "/type" }
            "#,
            &env,
        )
        .expect("valid");
        assert!(s.warnings.iter().any(|w| w.contains("ANYONE")));
        check_err(
            r#"
            [sources.open]
            provider = "internal"
            auth = { type = "none" }
            secrets = [{ env = "GH_SECRET" }]
            event_type = { pointer = "/type" }
            "#,
            "takes no secrets",
        );
    }

    #[test]
    fn secrets_are_required_for_authenticated_sources() {
        check_err(
            "[sources.gh]\nprovider = \"github\"\n",
            "[sources.gh] secrets: at least one secret is required",
        );
    }

    #[test]
    fn bad_source_name_and_topic_template_are_reported() {
        check_err(
            "[sources.\"a/b\"]\nprovider = \"github\"\nsecrets = [{ env = \"GH_SECRET\" }]\n",
            "[sources.a/b] name",
        );
        check_err(
            "[sources.gh]\nprovider = \"github\"\nsecrets = [{ env = \"GH_SECRET\" }]\ntopic = \"x.{nope}\"\n",
            "[sources.gh] topic: unknown placeholder `{nope}`",
        );
    }

    #[test]
    fn allowed_events_are_checked_against_the_catalog() {
        check_err(
            r#"
            [sources.id]
            provider = "cidaas"
            secrets = [{ env = "GH_SECRET" }]
            auth = { type = "api_key", header = "X-API-Key" }
            allowed_events = ["USER_CREATED", "USER_CRAETED"]
            "#,
            "[sources.id] allowed_events: some events are not in the `cidaas` catalog: USER_CRAETED",
        );
        check_err(
            r#"
            [sources.x]
            provider = "acme"
            secrets = [{ env = "GH_SECRET" }]
            auth = { type = "api_key" }
            event_type = { pointer = "/type" }
            only_catalog_events = true
            "#,
            "there is no event catalog for provider `acme`",
        );
        let s = parse(
            r#"
            [sources.id]
            provider = "cidaas"
            secrets = [{ env = "GH_SECRET" }]
            auth = { type = "api_key", header = "X-API-Key" }
            only_catalog_events = true
            "#,
            &env,
        )
        .expect("valid");
        let id = &s.sources["id"];
        assert!(id.check_event_type("USER_CREATED").is_ok());
        let err = id.check_event_type("SOMETHING_ELSE").expect_err("refused");
        assert_eq!(err.code(), "event_not_allowed");
    }

    #[test]
    fn presets_without_a_documented_scheme_need_auth() {
        check_err(
            "[sources.id]\nprovider = \"cidaas\"\nsecrets = [{ env = \"GH_SECRET\" }]\n",
            "provider `cidaas` does not document how its deliveries authenticate",
        );
    }

    #[test]
    fn delivery_guarantees_cannot_be_overridden() {
        check_err(
            "[kafka.properties]\n\"acks\" = \"1\"\n",
            "`acks` is set by the gateway",
        );
    }

    #[test]
    fn kafka_properties_take_secret_references_and_errors_name_only_the_reference() {
        let s = parse(
            "[kafka.properties]\n\"sasl.username\" = \"gw\"\n\"sasl.password\" = { env = \"GH_SECRET\" }\n",
            &env,
        )
        .expect("valid");
        let values: BTreeMap<&str, String> = s
            .kafka
            .properties
            .expose()
            .map(|(k, v)| (k, v.into_owned()))
            .collect();
        assert_eq!(values["sasl.username"], "gw");
        assert_eq!(values["sasl.password"], "s3cr3t");
        assert!(!format!("{:?}", s.kafka).contains("s3cr3t"));
        check_err(
            "[kafka.properties]\n\"sasl.password\" = { env = \"NOPE\" }\n",
            "[kafka.properties] `sasl.password`: environment variable `NOPE` is not set",
        );
        check_err(
            "[kafka.properties]\n\"sasl.password\" = { vault = \"x\" }\n",
            "a string, { env = \"VARIABLE\" } or { file = \"/path\" }",
        );
    }

    #[test]
    fn insecure_dev_secret_is_accepted_with_a_warning() {
        let s = parse(
            r#"
            [sources.gh]
            provider = "github"
            secrets = [{ insecure_dev_value = "dev" }]
            "#,
            &env,
        )
        .expect("valid");
        assert!(s.warnings[0].contains("insecure_dev_value"));
    }

    #[test]
    fn file_secrets_lose_their_trailing_newline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secret");
        std::fs::write(&path, "abc\n").expect("write");
        let secret = resolve_secret(&SecretRef::File(path), &env).expect("read");
        assert_eq!(secret.expose(), b"abc");
    }
}
