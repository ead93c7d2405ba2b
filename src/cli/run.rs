//! `hookgate run`: loads the config, starts the embedded broker when asked, builds the runtime,
//! binds the listeners and runs [`crate::app::run`] until SIGINT or SIGTERM.

use std::path::Path;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::app::{self, Listeners, Options};
use crate::delivery::kafka::Brokers;

/// Runs the gateway until a signal stops it.
pub fn run(path: &Path, listen: Option<String>) -> anyhow::Result<()> {
    let (settings, schemas) = app::load(path)?;
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
    let options = Options {
        bootstrap,
        embedded: embedded.is_some(),
        reload_from: Some(path.to_owned()),
        ready: None,
    };

    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    // Stated rather than inherited: the depth limits on untrusted JSON are tested on a stack
    // of exactly this size (json::MAX_DEPTH_LIMIT).
    runtime.thread_stack_size(crate::base::json::WORKER_STACK_BYTES);
    if let Some(workers) = settings.workers {
        runtime.worker_threads(workers);
    }
    let runtime = runtime
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let admin = match &settings.admin {
            Some(admin) => Some(
                TcpListener::bind(&admin.listen)
                    .await
                    .with_context(|| format!("cannot listen on {} (admin)", admin.listen))?,
            ),
            None => None,
        };
        let listen = listen.unwrap_or_else(|| settings.listen.clone());
        let ingest = TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        app::run(
            settings,
            schemas,
            Listeners { ingest, admin },
            options,
            shutdown_signal(),
        )
        .await?;
        Ok::<(), anyhow::Error>(())
    })?;
    drop(embedded);
    Ok(())
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
