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
//! delivery id, not the text: about 50 bytes per remembered delivery (a 40-byte ring slot and
//! an index sized for twice `capacity`, which therefore never grows), with no allocation per
//! webhook. Two different deliveries would have to share all 128 bits to be confused (about
//! one chance in 10^28 with a full table). Compaction rewrites the journal from its own lines,
//! keeping those the table still holds.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hashbrown::HashTable;
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

/// The keyed hash of (source, delivery id); two halves rather than a `u128`, whose 16-byte
/// alignment would pad every slot.
type Key = [u64; 2];

/// One accepted delivery: its key, envelope id and acceptance time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    key: Key,
    id: Uuid,
    at_ms: i64,
}

/// The remembered deliveries. Accepted ones live in `ring` in acceptance order (the oldest is
/// evicted first); `index` maps a key to its newest slot by sequence number; `pending` holds
/// the keys being processed right now (a few, one per request in flight).
///
/// Sizes are fixed at start-up: `ring` holds `capacity` slots (40 bytes each) and `index` has
/// room for twice that, so erased entries never make it grow (hashbrown rehashes in place when
/// at most half full) and it costs 5 bytes per bucket. Keys are already uniform random hashes,
/// so their first half is the index's hash.
#[derive(Debug)]
struct Table {
    ring: VecDeque<Slot>,
    /// Sequence number of `ring[0]`; slot `i` has sequence `front_seq + i` (wrapping: the ring
    /// never holds anywhere near 2^32 slots).
    front_seq: u32,
    index: HashTable<u32>,
    pending: HashTable<Key>,
}

impl Table {
    fn with_capacity(capacity: usize) -> Self {
        Table {
            ring: VecDeque::with_capacity(capacity),
            front_seq: 0,
            index: HashTable::with_capacity(capacity.saturating_mul(2)),
            pending: HashTable::new(),
        }
    }

    /// The newest accepted slot for `key`.
    fn get(&self, key: &Key) -> Option<&Slot> {
        let (ring, front) = (&self.ring, self.front_seq);
        self.index
            .find(key[0], |&seq| {
                slot_at(ring, front, seq).is_some_and(|s| s.key == *key)
            })
            .and_then(|&seq| slot_at(ring, front, seq))
    }

    fn is_pending(&self, key: &Key) -> bool {
        self.pending.find(key[0], |k| k == key).is_some()
    }

    fn set_pending(&mut self, key: Key) {
        self.pending.insert_unique(key[0], key, |k| k[0]);
    }

    fn clear_pending(&mut self, key: &Key) {
        if let Ok(entry) = self.pending.find_entry(key[0], |k| k == key) {
            entry.remove();
        }
    }

    /// Appends an accepted delivery, first evicting what is past the window or beyond
    /// `capacity` (oldest first).
    fn accept(&mut self, slot: Slot, now_ms: i64, window_ms: i64, capacity: usize) {
        while let Some(front) = self.ring.front() {
            let expired = now_ms - front.at_ms > window_ms;
            if !expired && self.ring.len() < capacity {
                break;
            }
            let (key, seq) = (front.key, self.front_seq);
            self.ring.pop_front();
            self.front_seq = seq.wrapping_add(1);
            // Only drop the index entry if it stands for this slot (a newer one may share
            // the key).
            if let Ok(entry) = self.index.find_entry(key[0], |&s| s == seq) {
                entry.remove();
            }
        }
        let seq = self.front_seq.wrapping_add(self.ring.len() as u32);
        self.ring.push_back(slot);
        let (ring, front) = (&self.ring, self.front_seq);
        match self.index.find_entry(slot.key[0], |&s| {
            slot_at(ring, front, s).is_some_and(|old| old.key == slot.key)
        }) {
            Ok(mut entry) => *entry.get_mut() = seq,
            Err(_) => {
                // Every sequence in the index has its slot in the ring (evictions remove them).
                self.index.insert_unique(slot.key[0], seq, |&s| {
                    slot_at(ring, front, s).map_or(0, |s| s.key[0])
                });
            }
        }
    }
}

/// The slot with sequence number `seq` in `ring`, whose first slot has sequence `front`.
fn slot_at(ring: &VecDeque<Slot>, front: u32, seq: u32) -> Option<&Slot> {
    ring.get(seq.wrapping_sub(front) as usize)
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
        let table = Table::with_capacity(capacity);
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
                    let slot = Slot {
                        key: dedup.key(&line.source, &line.delivery_id),
                        id: line.id,
                        at_ms: line.at_ms,
                    };
                    table.accept(slot, now_ms, window_ms, capacity);
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

    /// Number of remembered (accepted) deliveries.
    pub fn len(&self) -> usize {
        self.lock().index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Looks up (and, if new, reserves) a delivery.
    pub fn check(&self, source: &str, delivery_id: &str, now_ms: i64) -> Check<'_> {
        let k = self.key(source, delivery_id);
        let mut table = self.lock();
        if table.is_pending(&k) {
            return Check::InFlight;
        }
        match table.get(&k) {
            Some(slot) if now_ms - slot.at_ms <= self.window_ms => Check::Duplicate { id: slot.id },
            _ => {
                table.set_pending(k);
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
                let live = table.get(&k)
                    == Some(&Slot {
                        key: k,
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
        table.clear_pending(&k);
        let slot = Slot {
            key: k,
            id,
            at_ms: now_ms,
        };
        table.accept(slot, now_ms, self.dedup.window_ms, self.dedup.capacity);
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            self.dedup.lock().clear_pending(&k);
        }
    }
}

/// `[dedup]`: suppression of provider redeliveries by delivery id.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupConfig {
    #[serde(default = "crate::base::setting::default_true")]
    pub enabled: bool,
    /// How long an accepted delivery id is remembered.
    #[serde(default = "DedupConfig::default_window_secs")]
    pub window_secs: u64,
    /// Most delivery ids remembered (oldest forgotten first); about 150 bytes each.
    #[serde(default = "DedupConfig::default_capacity")]
    pub capacity: usize,
    /// Journal file, so a restart remembers; unset: memory only.
    pub journal: Option<PathBuf>,
    /// Where accepted deliveries are remembered: this process (`memory`) or a Redis server
    /// every replica shares (`redis`, see `ingest::dedup_redis`).
    #[serde(default)]
    pub backend: Backend,
    /// `redis`: the server's URL (`redis[s]://[user:password@]host:port[/db]`), a secret
    /// reference since it may hold a password; in `cluster` and `sentinel` mode a comma-separated
    /// list (seed nodes, or the sentinels).
    pub redis_url: Option<crate::base::setting::SecretRef>,
    /// `redis`: what `redis_url` points at (default `single`).
    pub redis_mode: Option<RedisMode>,
    /// `redis_mode = "sentinel"`: the name the sentinels monitor the master under.
    pub sentinel_master: Option<String>,
    /// `rediss://` URLs: PEM file of the CA(s) the server certificates are checked against
    /// (default: the system's trust store).
    pub redis_ca_file: Option<PathBuf>,
    /// `rediss://` URLs: PEM certificate chain this gateway presents (mutual TLS).
    pub redis_client_cert_file: Option<PathBuf>,
    /// `rediss://` URLs: PEM private key of `redis_client_cert_file`.
    pub redis_client_key_file: Option<PathBuf>,
    /// `redis`: prefix of every key (default `hookgate:dedup:`).
    pub key_prefix: Option<String>,
    /// `redis`: the most any Redis call may take, in milliseconds (default 200).
    pub timeout_ms: Option<u64>,
    /// `redis`: what a delivery gets when Redis cannot answer in time (default `accept`).
    pub on_unavailable: Option<OnUnavailable>,
}

/// `[dedup] backend`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    #[default]
    Memory,
    Redis,
}

/// `[dedup] redis_mode`: the Redis topology `redis_url` points at.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedisMode {
    /// One server (or a proxy in front of several): one URL.
    #[default]
    Single,
    /// Redis Cluster: the URLs are seed nodes; the client finds the others and follows
    /// `MOVED`/`ASK`.
    Cluster,
    /// Redis Sentinel: the URLs are sentinels, asked for the current master of
    /// `sentinel_master`.
    Sentinel,
}

/// `[dedup] on_unavailable`: what happens to a delivery when the shared backend cannot answer.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnUnavailable {
    /// Processed as new: at-least-once holds, a redelivery may be published twice.
    #[default]
    Accept,
    /// Answered 503 `dedup_unavailable`, so the provider retries later.
    Reject,
}

impl DedupConfig {
    /// A day: covers the retry schedules of most providers (Shopify 4 h, Svix ~27 h, Stripe's
    /// 3 days being the long exception).
    const fn default_window_secs() -> u64 {
        86_400
    }
    /// 200,000 ids ≈ 30 MB.
    const fn default_capacity() -> usize {
        200_000
    }
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            enabled: true,
            window_secs: Self::default_window_secs(),
            capacity: Self::default_capacity(),
            journal: None,
            backend: Backend::Memory,
            redis_url: None,
            redis_mode: None,
            sentinel_master: None,
            redis_ca_file: None,
            redis_client_cert_file: None,
            redis_client_key_file: None,
            key_prefix: None,
            timeout_ms: None,
            on_unavailable: None,
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
    fn churn_keeps_the_newest_entries_and_never_grows_the_table() {
        let cap = 1_000;
        let d = Dedup::open(3600, cap, None, 0).expect("dedup");
        let (ring, index) = {
            let t = d.lock();
            // The index's `capacity()` moves with its tombstones; its allocation does not
            // unless it is resized.
            (t.ring.capacity(), t.index.allocation_size())
        };
        for n in 0..20 * cap as u128 {
            accept(&d, "gh", &format!("d{n}"), n, 1_000);
        }
        assert_eq!(d.len(), cap);
        let last = 20 * cap as u128 - 1;
        assert!(
            matches!(d.check("gh", &format!("d{last}"), 2_000), Check::Duplicate { id } if id == self::id(last))
        );
        let oldest = last + 1 - cap as u128;
        assert!(matches!(
            d.check("gh", &format!("d{oldest}"), 2_000),
            Check::Duplicate { .. }
        ));
        assert!(matches!(
            d.check("gh", &format!("d{}", oldest - 1), 2_000),
            Check::New(_)
        ));
        let t = d.lock();
        assert_eq!(t.ring.capacity(), ring, "the ring was sized once");
        assert_eq!(t.index.allocation_size(), index, "the index was sized once");
    }

    #[test]
    fn a_delivery_accepted_again_after_the_window_is_remembered_by_its_newest_slot() {
        let d = Dedup::open(10, 3, None, 0).expect("dedup");
        accept(&d, "gh", "d1", 1, 0);
        // Past the window: new again, accepted as another event.
        accept(&d, "gh", "d1", 2, 20_000);
        assert!(
            matches!(d.check("gh", "d1", 21_000), Check::Duplicate { id } if id == self::id(2))
        );
        // Later evictions (capacity 3) keep it while it is among the newest.
        accept(&d, "gh", "d2", 3, 21_000);
        accept(&d, "gh", "d3", 4, 21_000);
        assert!(
            matches!(d.check("gh", "d1", 21_000), Check::Duplicate { id } if id == self::id(2))
        );
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn evicting_an_older_slot_of_a_key_keeps_the_newer_one() {
        // Two live slots for one key: a journal written under a shorter window, read back
        // under a longer one. Evicting the older slot must not forget the newer.
        let slot = |id: u128, at_ms| Slot {
            key: [7, 7],
            id: self::id(id),
            at_ms,
        };
        let mut t = Table::with_capacity(2);
        t.accept(slot(1, 0), 0, 3_600_000, 2);
        t.accept(slot(2, 1_000), 1_000, 3_600_000, 2);
        assert_eq!(t.get(&[7, 7]), Some(&slot(2, 1_000)));
        let other = Slot {
            key: [8, 8],
            id: self::id(3),
            at_ms: 2_000,
        };
        t.accept(other, 2_000, 3_600_000, 2);
        assert_eq!(t.ring.len(), 2, "the older slot of [7, 7] was evicted");
        assert_eq!(t.get(&[7, 7]), Some(&slot(2, 1_000)));
        assert_eq!(t.get(&[8, 8]), Some(&other));
        assert_eq!(t.index.len(), 2);
    }

    #[test]
    fn a_deeply_nested_journal_line_is_skipped_not_a_crash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dedup.jsonl");
        {
            let d = Dedup::open(60, 100, Some(&path), 0).expect("dedup");
            accept(&d, "gh", "d1", 1, 1_000);
        }
        let deep = format!("{}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(deep.as_bytes()).expect("deep line");
        drop(f);
        // serde_json's own nesting limit refuses the line; the journal goes on.
        let d = Dedup::open(60, 100, Some(&path), 10_000).expect("reopen");
        assert!(matches!(
            d.check("gh", "d1", 10_000),
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
