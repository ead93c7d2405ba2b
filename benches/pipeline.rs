//! Criterion micro-benchmarks of every per-request stage, without sockets or Kafka.
//!
//! Run: `cargo bench --bench pipeline` (all, a few minutes on 2 cores), or with a filter:
//! `cargo bench --bench pipeline -- signature/`. Groups (cases in `benches/stages/mod.rs`):
//!
//! - `signature`: `Verifier::verify`, one case per verification scheme, ~1 KB bodies;
//! - `parse`: `payload::parse` of a JSON body (1 KB, 64 KB) and of GitHub's form mode;
//! - `identify`: event type and delivery id from the headers; the dedup reservation;
//! - `schema`: `SchemaRegistry::check` of a GitHub push against `schemas/github/push.json`;
//! - `envelope`: `envelope::build` + `envelope::serialize`, envelope and CloudEvents formats;
//! - `route`: the topic (template, per-event override) and the Kafka record with its headers;
//! - `pipeline`: all of the above for one GitHub push, end to end.
//!
//! Timings are wall time and depend on the machine and its load; `scripts/bench-callgrind`
//! counts instructions for the same cases, which repeat exactly.

use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};

mod stages;

/// mimalloc, as the binary: parsing payloads into `serde_json::Value` is allocation-heavy,
/// and the system allocator measured about 30% slower on it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Bench<'a> {
    c: &'a mut Criterion,
}

impl stages::Visitor for Bench<'_> {
    fn case<I, O>(
        &mut self,
        group: &str,
        function: &str,
        size: Option<&str>,
        bytes: Option<usize>,
        mut setup: impl FnMut() -> I,
        mut routine: impl FnMut(I) -> O,
    ) {
        let mut g = self.c.benchmark_group(group);
        if let Some(bytes) = bytes {
            g.throughput(Throughput::Bytes(bytes as u64));
        }
        let run = |b: &mut criterion::Bencher<'_>| {
            b.iter_batched(&mut setup, &mut routine, BatchSize::SmallInput)
        };
        match size {
            Some(size) => g.bench_function(BenchmarkId::new(function, size), run),
            None => g.bench_function(function, run),
        };
        g.finish();
    }
}

fn main() {
    let fixtures = stages::Fixtures::new();
    // Short runs: the whole suite in a few minutes. `--measurement-time`, `--warm-up-time` and
    // `--sample-size` on the command line override these.
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
        .configure_from_args();
    stages::visit(&fixtures, &mut Bench { c: &mut c });
    c.final_summary();
}
