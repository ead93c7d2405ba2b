//! What happens to a webhook: the pipeline and its stages, and [`Gateway`], the state every
//! request shares.

pub mod access;
pub mod activity;
pub mod auth;
pub mod confirm;
pub mod deadletter;
pub mod dedup;
pub mod dedup_redis;
pub mod envelope;
pub mod error;
pub mod event;
pub mod fetch;
pub mod handshake;
pub mod health;
pub mod intake;
pub mod learn;
pub mod payload;
pub mod pipeline;
pub mod schema;
pub mod source;

use crate::base::live::Live;
use crate::base::metrics::Metrics;
use crate::delivery::publish::Publisher;
use crate::delivery::spool::Spool;
use crate::delivery::topic::TopicBudget;
use crate::ingest::access::ClientIpRule;
use crate::ingest::activity::Activity;
use crate::ingest::dedup_redis::Deduper;
use crate::ingest::health::BrokerState;
use crate::ingest::source::Routes;

/// Everything a request needs, shared by all connections.
#[derive(Debug)]
pub struct Gateway {
    /// The sources and schemas in force; a SIGHUP replaces them.
    pub routes: Live<Routes>,
    pub publisher: Publisher,
    pub metrics: Metrics,
    /// Seconds sent in `Retry-After` with a 503.
    pub retry_after_secs: u64,
    /// One permit per request being processed (`server.max_in_flight`).
    pub in_flight: tokio::sync::Semaphore,
    /// Recently accepted delivery ids (here or in Redis); `None` when dedup is off.
    pub dedup: Option<Deduper>,
    /// How to find the client's address behind trusted proxies.
    pub client_ip: ClientIpRule,
    /// Where records go when Kafka cannot take them; `None`: answer 503 instead.
    pub spool: Option<Spool>,
    /// Recent answers per source, for the status page.
    pub activity: Activity,
    /// The last broker probe ([`health::watch_broker`]).
    pub broker: BrokerState,
    /// The event-type topics routed to so far, bounded by `kafka.max_topics`; outlives
    /// reloads, so a SIGHUP does not reset the bound.
    pub topics: TopicBudget,
    /// Keeps secrets learned at a handshake (the admin store); `None` without `[admin.store]`.
    pub keeper: Option<std::sync::Arc<dyn learn::SecretKeeper>>,
}
