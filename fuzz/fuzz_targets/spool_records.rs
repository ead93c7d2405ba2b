//! The spool reading what a crash (or a disk) left: arbitrary bytes as a segment, after a
//! valid record. Opening and draining must skip what is torn or corrupt, never panic, and
//! never return a record twice.
#![no_main]

use hookgate::delivery::spool::{Spool, SpoolLimits, SpooledRecord};
use libfuzzer_sys::fuzz_target;

const LIMITS: SpoolLimits = SpoolLimits {
    max_bytes: 1 << 20,
    max_age_secs: 3600,
};

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    {
        let Ok(spool) = Spool::open(dir.path(), LIMITS) else { return };
        let record = SpooledRecord {
            seq: 0,
            topic: "t".into(),
            key: "k".into(),
            value: "{}".into(),
            ce_id: "id".into(),
            ce_source: "/webhooks/s".into(),
            ce_type: "e".into(),
            ce_time: "2026-11-23T12:00:00Z".into(),
            content_type: None,
            spooled_at_ms: 0,
        };
        if spool.append(record, 0).is_err() {
            return;
        }
    }
    // Whatever follows the valid record: a torn write, garbage, or more records.
    let Some(segment) = std::fs::read_dir(dir.path())
        .ok()
        .and_then(|mut d| d.find_map(|e| e.ok().map(|e| e.path())))
        .filter(|p| p.extension().is_some_and(|e| e == "spool"))
    else {
        return;
    };
    {
        use std::io::Write;
        let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(&segment) else {
            return;
        };
        if f.write_all(data).is_err() {
            return;
        }
    }
    let Ok(spool) = Spool::open(dir.path(), LIMITS) else { return };
    let mut last = 0;
    while let Ok(batch) = spool.peek(16) {
        let Some(end) = batch.last().map(|r| r.seq) else { break };
        for r in &batch {
            assert!(r.seq > last, "records come once, in order");
            last = r.seq;
        }
        if spool.mark_drained(end).is_err() {
            break;
        }
    }
});
