//! The local store: every record in one JSON file, `{path}/webhooks.json`, replaced atomically
//! on each change (write a temporary file, fsync it, rename it over the old one, fsync the
//! directory), so a crash leaves either the old file or the new one, never half of one.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Record, StoreError};

const FILE: &str = "webhooks.json";
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    webhooks: Vec<Record>,
}

/// One gateway's store of API-created sources.
#[derive(Debug)]
pub struct LocalStore {
    file: PathBuf,
}

impl LocalStore {
    /// Opens (creating the directory if needed) and loads the records.
    pub fn open(dir: &Path) -> Result<(Self, BTreeMap<String, Record>), StoreError> {
        let shown = dir.display().to_string();
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Write {
            path: shown.clone(),
            source,
        })?;
        let file = dir.join(FILE);
        // A temporary file left by a crash mid-write is not the store; the renamed file is.
        let _ = std::fs::remove_file(file.with_extension("json.tmp"));
        let records = match std::fs::read(&file) {
            Ok(bytes) => {
                let snapshot: Snapshot =
                    serde_json::from_slice(&bytes).map_err(|e| StoreError::Read {
                        path: file.display().to_string(),
                        reason: e.to_string(),
                    })?;
                if snapshot.format != FORMAT {
                    return Err(StoreError::Read {
                        path: file.display().to_string(),
                        reason: format!(
                            "format {} is not one this version reads ({FORMAT})",
                            snapshot.format
                        ),
                    });
                }
                snapshot
                    .webhooks
                    .into_iter()
                    .map(|r| (r.id.clone(), r))
                    .collect()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => {
                return Err(StoreError::Read {
                    path: file.display().to_string(),
                    reason: e.to_string(),
                })
            }
        };
        Ok((LocalStore { file }, records))
    }

    /// Replaces the file with `records`, durably.
    pub async fn save(&self, records: &BTreeMap<String, Record>) -> Result<(), StoreError> {
        let snapshot = Snapshot {
            format: FORMAT,
            webhooks: records.values().cloned().collect(),
        };
        let file = self.file.clone();
        let written = tokio::task::spawn_blocking(move || write_atomically(&file, &snapshot)).await;
        match written {
            Ok(result) => result.map_err(|source| StoreError::Write {
                path: self.file.display().to_string(),
                source,
            }),
            Err(e) => Err(StoreError::Write {
                path: self.file.display().to_string(),
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }
}

fn write_atomically(file: &Path, snapshot: &Snapshot) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(snapshot).map_err(std::io::Error::other)?;
    let tmp = file.with_extension("json.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, file)?;
    if let Some(dir) = file.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{SecretOrigin, StoredSecret};
    use super::*;

    fn record(id: &str) -> Record {
        Record {
            id: id.to_owned(),
            name: "n".to_owned(),
            description: String::new(),
            provider: "github".to_owned(),
            events: vec!["*".to_owned()],
            options: serde_json::Map::new(),
            secret_origin: SecretOrigin::Generated,
            secrets: vec![StoredSecret {
                sealed: "v1:x".to_owned(),
                expires_at: None,
            }],
            created_at: "2026-11-23T00:00:00Z".to_owned(),
            updated_at: "2026-11-23T00:00:00Z".to_owned(),
            updated_by: "ci".to_owned(),
            revision: 1,
        }
    }

    #[tokio::test]
    async fn records_survive_a_reopen_and_a_leftover_temporary_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let (store, loaded) = LocalStore::open(dir.path()).unwrap();
        assert!(loaded.is_empty());
        let mut records = BTreeMap::new();
        records.insert("wh_a".to_owned(), record("wh_a"));
        records.insert("wh_b".to_owned(), record("wh_b"));
        store.save(&records).await.unwrap();
        // A crash in the middle of a later write leaves only a temporary file behind.
        std::fs::write(
            dir.path().join("webhooks.json.tmp"),
            b"{\"format\": 1, \"webh",
        )
        .unwrap();
        let (_, loaded) = LocalStore::open(dir.path()).unwrap();
        assert_eq!(loaded.keys().collect::<Vec<_>>(), ["wh_a", "wh_b"]);
        assert!(!dir.path().join("webhooks.json.tmp").exists());
    }

    #[test]
    fn a_damaged_file_stops_start_up_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("webhooks.json"), b"not json").unwrap();
        let err = LocalStore::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("webhooks.json"), "{err}");
    }
}
