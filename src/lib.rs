//! hookgate: a webhook gateway. It receives provider webhooks over HTTP, authenticates them,
//! validates them against per-event JSON Schemas, wraps them in one common envelope and
//! publishes them to Kafka, answering the provider only once Kafka has the event.
//!
//! The code map below is `docs/src/architecture.md`; `layers_test` keeps it true.
#![doc = include_str!("../docs/src/architecture.md")]

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
