//! The `[admin]` section: the management API's listener, keys and scopes, and its store.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::base::setting::{resolve_secret, ConfigError, EnvLookup, SecretRef};

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

pub fn validate_admin(
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

pub fn validate_store(s: &StoreConfig, env: EnvLookup<'_>) -> Result<StoreSettings, ConfigError> {
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
    if !crate::delivery::topic::is_valid_name(&s.topic) {
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
