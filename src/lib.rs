//! hookgate: a webhook gateway. It receives provider webhooks over HTTP, authenticates them,
//! validates them against per-event JSON Schemas, wraps them in one common envelope and
//! publishes them to Kafka, answering the provider only once Kafka has the event.
//!
//! # Code map
//!
//! The path of a webhook, in the order [`webhook::handle`] calls the stages:
//!
//! | module | owns | may call |
//! |---|---|---|
//! | [`server`] | sockets, hyper, routing (`match` on method and path), graceful shutdown, `/metrics` `/healthz` `/readyz`; the swappable routes (config sources and schemas a SIGHUP replaces, API-created sources an admin change replaces) | `webhook`, `admin`, `tls` (handshakes), `publish` (readiness), `metrics` |
//! | [`admin`] | the admin listener: admin keys and scopes, `/v1/webhooks` reads and changes, rotation, `/v1/webhook-types`, audit lines; `/status`, `/healthz`, `/readyz` | `store`, `status`, `catalog`, `provider`, `server` (readiness) |
//! | [`status`] | the status page: recent activity per source and its HTML | — |
//! | [`store`] | API-created sources: records, sealed secrets (AES-256-GCM), the local file and the compacted Kafka topic, building their sources and putting them in force, retiring rotated-out secrets | `config` (`build_source`), `server` (`Live<Routes>`) |
//! | [`tls`] | the HTTPS certificate and key, and swapping in a renewed pair while serving | `metrics` |
//! | [`webhook`] | the order of the stages, nothing else | every stage module below |
//! | [`access`] | the client IP behind trusted proxies; per-source allow-lists | — |
//! | [`intake`] | reading the raw body under size and time limits, inflating gzip | — |
//! | [`auth`] | signature / API-key / public-key / in-body checks, replay window; the only maker of [`auth::Verified`] | `secret` |
//! | [`payload`] | media types; JSON and form parsing, only of verified requests | `json` |
//! | [`json`] | the parsed payload ([`json::Document`], sonic-rs), the nesting-depth scan that runs before any parse, RFC 6901 pointers, and the adapter through which `jsonschema` validates a document in place | — |
//! | [`handshake`] | provider handshakes (Slack, Zoom, Discord, Xero, Okta, X): answered, never published | — |
//! | [`event`] | where event type, delivery id, event time and context live; reading them | `json` |
//! | [`dedup`] | recently accepted (source, delivery id) pairs (keyed 128-bit hashes) and their journal | — |
//! | [`spool`] | the local append-only, checksummed log of records Kafka could not take; its watermark; the hand-over back to publishing once the drainer is one batch from empty | — |
//! | [`drain`] | the background task moving the spool to Kafka in order | `spool`, `publish`, `metrics` |
//! | [`schema`] | compiling `schemas/{provider}/{event_type}.json` at start-up; validating | `json` |
//! | [`envelope`] | the envelope contract consumers rely on | — |
//! | [`replay`] | turning a dead letter back into an event under the current config and schemas | `auth` (a `none` verifier: it was verified on arrival), `payload`, `event`, `webhook::prepare` (the pipeline's own schema, envelope and topic stages) |
//! | [`deadletter`] | the dead-letter record: authentic deliveries that cannot become events, with the reason | `envelope` (its `Context`, time format) |
//! | [`topic`] | topic templates, overrides, legal Kafka names; the bounds on event-type topics (catalog, per source, [`topic::TopicBudget`] per process) and the fallback topic | — |
//! | [`publish`] | rdkafka: idempotent producer, topic creation, readiness, flush | `metrics` |
//! | [`kafka_client`] | the one builder of rdkafka client configs from `[kafka]` (brokers, resolved `[kafka.properties]`) for each role: event producer, admin store producer / consumer / admin client, the commands' consumers | `config` |
//! | [`error`] | the one mapping from stage errors (and admin errors) to HTTP status + JSON body | — |
//! | [`config`] | the TOML file, secret references, validation into [`config::Settings`] | `auth`, `event`, `handshake`, `topic`, `provider` (to compile per-source parts) |
//! | [`catalog`] | the event types each provider documents (embedded `config/catalogs/`) | — |
//! | [`provider`] | presets: what known providers send, as data; their vector tests | — |
//! | [`secret`] | the redacted [`secret::Secret`] wrapper | — |
//! | [`metrics`] | every Prometheus family | — |
//!
//! `main.rs` holds the command line (`run`, `check-config`, `sign`; `validate`, `replay` and
//! `tail` in `commands.rs`) and start-up: load config,
//! compile schemas, start the embedded broker if asked, bind, serve, flush.
//!
//! # Invariants
//!
//! - **Nothing unauthenticated is parsed or published.** Stages after `auth` take
//!   [`auth::Verified`], which only `auth` can construct; signatures are checked on the raw
//!   bytes from `intake`.
//! - **A 2xx means the event is safe.** `webhook` answers only after `publish` returned the
//!   broker's acknowledgement (idempotent producer, `acks=all`) or `spool` returned from its
//!   fsync; any failure before that is a non-2xx, and nothing is dropped to make room.
//! - **Secrets never leave.** They live in [`secret::Secret`] (redacted `Debug`, no `Display`),
//!   are compared in constant time, and no error message, log line or metric contains them.
//! - **Stage modules do no IO and read no clock.** `now`, ids and receive times are arguments,
//!   so they are tested as plain tables. IO lives in `server`, `intake`, `publish` and start-up.
//! - **Start-up does the work once.** Secrets decoded, HMAC keys set up, recipes, locators and
//!   topic templates compiled, schemas compiled, all before the port is bound; a bad config or
//!   schema stops start-up with a message naming the file, source and key.
//! - **No input can overflow a stack.** Untrusted JSON is scanned for nesting depth
//!   ([`json::check_depth`]) before anything recursive reads it; everything else recursive
//!   reads through `serde_json` or `toml`, whose own limits bound it.
//! - **Senders do not decide how many topics exist.** [`topic::TopicRouter`] gives an event
//!   type a topic of its own only within the catalog and the configured bounds.
//! - **Metric labels are bounded**: source names (configured or created through the admin API)
//!   and closed sets of codes only.
//! - **An admin change is saved, then in force, then answered.** [`store`] fsyncs its file (or
//!   has the topic's acknowledgement) before it swaps the routes; secrets stay sealed in the
//!   store and are opened only to build a source.

pub mod app;
pub mod base;
pub mod cli;
pub mod config;
pub mod control;
pub mod delivery;
pub mod http;
pub mod ingest;
pub mod providers;

#[cfg(test)]
mod layers_test;
