//! Deduplication: providers redeliver; a delivery whose (source, delivery id) was already
//! accepted within the window is answered as a duplicate and not published again.
//!
//! Owns: the bounded table of recently accepted deliveries and its journal. Memory is bounded
//! by `capacity` entries (oldest evicted first) and by the time window. With a journal path,
//! each accepted delivery is appended as one JSON line before the provider is answered, and the
//! journal is read back (and compacted) at start-up, and compacted again by [`Dedup::maintain`]
//! whenever more than `capacity` lines were appended, so a restart does not turn redeliveries
//! into duplicates on Kafka. Lines that cannot be parsed (a torn tail after a crash) are skipped
//! with a log line. The journal is written, not fsynced, per delivery: it survives a gateway
//! crash; a machine crash may lose its last lines (then at-least-once still holds).
//!
//! A delivery being processed is "pending": a concurrent copy gets `InFlight` (the caller
//! answers 503 so the provider retries) rather than "duplicate", since the first attempt may
//! still fail.
//!
//! The table keeps a 128-bit keyed hash (SipHash-1-3, key drawn at start-up) of source and
//! delivery id, not the text: about 70 bytes per remembered delivery, with no allocation per
//! webhook, and the table is sized for `capacity` once. Two different deliveries would have to
//! share all 128 bits to be confused (about one chance in 10^28 with a full table). Compaction
//! rewrites the journal from its own lines, keeping those the table still holds.

use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum DedupError {
    #[error("dedup journal {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the system's random source failed (needed for the dedup table's hash key)")]
    Random,
}

/// What a delivery is, as far as dedup knows.
#[derive(Debug)]
pub enum Check<'a> {
    /// Not seen: process it, then [`Guard::commit`].
    New(Guard<'a>),
    /// Accepted before, as envelope `id`.
    Duplicate { id: Uuid },
    /// Another copy is being processed right now.
    InFlight,
}

/// A remembered delivery: its envelope id once accepted, and when (`Pending` while processed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Pending,
    Done { id: Uuid, at_ms: i64 },
}

/// The keyed hash of (source, delivery id); two halves rather than a `u128`, whose 16-byte
/// alignment would pad every slot of the eviction order.
type Key = [u64; 2];

#[derive(Debug, Default)]
struct Table {
    entries: HashMap<Key, Entry>,
    /// Accepted keys in acceptance order, for eviction.
    order: VecDeque<(Key, i64)>,
}

/// One journal line.
#[derive(Debug, Serialize, Deserialize)]
struct Line {
    source: String,
    delivery_id: String,
    id: Uuid,
    at_ms: i64,
}

pub struct Dedup {
    table: Mutex<Table>,
    /// The key of [`Dedup::key`]'s hash, drawn at start-up.
    hash_key: [u64; 2],
    window_ms: i64,
    capacity: usize,
    journal: Option<Journal>,
}

/// The journal file being appended to, and how much was appended since it was last compacted.
struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    appended: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for Dedup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dedup")
            .field("window_ms", &self.window_ms)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Dedup {
    /// A table kept for `window_secs`, at most `capacity` entries; with `journal`, loaded from
    /// and appended to that file.
    pub fn open(
        window_secs: u64,
        capacity: usize,
        journal: Option<&Path>,
        now_ms: i64,
    ) -> Result<Self, DedupError> {
        let window_ms = i64::try_from(window_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let mut seed = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed)
            .map_err(|_| DedupError::Random)?;
        let seed = u128::from_le_bytes(seed);
        // Sized once: growing a table of this size would hold two copies for a moment.
        let table = Table {
            entries: HashMap::with_capacity(capacity.saturating_add(1)),
            order: VecDeque::with_capacity(capacity.saturating_add(1)),
        };
        let mut dedup = Dedup {
            table: Mutex::new(table),
            hash_key: [seed as u64, (seed >> 64) as u64],
            window_ms,
            capacity,
            journal: None,
        };
        if let Some(path) = journal {
            let io = |source| DedupError::Io {
                path: path.to_owned(),
                source,
            };
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            let lines = read_journal(path).map_err(io)?;
            {
                let mut table = dedup.lock();
                for line in lines.into_iter().filter(|l| now_ms - l.at_ms <= window_ms) {
                    let k = dedup.key(&line.source, &line.delivery_id);
                    table.entries.insert(
                        k,
                        Entry::Done {
                            id: line.id,
                            at_ms: line.at_ms,
                        },
                    );
                    table.order.push_back((k, line.at_ms));
                    dedup.evict(&mut table, now_ms);
                }
            }
            dedup.compact(path).map_err(io)?;
            let file = OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
                .map_err(io)?;
            dedup.journal = Some(Journal {
                path: path.to_owned(),
                file: Mutex::new(file),
                appended: std::sync::atomic::AtomicUsize::new(0),
            });
        }
        Ok(dedup)
    }

    /// Compacts the journal once more lines were appended since the last compaction than the
    /// table holds at most (`capacity`), so the file stays under about twice the live entries
    /// however long the gateway runs. Meant for a background task; appends wait while it runs.
    /// Returns whether it compacted.
    pub fn maintain(&self) -> Result<bool, DedupError> {
        let Some(journal) = &self.journal else {
            return Ok(false);
        };
        if journal.appended.load(std::sync::atomic::Ordering::Relaxed) <= self.capacity {
            return Ok(false);
        }
        let io = |source| DedupError::Io {
            path: journal.path.clone(),
            source,
        };
        // Appends hold this lock until their entry is in the table, so the rewrite below
        // sees every line written so far.
        let mut file = journal.file.lock().unwrap_or_else(|e| e.into_inner());
        self.compact(&journal.path).map_err(io)?;
        *file = OpenOptions::new()
            .append(true)
            .open(&journal.path)
            .map_err(io)?;
        journal
            .appended
            .store(0, std::sync::atomic::Ordering::Relaxed);
        Ok(true)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic while holding the lock leaves a consistent table (every update is one
        // statement), so a poisoned lock is still usable.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of remembered deliveries.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Looks up (and, if new, reserves) a delivery.
    pub fn check(&self, source: &str, delivery_id: &str, now_ms: i64) -> Check<'_> {
        let k = self.key(source, delivery_id);
        let mut table = self.lock();
        match table.entries.get(&k) {
            Some(Entry::Pending) => Check::InFlight,
            Some(Entry::Done { id, at_ms }) if now_ms - at_ms <= self.window_ms => {
                Check::Duplicate { id: *id }
            }
            _ => {
                table.entries.insert(k, Entry::Pending);
                Check::New(Guard {
                    dedup: self,
                    key: Some(k),
                    // Only the journal needs the text.
                    names: self
                        .journal
                        .is_some()
                        .then(|| (source.to_owned(), delivery_id.to_owned())),
                })
            }
        }
    }

    /// The table's key for a delivery: SipHash-1-3 (128 bits) of the source name, a NUL and
    /// the delivery id, keyed with [`Dedup::hash_key`].
    fn key(&self, source: &str, delivery_id: &str) -> Key {
        use siphasher::sip128::Hasher128 as _;
        use std::hash::Hasher as _;
        let mut hasher =
            siphasher::sip128::SipHasher13::new_with_keys(self.hash_key[0], self.hash_key[1]);
        hasher.write(source.as_bytes());
        hasher.write(&[0]);
        hasher.write(delivery_id.as_bytes());
        let hash = hasher.finish128();
        [hash.h1, hash.h2]
    }

    fn evict(&self, table: &mut Table, now_ms: i64) {
        while let Some((k, at)) = table.order.front() {
            let expired = now_ms - at > self.window_ms;
            if !expired && table.order.len() <= self.capacity {
                break;
            }
            let (k, at) = (*k, *at);
            table.order.pop_front();
            // Only drop the entry this order slot stands for (a newer one may share the key).
            if matches!(table.entries.get(&k), Some(Entry::Done { at_ms, .. }) if *at_ms == at) {
                table.entries.remove(&k);
            }
        }
    }

    /// Rewrites the journal with only the lines of the entries the table still holds (write
    /// to a temp file, then rename). Every entry came from a line of this file (loaded at
    /// start-up, or appended since), so none is lost.
    fn compact(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("compacting");
        {
            let mut out = std::io::BufWriter::new(File::create(&tmp)?);
            let table = self.lock();
            let mut written = std::collections::HashSet::new();
            // Streamed: the journal may hold twice `capacity` lines.
            each_line(path, |line| {
                let k = self.key(&line.source, &line.delivery_id);
                let live = table.entries.get(&k)
                    == Some(&Entry::Done {
                        id: line.id,
                        at_ms: line.at_ms,
                    });
                if live && written.insert(k) {
                    serde_json::to_writer(&mut out, &line)?;
                    out.write_all(b"\n")?;
                }
                Ok(())
            })?;
            out.flush()?;
            out.get_ref().sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }
}

fn read_journal(path: &Path) -> std::io::Result<Vec<Line>> {
    let mut lines = Vec::new();
    each_line(path, |l| {
        lines.push(l);
        Ok(())
    })?;
    Ok(lines)
}

/// Calls `f` with every readable line of the journal, one at a time (a missing file has none),
/// stopping at its first error; unreadable lines are counted in a log line.
fn each_line(path: &Path, mut f: impl FnMut(Line) -> std::io::Result<()>) -> std::io::Result<()> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut skipped = 0usize;
    for line in BufReader::new(file).split(b'\n') {
        match serde_json::from_slice::<Line>(&line?) {
            Ok(l) => f(l)?,
            Err(_) => skipped += 1,
        }
    }
    if skipped > 0 {
        tracing::warn!(path = %path.display(), skipped, "dedup journal: skipped unreadable lines (a torn write?)");
    }
    Ok(())
}

/// A reserved, new delivery. Dropping it without [`Guard::commit`] (the delivery failed)
/// frees the key so the provider's retry is processed.
#[derive(Debug)]
pub struct Guard<'a> {
    dedup: &'a Dedup,
    key: Option<Key>,
    /// Source and delivery id, for the journal line (`None` without a journal).
    names: Option<(String, String)>,
}

impl Guard<'_> {
    /// Records the delivery as accepted under envelope `id`.
    pub fn commit(mut self, id: Uuid, now_ms: i64) {
        let Some(k) = self.key.take() else {
            return;
        };
        // Held until the entry is in the table, so a compaction never misses this line.
        let _appending = match (&self.dedup.journal, self.names.take()) {
            (Some(journal), Some((source, delivery_id))) => {
                let line = Line {
                    source,
                    delivery_id,
                    id,
                    at_ms: now_ms,
                };
                let mut file = journal.file.lock().unwrap_or_else(|e| e.into_inner());
                if let Ok(mut text) = serde_json::to_vec(&line) {
                    text.push(b'\n');
                    if let Err(e) = file.write_all(&text) {
                        tracing::warn!(error = %e, "dedup journal write failed; this delivery is deduplicated in memory only");
                    }
                    journal
                        .appended
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Some(file)
            }
            _ => None,
        };
        let mut table = self.dedup.lock();
        table.entries.insert(k, Entry::Done { id, at_ms: now_ms });
        table.order.push_back((k, now_ms));
        self.dedup.evict(&mut table, now_ms);
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            let mut table = self.dedup.lock();
            if matches!(table.entries.get(&k), Some(Entry::Pending)) {
                table.entries.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn accept(d: &Dedup, source: &str, delivery: &str, n: u128, now: i64) {
        match d.check(source, delivery, now) {
            Check::New(g) => g.commit(id(n), now),
            other => panic!("{delivery} should be new: {other:?}"),
        }
    }

    #[test]
    fn redeliveries_within_the_window_are_duplicates() {
        let d = Dedup::open(60, 100, None, 0).expect("dedup");
        accept(&d, "gh", "d1", 1, 1_000);
        assert!(
            matches!(d.check("gh", "d1", 30_000), Check::Duplicate { id } if id == self::id(1))
        );
        // Another source, same id: not a duplicate.
        assert!(matches!(d.check("other", "d1", 30_000), Check::New(_)));
        // After the window: new again.
        assert!(matches!(d.check("gh", "d1", 62_000), Check::New(_)));
    }

    #[test]
    fn a_copy_arriving_while_the_first_is_processed_is_in_flight() {
        let d = Dedup::open(60, 100, None, 0).expect("dedup");
        let first = d.check("gh", "d1", 0);
        assert!(matches!(d.check("gh", "d1", 0), Check::InFlight));
        // The first attempt fails: the retry is processed.
        drop(first);
        assert!(matches!(d.check("gh", "d1", 0), Check::New(_)));
    }

    #[test]
    fn capacity_bounds_memory_oldest_first() {
        let d = Dedup::open(3600, 3, None, 0).expect("dedup");
        for n in 0..5 {
            accept(&d, "gh", &format!("d{n}"), n, 1_000 + n as i64);
        }
        assert_eq!(d.len(), 3);
        assert!(matches!(d.check("gh", "d0", 2_000), Check::New(_)));
        assert!(matches!(
            d.check("gh", "d4", 2_000),
            Check::Duplicate { .. }
        ));
    }

    #[test]
    fn the_journal_survives_a_restart_and_skips_a_torn_tail() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state/dedup.jsonl");
        {
            let d = Dedup::open(60, 100, Some(&path), 0).expect("dedup");
            accept(&d, "gh", "d1", 1, 1_000);
            accept(&d, "gh", "d2", 2, 2_000);
        }
        // A crash mid-write leaves half a line.
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(br#"{"source":"gh","delivery_id":"d3","id":"#)
            .expect("torn");
        drop(f);

        let d = Dedup::open(60, 100, Some(&path), 10_000).expect("reopen");
        assert!(
            matches!(d.check("gh", "d1", 10_000), Check::Duplicate { id } if id == self::id(1))
        );
        assert!(matches!(
            d.check("gh", "d2", 10_000),
            Check::Duplicate { .. }
        ));
        assert!(matches!(d.check("gh", "d3", 10_000), Check::New(_)));

        // Entries past the window are dropped by the compaction at start-up.
        drop(d);
        let d = Dedup::open(60, 100, Some(&path), 61_500).expect("reopen");
        assert_eq!(d.len(), 1, "only d2 is still in the window");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.lines().count(), 1, "{text}");
    }

    #[test]
    fn a_long_run_keeps_the_journal_near_the_live_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dedup.jsonl");
        let d = Dedup::open(3600, 10, Some(&path), 0).expect("dedup");
        let lines = || {
            std::fs::read_to_string(&path)
                .expect("read")
                .lines()
                .count()
        };
        for n in 0..10 {
            accept(&d, "gh", &format!("d{n}"), n, 1_000 + n as i64);
        }
        assert!(
            !d.maintain().expect("maintain"),
            "not yet: 10 lines for 10 entries"
        );
        for n in 10..35 {
            accept(&d, "gh", &format!("d{n}"), n, 1_000 + n as i64);
        }
        assert_eq!(lines(), 35);
        assert!(d.maintain().expect("maintain"));
        assert_eq!(lines(), 10, "only the live entries (capacity 10) stay");
        // Appends go on in the new file, and a restart still knows the recent deliveries.
        accept(&d, "gh", "d35", 35, 2_000);
        assert_eq!(lines(), 11);
        drop(d);
        let d = Dedup::open(3600, 10, Some(&path), 3_000).expect("reopen");
        assert!(matches!(
            d.check("gh", "d35", 3_000),
            Check::Duplicate { .. }
        ));
        assert!(matches!(
            d.check("gh", "d34", 3_000),
            Check::Duplicate { .. }
        ));
        assert!(matches!(d.check("gh", "d0", 3_000), Check::New(_)));
    }
}
