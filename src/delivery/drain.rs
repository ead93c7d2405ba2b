//! The drainer: the background task that moves spooled records to Kafka, oldest first.
//!
//! Owns: retry pacing. Batches of records in spool order, all in flight at once (the
//! idempotent producer keeps their order per partition); the watermark moves past the longest
//! acknowledged prefix; on a failure it waits (1 s, doubling to 30 s) and resends from there
//! (records after the failure may then reach Kafka twice: at least once). It runs from start-up (records left by an
//! earlier run go first) until shutdown; what it has not drained stays for the next start.

use std::time::Duration;

use crate::base::metrics::Metrics;
use crate::delivery::publish::{Publisher, Record};
use crate::delivery::spool::Spool;

const BATCH: usize = crate::delivery::spool::DRAIN_BATCH;
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
        // The whole batch in flight at once (the idempotent producer keeps their order per
        // partition); the watermark moves past the longest prefix Kafka acknowledged.
        let sends = batch
            .iter()
            .map(|record| publisher.publish(Record::from_spooled(record), metrics));
        let results = tokio::select! {
            r = futures_util::future::join_all(sends) => r,
            _ = stop.changed() => return,
        };
        let acknowledged = results.iter().take_while(|r| r.is_ok()).count();
        if let Some(last) = acknowledged.checked_sub(1).map(|i| batch[i].seq) {
            match spool.mark_drained(last) {
                Ok(()) => metrics.spool_drained(acknowledged as u64),
                Err(e) => tracing::error!(error = %e, "cannot record the spool's progress"),
            }
        }
        spool.note_kafka(acknowledged == batch.len());
        if let Some(Err(e)) = results.get(acknowledged) {
            tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "spooled records not delivered yet");
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                _ = stop.changed() => return,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        } else {
            backoff = FIRST_BACKOFF;
        }
        metrics.observe_spool(spool.depth());
        if !spool.is_draining() {
            tracing::info!("spool drained");
        }
    }
}
