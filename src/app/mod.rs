//! The app: the gateway assembled from its layers and run until told to stop.
//!
//! Owns: start-up after the config is known to be good (the producer, dedup, spool, metrics,
//! the admin store), the background tasks (spool drain, dedup compaction, broker probe, config
//! reload, certificate watch, store follower), the listeners' routes ([`router`]) and the order
//! of shutdown: stop accepting, finish requests in flight, stop the tasks, flush the producer.
//!
//! [`run`] takes listeners that are already bound and any shutdown future, so a test runs the
//! whole gateway in its own process on port 0; the binary passes SIGINT/SIGTERM.

pub mod reload;
pub mod router;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::base::clock::now_ms;
use crate::base::live::Live;
use crate::base::metrics::Metrics;
use crate::base::secret::Secret;
use crate::base::setting::ConfigError;
use crate::config::{self, Settings};
use crate::control::admin::Admin;
use crate::control::settings::{AdminSettings, StoreKind};
use crate::control::store::kafka::KafkaStore;
use crate::control::store::local::LocalStore;
use crate::control::store::{Backend, Sealer, Store, StoreError};
use crate::delivery::client::ClientError;
use crate::delivery::kafka::KafkaSettings;
use crate::delivery::publish::Publisher;
use crate::delivery::spool::{Spool, SpoolError, SpoolLimits};
use crate::delivery::topic::TopicBudget;
use crate::http::{self, ConnectionLimits};
use crate::ingest::activity::Activity;
use crate::ingest::dedup::{Dedup, DedupError};
use crate::ingest::dedup_redis::{Deduper, RedisDedup};
use crate::ingest::health::{self, BrokerState};
use crate::ingest::learn::{Keeping, SecretKeeper};
use crate::ingest::schema::{SchemaLoadError, SchemaRegistry};
use crate::ingest::source::{Routes, Source};
use crate::ingest::Gateway;
use crate::providers::build::SourceDefaults;
use router::{Listener, Surface};

/// Why the gateway could not start. Each message names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("config {path}: {source}")]
    Config { path: PathBuf, source: ConfigError },
    #[error(transparent)]
    Schemas(#[from] SchemaLoadError),
    #[error(transparent)]
    Producer(#[from] ClientError),
    #[error(transparent)]
    Dedup(#[from] DedupError),
    #[error("[dedup] redis_url: not usable as a Redis client URL")]
    DedupRedis,
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error("cannot register metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("[admin.store] encryption_key: {0}")]
    StoreKey(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("admin store: the secret of webhook `{id}` {reason}")]
    StoreSecret { id: String, reason: String },
    #[error("the {which} listener has no address: {source}")]
    Address {
        which: &'static str,
        source: std::io::Error,
    },
}

/// Loads the config file and the schemas it names: everything that can be checked before a
/// port is bound.
pub fn load(path: &Path) -> Result<(Settings, SchemaRegistry), StartError> {
    let settings = config::load(path).map_err(|source| StartError::Config {
        path: path.to_owned(),
        source,
    })?;
    let schemas = SchemaRegistry::load(&settings.schemas_dir)?;
    Ok((settings, schemas))
}

/// The sockets the gateway serves, bound by the caller (tests bind port 0).
#[derive(Debug)]
pub struct Listeners {
    pub ingest: TcpListener,
    /// Required when the config has `[admin]`; ignored otherwise.
    pub admin: Option<TcpListener>,
}

/// How to run, beyond the config.
#[derive(Debug, Clone)]
pub struct Options {
    /// The Kafka bootstrap list the clients use (the config's, or the embedded cluster's).
    pub bootstrap: String,
    /// Whether `bootstrap` is librdkafka's in-memory mock cluster (the demo default).
    pub embedded: bool,
    /// On SIGHUP, reload sources and schemas from this file; `None`: no reload.
    pub reload_from: Option<PathBuf>,
    /// Told once every listener takes requests (when the `listening` line is printed).
    pub ready: Option<std::sync::mpsc::Sender<()>>,
}

/// Runs the gateway on `listeners` until `shutdown` resolves, then drains and flushes. Prints
/// `hookgate listening on …` (and the admin line) once every listener takes requests.
pub async fn run(
    mut settings: Settings,
    schemas: SchemaRegistry,
    listeners: Listeners,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let sources = std::mem::take(&mut settings.sources);
    // The admin store first: the gateway keeps learned secrets through it.
    let admin = match (settings.admin.clone(), listeners.admin) {
        (Some(admin), Some(listener)) => {
            let store = open_store(
                &admin,
                &options.bootstrap,
                &settings.kafka,
                &settings.source_defaults,
            )
            .await?;
            Some((
                listener,
                Arc::new(Admin {
                    settings: admin,
                    store,
                }),
            ))
        }
        _ => None,
    };
    let keeper = admin
        .as_ref()
        .map(|(_, a)| Arc::new(StoreKeeper(a.clone())) as Arc<dyn SecretKeeper>);
    let gateway = Arc::new(assemble(&settings, sources, schemas, &options, keeper)?);
    let limits = ConnectionLimits {
        max_connections: settings.max_connections,
        header_read_timeout: settings.header_read_timeout,
        shutdown_grace: settings.shutdown_grace,
    };
    // The admin listener first, so its address is printed before the ingest line; its store is
    // read and its sources put in force before either listener takes a request.
    if let Some((listener, admin)) = &admin {
        admin.store.apply(&gateway.routes);
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Address {
                which: "admin",
                source,
            })?;
        tracing::info!(%addr, keys = admin.settings.keys.len(), webhooks = admin.store.list().len(), "admin API listening");
        println!("hookgate admin API on http://{addr}");
    }
    let tls = settings.tls.map(Arc::new);
    let addr = listeners
        .ingest
        .local_addr()
        .map_err(|source| StartError::Address {
            which: "ingest",
            source,
        })?;
    // Before the "listening" line, which tells supervisors and tests the gateway is up: a
    // SIGHUP sent as soon as it appears must find this handler, not the default action (which
    // ends the process). The stream keeps signals until the reloader reads them.
    let hangups = options
        .reload_from
        .as_ref()
        .map(|_| tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()));
    tracing::info!(
        %addr,
        brokers = %options.bootstrap,
        workers = tokio::runtime::Handle::current().metrics().num_workers(),
        "listening"
    );
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("hookgate listening on {scheme}://{addr}");
    let _ = std::io::stdout().flush();
    if let Some(ready) = &options.ready {
        let _ = ready.send(());
    }

    // One shutdown for every listener.
    let (stop_serving, serving) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_serving.send(true);
    });
    let until_stopped = move || {
        let mut serving = serving.clone();
        async move {
            let _ = serving.wait_for(|stopped| *stopped).await;
        }
    };

    let (stop_tasks, tasks_stopped) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    if gateway.spool.is_some() {
        let g = gateway.clone();
        let stopped = tasks_stopped.clone();
        tasks.push(tokio::spawn(async move {
            if let Some(spool) = &g.spool {
                crate::delivery::drain::run(spool, &g.publisher, &g.metrics, stopped).await;
            }
        }));
    }
    if gateway.dedup.as_ref().and_then(Deduper::memory).is_some() {
        let g = gateway.clone();
        let stopped = tasks_stopped.clone();
        tasks.push(tokio::spawn(maintain_dedup(g, stopped)));
    }
    {
        let g = gateway.clone();
        let stopped = tasks_stopped.clone();
        tasks.push(tokio::spawn(async move {
            health::watch_broker(&g, stopped).await
        }));
    }
    if let (Some(path), Some(hangups)) = (options.reload_from.clone(), hangups) {
        let g = gateway.clone();
        let admin = admin.as_ref().map(|(_, a)| a.clone());
        let stopped = tasks_stopped.clone();
        tasks.push(tokio::spawn(async move {
            let store = admin.as_ref().map(|a| &a.store);
            reload::on_sighup(&g, store, &path, hangups, stopped).await
        }));
    }
    if let Some(tls) = tls.clone() {
        let g = gateway.clone();
        let stopped = tasks_stopped.clone();
        tasks.push(tokio::spawn(
            async move { tls.watch(&g.metrics, stopped).await },
        ));
    }
    if let Some((_, admin)) = &admin {
        let (g, admin) = (gateway.clone(), admin.clone());
        let stopped = tasks_stopped.clone();
        tasks.push(tokio::spawn(async move {
            admin.store.follow(&g.routes, stopped).await
        }));
    }
    let admin = admin.map(|(listener, admin)| {
        let handler = Arc::new(Listener {
            gateway: gateway.clone(),
            surface: Surface::Admin(admin),
        });
        tokio::spawn(http::serve(
            listener,
            handler,
            None,
            until_stopped(),
            limits,
        ))
    });
    let ingest = Arc::new(Listener {
        gateway: gateway.clone(),
        surface: Surface::Ingest,
    });
    http::serve(listeners.ingest, ingest, tls, until_stopped(), limits).await;
    if let Some(admin) = admin {
        let _ = admin.await;
    }

    let _ = stop_tasks.send(true);
    for task in tasks {
        let _ = task.await;
    }
    tracing::info!("flushing the Kafka producer");
    if let Err(e) = gateway.publisher.flush(Duration::from_secs(10)).await {
        tracing::warn!(error = %e, "producer flush did not complete");
    }
    tracing::info!("stopped");
    Ok(())
}

/// The state every request shares, from a checked config.
fn assemble(
    settings: &Settings,
    sources: BTreeMap<String, Source>,
    schemas: SchemaRegistry,
    options: &Options,
    keeper: Option<Arc<dyn SecretKeeper>>,
) -> Result<Gateway, StartError> {
    let publisher = Publisher::new(&options.bootstrap, &settings.kafka, options.embedded)?;
    let dedup = match (&settings.dedup, &settings.dedup_redis) {
        (Some(_), Some(r)) => {
            let dedup = RedisDedup::new(r).map_err(|_| StartError::DedupRedis)?;
            tracing::info!(mode = ?r.mode, key_prefix = %r.key_prefix, timeout_ms = r.timeout.as_millis() as u64, on_unavailable = ?r.on_unavailable, "dedup ready (shared, in Redis)");
            Some(Deduper::Redis(Box::new(dedup)))
        }
        (Some(d), None) => {
            let dedup = Dedup::open(d.window_secs, d.capacity, d.journal.as_deref(), now_ms())?;
            tracing::info!(remembered = dedup.len(), journal = ?d.journal, "dedup ready");
            Some(Deduper::Memory(dedup))
        }
        (None, _) => None,
    };
    let spool = match &settings.spool.dir {
        Some(dir) => {
            let limits = SpoolLimits {
                max_bytes: settings.spool.max_bytes,
                max_age_secs: settings.spool.max_age_secs,
            };
            let spool = Spool::open(dir, limits)?;
            tracing::info!(dir = %dir.display(), waiting = spool.depth().records, "spool ready");
            Some(spool)
        }
        None => None,
    };
    let metrics = Metrics::new(sources.keys().map(String::as_str))?;
    let configured: HashMap<String, Source> = sources.into_iter().collect();
    Ok(Gateway {
        routes: Live::new(Routes {
            configured: Arc::new(configured),
            managed: Arc::default(),
            schemas: Arc::new(schemas),
        }),
        publisher,
        metrics,
        retry_after_secs: settings.kafka.retry_after_secs,
        in_flight: tokio::sync::Semaphore::new(settings.max_in_flight),
        dedup,
        client_ip: settings.client_ip.clone(),
        spool,
        activity: Activity::default(),
        broker: BrokerState::default(),
        topics: TopicBudget::new(settings.kafka.max_topics),
        keeper,
    })
}

/// Keeps secrets learned at a handshake in the admin store: the one [`SecretKeeper`] the
/// ingest path is given.
#[derive(Debug)]
struct StoreKeeper(Arc<Admin>);

impl SecretKeeper for StoreKeeper {
    fn keep<'a>(
        &'a self,
        routes: &'a Live<Routes>,
        source: &'a str,
        secret: &'a Secret,
    ) -> Keeping<'a> {
        Box::pin(self.0.store.learn(source, secret, routes))
    }
}

/// Compacts the dedup journal once a minute, off the runtime's workers.
async fn maintain_dedup(gateway: Arc<Gateway>, mut stopped: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = stopped.changed() => return,
        }
        let g = gateway.clone();
        let done = tokio::task::spawn_blocking(move || {
            g.dedup
                .as_ref()
                .and_then(Deduper::memory)
                .map(|d| d.maintain())
        })
        .await;
        match done {
            Ok(Some(Ok(true))) => tracing::debug!("dedup journal compacted"),
            Ok(Some(Err(e))) => {
                tracing::warn!(error = %e, "dedup journal compaction failed; retrying in a minute")
            }
            _ => {}
        }
    }
}

/// Opens the admin store `[admin.store]` names and loads what it holds; a record whose secret
/// does not open with the configured key stops start-up (a wrong key must not silently drop
/// sources).
pub async fn open_store(
    admin: &AdminSettings,
    bootstrap: &str,
    kafka: &KafkaSettings,
    defaults: &SourceDefaults,
) -> Result<Store, StartError> {
    let settings = &admin.store;
    let sealer =
        Sealer::new(&settings.encryption_key).map_err(|e| StartError::StoreKey(e.to_string()))?;
    let (backend, records) = match settings.kind {
        StoreKind::Local => {
            let (local, records) = LocalStore::open(&settings.path)?;
            tracing::info!(path = %settings.path.display(), webhooks = records.len(), "admin store (local) ready");
            (Backend::Local(local), records)
        }
        StoreKind::Kafka => {
            let (shared, records) = KafkaStore::open(bootstrap, kafka, &settings.topic).await?;
            tracing::info!(topic = %settings.topic, webhooks = records.len(), "admin store (Kafka topic) ready");
            (Backend::Kafka(shared), records)
        }
    };
    for record in records.values() {
        for secret in &record.secrets {
            sealer
                .open(&record.id, &secret.sealed)
                .map_err(|e| StartError::StoreSecret {
                    id: record.id.clone(),
                    reason: e.to_string(),
                })?;
        }
    }
    Ok(Store::new(backend, sealer, defaults.clone(), records))
}
