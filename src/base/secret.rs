//! Secret bytes that cannot be printed by accident.
//!
//! Owns: the [`Secret`] wrapper. Its `Debug` prints `[redacted]` and it implements no
//! `Display` or `Serialize`, so a secret can reach a log, a metric or an error body only through
//! an explicit [`Secret::expose`] call.

use std::fmt;

/// A secret value (HMAC key, API key) as bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }

    /// The raw bytes. Callers must not log or return them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new(b"hunter2".to_vec());
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert!(!format!("{:?}", vec![s]).contains("hunter2"));
    }
}
