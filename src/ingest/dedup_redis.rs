//! Deduplication shared by every replica: `[dedup] backend = "redis"`.
//!
//! Owns: [`Deduper`], the backend a gateway deduplicates with (this process's
//! [`Dedup`] table or Redis), its [`Claim`] on a new delivery, the checked `[dedup]` redis
//! settings ([`RedisSettings`]), the connection to each Redis topology and the Redis protocol
//! below. This and `intake` are the `ingest` modules that do IO.
//!
//! The client is the `redis` crate (redis-rs, 0.32): the maintained and most widely used Rust
//! client, on tokio, and the one crate that has all we need behind features: rustls TLS (on the
//! `ring` provider the gateway already uses), Redis Cluster, Sentinel, and a
//! `ConnectionManager` that reconnects by itself. A newer major version would bring nothing
//! this module needs.
//!
//! `redis_mode` picks the topology; one `Conn` hides which, so the protocol below has one path:
//! - `single`: one URL, a `ConnectionManager` (one multiplexed connection for every request,
//!   reconnected after the server went away);
//! - `cluster`: the URLs are seed nodes of a `ClusterClient`, whose connection learns the slot
//!   map, follows `MOVED`/`ASK` and reconnects. Every command and script here touches one key,
//!   so each goes to one slot's master;
//! - `sentinel`: the URLs are sentinels, asked for the master of `sentinel_master`. The
//!   connection to it is held in a `SentinelLink`; a call that fails on the connection (broken,
//!   silent for `timeout_ms`, or `READONLY` from a demoted master) drops it, and one background
//!   task at a time asks the sentinels again (after a failover, the new master), while requests
//!   keep their `timeout_ms`. The URLs' user and password go to the sentinels and to the master
//!   alike, and their database number to the master.
//!
//! `rediss://` URLs use TLS, checked against the system's roots or `redis_ca_file`, with an
//! optional client certificate (`redis_client_cert_file`, `redis_client_key_file`); the files
//! are read and parsed when the config is checked.
//!
//! Per delivery, one round trip claims it: `SET key "pending:<token>" NX PX <ttl> GET`
//! (Redis ≥ 7) answers nil (new: ours now), `pending:…` (in flight elsewhere: 503
//! `duplicate_in_flight`) or an envelope id (a duplicate, answered with that id). After the
//! event is published (or spooled) a plain `SET key <envelope id> PX <window>` replaces our
//! pending token: nothing else can be there, as the claim found the key empty and a pending
//! token outlives any request (no script, so the commit costs the server what a `SET` costs).
//! A claim dropped without commit deletes the key only if it still holds our token (a Lua
//! script, fire-and-forget). A pending claim expires after [`PENDING_TTL_MS`] (or the window,
//! if shorter), so a replica that dies mid-request blocks redeliveries for that long only.
//!
//! Keys are `key_prefix` and the hex of HMAC-SHA256 (cut to 128 bits) of the source name, a
//! NUL and the delivery id, never the id itself. The HMAC key is derived from the Redis URL
//! secret (HMAC-SHA256 of a fixed label under the URL; with several URLs, under the trimmed URLs
//! sorted, so that replicas listing them in another order agree), which every replica of a fleet
//! shares by construction; changing the URLs (e.g. a password) starts an empty key space, which
//! forgets the window's deliveries (at-least-once still holds).
//!
//! Every call is bounded by `timeout_ms`. When Redis fails or is slow, `on_unavailable`
//! decides: `accept` processes the delivery as new (a redelivery may then be published twice),
//! `reject` answers 503 `dedup_unavailable`. Failures are counted
//! (`hookgate_dedup_backend_errors_total`), `hookgate_dedup_backend_up` follows the last call,
//! and one log line marks each change between up and down.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hmac::{Hmac, Mac};
use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{
    AsyncConnectionConfig, ClientTlsConfig, ConnectionAddr, ConnectionInfo, IntoConnectionInfo,
    TlsCertificates, TlsMode,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::Sha256;
use uuid::Uuid;

use crate::base::metrics::Metrics;
use crate::base::secret::Secret;
use crate::base::setting::{resolve_secret, ConfigError, EnvLookup};
use crate::ingest::dedup::{Backend, Check, Dedup, DedupConfig, Guard, OnUnavailable, RedisMode};

/// The longest a pending claim lives (ms): a request holds it at most this long, and a replica
/// that dies mid-request blocks its redeliveries no longer.
pub const PENDING_TTL_MS: u64 = 120_000;

/// Default `[dedup] key_prefix`.
pub const DEFAULT_KEY_PREFIX: &str = "hookgate:dedup:";
/// Default and bounds of `[dedup] timeout_ms`.
pub const DEFAULT_TIMEOUT_MS: u64 = 200;
const MAX_TIMEOUT_MS: u64 = 10_000;
const MAX_KEY_PREFIX_BYTES: usize = 128;

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
    /// The secret as given: one URL, or (cluster, sentinel) a comma-separated list.
    pub url: Secret,
    pub mode: RedisMode,
    /// `sentinel` mode: the monitored master's name.
    pub sentinel_master: Option<String>,
    /// The PEM files of `redis_ca_file` and the client certificate, read; `None` when none is
    /// set (`rediss://` then checks against the system's roots).
    pub tls: Option<RedisTls>,
    pub key_prefix: String,
    pub timeout: Duration,
    pub on_unavailable: OnUnavailable,
    pub window_ms: u64,
}

/// The TLS files of `[dedup]`, read and parsed once.
#[derive(Clone)]
pub struct RedisTls {
    /// PEM of `redis_ca_file`.
    pub ca: Option<Vec<u8>>,
    /// PEM of `redis_client_cert_file` and of its key.
    pub client: Option<(Vec<u8>, Secret)>,
}

impl std::fmt::Debug for RedisTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTls")
            .field("ca", &self.ca.is_some())
            .field("client_certificate", &self.client.is_some())
            .finish()
    }
}

impl RedisTls {
    fn certificates(&self) -> TlsCertificates {
        TlsCertificates {
            client_tls: self.client.as_ref().map(|(cert, key)| ClientTlsConfig {
                client_cert: cert.clone(),
                client_key: key.expose().to_vec(),
            }),
            root_cert: self.ca.clone(),
        }
    }
}

/// The URLs in a `redis_url` secret: all of it in `single` mode (a password may hold a comma),
/// otherwise the comma-separated items, trimmed, empty ones skipped.
fn url_list(mode: RedisMode, text: &str) -> Vec<&str> {
    match mode {
        RedisMode::Single => vec![text],
        RedisMode::Cluster | RedisMode::Sentinel => text
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect(),
    }
}

/// What the HMAC key is derived from: the URL in `single` mode (as before lists existed), the
/// sorted list otherwise, so the order replicas list the URLs in does not matter.
fn key_material(mode: RedisMode, secret: &[u8]) -> Vec<u8> {
    match (mode, std::str::from_utf8(secret)) {
        (RedisMode::Single, _) | (_, Err(_)) => secret.to_vec(),
        (_, Ok(text)) => {
            let mut urls = url_list(mode, text);
            urls.sort_unstable();
            urls.join(",").into_bytes()
        }
    }
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
            ("redis_mode", cfg.redis_mode.is_some()),
            ("sentinel_master", cfg.sentinel_master.is_some()),
            ("redis_ca_file", cfg.redis_ca_file.is_some()),
            (
                "redis_client_cert_file",
                cfg.redis_client_cert_file.is_some(),
            ),
            ("redis_client_key_file", cfg.redis_client_key_file.is_some()),
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
    let mode = cfg.redis_mode.unwrap_or_default();
    let url_ref = cfg.redis_url.as_ref().ok_or_else(|| {
        invalid(
            "redis_url",
            "required with backend = \"redis\" (e.g. { env = \"HOOKGATE_REDIS_URL\" })",
        )
    })?;
    let url = resolve_secret(url_ref, env).map_err(|reason| invalid("redis_url", &reason))?;
    let text =
        std::str::from_utf8(url.expose()).map_err(|_| invalid("redis_url", "is not UTF-8 text"))?;
    let infos = check_urls(mode, text)?;
    let uses_tls =
        matches!(infos.first(), Some(i) if matches!(i.addr, ConnectionAddr::TcpTls { .. }));

    let sentinel_master = match (mode, &cfg.sentinel_master) {
        (RedisMode::Sentinel, Some(name)) if !name.trim().is_empty() => Some(name.clone()),
        (RedisMode::Sentinel, _) => {
            return Err(invalid(
                "sentinel_master",
                "required with redis_mode = \"sentinel\": the name the sentinels monitor the master under",
            ))
        }
        (_, Some(_)) => {
            return Err(invalid(
                "sentinel_master",
                "only used with redis_mode = \"sentinel\"",
            ))
        }
        (_, None) => None,
    };
    let tls = read_tls_files(cfg, uses_tls)?;

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
    let settings = RedisSettings {
        url,
        mode,
        sentinel_master,
        tls,
        key_prefix,
        timeout: Duration::from_millis(timeout_ms),
        on_unavailable: cfg.on_unavailable.unwrap_or_default(),
        window_ms: cfg.window_secs.saturating_mul(1000),
    };
    // Builds the clients (no IO) so that what the client refuses is refused now; its message
    // may quote a URL, so it is not passed on.
    if Links::build(&settings).is_err() {
        return Err(invalid(
            "redis_url",
            "is not usable by the Redis client (check the URLs and TLS files)",
        ));
    }
    Ok(Some(settings))
}

/// Parses every URL of the secret; they must all be `redis://` or all `rediss://` (TCP), and
/// in a list carry the same user and password.
fn check_urls(mode: RedisMode, text: &str) -> Result<Vec<ConnectionInfo>, ConfigError> {
    let invalid = |reason: &str| ConfigError::invalid("dedup", "redis_url", reason);
    let urls = url_list(mode, text);
    if urls.is_empty() {
        return Err(invalid("holds no URL"));
    }
    let mut infos: Vec<ConnectionInfo> = Vec::with_capacity(urls.len());
    for url in urls {
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(invalid(
                "every URL must be redis://host:port or rediss://host:port (TLS)",
            ));
        }
        // The parser's message may quote the URL, which may hold a password.
        let info = url
            .into_connection_info()
            .map_err(|_| invalid("is not a valid redis:// or rediss:// URL"))?;
        if let ConnectionAddr::TcpTls { insecure: true, .. } = info.addr {
            return Err(invalid(
                "#insecure (TLS without a certificate check) is not supported; give the server's CA in redis_ca_file",
            ));
        }
        if let Some(first) = infos.first() {
            let tls = |i: &ConnectionInfo| matches!(i.addr, ConnectionAddr::TcpTls { .. });
            if tls(first) != tls(&info) {
                return Err(invalid("mixes redis:// and rediss:// URLs"));
            }
            if first.redis.username != info.redis.username
                || first.redis.password != info.redis.password
            {
                return Err(invalid(
                    "the URLs of a list must carry the same user and password",
                ));
            }
        }
        infos.push(info);
    }
    Ok(infos)
}

/// Reads and parses the TLS files (given only with `rediss://` URLs).
fn read_tls_files(cfg: &DedupConfig, uses_tls: bool) -> Result<Option<RedisTls>, ConfigError> {
    let invalid = |key, reason: String| ConfigError::invalid("dedup", key, reason);
    for (key, set) in [
        ("redis_ca_file", cfg.redis_ca_file.is_some()),
        (
            "redis_client_cert_file",
            cfg.redis_client_cert_file.is_some(),
        ),
        ("redis_client_key_file", cfg.redis_client_key_file.is_some()),
    ] {
        if set && !uses_tls {
            return Err(invalid(
                key,
                "only used with rediss:// URLs (TLS); redis_url holds redis:// URLs".to_owned(),
            ));
        }
    }
    let read = |key, path: &Path| {
        std::fs::read(path)
            .map_err(|e| invalid(key, format!("cannot read {}: {e}", path.display())))
    };
    let certs = |key, path: &Path, pem: &[u8]| {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| invalid(key, format!("{}: not a valid PEM file", path.display())))?;
        if certs.is_empty() {
            return Err(invalid(
                key,
                format!("{}: holds no PEM certificate", path.display()),
            ));
        }
        Ok(certs)
    };

    let mut roots = rustls::RootCertStore::empty();
    let ca = match &cfg.redis_ca_file {
        Some(path) => {
            let pem = read("redis_ca_file", path)?;
            for cert in certs("redis_ca_file", path, &pem)? {
                roots.add(cert).map_err(|e| {
                    invalid(
                        "redis_ca_file",
                        format!("{}: not a usable CA certificate ({e})", path.display()),
                    )
                })?;
            }
            Some(pem)
        }
        None => None,
    };
    let client = match (&cfg.redis_client_cert_file, &cfg.redis_client_key_file) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(invalid(
                "redis_client_key_file",
                "required with redis_client_cert_file".to_owned(),
            ))
        }
        (None, Some(_)) => {
            return Err(invalid(
                "redis_client_cert_file",
                "required with redis_client_key_file".to_owned(),
            ))
        }
        (Some(cert_path), Some(key_path)) => {
            let cert_pem = read("redis_client_cert_file", cert_path)?;
            let chain = certs("redis_client_cert_file", cert_path, &cert_pem)?;
            let key_pem = Secret::new(read("redis_client_key_file", key_path)?);
            let key = PrivateKeyDer::from_pem_slice(key_pem.expose()).map_err(|_| {
                invalid(
                    "redis_client_key_file",
                    format!("{}: holds no PEM private key", key_path.display()),
                )
            })?;
            // The pair as rustls will take it when connecting (key type, key matching the
            // certificate); its errors never quote the key.
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .and_then(|b| {
                b.with_root_certificates(roots.clone())
                    .with_client_auth_cert(chain, key)
            })
            .map_err(|e| {
                invalid(
                    "redis_client_key_file",
                    format!(
                        "{}: not usable with redis_client_cert_file ({e})",
                        key_path.display()
                    ),
                )
            })?;
            Some((cert_pem, key_pem))
        }
    };
    Ok((ca.is_some() || client.is_some()).then_some(RedisTls { ca, client }))
}

/// One connection of any mode; cheap to clone (each is a handle on a multiplexed connection).
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    Sentinel(MultiplexedConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
            Conn::Sentinel(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Sentinel(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
            Conn::Sentinel(c) => c.get_db(),
        }
    }
}

/// The clients of a mode and the connection each holds once made.
enum Links {
    Single {
        client: redis::Client,
        conn: tokio::sync::OnceCell<ConnectionManager>,
        timeout: Duration,
    },
    Cluster {
        client: ClusterClient,
        conn: tokio::sync::OnceCell<ClusterConnection>,
    },
    Sentinel(Arc<SentinelLink>),
}

impl Links {
    /// The clients for checked settings; no IO.
    fn build(settings: &RedisSettings) -> Result<Links, redis::RedisError> {
        let text = std::str::from_utf8(settings.url.expose()).unwrap_or_default();
        let urls = url_list(settings.mode, text);
        let certificates = settings.tls.as_ref().map(RedisTls::certificates);
        if urls.iter().any(|u| u.starts_with("rediss://")) {
            // The client builds its rustls configs with the process-wide provider: make it
            // ring, as everywhere else here (an error means one is installed already).
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let timeout = settings.timeout;
        Ok(match settings.mode {
            RedisMode::Single => {
                let client = match certificates {
                    Some(certs) => redis::Client::build_with_tls(text, certs)?,
                    None => redis::Client::open(text)?,
                };
                Links::Single {
                    client,
                    conn: tokio::sync::OnceCell::new(),
                    timeout,
                }
            }
            RedisMode::Cluster => {
                let mut builder = ClusterClient::builder(urls)
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .retries(3);
                if let Some(certs) = certificates {
                    builder = builder.certs(certs);
                }
                Links::Cluster {
                    client: builder.build()?,
                    conn: tokio::sync::OnceCell::new(),
                }
            }
            RedisMode::Sentinel => {
                let mut sentinels = Vec::with_capacity(urls.len());
                let mut first = None;
                for url in urls {
                    let info = url.into_connection_info()?;
                    sentinels.push(info.addr);
                    first.get_or_insert(info.redis);
                }
                let link = Arc::new(SentinelLink {
                    sentinels,
                    master: settings.sentinel_master.clone().unwrap_or_default(),
                    auth: first.unwrap_or_default(),
                    certificates,
                    config: AsyncConnectionConfig::new()
                        .set_connection_timeout(timeout)
                        .set_response_timeout(timeout),
                    rebuild_limit: (timeout * 5)
                        .clamp(Duration::from_secs(1), Duration::from_secs(10)),
                    current: RwLock::new(None),
                    generation: AtomicU64::new(0),
                    attempts: AtomicUsize::new(0),
                    rebuilding: AtomicBool::new(false),
                    rebuilt: tokio::sync::Notify::new(),
                    last_error: std::sync::Mutex::new(None),
                });
                link.client(0)?;
                Links::Sentinel(link)
            }
        })
    }

    /// A connection to use now and its generation (for [`Links::failed`]); connects on first
    /// use. The caller bounds the wait.
    async fn get(&self) -> Result<(Conn, u64), CallError> {
        match self {
            Links::Single {
                client,
                conn,
                timeout,
            } => {
                let conn = conn
                    .get_or_try_init(|| {
                        let config = ConnectionManagerConfig::new()
                            .set_connection_timeout(*timeout)
                            .set_response_timeout(*timeout)
                            .set_number_of_retries(2)
                            .set_max_delay(1_000);
                        ConnectionManager::new_with_config(client.clone(), config)
                    })
                    .await
                    .map_err(CallError::Redis)?;
                Ok((Conn::Single(conn.clone()), 0))
            }
            Links::Cluster { client, conn } => {
                let conn = conn
                    .get_or_try_init(|| client.get_async_connection())
                    .await
                    .map_err(CallError::Redis)?;
                Ok((Conn::Cluster(conn.clone()), 0))
            }
            Links::Sentinel(link) => link.get().await,
        }
    }

    /// The connection made so far, if any (without waiting).
    fn current(&self) -> Option<Conn> {
        match self {
            Links::Single { conn, .. } => conn.get().cloned().map(Conn::Single),
            Links::Cluster { conn, .. } => conn.get().cloned().map(Conn::Cluster),
            Links::Sentinel(link) => link.current().map(|(c, _)| Conn::Sentinel(c)),
        }
    }

    /// A call on the connection of `generation` failed in a way that suspects the connection.
    /// Single and cluster connections reconnect by themselves; a sentinel-found master may no
    /// longer be the master, so it is dropped and the sentinels are asked again.
    fn failed(&self, generation: u64) {
        if let Links::Sentinel(link) = self {
            link.drop_connection(generation);
        }
    }
}

/// The connection to the master the sentinels name, replaced after a failure.
struct SentinelLink {
    /// The sentinels' addresses (with TLS when the URLs are `rediss://`).
    sentinels: Vec<ConnectionAddr>,
    master: String,
    /// User, password and database of the first URL.
    auth: redis::RedisConnectionInfo,
    certificates: Option<TlsCertificates>,
    config: AsyncConnectionConfig,
    /// The longest one rebuild may take (it runs in the background, requests do not wait for
    /// it beyond `timeout_ms`).
    rebuild_limit: Duration,
    /// The master connection and its generation; `None` until made, and after a failure.
    current: RwLock<Option<(MultiplexedConnection, u64)>>,
    generation: AtomicU64,
    /// Rebuilds so far: each starts with the next sentinel, so one that hangs is not always
    /// asked first.
    attempts: AtomicUsize,
    /// Whether a rebuild runs (at most one at a time).
    rebuilding: AtomicBool,
    /// Woken when a rebuild ends, made or not.
    rebuilt: tokio::sync::Notify,
    /// Why the last rebuild failed (never holds a URL).
    last_error: std::sync::Mutex<Option<String>>,
}

impl SentinelLink {
    fn current(&self) -> Option<(MultiplexedConnection, u64)> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn get(self: &Arc<Self>) -> Result<(Conn, u64), CallError> {
        // Registered before looking, so a rebuild ending in between still wakes us.
        let rebuilt = self.rebuilt.notified();
        if let Some((conn, generation)) = self.current() {
            return Ok((Conn::Sentinel(conn), generation));
        }
        self.start_rebuild();
        rebuilt.await;
        match self.current() {
            Some((conn, generation)) => Ok((Conn::Sentinel(conn), generation)),
            None => Err(CallError::NoMaster(
                self.last_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone()
                    .unwrap_or_default(),
            )),
        }
    }

    fn drop_connection(self: &Arc<Self>, generation: u64) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if matches!(&*current, Some((_, g)) if *g == generation) {
            *current = None;
            drop(current);
            self.start_rebuild();
        }
    }

    /// Asks the sentinels for the master and connects to it, in a task of its own, unless a
    /// rebuild runs already.
    fn start_rebuild(self: &Arc<Self>) {
        if self.rebuilding.swap(true, Ordering::AcqRel) {
            return;
        }
        let link = Arc::clone(self);
        tokio::spawn(async move {
            let made = tokio::time::timeout(link.rebuild_limit, link.connect()).await;
            match made {
                Ok(Ok(conn)) => {
                    let generation = link.generation.fetch_add(1, Ordering::Relaxed) + 1;
                    *link.current.write().unwrap_or_else(|e| e.into_inner()) =
                        Some((conn, generation));
                    tracing::info!(master = %link.master, "dedup backend (Redis Sentinel): connected to the current master");
                }
                Ok(Err(e)) => link.set_error(e.to_string()),
                Err(_) => link.set_error(format!(
                    "the sentinels named no reachable master within {} ms",
                    link.rebuild_limit.as_millis()
                )),
            }
            link.rebuilding.store(false, Ordering::Release);
            link.rebuilt.notify_waiters();
        });
    }

    fn set_error(&self, error: String) {
        tracing::debug!(error = %error, master = %self.master, "dedup backend (Redis Sentinel): no master connection");
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
    }

    async fn connect(&self) -> Result<MultiplexedConnection, redis::RedisError> {
        let start = self.attempts.fetch_add(1, Ordering::Relaxed);
        let mut client = self.client(start)?;
        client.get_async_connection_with_config(&self.config).await
    }

    /// A client asking the sentinels from the `start`th on (no IO).
    fn client(&self, start: usize) -> Result<SentinelClient, redis::RedisError> {
        let mut order = self.sentinels.clone();
        order.rotate_left(start % self.sentinels.len().max(1));
        let tls = matches!(order.first(), Some(ConnectionAddr::TcpTls { .. }));
        let mut builder =
            SentinelClientBuilder::new(order, self.master.clone(), SentinelServerType::Master)?
                .set_client_to_redis_db(self.auth.db);
        if let Some(user) = &self.auth.username {
            builder = builder
                .set_client_to_sentinel_username(user.clone())
                .set_client_to_redis_username(user.clone());
        }
        if let Some(password) = &self.auth.password {
            builder = builder
                .set_client_to_sentinel_password(password.clone())
                .set_client_to_redis_password(password.clone());
        }
        if tls {
            builder = builder.set_client_to_redis_tls_mode(TlsMode::Secure);
            if let Some(certs) = &self.certificates {
                builder = builder
                    .set_client_to_sentinel_certificates(certs.clone())
                    .set_client_to_redis_certificates(certs.clone());
            }
        }
        builder.build()
    }
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
    links: Links,
    /// HMAC-SHA256 keyed with the key derived from the URL; cloned per key.
    hasher: Hmac<Sha256>,
    mode: RedisMode,
    prefix: String,
    timeout: Duration,
    window_ms: u64,
    pending_ms: u64,
    on_unavailable: OnUnavailable,
    /// What the last call showed; a change is logged once.
    up: AtomicBool,
    release_script: redis::Script,
}

impl std::fmt::Debug for RedisDedup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisDedup")
            .field("mode", &self.mode)
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
    /// The sentinels named no master we could connect to (why, if known).
    NoMaster(String),
    /// The key holds something this gateway never writes.
    Unexpected,
}

impl CallError {
    /// Whether the connection itself may be at fault (broken, silent, or to a server that is no
    /// longer the master), rather than one answer.
    fn connection_suspect(&self) -> bool {
        match self {
            CallError::Timeout => true,
            CallError::Redis(e) => {
                e.is_io_error()
                    || e.is_connection_dropped()
                    || e.is_timeout()
                    || e.is_unrecoverable_error()
                    || matches!(
                        e.kind(),
                        redis::ErrorKind::ReadOnly | redis::ErrorKind::MasterDown
                    )
            }
            CallError::NoMaster(_) | CallError::Unexpected => false,
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Timeout => f.write_str("no answer within timeout_ms"),
            // Connection and protocol errors; they do not quote the URL.
            CallError::Redis(e) => write!(f, "{e}"),
            CallError::NoMaster(why) if why.is_empty() => {
                f.write_str("no master connection from the sentinels")
            }
            CallError::NoMaster(why) => write!(f, "no master connection from the sentinels: {why}"),
            CallError::Unexpected => f.write_str("the key holds a value hookgate does not write"),
        }
    }
}

impl RedisDedup {
    /// The backend for checked settings. Connects on first use, so a gateway starts while
    /// Redis is down (and its deliveries meet `on_unavailable`).
    pub fn new(settings: &RedisSettings) -> Result<Self, redis::RedisError> {
        let links = Links::build(settings)?;
        let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(&key_material(
            settings.mode,
            settings.url.expose(),
        ))
        .expect("HMAC takes a key of any length");
        derive.update(b"hookgate dedup key v1");
        let key = derive.finalize().into_bytes();
        let hasher =
            <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes a key of any length");
        let window_ms = settings.window_ms.max(1);
        Ok(RedisDedup {
            links,
            hasher,
            mode: settings.mode,
            prefix: settings.key_prefix.clone(),
            timeout: settings.timeout,
            window_ms,
            pending_ms: PENDING_TTL_MS.min(window_ms),
            on_unavailable: settings.on_unavailable,
            up: AtomicBool::new(true),
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

    /// Runs one call on a connection, under the timeout, and records whether Redis answered.
    async fn call<T, F, Fut>(
        &self,
        metrics: &Metrics,
        what: &'static str,
        f: F,
    ) -> Result<T, CallError>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: std::future::Future<Output = Result<T, CallError>>,
    {
        let mut used = None;
        let result = match tokio::time::timeout(self.timeout, async {
            let (conn, generation) = self.links.get().await?;
            used = Some(generation);
            f(conn).await
        })
        .await
        {
            Ok(r) => r,
            Err(_) => Err(CallError::Timeout),
        };
        if let (Err(e), Some(generation)) = (&result, used) {
            if e.connection_suspect() {
                self.links.failed(generation);
            }
        }
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
        let (key_ref, token_ref) = (&key, &token);
        let claimed = self
            .call(metrics, "claim", |mut conn| async move {
                let old: Option<String> = redis::cmd("SET")
                    .arg(key_ref)
                    .arg(token_ref)
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
        let key = &key;
        let _ = d
            .call(metrics, "commit", |mut conn| async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(id.to_string())
                    .arg("PX")
                    .arg(d.window_ms)
                    .query_async::<()>(&mut conn)
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
        let Some(conn) = self.dedup.links.current() else {
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
    use std::path::Path;

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
        for key in [
            "redis_mode = \"cluster\"",
            "sentinel_master = \"m\"",
            "redis_ca_file = \"/ca.pem\"",
            "redis_client_cert_file = \"/c.pem\"",
            "redis_client_key_file = \"/k.pem\"",
        ] {
            let err = check(key).expect_err(key);
            let name = key.split(' ').next().unwrap_or_default();
            assert!(err.starts_with(&format!("[dedup] {name}:")), "{err}");
        }
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
        settings_in(RedisMode::Single, url)
    }

    fn settings_in(mode: RedisMode, url: &str) -> RedisSettings {
        RedisSettings {
            url: Secret::new(url.as_bytes().to_vec()),
            mode,
            sentinel_master: (mode == RedisMode::Sentinel).then(|| "mymaster".to_owned()),
            tls: None,
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
    fn with_several_urls_the_key_does_not_depend_on_their_order() {
        for mode in [RedisMode::Cluster, RedisMode::Sentinel] {
            let a = RedisDedup::new(&settings_in(
                mode,
                "redis://10.0.0.1:7000,redis://10.0.0.2:7000",
            ))
            .expect("a");
            let b = RedisDedup::new(&settings_in(
                mode,
                " redis://10.0.0.2:7000 , redis://10.0.0.1:7000,",
            ))
            .expect("b");
            let c = RedisDedup::new(&settings_in(
                mode,
                "redis://10.0.0.1:7000,redis://10.0.0.3:7000",
            ))
            .expect("c");
            assert_eq!(
                a.key("gh", "d-1"),
                b.key("gh", "d-1"),
                "{mode:?}: order, spaces"
            );
            assert_ne!(
                a.key("gh", "d-1"),
                c.key("gh", "d-1"),
                "{mode:?}: another node"
            );
        }
        // One URL keeps the key it had before lists existed.
        let single = RedisDedup::new(&settings("redis://10.0.0.1:7000")).expect("single");
        let cluster =
            RedisDedup::new(&settings_in(RedisMode::Cluster, "redis://10.0.0.1:7000")).expect("c");
        assert_eq!(single.key("gh", "d-1"), cluster.key("gh", "d-1"));
    }

    /// Checks `[dedup]` with `url` as the `REDIS_URL` secret.
    fn check_with(url: &str, toml_text: &str) -> Result<Option<RedisSettings>, String> {
        let env = |name: &str| (name == "REDIS_URL").then(|| url.to_owned());
        let text =
            format!("backend = \"redis\"\nredis_url = {{ env = \"REDIS_URL\" }}\n{toml_text}");
        check_settings(&config(&text), &env).map_err(|e| e.to_string())
    }

    /// `err` names `[dedup] key` first and quotes no password.
    fn refused(result: Result<Option<RedisSettings>, String>, key: &str) {
        let err = match result {
            Ok(_) => panic!("accepted, but {key} should be refused"),
            Err(e) => e,
        };
        assert!(err.starts_with(&format!("[dedup] {key}:")), "{err}");
        assert!(!err.contains("hunter2"), "quotes the password: {err}");
    }

    const PW: &str = "redis://u:hunter2@10.0.0.1:7000";
    const PWS: &str = "rediss://u:hunter2@10.0.0.1:7000";

    #[test]
    fn modes_are_checked() {
        let s = check_with(PW, "").expect("single").expect("redis");
        assert_eq!(s.mode, RedisMode::Single);
        let list = "redis://u:hunter2@10.0.0.1:7000, redis://u:hunter2@10.0.0.2:7000";
        let s = check_with(list, "redis_mode = \"cluster\"")
            .expect("cluster")
            .expect("redis");
        assert_eq!(s.mode, RedisMode::Cluster);
        let s = check_with(
            list,
            "redis_mode = \"sentinel\"\nsentinel_master = \"mymaster\"",
        )
        .expect("sentinel")
        .expect("redis");
        assert_eq!(s.sentinel_master.as_deref(), Some("mymaster"));
        assert!(
            check_with(PWS, "redis_mode = \"cluster\"").is_ok(),
            "TLS cluster"
        );

        refused(
            check_with(list, "redis_mode = \"sentinel\""),
            "sentinel_master",
        );
        refused(
            check_with(list, "redis_mode = \"sentinel\"\nsentinel_master = \" \""),
            "sentinel_master",
        );
        refused(check_with(PW, "sentinel_master = \"m\""), "sentinel_master");
        refused(
            check_with(list, "redis_mode = \"cluster\"\nsentinel_master = \"m\""),
            "sentinel_master",
        );
        assert!(toml::from_str::<DedupConfig>("redis_mode = \"ring\"").is_err());
        for (url, extra) in [
            // A list where one URL is expected: a comma is part of the password then.
            (list, ""),
            (" , ", "redis_mode = \"cluster\""),
            (
                "redis://u:hunter2@10.0.0.1:7000,rediss://u:hunter2@10.0.0.2:7000",
                "redis_mode = \"cluster\"",
            ),
            (
                "redis://u:hunter2@10.0.0.1:7000,redis://u:other@10.0.0.2:7000",
                "redis_mode = \"cluster\"",
            ),
            (
                "redis://u:hunter2@10.0.0.1:7000,http://u:hunter2@h:1",
                "redis_mode = \"cluster\"",
            ),
            ("redis+unix:///tmp/redis.sock", ""),
            ("rediss://u:hunter2@10.0.0.1:7000/#insecure", ""),
            ("redis://u:hunter2@10.0.0.1:notaport", ""),
        ] {
            refused(check_with(url, extra), "redis_url");
        }
    }

    /// A CA (self-signed) and a client certificate with key, as PEM files in `dir`.
    fn tls_files(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
        let ca = rcgen::generate_simple_self_signed(vec!["redis.test".to_owned()]).expect("ca");
        let client = rcgen::generate_simple_self_signed(vec!["client".to_owned()]).expect("c");
        let paths = (
            dir.join("ca.pem"),
            dir.join("client.pem"),
            dir.join("client.key"),
        );
        std::fs::write(&paths.0, ca.cert.pem()).expect("write");
        std::fs::write(&paths.1, client.cert.pem()).expect("write");
        std::fs::write(&paths.2, client.key_pair.serialize_pem()).expect("write");
        // Another key, not the certificate's.
        std::fs::write(dir.join("other.key"), ca.key_pair.serialize_pem()).expect("write");
        std::fs::write(dir.join("garbage.pem"), "not a certificate").expect("write");
        (paths.0, paths.1, paths.2)
    }

    #[test]
    fn tls_files_are_read_and_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ca, cert, key) = tls_files(dir.path());
        let files = format!(
            "redis_ca_file = {ca:?}\nredis_client_cert_file = {cert:?}\nredis_client_key_file = {key:?}"
        );
        let s = check_with(PWS, &files).expect("valid").expect("redis");
        let tls = s.tls.expect("tls files");
        assert!(tls.ca.is_some() && tls.client.is_some());
        let s = check_with(PWS, &format!("redis_ca_file = {ca:?}")).expect("ca only");
        assert!(s.and_then(|s| s.tls).is_some_and(|t| t.client.is_none()));
        assert!(check_with(PWS, "")
            .expect("system roots")
            .and_then(|s| s.tls)
            .is_none());

        // With redis:// (no TLS), each file is refused by its key.
        refused(
            check_with(PW, &format!("redis_ca_file = {ca:?}")),
            "redis_ca_file",
        );
        refused(check_with(PW, &files), "redis_ca_file");
        let other = dir.path().join("other.key");
        let garbage = dir.path().join("garbage.pem");
        let missing = dir.path().join("missing.pem");
        for (extra, key_name) in [
            (format!("redis_ca_file = {missing:?}"), "redis_ca_file"),
            (format!("redis_ca_file = {garbage:?}"), "redis_ca_file"),
            (format!("redis_ca_file = {key:?}"), "redis_ca_file"),
            (
                format!("redis_client_cert_file = {cert:?}"),
                "redis_client_key_file",
            ),
            (
                format!("redis_client_key_file = {key:?}"),
                "redis_client_cert_file",
            ),
            (
                format!("redis_client_cert_file = {garbage:?}\nredis_client_key_file = {key:?}"),
                "redis_client_cert_file",
            ),
            (
                format!("redis_client_cert_file = {cert:?}\nredis_client_key_file = {cert:?}"),
                "redis_client_key_file",
            ),
            (
                format!("redis_client_cert_file = {cert:?}\nredis_client_key_file = {other:?}"),
                "redis_client_key_file",
            ),
        ] {
            refused(check_with(PWS, &extra), key_name);
        }
        // A key file's content is never quoted.
        let err = check_with(
            PWS,
            &format!("redis_client_cert_file = {cert:?}\nredis_client_key_file = {other:?}"),
        )
        .expect_err("mismatch");
        assert!(!err.contains("PRIVATE KEY"), "{err}");
    }

    #[test]
    fn only_connection_failures_make_a_sentinel_master_suspect() {
        let server = |kind| CallError::Redis(redis::RedisError::from((kind, "test")));
        assert!(CallError::Timeout.connection_suspect());
        assert!(server(redis::ErrorKind::ReadOnly).connection_suspect());
        assert!(server(redis::ErrorKind::IoError).connection_suspect());
        assert!(!server(redis::ErrorKind::ResponseError).connection_suspect());
        assert!(!CallError::Unexpected.connection_suspect());
    }

    #[test]
    fn secret_refs_take_every_form() {
        let cfg = config("backend = \"redis\"\nredis_url = { file = \"/nonexistent/redis-url\" }");
        assert!(matches!(cfg.redis_url, Some(SecretRef::File(_))));
        let err = check_settings(&cfg, &|_| None).expect_err("missing file");
        assert!(err.to_string().starts_with("[dedup] redis_url:"), "{err}");
    }
}
