//! What happens to a webhook: the pipeline and its stages.

pub mod access;
pub mod auth;
pub mod deadletter;
pub mod dedup;
pub mod envelope;
pub mod error;
pub mod event;
pub mod handshake;
pub mod intake;
pub mod payload;
pub mod pipeline;
pub mod schema;
pub mod source;
