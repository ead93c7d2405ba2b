//! The spool: a local, append-only, checksummed log of records Kafka could not take in time.
//!
//! Owns: the files under `spool.dir` and the order in which spooled records reach Kafka. A
//! record is appended and fsynced before the provider is answered, so a 2xx survives a broker
//! outage and a gateway crash. A background drainer publishes records in order and moves a
//! persisted watermark past each acknowledged one; segments wholly below the watermark are
//! deleted. While anything is spooled, new records are spooled too, so order per key holds.
//!
//! File format, per record: magic `HKS1`, payload length (u32 LE), CRC-32 of the payload
//! (u32 LE), payload (JSON of [`SpooledRecord`]). A short or corrupt record at the end of a
//! segment (a crash mid-write) ends that segment's reading with a log line; it was never
//! acknowledged to anyone, since the fsync had not returned.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::base::metrics::SpoolDepth;

const MAGIC: &[u8; 4] = b"HKS1";
const HEADER_LEN: usize = 12;
/// A segment is closed and a new one started beyond this size.
const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
const WATERMARK_FILE: &str = "drained";
/// Records the drainer sends to Kafka at once; also the backlog at or below which new requests
/// wait for the drainer instead of joining the spool ([`Spool::wait_until_empty`]).
pub const DRAIN_BATCH: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the spool is full ({bytes} bytes, oldest record {oldest_age_secs} s old)")]
    Full { bytes: u64, oldest_age_secs: u64 },
}

impl SpoolError {
    pub fn code(&self) -> &'static str {
        match self {
            SpoolError::Io { .. } => "spool_unavailable",
            SpoolError::Full { .. } => "spool_full",
        }
    }
}

/// What is spooled for one event: everything needed to publish it later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpooledRecord {
    /// Position in the spool (assigned on append).
    pub seq: u64,
    pub topic: String,
    pub key: String,
    /// The envelope, as published.
    pub value: String,
    pub ce_id: String,
    pub ce_source: String,
    pub ce_type: String,
    pub ce_time: String,
    /// Absent in records spooled by versions before the CloudEvents format: JSON.
    #[serde(default)]
    pub content_type: Option<String>,
    pub spooled_at_ms: i64,
}

#[derive(Debug)]
struct Segment {
    path: PathBuf,
    /// Last seq written to this segment.
    last_seq: u64,
    bytes: u64,
}

#[derive(Debug)]
struct State {
    segments: VecDeque<Segment>,
    writer: Option<File>,
    next_seq: u64,
    /// Every seq up to and including this one reached Kafka.
    drained: u64,
    /// `spooled_at_ms` of records not yet drained, oldest first.
    pending_times: VecDeque<(u64, i64)>,
    bytes: u64,
    /// Where the next `peek` starts: the segment and offset just past the last drained record,
    /// so draining a long spool reads each record once, not the segment again from its start.
    cursor: Option<(PathBuf, u64)>,
    /// Records the last `peek` returned: seq, segment, offset just past the record.
    peeked: Vec<(u64, PathBuf, u64)>,
}

/// Limits of the spool.
#[derive(Debug, Clone, Copy)]
pub struct SpoolLimits {
    pub max_bytes: u64,
    pub max_age_secs: u64,
}

pub struct Spool {
    dir: PathBuf,
    limits: SpoolLimits,
    state: Mutex<State>,
    /// Wakes the drainer after an append.
    pub wake: tokio::sync::Notify,
    /// Wakes requests waiting for the spool to empty ([`Spool::wait_until_empty`]).
    emptied: tokio::sync::Notify,
    /// Whether the last send to Kafka worked: false from a request's failed publish or the
    /// drainer's failed batch until the drainer's next batch gets through.
    kafka_healthy: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Spool {
    /// Opens (or creates) the spool in `dir`, reading what an earlier run left.
    pub fn open(dir: &Path, limits: SpoolLimits) -> Result<Self, SpoolError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| SpoolError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let drained = read_watermark(&dir.join(WATERMARK_FILE)).map_err(io(dir))?;
        let mut names: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .filter_map(Result::ok)
            .filter_map(|e| {
                let path = e.path();
                let seq = path.file_stem()?.to_str()?.parse().ok()?;
                (path.extension()? == "spool").then_some((seq, path))
            })
            .collect();
        names.sort();
        let mut state = State {
            segments: VecDeque::new(),
            writer: None,
            next_seq: drained + 1,
            drained,
            pending_times: VecDeque::new(),
            bytes: 0,
            cursor: None,
            peeked: Vec::new(),
        };
        // Names (the first seq, zero-padded) order the segments; records carry their own seq.
        for (_, path) in names {
            let records = read_segment(&path).map_err(io(&path))?;
            let valid_len = records.last().map(|(_, end)| *end).unwrap_or(0);
            // Cut a torn tail so later appends follow a whole record.
            let file = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io(&path))?;
            file.set_len(valid_len).map_err(io(&path))?;
            let last_seq = records.last().map(|(r, _)| r.seq).unwrap_or(0);
            if records.is_empty() || last_seq <= drained {
                std::fs::remove_file(&path).map_err(io(&path))?;
                continue;
            }
            for (r, _) in &records {
                if r.seq > drained {
                    state.pending_times.push_back((r.seq, r.spooled_at_ms));
                }
            }
            state.next_seq = state.next_seq.max(last_seq + 1);
            state.bytes += valid_len;
            state.segments.push_back(Segment {
                path,
                last_seq,
                bytes: valid_len,
            });
        }
        if !state.pending_times.is_empty() {
            tracing::warn!(
                records = state.pending_times.len(),
                "spool holds records from an earlier run; draining them first"
            );
        }
        Ok(Spool {
            dir: dir.to_owned(),
            limits,
            state: Mutex::new(state),
            wake: tokio::sync::Notify::new(),
            emptied: tokio::sync::Notify::new(),
            kafka_healthy: std::sync::atomic::AtomicBool::new(true),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn depth(&self) -> SpoolDepth {
        let s = self.lock();
        SpoolDepth {
            records: s.pending_times.len() as u64,
            bytes: s.bytes,
            oldest_ms: s.pending_times.front().map(|(_, at)| *at),
        }
    }

    /// Whether records wait to be drained (then new ones must be spooled too, for order).
    pub fn is_draining(&self) -> bool {
        !self.lock().pending_times.is_empty()
    }

    /// Records whether a send to Kafka worked (the drainer after each batch; a request when
    /// its publish failed and it spools instead).
    pub fn note_kafka(&self, healthy: bool) {
        self.kafka_healthy
            .store(healthy, std::sync::atomic::Ordering::Relaxed);
    }

    /// The hand-over from spooling back to publishing. Under steady traffic a spool that is
    /// always appended to never empties, and every request would go on paying an fsync. So
    /// when Kafka takes records and at most `backlog` are left (about one batch),
    /// a new record does not join them: the request waits, up to `patience`, for the drainer
    /// to send the rest, then publishes directly; order holds, as the spooled records were
    /// acknowledged first. True when the spool is empty; false (spool the record) when the
    /// backlog is larger, Kafka is failing, or `patience` ran out.
    pub async fn wait_until_empty(&self, backlog: usize, patience: std::time::Duration) -> bool {
        // The common case, an empty spool, takes the lock once and nothing else.
        if !self.is_draining() {
            return true;
        }
        // Registered before the count is read again, so an emptying in between is not missed.
        let emptied = self.emptied.notified();
        tokio::pin!(emptied);
        emptied.as_mut().enable();
        let pending = self.lock().pending_times.len();
        if pending == 0 {
            return true;
        }
        if pending > backlog
            || !self
                .kafka_healthy
                .load(std::sync::atomic::Ordering::Relaxed)
        {
            return false;
        }
        let _ = tokio::time::timeout(patience, emptied).await;
        !self.is_draining()
    }

    /// Appends and fsyncs `record` (its `seq` is assigned here). Refuses when full.
    pub fn append(&self, mut record: SpooledRecord, now_ms: i64) -> Result<u64, SpoolError> {
        let mut s = self.lock();
        let oldest_age_secs = s
            .pending_times
            .front()
            .map(|(_, at)| ((now_ms - at) / 1000).max(0) as u64)
            .unwrap_or(0);
        if s.bytes >= self.limits.max_bytes || oldest_age_secs > self.limits.max_age_secs {
            return Err(SpoolError::Full {
                bytes: s.bytes,
                oldest_age_secs,
            });
        }
        record.seq = s.next_seq;
        let payload = serde_json::to_vec(&record).map_err(|e| SpoolError::Io {
            path: self.dir.clone(),
            source: e.into(),
        })?;
        let needs_segment = match s.segments.back() {
            Some(seg) => s.writer.is_none() || seg.bytes >= SEGMENT_BYTES,
            None => true,
        };
        if needs_segment {
            let path = self.dir.join(format!("{:020}.spool", record.seq));
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|source| SpoolError::Io {
                    path: path.clone(),
                    source,
                })?;
            s.writer = Some(file);
            s.segments.push_back(Segment {
                path,
                last_seq: record.seq,
                bytes: 0,
            });
        }
        let mut frame = Vec::with_capacity(HEADER_LEN + payload.len());
        frame.extend_from_slice(MAGIC);
        frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        frame.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        frame.extend_from_slice(&payload);
        let path = s
            .segments
            .back()
            .map(|seg| seg.path.clone())
            .unwrap_or_default();
        let io = |source| SpoolError::Io {
            path: path.clone(),
            source,
        };
        let writer = s
            .writer
            .as_mut()
            .ok_or_else(|| io(std::io::ErrorKind::NotFound.into()))?;
        writer.write_all(&frame).map_err(io)?;
        writer.sync_data().map_err(io)?;
        if let Some(seg) = s.segments.back_mut() {
            seg.bytes += frame.len() as u64;
            seg.last_seq = record.seq;
        }
        s.bytes += frame.len() as u64;
        s.next_seq += 1;
        s.pending_times
            .push_back((record.seq, record.spooled_at_ms));
        drop(s);
        self.wake.notify_one();
        Ok(record.seq)
    }

    /// The next records to drain (at most `max`), oldest first.
    pub fn peek(&self, max: usize) -> Result<Vec<SpooledRecord>, SpoolError> {
        let (drained, cursor, segments) = {
            let s = self.lock();
            let segments: Vec<(PathBuf, u64)> = s
                .segments
                .iter()
                .filter(|seg| seg.last_seq > s.drained)
                .map(|seg| (seg.path.clone(), seg.bytes))
                .collect();
            (s.drained, s.cursor.clone(), segments)
        };
        let mut out = Vec::new();
        let mut peeked = Vec::new();
        for (path, len) in segments {
            let start = match &cursor {
                Some((at, offset)) if *at == path => *offset,
                _ => 0,
            };
            // Only as many records as the batch needs: reading a long spool to its end for
            // every batch made draining quadratic, slower than new records arrived.
            let records = read_segment_range(&path, start, len, drained, max - out.len()).map_err(
                |source| SpoolError::Io {
                    path: path.clone(),
                    source,
                },
            )?;
            for (record, end) in records {
                if record.seq > drained && out.len() < max {
                    peeked.push((record.seq, path.clone(), end));
                    out.push(record);
                }
            }
            if out.len() >= max {
                break;
            }
        }
        self.lock().peeked = peeked;
        Ok(out)
    }

    /// Records that every seq up to `seq` reached Kafka; deletes fully drained segments.
    pub fn mark_drained(&self, seq: u64) -> Result<(), SpoolError> {
        let mut s = self.lock();
        if seq <= s.drained {
            return Ok(());
        }
        s.drained = seq;
        if let Some((_, path, end)) = s.peeked.iter().rev().find(|(q, _, _)| *q <= seq) {
            s.cursor = Some((path.clone(), *end));
        }
        let path = self.dir.join(WATERMARK_FILE);
        write_watermark(&path, seq).map_err(|source| SpoolError::Io { path, source })?;
        while s.pending_times.front().is_some_and(|(q, _)| *q <= seq) {
            s.pending_times.pop_front();
        }
        // Delete drained segments, but keep the one being written.
        while s.segments.len() > 1 && s.segments.front().is_some_and(|seg| seg.last_seq <= seq) {
            if let Some(seg) = s.segments.pop_front() {
                s.bytes -= seg.bytes;
                let _ = std::fs::remove_file(&seg.path);
            }
        }
        if s.pending_times.is_empty() {
            // Everything drained: start afresh so the files do not grow forever.
            s.writer = None;
            s.cursor = None;
            while let Some(seg) = s.segments.pop_front() {
                s.bytes -= seg.bytes;
                let _ = std::fs::remove_file(&seg.path);
            }
            drop(s);
            self.emptied.notify_waiters();
        }
        Ok(())
    }
}

fn read_watermark(path: &Path) -> std::io::Result<u64> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text.trim().parse().unwrap_or(0)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e),
    }
}

/// Writes the watermark atomically (temp file, fsync, rename).
fn write_watermark(path: &Path, seq: u64) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(seq.to_string().as_bytes())?;
    f.sync_data()?;
    std::fs::rename(&tmp, path)
}

fn read_segment(path: &Path) -> std::io::Result<Vec<(SpooledRecord, u64)>> {
    let len = std::fs::metadata(path)?.len();
    read_segment_range(path, 0, len, 0, usize::MAX)
}

/// Whole, valid records between byte `start` (a record boundary) and `len` of `path`, each
/// with the offset just past it: those with a seq above `after`, at most `max` of them (records
/// at or below `after` are read past, not returned). Stops at the first torn or corrupt record.
fn read_segment_range(
    path: &Path,
    start: u64,
    len: u64,
    after: u64,
    max: usize,
) -> std::io::Result<Vec<(SpooledRecord, u64)>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(start))?;
    let mut file = BufReader::new(file);
    let mut out = Vec::new();
    let mut offset = start;
    let mut header = [0u8; HEADER_LEN];
    let mut last_seq = 0;
    while offset + HEADER_LEN as u64 <= len && out.len() < max {
        file.read_exact(&mut header)?;
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as u64;
        let crc = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        if &header[..4] != MAGIC || offset + HEADER_LEN as u64 + size > len {
            tracing::warn!(path = %path.display(), offset, "spool: torn or corrupt record; the rest of this segment is ignored");
            break;
        }
        let mut payload = vec![0u8; size as usize];
        file.read_exact(&mut payload)?;
        let record = (crc32fast::hash(&payload) == crc)
            .then(|| serde_json::from_slice::<SpooledRecord>(&payload).ok())
            .flatten();
        let Some(record) = record else {
            tracing::warn!(path = %path.display(), offset, "spool: record fails its checksum; the rest of this segment is ignored");
            break;
        };
        // Sequence numbers only grow; anything else was not written by this spool.
        if record.seq <= last_seq {
            tracing::warn!(path = %path.display(), offset, "spool: record out of sequence; the rest of this segment is ignored");
            break;
        }
        last_seq = record.seq;
        offset += HEADER_LEN as u64 + size;
        if record.seq > after {
            out.push((record, offset));
        }
    }
    Ok(out)
}

/// `[spool]`: where events go when Kafka cannot take them in time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpoolConfig {
    /// Directory of the spool; unset: no spool (a broker failure answers 503).
    pub dir: Option<PathBuf>,
    /// Most bytes spooled; beyond it webhooks get 503 `spool_full` (nothing is dropped).
    #[serde(default = "SpoolConfig::default_max_bytes")]
    pub max_bytes: u64,
    /// Oldest spooled record allowed; beyond it the spool counts as full.
    #[serde(default = "SpoolConfig::default_max_age_secs")]
    pub max_age_secs: u64,
}

impl SpoolConfig {
    const fn default_max_bytes() -> u64 {
        1024 * 1024 * 1024
    }
    /// A day: past that, something is badly wrong and providers should see it.
    const fn default_max_age_secs() -> u64 {
        86_400
    }
}

impl Default for SpoolConfig {
    fn default() -> Self {
        SpoolConfig {
            dir: None,
            max_bytes: Self::default_max_bytes(),
            max_age_secs: Self::default_max_age_secs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u32) -> SpooledRecord {
        SpooledRecord {
            seq: 0,
            topic: "t".into(),
            key: format!("k{n}"),
            value: format!("{{\"n\":{n}}}"),
            ce_id: format!("id{n}"),
            ce_source: "/webhooks/s".into(),
            ce_type: "e".into(),
            ce_time: "2026-11-23T12:00:00Z".into(),
            content_type: None,
            spooled_at_ms: 1_000,
        }
    }

    const LIMITS: SpoolLimits = SpoolLimits {
        max_bytes: 1024 * 1024,
        max_age_secs: 3600,
    };

    #[test]
    fn a_deeply_nested_record_with_a_good_checksum_is_refused_not_a_crash() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let spool = Spool::open(dir.path(), LIMITS).expect("open");
            spool.append(record(0), 1_000).expect("append");
        }
        // A frame whose checksum holds over 10^5-deep JSON, after the good record.
        let payload = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
        let mut frame = MAGIC.to_vec();
        frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        frame.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        frame.extend_from_slice(&payload);
        let segment = std::fs::read_dir(dir.path())
            .expect("dir")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "spool"))
            .expect("segment");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(segment)
            .expect("segment");
        std::io::Write::write_all(&mut f, &frame).expect("write");
        drop(f);
        let spool = Spool::open(dir.path(), LIMITS).expect("reopen");
        let peeked = spool.peek(10).expect("peek");
        assert_eq!(
            peeked.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
            ["k0"]
        );
    }

    #[test]
    fn records_come_back_in_order_and_survive_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let spool = Spool::open(dir.path(), LIMITS).expect("open");
            for n in 0..3 {
                spool.append(record(n), 1_000).expect("append");
            }
            let peeked = spool.peek(10).expect("peek");
            assert_eq!(
                peeked.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
                ["k0", "k1", "k2"]
            );
            spool.mark_drained(peeked[0].seq).expect("ack");
        }
        let spool = Spool::open(dir.path(), LIMITS).expect("reopen");
        let peeked = spool.peek(10).expect("peek");
        assert_eq!(
            peeked.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
            ["k1", "k2"]
        );
        assert_eq!(spool.depth().records, 2);
        // New appends continue the sequence.
        let seq = spool.append(record(3), 2_000).expect("append");
        assert!(seq > peeked[1].seq);
        spool.mark_drained(seq).expect("ack all");
        assert_eq!(spool.depth(), SpoolDepth::default());
        assert!(!spool.is_draining());
        let segments = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "spool"))
            .count();
        assert_eq!(
            segments, 0,
            "drained segments are deleted, old and new alike"
        );
    }

    #[test]
    fn draining_in_batches_with_partial_acks_sees_each_record_once_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::open(dir.path(), LIMITS).expect("open");
        for n in 0..10 {
            spool.append(record(n), 1_000).expect("append");
        }
        let mut seen = Vec::new();
        let mut appended = 10;
        loop {
            let batch = spool.peek(4).expect("peek");
            let Some(first) = batch.first() else { break };
            // Kafka acknowledges only the first record of each batch; the rest come again.
            seen.push(first.key.clone());
            spool.mark_drained(first.seq).expect("ack");
            if appended < 14 {
                spool
                    .append(record(appended), 1_000)
                    .expect("append while draining");
                appended += 1;
            }
        }
        let expected: Vec<String> = (0..14).map(|n| format!("k{n}")).collect();
        assert_eq!(seen, expected);
        assert_eq!(spool.depth(), SpoolDepth::default());
    }

    #[test]
    fn a_reopened_spool_drained_past_a_whole_batch_reads_on_from_the_watermark() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let spool = Spool::open(dir.path(), LIMITS).expect("open");
            for n in 0..20 {
                spool.append(record(n), 1_000).expect("append");
            }
            let peeked = spool.peek(20).expect("peek");
            spool.mark_drained(peeked[11].seq).expect("ack 12");
        }
        // After a restart the reading starts at the segment's beginning: the 12 drained records
        // are read past, and a batch of 4 is still the next 4, not an empty batch.
        let spool = Spool::open(dir.path(), LIMITS).expect("reopen");
        let batch = spool.peek(4).expect("peek");
        assert_eq!(
            batch.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
            ["k12", "k13", "k14", "k15"]
        );
    }

    #[test]
    fn a_torn_tail_is_skipped_not_fatal() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let spool = Spool::open(dir.path(), LIMITS).expect("open");
            spool.append(record(0), 1_000).expect("append");
            spool.append(record(1), 1_000).expect("append");
        }
        let segment = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "spool"))
            .expect("segment");
        // A crash in the middle of a third record, and a flipped byte would be caught too.
        let mut f = OpenOptions::new()
            .append(true)
            .open(&segment)
            .expect("open");
        f.write_all(b"HKS1\x40\x00\x00\x00garbage").expect("torn");
        drop(f);
        let spool = Spool::open(dir.path(), LIMITS).expect("reopen after crash");
        assert_eq!(spool.peek(10).expect("peek").len(), 2);
        spool
            .append(record(2), 1_000)
            .expect("append after the cut");
        let keys: Vec<String> = spool
            .peek(10)
            .expect("peek")
            .into_iter()
            .map(|r| r.key)
            .collect();
        assert_eq!(keys, ["k0", "k1", "k2"]);
    }

    #[test]
    fn a_full_spool_refuses_instead_of_dropping() {
        let dir = tempfile::tempdir().expect("tempdir");
        let small = SpoolLimits {
            max_bytes: 200,
            max_age_secs: 60,
        };
        let spool = Spool::open(dir.path(), small).expect("open");
        spool.append(record(0), 1_000).expect("first fits");
        spool.append(record(1), 1_000).expect("second fits");
        let err = spool.append(record(2), 1_000).expect_err("full");
        assert_eq!(err.code(), "spool_full");
        // Too old counts as full too.
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::open(dir.path(), small).expect("open");
        spool.append(record(0), 1_000).expect("append");
        assert!(spool.append(record(1), 1_000 + 61_000).is_err());
    }
}
