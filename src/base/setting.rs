//! What every layer's settings share: the config error that names a section and a key, the
//! environment lookup, and references to secrets (an environment variable, a file, or, in
//! development only, the value itself).

use std::path::PathBuf;

use serde::Deserialize;

use crate::base::secret::Secret;

/// Everything that can be wrong with a config file. Each message says where to look.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config is not valid TOML or has an unknown/mistyped key: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("[{section}] {key}: {reason}")]
    Invalid {
        section: String,
        key: &'static str,
        reason: String,
    },
    #[error("[sources.{source_name}] secret #{index}: {reason}")]
    Secret {
        source_name: String,
        index: usize,
        reason: String,
    },
    /// A `[kafka.properties]` value that cannot be used; `reason` names the variable or file of
    /// a secret reference, never its value.
    #[error("[kafka.properties] `{key}`: {reason}")]
    Property { key: String, reason: String },
}

impl ConfigError {
    pub fn invalid(
        section: impl Into<String>,
        key: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid {
            section: section.into(),
            key,
            reason: reason.into(),
        }
    }
}

/// Where a secret comes from. Committed configs should only use `env` or `file`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum SecretRef {
    /// `{ env = "GITHUB_WEBHOOK_SECRET" }`
    Env(String),
    /// `{ file = "/run/secrets/github" }`: the file's content, one trailing newline removed.
    File(PathBuf),
    /// `{ insecure_dev_value = "…" }`: plain text in the config, for demos only. Logged as a
    /// warning at start-up.
    InsecureDevValue(String),
}

/// Looks up environment variables; tests pass a map instead of touching the process env.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads a secret. Error messages name the variable or file, never the value.
pub fn resolve_secret(r: &SecretRef, env: EnvLookup<'_>) -> Result<Secret, String> {
    let value = match r {
        SecretRef::Env(var) => {
            env(var).ok_or_else(|| format!("environment variable `{var}` is not set"))?
        }
        SecretRef::File(path) => {
            let mut text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read secret file {}: {e}", path.display()))?;
            if text.ends_with('\n') {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
            text
        }
        SecretRef::InsecureDevValue(v) => v.clone(),
    };
    if value.is_empty() {
        return Err("the secret is empty".to_owned());
    }
    Ok(Secret::new(value.into_bytes()))
}

pub fn default_true() -> bool {
    true
}
