//! Schemas: the per-event JSON Schemas (draft 2020-12), compiled once at start-up.
//!
//! Owns: `schemas/{provider}/{event_type}.json` on disk and the [`SchemaRegistry`] built from
//! it. A schema file that is not valid JSON or not a valid schema stops start-up with its path.
//! Validation messages are "masked": they name the failing location and rule, never the
//! payload's values, so they are safe to return and to log.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::config::MissingSchema;

/// How many violations an error answer (or a dead-letter record) lists at most.
pub const MAX_REPORTED_VIOLATIONS: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum SchemaLoadError {
    #[error("schemas directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("schema {path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("schema {path}: not valid JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("schema {path}: not a valid JSON Schema (draft 2020-12): {reason}")]
    Invalid { path: PathBuf, reason: String },
}

/// Why a payload was refused by schema checks. Both are answered 422.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("no schema for event type `{event_type}` of provider `{provider}`, and this source rejects unknown events")]
    Missing {
        provider: String,
        event_type: String,
    },
    #[error("payload does not match schema {schema}: {}", violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Violation {
        schema: Arc<str>,
        /// The first [`MAX_REPORTED_VIOLATIONS`] violations.
        violations: Vec<Violation>,
    },
}

/// One way a payload fails its schema. The message is masked: it names the rule, never the
/// payload's value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Violation {
    /// JSON pointer into the payload (`/` for the whole document).
    pub instance_path: String,
    /// JSON pointer into the schema, to the keyword that failed.
    pub schema_path: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at {}: {}", self.instance_path, self.message)
    }
}

impl SchemaError {
    pub fn code(&self) -> &'static str {
        match self {
            SchemaError::Missing { .. } => "no_schema",
            SchemaError::Violation { .. } => "schema_violation",
        }
    }
}

struct Compiled {
    validator: jsonschema::Validator,
    /// `{provider}/{event_type}.json`, as reported in the envelope and errors.
    name: Arc<str>,
}

/// Every compiled schema, by provider then event type.
#[derive(Default)]
pub struct SchemaRegistry {
    by_provider: HashMap<String, HashMap<String, Compiled>>,
}

impl std::fmt::Debug for SchemaRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaRegistry")
            .field("schemas", &self.len())
            .finish()
    }
}

impl SchemaRegistry {
    /// Loads and compiles every `{provider}/{event_type}.json` under `dir`.
    pub fn load(dir: &Path) -> Result<Self, SchemaLoadError> {
        let dir_err = |path: &Path| {
            let path = path.to_owned();
            move |source| SchemaLoadError::Dir { path, source }
        };
        let mut registry = SchemaRegistry::default();
        let mut providers: Vec<_> = std::fs::read_dir(dir)
            .map_err(dir_err(dir))?
            .collect::<Result<_, _>>()
            .map_err(dir_err(dir))?;
        providers.sort_by_key(|e| e.file_name());
        for provider in providers {
            let provider_dir = provider.path();
            if !provider_dir.is_dir() {
                continue;
            }
            let provider_name = provider.file_name().to_string_lossy().into_owned();
            let mut files: Vec<_> = std::fs::read_dir(&provider_dir)
                .map_err(dir_err(&provider_dir))?
                .collect::<Result<_, _>>()
                .map_err(dir_err(&provider_dir))?;
            files.sort_by_key(|e| e.file_name());
            for file in files {
                let path = file.path();
                if path.extension().and_then(|e| e.to_str()) != Some("json") {
                    continue;
                }
                let Some(event_type) = path.file_stem().and_then(|s| s.to_str()) else {
                    continue;
                };
                let compiled = compile(&path, &format!("{provider_name}/{event_type}.json"))?;
                registry
                    .by_provider
                    .entry(provider_name.clone())
                    .or_default()
                    .insert(event_type.to_owned(), compiled);
            }
        }
        Ok(registry)
    }

    /// Number of compiled schemas.
    pub fn len(&self) -> usize {
        self.by_provider.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Validates `payload`; returns the name of the schema that accepted it, or `None` when
    /// there is no schema and the source accepts that.
    pub fn check(
        &self,
        provider: &str,
        event_type: &str,
        payload: &Value,
        on_missing: MissingSchema,
    ) -> Result<Option<Arc<str>>, SchemaError> {
        let Some(compiled) = self
            .by_provider
            .get(provider)
            .and_then(|m| m.get(event_type))
        else {
            return match on_missing {
                MissingSchema::Accept => Ok(None),
                MissingSchema::Reject => Err(SchemaError::Missing {
                    provider: provider.to_owned(),
                    event_type: event_type.to_owned(),
                }),
            };
        };
        if compiled.validator.is_valid(payload) {
            return Ok(Some(compiled.name.clone()));
        }
        let violations = compiled
            .validator
            .iter_errors(payload)
            .take(MAX_REPORTED_VIOLATIONS)
            .map(|e| {
                let at = e.instance_path().to_string();
                Violation {
                    instance_path: if at.is_empty() { "/".to_owned() } else { at },
                    schema_path: e.schema_path().to_string(),
                    message: e.masked().to_string(),
                }
            })
            .collect();
        Err(SchemaError::Violation {
            schema: compiled.name.clone(),
            violations,
        })
    }
}

fn compile(path: &Path, name: &str) -> Result<Compiled, SchemaLoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| SchemaLoadError::Read {
        path: path.to_owned(),
        source,
    })?;
    let schema: Value = serde_json::from_str(&text).map_err(|source| SchemaLoadError::Json {
        path: path.to_owned(),
        source,
    })?;
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| SchemaLoadError::Invalid {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    Ok(Compiled {
        validator,
        name: name.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn registry_with(files: &[(&str, &str)]) -> Result<SchemaRegistry, SchemaLoadError> {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, text) in files {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
            std::fs::write(full, text).expect("write");
        }
        SchemaRegistry::load(dir.path())
    }

    const PUSH: &str =
        r#"{"type":"object","required":["ref"],"properties":{"ref":{"type":"string"}}}"#;

    #[test]
    fn valid_payload_names_its_schema() {
        let r = registry_with(&[("github/push.json", PUSH)]).expect("load");
        assert_eq!(r.len(), 1);
        let got = r.check(
            "github",
            "push",
            &json!({"ref": "main"}),
            MissingSchema::Reject,
        );
        assert_eq!(got.expect("valid").as_deref(), Some("github/push.json"));
    }

    #[test]
    fn violations_name_the_location_but_not_the_value() {
        let r = registry_with(&[("github/push.json", PUSH)]).expect("load");
        let err = r
            .check(
                "github",
                "push",
                &json!({"ref": 12345678}),
                MissingSchema::Accept,
            )
            .expect_err("invalid");
        assert_eq!(err.code(), "schema_violation");
        let text = err.to_string();
        assert!(text.contains("at /ref"), "{text}");
        assert!(!text.contains("12345678"), "payload value leaked: {text}");
    }

    #[test]
    fn missing_schema_follows_the_source_policy() {
        let r = registry_with(&[]).expect("load");
        assert!(r
            .check("x", "y", &json!({}), MissingSchema::Accept)
            .expect("ok")
            .is_none());
        let err = r
            .check("x", "y", &json!({}), MissingSchema::Reject)
            .expect_err("reject");
        assert_eq!(err.code(), "no_schema");
    }

    #[test]
    fn broken_schema_files_are_named() {
        let err = registry_with(&[("acme/a.json", "{not json")]).expect_err("error");
        assert!(err.to_string().contains("acme/a.json"), "{err}");
        assert!(err.to_string().contains("not valid JSON"), "{err}");
        let err = registry_with(&[("acme/b.json", r#"{"type": 12}"#)]).expect_err("error");
        assert!(err.to_string().contains("not a valid JSON Schema"), "{err}");
    }

    #[test]
    fn missing_directory_is_an_error() {
        let err = SchemaRegistry::load(Path::new("/nonexistent/schemas")).expect_err("error");
        assert!(err.to_string().contains("/nonexistent/schemas"));
    }

    #[test]
    fn shipped_schemas_compile() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        let r = SchemaRegistry::load(&dir).expect("schemas/ must compile");
        assert!(!r.is_empty());
    }
}
