//! Configuration: the TOML file as written by an operator, and its validation into the
//! runtime [`Settings`] the server uses.
//!
//! Owns: every config key, its default and its documentation; resolving secret references
//! (environment variables, files); cross-field validation with messages that name the source
//! and the key. It does not bind sockets, talk to Kafka or read schemas: those happen after a
//! config is known to be good.
//!
//! Invariant: a [`Settings`] value only exists for a config that passed every check, so nothing
//! downstream re-validates. Secrets are wrapped in [`Secret`] as soon as they are read.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::access::{parse_nets, AllowList, ClientIpRule};
use crate::auth::{self, Verifier};
use crate::envelope::RecordFormat;
use crate::event::{EventError, EventSpec, Locator};
use crate::handshake::{Handshake, HandshakeKind};
use crate::intake::Limits;
use crate::provider;
use crate::secret::Secret;
use crate::tls::Tls;
use crate::topic::{RouteLimits, TopicError, TopicRouter, TopicTemplate};

/// Everything that can be wrong with a config file. Each message says where to look.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config is not valid TOML or has an unknown/mistyped key: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("[{section}] {key}: {reason}")]
    Invalid {
        section: String,
        key: &'static str,
        reason: String,
    },
    #[error("[sources.{source_name}] secret #{index}: {reason}")]
    Secret {
        source_name: String,
        index: usize,
        reason: String,
    },
    /// A `[kafka.properties]` value that cannot be used; `reason` names the variable or file of
    /// a secret reference, never its value.
    #[error("[kafka.properties] `{key}`: {reason}")]
    Property { key: String, reason: String },
}

impl ConfigError {
    fn invalid(section: impl Into<String>, key: &'static str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            section: section.into(),
            key,
            reason: reason.into(),
        }
    }
}

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
    /// One entry per upstream provider account; the key is the URL segment of
    /// `POST /webhooks/{source}`.
    #[serde(default)]
    pub sources: BTreeMap<String, SourceConfig>,
    /// The management API; off unless present.
    pub admin: Option<AdminConfig>,
}

/// `[admin]`: the management API's own listener and its API keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Address of the admin listener (separate from ingest, loopback by default).
    #[serde(default = "AdminConfig::default_listen")]
    pub listen: String,
    /// The ingest base URL providers call (e.g. `https://hooks.example.com`), for each
    /// webhook's `url`; unset: the URL is the path only.
    pub public_base_url: Option<String>,
    /// Admin API keys; at least one.
    pub keys: Vec<AdminKeyConfig>,
    /// How long an old token keeps verifying after `POST /v1/webhooks/{id}/rotate` when the
    /// call does not say (`grace_seconds`).
    #[serde(default = "AdminConfig::default_rotation_grace_secs")]
    pub rotation_grace_secs: u64,
    /// Where sources created through the API are kept.
    pub store: Option<StoreConfig>,
    /// `GET /status` on the admin listener: `open` (no key; it shows no secrets), `key` (a
    /// `webhooks:read` key, like the API) or `off`.
    #[serde(default)]
    pub status_page: StatusPage,
}

/// Who may see the status page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusPage {
    #[default]
    Open,
    Key,
    Off,
}

impl AdminConfig {
    fn default_listen() -> String {
        "127.0.0.1:8081".to_owned()
    }

    const fn default_rotation_grace_secs() -> u64 {
        24 * 60 * 60
    }
}

/// Longest rotation grace: a week.
pub const MAX_ROTATION_GRACE_SECS: u64 = 7 * 24 * 60 * 60;

/// `[admin.store]`: where API-created sources live, and the key that encrypts their secrets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `local` (one gateway: a file in `path`) or `kafka` (a fleet: a compacted topic).
    #[serde(default)]
    pub kind: StoreKind,
    /// Directory of the local store.
    #[serde(default = "StoreConfig::default_path")]
    pub path: PathBuf,
    /// Compacted topic of the Kafka store (one partition, so every replica sees one order).
    #[serde(default = "StoreConfig::default_topic")]
    pub topic: String,
    /// 32 bytes as 64 hex digits (`openssl rand -hex 32`); encrypts secrets at rest.
    pub encryption_key: Option<SecretRef>,
}

impl StoreConfig {
    fn default_path() -> PathBuf {
        PathBuf::from("data/admin")
    }

    fn default_topic() -> String {
        "hookgate.admin.webhooks".to_owned()
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            kind: StoreKind::default(),
            path: Self::default_path(),
            topic: Self::default_topic(),
            encryption_key: None,
        }
    }
}

/// Which store keeps API-created sources.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    #[default]
    Local,
    Kafka,
}

/// One admin API key: who it is (for audit lines), the secret, what it may do.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminKeyConfig {
    pub name: String,
    pub secret: SecretRef,
    pub scopes: Vec<Scope>,
}

/// Permissions of admin API keys (as in the webhook APIs providers offer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum Scope {
    #[serde(rename = "webhooks:read")]
    WebhooksRead,
    #[serde(rename = "webhooks:write")]
    WebhooksWrite,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::WebhooksRead => "webhooks:read",
            Scope::WebhooksWrite => "webhooks:write",
        }
    }
}

/// A validated admin key: only the SHA-256 digest of the secret is kept.
#[derive(Debug, Clone)]
pub struct AdminKey {
    pub name: String,
    pub digest: [u8; 32],
    pub scopes: Vec<Scope>,
}

impl AdminKey {
    /// Reads need `webhooks:read`, or `webhooks:write` (a key may read what it can change).
    pub fn may_read(&self) -> bool {
        self.scopes
            .iter()
            .any(|s| matches!(s, Scope::WebhooksRead | Scope::WebhooksWrite))
    }
}

/// The validated `[admin]` section.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    pub listen: String,
    pub public_base_url: Option<String>,
    pub keys: Vec<AdminKey>,
    pub rotation_grace: Duration,
    pub store: StoreSettings,
    pub status_page: StatusPage,
}

/// The validated `[admin.store]`.
#[derive(Clone)]
pub struct StoreSettings {
    pub kind: StoreKind,
    pub path: PathBuf,
    pub topic: String,
    /// The AES-256 key that seals secrets at rest.
    pub encryption_key: [u8; 32],
}

impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("kind", &self.kind)
            .field("path", &self.path)
            .field("topic", &self.topic)
            .field("encryption_key", &"[redacted]")
            .finish()
    }
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

/// `[server.tls]`: the certificate (PEM chain, leaf first) and its private key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// How often the files are checked for a renewed certificate.
    #[serde(default = "TlsConfig::default_reload_interval_secs")]
    pub reload_interval_secs: u64,
}

impl TlsConfig {
    const fn default_reload_interval_secs() -> u64 {
        30
    }
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
        crate::json::DEFAULT_MAX_DEPTH
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
    #[serde(default = "default_true")]
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

/// `[schemas]`: where the per-event JSON Schemas live.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemasConfig {
    /// Directory holding `{provider}/{event_type}.json`. Relative paths are taken from the
    /// working directory.
    #[serde(default = "SchemasConfig::default_dir")]
    pub dir: PathBuf,
}

impl SchemasConfig {
    fn default_dir() -> PathBuf {
        PathBuf::from("schemas")
    }
}

impl Default for SchemasConfig {
    fn default() -> Self {
        SchemasConfig {
            dir: Self::default_dir(),
        }
    }
}

/// `[spool]`: where events go when Kafka cannot take them in time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoolConfig {
    /// Directory of the spool; unset: no spool (a broker failure answers 503).
    pub dir: Option<PathBuf>,
    /// Most bytes spooled; beyond it webhooks get 503 `spool_full` (nothing is dropped).
    #[serde(default = "SpoolConfig::default_max_bytes")]
    pub max_bytes: u64,
    /// Oldest spooled record allowed; beyond it the spool counts as full.
    #[serde(default = "SpoolConfig::default_max_age_secs")]
    pub max_age_secs: u64,
}

impl SpoolConfig {
    const fn default_max_bytes() -> u64 {
        1024 * 1024 * 1024
    }
    /// A day: past that, something is badly wrong and providers should see it.
    const fn default_max_age_secs() -> u64 {
        86_400
    }
}

impl Default for SpoolConfig {
    fn default() -> Self {
        SpoolConfig {
            dir: None,
            max_bytes: Self::default_max_bytes(),
            max_age_secs: Self::default_max_age_secs(),
        }
    }
}

/// `[dedup]`: suppression of provider redeliveries by delivery id.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupConfig {
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// How long an accepted delivery id is remembered.
    #[serde(default = "DedupConfig::default_window_secs")]
    pub window_secs: u64,
    /// Most delivery ids remembered (oldest forgotten first); about 150 bytes each.
    #[serde(default = "DedupConfig::default_capacity")]
    pub capacity: usize,
    /// Journal file, so a restart remembers; unset: memory only.
    pub journal: Option<PathBuf>,
}

impl DedupConfig {
    /// A day: covers the retry schedules of most providers (Shopify 4 h, Svix ~27 h, Stripe's
    /// 3 days being the long exception).
    const fn default_window_secs() -> u64 {
        86_400
    }
    /// 200,000 ids ≈ 30 MB.
    const fn default_capacity() -> usize {
        200_000
    }
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            enabled: true,
            window_secs: Self::default_window_secs(),
            capacity: Self::default_capacity(),
            journal: None,
        }
    }
}

/// `[sources.NAME]`: one upstream provider account.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A preset name (`github`) or any label of your own (`acme-billing`). It names the schema
    /// folder and the `{provider}` part of topics. Presets supply `auth` and the event locators.
    pub provider: String,
    /// Secrets (HMAC keys or API keys). Several entries = rotation: any one matching is enough.
    #[serde(default)]
    pub secrets: Vec<SecretRef>,
    /// How deliveries prove who sent them. Required unless the provider is a preset.
    pub auth: Option<AuthConfig>,
    /// Where the event type is: `{ header = "X-Event" }` or `{ pointer = "/type" }`.
    pub event_type: Option<Locator>,
    /// Where the provider's delivery id is (optional).
    pub delivery_id: Option<Locator>,
    /// Where the provider's event time is (optional; RFC 3339 string or Unix seconds/ms).
    pub event_time: Option<Locator>,
    /// Where the provider's context object is (optional; becomes `current_context`).
    pub context: Option<Locator>,
    /// What to do with an event type that has no schema file.
    #[serde(default)]
    pub on_missing_schema: MissingSchema,
    /// What to do with an authenticated delivery that cannot be parsed, has no usable or
    /// allowed event type, or fails its schema.
    #[serde(default)]
    pub on_invalid: OnInvalid,
    /// Dead-letter topic of this source (overrides `kafka.dead_letter_topic`).
    pub dead_letter_topic: Option<String>,
    /// The shape of published records: the gateway's envelope, or CloudEvents.
    #[serde(default)]
    pub format: RecordFormat,
    /// Topic template for this source (overrides `kafka.topic_template`).
    pub topic: Option<String>,
    /// Topic template per event type (overrides `topic`).
    #[serde(default)]
    pub topics: BTreeMap<String, String>,
    /// Where events go that cannot have a topic of their own (outside the provider's catalog,
    /// or beyond `max_topics_per_source` / `kafka.max_topics`): a template without
    /// `{event_type}`. Default: the source's template rendered for the event type `_other`.
    pub fallback_topic: Option<String>,
    /// Overrides `kafka.max_topics_per_source`.
    pub max_topics_per_source: Option<usize>,
    /// Body limit for this source (overrides `server.max_body_bytes`).
    pub max_body_bytes: Option<usize>,
    /// Nesting limit for this source's JSON (overrides `server.max_json_depth`).
    pub max_json_depth: Option<usize>,
    /// The URL the provider calls, as configured at the provider (scheme, host, path; the
    /// request's query string is appended). Needed by providers that sign the URL, since the
    /// gateway may sit behind a proxy that changes it.
    pub public_url: Option<String>,
    /// Provider handshake to answer (presets set it): `slack_url_verification`,
    /// `zoom_url_validation`, `discord_ping`, `xero_intent_to_receive`, `okta_verification`,
    /// `x_crc`.
    pub handshake: Option<HandshakeKind>,
    /// In form-encoded deliveries, the field whose value is the JSON payload (GitHub and
    /// Slack use `payload`).
    pub form_json_field: Option<String>,
    /// The answer on success, for providers that require a particular one (Adyen:
    /// `{ status = 200, body = "[accepted]" }`). Default: `202` with `{"id": …}`.
    pub success: Option<SuccessReply>,
    /// Only these event types are accepted (others: 422 `event_not_allowed`). When the provider
    /// has a catalog, every name must be in it.
    pub allowed_events: Option<Vec<String>>,
    /// Only event types of the provider's catalog are accepted.
    #[serde(default)]
    pub only_catalog_events: bool,
    /// Authenticated deliveries accepted per second, with bursts; more get 429 with
    /// `Retry-After`. Unset: no limit.
    pub rate_limit: Option<RateLimitConfig>,
    /// Client networks (CIDR) this source accepts; others get 403. Unset: all.
    #[serde(default)]
    pub allow_ips: Vec<String>,
}

/// `rate_limit = { per_second = 50, burst = 100 }`
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub per_second: u32,
    /// Deliveries allowed at once after a quiet spell (default: `per_second`).
    pub burst: Option<u32>,
}

/// `success = { status = 200, body = "[accepted]" }`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuccessReply {
    /// A 2xx status.
    pub status: u16,
    /// Plain-text body; `None` sends the default JSON `{"id": …}`.
    pub body: Option<String>,
}

/// Where a secret comes from. Committed configs should only use `env` or `file`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum SecretRef {
    /// `{ env = "GITHUB_WEBHOOK_SECRET" }`
    Env(String),
    /// `{ file = "/run/secrets/github" }`: the file's content, one trailing newline removed.
    File(PathBuf),
    /// `{ insecure_dev_value = "…" }`: plain text in the config, for demos only. Logged as a
    /// warning at start-up.
    InsecureDevValue(String),
}

/// `auth = { type = "…", … }`
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthConfig {
    /// An HMAC of (parts of) the request, sent in a header. Secrets are shared keys.
    Hmac(SignatureConfig),
    /// A public-key signature (Ed25519, ECDSA P-256), sent in a header. Secrets are the
    /// provider's public keys.
    PublicKey(SignatureConfig),
    /// A static key in a header, or `Authorization: Bearer <key>` when `header` is not set.
    ApiKey { header: Option<String> },
    /// Adyen standard notifications: an HMAC per notification item, inside the body; secrets
    /// are the hex HMAC keys.
    AdyenHmac,
    /// Mailgun: `signature {timestamp, token, signature}` inside the JSON body.
    Mailgun,
    /// No authentication at all. Anyone who knows the URL can publish; logged loudly.
    None,
}

/// A signature recipe: where the signature (and timestamp) are, what was signed, how keys and
/// signatures are encoded. Presets are values of this type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureConfig {
    /// Header carrying the signature.
    pub header: String,
    #[serde(default)]
    pub algorithm: auth::Algorithm,
    #[serde(default)]
    pub encoding: auth::Encoding,
    /// Text before each signature, e.g. `sha256=`, `v1,` (compared case-insensitively).
    #[serde(default)]
    pub prefix: String,
    /// When set, the header holds several `<prefix><signature>` items separated by this
    /// (`" "` for Standard Webhooks, `","` for PagerDuty); items with another prefix are
    /// ignored. Any one valid signature is enough.
    pub separator: Option<String>,
    /// When set, the header is a list of `key=value` fields (Stripe `t=…,v1=…`, Paddle
    /// `ts=…;h1=…`).
    pub fields: Option<FieldsConfig>,
    /// What is signed: `{body}` (default), or a recipe such as `{timestamp}.{body}`,
    /// `{header:Webhook-Id}.{timestamp}.{body}`, `{method}{url}{body}{timestamp}`.
    #[serde(default = "SignatureConfig::default_signed")]
    pub signed: String,
    /// Header carrying the timestamp (or use `fields.timestamp`); enables the replay window.
    pub timestamp_header: Option<String>,
    /// JSON pointer to a timestamp inside the body, checked once the signature matched
    /// (Linear's `/webhookTimestamp`). Cannot be part of the signed recipe.
    pub timestamp_pointer: Option<String>,
    #[serde(default)]
    pub timestamp_format: auth::TimestampFormat,
    /// Largest accepted age of the timestamp (and distance ahead, see `limit_future`).
    #[serde(default = "SignatureConfig::default_tolerance_secs")]
    pub tolerance_secs: u64,
    /// Also refuse timestamps more than `tolerance_secs` ahead of now (Stripe's SDK does not).
    #[serde(default = "default_true")]
    pub limit_future: bool,
    /// How the configured secrets turn into key bytes.
    #[serde(default)]
    pub key_encoding: auth::KeyEncoding,
    /// Removed from secrets before decoding, when present (e.g. `whsec_`).
    #[serde(default)]
    pub key_prefix: String,
}

impl SignatureConfig {
    /// HMAC-SHA256 of the raw body, hex, no prefix, in `header`, 5-minute window if a timestamp
    /// is added: the defaults of every key, and the starting point of most presets.
    pub fn body_hmac_sha256(header: &str) -> Self {
        SignatureConfig {
            header: header.to_owned(),
            algorithm: auth::Algorithm::Sha256,
            encoding: auth::Encoding::Hex,
            prefix: String::new(),
            separator: None,
            fields: None,
            signed: Self::default_signed(),
            timestamp_header: None,
            timestamp_pointer: None,
            timestamp_format: auth::TimestampFormat::UnixSeconds,
            tolerance_secs: Self::default_tolerance_secs(),
            limit_future: true,
            key_encoding: auth::KeyEncoding::Utf8,
            key_prefix: String::new(),
        }
    }

    fn default_signed() -> String {
        "{body}".to_owned()
    }
    /// Five minutes: what Stripe, Slack and Standard Webhooks use.
    const fn default_tolerance_secs() -> u64 {
        300
    }
}

/// `fields = { separator = ",", signature = "v1", timestamp = "t" }`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldsConfig {
    /// Between fields.
    #[serde(default = "FieldsConfig::default_separator")]
    pub separator: String,
    /// Name of the signature field(s).
    pub signature: String,
    /// Name of the timestamp field, if the header carries one.
    pub timestamp: Option<String>,
}

impl FieldsConfig {
    fn default_separator() -> String {
        ",".to_owned()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingSchema {
    /// Publish events whose type has no schema file (they are marked `"schema": null`).
    #[default]
    Accept,
    /// Answer 422 `no_schema`.
    Reject,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum OnInvalid {
    /// Publish it to the dead-letter topic with the reason, and answer 2xx: the event is safe
    /// and can be replayed once the schema or config is fixed.
    #[default]
    #[serde(rename = "dead-letter")]
    DeadLetter,
    /// Answer 4xx with the reason and publish nothing.
    #[serde(rename = "reject")]
    Reject,
}

fn default_true() -> bool {
    true
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

#[derive(Debug, Clone)]
pub struct KafkaSettings {
    pub brokers: Brokers,
    pub create_topics: bool,
    /// Templates a topic must match to be created; empty: any.
    pub create_topics_only: Vec<TopicTemplate>,
    /// The process-wide bound on event-type topics ([`crate::topic::TopicBudget`]).
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

/// One configured source, ready for the hot path.
#[derive(Debug)]
pub struct Source {
    pub name: String,
    pub provider: String,
    pub verifier: Verifier,
    pub event: EventSpec,
    pub on_missing_schema: MissingSchema,
    pub on_invalid: OnInvalid,
    pub format: RecordFormat,
    /// Where invalid deliveries go when `on_invalid` is `dead-letter`.
    pub dead_letter_topic: Arc<str>,
    pub topics: TopicRouter,
    /// The CloudEvents `source` attribute: `/webhooks/{name}`.
    pub ce_source: String,
    pub handshake: Option<Handshake>,
    pub form_json_field: Option<String>,
    /// Deepest nesting of arrays and objects parsed; deeper bodies are `too_deep`.
    pub max_json_depth: usize,
    pub success: Option<SuccessReply>,
    /// Event types this source accepts, and the rule that set them; `None`: all.
    pub allowed_events: Option<(HashSet<String>, &'static str)>,
    /// Body size and read time limits.
    pub limits: Limits,
    pub rate_limiter: Option<governor::DefaultDirectRateLimiter>,
    pub allow_ips: AllowList,
}

impl Source {
    /// Refuses event types outside `allowed_events` / the catalog.
    pub fn check_event_type(&self, event_type: &str) -> Result<(), EventError> {
        match &self.allowed_events {
            Some((allowed, rule)) if !allowed.contains(event_type) => Err(EventError::NotAllowed {
                event_type: event_type.to_owned(),
                rule,
            }),
            _ => Ok(()),
        }
    }
}

/// Looks up environment variables; tests pass a map instead of touching the process env.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

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
    let default_topic = TopicTemplate::parse(&file.kafka.topic_template)
        .map_err(|e| ConfigError::invalid("kafka", "topic_template", e.to_string()))?;

    if !crate::topic::is_valid_name(&file.kafka.dead_letter_topic) {
        return Err(ConfigError::invalid(
            "kafka",
            "dead_letter_topic",
            "must be a Kafka topic name: 1 to 249 of `a-z A-Z 0-9 . _ -`",
        ));
    }
    if file.sources.is_empty() {
        warnings.push("no [sources.*] configured: every webhook will get 404".to_owned());
    }
    let source_defaults = SourceDefaults {
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
        spool: file.spool,
        sources,
        source_defaults,
        warnings,
    })
}

fn validate_admin(
    a: &AdminConfig,
    env: EnvLookup<'_>,
    warnings: &mut Vec<String>,
) -> Result<AdminSettings, ConfigError> {
    use sha2::Digest as _;
    if a.keys.is_empty() {
        return Err(ConfigError::invalid(
            "admin",
            "keys",
            "at least one key is needed: { name, secret, scopes }",
        ));
    }
    let mut keys = Vec::new();
    for (index, k) in a.keys.iter().enumerate() {
        let secret = resolve_secret(&k.secret, env).map_err(|reason| {
            ConfigError::invalid(
                "admin",
                "keys",
                format!("key #{index} `{}`: {reason}", k.name),
            )
        })?;
        if matches!(k.secret, SecretRef::InsecureDevValue(_)) {
            warnings.push(format!(
                "[admin] key `{}` is written in the config (insecure_dev_value): use env or file outside development",
                k.name
            ));
        }
        if secret.expose().len() < 16 {
            return Err(ConfigError::invalid(
                "admin",
                "keys",
                format!(
                    "key `{}` is shorter than 16 bytes; use a random one, e.g. `openssl rand -hex 32`",
                    k.name
                ),
            ));
        }
        keys.push(AdminKey {
            name: k.name.clone(),
            digest: sha2::Sha256::digest(secret.expose()).into(),
            scopes: k.scopes.clone(),
        });
    }
    if a.rotation_grace_secs > MAX_ROTATION_GRACE_SECS {
        return Err(ConfigError::invalid(
            "admin",
            "rotation_grace_secs",
            format!("must be at most {MAX_ROTATION_GRACE_SECS} (a week)"),
        ));
    }
    let store = validate_store(a.store.as_ref().unwrap_or(&StoreConfig::default()), env)?;
    Ok(AdminSettings {
        rotation_grace: Duration::from_secs(a.rotation_grace_secs),
        store,
        status_page: a.status_page,
        listen: a.listen.clone(),
        public_base_url: a
            .public_base_url
            .as_ref()
            .map(|u| u.trim_end_matches('/').to_owned()),
        keys,
    })
}

fn validate_store(s: &StoreConfig, env: EnvLookup<'_>) -> Result<StoreSettings, ConfigError> {
    const HOW: &str = "e.g. encryption_key = { env = \"HOOKGATE_STORE_KEY\" } with a key made by `openssl rand -hex 32`";
    let Some(reference) = &s.encryption_key else {
        return Err(ConfigError::invalid(
            "admin.store",
            "encryption_key",
            format!("required: it encrypts the secrets of API-created webhooks at rest; {HOW}"),
        ));
    };
    let secret = resolve_secret(reference, env)
        .map_err(|reason| ConfigError::invalid("admin.store", "encryption_key", reason))?;
    let mut key = [0u8; 32];
    let text = std::str::from_utf8(secret.expose())
        .unwrap_or_default()
        .trim();
    if hex::decode_to_slice(text, &mut key).is_err() {
        return Err(ConfigError::invalid(
            "admin.store",
            "encryption_key",
            format!("must be 32 bytes written as 64 hex digits; {HOW}"),
        ));
    }
    if !crate::topic::is_valid_name(&s.topic) {
        return Err(ConfigError::invalid(
            "admin.store",
            "topic",
            "must be a Kafka topic name: 1 to 249 of `a-z A-Z 0-9 . _ -`",
        ));
    }
    Ok(StoreSettings {
        kind: s.kind,
        path: s.path.clone(),
        topic: s.topic.clone(),
        encryption_key: key,
    })
}

fn validate_kafka(k: &KafkaConfig, env: EnvLookup<'_>) -> Result<KafkaSettings, ConfigError> {
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

fn validate_source(
    name: &str,
    raw: SourceConfig,
    defaults: &SourceDefaults,
    env: EnvLookup<'_>,
    warnings: &mut Vec<String>,
) -> Result<Source, ConfigError> {
    let section = format!("sources.{name}");
    let mut secrets = Vec::with_capacity(raw.secrets.len());
    for (index, r) in raw.secrets.iter().enumerate() {
        let secret = resolve_secret(r, env).map_err(|reason| ConfigError::Secret {
            source_name: name.to_owned(),
            index,
            reason,
        })?;
        if matches!(r, SecretRef::InsecureDevValue(_)) {
            warnings.push(format!(
                "[{section}] secret #{index} is written in the config (insecure_dev_value): \
                 use env or file outside development"
            ));
        }
        secrets.push(secret);
    }
    build_source(name, raw, secrets, defaults, warnings)
}

/// What a source takes from the rest of the config when it does not set it itself.
#[derive(Debug, Clone)]
pub struct SourceDefaults {
    /// `kafka.topic_template`
    pub topic: TopicTemplate,
    /// `kafka.dead_letter_topic`
    pub dead_letter_topic: String,
    /// `server.max_body_bytes`
    pub max_body_bytes: usize,
    /// `server.max_json_depth`
    pub max_json_depth: usize,
    /// `kafka.max_topics_per_source`
    pub max_topics_per_source: usize,
    /// `server.body_read_timeout_ms`
    pub body_timeout: Duration,
}

/// Checks one source definition and compiles it for the hot path. `secrets` are already
/// resolved (from the file's references, or decrypted from the admin store); `raw.secrets` is
/// not read. Errors name the section `sources.{name}` and the key.
pub fn build_source(
    name: &str,
    raw: SourceConfig,
    secrets: Vec<Secret>,
    defaults: &SourceDefaults,
    warnings: &mut Vec<String>,
) -> Result<Source, ConfigError> {
    let section = format!("sources.{name}");
    if !is_valid_source_name(name) {
        return Err(ConfigError::invalid(
            section,
            "name",
            "source names are URL path segments: use only letters, digits, '-', '_' and '.'",
        ));
    }
    if raw.provider.trim().is_empty() || raw.provider.contains(['/', '\\']) {
        return Err(ConfigError::invalid(
            section,
            "provider",
            "must be a non-empty name without '/' (it names a schema folder)",
        ));
    }
    let preset = provider::preset(&raw.provider);

    let auth = match (raw.auth, &preset) {
        (Some(auth), _) => auth,
        (None, Some(p)) => match &p.auth {
            Some(auth) => auth.clone(),
            None => {
                return Err(ConfigError::invalid(
                    section,
                    "auth",
                    format!(
                        "provider `{}` does not document how its deliveries authenticate, so \
                         `auth` must be set, e.g. auth = {{ type = \"api_key\", header = \"X-API-Key\" }}",
                        raw.provider
                    ),
                ));
            }
        },
        (None, None) => {
            return Err(ConfigError::invalid(
                section,
                "auth",
                format!(
                    "provider `{}` is not a preset ({}), so `auth` must be set \
                     (type = \"hmac\", \"api_key\" or \"none\")",
                    raw.provider,
                    provider::NAMES.join(", ")
                ),
            ))
        }
    };

    if matches!(auth, AuthConfig::None) {
        if !secrets.is_empty() {
            return Err(ConfigError::invalid(
                section,
                "secrets",
                "auth type \"none\" takes no secrets; remove them or choose an auth type",
            ));
        }
        warnings.push(format!(
            "[{section}] auth type \"none\": ANYONE who can reach /webhooks/{name} can publish \
             events; use it only behind another authenticating layer"
        ));
    } else if secrets.is_empty() {
        return Err(ConfigError::invalid(
            section,
            "secrets",
            "at least one secret is required (several = rotation)",
        ));
    }
    let handshake_kind = raw
        .handshake
        .or_else(|| preset.as_ref().and_then(|p| p.handshake));
    let handshake = match handshake_kind {
        Some(kind) => Some(
            Handshake::new(kind, &secrets)
                .map_err(|e| ConfigError::invalid(section.clone(), "handshake", e))?,
        ),
        None => None,
    };
    let form_json_field = raw.form_json_field.clone().or_else(|| {
        preset
            .as_ref()
            .and_then(|p| p.form_json_field.map(str::to_owned))
    });
    let success = raw
        .success
        .clone()
        .or_else(|| preset.as_ref().and_then(|p| p.success.clone()));
    if let Some(s) = &success {
        if !(200..300).contains(&s.status) {
            return Err(ConfigError::invalid(
                section,
                "success",
                "status must be 2xx",
            ));
        }
    }
    let catalog = crate::catalog::events(&raw.provider);
    let allowed_events = match (&raw.allowed_events, raw.only_catalog_events, catalog) {
        (_, true, None) => {
            return Err(ConfigError::invalid(
                section,
                "only_catalog_events",
                format!("there is no event catalog for provider `{}`", raw.provider),
            ));
        }
        (Some(list), _, Some(catalog)) => {
            let unknown: Vec<&str> = list
                .iter()
                .map(String::as_str)
                .filter(|e| !catalog.contains(e))
                .collect();
            if !unknown.is_empty() {
                return Err(ConfigError::invalid(
                    section,
                    "allowed_events",
                    format!(
                        "some events are not in the `{}` catalog: {}",
                        raw.provider,
                        unknown.join(", ")
                    ),
                ));
            }
            Some((list.iter().cloned().collect(), "allowed_events"))
        }
        (Some(list), _, None) => Some((list.iter().cloned().collect(), "allowed_events")),
        (None, true, Some(catalog)) => Some((
            catalog.iter().map(|e| (*e).to_owned()).collect(),
            "only_catalog_events",
        )),
        (None, false, _) => None,
    };
    let verifier = Verifier::new(&auth, secrets, raw.public_url.as_deref())
        .map_err(|e| ConfigError::invalid(section.clone(), "auth", e.to_string()))?;

    let pick = |own: Option<Locator>, from_preset: fn(&provider::Preset) -> Option<Locator>| {
        own.or_else(|| preset.as_ref().and_then(from_preset))
    };
    let Some(event_type) = pick(raw.event_type, |p| p.event_type.clone()) else {
        return Err(ConfigError::invalid(
            section,
            "event_type",
            "required: where the event type is, e.g. { header = \"X-Event-Type\" } or \
             { pointer = \"/type\" }",
        ));
    };
    let event = EventSpec::new(
        event_type,
        pick(raw.delivery_id, |p| p.delivery_id.clone()),
        pick(raw.event_time, |p| p.event_time.clone()),
        pick(raw.context, |p| p.context.clone()),
    )
    .map_err(|e| ConfigError::invalid(section.clone(), "event_type", e.to_string()))?;

    let topic_error = |key: &'static str| {
        let section = section.clone();
        move |e: TopicError| ConfigError::invalid(section, key, e.to_string())
    };
    let default = match &raw.topic {
        Some(t) => TopicTemplate::parse(t).map_err(topic_error("topic"))?,
        None => defaults.topic.clone(),
    };
    let mut per_event = BTreeMap::new();
    for (event, template) in &raw.topics {
        per_event.insert(
            event.clone(),
            TopicTemplate::parse(template).map_err(topic_error("topics"))?,
        );
    }
    let fallback = raw
        .fallback_topic
        .as_deref()
        .map(TopicTemplate::parse)
        .transpose()
        .map_err(topic_error("fallback_topic"))?;
    if raw
        .fallback_topic
        .as_deref()
        .is_some_and(|t| t.contains("{event_type}"))
    {
        return Err(ConfigError::invalid(
            section,
            "fallback_topic",
            "must not contain {event_type}: it is the one topic for event types that get none of their own",
        ));
    }
    let max_topics_per_source = raw
        .max_topics_per_source
        .unwrap_or(defaults.max_topics_per_source);
    if max_topics_per_source == 0 {
        return Err(ConfigError::invalid(
            section,
            "max_topics_per_source",
            "must be >= 1",
        ));
    }
    let route_limits = RouteLimits {
        catalog: crate::catalog::events(&raw.provider)
            .map(|events| events.iter().map(|e| (*e).to_owned()).collect()),
        max_topics_per_source,
        fallback,
    };

    let rate_limiter = match raw.rate_limit {
        None => None,
        Some(r) => {
            let per_second = std::num::NonZeroU32::new(r.per_second).ok_or_else(|| {
                ConfigError::invalid(section.clone(), "rate_limit", "per_second must be > 0")
            })?;
            let burst =
                std::num::NonZeroU32::new(r.burst.unwrap_or(r.per_second)).ok_or_else(|| {
                    ConfigError::invalid(section.clone(), "rate_limit", "burst must be > 0")
                })?;
            let quota = governor::Quota::per_second(per_second).allow_burst(burst);
            Some(governor::RateLimiter::direct(quota))
        }
    };
    let allow_ips = AllowList::new(
        parse_nets(&raw.allow_ips)
            .map_err(|e| ConfigError::invalid(section.clone(), "allow_ips", e.to_string()))?,
    );
    let max_body_bytes = raw.max_body_bytes.unwrap_or(defaults.max_body_bytes);
    if max_body_bytes == 0 {
        return Err(ConfigError::invalid(
            section,
            "max_body_bytes",
            "must be > 0",
        ));
    }

    let max_json_depth = raw.max_json_depth.unwrap_or(defaults.max_json_depth);
    check_json_depth(&section, max_json_depth)?;

    let dead_letter_topic: Arc<str> = match &raw.dead_letter_topic {
        Some(t) if !crate::topic::is_valid_name(t) => {
            return Err(ConfigError::invalid(
                section,
                "dead_letter_topic",
                "must be a Kafka topic name: 1 to 249 of `a-z A-Z 0-9 . _ -`",
            ))
        }
        Some(t) => t.as_str().into(),
        None => defaults.dead_letter_topic.as_str().into(),
    };
    Ok(Source {
        name: name.to_owned(),
        provider: raw.provider.clone(),
        topics: TopicRouter::new(name, &raw.provider, default, per_event, route_limits),
        verifier,
        event,
        on_missing_schema: raw.on_missing_schema,
        on_invalid: raw.on_invalid,
        format: raw.format,
        dead_letter_topic,
        ce_source: format!("/webhooks/{name}"),
        handshake,
        form_json_field,
        max_json_depth,
        success,
        allowed_events,
        limits: Limits {
            max_body_bytes,
            body_timeout: defaults.body_timeout,
        },
        rate_limiter,
        allow_ips,
    })
}

/// `max_json_depth` between 1 and the highest depth measured safe on a worker's stack.
fn check_json_depth(section: &str, depth: usize) -> Result<(), ConfigError> {
    let max = crate::json::MAX_DEPTH_LIMIT;
    if (1..=max).contains(&depth) {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            section,
            "max_json_depth",
            format!(
                "must be between 1 and {max} (default {}); provider payloads nest 8 levels or fewer",
                crate::json::DEFAULT_MAX_DEPTH
            ),
        ))
    }
}

fn is_valid_source_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Reads a secret. Error messages name the variable or file, never the value.
fn resolve_secret(r: &SecretRef, env: EnvLookup<'_>) -> Result<Secret, String> {
    let value = match r {
        SecretRef::Env(var) => {
            env(var).ok_or_else(|| format!("environment variable `{var}` is not set"))?
        }
        SecretRef::File(path) => {
            let mut text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read secret file {}: {e}", path.display()))?;
            if text.ends_with('\n') {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
            text
        }
        SecretRef::InsecureDevValue(v) => v.clone(),
    };
    if value.is_empty() {
        return Err("the secret is empty".to_owned());
    }
    Ok(Secret::new(value.into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
