//! CPU cost of each pipeline stage for one GitHub push webhook, without sockets or Kafka.
//! Run: `cargo bench --bench pipeline`. Prints ns per webhook per stage, for two body sizes.
//!
//! This is a plain timing loop (no benchmark framework): each stage runs for about half a
//! second and the mean is printed. Use it to compare changes on one machine.

use std::hint::black_box;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hmac::Mac;
use hookgate::auth::Verifier;
use hookgate::config::MissingSchema;
use hookgate::envelope::{self, Context};
use hookgate::intake::Inbound;
use hookgate::schema::SchemaRegistry;
use hookgate::topic::{TopicRouter, TopicTemplate};
use hookgate::{payload, provider};
use hyper::header::{HeaderMap, HeaderValue};

/// mimalloc: parsing payloads into `serde_json::Value` is allocation-heavy; measured ~30% faster
/// than the system allocator for a 7.5 KB body (see `benches/pipeline.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECRET: &str = "bench-secret";

fn push_body(commits: usize) -> String {
    let commit = r#"{"id":"59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5","message":"Update README.md with a reasonably long commit message","timestamp":"2026-11-23T12:00:00Z","author":{"name":"Octo Cat","email":"octo@example.com"},"added":[],"removed":[],"modified":["README.md"]}"#;
    let commits = vec![commit; commits].join(",");
    format!(
        r#"{{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5","repository":{{"id":35129377,"full_name":"octo-org/hello-world"}},"commits":[{commits}]}}"#
    )
}

fn headers(body: &str) -> HeaderMap {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(body.as_bytes());
    let sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let mut h = HeaderMap::new();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("x-github-event", HeaderValue::from_static("push"));
    h.insert(
        "x-github-delivery",
        HeaderValue::from_static("72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    );
    h.insert("x-hub-signature-256", sig.parse().expect("header"));
    h
}

/// Runs `f` repeatedly for about `budget` and returns the mean time per call.
fn measure(budget: Duration, mut f: impl FnMut()) -> Duration {
    for _ in 0..100 {
        f();
    }
    let started = Instant::now();
    let mut n: u32 = 0;
    while started.elapsed() < budget {
        for _ in 0..64 {
            f();
        }
        n += 64;
    }
    started.elapsed() / n
}

fn main() {
    let budget = Duration::from_millis(500);
    let preset = provider::preset("github").expect("preset");
    let verifier = Verifier::new(
        preset.auth.as_ref().expect("github signs"),
        vec![hookgate::secret::Secret::new(SECRET.as_bytes().to_vec())],
        None,
    )
    .expect("verifier");
    let event_spec = hookgate::event::EventSpec::new(
        preset.event_type.expect("event type"),
        preset.delivery_id,
        None,
        None,
    )
    .expect("spec");
    let schemas = SchemaRegistry::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas"))
        .expect("schemas");
    let router = TopicRouter::new(
        "github",
        "github",
        TopicTemplate::parse("webhooks.{provider}.{event_type}").expect("template"),
        Default::default(),
    );
    let remote: SocketAddr = "127.0.0.1:4000".parse().expect("addr");

    println!("hookgate pipeline stages, mean per webhook (GitHub push, HMAC-SHA256, schema github/push.json)");
    println!(
        "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "body", "verify", "parse", "identify", "schema", "envelope", "topic", "total"
    );
    for commits in [1, 30, 300] {
        let body = push_body(commits);
        let headers = headers(&body);
        let bytes = Bytes::from(body.clone());
        let inbound = || Inbound::new(headers.clone(), bytes.clone(), Some(remote));

        let verify = measure(budget, || {
            black_box(verifier.verify(inbound(), 0).expect("verified"));
        });
        let verified = verifier.verify(inbound(), 0).expect("verified");
        let parse = measure(budget, || {
            black_box(payload::parse(&verified, None).expect("parsed"));
        });
        let parsed = payload::parse(&verified, None).expect("parsed");
        let identify = measure(budget, || {
            black_box(
                event_spec
                    .identify(&headers, &parsed.value)
                    .expect("identified"),
            );
        });
        let event = event_spec
            .identify(&headers, &parsed.value)
            .expect("identified");
        let schema = measure(budget, || {
            black_box(
                schemas
                    .check("github", "push", &parsed.value, MissingSchema::Accept)
                    .expect("valid"),
            );
        });
        let now = time::OffsetDateTime::now_utc();
        let envelope = measure(budget, || {
            let env = envelope::build(
                Context {
                    id: uuid::Uuid::now_v7(),
                    received_at: now,
                    source: "github",
                    provider: "github",
                    content_type: parsed.content_type.as_deref(),
                    remote_addr: Some(remote),
                    client_ip: Some(remote.ip()),
                    verified: verified.verification(),
                    schema: Some("github/push.json"),
                },
                &event,
                &parsed.raw,
            );
            black_box(serde_json::to_vec(&env).expect("json"));
        });
        let topic = measure(budget, || {
            black_box(router.route(&event.event_type));
        });
        let total = verify + parse + identify + schema + envelope + topic;
        let us = |d: Duration| format!("{:.1}µs", d.as_nanos() as f64 / 1000.0);
        println!(
            "{:>9}B {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>12}",
            body.len(),
            us(verify),
            us(parse),
            us(identify),
            us(schema),
            us(envelope),
            us(topic),
            format!(
                "{} ({:.0}/s/core)",
                us(total),
                1e9 / total.as_nanos() as f64
            )
        );
    }
}
