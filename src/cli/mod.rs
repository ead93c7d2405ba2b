//! The command line: `run` (the default), `check-config`, `sign`, and the offline commands
//! `validate`, `replay` and `tail`. Each command is a thin shell over the library; `run` is
//! [`crate::app::run`] on the bound listeners with SIGINT/SIGTERM as its shutdown.

pub mod commands;
pub mod replay;
pub mod run;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::app;
use crate::config;
use crate::delivery::kafka::Brokers;

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

/// The binary's entry point: parses the command line and runs the command.
pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // `tail` may go on without the default config file; a config someone named must exist.
    let config_given = matches.value_source("config") != Some(ValueSource::DefaultValue);
    init_logging(cli.log_format);
    let serving = matches!(cli.command, None | Some(Command::Run { .. }));
    let result = match cli.command {
        None => run::run(&cli.config, None),
        Some(Command::Run { listen }) => run::run(&cli.config, listen),
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
    // Colours only on a terminal: a file, a pipe or journald gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

fn check_config(path: &Path) -> anyhow::Result<()> {
    let (settings, schemas) = app::load(path)?;
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
                crate::control::settings::StoreKind::Local =>
                    format!("local, {}", admin.store.path.display()),
                crate::control::settings::StoreKind::Kafka =>
                    format!("Kafka topic {}", admin.store.topic),
            }
        );
    }
    Ok(())
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
