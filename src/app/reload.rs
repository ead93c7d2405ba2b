//! Config reload: on SIGHUP, the sources and schemas of the config file are loaded again and put
//! in force for new requests if both are valid; the API-created sources are built again if the
//! `[server]`/`[kafka]` values sources default to changed.

use std::path::Path;
use std::sync::Arc;

use crate::control::store::Store;
use crate::ingest::source::Routes;
use crate::ingest::Gateway;

/// On every SIGHUP, loads the config file and the schemas again and, if both are valid, puts
/// their sources and schemas in force for new requests (requests in flight finish under the
/// old ones). The admin `store`'s sources are rebuilt when the defaults they take from
/// `[server]` and `[kafka]` (topic template, dead-letter topic, body and depth limits) changed.
/// A config or schema that does not load is refused with a log line and the old one keeps
/// serving. Runs until `stop` turns true.
pub async fn on_sighup(
    app: &Gateway,
    store: Option<&Store>,
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
        match tokio::task::spawn_blocking(move || super::load(&file)).await {
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
                let rebuilt =
                    store.is_some_and(|s| s.set_defaults(settings.source_defaults, &app.routes));
                app.metrics.config_reload(true);
                tracing::info!(
                    sources,
                    schemas = count,
                    api_sources_rebuilt = rebuilt,
                    "config reloaded: sources and schemas in force; the source defaults of [server] and [kafka] apply to every source, their other keys and [spool], [dedup] and [admin] wait for a restart"
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
