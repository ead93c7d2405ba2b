//! Provider presets: what a known provider sends, as data.
//!
//! Owns: the table of presets. A preset is a value (how deliveries are signed and where the
//! event type, delivery id, event time and context live), never code of its own; the generic
//! machinery in `auth` and `event` does the work. A source's own keys override any of it.
//!
//! Adding a provider: add one arm to [`preset`] and its name to [`NAMES`], then a test in
//! `auth` with the provider's published vector.

use crate::auth::{Algorithm, Encoding, KeyEncoding, TimestampFormat};
use crate::config::{AuthConfig, SignatureConfig};
use crate::event::Locator;

/// Defaults a provider brings to a source.
#[derive(Debug, Clone)]
pub struct Preset {
    pub auth: AuthConfig,
    pub event_type: Option<Locator>,
    pub delivery_id: Option<Locator>,
    pub event_time: Option<Locator>,
    pub context: Option<Locator>,
}

/// Names of every preset, for error messages and docs.
pub const NAMES: &[&str] = &["github"];

/// The preset for `provider`, if it is one we know.
pub fn preset(provider: &str) -> Option<Preset> {
    match provider {
        // GitHub: "validating webhook deliveries" — HMAC-SHA256 hex digest of the raw body in
        // `X-Hub-Signature-256`, prefixed `sha256=`; event in `X-GitHub-Event`, delivery GUID in
        // `X-GitHub-Delivery`. No timestamp is signed, so there is no replay window.
        "github" => Some(Preset {
            auth: AuthConfig::Hmac(SignatureConfig {
                header: "X-Hub-Signature-256".to_owned(),
                algorithm: Algorithm::Sha256,
                encoding: Encoding::Hex,
                prefix: "sha256=".to_owned(),
                separator: None,
                fields: None,
                signed: "{body}".to_owned(),
                timestamp_header: None,
                timestamp_format: TimestampFormat::UnixSeconds,
                tolerance_secs: 300,
                limit_future: true,
                key_encoding: KeyEncoding::Utf8,
                key_prefix: String::new(),
            }),
            event_type: Some(Locator::Header("X-GitHub-Event".to_owned())),
            delivery_id: Some(Locator::Header("X-GitHub-Delivery".to_owned())),
            event_time: None,
            context: None,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_has_a_preset() {
        for name in NAMES {
            assert!(preset(name).is_some(), "{name} is listed but has no preset");
        }
        assert!(preset("not-a-provider").is_none());
    }
}
