//! The leaves every layer may use: secrets, the parsed JSON document, metrics, the clock.

pub mod json;
pub mod metrics;
pub mod secret;
