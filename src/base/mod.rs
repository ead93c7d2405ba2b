//! The leaves every layer may use: secrets, the parsed JSON document, metrics, the clock.

pub mod clock;
pub mod json;
pub mod live;
pub mod metrics;
pub mod secret;
pub mod setting;
