//! Schemas: the per-event JSON Schemas (draft 2020-12), compiled once at start-up.
//!
//! Owns: `schemas/{provider}/{event_type}.json` on disk and the [`SchemaRegistry`] built from
//! it. Event types with `/` (Shopify's `orders/create`) live in subfolders
//! (`shopify/orders/create.json`). Files and folders whose name starts with `_` hold shared
//! definitions, not events; schemas reach them with relative `$ref`s (`_defs.json#/$defs/user`,
//! `../_common/money.json`), resolved from the schemas directory only, never from the network.
//! One of them is special: `{provider}/_envelope.json`, when present, validates every event
//! type of that provider that has no schema of its own (the provider's common wrapper).
//! A schema file that is not valid JSON or not a valid schema stops start-up with its path.
//! Validation messages are "masked": they name the failing location and rule, never the
//! payload's values, so they are safe to return and to log.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::base::json::{Document, Sonic};
use serde::Deserialize;

/// The schema of a provider's common wrapper, for event types without their own.
const ENVELOPE_FILE: &str = "_envelope.json";

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
    validator: jsonschema::Validator<Sonic>,
    /// `{provider}/{event_type}.json`, as reported in the envelope and errors.
    name: Arc<str>,
}

/// Every compiled schema, by provider then event type.
#[derive(Default)]
pub struct SchemaRegistry {
    by_provider: HashMap<String, HashMap<String, Compiled>>,
    /// `{provider}/_envelope.json`: for event types without their own schema.
    envelopes: HashMap<String, Compiled>,
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
        let root = dir.canonicalize().map_err(dir_err(dir))?;
        let mut registry = SchemaRegistry::default();
        for provider in sorted_entries(&root).map_err(dir_err(&root))? {
            let name = provider.file_name().to_string_lossy().into_owned();
            if !provider.path().is_dir() || name.starts_with('_') {
                continue;
            }
            let envelope = provider.path().join(ENVELOPE_FILE);
            if envelope.is_file() {
                let compiled = compile(&root, &envelope, &format!("{name}/{ENVELOPE_FILE}"))?;
                registry.envelopes.insert(name.clone(), compiled);
            }
            let mut files = Vec::new();
            collect_event_files(&provider.path(), "", &mut files)
                .map_err(dir_err(&provider.path()))?;
            for (event_type, path) in files {
                let compiled = compile(&root, &path, &format!("{name}/{event_type}.json"))?;
                registry
                    .by_provider
                    .entry(name.clone())
                    .or_default()
                    .insert(event_type, compiled);
            }
        }
        Ok(registry)
    }

    /// Number of compiled schemas (event schemas and provider envelopes).
    pub fn len(&self) -> usize {
        self.by_provider.values().map(HashMap::len).sum::<usize>() + self.envelopes.len()
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
        payload: &Document,
        on_missing: MissingSchema,
    ) -> Result<Option<Arc<str>>, SchemaError> {
        let Some(compiled) = self
            .by_provider
            .get(provider)
            .and_then(|m| m.get(event_type))
            .or_else(|| self.envelopes.get(provider))
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

/// Directory entries sorted by name, for a deterministic load order.
fn sorted_entries(dir: &Path) -> std::io::Result<Vec<std::fs::DirEntry>> {
    let mut entries = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    Ok(entries)
}

/// `(event_type, path)` of every event schema under `dir`; subfolders add `/`-separated
/// segments; names starting with `_` are shared definitions and skipped.
fn collect_event_files(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<(String, PathBuf)>,
) -> std::io::Result<()> {
    for entry in sorted_entries(dir)? {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('_') {
            continue;
        }
        if path.is_dir() {
            collect_event_files(&path, &format!("{prefix}{name}/"), out)?;
        } else if let Some(stem) = name.strip_suffix(".json") {
            out.push((format!("{prefix}{stem}"), path));
        }
    }
    Ok(())
}

/// Resolves `$ref`s to files inside the schemas directory; refuses everything else (no
/// network, no files elsewhere).
struct LocalFiles {
    root: PathBuf,
}

impl jsonschema::Retrieve for LocalFiles {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let outside =
            || format!("`{uri}`: only files inside the schemas directory can be referenced");
        let path = url::Url::parse(uri.as_str())
            .ok()
            .filter(|u| u.scheme() == "file")
            .and_then(|u| u.to_file_path().ok())
            .ok_or_else(outside)?;
        let path = path.canonicalize().map_err(|e| format!("`{uri}`: {e}"))?;
        if !path.starts_with(&self.root) {
            return Err(format!("`{uri}` is outside the schemas directory").into());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| format!("`{uri}`: {e}"))?;
        Ok(serde_json::from_str(&text).map_err(|e| format!("`{uri}`: {e}"))?)
    }
}

fn compile(root: &Path, path: &Path, name: &str) -> Result<Compiled, SchemaLoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| SchemaLoadError::Read {
        path: path.to_owned(),
        source,
    })?;
    let schema: Value = serde_json::from_str(&text).map_err(|source| SchemaLoadError::Json {
        path: path.to_owned(),
        source,
    })?;
    let validator = jsonschema::options_for::<Sonic>()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .with_base_uri(
            url::Url::from_file_path(path)
                .map(String::from)
                .map_err(|()| SchemaLoadError::Invalid {
                    path: path.to_owned(),
                    reason: "the path cannot be written as a file URI".to_owned(),
                })?,
        )
        .with_retriever(LocalFiles {
            root: root.to_owned(),
        })
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
    use crate::base::json::doc;
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
            &doc(json!({"ref": "main"})),
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
                &doc(json!({"ref": 12345678})),
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
            .check("x", "y", &doc(json!({})), MissingSchema::Accept)
            .expect("ok")
            .is_none());
        let err = r
            .check("x", "y", &doc(json!({})), MissingSchema::Reject)
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

    #[test]
    fn shared_definitions_are_reached_by_relative_refs_and_subfolders_make_event_types() {
        let registry = registry_with(&[
            (
                "_common/money.json",
                r#"{"$defs":{"amount":{"type":"integer","minimum":0}}}"#,
            ),
            (
                "shop/_defs.json",
                r#"{"$defs":{"order":{"type":"object","required":["id","total"],"properties":{"total":{"$ref":"../_common/money.json#/$defs/amount"}}}}}"#,
            ),
            ("shop/orders/create.json", r#"{"$ref":"../_defs.json#/$defs/order"}"#),
        ])
        .expect("load");
        assert_eq!(registry.len(), 1, "shared files are not event schemas");
        let ok = registry.check(
            "shop",
            "orders/create",
            &doc(json!({"id": 1, "total": 5})),
            MissingSchema::Reject,
        );
        assert_eq!(
            ok.expect("valid").as_deref(),
            Some("shop/orders/create.json")
        );
        let bad = registry
            .check(
                "shop",
                "orders/create",
                &doc(json!({"id": 1, "total": -5})),
                MissingSchema::Reject,
            )
            .expect_err("negative total");
        assert_eq!(bad.code(), "schema_violation");
    }

    #[test]
    fn references_outside_the_schemas_directory_are_refused() {
        for reference in [
            "https://example.com/schema.json",
            "../../outside.json",
            "file:///etc/hostname",
        ] {
            let schema = format!(r#"{{"$ref":"{reference}"}}"#);
            let err = registry_with(&[("p/e.json", &schema)]).expect_err(reference);
            assert!(
                matches!(err, SchemaLoadError::Invalid { .. }),
                "{reference}: {err}"
            );
        }
    }

    #[test]
    fn a_provider_envelope_covers_event_types_without_their_own_schema() {
        let registry = registry_with(&[
            (
                "svc/_envelope.json",
                r#"{"type":"object","required":["type","data"]}"#,
            ),
            (
                "svc/special.json",
                r#"{"type":"object","required":["special"]}"#,
            ),
        ])
        .expect("load");
        let any = registry.check(
            "svc",
            "anything.else",
            &doc(json!({"type": "anything.else", "data": {}})),
            MissingSchema::Reject,
        );
        assert_eq!(any.expect("valid").as_deref(), Some("svc/_envelope.json"));
        let bad = registry
            .check(
                "svc",
                "anything.else",
                &doc(json!({"type": "x"})),
                MissingSchema::Reject,
            )
            .expect_err("no data");
        assert_eq!(bad.code(), "schema_violation");
        // An event's own schema wins over the envelope.
        let own = registry.check(
            "svc",
            "special",
            &doc(json!({"special": 1})),
            MissingSchema::Reject,
        );
        assert_eq!(own.expect("valid").as_deref(), Some("svc/special.json"));
    }
}

/// `[schemas]`: where the per-event JSON Schemas live.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemasConfig {
    /// Directory holding `{provider}/{event_type}.json`. Relative paths are taken from the
    /// working directory.
    #[serde(default = "SchemasConfig::default_dir")]
    pub dir: PathBuf,
}

impl SchemasConfig {
    fn default_dir() -> PathBuf {
        PathBuf::from("schemas")
    }
}

impl Default for SchemasConfig {
    fn default() -> Self {
        SchemasConfig {
            dir: Self::default_dir(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingSchema {
    /// Publish events whose type has no schema file (they are marked `"schema": null`).
    #[default]
    Accept,
    /// Answer 422 `no_schema`.
    Reject,
}
