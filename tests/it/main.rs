//! Every integration test, in one test binary: one link of the gateway and its dependencies
//! instead of one per file, which keeps a cold build's disk use and link time down. Each
//! module is one area; nextest still runs every test in its own process, so the black-box
//! tests (each with its own broker and gateway) stay independent.

mod common;
mod kafka;

mod admin;
mod admin_write;
mod cloudevents;
mod dashboard;
mod deadletter;
mod dedup;
mod depth;
mod docserver;
mod e2e;
mod faults;
mod handshakes;
mod jwt;
mod learned;
mod lifecycle;
mod limits;
mod outages;
mod redis;
mod redis_modes;
mod reload;
mod remote_certs;
mod sasl;
mod schemas;
mod sdk;
mod seed_providers;
mod spool;
mod status_page;
mod tls;
mod topics;
