//! End-to-end throughput and latency: the release binary, real HTTP on loopback, Kafka
//! acknowledgement before every answer. Run: `cargo bench --bench http` (or `scripts/bench`).
//!
//! Broker: `HOOKGATE_BENCH_BROKERS=host:port` if set, else Apache Kafka if
//! `scripts/install-kafka` has run (started fresh for the run), else the embedded mock cluster. Load: C keep-alive
//! HTTP/1.1 connections (`HOOKGATE_BENCH_CONNECTIONS`, default 32) sending signed GitHub push
//! webhooks (~1.5 KB) for D seconds (`HOOKGATE_BENCH_SECONDS`, default 10). Prints requests per
//! second and latency percentiles. The load generator shares the machine's cores with the
//! gateway and the broker, so figures are a floor, for comparing changes on one machine.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

mod support;
use std::time::{Duration, Instant};
use support::{env_or, free_port, kafka_installed, start_kafka};

use bytes::Bytes;
use hmac::Mac;
use http_body_util::{BodyExt, Full};

const SECRET: &str = "bench-secret";

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Returns the bootstrap list, a label, and the broker process to keep alive (if any).
fn broker(dir: &std::path::Path) -> (String, &'static str, Option<Killed>) {
    if let Ok(b) = std::env::var("HOOKGATE_BENCH_BROKERS") {
        let label = if b == "embedded" {
            "embedded mock cluster"
        } else {
            "external"
        };
        return (b, label, None);
    }
    if kafka_installed() {
        let port = free_port();
        let child = start_kafka(dir, port);
        return (
            format!("127.0.0.1:{port}"),
            "Apache Kafka (single node)",
            Some(Killed(child)),
        );
    }
    ("embedded".to_owned(), "embedded mock cluster", None)
}

fn main() {
    let connections: usize = env_or("HOOKGATE_BENCH_CONNECTIONS", 32);
    let seconds: u64 = env_or("HOOKGATE_BENCH_SECONDS", 10);
    let dir = tempfile::tempdir().expect("tempdir");
    let (brokers, broker_label, _broker) = broker(&dir.path().join("kafka"));
    let config = dir.path().join("bench.toml");
    let schemas = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    std::fs::write(
        &config,
        format!(
            "[kafka]\nbrokers = \"{brokers}\"\n[schemas]\ndir = \"{}\"\n\
             [sources.gh]\nprovider = \"github\"\nsecrets = [{{ env = \"BENCH_SECRET\" }}]\n",
            schemas.display()
        ),
    )
    .expect("config");
    let mut gateway = Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .arg("--config")
        .arg(&config)
        .args(["run", "--listen", "127.0.0.1:0"])
        .env("BENCH_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start hookgate");
    let stdout = gateway.stdout.take().expect("stdout");
    let _gateway = Killed(gateway);
    let addr: std::net::SocketAddr = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("hookgate listening on http://")
                .map(str::to_owned)
        })
        .expect("gateway started")
        .parse()
        .expect("addr");

    let body = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/github-push.json"))
        .expect("example")
        .trim()
        .replace(r#""commits":[]"#, &format!(r#""commits":[{}]"#, [r#"{"id":"59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5","message":"Update README.md","author":{"name":"Octo Cat","email":"octo@example.com"},"modified":["README.md"]}"#; 8].join(",")));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(body.as_bytes());
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let body = Bytes::from(body);
    let body_len = body.len();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (latencies, errors, elapsed) = runtime.block_on(async move {
        // Warm-up: creates the topic and the producer's connections.
        let _ = one_connection(
            addr,
            "warm-up".to_owned(),
            body.clone(),
            signature.clone(),
            Duration::from_secs(1),
        )
        .await;
        let started = Instant::now();
        let tasks: Vec<_> = (0..connections)
            .map(|c| {
                tokio::spawn(one_connection(
                    addr,
                    format!("c{c}"),
                    body.clone(),
                    signature.clone(),
                    Duration::from_secs(seconds),
                ))
            })
            .collect();
        let mut latencies = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await.expect("task");
            latencies.extend(l);
            errors += e;
        }
        (latencies, errors, started.elapsed())
    });
    let mut latencies = latencies;
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map(|d| format!("{:.2}ms", d.as_secs_f64() * 1000.0))
            .unwrap_or_default()
    };
    println!("hookgate end-to-end: {connections} connections, {seconds}s, broker: {broker_label}, body {body_len} bytes");
    println!(
        "accepted {} ({:.0} req/s), errors {errors}; latency p50 {} p90 {} p99 {} max {}",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
}

/// Sends webhooks on one keep-alive connection until `duration` passes; returns the latencies
/// of 202 answers and the count of other answers.
/// Sends from one keep-alive connection until `duration` is over. Delivery ids are
/// `bench-{name}-{n}`, unique across connections, so none is answered as a duplicate.
async fn one_connection(
    addr: std::net::SocketAddr,
    name: String,
    body: Bytes,
    signature: String,
    duration: Duration,
) -> (Vec<Duration>, usize) {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("handshake");
    tokio::spawn(conn);
    let deadline = Instant::now() + duration;
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let request = hyper::Request::post("/webhooks/gh")
            .header("host", "bench")
            .header("content-type", "application/json")
            .header("x-github-event", "push")
            .header("x-github-delivery", format!("bench-{name}-{n}"))
            .header("x-hub-signature-256", &signature)
            .body(Full::new(body.clone()))
            .expect("request");
        let started = Instant::now();
        match sender.send_request(request).await {
            Ok(response) => {
                let ok = response.status() == 202;
                let _ = response.into_body().collect().await;
                if ok {
                    latencies.push(started.elapsed());
                } else {
                    errors += 1;
                }
            }
            Err(_) => {
                errors += 1;
                break;
            }
        }
    }
    (latencies, errors)
}
