//! Command line and start-up. See `lib.rs` for the code map.

mod commands;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use hookgate::app::router::{Listener, Surface};
use hookgate::base::metrics::Metrics;
use hookgate::config::{self, Settings};
use hookgate::delivery::kafka::Brokers;
use hookgate::delivery::publish::Publisher;
use hookgate::http;
use hookgate::ingest::dedup::Dedup;
use hookgate::ingest::schema::SchemaRegistry;
use hookgate::ingest::source::Routes;
use hookgate::ingest::Gateway;

/// mimalloc: every request allocates (its body, the parsed document, the record). It was chosen
/// when payloads were parsed into `serde_json::Value`, measured ~30% faster than the system
/// allocator for a 7.5 KB body (`benches/pipeline.rs`); not re-measured since the parse moved
/// to sonic-rs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "hookgate",
    version,
    about = "Webhook gateway: authenticate, validate, normalize, publish to Kafka"
)]
struct Cli {
    /// Config file.
    #[arg(
        long,
        global = true,
        env = "HOOKGATE_CONFIG",
        default_value = "config/default.toml"
    )]
    config: PathBuf,
    /// Log format.
    #[arg(long, global = true, env = "HOOKGATE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Start the gateway (the default).
    Run {
        /// Listen address, overriding `server.listen` (port 0 picks a free port).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Check the config and schemas, print "ok" or what is wrong.
    CheckConfig,
    /// Print a ready-to-run curl command that delivers a payload file to a source, signed.
    Sign {
        /// Source name (the `[sources.NAME]` key).
        #[arg(long)]
        source: String,
        /// File holding the payload to send.
        #[arg(long)]
        file: PathBuf,
        /// Event type, for sources that read it from a header (e.g. GitHub's `push`).
        #[arg(long)]
        event_type: Option<String>,
        /// Base URL of the gateway.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
    },
    /// Check a payload file as a source would (event type, allowed events, schema); prints
    /// the violations and exits non-zero when the gateway would not publish it as an event.
    Validate {
        /// Source name (the `[sources.NAME]` key).
        #[arg(long)]
        source: String,
        /// Event type, for sources that read it from a header (e.g. GitHub's `push`).
        #[arg(long)]
        event_type: Option<String>,
        /// The payload file (JSON).
        file: PathBuf,
    },
    /// Republish dead letters that the current config and schemas now accept to their normal
    /// topics (each at most once per run, under its original id); reports what it did.
    ///
    /// Reads and publishes with the config file's `[kafka]` section (--config): its brokers and
    /// its `[kafka.properties]` (security.protocol, sasl.*, ssl.*…, secret references resolved),
    /// as the gateway does.
    Replay {
        /// Dead-letter topic(s) to read; default: those of the configured sources.
        #[arg(long)]
        topic: Vec<String>,
        /// Bootstrap servers, overriding `kafka.brokers` (`[kafka.properties]` still apply).
        #[arg(long)]
        brokers: Option<String>,
        /// Only dead letters of this source.
        #[arg(long)]
        source: Option<String>,
        /// Only dead letters of this event type.
        #[arg(long)]
        event_type: Option<String>,
        /// Only dead letters received at or after this time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Only dead letters received before this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Report what would be republished, publish nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the records of Kafka topics as JSON lines (from the beginning), to see what the
    /// gateway published. Exits once it has printed what the topics held when it started,
    /// unless --follow.
    ///
    /// Connects with the config file's `[kafka]` section (--config; only that section is read):
    /// its brokers and its `[kafka.properties]` (security.protocol, sasl.*, ssl.*…, secret
    /// references resolved), as the gateway does. Without a config file (no --config and no
    /// config/default.toml) --brokers alone does, with no properties.
    Tail {
        /// Bootstrap servers, overriding `kafka.brokers` (`[kafka.properties]` still apply);
        /// for the embedded broker: the address the gateway printed at start-up.
        #[arg(long)]
        brokers: Option<String>,
        /// Topic(s) to read.
        #[arg(long, required = true)]
        topic: Vec<String>,
        /// Keep waiting for new records.
        #[arg(long)]
        follow: bool,
        /// Without --follow: fail when this many seconds pass without a record before the end
        /// is reached (a broker that stopped serving, not an empty topic).
        #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
        idle_timeout: f64,
    },
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // `tail` may go on without the default config file; a config someone named must exist.
    let config_given = matches.value_source("config") != Some(ValueSource::DefaultValue);
    init_logging(cli.log_format);
    let serving = matches!(cli.command, None | Some(Command::Run { .. }));
    let result = match cli.command {
        None => run(&cli.config, None),
        Some(Command::Run { listen }) => run(&cli.config, listen),
        Some(Command::CheckConfig) => check_config(&cli.config),
        Some(Command::Sign {
            source,
            file,
            event_type,
            url,
        }) => sign(&cli.config, &source, &file, event_type.as_deref(), &url),
        Some(Command::Tail {
            brokers,
            topic,
            follow,
            idle_timeout,
        }) => Duration::try_from_secs_f64(idle_timeout)
            .map_err(|_| anyhow::anyhow!("--idle-timeout must be a number of seconds, 0 or more"))
            .and_then(|idle| {
                let kafka = commands::TailKafka {
                    config: &cli.config,
                    config_given,
                    brokers: brokers.as_deref(),
                };
                commands::tail(&kafka, &topic, follow, idle)
            }),
        Some(Command::Validate {
            source,
            event_type,
            file,
        }) => commands::validate(&cli.config, &source, event_type.as_deref(), &file),
        Some(Command::Replay {
            topic,
            brokers,
            source,
            event_type,
            since,
            until,
            dry_run,
        }) => commands::replay(
            &cli.config,
            &topic,
            brokers.as_deref(),
            &commands::ReplayFilter {
                source,
                event_type,
                since,
                until,
            },
            dry_run,
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The server reports through its log stream (maybe JSON); commands talk to a person.
            if serving {
                tracing::error!("{e:#}");
            } else {
                eprintln!("error: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// Loads config and schemas: everything that can be checked before binding a port.
fn load(path: &Path) -> anyhow::Result<(Settings, SchemaRegistry)> {
    let settings = config::load(path).with_context(|| format!("config {}", path.display()))?;
    let schemas = SchemaRegistry::load(&settings.schemas_dir)?;
    Ok((settings, schemas))
}

fn check_config(path: &Path) -> anyhow::Result<()> {
    let (settings, schemas) = load(path)?;
    for w in &settings.warnings {
        println!("warning: {w}");
    }
    println!(
        "ok: {} source(s), {} schema(s), brokers {}",
        settings.sources.len(),
        schemas.len(),
        match &settings.kafka.brokers {
            Brokers::Embedded => "embedded",
            Brokers::Bootstrap(b) => b,
        }
    );
    if let Some(admin) = &settings.admin {
        println!(
            "admin API on {} with {} key(s); store: {}",
            admin.listen,
            admin.keys.len(),
            match admin.store.kind {
                hookgate::control::settings::StoreKind::Local =>
                    format!("local, {}", admin.store.path.display()),
                hookgate::control::settings::StoreKind::Kafka =>
                    format!("Kafka topic {}", admin.store.topic),
            }
        );
    }
    Ok(())
}

fn run(path: &Path, listen: Option<String>) -> anyhow::Result<()> {
    let (settings, schemas) = load(path)?;
    for w in &settings.warnings {
        tracing::warn!("{w}");
    }
    tracing::info!(
        sources = settings.sources.len(),
        schemas = schemas.len(),
        "config loaded"
    );

    // The mock cluster lives on this thread until the server has stopped and flushed.
    let (bootstrap, embedded) = match &settings.kafka.brokers {
        Brokers::Bootstrap(list) => (list.clone(), None),
        Brokers::Embedded => {
            let cluster = rdkafka::mocking::MockCluster::new(1)
                .context("cannot start the embedded Kafka mock cluster")?;
            let bootstrap = cluster.bootstrap_servers();
            tracing::warn!(
                bootstrap = %bootstrap,
                "kafka.brokers = \"embedded\": using librdkafka's in-memory mock cluster (demo only, nothing is persisted)"
            );
            println!("embedded Kafka bootstrap: {bootstrap}");
            (bootstrap, Some(cluster))
        }
    };

    let is_embedded = embedded.is_some();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    // Stated rather than inherited: the depth limits on untrusted JSON are tested on a stack
    // of exactly this size (json::MAX_DEPTH_LIMIT).
    runtime.thread_stack_size(hookgate::base::json::WORKER_STACK_BYTES);
    if let Some(workers) = settings.workers {
        runtime.worker_threads(workers);
    }
    let runtime = runtime
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        // Its error names the client ("cannot create the Kafka producer: …").
        let publisher = Publisher::new(&bootstrap, &settings.kafka, is_embedded)?;
        let now_ms =
            i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
                .unwrap_or(i64::MAX);
        let dedup = match &settings.dedup {
            Some(d) => {
                let dedup = Dedup::open(d.window_secs, d.capacity, d.journal.as_deref(), now_ms)?;
                tracing::info!(remembered = dedup.len(), journal = ?d.journal, "dedup ready");
                Some(dedup)
            }
            None => None,
        };
        let spool = match &settings.spool.dir {
            Some(dir) => {
                let limits = hookgate::delivery::spool::SpoolLimits {
                    max_bytes: settings.spool.max_bytes,
                    max_age_secs: settings.spool.max_age_secs,
                };
                let spool = hookgate::delivery::spool::Spool::open(dir, limits)?;
                tracing::info!(dir = %dir.display(), waiting = spool.depth().records, "spool ready");
                Some(spool)
            }
            None => None,
        };
        let metrics = Metrics::new(settings.sources.keys().map(String::as_str))
            .context("cannot register metrics")?;
        let limits = http::ConnectionLimits {
            max_connections: settings.max_connections,
            header_read_timeout: settings.header_read_timeout,
            shutdown_grace: settings.shutdown_grace,
        };
        let app = Arc::new(Gateway {
            routes: hookgate::base::live::Live::new(Routes {
                configured: Arc::new(settings.sources.into_iter().collect::<HashMap<_, _>>()),
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
            activity: hookgate::ingest::activity::Activity::default(),
            broker: hookgate::ingest::health::BrokerState::default(),
            topics: hookgate::delivery::topic::TopicBudget::new(settings.kafka.max_topics),
        });
        // The admin listener first, so its address is printed before the ingest line; its
        // store is read and its sources put in force before either listener takes a request.
        let admin_listener = match settings.admin.clone() {
            Some(admin) => {
                let store =
                    open_store(&admin, &bootstrap, &settings.kafka, &settings.source_defaults)
                        .await?;
                store.apply(&app.routes);
                let listener = tokio::net::TcpListener::bind(&admin.listen)
                    .await
                    .with_context(|| format!("cannot listen on {} (admin)", admin.listen))?;
                let addr = listener
                    .local_addr()
                    .context("admin listener has no address")?;
                tracing::info!(%addr, keys = admin.keys.len(), webhooks = store.list().len(), "admin API listening");
                println!("hookgate admin API on http://{addr}");
                Some((
                    listener,
                    Arc::new(hookgate::control::admin::Admin {
                        settings: admin,
                        store,
                    }),
                ))
            }
            None => None,
        };
        let tls = settings.tls.map(Arc::new);
        let listen = listen.unwrap_or(settings.listen);
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr().context("listener has no address")?;
        // Before the "listening" line, which tells supervisors and tests the gateway is up: a
        // SIGHUP sent as soon as it appears must find this handler, not the default action
        // (which ends the process). The stream keeps signals until the reloader reads them.
        let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
        tracing::info!(
            %addr,
            brokers = %bootstrap,
            workers = tokio::runtime::Handle::current().metrics().num_workers(),
            "listening"
        );
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("hookgate listening on {scheme}://{addr}");
        let _ = std::io::stdout().flush();

        let (stop_drain, drain_stopped) = tokio::sync::watch::channel(false);
        let drainer = app.spool.is_some().then(|| {
            let app = app.clone();
            tokio::spawn(async move {
                if let Some(spool) = &app.spool {
                    hookgate::delivery::drain::run(spool, &app.publisher, &app.metrics, drain_stopped).await;
                }
            })
        });

        let dedup_maintenance = app.dedup.is_some().then(|| {
            let app = app.clone();
            let mut stopped = stop_drain.subscribe();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(60)) => {}
                        _ = stopped.changed() => return,
                    }
                    let app = app.clone();
                    let done = tokio::task::spawn_blocking(move || app.dedup.as_ref().map(|d| d.maintain())).await;
                    match done {
                        Ok(Some(Ok(true))) => tracing::debug!("dedup journal compacted"),
                        Ok(Some(Err(e))) => tracing::warn!(error = %e, "dedup journal compaction failed; retrying in a minute"),
                        _ => {}
                    }
                }
            })
        });
        let broker_watch = {
            let app = app.clone();
            let stopped = stop_drain.subscribe();
            tokio::spawn(async move { hookgate::ingest::health::watch_broker(&app, stopped).await })
        };
        let reloader = {
            let app = app.clone();
            let path = path.to_owned();
            let stopped = stop_drain.subscribe();
            tokio::spawn(async move { reload_on_sighup(&app, &path, hangups, stopped).await })
        };
        let cert_watcher = tls.clone().map(|tls| {
            let app = app.clone();
            let stopped = stop_drain.subscribe();
            tokio::spawn(async move { tls.watch(&app.metrics, stopped).await })
        });

        let store_follower = admin_listener.as_ref().map(|(_, admin)| {
            let (app, admin) = (app.clone(), admin.clone());
            let stopped = stop_drain.subscribe();
            tokio::spawn(async move { admin.store.follow(&app.routes, stopped).await })
        });
        let admin = admin_listener.map(|(listener, admin)| {
            let app = app.clone();
            let handler = Arc::new(Listener {
                gateway: app,
                surface: Surface::Admin(admin),
            });
            tokio::spawn(async move {
                http::serve(listener, handler, None, shutdown_signal(), limits).await
            })
        });

        http::serve(
            listener,
            Arc::new(Listener {
                gateway: app.clone(),
                surface: Surface::Ingest,
            }),
            tls,
            shutdown_signal(),
            limits,
        )
        .await;
        if let Some(admin) = admin {
            let _ = admin.await;
        }

        let _ = stop_drain.send(true);
        if let Some(drainer) = drainer {
            let _ = drainer.await;
        }
        if let Some(watcher) = cert_watcher {
            let _ = watcher.await;
        }
        let _ = reloader.await;
        let _ = broker_watch.await;
        if let Some(task) = dedup_maintenance {
            let _ = task.await;
        }
        if let Some(follower) = store_follower {
            let _ = follower.await;
        }

        tracing::info!("flushing the Kafka producer");
        if let Err(e) = app.publisher.flush(Duration::from_secs(10)).await {
            tracing::warn!(error = %e, "producer flush did not complete");
        }
        tracing::info!("stopped");
        Ok::<(), anyhow::Error>(())
    })?;
    drop(embedded);
    Ok(())
}

/// Opens the admin store `[admin.store]` names and loads what it holds; a record whose
/// secret does not open with the configured key stops start-up (a wrong key must not silently
/// drop sources).
pub(crate) async fn open_store(
    admin: &hookgate::control::settings::AdminSettings,
    bootstrap: &str,
    kafka: &hookgate::delivery::kafka::KafkaSettings,
    defaults: &hookgate::providers::build::SourceDefaults,
) -> anyhow::Result<hookgate::control::store::Store> {
    use hookgate::control::settings::StoreKind;
    use hookgate::control::store::{kafka::KafkaStore, local::LocalStore, Backend, Sealer, Store};
    let settings = &admin.store;
    let sealer = Sealer::new(&settings.encryption_key)
        .map_err(|e| anyhow::anyhow!("[admin.store] encryption_key: {e}"))?;
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
            sealer.open(&record.id, &secret.sealed).map_err(|e| {
                anyhow::anyhow!("admin store: the secret of webhook `{}` {e}", record.id)
            })?;
        }
    }
    Ok(Store::new(backend, sealer, defaults.clone(), records))
}

/// On every SIGHUP, loads the config file and the schemas again and, if both are valid, puts
/// their sources and schemas in force for new requests (requests in flight finish under the
/// old ones). A config or schema that does not load is refused with a log line and the old
/// one keeps serving. Runs until `stop` turns true.
async fn reload_on_sighup(
    app: &Gateway,
    path: &Path,
    hangups: std::io::Result<tokio::signal::unix::Signal>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut hangups = match hangups {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGHUP; config reload is off");
            return;
        }
    };
    loop {
        tokio::select! {
            received = hangups.recv() => if received.is_none() { return },
            _ = stop.changed() => return,
        }
        tracing::info!(config = %path.display(), "SIGHUP: reloading config and schemas");
        let file = path.to_owned();
        match tokio::task::spawn_blocking(move || load(&file)).await {
            Ok(Ok((settings, schemas))) => {
                for w in &settings.warnings {
                    tracing::warn!("{w}");
                }
                let (sources, count) = (settings.sources.len(), schemas.len());
                let configured = Arc::new(settings.sources.into_iter().collect());
                let schemas = Arc::new(schemas);
                app.routes.update(|old| Routes {
                    configured,
                    managed: old.managed.clone(),
                    schemas,
                });
                app.metrics.config_reload(true);
                tracing::info!(
                    sources,
                    schemas = count,
                    "config reloaded: sources and schemas in force; [server], [kafka], [spool], [dedup] and [admin] changes wait for a restart"
                );
            }
            Ok(Err(e)) => {
                app.metrics.config_reload(false);
                tracing::error!(
                    error = format!("{e:#}"),
                    "config reload refused; the previous config keeps serving"
                );
            }
            Err(e) => {
                app.metrics.config_reload(false);
                tracing::error!(error = %e, "config reload failed; the previous config keeps serving");
            }
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}

fn sign(
    path: &Path,
    source_name: &str,
    file: &Path,
    event_type: Option<&str>,
    url: &str,
) -> anyhow::Result<()> {
    let settings = config::load(path).with_context(|| format!("config {}", path.display()))?;
    let Some(source) = settings.sources.get(source_name) else {
        bail!(
            "no source `{source_name}` in {} (configured: {})",
            path.display(),
            settings
                .sources
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let body = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut given = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    if let Some(h) = source.event.event_type_header() {
        let Some(t) = event_type else {
            bail!("source `{source_name}` reads the event type from the `{h}` header: pass --event-type");
        };
        given.push((h.to_string(), t.to_owned()));
    }
    if let Some(h) = source.event.delivery_id_header() {
        given.push((h.to_string(), uuid::Uuid::now_v7().to_string()));
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let signed = source
        .verifier
        .sign(&body, now, &given)
        .map_err(|e| anyhow::anyhow!("cannot sign for source `{source_name}`: {e}"))?;
    let mut cmd = format!(
        "curl -sS -X POST {}",
        shell_quote(&format!(
            "{}/webhooks/{source_name}",
            url.trim_end_matches('/')
        ))
    );
    for (k, v) in given.iter().chain(signed.iter()) {
        cmd.push_str(&format!(" \\\n  -H {}", shell_quote(&format!("{k}: {v}"))));
    }
    cmd.push_str(&format!(
        " \\\n  --data-binary @{}",
        shell_quote(&file.display().to_string())
    ));
    println!("{cmd}");
    Ok(())
}

/// Single-quotes a string for POSIX shells.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
