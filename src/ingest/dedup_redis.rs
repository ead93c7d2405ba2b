//! Deduplication shared by every replica: `[dedup] backend = "redis"`.
//!
//! Owns: [`Deduper`], the backend a gateway deduplicates with (this process's
//! [`Dedup`] table or a Redis server), its [`Claim`] on a new delivery, the checked
//! `[dedup]` redis settings ([`RedisSettings`]) and the Redis protocol below. This and
//! `intake` are the `ingest` modules that do IO.
//!
//! The client is the `redis` crate (redis-rs): the maintained, widely used Rust client, with
//! tokio support and a `ConnectionManager` that multiplexes one connection for every request
//! and reconnects by itself after the server went away, so an outage needs no code here beyond
//! a timeout.
//!
//! Per delivery, one round trip claims it: `SET key "pending:<token>" NX PX <ttl> GET`
//! (Redis ≥ 7) answers nil (new: ours now), `pending:…` (in flight elsewhere: 503
//! `duplicate_in_flight`) or an envelope id (a duplicate, answered with that id). After the
//! event is published (or spooled) a Lua script replaces our pending token with the envelope id
//! for the window; a claim dropped without commit deletes the key only if it still holds our
//! token (fire-and-forget). A pending claim expires after [`PENDING_TTL_MS`] (or the window,
//! if shorter), so a replica that dies mid-request blocks redeliveries for that long only.
//!
//! Keys are `key_prefix` and the hex of HMAC-SHA256 (cut to 128 bits) of the source name, a
//! NUL and the delivery id, never the id itself. The HMAC key is derived from the Redis URL
//! secret (HMAC-SHA256 of a fixed label under the URL), which every replica of a fleet shares
//! by construction; changing the URL (e.g. its password) starts an empty key space, which
//! forgets the window's deliveries (at-least-once still holds).
//!
//! Every call is bounded by `timeout_ms`. When Redis fails or is slow, `on_unavailable`
//! decides: `accept` processes the delivery as new (a redelivery may then be published twice),
//! `reject` answers 503 `dedup_unavailable`. Failures are counted
//! (`hookgate_dedup_backend_errors_total`), `hookgate_dedup_backend_up` follows the last call,
//! and one log line marks each change between up and down.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::Sha256;
use uuid::Uuid;

use crate::base::metrics::Metrics;
use crate::base::secret::Secret;
use crate::base::setting::{resolve_secret, ConfigError, EnvLookup};
use crate::ingest::dedup::{Backend, Check, Dedup, DedupConfig, Guard, OnUnavailable};

/// The longest a pending claim lives (ms): a request holds it at most this long, and a replica
/// that dies mid-request blocks its redeliveries no longer.
pub const PENDING_TTL_MS: u64 = 120_000;

/// Default `[dedup] key_prefix`.
pub const DEFAULT_KEY_PREFIX: &str = "hookgate:dedup:";
/// Default and bounds of `[dedup] timeout_ms`.
pub const DEFAULT_TIMEOUT_MS: u64 = 200;
const MAX_TIMEOUT_MS: u64 = 10_000;
const MAX_KEY_PREFIX_BYTES: usize = 128;

/// Replaces our pending token (or nothing: the key expired or Redis restarted) with the
/// envelope id. KEYS[1] key; ARGV token value, envelope id, window in ms.
const COMMIT: &str = r"
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] or v == false then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
";

/// Deletes the key only if it still holds our pending token.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// The checked redis settings of `[dedup]`.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    pub url: Secret,
    pub key_prefix: String,
    pub timeout: Duration,
    pub on_unavailable: OnUnavailable,
    pub window_ms: u64,
}

/// Checks `[dedup]`'s backend keys; `Some` for `backend = "redis"`. Messages name `[dedup]` and
/// the key, never the URL.
pub fn check_settings(
    cfg: &DedupConfig,
    env: EnvLookup<'_>,
) -> Result<Option<RedisSettings>, ConfigError> {
    let invalid = |key, reason: &str| ConfigError::invalid("dedup", key, reason);
    if cfg.backend == Backend::Memory {
        for (key, set) in [
            ("redis_url", cfg.redis_url.is_some()),
            ("key_prefix", cfg.key_prefix.is_some()),
            ("timeout_ms", cfg.timeout_ms.is_some()),
            ("on_unavailable", cfg.on_unavailable.is_some()),
        ] {
            if set {
                return Err(invalid(key, "only used with backend = \"redis\""));
            }
        }
        return Ok(None);
    }
    if cfg.journal.is_some() {
        return Err(invalid(
            "journal",
            "only used with backend = \"memory\" (Redis remembers for every replica)",
        ));
    }
    let url_ref = cfg.redis_url.as_ref().ok_or_else(|| {
        invalid(
            "redis_url",
            "required with backend = \"redis\" (e.g. { env = \"HOOKGATE_REDIS_URL\" })",
        )
    })?;
    let url = resolve_secret(url_ref, env).map_err(|reason| invalid("redis_url", &reason))?;
    let text =
        std::str::from_utf8(url.expose()).map_err(|_| invalid("redis_url", "is not UTF-8 text"))?;
    if !text.starts_with("redis://") {
        return Err(invalid(
            "redis_url",
            "must be a redis://host:port URL (this build has no TLS for Redis)",
        ));
    }
    if redis::Client::open(text).is_err() {
        // The parser's message may quote the URL, which may hold a password.
        return Err(invalid("redis_url", "is not a valid redis:// URL"));
    }
    let key_prefix = cfg
        .key_prefix
        .clone()
        .unwrap_or_else(|| DEFAULT_KEY_PREFIX.to_owned());
    if key_prefix.len() > MAX_KEY_PREFIX_BYTES {
        return Err(invalid("key_prefix", "must be at most 128 bytes"));
    }
    let timeout_ms = cfg.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
    if !(1..=MAX_TIMEOUT_MS).contains(&timeout_ms) {
        return Err(invalid("timeout_ms", "must be between 1 and 10000"));
    }
    Ok(Some(RedisSettings {
        url,
        key_prefix,
        timeout: Duration::from_millis(timeout_ms),
        on_unavailable: cfg.on_unavailable.unwrap_or_default(),
        window_ms: cfg.window_secs.saturating_mul(1000),
    }))
}

/// How a gateway deduplicates.
#[derive(Debug)]
pub enum Deduper {
    Memory(Dedup),
    /// Boxed: one per gateway, and far larger than the table's handle.
    Redis(Box<RedisDedup>),
}

/// What a delivery is, whichever the backend.
#[derive(Debug)]
pub enum Verdict<'a> {
    /// Not seen (or the backend could not tell and `on_unavailable = "accept"`): process it,
    /// then [`Claim::commit`].
    New(Claim<'a>),
    Duplicate {
        id: Uuid,
    },
    InFlight,
    /// Redis could not answer and `on_unavailable = "reject"`.
    Unavailable,
}

impl Deduper {
    /// This process's table, if that is the backend (for its journal's maintenance).
    pub fn memory(&self) -> Option<&Dedup> {
        match self {
            Deduper::Memory(d) => Some(d),
            Deduper::Redis(_) => None,
        }
    }

    /// Looks up (and, if new, claims) a delivery. The memory backend answers without waiting.
    pub async fn check<'a>(
        &'a self,
        metrics: &Metrics,
        source: &str,
        delivery_id: &str,
        now_ms: i64,
    ) -> Verdict<'a> {
        match self {
            Deduper::Memory(d) => match d.check(source, delivery_id, now_ms) {
                Check::New(guard) => Verdict::New(Claim::Memory(guard)),
                Check::Duplicate { id } => Verdict::Duplicate { id },
                Check::InFlight => Verdict::InFlight,
            },
            Deduper::Redis(r) => r.check(metrics, source, delivery_id).await,
        }
    }
}

/// A claim on a new delivery. Dropping it without [`Claim::commit`] releases it.
#[derive(Debug)]
pub enum Claim<'a> {
    Memory(Guard<'a>),
    Redis(RedisClaim<'a>),
    /// Redis could not tell and the delivery goes on as new: nothing to commit.
    Unclaimed,
}

impl Claim<'_> {
    /// Records the delivery as accepted under envelope `id`. A Redis failure here is counted
    /// and logged, never returned: the event is already safe.
    pub async fn commit(self, metrics: &Metrics, id: Uuid, now_ms: i64) {
        match self {
            Claim::Memory(guard) => guard.commit(id, now_ms),
            Claim::Redis(claim) => claim.commit(metrics, id).await,
            Claim::Unclaimed => {}
        }
    }
}

/// The Redis backend.
pub struct RedisDedup {
    client: redis::Client,
    conn: tokio::sync::OnceCell<ConnectionManager>,
    /// HMAC-SHA256 keyed with the key derived from the URL; cloned per key.
    hasher: Hmac<Sha256>,
    prefix: String,
    timeout: Duration,
    window_ms: u64,
    pending_ms: u64,
    on_unavailable: OnUnavailable,
    /// What the last call showed; a change is logged once.
    up: AtomicBool,
    commit_script: redis::Script,
    release_script: redis::Script,
}

impl std::fmt::Debug for RedisDedup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisDedup")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("window_ms", &self.window_ms)
            .field("on_unavailable", &self.on_unavailable)
            .finish_non_exhaustive()
    }
}

/// Why a Redis call gave no answer.
#[derive(Debug)]
enum CallError {
    Timeout,
    Redis(redis::RedisError),
    /// The key holds something this gateway never writes.
    Unexpected,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Timeout => f.write_str("no answer within timeout_ms"),
            // Connection and protocol errors; they do not quote the URL.
            CallError::Redis(e) => write!(f, "{e}"),
            CallError::Unexpected => f.write_str("the key holds a value hookgate does not write"),
        }
    }
}

impl RedisDedup {
    /// The backend for checked settings. Connects on first use, so a gateway starts while
    /// Redis is down (and its deliveries meet `on_unavailable`).
    pub fn new(settings: &RedisSettings) -> Result<Self, redis::RedisError> {
        let url = std::str::from_utf8(settings.url.expose()).unwrap_or_default();
        let client = redis::Client::open(url)?;
        let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(settings.url.expose())
            .expect("HMAC takes a key of any length");
        derive.update(b"hookgate dedup key v1");
        let key = derive.finalize().into_bytes();
        let hasher =
            <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes a key of any length");
        let window_ms = settings.window_ms.max(1);
        Ok(RedisDedup {
            client,
            conn: tokio::sync::OnceCell::new(),
            hasher,
            prefix: settings.key_prefix.clone(),
            timeout: settings.timeout,
            window_ms,
            pending_ms: PENDING_TTL_MS.min(window_ms),
            on_unavailable: settings.on_unavailable,
            up: AtomicBool::new(true),
            commit_script: redis::Script::new(COMMIT),
            release_script: redis::Script::new(RELEASE),
        })
    }

    /// The Redis key of a delivery: the prefix and 32 hex digits of a keyed hash.
    pub fn key(&self, source: &str, delivery_id: &str) -> String {
        let mut mac = self.hasher.clone();
        mac.update(source.as_bytes());
        mac.update(&[0]);
        mac.update(delivery_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut key = String::with_capacity(self.prefix.len() + 32);
        key.push_str(&self.prefix);
        key.push_str(&hex::encode(&digest[..16]));
        key
    }

    /// The shared connection, made on first use (bounded by the caller's timeout).
    async fn connection(&self) -> Result<ConnectionManager, redis::RedisError> {
        let conn = self
            .conn
            .get_or_try_init(|| {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(self.timeout)
                    .set_response_timeout(self.timeout)
                    .set_number_of_retries(2)
                    .set_max_delay(1_000);
                ConnectionManager::new_with_config(self.client.clone(), config)
            })
            .await?;
        Ok(conn.clone())
    }

    /// Runs one call under the timeout and records whether Redis answered.
    async fn call<T, F>(&self, metrics: &Metrics, what: &'static str, f: F) -> Result<T, CallError>
    where
        F: std::future::Future<Output = Result<T, CallError>>,
    {
        let result = match tokio::time::timeout(self.timeout, f).await {
            Ok(r) => r,
            Err(_) => Err(CallError::Timeout),
        };
        match &result {
            Ok(_) => {
                if !self.up.swap(true, Ordering::Relaxed) {
                    metrics.set_dedup_backend_up(true);
                    tracing::info!("dedup backend (Redis) answers again");
                }
            }
            Err(e) => {
                metrics.dedup_backend_error();
                if self.up.swap(false, Ordering::Relaxed) {
                    metrics.set_dedup_backend_up(false);
                    tracing::warn!(error = %e, call = what, on_unavailable = ?self.on_unavailable, "dedup backend (Redis) does not answer");
                }
            }
        }
        result
    }

    async fn check<'a>(
        &'a self,
        metrics: &Metrics,
        source: &str,
        delivery_id: &str,
    ) -> Verdict<'a> {
        let key = self.key(source, delivery_id);
        let token = format!("pending:{}", Uuid::now_v7());
        let claimed = self
            .call(metrics, "claim", async {
                let mut conn = self.connection().await.map_err(CallError::Redis)?;
                let old: Option<String> = redis::cmd("SET")
                    .arg(&key)
                    .arg(&token)
                    .arg("NX")
                    .arg("PX")
                    .arg(self.pending_ms)
                    .arg("GET")
                    .query_async(&mut conn)
                    .await
                    .map_err(CallError::Redis)?;
                match old {
                    None => Ok(None),
                    Some(v) if v.starts_with("pending:") => Ok(Some(None)),
                    Some(v) => Uuid::parse_str(&v)
                        .map(|id| Some(Some(id)))
                        .map_err(|_| CallError::Unexpected),
                }
            })
            .await;
        match claimed {
            Ok(None) => Verdict::New(Claim::Redis(RedisClaim {
                dedup: self,
                key: Some(key),
                token,
            })),
            Ok(Some(None)) => Verdict::InFlight,
            Ok(Some(Some(id))) => Verdict::Duplicate { id },
            Err(_) => match self.on_unavailable {
                OnUnavailable::Accept => Verdict::New(Claim::Unclaimed),
                OnUnavailable::Reject => Verdict::Unavailable,
            },
        }
    }
}

/// Our pending token on a delivery's key.
#[derive(Debug)]
pub struct RedisClaim<'a> {
    dedup: &'a RedisDedup,
    /// `None` once committed.
    key: Option<String>,
    token: String,
}

impl RedisClaim<'_> {
    async fn commit(mut self, metrics: &Metrics, id: Uuid) {
        let Some(key) = self.key.take() else {
            return;
        };
        let d = self.dedup;
        let _ = d
            .call(metrics, "commit", async {
                let mut conn = d.connection().await.map_err(CallError::Redis)?;
                d.commit_script
                    .key(&key)
                    .arg(&self.token)
                    .arg(id.to_string())
                    .arg(d.window_ms)
                    .invoke_async::<i64>(&mut conn)
                    .await
                    .map_err(CallError::Redis)
            })
            .await;
    }
}

impl Drop for RedisClaim<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let Some(conn) = self.dedup.conn.get().cloned() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let token = std::mem::take(&mut self.token);
        let script = self.dedup.release_script.clone();
        let timeout = self.dedup.timeout;
        // Fire-and-forget: if it fails, the pending claim expires by itself.
        runtime.spawn(async move {
            let mut conn = conn;
            let _ = tokio::time::timeout(
                timeout,
                script.key(&key).arg(&token).invoke_async::<i64>(&mut conn),
            )
            .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::setting::SecretRef;

    fn config(toml_text: &str) -> DedupConfig {
        toml::from_str(toml_text).expect("toml")
    }

    fn check(toml_text: &str) -> Result<Option<RedisSettings>, String> {
        let env = |name: &str| (name == "REDIS_URL").then(|| "redis://127.0.0.1:6379".to_owned());
        check_settings(&config(toml_text), &env).map_err(|e| e.to_string())
    }

    #[test]
    fn memory_is_the_default_and_refuses_redis_keys() {
        assert!(check("").expect("default").is_none());
        let err = check("timeout_ms = 100").expect_err("memory with a redis key");
        assert!(err.contains("[dedup] timeout_ms"), "{err}");
        let err = check(r#"redis_url = { env = "REDIS_URL" }"#).expect_err("memory");
        assert!(err.contains("[dedup] redis_url"), "{err}");
    }

    #[test]
    fn redis_settings_are_checked_with_defaults() {
        let s = check(
            r#"
backend = "redis"
redis_url = { env = "REDIS_URL" }
"#,
        )
        .expect("valid")
        .expect("redis");
        assert_eq!(s.key_prefix, DEFAULT_KEY_PREFIX);
        assert_eq!(s.timeout, Duration::from_millis(200));
        assert_eq!(s.on_unavailable, OnUnavailable::Accept);
        assert_eq!(s.window_ms, 86_400_000);

        for (text, key) in [
            (r#"backend = "redis""#, "redis_url"),
            (
                "backend = \"redis\"\nredis_url = { env = \"NOT_SET\" }",
                "redis_url",
            ),
            (
                "backend = \"redis\"\nredis_url = { insecure_dev_value = \"http://h:1\" }",
                "redis_url",
            ),
            (
                "backend = \"redis\"\nredis_url = { env = \"REDIS_URL\" }\ntimeout_ms = 0",
                "timeout_ms",
            ),
            (
                "backend = \"redis\"\nredis_url = { env = \"REDIS_URL\" }\ntimeout_ms = 60000",
                "timeout_ms",
            ),
            (
                "backend = \"redis\"\nredis_url = { env = \"REDIS_URL\" }\njournal = \"/tmp/j\"",
                "journal",
            ),
        ] {
            let err = check(text).expect_err(text);
            assert!(err.starts_with(&format!("[dedup] {key}:")), "{text}: {err}");
        }
        assert!(toml::from_str::<DedupConfig>("backend = \"sql\"").is_err());
        assert!(toml::from_str::<DedupConfig>("on_unavailable = \"maybe\"").is_err());
        assert!(toml::from_str::<DedupConfig>("redis_host = \"h\"").is_err());
    }

    #[test]
    fn a_bad_url_is_refused_without_quoting_it() {
        let err = check(
            "backend = \"redis\"\nredis_url = { insecure_dev_value = \"redis://user:hunter2@[::1\" }",
        )
        .expect_err("bad url");
        assert!(err.starts_with("[dedup] redis_url:"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    fn settings(url: &str) -> RedisSettings {
        RedisSettings {
            url: Secret::new(url.as_bytes().to_vec()),
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            timeout: Duration::from_millis(200),
            on_unavailable: OnUnavailable::Accept,
            window_ms: 60_000,
        }
    }

    #[test]
    fn keys_are_keyed_hashes_shared_by_replicas() {
        let a = RedisDedup::new(&settings("redis://10.0.0.1:6379")).expect("a");
        let b = RedisDedup::new(&settings("redis://10.0.0.1:6379")).expect("b");
        let key = a.key("gh", "delivery-12345");
        assert_eq!(key, b.key("gh", "delivery-12345"), "same on every replica");
        assert!(key.starts_with(DEFAULT_KEY_PREFIX), "{key}");
        let hash = &key[DEFAULT_KEY_PREFIX.len()..];
        assert_eq!(hash.len(), 32);
        assert!(hash.bytes().all(|c| c.is_ascii_hexdigit()), "{key}");
        assert!(!key.contains("delivery") && !key.contains("12345"), "{key}");
        assert_ne!(key, a.key("other", "delivery-12345"), "the source counts");
        assert_ne!(key, a.key("gh", "delivery-12346"));
        // The source/id boundary counts too.
        assert_ne!(a.key("ab", "c"), a.key("a", "bc"));
        let other = RedisDedup::new(&settings("redis://10.0.0.2:6379")).expect("other");
        assert_ne!(key, other.key("gh", "delivery-12345"), "keyed by the URL");
    }

    #[test]
    fn secret_refs_take_every_form() {
        let cfg = config("backend = \"redis\"\nredis_url = { file = \"/nonexistent/redis-url\" }");
        assert!(matches!(cfg.redis_url, Some(SecretRef::File(_))));
        let err = check_settings(&cfg, &|_| None).expect_err("missing file");
        assert!(err.to_string().starts_with("[dedup] redis_url:"), "{err}");
    }
}
