//! Sources created through the admin API: their records, their sealed secrets, and where the
//! records are kept.
//!
//! Owns: [`Record`] (one API-created webhook source as stored), sealing secrets at rest
//! ([`seal`]), the two backends ([`local`]: one file written atomically; [`kafka`]: a compacted
//! topic every replica follows), and turning records into [`Source`]s for the ingest path.
//!
//! A change is saved by the backend first and only then applied in memory and put in force
//! ([`Store::apply`]), so an answer of `201`/`200` means the change is both durable and live.
//! The Kafka backend also follows the topic, applying other replicas' changes as they come.
//! Secrets are kept sealed (AES-256-GCM, key from `[admin.store] encryption_key`) in records,
//! on disk and on the topic; they are opened only to build a [`Source`].

pub mod kafka;
pub mod local;
pub mod seal;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::base::live::Live;
use crate::base::secret::Secret;
use crate::base::setting::ConfigError;
use crate::ingest::handshake::HandshakeKind;
use crate::ingest::learn::KeepError;
use crate::ingest::source::{Routes, Source};
use crate::providers::build::{self, SourceConfig, SourceDefaults};

pub use seal::Sealer;

/// Things that can go wrong while saving or loading records.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot write the admin store at {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read the admin store at {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("the Kafka admin store did not take the change: {0}")]
    Kafka(String),
}

/// Where a webhook's secret came from: made by the gateway (shown once, at creation or
/// rotation), issued by the provider and passed in (never shown back), or learned at the
/// provider's handshake (never shown; none until the handshake comes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretOrigin {
    Generated,
    Provider,
    Learned,
}

/// Whether a webhook of `provider` with `options` learns its secret at the handshake (its
/// `handshake` option, else its preset's, is one that teaches it).
pub fn learns_secret(provider: &str, options: &Map<String, Value>) -> bool {
    let kind = match options.get("handshake") {
        Some(v) => serde_json::from_value::<HandshakeKind>(v.clone()).ok(),
        None => crate::providers::preset(provider).and_then(|p| p.handshake),
    };
    kind.is_some_and(HandshakeKind::learns_secret)
}

/// One secret as stored: sealed, and when it stops verifying (`None`: the current one).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredSecret {
    pub sealed: String,
    /// Unix seconds after which this (rotated-out) secret no longer verifies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// One API-created webhook source, as saved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// `wh_` + 32 hex digits; the URL segment of `POST /webhooks/{id}`.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub provider: String,
    /// Accepted event types; `["*"]`: every one.
    pub events: Vec<String>,
    /// Source options as given (the `[sources.*]` keys other than `provider`, `secrets` and
    /// `allowed_events`).
    #[serde(default)]
    pub options: Map<String, Value>,
    pub secret_origin: SecretOrigin,
    /// The current secret first, then rotated-out ones still in their grace period.
    pub secrets: Vec<StoredSecret>,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
    /// Name of the admin key that made the last change.
    pub updated_by: String,
    /// Counts changes (1 at creation).
    pub revision: u64,
}

impl Record {
    /// Accepted event types as the source option (`None`: all).
    fn allowed_events(&self) -> Option<Vec<String>> {
        (!self.events.iter().any(|e| e == "*")).then(|| self.events.clone())
    }

    /// When the last rotated-out secret stops verifying, if one still does at `now`.
    pub fn grace_ends(&self, now: i64) -> Option<i64> {
        self.secrets
            .iter()
            .filter_map(|s| s.expires_at)
            .filter(|t| *t > now)
            .max()
    }
}

/// Option keys a record may not carry in `options`: they have their own fields.
pub const RESERVED_OPTIONS: &[&str] = &[
    "provider",
    "secrets",
    "allowed_events",
    "only_catalog_events",
    // A secret reference would let an admin key read the gateway's environment or files.
    "verify_token",
];

/// Builds the ingest-path [`Source`] of `record` with the given (opened) secrets. Errors name
/// the option that is wrong.
pub fn build(
    record: &Record,
    secrets: Vec<Secret>,
    defaults: &SourceDefaults,
) -> Result<Source, String> {
    let mut raw = record.options.clone();
    for key in RESERVED_OPTIONS {
        if raw.contains_key(*key) {
            return Err(format!("`{key}` cannot be set as an option"));
        }
    }
    raw.insert(
        "provider".to_owned(),
        Value::String(record.provider.clone()),
    );
    if let Some(events) = record.allowed_events() {
        raw.insert("allowed_events".to_owned(), serde_json::json!(events));
    }
    let raw: SourceConfig =
        serde_json::from_value(Value::Object(raw)).map_err(|e| e.to_string())?;
    if matches!(raw.auth, Some(crate::ingest::auth::AuthConfig::None)) {
        return Err(
            "`auth`: type \"none\" is not allowed for sources created through the API".to_owned(),
        );
    }
    let mut warnings = Vec::new();
    build::build_source(&record.id, raw, secrets, None, defaults, &mut warnings).map_err(
        |e| match e {
            ConfigError::Invalid { key, reason, .. } => format!("`{key}`: {reason}"),
            other => other.to_string(),
        },
    )
}

/// This gateway's turn to change records ([`Store::turn`]); saving needs one.
#[derive(Debug)]
pub struct Turn<'a> {
    _held: tokio::sync::MutexGuard<'a, ()>,
}

/// The backend that keeps records.
#[derive(Debug)]
pub enum Backend {
    Local(local::LocalStore),
    Kafka(kafka::KafkaStore),
}

/// The API-created sources: what is saved, and what is in force.
#[derive(Debug)]
pub struct Store {
    backend: Backend,
    sealer: Sealer,
    /// The `[server]`/`[kafka]` values sources are built with; a SIGHUP may change them.
    defaults: Mutex<SourceDefaults>,
    records: Mutex<BTreeMap<String, Record>>,
    /// Held from reading the records and defaults to putting the built sources in force, so
    /// the last [`Store::apply`] to finish is built from the newest of both.
    applying: Mutex<()>,
    /// One change at a time, so saves reach the backend in the order they are applied.
    writing: tokio::sync::Mutex<()>,
    /// Wakes [`Store::follow`] after a change, which may have started a grace period.
    changed: tokio::sync::Notify,
}

impl Store {
    /// A store over `backend` holding `records` (as loaded).
    pub fn new(
        backend: Backend,
        sealer: Sealer,
        defaults: SourceDefaults,
        records: BTreeMap<String, Record>,
    ) -> Self {
        Store {
            backend,
            sealer,
            defaults: Mutex::new(defaults),
            records: Mutex::new(records),
            applying: Mutex::new(()),
            writing: tokio::sync::Mutex::new(()),
            changed: tokio::sync::Notify::new(),
        }
    }

    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// The defaults sources are built with now.
    pub fn defaults(&self) -> SourceDefaults {
        self.defaults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Builds every API-created source again with `defaults` (from a reloaded config) and puts
    /// them in force. Returns whether the defaults changed; when they did not, nothing is
    /// rebuilt.
    pub fn set_defaults(&self, defaults: SourceDefaults, routes: &Live<Routes>) -> bool {
        {
            let mut current = self.defaults.lock().unwrap_or_else(|e| e.into_inner());
            if *current == defaults {
                return false;
            }
            *current = defaults;
        }
        self.apply(routes);
        true
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    fn records(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Record>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One record.
    pub fn get(&self, id: &str) -> Option<Record> {
        self.records().get(id).cloned()
    }

    /// Every record, by id.
    pub fn list(&self) -> Vec<Record> {
        self.records().values().cloned().collect()
    }

    /// Waits for this gateway's turn to change records. Holding it from reading a record to
    /// saving it makes each change whole: two calls changing one webhook at once do not lose
    /// one of the changes.
    pub async fn turn(&self) -> Turn<'_> {
        Turn {
            _held: self.writing.lock().await,
        }
    }

    /// Saves `record` (new or changed), then puts it in force.
    pub async fn put(
        &self,
        record: Record,
        routes: &Live<Routes>,
        _turn: &Turn<'_>,
    ) -> Result<(), StoreError> {
        let mut next = self.records().clone();
        next.insert(record.id.clone(), record.clone());
        match &self.backend {
            Backend::Local(l) => l.save(&next).await?,
            Backend::Kafka(k) => k.put(&record).await?,
        }
        self.records().insert(record.id.clone(), record);
        self.apply(routes);
        self.changed.notify_one();
        Ok(())
    }

    /// Keeps the secret a handshake taught webhook `id`, if it has none: sealed, saved (the
    /// file fsynced, or the topic's acknowledgement), then in force. Under this replica's
    /// turn, so two handshakes here cannot both set it; see the known issues for two
    /// replicas at once. The secret is never logged.
    pub async fn learn(
        &self,
        id: &str,
        secret: &Secret,
        routes: &Live<Routes>,
    ) -> Result<(), KeepError> {
        let turn = self.turn().await;
        let mut record = self.get(id).ok_or(KeepError::NotLearnable)?;
        if !learns_secret(&record.provider, &record.options) {
            return Err(KeepError::NotLearnable);
        }
        if !record.secrets.is_empty() {
            return Err(KeepError::Exists);
        }
        let sealed = self
            .sealer
            .seal(id, secret.expose())
            .map_err(|e| KeepError::Failed(e.to_string()))?;
        record.secrets = vec![StoredSecret {
            sealed,
            expires_at: None,
        }];
        record.secret_origin = SecretOrigin::Learned;
        let now = time::OffsetDateTime::now_utc();
        record.updated_at = now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        record.updated_by = "handshake".to_owned();
        record.revision += 1;
        let revision = record.revision;
        self.put(record, routes, &turn)
            .await
            .map_err(|e| KeepError::Failed(e.to_string()))?;
        tracing::info!(
            target: "hookgate::audit",
            actor = "handshake",
            action = "webhook.learn_secret",
            webhook = %id,
            revision,
            "admin change"
        );
        Ok(())
    }

    /// Removes a record; `false` when there was none.
    pub async fn delete(
        &self,
        id: &str,
        routes: &Live<Routes>,
        _turn: &Turn<'_>,
    ) -> Result<bool, StoreError> {
        let mut next = self.records().clone();
        if next.remove(id).is_none() {
            return Ok(false);
        }
        match &self.backend {
            Backend::Local(l) => l.save(&next).await?,
            Backend::Kafka(k) => k.delete(id).await?,
        }
        self.records().remove(id);
        self.apply(routes);
        Ok(true)
    }

    /// Takes a change seen on the shared topic: a record replaces, a tombstone (`None`)
    /// removes. The topic's order is the truth: every replica applies the same changes in the
    /// same order, so all end with the last one written, whoever wrote it. Returns whether
    /// anything changed.
    pub fn merge(&self, id: &str, record: Option<Record>) -> bool {
        let mut records = self.records();
        match record {
            Some(r) => {
                records.insert(id.to_owned(), r);
                true
            }
            None => records.remove(id).is_some(),
        }
    }

    /// Rebuilds the API-created sources from the records and puts them in force; a record that
    /// no longer builds (say, after an upgrade changed a preset) is left out with an error line.
    /// Rotated-out secrets past their grace are left out, so calling this when a grace period
    /// ends retires the old secret.
    pub fn apply(&self, routes: &Live<Routes>) {
        let _applying = self.applying.lock().unwrap_or_else(|e| e.into_inner());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let records = self.list();
        let defaults = self.defaults();
        let mut sources = HashMap::with_capacity(records.len());
        for record in &records {
            match self.build_record(record, &defaults, now) {
                Ok(source) => {
                    sources.insert(record.id.clone(), source);
                }
                Err(e) => {
                    tracing::error!(id = %record.id, error = %e, "API-created webhook left out")
                }
            }
        }
        let managed = Arc::new(sources);
        routes.update(|old| Routes {
            configured: old.configured.clone(),
            managed,
            schemas: old.schemas.clone(),
        });
    }

    /// The [`Source`] of one record, with the secrets that still verify at `now`.
    pub fn source_of(&self, record: &Record, now: i64) -> Result<Source, String> {
        self.build_record(record, &self.defaults(), now)
    }

    fn build_record(
        &self,
        record: &Record,
        defaults: &SourceDefaults,
        now: i64,
    ) -> Result<Source, String> {
        let mut secrets = Vec::with_capacity(record.secrets.len());
        for s in &record.secrets {
            if s.expires_at.is_some_and(|t| t <= now) {
                continue;
            }
            secrets.push(
                self.sealer
                    .open(&record.id, &s.sealed)
                    .map_err(|e| format!("its secret {e}"))?,
            );
        }
        build(record, secrets, defaults)
    }

    /// The next moment a rotated-out secret stops verifying, after `now`.
    pub fn next_expiry(&self, now: i64) -> Option<i64> {
        self.records()
            .values()
            .flat_map(|r| r.secrets.iter().filter_map(|s| s.expires_at))
            .filter(|t| *t > now)
            .min()
    }

    /// Keeps the ingest path in step until `stop` turns true: retires rotated-out secrets when
    /// their grace ends, and (Kafka backend) applies other replicas' changes as they arrive.
    pub async fn follow(
        &self,
        routes: &Live<Routes>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let wait = match self.next_expiry(now) {
                Some(t) => std::time::Duration::from_secs(u64::try_from(t - now).unwrap_or(0) + 1),
                None => std::time::Duration::from_secs(3600),
            };
            // Other replicas' changes: a local store has none, and a follower that stopped
            // sends no more (waiting on it must not return at once, or this loop would spin).
            let remote = async {
                match &self.backend {
                    Backend::Kafka(k) => match k.next_change().await {
                        Some(change) => change,
                        None => std::future::pending().await,
                    },
                    Backend::Local(_) => std::future::pending().await,
                }
            };
            let changed = tokio::select! {
                () = tokio::time::sleep(wait) => true,
                () = self.changed.notified() => false,
                (id, record) = remote => self.merge(&id, record),
                _ = stop.changed() => return,
            };
            if changed {
                self.apply(routes);
            }
        }
    }
}
