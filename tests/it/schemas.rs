//! Every shipped schema compiles and accepts its fixture: `schemas/{provider}/{event}.json` has
//! a sample payload at `tests/fixtures/{provider}/{event}.json` (a provider's `_envelope.json`
//! at `tests/fixtures/{provider}/_envelope.json`), and every fixture in a provider folder is
//! valid against the schema the gateway would use for it.

use std::path::{Path, PathBuf};

use hookgate::ingest::schema::MissingSchema;
use hookgate::ingest::schema::SchemaRegistry;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `(relative path without .json, path)` of every `.json` file under `dir`, recursively.
fn json_files(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry"))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, &format!("{prefix}{name}/"), out);
        } else if let Some(stem) = name.strip_suffix(".json") {
            out.push((format!("{prefix}{stem}"), path));
        }
    }
}

#[test]
fn every_schema_compiles_and_accepts_its_fixture() {
    let registry = SchemaRegistry::load(&repo("schemas")).expect("every schema compiles");
    let mut schemas = Vec::new();
    json_files(&repo("schemas"), "", &mut schemas);
    let mut missing = Vec::new();
    for (rel, _) in &schemas {
        let (provider, event) = rel.split_once('/').unwrap_or(("", rel));
        let is_event = !event.split('/').any(|seg| seg.starts_with('_'));
        if provider.starts_with('_') || !(is_event || event == "_envelope") {
            continue;
        }
        if !repo(&format!("tests/fixtures/{rel}.json")).is_file() {
            missing.push(format!("tests/fixtures/{rel}.json"));
        }
    }
    assert!(
        missing.is_empty(),
        "schemas without a fixture: {missing:#?}"
    );

    let mut fixtures = Vec::new();
    for entry in std::fs::read_dir(repo("tests/fixtures")).expect("fixtures") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            let provider = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let mut files = Vec::new();
            json_files(&path, "", &mut files);
            fixtures.extend(files.into_iter().map(|(e, p)| (provider.clone(), e, p)));
        }
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for (provider, event, path) in &fixtures {
        let text = std::fs::read_to_string(path).expect("read");
        let payload =
            hookgate::base::json::parse(text.as_bytes(), hookgate::base::json::DEFAULT_MAX_DEPTH)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        // `_envelope` fixtures stand for an event type with no schema of its own.
        let event_type = if event == "_envelope" {
            "hookgate.test.unschematized"
        } else {
            event
        };
        match registry.check(provider, event_type, &payload, MissingSchema::Reject) {
            Ok(_) => checked += 1,
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(failures.is_empty(), "fixtures refused: {failures:#?}");
    println!(
        "{checked} fixtures valid against {} schemas",
        registry.len()
    );
}
