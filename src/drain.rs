//! The drainer: the background task that moves spooled records to Kafka, oldest first.
//!
//! Owns: retry pacing. One record at a time, in spool order (so order per key holds); on a
//! failure it waits (1 s, doubling to 30 s) and retries the same record; after each
//! acknowledgement the spool's watermark moves on. It runs from start-up (records left by an
//! earlier run go first) until shutdown; what it has not drained stays for the next start.

use std::time::Duration;

use crate::metrics::Metrics;
use crate::publish::{Publisher, Record};
use crate::spool::Spool;

const BATCH: usize = 256;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Drains until `stop` turns true.
pub async fn run(
    spool: &Spool,
    publisher: &Publisher,
    metrics: &Metrics,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        if *stop.borrow() {
            return;
        }
        let batch = match spool.peek(BATCH) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the spool");
                Vec::new()
            }
        };
        if batch.is_empty() {
            tokio::select! {
                () = spool.wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => return,
            }
            continue;
        }
        for record in &batch {
            let result = tokio::select! {
                r = publisher.publish(Record::from_spooled(record), metrics) => r,
                _ = stop.changed() => return,
            };
            match result
                .map_err(|e| e.to_string())
                .and_then(|_| spool.mark_drained(record.seq).map_err(|e| e.to_string()))
            {
                Ok(()) => {
                    metrics.spool_drained(1);
                    backoff = FIRST_BACKOFF;
                }
                Err(e) => {
                    tracing::warn!(error = %e, seq = record.seq, retry_in_ms = backoff.as_millis() as u64, "spooled record not delivered yet");
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => return,
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    break;
                }
            }
        }
        metrics.observe_spool(spool.depth());
        if !spool.is_draining() {
            tracing::info!("spool drained");
        }
    }
}
